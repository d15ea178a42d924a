/**
 * A TF buffer (what tf2_ros::Buffer does, for a JS node with no TF library): fed
 * geometry_msgs/TransformStamped from /tf and /tf_static, it answers "where is frame S in frame T
 * at time t" through the tree, interpolating each edge in time (linear translation, slerp
 * rotation). Static transforms are timeless. Pure: no I/O, no clock (times come from stamps).
 *
 * Convention: a TransformStamped with header.frame_id = P and child_frame_id = C carries T_P_C,
 * the pose of C in P (maps points in C to points in P). `lookupTransform(target, source, t)`
 * returns T_target_source, as tf2's lookupTransform(target_frame, source_frame, time).
 */
import { ParameterError, TransformError } from '../errors.js';
import { type Pose2D, type Quaternion, type Transform3D, type Vec3, IDENTITY_TRANSFORM, composeTransforms, invertTransform, transformToPose2D } from '../geometry.js';
import { type TimeLike, formatStamp, nsToSeconds, secondsToNs, timeToNs } from './stamp.js';
import { TransformSeries, checkedTransform } from './TransformSeries.js';

/** Structural geometry_msgs/TransformStamped (compatible with the ROS message type). */
export interface TransformStampedLike {
  header: { stamp: TimeLike; frame_id: string };
  child_frame_id: string;
  transform: { translation: Vec3; rotation: Quaternion };
}

/** Structural tf2_msgs/TFMessage. */
export interface TfMessageLike {
  transforms: readonly TransformStampedLike[];
}

export interface TfBufferOptions {
  /** How long dynamic transforms are kept, relative to each edge's newest stamp (ns). Default 10 s. */
  cacheDurationNs?: bigint;
  /**
   * How much newer than an edge's latest transform a lookup may be and still be answered with
   * that latest transform (ns). Default 100 ms: a camera frame often arrives before the /tf
   * message for its stamp. Larger values trade pose accuracy (speed × tolerance) for fewer
   * 'too_new' rejections.
   */
  futureToleranceNs?: bigint;
}

export const DEFAULT_TF_CACHE_NS = secondsToNs(10);
export const DEFAULT_TF_FUTURE_TOLERANCE_NS = secondsToNs(0.1);

/** Longest parent chain walked before declaring the tree malformed (tf2 uses a similar cap). */
const MAX_TREE_DEPTH = 1000;

interface Edge {
  parent: string;
  isStatic: boolean;
  staticTransform: Transform3D;
  series: TransformSeries;
}

/** Strips the leading '/' tf2 ignores ("/map" and "map" are the same frame). */
export function normalizeFrameId(id: string): string {
  return id.startsWith('/') ? id.slice(1) : id;
}

export class TfBuffer {
  readonly cacheDurationNs: bigint;
  readonly futureToleranceNs: bigint;
  /** child frame → edge to its parent */
  private readonly edges = new Map<string, Edge>();
  /** frames that appear only as parents */
  private readonly parentsSeen = new Set<string>();

  constructor(opts: TfBufferOptions = {}) {
    this.cacheDurationNs = opts.cacheDurationNs ?? DEFAULT_TF_CACHE_NS;
    this.futureToleranceNs = opts.futureToleranceNs ?? DEFAULT_TF_FUTURE_TOLERANCE_NS;
    if (this.cacheDurationNs <= 0n) throw new ParameterError(`TF cache duration must be > 0 ns, got ${this.cacheDurationNs}`, 'tf_cache_duration');
    if (this.futureToleranceNs < 0n) throw new ParameterError(`TF future tolerance must be ≥ 0 ns, got ${this.futureToleranceNs}`, 'tf_future_tolerance');
  }

  /**
   * Adds one transform. Throws TransformError 'invalid_transform' (NaN, non-unit quaternion,
   * empty or equal frame ids), 'loop' (the edge would close a cycle) or 'parent_conflict' (the
   * child has another parent whose edge is alive: static, or updated within the cache duration);
   * the buffer is unchanged then.
   */
  setTransform(msg: TransformStampedLike, isStatic: boolean, source = isStatic ? '/tf_static' : '/tf'): void {
    const parent = normalizeFrameId(msg.header.frame_id);
    const child = normalizeFrameId(msg.child_frame_id);
    const what = `transform ${parent || '""'} → ${child || '""'} from ${source}`;
    if (parent === '' || child === '') throw new TransformError(`${what}: empty frame id`, 'invalid_transform');
    if (parent === child) throw new TransformError(`${what}: a frame cannot be its own parent`, 'invalid_transform');
    const tf = checkedTransform(msg.transform, what);
    // reject an edge that would close a cycle: walking up from the parent must not reach the child
    let f: string | undefined = parent;
    for (let depth = 0; f !== undefined && depth < MAX_TREE_DEPTH; depth++) {
      if (f === child) throw new TransformError(`${what}: would create a loop (${child} is already an ancestor of ${parent})`, 'loop');
      const e = this.edges.get(f);
      f = e?.parent;
    }
    let edge = this.edges.get(child);
    if (edge !== undefined && (edge.parent !== parent || edge.isStatic !== isStatic)) {
      // one parent per frame while its edge is alive: a second authority (a misconfigured or
      // hostile publisher) must not cut a live tree; /tf_static may restate its own static edges
      const conflict = this.liveEdgeConflict(edge, isStatic, timeToNs(msg.header.stamp));
      if (conflict !== undefined) throw new TransformError(`${what}: ${child} already has ${conflict}; the second parent is refused`, 'parent_conflict');
    }
    if (edge === undefined || edge.parent !== parent || edge.isStatic !== isStatic) {
      // a frame that changes parent (or switches between static and dynamic) starts a new history
      edge = { parent, isStatic, staticTransform: tf, series: new TransformSeries(`${parent} → ${child}`) };
      this.edges.set(child, edge);
    }
    if (isStatic) edge.staticTransform = tf;
    else edge.series.insert(timeToNs(msg.header.stamp), tf, this.cacheDurationNs);
    this.parentsSeen.add(parent);
  }

