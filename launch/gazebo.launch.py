"""Gazebo (gz sim) with a camera, bridged to ROS 2, and video4spatial_nav on it.

    ros2 launch video4spatial_nav gazebo.launch.py world:=/path/to/world.sdf gz_camera:=/camera

The world must contain a camera sensor publishing on <gz_camera> (image) and
<gz_camera>/camera_info, and a pose publisher / diff-drive system for tf. Bridges:
- ros_gz_image image_bridge: the image (image_transport, so <camera>/compressed exists too);
- ros_gz_bridge parameter_bridge: camera_info, tf, odometry, clock (gz -> ROS) and cmd_vel (ROS -> gz).
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

PACKAGE = 'video4spatial_nav'


def generate_launch_description():
    world = LaunchConfiguration('world')
    camera = LaunchConfiguration('gz_camera')
    args = [
        DeclareLaunchArgument('world', default_value='empty.sdf', description='SDF world (gz sim -r <world>)'),
        DeclareLaunchArgument('gz_camera', default_value='/camera', description='gz topic of the camera image'),
        DeclareLaunchArgument('tf_topic', default_value='/model/robot/pose', description='gz Pose_V topic bridged to /tf'),
        DeclareLaunchArgument('odom_topic', default_value='/model/robot/odometry', description='gz Odometry topic bridged to /odom'),
        DeclareLaunchArgument('cmd_vel_topic', default_value='/model/robot/cmd_vel', description='gz Twist topic fed from /cmd_vel'),
    ]
    gz_sim = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(PathJoinSubstitution([FindPackageShare('ros_gz_sim'), 'launch', 'gz_sim.launch.py'])),
        launch_arguments={'gz_args': ['-r ', world]}.items(),
    )
    image_bridge = Node(
        package='ros_gz_image',
        executable='image_bridge',
        name='camera_image_bridge',
        arguments=[camera],
        parameters=[{'use_sim_time': True}],
        output='screen',
    )
    parameter_bridge = Node(
        package='ros_gz_bridge',
        executable='parameter_bridge',
        name='gz_bridge',
        arguments=[
            [camera, '/camera_info@sensor_msgs/msg/CameraInfo[gz.msgs.CameraInfo'],
            [LaunchConfiguration('tf_topic'), '@tf2_msgs/msg/TFMessage[gz.msgs.Pose_V'],
            [LaunchConfiguration('odom_topic'), '@nav_msgs/msg/Odometry[gz.msgs.Odometry'],
            '/clock@rosgraph_msgs/msg/Clock[gz.msgs.Clock',
            [LaunchConfiguration('cmd_vel_topic'), '@geometry_msgs/msg/Twist]gz.msgs.Twist'],
        ],
        remappings=[
            (LaunchConfiguration('tf_topic'), '/tf'),
            (LaunchConfiguration('odom_topic'), '/odom'),
            (LaunchConfiguration('cmd_vel_topic'), '/cmd_vel'),
        ],
        parameters=[{'use_sim_time': True}],
        output='screen',
    )
    node = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(PathJoinSubstitution([FindPackageShare(PACKAGE), 'launch', 'robot.launch.py'])),
        launch_arguments={
            'image': camera,
            'camera_info': [camera, '/camera_info'],
            'use_sim_time': 'true',
        }.items(),
    )
    return LaunchDescription(args + [gz_sim, image_bridge, parameter_bridge, node])
