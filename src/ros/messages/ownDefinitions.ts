/**
 * This package's own interfaces, the same text as `msg/NavigateToObject.action` and
 * `msg/ImaginedTrajectory.msg` (a test checks they are equal; edit both together). ROS 2 builds
 * the files with rosidl on a robot; here the text is parsed with @foxglove/rosmsg.
 */

/** `video4spatial_nav/action/NavigateToObject`: goal `---` result `---` feedback. */
export const NAVIGATE_TO_OBJECT_ACTION = `# Find a named object by imagining the way there, then (optionally) drive there with Nav2.
# Goal
string object_name      # what to find, e.g. "chair" (the model's vocabulary)
bool execute            # true: send the plan to Nav2 and replan until arrival; false: plan only
float64 time_budget_s   # wall-clock budget for the whole goal, s; 0 = no limit
---
# Result
bool success                            # the object was reached (execute) or a plan was found (plan only)
string message                          # why it failed, or a short summary
nav_msgs/Path path                      # the last plan, global frame
geometry_msgs/PoseStamped object_pose   # estimated object position, global frame (orientation: identity)
float64 plan_time_s                     # total time spent planning, s
uint32 plans                            # number of plans made (first plan + replans)
string verified_by                      # how success was checked: "camera" (the grounder saw the object centred in the live view at the goal), "plans_agree" (no camera check: two plans put the goal here), "plan_only"; empty on failure
uint32 false_arrivals                   # goals the camera check refused (each place excluded from later plans of this goal)
---
# Feedback
string stage                 # e.g. "sampling", "extracting", "navigating"
uint32 step                  # denoising step done (0..steps)
uint32 steps                 # denoising steps per plan
nav_msgs/Path current_plan   # the current plan, global frame (empty before the first plan)
float64 distance_remaining   # along current_plan from the robot, m
uint32 keyframes_showing     # keyframes in which the grounder sees the object (0 without a grounder or before grounding)
`;

/** `video4spatial_nav/msg/ImaginedTrajectory`. */
export const IMAGINED_TRAJECTORY_MSG = `# All candidate videos imagined for one plan, their scores and the paths extracted from them.
std_msgs/Header header                  # stamp = plan time; frame_id = global frame of candidate_paths
string object_name                      # the goal object
uint32 num_candidates                   # M candidates (best-of-M)
uint32 chosen                           # index of the chosen candidate, 0..M-1
float32[] scores                        # per candidate, the score the choice was made on, higher is better (length M)
uint32 frames_per_candidate             # N imagined frames per candidate
uint32 width                            # frame width, px
uint32 height                           # frame height, px
string encoding                         # pixel encoding of frames, "rgb8"
uint8[] frames                          # all candidates' frames concatenated: M*N*height*width*3 bytes, candidate-major
nav_msgs/Path[] candidate_paths         # per candidate, the extracted poses (length M)
float32[] boxes                         # per candidate x0,y0,x1,y1 in px of the last frame's box, -1 when none (length 4*M)
float32[] sd                            # per candidate, normalised box-centre distance from the image centre (length M)
diagnostic_msgs/KeyValue[] timings      # stage name -> seconds, e.g. {"sample": "0.84"}
`;
