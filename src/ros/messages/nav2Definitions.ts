/**
 * ROS 2 definitions that @foxglove/rosmsg-msgs-common does not ship, written from their specs
 * (navigation2 `nav2_msgs/action/NavigateThroughPoses.action` per distro, `nav_msgs/msg/Goals.msg`,
 * `nav2_msgs/msg/WaypointStatus.msg`). Constants do not change the wire format; fields do.
 */

/** `nav_msgs/msg/Goals` (Kilted and later; registered for every distro, it is only a message). */
export const NAV_MSGS_GOALS = `# An array of navigation goals
std_msgs/Header header
geometry_msgs/PoseStamped[] goals
`;

/** `nav2_msgs/msg/WaypointStatus` (Kilted and later). */
export const NAV2_WAYPOINT_STATUS = `uint8 PENDING=0
uint8 COMPLETED=1
uint8 SKIPPED=2
uint8 FAILED=3

uint8 waypoint_status
uint32 waypoint_index
geometry_msgs/PoseStamped waypoint_pose
uint16 error_code
string error_msg
`;

/** NavigateThroughPoses, Humble: goal `PoseStamped[]`, result `std_msgs/Empty`. */
export const NAVIGATE_THROUGH_POSES_HUMBLE = `#goal definition
geometry_msgs/PoseStamped[] poses
string behavior_tree
---
#result definition
std_msgs/Empty result
---
#feedback definition
geometry_msgs/PoseStamped current_pose
builtin_interfaces/Duration navigation_time
builtin_interfaces/Duration estimated_time_remaining
int16 number_of_recoveries
float32 distance_remaining
int16 number_of_poses_remaining
`;

/** NavigateThroughPoses, Jazzy: goal `PoseStamped[]`, result with `error_code`/`error_msg`. */
export const NAVIGATE_THROUGH_POSES_JAZZY = `#goal definition
geometry_msgs/PoseStamped[] poses
string behavior_tree
---
#result definition
# Error codes
uint16 NONE=0
uint16 UNKNOWN=9000
uint16 FAILED_TO_LOAD_BEHAVIOR_TREE=9001
uint16 TF_ERROR=9002

uint16 error_code
string error_msg
---
#feedback definition
geometry_msgs/PoseStamped current_pose
builtin_interfaces/Duration navigation_time
builtin_interfaces/Duration estimated_time_remaining
int16 number_of_recoveries
float32 distance_remaining
int16 number_of_poses_remaining
`;

/** NavigateThroughPoses, Kilted and later: goal `nav_msgs/Goals`, waypoint statuses. */
export const NAVIGATE_THROUGH_POSES_KILTED = `#goal definition
nav_msgs/Goals poses
string behavior_tree
---
#result definition
# Error codes
uint16 NONE=0
uint16 UNKNOWN=9000
uint16 FAILED_TO_LOAD_BEHAVIOR_TREE=9001
uint16 TF_ERROR=9002
uint16 TIMEOUT=9003

uint16 error_code
string error_msg
nav2_msgs/WaypointStatus[] waypoint_statuses
---
#feedback definition
geometry_msgs/PoseStamped current_pose
builtin_interfaces/Duration navigation_time
builtin_interfaces/Duration estimated_time_remaining
int16 number_of_recoveries
float32 distance_remaining
int16 number_of_poses_remaining
nav2_msgs/WaypointStatus[] waypoint_statuses
`;
