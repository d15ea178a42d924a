/**
 * TypeScript shapes of the ROS 2 messages we use, as `decodeMessage` returns them and as
 * `encodeMessage` accepts them (field names exactly as in the .msg files). Numeric arrays are
 * typed arrays when decoded; plain number arrays are accepted when encoding. Units follow REP-103:
 * metres, radians, seconds.
 */

/** A numeric array field: plain numbers when built by hand, a typed array when decoded. */
export type Float64s = number[] | Float64Array;
export type Float32s = number[] | Float32Array;

/** builtin_interfaces/Time: seconds + nanoseconds (0…999 999 999) since the epoch (or sim time). */
export interface Time {
  sec: number;
  nanosec: number;
}
/** builtin_interfaces/Duration. */
export type Duration = Time;

/** std_msgs/Header: stamp = acquisition/plan time; frame_id = the data's frame. */
export interface Header {
  stamp: Time;
  frame_id: string;
}

export interface Vector3 {
  x: number;
  y: number;
  z: number;
}
export type Point = Vector3;
/** geometry_msgs/Quaternion, always {x, y, z, w}; identity is w = 1. */
export interface Quaternion {
  x: number;
  y: number;
  z: number;
  w: number;
}
export interface Pose {
  position: Point;
  orientation: Quaternion;
}
export interface PoseStamped {
  header: Header;
  pose: Pose;
}
export interface Transform {
  translation: Vector3;
  rotation: Quaternion;
}
/** geometry_msgs/TransformStamped: pose of child_frame_id in header.frame_id. */
export interface TransformStamped {
  header: Header;
  child_frame_id: string;
  transform: Transform;
}
/** tf2_msgs/TFMessage (/tf and /tf_static). */
export interface TFMessage {
  transforms: TransformStamped[];
}

/** sensor_msgs/Image: `step` = bytes per row (may include padding); data = height·step bytes. */
export interface Image {
  header: Header;
  height: number;
  width: number;
  encoding: string;
  is_bigendian: number;
  step: number;
  data: Uint8Array | number[];
}
/** sensor_msgs/CompressedImage: format e.g. "jpeg", "png", "rgb8; jpeg compressed bgr8". */
export interface CompressedImage {
  header: Header;
  format: string;
  data: Uint8Array | number[];
}
export interface RegionOfInterest {
  x_offset: number;
  y_offset: number;
  height: number;
  width: number;
  do_rectify: boolean;
}
/** sensor_msgs/CameraInfo: k = [fx 0 cx; 0 fy cy; 0 0 1] row-major (px); p is 3×4. */
export interface CameraInfo {
  header: Header;
  height: number;
  width: number;
  distortion_model: string;
  d: Float64s;
  k: Float64s;
  r: Float64s;
  p: Float64s;
  binning_x: number;
  binning_y: number;
  roi: RegionOfInterest;
}

/** nav_msgs/Path: header.frame_id is the path's frame. */
export interface Path {
  header: Header;
  poses: PoseStamped[];
}
/** nav_msgs/Goals (Kilted+). */
export interface Goals {
  header: Header;
  goals: PoseStamped[];
}

/** geometry_msgs/Twist: linear m/s, angular rad/s, in the robot frame. */
export interface Twist {
  linear: Vector3;
  angular: Vector3;
}
export interface PoseWithCovariance {
  pose: Pose;
  covariance: Float64s;
}
export interface TwistWithCovariance {
  twist: Twist;
  covariance: Float64s;
}
export interface Odometry {
  header: Header;
  child_frame_id: string;
  pose: PoseWithCovariance;
  twist: TwistWithCovariance;
}

/** nav_msgs/MapMetaData: resolution in m/cell; origin = the pose of cell (0, 0)'s corner in the map frame. */
export interface MapMetaData {
  map_load_time: Time;
  resolution: number;
  width: number;
  height: number;
  origin: Pose;
}
/** nav_msgs/OccupancyGrid: row-major from the origin, row 0 first; 0 free, 100 occupied, −1 unknown. */
export interface OccupancyGridMsg {
  header: Header;
  info: MapMetaData;
  data: Int8Array | number[];
}

