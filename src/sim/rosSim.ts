/**
 * The simulated robot and the simulated Nav2 on a ROS graph (Gazebo stand-in).
 *
 * SimRobot publishes what a real robot would: the camera (sensor_msgs/Image rgb8, frame
 * `camera_optical_frame`, REP-103 optical axes), CameraInfo (ROS pixel convention: K's cx is
 * the centre of pixel column cx, i.e. our continuous cx − 0.5), /tf (map→odom identity,
 * odom→base_link) and /tf_static (base_link→camera_optical_frame at the camera height).
 * Its pose moves only through `moveTo`, which refuses poses in collision.
 *
 * SimNav2 serves nav2_msgs/action/NavigateThroughPoses: it plans A* on the inflated grid to each
 * pose in turn, drives with unicycle limits (driver.ts), publishes feedback and camera frames as
 * the simulated clock advances, honours cancel/preemption, and aborts when no path exists. When
 * something else moved the robot between two of its steps (teleop on the live simulator), it plans
 * again from where the robot is, as Nav2's controller follows on from the robot's real pose.
 */
import type { Pose2D } from '../core/geometry.js';
import { yawToQuaternion } from '../core/geometry.js';
import type { PinholeCamera } from '../core/camera.js';
import type { Graph, Publisher, ServerGoalHandle } from '../ros/Graph.js';
import type { SimClock } from '../ros/clock.js';
import { timeFromNs } from '../ros/messages/index.js';
import type { CameraInfo, Image, NavigateThroughPosesFeedback, NavigateThroughPosesGoal, NavigateThroughPosesResult, PoseStamped, TFMessage } from '../ros/messages/types.js';
import { driveTo } from './driver.js';
import { render } from './renderer.js';
import type { World } from './world.js';

export const CAMERA_FRAME = 'camera_optical_frame';
/**
 * The CameraInfo of a distortion-free pinhole camera. ROS pixel convention: K's cx, cy are the
 * CENTRE of the first pixel at 0, so they are ours (continuous coordinates) − 0.5.
 */
export function cameraInfoOf(c: PinholeCamera, header: CameraInfo['header']): CameraInfo {
  return {
    header,
    height: c.height,
    width: c.width,
    distortion_model: 'plumb_bob',
    d: [0, 0, 0, 0, 0],
    k: [c.fx, 0, c.cx - 0.5, 0, c.fy, c.cy - 0.5, 0, 0, 1],
    r: [1, 0, 0, 0, 1, 0, 0, 0, 1],
    p: [c.fx, 0, c.cx - 0.5, 0, 0, c.fy, c.cy - 0.5, 0, 0, 0, 1, 0],
    binning_x: 0,
    binning_y: 0,
    roi: { x_offset: 0, y_offset: 0, height: 0, width: 0, do_rectify: false },
  };
}

/** base_link → optical: z forward, x right, y down. */
export const OPTICAL_ROTATION = { x: -0.5, y: 0.5, z: -0.5, w: 0.5 } as const;

export class SimRobot {
  pose: Pose2D;
  private readonly imagePub: Publisher<Image>;
  private readonly infoPub: Publisher<CameraInfo>;
  private readonly tfPub: Publisher<TFMessage>;
  frames = 0;

  constructor(
    readonly graph: Graph,
    readonly world: World,
    readonly camera: PinholeCamera,
    start: Pose2D,
    readonly topics = { image: '/camera/image_raw', info: '/camera/camera_info' },
  ) {
    this.pose = start;
    this.imagePub = graph.createPublisher<Image>(topics.image, 'sensor_msgs/msg/Image', 'sensor_data');
    this.infoPub = graph.createPublisher<CameraInfo>(topics.info, 'sensor_msgs/msg/CameraInfo', 'sensor_data');
    this.tfPub = graph.createPublisher<TFMessage>('/tf', 'tf2_msgs/msg/TFMessage', 'tf');
    const st = graph.createPublisher<TFMessage>('/tf_static', 'tf2_msgs/msg/TFMessage', 'tf_static');
    st.publish({
      transforms: [
        {
          header: { stamp: timeFromNs(0n), frame_id: 'base_link' },
          child_frame_id: CAMERA_FRAME,
          transform: { translation: { x: 0, y: 0, z: camera.heightM }, rotation: { ...OPTICAL_ROTATION } },
        },
      ],
    });
  }

  /** Moves the robot; false (and no move) when the pose is in collision. */
  moveTo(p: Pose2D): boolean {
    if (this.world.free.occupiedAt(p.x, p.y)) return false;
    this.pose = p;
    return true;
  }

  /**
   * Publishes /tf for the current pose and one camera frame (+ CameraInfo), stamped now.
   * `pixels` replaces the rendered view (ablations: grey frames, another world's views).
   */
  publishFrame(pixels?: Uint8Array): void {
    const stamp = timeFromNs(this.graph.clock.now());
    const c = this.camera;
    this.tfPub.publish({
      transforms: [
        { header: { stamp, frame_id: 'map' }, child_frame_id: 'odom', transform: { translation: { x: 0, y: 0, z: 0 }, rotation: { x: 0, y: 0, z: 0, w: 1 } } },
        {
          header: { stamp, frame_id: 'odom' },
          child_frame_id: 'base_link',
          transform: { translation: { x: this.pose.x, y: this.pose.y, z: 0 }, rotation: yawToQuaternion(this.pose.yaw) },
        },
      ],
    });
    this.infoPub.publish(cameraInfoOf(c, { stamp, frame_id: CAMERA_FRAME }));
    const data = pixels ?? render(this.world, this.pose, c).rgb;
    this.imagePub.publish({ header: { stamp, frame_id: CAMERA_FRAME }, height: c.height, width: c.width, encoding: 'rgb8', is_bigendian: 0, step: c.width * 3, data });
    this.frames++;
  }
}

