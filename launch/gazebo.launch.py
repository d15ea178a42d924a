"""Gazebo (gz sim) with a camera, bridged to ROS 2, and video4spatial_nav on it.

    ros2 launch video4spatial_nav gazebo.launch.py world:=/path/to/world.sdf gz_camera:=/camera

What the world must provide, and the names the bridges give it (checked against the sources of
gz-sensors, gz-sim and ros_gz):
- a camera sensor publishing gz.msgs.Image on <gz_camera>. gz-sensors publishes its
  CameraInfo beside the image, at the same level: the image topic with its last segment
  replaced by `camera_info` (CameraSensor::AdvertiseInfo), so `/camera` -> `/camera_info` and
  `/robot/camera/image` -> `/robot/camera/camera_info`, unless the SDF sets
  <camera_info_topic>; then pass gz_camera_info:=<that topic>. The image header's frame_id is
  the sensor's frame (set <gz_frame_id> in the SDF; ros_gz turns `::` into `/`), and TF must
  reach it from the robot frame (robot_state_publisher from the URDF, or the node parameter
  camera_frame);
- a DiffDrive system. It publishes gz.msgs.Pose_V on /model/<model>/tf (tf_topic) with ONE
  transform, odometry: frame_id `<model>/odom`, child_frame_id `<model>/<canonical link>`,
  unless its SDF sets <frame_id>odom</frame_id> and <child_frame_id>base_link</child_frame_id>
  (do that: the node's robot_frame is base_link, REP-105). ros_gz_bridge copies those two header
  entries into TransformStamped.header.frame_id and child_frame_id. (A PosePublisher's
  /model/<model>/pose carries Pose_V only with <use_pose_vector_msg>true</use_pose_vector_msg>,
  and its frames are each entity's parent -> entity inside the model, not odom -> base_link.)
- map -> odom comes from localisation (Nav2's AMCL or SLAM). Without it, map_to_odom:=true
  publishes an identity map -> odom.
Bridges:
- ros_gz_image image_bridge: the image (image_transport, so <gz_camera>/compressed exists too);
- ros_gz_bridge parameter_bridge: camera_info, tf, odometry, clock (gz -> ROS) and cmd_vel (ROS -> gz).
The node gets use_sim_time through robot.launch.py (`-p use_sim_time:=true`).
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription, OpaqueFunction
from launch.conditions import IfCondition
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

PACKAGE = 'video4spatial_nav'


def gz_camera_info_topic(image_topic):
    """The gz topic of a camera's CameraInfo, as gz-sensors names it (CameraSensor::AdvertiseInfo).

    The image topic with its last segment replaced by `camera_info`: '/camera' -> '/camera_info',
    '/robot/camera/image' -> '/robot/camera/camera_info'.
    """
    parts = [p for p in image_topic.split('/')[:-1] if p]
    return ''.join('/' + p for p in parts) + '/camera_info'


def _bridges_and_node(context):
    camera = LaunchConfiguration('gz_camera').perform(context)
    camera_info = LaunchConfiguration('gz_camera_info').perform(context) or gz_camera_info_topic(camera)
    tf_topic = LaunchConfiguration('tf_topic').perform(context)
    odom_topic = LaunchConfiguration('odom_topic').perform(context)
    cmd_vel_topic = LaunchConfiguration('cmd_vel_topic').perform(context)
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
            camera_info + '@sensor_msgs/msg/CameraInfo[gz.msgs.CameraInfo',
            tf_topic + '@tf2_msgs/msg/TFMessage[gz.msgs.Pose_V',
            odom_topic + '@nav_msgs/msg/Odometry[gz.msgs.Odometry',
            '/clock@rosgraph_msgs/msg/Clock[gz.msgs.Clock',
            cmd_vel_topic + '@geometry_msgs/msg/Twist]gz.msgs.Twist',
        ],
        remappings=[
            (tf_topic, '/tf'),
            (odom_topic, '/odom'),
            (cmd_vel_topic, '/cmd_vel'),
        ],
        parameters=[{'use_sim_time': True}],
        output='screen',
    )
    node = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(PathJoinSubstitution([FindPackageShare(PACKAGE), 'launch', 'robot.launch.py'])),
        launch_arguments={
            'image': camera,
            'camera_info': camera_info,
            'use_sim_time': 'true',
        }.items(),
    )
    return [image_bridge, parameter_bridge, node]


def generate_launch_description():
    world = LaunchConfiguration('world')
    args = [
        DeclareLaunchArgument('world', default_value='empty.sdf', description='SDF world (gz sim -r <world>)'),
        DeclareLaunchArgument('gz_camera', default_value='/camera', description='gz topic of the camera image'),
        DeclareLaunchArgument('gz_camera_info', default_value='',
                              description="gz topic of its CameraInfo; '' = as gz-sensors names it: the image topic's last segment replaced by camera_info (/camera -> /camera_info)"),
        DeclareLaunchArgument('tf_topic', default_value='/model/robot/tf',
                              description='gz Pose_V topic bridged to /tf (DiffDrive: odom -> base frame; set <frame_id>/<child_frame_id> in its SDF)'),
        DeclareLaunchArgument('odom_topic', default_value='/model/robot/odometry', description='gz Odometry topic bridged to /odom'),
        DeclareLaunchArgument('cmd_vel_topic', default_value='/model/robot/cmd_vel', description='gz Twist topic fed from /cmd_vel'),
        DeclareLaunchArgument('map_to_odom', default_value='false',
                              description='true: publish an identity map -> odom (no localisation running); leave false when Nav2 AMCL/SLAM publishes it'),
    ]
    gz_sim = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(PathJoinSubstitution([FindPackageShare('ros_gz_sim'), 'launch', 'gz_sim.launch.py'])),
        launch_arguments={'gz_args': ['-r ', world]}.items(),
    )
    map_to_odom = Node(
        package='tf2_ros',
        executable='static_transform_publisher',
        name='map_to_odom',
        arguments=['--frame-id', 'map', '--child-frame-id', 'odom'],
        parameters=[{'use_sim_time': True}],
        condition=IfCondition(LaunchConfiguration('map_to_odom')),
        output='screen',
    )
    return LaunchDescription(args + [gz_sim, map_to_odom, OpaqueFunction(function=_bridges_and_node)])
