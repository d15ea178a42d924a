"""Drive the robot by keyboard while video4spatial_nav runs, and ask it for objects.

    ros2 launch video4spatial_nav teleop.launch.py

teleop_twist_keyboard publishes on the teleop topic (default /cmd_vel_teleop, the node's
teleop_cmd_vel_topic parameter): while it moves the robot the node pauses goal execution for
teleop_pause_s. Merge /cmd_vel_teleop with Nav2's /cmd_vel on the robot (e.g. twist_mux, teleop
with the higher priority). The keyboard needs a terminal: the node runs in an xterm
(launch_prefix), or start it yourself with
    ros2 run teleop_twist_keyboard teleop_twist_keyboard --ros-args -r cmd_vel:=/cmd_vel_teleop

Goals: publish an object name on the node's goal topic (an empty string cancels):
    ros2 topic pub --once /video4spatial_nav/goal_object std_msgs/msg/String "{data: chair}"
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, LogInfo
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node


def generate_launch_description():
    args = [
        DeclareLaunchArgument('teleop_topic', default_value='/cmd_vel_teleop',
                              description='Twist topic of the keyboard (= the node parameter teleop_cmd_vel_topic)'),
        DeclareLaunchArgument('goal_topic', default_value='/video4spatial_nav/goal_object',
                              description='std_msgs/String topic the node takes object names from'),
        DeclareLaunchArgument('terminal', default_value='xterm -e', description='Prefix that gives the keyboard node a terminal'),
    ]
    teleop = Node(
        package='teleop_twist_keyboard',
        executable='teleop_twist_keyboard',
        name='teleop_twist_keyboard',
        prefix=LaunchConfiguration('terminal'),
        remappings=[('cmd_vel', LaunchConfiguration('teleop_topic'))],
        output='screen',
    )
    note = LogInfo(msg=[
        'Ask for an object: ros2 topic pub --once ', LaunchConfiguration('goal_topic'),
        ' std_msgs/msg/String "{data: chair}"  (empty data cancels)',
    ])
    return LaunchDescription(args + [teleop, note])