export interface SimNav2Options {
  /** Seconds of simulated time per control step. */
  dt: number;
  /** Publish a camera frame every this many control steps. */
  framesEvery: number;
  /** Called after each control step (e.g. to let other nodes run). */
  afterStep?: () => Promise<void>;
  /** Awaited before each control step (PlanPacer.gate: no driving while the node plans, except the steps it grants). */
  gate?: () => Promise<void>;
}

/** Goal poses of either distro's NavigateThroughPoses goal. */
export function goalPoses(goal: NavigateThroughPosesGoal): PoseStamped[] {
  const p = goal.poses as PoseStamped[] | { goals: PoseStamped[] };
  return Array.isArray(p) ? p : p.goals;
}

export class SimNav2 {
  goalsReceived = 0;
  /** Whether a goal is being driven now. */
  executing = false;
  /** Goals that stopped driving because a newer goal preempted them, or because they were cancelled. */
  preempted = 0;
  cancelled = 0;
  /** Times a leg was planned again because something else had moved the robot. */
  followedOn = 0;

  constructor(
    readonly graph: Graph,
    readonly robot: SimRobot,
    readonly clock: SimClock,
    readonly opts: SimNav2Options = { dt: 0.2, framesEvery: 1 },
    name = 'navigate_through_poses',
  ) {
    graph.createActionServer<NavigateThroughPosesGoal, NavigateThroughPosesFeedback, NavigateThroughPosesResult>(name, 'nav2_msgs/action/NavigateThroughPoses', {
      onGoal: (g) => (goalPoses(g).length === 0 ? { accept: false, reason: 'no poses in the goal' } : { accept: true }),
      execute: async (h) => {
        this.goalsReceived++;
        this.executing = true;
        try {
          await this.run(h);
        } finally {
          this.executing = false;
        }
      },
    });
  }

  private async run(h: ServerGoalHandle<NavigateThroughPosesGoal, NavigateThroughPosesFeedback, NavigateThroughPosesResult>): Promise<void> {
    const { robot, clock, opts } = this;
    const poses = goalPoses(h.goal);
    const t0 = clock.now();
    let step = 0;
    for (let i = 0; i < poses.length; i++) {
      const ps = poses[i] as PoseStamped;
      if (ps.header.frame_id !== 'map') {
        h.abort({ error_code: 1, error_msg: `pose ${i} is in frame '${ps.header.frame_id}', this simulator navigates in 'map'` });
        return;
      }
      const q = ps.pose.orientation;
      const target = { x: ps.pose.position.x, y: ps.pose.position.y, yaw: Math.atan2(2 * (q.w * q.z + q.x * q.y), 1 - 2 * (q.y * q.y + q.z * q.z)) };
      let d = driveTo(robot.world, robot.pose, target, opts.dt);
      if (d.status !== 'reached') {
        h.abort({ error_code: 2, error_msg: `no path to pose ${i} (${target.x.toFixed(2)}, ${target.y.toFixed(2)})` });
        return;
      }
      // where this leg's last step left the robot: another pose there means someone else moved it
      let left = robot.pose;
      for (let k = 0; k < d.poses.length; ) {
        await opts.gate?.();
        if (h.signal.aborted) {
          if (h.stopReason === 'preempted') this.preempted++;
          else this.cancelled++;
          h.canceled({ error_code: 0, error_msg: '' }, h.stopReason);
          return;
        }
        if (robot.pose !== left) {
          this.followedOn++;
          d = driveTo(robot.world, robot.pose, target, opts.dt);
          if (d.status !== 'reached') {
            h.abort({ error_code: 2, error_msg: `no path to pose ${i} (${target.x.toFixed(2)}, ${target.y.toFixed(2)}) from where the robot was moved to (${robot.pose.x.toFixed(2)}, ${robot.pose.y.toFixed(2)})` });
            return;
          }
          left = robot.pose;
          k = 0;
          if (d.poses.length === 0) break;
        }
        const p = d.poses[k++] as Pose2D;
        if (!robot.moveTo(p)) {
          h.abort({ error_code: 3, error_msg: `blocked at (${p.x.toFixed(2)}, ${p.y.toFixed(2)})` });
          return;
        }
        left = robot.pose;
        clock.advance(BigInt(Math.round(opts.dt * 1e9)));
        if (++step % opts.framesEvery === 0) robot.publishFrame();
        const rem = Math.hypot(target.x - p.x, target.y - p.y);
        h.publishFeedback({
          current_pose: { header: { stamp: timeFromNs(clock.now()), frame_id: 'map' }, pose: { position: { x: p.x, y: p.y, z: 0 }, orientation: yawToQuaternion(p.yaw) } },
          navigation_time: timeFromNs(clock.now() - t0),
          estimated_time_remaining: timeFromNs(BigInt(Math.round((rem / 0.5) * 1e9))),
          number_of_recoveries: 0,
          distance_remaining: rem,
          number_of_poses_remaining: poses.length - i - 1,
        });
        await opts.afterStep?.();
      }
    }
    h.succeed({ error_code: 0, error_msg: '' });
  }
}
