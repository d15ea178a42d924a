"""Start video4spatial_nav on a robot.

    ros2 launch video4spatial_nav robot.launch.py image:=/camera/image_raw camera_info:=/camera/camera_info

Remaps the node's private camera topics (~/image, ~/camera_info; with the parameter
compressed: true in the params file the node reads <image>/compressed) and loads
launch/params/video4spatial_nav.yaml (or params_file:=...).

How parameters reach the node. The node runs on rclnodejs 2.2.0, which reads parameter
overrides under two keys only: `/**` and the bare node name (lib/node.js,
_getNativeParameterOverrides). launch_ros writes a `parameters=[{...}]` dict to a temporary
YAML keyed by the node's full name (`/video4spatial_nav`, `/ns/video4spatial_nav`) when the
Node has a name and a namespace, and rclnodejs never reads that key: such a dict is silently
dropped (use_sim_time from gazebo.launch.py was lost that way). So this file passes no dict:
- the params file, whose entries are keyed `/**` (a user's file must use `/**` or
  `video4spatial_nav:`, never `/video4spatial_nav:`);
- use_sim_time as a command-line rule, `-p use_sim_time:=<true|false>`, which rcl stores
  under `/**`.
Check on the robot: `ros2 param get /video4spatial_nav use_sim_time` (docs/ros-packaging.md,
first start).
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
                              description="Parameters file (every parameter, commented); key it '/**' or 'video4spatial_nav' (rclnodejs ignores '/video4spatial_nav')"),
        DeclareLaunchArgument('namespace', default_value='', description='Node namespace'),
        DeclareLaunchArgument('use_sim_time', default_value='false',
                              description='Use /clock (simulation): true or false; passed as -p use_sim_time:=<value>'),
        DeclareLaunchArgument('log_level', default_value='info', description='debug, info, warn, error'),
    ]
    image = LaunchConfiguration('image')
    node = Node(
        package=PACKAGE,
        executable=EXECUTABLE,
        name=NODE_NAME,
        namespace=LaunchConfiguration('namespace'),
        output='screen',
        # Files only: a dict here would be written under the full node name, which rclnodejs ignores.
        parameters=[LaunchConfiguration('params_file')],
        remappings=[
            ('~/image', image),
            ('~/image/compressed', [image, '/compressed']),
            ('~/camera_info', LaunchConfiguration('camera_info')),
        ],
        arguments=[
            '--ros-args',
            '--log-level', LaunchConfiguration('log_level'),
            # A command-line rule without a node prefix: rcl keeps it under '/**', which rclnodejs reads.
            '-p', ['use_sim_time:=', LaunchConfiguration('use_sim_time')],
        ],
    )
    return LaunchDescription(args + [node])
