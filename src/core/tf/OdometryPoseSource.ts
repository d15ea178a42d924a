/**
 * Robot pose from an odometry topic (nav_msgs/Odometry), for robots or bags without a usable TF
 * tree: poses in the odometry's frame (header.frame_id, usually 'odom'), interpolated at each
 * camera frame's stamp like a TF edge. Pure.
 */
import { TransformError } from '../errors.js';
import { type Quaternion, type Transform3D, type Vec3, composeTransforms, transformToPose2D } from '../geometry.js';
import { type TimeLike, timeToNs } from './stamp.js';
import { DEFAULT_TF_CACHE_NS, DEFAULT_TF_FUTURE_TOLERANCE_NS, type PoseAt, type PoseSource, normalizeFrameId } from './TfBuffer.js';
import { TransformSeries, checkedTransform } from './TransformSeries.js';

/** Structural nav_msgs/Odometry (the fields read here). */
export interface OdometryLike {
  header: { stamp: TimeLike; frame_id: string };
  child_frame_id: string;
  pose: { pose: { position: Vec3; orientation: Quaternion } };
}

export interface OdometryPoseSourceOptions {
  /** History kept (ns), relative to the newest message. Default 10 s. */
  cacheDurationNs?: bigint;
  /** How much newer than the newest odometry a request may be (answered with the newest). Default 100 ms. */
  futureToleranceNs?: bigint;
  /** T_base_camera, when known from parameters: gives each frame a camera pose too. */
  cameraMount?: Transform3D;
}

export class OdometryPoseSource implements PoseSource {
  private readonly series = new TransformSeries('odometry');
  private frame = '';
  private readonly cacheNs: bigint;
  private readonly toleranceNs: bigint;
  private readonly mount: Transform3D | undefined;

  constructor(opts: OdometryPoseSourceOptions = {}) {
    this.cacheNs = opts.cacheDurationNs ?? DEFAULT_TF_CACHE_NS;
    this.toleranceNs = opts.futureToleranceNs ?? DEFAULT_TF_FUTURE_TOLERANCE_NS;
    this.mount = opts.cameraMount;
  }

  /** The odometry's frame (header.frame_id of the messages), '' until the first message. */
  get globalFrame(): string {
    return this.frame;
  }

  /**
   * Adds one message. Throws TransformError 'invalid_transform' for NaN / non-unit quaternion,
   * 'frame_changed' when header.frame_id differs from earlier messages.
   */
  addOdometry(msg: OdometryLike, topic = '/odom'): void {
    const frame = normalizeFrameId(msg.header.frame_id);
    const what = `odometry ${frame} → ${msg.child_frame_id} on ${topic}`;
    const p = msg.pose.pose;
    const tf = checkedTransform({ translation: p.position, rotation: p.orientation }, what);
    if (this.frame !== '' && frame !== this.frame) {
      throw new TransformError(`${what}: frame_id '${frame}' differs from earlier messages' '${this.frame}'`, 'frame_changed');
    }
    this.frame = frame;
    this.series.insert(timeToNs(msg.header.stamp), tf, this.cacheNs);
  }

  /** Throws TransformError 'no_data' before any message, 'too_old' / 'too_new' outside the history. */
  poseAt(stampNs: bigint): PoseAt {
    const t3 = this.series.sample(stampNs, this.toleranceNs, this.cacheNs);
    const pose = transformToPose2D(t3);
    return this.mount === undefined ? { pose } : { pose, camera: composeTransforms(t3, this.mount) };
  }
}