/** std_msgs/String. */
export interface StringMsg {
  data: string;
}
export type { StringMsg as String };

export interface ColorRGBA {
  r: number;
  g: number;
  b: number;
  a: number;
}
/** visualization_msgs/Marker (fields we set; the rest default). */
export interface Marker {
  header: Header;
  ns: string;
  id: number;
  type: number;
  action: number;
  pose: Pose;
  scale: Vector3;
  color: ColorRGBA;
  lifetime: Duration;
  frame_locked: boolean;
  points: Point[];
  colors: ColorRGBA[];
  text: string;
  [more: string]: unknown;
}
export interface MarkerArray {
  markers: Partial<Marker>[];
}

/** diagnostic_msgs/KeyValue. */
export interface KeyValue {
  key: string;
  value: string;
}
/** diagnostic_msgs/DiagnosticStatus: level OK=0, WARN=1, ERROR=2, STALE=3. */
export interface DiagnosticStatus {
  level: number;
  name: string;
  message: string;
  hardware_id: string;
  values: KeyValue[];
}
export interface DiagnosticArray {
  header: Header;
  status: DiagnosticStatus[];
}

/** video4spatial_nav/action/NavigateToObject goal. */
export interface NavigateToObjectGoal {
  object_name: string;
  execute: boolean;
  /** s; 0 = no limit. */
  time_budget_s: number;
}
export interface NavigateToObjectResult {
  success: boolean;
  message: string;
  path: Path;
  object_pose: PoseStamped;
  plan_time_s: number;
  plans: number;
  /** 'camera' | 'plans_agree' | 'plan_only' on success; '' on failure. */
  verified_by: string;
  /** Goals the camera check refused during this goal. */
  false_arrivals: number;
}
export interface NavigateToObjectFeedback {
  stage: string;
  step: number;
  steps: number;
  current_plan: Path;
  /** m */
  distance_remaining: number;
  /** Keyframes in which the grounder sees the object. */
  keyframes_showing: number;
}

/** nav2_msgs/action/NavigateThroughPoses goal, Humble/Jazzy. */
export interface NavigateThroughPosesGoalHumble {
  poses: PoseStamped[];
  behavior_tree: string;
}
/** nav2_msgs/action/NavigateThroughPoses goal, Kilted and later. */
export interface NavigateThroughPosesGoalKilted {
  poses: Goals;
  behavior_tree: string;
}
export type NavigateThroughPosesGoal = NavigateThroughPosesGoalHumble | NavigateThroughPosesGoalKilted;
/** Result: Humble `{result: {}}`; Jazzy+ `{error_code, error_msg}` (Kilted+: `waypoint_statuses`). */
export interface NavigateThroughPosesResult {
  error_code?: number;
  error_msg?: string;
  result?: Record<string, never>;
  waypoint_statuses?: unknown[];
}
export interface NavigateThroughPosesFeedback {
  current_pose: PoseStamped;
  navigation_time: Duration;
  estimated_time_remaining: Duration;
  number_of_recoveries: number;
  /** m */
  distance_remaining: number;
  number_of_poses_remaining: number;
  waypoint_statuses?: unknown[];
}

/** video4spatial_nav/msg/ImaginedTrajectory (see msg/ImaginedTrajectory.msg). */
export interface ImaginedTrajectory {
  header: Header;
  object_name: string;
  num_candidates: number;
  chosen: number;
  scores: Float32s;
  frames_per_candidate: number;
  width: number;
  height: number;
  encoding: string;
  /** M·N·height·width·3 bytes, candidate-major, rgb8. */
  frames: Uint8Array | number[];
  candidate_paths: Path[];
  /** 4·M: x0, y0, x1, y1 px per candidate; −1 when none. */
  boxes: Float32s;
  sd: Float32s;
  timings: KeyValue[];
}
