"""Start video4spatial_nav on a robot.

    ros2 launch video4spatial_nav robot.launch.py image:=/camera/image_raw camera_info:=/camera/camera_info

Remaps the node's private camera topics (~/image, ~/camera_info; with the parameter
compressed: true in the params file the node reads <image>/compressed) and loads
launch/params/video4spatial_nav.yaml (or params_file:=...).
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

PACKAGE = 'video4spatial_nav'
NODE_NAME = 'video4spatial_nav'
EXECUTABLE = 'video4spatial_nav_node'


def generate_launch_description():
    default_params = PathJoinSubstitution([FindPackageShare(PACKAGE), 'launch', 'params', 'video4spatial_nav.yaml'])
    args = [
        DeclareLaunchArgument('image', default_value='/camera/image_raw',
                              description='Camera image topic (sensor_msgs/Image); its /compressed sibling is used when the parameter compressed is true'),
        DeclareLaunchArgument('camera_info', default_value='/camera/camera_info',
                              description='sensor_msgs/CameraInfo topic of that camera'),
        DeclareLaunchArgument('params_file', default_value=default_params,
                              description='Parameters file (every parameter, commented)'),
        DeclareLaunchArgument('namespace', default_value='', description='Node namespace'),
        DeclareLaunchArgument('use_sim_time', default_value='false', description='Use /clock (simulation)'),
        DeclareLaunchArgument('log_level', default_value='info', description='debug, info, warn, error'),
    ]
    image = LaunchConfiguration('image')
    node = Node(
        package=PACKAGE,
        executable=EXECUTABLE,
        name=NODE_NAME,
        namespace=LaunchConfiguration('namespace'),
        output='screen',
        parameters=[
            LaunchConfiguration('params_file'),
            {'use_sim_time': LaunchConfiguration('use_sim_time')},
        ],
        remappings=[
            ('~/image', image),
            ('~/image/compressed', [image, '/compressed']),
            ('~/camera_info', LaunchConfiguration('camera_info')),
        ],
        arguments=['--ros-args', '--log-level', LaunchConfiguration('log_level')],
    )
    return LaunchDescription(args + [node])