  /**
   * Why `edge` may not be replaced by a new parent (undefined when it may): a static edge is
   * replaced only from /tf_static; a dynamic one once it has had no update for the cache duration.
   */
  private liveEdgeConflict(edge: Edge, isStatic: boolean, stampNs: bigint): string | undefined {
    if (edge.isStatic) return isStatic ? undefined : `the static parent ${edge.parent} (from /tf_static; only /tf_static may change it)`;
    const newest = edge.series.newest;
    if (newest === undefined || stampNs - newest.stampNs > this.cacheDurationNs) return undefined;
    return `the parent ${edge.parent}, updated ${formatStamp(newest.stampNs)} (a new parent is accepted ${nsToSeconds(this.cacheDurationNs).toFixed(1)} s after its last update)`;
  }

  /**
   * Adds every transform of a tf2_msgs/TFMessage; a bad transform does not stop the others.
   * Returns the errors (for counting / logging).
   */
  addTfMessage(msg: TfMessageLike, isStatic: boolean): TransformError[] {
    const errors: TransformError[] = [];
    for (const t of msg.transforms) {
      try {
        this.setTransform(t, isStatic);
      } catch (e) {
        errors.push(e as TransformError); // setTransform throws only TransformError
      }
    }
    return errors;
  }

  /** All frames seen (as child or parent), sorted. */
  frames(): string[] {
    return [...new Set([...this.edges.keys(), ...this.parentsSeen])].sort();
  }

  hasFrame(frame: string): boolean {
    const f = normalizeFrameId(frame);
    return this.edges.has(f) || this.parentsSeen.has(f);
  }

  clear(): void {
    this.edges.clear();
    this.parentsSeen.clear();
  }

  /** Frames from `frame` up to its root, inclusive. */
  private chainToRoot(frame: string): string[] {
    const chain = [frame];
    let e = this.edges.get(frame);
    while (e !== undefined) {
      chain.push(e.parent);
      e = this.edges.get(e.parent);
    }
    return chain;
  }

  private requireFrame(frame: string, role: string, target: string, source: string): void {
    if (this.hasFrame(frame)) return;
    const known = this.frames();
    const list = known.length === 0 ? 'none yet' : known.slice(0, 12).join(', ') + (known.length > 12 ? `, … (${known.length})` : '');
    throw new TransformError(`${role} frame '${frame}' is unknown (lookup ${target} ← ${source}; known frames: ${list})`, 'frame_unknown');
  }

  /**
   * T_target_source at `timeNs` (or, when omitted, at the latest time every edge of the chain
   * has data, like tf2's time 0). Throws TransformError: 'frame_unknown', 'chain_broken',
   * 'too_old', 'too_new'.
   */
  lookupTransform(targetFrame: string, sourceFrame: string, timeNs?: bigint): Transform3D {
    const target = normalizeFrameId(targetFrame);
    const source = normalizeFrameId(sourceFrame);
    if (target === source) return IDENTITY_TRANSFORM;
    this.requireFrame(target, 'target', target, source);
    this.requireFrame(source, 'source', target, source);
    const up = this.chainToRoot(source);
    const down = this.chainToRoot(target);
    const downIndex = new Map(down.map((f, i) => [f, i]));
    let iu = -1;
    let id = -1;
    for (let i = 0; i < up.length; i++) {
      const j = downIndex.get(up[i] as string);
      if (j !== undefined) {
        iu = i;
        id = j;
        break;
      }
    }
    if (iu < 0) {
      throw new TransformError(
        `no transform chain between '${target}' and '${source}': '${target}' belongs to the tree rooted at '${down[down.length - 1]}', ` +
          `'${source}' to the tree rooted at '${up[up.length - 1]}' (is a publisher of ${up[up.length - 1]} → … missing?)`,
        'chain_broken',
      );
    }
    const upEdges = up.slice(0, iu);
    const downEdges = down.slice(0, id);
    const t = timeNs ?? this.latestCommonTime([...upEdges, ...downEdges]);
    const what = `lookup ${target} ← ${source}`;
    // T_common_source = T_common_p(n) ∘ … ∘ T_p1_source
    let commonFromSource: Transform3D = IDENTITY_TRANSFORM;
    for (const child of upEdges) commonFromSource = composeTransforms(this.edgeAt(child, t, what), commonFromSource);
    let commonFromTarget: Transform3D = IDENTITY_TRANSFORM;
    for (const child of downEdges) commonFromTarget = composeTransforms(this.edgeAt(child, t, what), commonFromTarget);
    return composeTransforms(invertTransform(commonFromTarget), commonFromSource);
  }

  /** True when lookupTransform would succeed. */
  canTransform(targetFrame: string, sourceFrame: string, timeNs?: bigint): boolean {
    try {
      this.lookupTransform(targetFrame, sourceFrame, timeNs);
      return true;
    } catch {
      return false; // lookupTransform throws only TransformError
    }
  }

  private latestCommonTime(children: string[]): bigint {
    let t: bigint | undefined;
    for (const c of children) {
      const e = this.edges.get(c) as Edge;
      if (e.isStatic) continue;
      const n = (e.series.newest as { stampNs: bigint }).stampNs;
      if (t === undefined || n < t) t = n;
    }
    return t ?? 0n;
  }

  private edgeAt(child: string, t: bigint, what: string): Transform3D {
    const e = this.edges.get(child) as Edge;
    if (e.isStatic) return e.staticTransform;
    try {
      return e.series.sample(t, this.futureToleranceNs, this.cacheDurationNs);
    } catch (err) {
      const te = err as TransformError; // sample throws only TransformError
      throw new TransformError(`${what}: ${te.message}`, te.code);
    }
  }
}

/** Robot (and optionally camera) pose in the global frame at a frame's stamp. */
export interface PoseAt {
  /** base frame in the global frame, planar (x, y m; yaw rad) */
  pose: Pose2D;
  /** camera (image header.frame_id) in the global frame, when that frame is in the tree */
  camera?: Transform3D;
}

/** Anything that can say where the robot was at a stamp; throws TransformError when it cannot. */
export interface PoseSource {
  /** Name of the frame the poses are in (e.g. 'map' or 'odom'). */
  readonly globalFrame: string;
  poseAt(stampNs: bigint, cameraFrame?: string): PoseAt;
}

/**
 * PoseSource backed by a TfBuffer: T_global_base at the stamp. Each frame may be given as a list
 * of candidates (e.g. ['map', 'odom'], ['base_link', 'base_footprint']): the first one TF knows
 * at the first successful lookup is used from then on, so all poses share one frame.
 */
export class TfPoseSource implements PoseSource {
  private readonly globalCandidates: readonly string[];
  private readonly baseCandidates: readonly string[];
  private resolved: { global: string; base: string } | undefined;

  constructor(
    readonly tf: TfBuffer,
    globalFrame: string | readonly string[] = 'map',
    baseFrame: string | readonly string[] = 'base_link',
  ) {
    this.globalCandidates = typeof globalFrame === 'string' ? [globalFrame] : globalFrame;
    this.baseCandidates = typeof baseFrame === 'string' ? [baseFrame] : baseFrame;
    if (this.globalCandidates.length === 0 || this.baseCandidates.length === 0) {
      throw new ParameterError('TfPoseSource needs at least one global and one base frame', 'tf_frames');
    }
  }

  /** The global frame in use (the first candidate until one is resolved). */
  get globalFrame(): string {
    return this.resolved?.global ?? (this.globalCandidates[0] as string);
  }

  /** The base frame in use (the first candidate until one is resolved). */
  get baseFrame(): string {
    return this.resolved?.base ?? (this.baseCandidates[0] as string);
  }

  poseAt(stampNs: bigint, cameraFrame?: string): PoseAt {
    const global = this.resolved?.global ?? this.globalCandidates.find((f) => this.tf.hasFrame(f)) ?? (this.globalCandidates[0] as string);
    const base = this.resolved?.base ?? this.baseCandidates.find((f) => this.tf.hasFrame(f)) ?? (this.baseCandidates[0] as string);
    const pose = transformToPose2D(this.tf.lookupTransform(global, base, stampNs));
    this.resolved ??= { global, base };
    if (cameraFrame === undefined || cameraFrame === '' || !this.tf.hasFrame(cameraFrame)) return { pose };
    try {
      return { pose, camera: this.tf.lookupTransform(global, cameraFrame, stampNs) };
    } catch {
      return { pose }; // the camera pose is optional
    }
  }
}

/** A PoseSource for streams without any pose (every frame at the origin): gating by time/view only. */
export class NullPoseSource implements PoseSource {
  readonly globalFrame: string;
  constructor(globalFrame = 'none') {
    this.globalFrame = globalFrame;
  }
  poseAt(): PoseAt {
    return { pose: { x: 0, y: 0, yaw: 0 } };
  }
}

