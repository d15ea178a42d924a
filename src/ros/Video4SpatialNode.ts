/**
 * The video4spatial_nav node: thin wiring between the graph and the pure core.
 *
 * Subscribes the camera (through CameraIngest: gate → decode/fit → ContextBuffer, with TF poses),
 * `~/goal_object` (std_msgs/String; '' cancels) and the teleop velocity topic; serves
 * `~/navigate_to_object` (video4spatial_nav/action/NavigateToObject); publishes `~/plan`
 * (nav_msgs/Path), `~/object_pose`, `~/imagined` (the chosen imagined video, rgb8 frame by frame),
 * `~/imagined_trajectory`, `~/markers` (markers.ts), `/diagnostics`; and, with `execute`, drives through Nav2's
 * `navigate_through_poses`, replanning after `replan_period_s` of travel or on arrival of a leg,
 * until the newest plan's goal is within `arrival_distance_m` of the robot and its object estimate
 * within `arrival_object_distance_m`.
 * Every per-goal error is caught here and ends that goal with its message; the node keeps running.
 */
import { CancelledError, Video4SpatialError } from '../core/errors.js';
import { angleDiff, normalizeAngle, yawToQuaternion, type Pose2D } from '../core/geometry.js';
import { cameraOf, type ModelManifest, type SamplerDefaults } from '../core/model/manifest.js';
import { horizontalFovRad } from '../core/camera.js';
import { planToObject, type PlanResult } from '../core/planner/planToObject.js';
import { groundBuffer, groundView } from '../core/planner/grounding.js';
import { judgeView, type ExcludedPlace } from '../core/planner/arrival.js';
import { poseFacing } from '../core/planner/locate.js';
import { objectIndex } from '../core/model/manifest.js';
import type { Extractor } from '../core/planner/extractCandidate.js';
import type { SamplingPolicy } from '../core/context/ContextBuffer.js';
import type { ImaginationModel } from '../core/sampler/model.js';
import { sd as sdOf } from '../core/path/box.js';
import { CameraIngest, COMPRESSED_IMAGE_TYPE, IMAGE_TYPE } from './ingestPipeline.js';
import { planMarkers } from './markers.js';
import type { ActionClient, ClientGoalHandle, Graph, GraphShutdownOptions, Publisher, ServerGoalHandle, ShutdownReport } from './Graph.js';
import { NodeParameters, type NodeParameterValues } from './parameters.js';
import { navigateThroughPosesGoal, timeFromNs, type RosDistro } from './messages/index.js';
import { DIAGNOSTIC_LEVEL } from '../core/context/ingestDiagnostics.js';
import type {
  DiagnosticArray,
  DiagnosticStatus,
  Image,
  ImaginedTrajectory,
  MarkerArray,
  NavigateThroughPosesFeedback,
  NavigateThroughPosesGoal,
  NavigateThroughPosesResult,
  NavigateToObjectFeedback,
  NavigateToObjectGoal,
  NavigateToObjectResult,
  Path,
  PoseStamped,
  StringMsg,
  Twist,
} from './messages/types.js';

export const ACTION_TYPE = 'video4spatial_nav/action/NavigateToObject';
export const NAV2_TYPE = 'nav2_msgs/action/NavigateThroughPoses';
/** At most this many plans per goal. */
export const MAX_PLANS_PER_GOAL = 8;

/** How a Nav2 leg ended: `aborted` is Nav2's reason when it aborted it; `reached` when it succeeded. */
export interface LegEnd {
  aborted: string | undefined;
  reached: boolean;
}

/** A Nav2 leg in flight (Video4SpatialNode.startLeg). */
interface Leg {
  /** Resolves when the leg ends (never rejects). */
  done: Promise<LegEnd>;
  /** How it ended, once it has. */
  end: LegEnd | undefined;
  /** Resolves once replan_period_s of the leg have passed, or when it ends. */
  replanDue: Promise<void>;
  /** Set when a newer leg replaced it (Nav2 preempts it): its end is not reported as an abort. */
  superseded: boolean;
  /** Cancels it (when still running) and waits for its end. */
  stop(): Promise<void>;
}

/** How the node plans (default planToObject); the output invariant holds whatever it returns. */
export type Planner = typeof planToObject;

export interface NodeOptions {
  /** Parameters already declared on this graph (e.g. read before loading the model); default: declared here, the sampler's defaults from `manifest.sampler`. */
  params?: NodeParameters;
  nav2Action?: string;
  nav2Distro?: RosDistro;
  /** The planner; default planToObject (tests pass hostile ones to try to break checkPath). */
  planner?: Planner;
  /** Runs path extraction (PlanDeps.extractor), e.g. an ExtractionPool's; default in the planning thread. The caller owns it. */
  extractor?: Extractor;
}

/** Nav2 aborting this many legs of one goal in a row ends the goal (each abort is retried by a replan). */
export const MAX_NAV2_ABORTS_IN_A_ROW = 3;
/**
 * Where a goal from memory looks from after 0, 1, 2 … Nav2 aborts in a row: the chosen candidate's
 * side, then the side of the keyframe that saw the object, then that keyframe's own place (the
 * robot stood there, so Nav2 found a way to it once).
 */
const LOOK_FROM_AFTER_ABORTS = ['candidate', 'viewpoint', 'at_viewpoint'] as const;
/** How long a leg waits for the Nav2 action server before the goal is aborted ('nav2_absent'), ms. */
export const NAV2_WAIT_MS = 2000;
/** Poll period while a goal waits (teleop, stale camera), ms. */
const WAIT_POLL_MS = 50;
/** The camera check waits at most this long for ingest to process the frames already received, ms. */
const VIEW_IDLE_WAIT_MS = 500;
/**
 * Looking at a goal (the camera check): at most this many turns to centre the object, steps
 * closer, and turns in place to look for it (each a Nav2 goal at the robot's position).
 */
export const MAX_LOOK_TURNS = 4;
export const MAX_LOOK_APPROACHES = 2;
export const MAX_LOOK_BACK_OFFS = 2;
/** Nearer memory's object estimate than this (m), the camera check steps back before it searches or steps closer. */
export const MIN_LOOK_M = 0.9;
/** Turns of one camera field of view each: with a 60° camera, 5 cover all around. */
export const MAX_LOOK_SEARCH_TURNS = 5;
/** Longest piece of a user-given string quoted in a reason or a log line. */
const QUOTE_MAX = 80;

/** `s` quoted for a message: at most QUOTE_MAX characters, with its full length when cut. */
export function quoteText(s: string): string {
  const chars = [...s];
  return chars.length <= QUOTE_MAX ? `'${s}'` : `'${chars.slice(0, QUOTE_MAX).join('')}…' (${chars.length} characters)`;
}

function stampIsZero(h: { stamp: { sec: number; nanosec: number } }): boolean {
  return h.stamp.sec === 0 && h.stamp.nanosec === 0;
}

/** Finite, and still finite as a float32 (scores, boxes and sd are float32 fields: 1e308 would become Infinity). */
function finite32(x: number): boolean {
  return Number.isFinite(Math.fround(x));
}

function isFinitePose(p: Pose2D): boolean {
  return Number.isFinite(p.x) && Number.isFinite(p.y) && Number.isFinite(p.yaw);
}

/** On arrival the node still drives the final leg when the goal is farther than this (m) … */
export const FINAL_LEG_MIN_M = 0.15;
/** … or the robot's heading differs from the goal's (which faces the object) by more than this (rad, 15°). */
export const FINAL_LEG_MIN_YAW_RAD = (15 * Math.PI) / 180;

/**
 * What Nav2 is sent for a leg: the plan's goal pose only (the last pose of ~/plan: where the
 * imagined video ends, facing the object), never the poses before it. Why (NAV2_GOAL_POSE_ONLY):
 * those poses are the straight line from the robot to the goal, spaced by waypoint_spacing_m for
 * ~/plan and the action's feedback, not imagined waypoints; NavigateThroughPoses would make the
 * robot pass through each of them, through a wall if the line crosses one, while Nav2 plans
 * around obstacles with its own costmap. DESIGN §4b: the goal pose facing the object matters
 * most, intermediate imagined waypoints are advisory.
 */
export const NAV2_GOAL_POSE_ONLY =
  "Nav2 is sent the plan's goal pose only: the poses before it on ~/plan are a straight line spaced by waypoint_spacing_m, not imagined waypoints, and Nav2 plans around obstacles with its own costmap";

/** The poses of a NavigateThroughPoses goal for `path` (see NAV2_GOAL_POSE_ONLY). */
export function nav2GoalPoses(path: Path): PoseStamped[] {
  return path.poses.slice(-1);
}

/**
 * Checks the invariant on everything we publish as a path (~/plan, the Nav2 goal, the action's
 * feedback and result): finite, framed, stamped, within `maxDistanceM` of a finite origin.
 */
export function checkPath(path: Path, origin: Pose2D, maxDistanceM: number): string | undefined {
  if (!path.header.frame_id) return 'path without frame_id';
  if (stampIsZero(path.header)) return 'path without stamp (the clock reads 0: use_sim_time without /clock?)';
  if (!isFinitePose(origin)) return `origin is not finite (${origin.x}, ${origin.y}, ${origin.yaw})`;
  if (!(Number.isFinite(maxDistanceM) && maxDistanceM > 0)) return `max_plan_distance_m is ${maxDistanceM}`;
  for (const [i, p] of path.poses.entries()) {
    const q = p.pose.orientation;
    const v = [p.pose.position.x, p.pose.position.y, p.pose.position.z, q.x, q.y, q.z, q.w];
    if (!v.every(Number.isFinite)) return `pose ${i} is not finite (${v.join(', ')})`;
    if (Math.abs(Math.hypot(q.x, q.y, q.z, q.w) - 1) > 1e-3) return `pose ${i} has a non-unit quaternion (${q.x}, ${q.y}, ${q.z}, ${q.w})`;
    if (!p.header.frame_id) return `pose ${i} has no frame_id`;
    if (p.header.frame_id !== path.header.frame_id) return `pose ${i} is in frame '${p.header.frame_id}', the path in '${path.header.frame_id}'`;
    if (stampIsZero(p.header)) return `pose ${i} has no stamp`;
    const d = Math.hypot(p.pose.position.x - origin.x, p.pose.position.y - origin.y);
    if (d > maxDistanceM + 1e-6) return `pose ${i} is ${d.toFixed(2)} m away, beyond max_plan_distance_m ${maxDistanceM}`;
  }
  return undefined;
}

/** Resamples a polyline of poses at `spacing` metres (keeps the last pose and its heading). */
export function resamplePoses(poses: readonly Pose2D[], spacing: number): Pose2D[] {
  if (poses.length <= 1) return poses.slice();
  const out: Pose2D[] = [];
  let acc = 0;
  for (let i = 1; i < poses.length; i++) {
    const a = poses[i - 1] as Pose2D;
    const b = poses[i] as Pose2D;
    const L = Math.hypot(b.x - a.x, b.y - a.y);
    let s = spacing - acc;
    while (s < L) {
      const t = s / L;
      out.push({ x: a.x + (b.x - a.x) * t, y: a.y + (b.y - a.y) * t, yaw: Math.atan2(b.y - a.y, b.x - a.x) });
      s += spacing;
    }
    acc = (acc + L) % spacing;
  }
  out.push(poses[poses.length - 1] as Pose2D);
  return out;
}

/**
 * The start-up line naming the sampler the node runs, and which values differ from the model's
 * own (`manifest.sampler`: a params file or `-p` set them), e.g. `sampler: steps 8, shift 1
 * (the model's: 3), guidance 3 at t >= 0.7, candidates 4`.
 */
export function samplerLine(v: Readonly<NodeParameterValues>, model: SamplerDefaults): string {
  const mark = (value: number, own: number) => (own === value ? `${value}` : `${value} (the model's: ${own})`);
  const ownMinT = model.guidance_min_t ?? 0;
  let interval = '';
  if (v.guidance_min_t > 0) interval = ` at t >= ${mark(v.guidance_min_t, ownMinT)}`;
  else if (ownMinT > 0) interval = ` at every step (the model's: t >= ${ownMinT})`;
  return `sampler: steps ${mark(v.steps, model.steps)}, shift ${mark(v.shift, model.shift)}, guidance ${mark(v.guidance_scale, model.guidance_scale)}${interval}, candidates ${mark(v.candidates, model.candidates)}`;
}

/** Clamps a pose to lie within `maxDistanceM` of `origin` (same heading). */
export function clampPose(p: Pose2D, origin: Pose2D, maxDistanceM: number): Pose2D {
  const d = Math.hypot(p.x - origin.x, p.y - origin.y);
  if (d <= maxDistanceM) return p;
  const s = maxDistanceM / d;
  return { x: origin.x + (p.x - origin.x) * s, y: origin.y + (p.y - origin.y) * s, yaw: p.yaw };
}

export class Video4SpatialNode {
  readonly params: NodeParameters;
  readonly ingest: CameraIngest;
  private readonly planPub: Publisher<Path>;
  private readonly objectPub: Publisher<PoseStamped>;
  private readonly imaginedPub: Publisher<Image>;
  private readonly trajectoryPub: Publisher<ImaginedTrajectory>;
  private readonly markersPub: Publisher<MarkerArray>;
  private readonly diagPub: Publisher<DiagnosticArray>;
  private readonly nav2: ActionClient<NavigateThroughPosesGoal, NavigateThroughPosesFeedback, NavigateThroughPosesResult>;
  private readonly self: ActionClient<NavigateToObjectGoal, NavigateToObjectFeedback, NavigateToObjectResult>;
  private readonly modelId: string;
  private readonly planner: Planner;
  private teleopUntilNs = 0n;
  private topicGoal: ClientGoalHandle<NavigateToObjectResult> | undefined;
  private shutdownPromise: Promise<ShutdownReport> | undefined;
  /** Goals and plans since start-up; rejections and aborts by code (see docs/reliability.md). */
  readonly stats = {
    goals: 0,
    rejected: 0,
    succeeded: 0,
    aborted: 0,
    canceled: 0,
    plans: 0,
    rejectedByReason: {} as Record<string, number>,
    abortedByReason: {} as Record<string, number>,
    /** Outputs the invariant refused (a plan, an object pose, candidate poses), by what. */
    refusedOutputs: {} as Record<string, number>,
    /** Goals the camera check refused (false arrivals caught; each place excluded and replanned). */
    falseArrivalsCaught: 0,
  };

  constructor(
    readonly graph: Graph,
    readonly model: ImaginationModel,
    readonly manifest: ModelManifest,
    readonly options: NodeOptions = {},
  ) {
    this.params = options.params ?? NodeParameters.declare(graph.parameters, graph.logger, manifest.sampler);
    const p = this.params.values;
    this.modelId = `${manifest.name}:${manifest.files.denoiser.sha256.slice(0, 12)}`;
    this.planner = options.planner ?? planToObject;
    const compressed = p.compressed;
    this.ingest = new CameraIngest(
      cameraOf(manifest),
      {
        imageTopic: compressed ? `${p.image_topic}/compressed` : p.image_topic,
        imageType: compressed ? COMPRESSED_IMAGE_TYPE : IMAGE_TYPE,
        cameraInfoTopic: p.camera_info_topic,
        globalFrame: p.global_frame,
        baseFrame: p.robot_frame,
        maxFrames: p.buffer_max_frames,
        maxBytes: p.buffer_max_bytes,
        gate: { minTranslationM: p.keyframe_min_translation_m, minRotationRad: p.keyframe_min_rotation_rad, maxIntervalS: p.keyframe_max_interval_s },
        maxStampAheadS: p.max_stamp_ahead_s,
      },
      { warn: (m) => graph.logger.warn(m) },
      () => graph.clock.now(),
    );
    this.ingest.attach({
      subscribe: (topic, type, qos, cb) => {
        const s = graph.createSubscription(topic, type, qos, cb);
        return () => s.unsubscribe();
      },
    });
    this.planPub = graph.createPublisher<Path>('~/plan', 'nav_msgs/msg/Path', 'default');
    this.objectPub = graph.createPublisher<PoseStamped>('~/object_pose', 'geometry_msgs/msg/PoseStamped', 'default');
    this.imaginedPub = graph.createPublisher<Image>('~/imagined', 'sensor_msgs/msg/Image', 'default');
    this.trajectoryPub = graph.createPublisher<ImaginedTrajectory>('~/imagined_trajectory', 'video4spatial_nav/msg/ImaginedTrajectory', 'default');
    this.markersPub = graph.createPublisher<MarkerArray>('~/markers', 'visualization_msgs/msg/MarkerArray', 'default');
    this.diagPub = graph.createPublisher<DiagnosticArray>('/diagnostics', 'diagnostic_msgs/msg/DiagnosticArray', 'default');
    this.nav2 = graph.createActionClient(options.nav2Action ?? p.nav2_action, NAV2_TYPE);
    graph.createActionServer<NavigateToObjectGoal, NavigateToObjectFeedback, NavigateToObjectResult>('~/navigate_to_object', ACTION_TYPE, {
      onGoal: (g) => this.decide(g),
      execute: (h) => this.execute(h),
    });
    this.self = graph.createActionClient('~/navigate_to_object', ACTION_TYPE);
    graph.createSubscription<StringMsg>('~/goal_object', 'std_msgs/msg/String', 'default', (m) => {
      this.onGoalTopic(m.data).catch((e: unknown) => graph.logger.error(`goal_object ${quoteText(m.data)}: ${e instanceof Error ? e.message : String(e)}`));
    });
    graph.createSubscription<Twist>(p.teleop_cmd_vel_topic, 'geometry_msgs/msg/Twist', 'default', (t) => {
      if (Math.abs(t.linear.x) + Math.abs(t.angular.z) > 1e-3) this.teleopUntilNs = graph.clock.now() + BigInt(Math.round(this.params.values.teleop_pause_s * 1e9));
    });
    graph.createTimer(1.0, () => this.publishDiagnostics());
    graph.logger.info(`video4spatial_nav ready: model ${manifest.name} (K=${manifest.context_frames}, N=${manifest.target_frames}, vocabulary: ${manifest.vocabulary.slice(1).join(', ')})`);
    graph.logger.info(samplerLine(this.params.values, manifest.sampler));
  }

  /**
   * Accept or reject a goal, with a reason that tells the operator what to do. Codes (counted in
   * stats.rejectedByReason): empty_object_name, unknown_object, bad_time_budget, no_context,
   * camera_stale (execute goals only: a plan-only goal may plan from memory).
   */
  decide(g: NavigateToObjectGoal): { accept: true } | { accept: false; reason: string } {
    this.stats.goals++;
    const name = g.object_name.trim().toLowerCase();
    const reject = (code: string, reason: string) => {
      this.stats.rejected++;
      this.stats.rejectedByReason[code] = (this.stats.rejectedByReason[code] ?? 0) + 1;
      this.graph.logger.warn(`goal rejected (${code}): ${reason}`);
      return { accept: false as const, reason };
    };
    const known = this.manifest.vocabulary.slice(1);
    if (name.length === 0) return reject('empty_object_name', `empty object_name (the model knows: ${known.join(', ')})`);
    if (!known.includes(name)) return reject('unknown_object', `unknown object ${quoteText(g.object_name)} (the model knows: ${known.join(', ')})`);
    if (!(Number.isFinite(g.time_budget_s) && g.time_budget_s >= 0)) return reject('bad_time_budget', `time_budget_s must be >= 0, got ${g.time_budget_s}`);
    if (this.ingest.buffer.size === 0) return reject('no_context', `no context yet: no camera keyframe received on ${this.graph.resolveName(this.ingest.params.imageTopic)}`);
    const stale = g.execute ? this.cameraStale() : undefined;
    if (stale) return reject('camera_stale', `${stale}; not executing with a stale camera (a plan-only goal, execute=false, is accepted)`);
    return { accept: true };
  }

  /**
   * Seconds since the newest usable camera frame (by its stamp, on the graph clock), or
   * undefined before any.
   */
  cameraAgeS(): number | undefined {
    const last = this.ingest.pipeline.counters.lastUsableStampNs;
    return last === undefined ? undefined : Number(this.graph.clock.now() - last) / 1e9;
  }

  /** Why the camera counts as stale (older than camera_stale_s), or undefined when it is fresh. */
  cameraStale(): string | undefined {
    const age = this.cameraAgeS();
    const limit = this.params.values.camera_stale_s;
    if (age !== undefined && age <= limit) return undefined;
    const c = this.ingest.pipeline.counters;
    const topic = this.graph.resolveName(this.ingest.params.imageTopic);
    const since = age === undefined ? 'no usable camera frame yet' : `no usable camera frame for ${age.toFixed(2)} s`;
    return `camera stale: ${since} on ${topic} (camera_stale_s ${limit}; ${c.received} received, last rejection: ${c.lastRejection || 'none'})`;
  }

  private async onGoalTopic(text: string): Promise<void> {
    if (this.topicGoal) await this.topicGoal.cancel();
    this.topicGoal = undefined;
    if (text.trim() === '') return; // '' cancels
    const h = await this.self.sendGoal({ object_name: text, execute: this.params.values.execute_default, time_budget_s: 0 });
    if (!h.accepted) this.graph.logger.warn(`goal_object ${quoteText(text)} rejected: ${h.rejectReason ?? 'no reason'}`);
    else this.topicGoal = h;
  }

  private pathOrigin(plan: PlanResult): Pose2D {
    return this.robotPose() ?? plan.startPose;
  }

  private robotPose(): Pose2D | undefined {
    const e = this.ingest.buffer.entries();
    return e[e.length - 1]?.pose;
  }

  private header(): { stamp: ReturnType<typeof timeFromNs>; frame_id: string } {
    return { stamp: timeFromNs(this.graph.clock.now()), frame_id: this.params.values.global_frame };
  }

  private poseStamped(p: Pose2D): PoseStamped {
    return { header: this.header(), pose: { position: { x: p.x, y: p.y, z: 0 }, orientation: yawToQuaternion(p.yaw) } };
  }

  /**
   * The path to publish and send: from the robot's newest keyframe pose (the node's own
   * knowledge; the planner's startPose only before any), resampled, clamped to
   * max_plan_distance_m, last pose facing the object.
   */
  pathOf(plan: PlanResult, start: Pose2D = this.pathOrigin(plan)): Path {
    const v = this.params.values;
    const goal = clampPose(plan.goalPose, start, v.max_plan_distance_m);
    const pts = resamplePoses([start, goal], v.waypoint_spacing_m).map((q) => clampPose(q, start, v.max_plan_distance_m));
    if (pts.length > 0) pts[pts.length - 1] = goal;
    return { header: this.header(), poses: pts.map((q) => this.poseStamped(q)) };
  }

  private refuse(what: string, why: string): void {
    this.stats.refusedOutputs[what] = (this.stats.refusedOutputs[what] ?? 0) + 1;
    this.graph.logger.warn(`not publishing ${what}: ${why}`);
  }

  /**
   * The outputs of a plan, checked: the path passes checkPath (else Video4SpatialError
   * 'unsafe_path', nothing is published and the goal ends with the reason); an object estimate
   * that is not finite is dropped (the plan stays, without an object pose).
   */
  checkedOutputs(plan: PlanResult): { path: Path; objectPose: PoseStamped | undefined } {
    const origin = this.pathOrigin(plan);
    const path = this.pathOf(plan, origin);
    const bad = checkPath(path, origin, this.params.values.max_plan_distance_m);
    if (bad) throw new Video4SpatialError(`refusing to publish an unsafe plan: ${bad}`, 'unsafe_path');
    let objectPose: PoseStamped | undefined;
    if (plan.objectXY) {
      if (Number.isFinite(plan.objectXY.x) && Number.isFinite(plan.objectXY.y)) objectPose = this.poseStamped({ x: plan.objectXY.x, y: plan.objectXY.y, yaw: 0 });
      else this.refuse('object_pose', `the object estimate is not finite (${plan.objectXY.x}, ${plan.objectXY.y})`);
    }
    return { path, objectPose };
  }

  private publishPlan(plan: PlanResult, path: Path, objectPose: PoseStamped | undefined): void {
    const v = this.params.values;
    this.planPub.publish(path);
    if (objectPose) this.objectPub.publish(objectPose);
    // the markers show only checked values: the path's goal, the checked object pose, finite imagined poses
    this.markersPub.publish(
      planMarkers({
        header: this.header(),
        objectName: plan.object,
        goal: path.poses.at(-1),
        object: objectPose,
        candidates: plan.candidates.map((c) => (c.goal.poses ?? []).filter(isFinitePose).map((q) => this.poseStamped(q))),
        chosen: plan.chosen,
      }),
    );
    if (!v.publish_imagined) return;
    const s = this.model.spec;
    const frameBytes = s.width * s.height * 3;
    const M = plan.candidates.length;
    if (!(Number.isInteger(plan.chosen) && plan.chosen >= 0 && plan.chosen < M)) {
      this.refuse('imagined', `the chosen candidate ${plan.chosen} is not one of the ${M} candidates`);
      return;
    }
    const wrong = plan.candidates.flatMap((c, m) => (c.frames.length !== s.targetFrames || c.frames.some((f) => f.length !== frameBytes) ? [m] : []));
    if (wrong.length > 0) {
      this.refuse('imagined', `candidate(s) ${wrong.join(', ')} do not hold ${s.targetFrames} frames of ${s.width}×${s.height} rgb8`);
      return;
    }
    const chosen = plan.candidates[plan.chosen] as PlanResult['candidates'][number];
    for (const f of chosen.frames) {
      this.imaginedPub.publish({ header: { stamp: timeFromNs(this.graph.clock.now()), frame_id: 'imagined' }, height: s.height, width: s.width, encoding: 'rgb8', is_bigendian: 0, step: s.width * 3, data: f });
    }
    const frames = new Uint8Array(M * s.targetFrames * frameBytes);
    let o = 0;
    for (const c of plan.candidates) for (const f of c.frames) {
      frames.set(f, o);
      o += f.length;
    }
    const boxes: number[] = [];
    const sds: number[] = [];
    for (const c of plan.candidates) {
      const b = c.goal.boxes[c.goal.boxes.length - 1];
      const ok = b !== undefined && [b.x0, b.y0, b.x1, b.y1].every(finite32);
      boxes.push(...(ok ? [b.x0, b.y0, b.x1, b.y1] : [-1, -1, -1, -1]));
      const sd = ok ? sdOf(b, s.width) : -1;
      sds.push(finite32(sd) ? sd : -1);
    }
    // the score the choice was made on, so the published ranking agrees with `chosen`
    const scores = plan.choiceScores ?? plan.candidates.map((c) => c.score.score);
    if (!scores.every(finite32)) this.refuse('candidate_scores', `scores that are not finite float32 (${scores.join(', ')}) are written as -1`);
    let dropped = 0;
    const candidatePaths = plan.candidates.map((c) => {
      const poses = c.goal.poses ?? [];
      const finite = poses.filter(isFinitePose);
      dropped += poses.length - finite.length;
      return { header: this.header(), poses: finite.map((q) => this.poseStamped(q)) };
    });
    if (dropped > 0) this.refuse('candidate_poses', `${dropped} non-finite imagined pose(s) left out of candidate_paths`);
    const t = plan.timings;
    this.trajectoryPub.publish({
      header: this.header(),
      object_name: plan.object,
      num_candidates: M,
      chosen: plan.chosen,
      scores: scores.map((x) => (finite32(x) ? x : -1)),
      frames_per_candidate: s.targetFrames,
      width: s.width,
      height: s.height,
      encoding: 'rgb8',
      frames,
      candidate_paths: candidatePaths,
      boxes,
      sd: sds,
      timings: Object.entries(t)
        .filter(([, val]) => typeof val === 'number' && Number.isFinite(val))
        .map(([key, val]) => ({ key, value: (val as number).toFixed(1) })),
    });
  }

  private emptyResult(message: string, plans: number, planTimeS: number, path?: Path, object?: PoseStamped, falseArrivals = 0): NavigateToObjectResult {
    return {
      verified_by: '',
      false_arrivals: falseArrivals,
      success: false,
      message,
      path: path ?? { header: this.header(), poses: [] },
      // no estimate yet: an empty frame_id marks the pose as unknown (never NaN)
      object_pose: object ?? { ...this.poseStamped({ x: 0, y: 0, yaw: 0 }), header: { stamp: timeFromNs(this.graph.clock.now()), frame_id: '' } },
      plan_time_s: planTimeS,
      plans,
    };
  }

  /**
   * Runs one goal: plan, publish, (execute) drive a leg through Nav2, replan, until arrival, the
   * plan limit, the time budget, a cancel/preempt, or an error. Every ending is counted in stats
   * (aborts by code) and carries the last checked plan and object estimate in its result.
   */
  async execute(h: ServerGoalHandle<NavigateToObjectGoal, NavigateToObjectFeedback, NavigateToObjectResult>): Promise<void> {
    const v = () => this.params.values;
    const clock = this.graph.clock;
    const t0 = clock.now();
    const budgetNs = h.goal.time_budget_s > 0 ? BigInt(Math.round(h.goal.time_budget_s * 1e9)) : undefined;
    let plans = 0;
    let planTimeS = 0;
    let path: Path | undefined;
    let objectPose: PoseStamped | undefined;
    let nav2AbortsInARow = 0;
    // the goal of the last leg Nav2 reached (undefined when the last leg was cut short or failed)
    let lastReached: Pose2D | undefined;
    // plan_while_driving: the leg still driving while the next plan is made, and its goal
    let running: Leg | undefined;
    let runningGoal: Pose2D | undefined;
    const stopRunning = async () => {
      if (running && !running.end) await running.stop();
      running = undefined;
    };
    let cameraWaitSinceNs: bigint | undefined;
    // with a grounder: how many keyframes show the object, and the places found wrong so far
    const name = h.goal.object_name.trim().toLowerCase();
    const objIdx = objectIndex(this.manifest, name);
    const camera = cameraOf(this.manifest);
    const hasGrounder = this.model.spec.grounding !== undefined && this.model.ground !== undefined;
    const stopIfCancelled = () => {
      if (h.isCancelRequested()) throw new CancelledError(`goal ${h.stopReason ?? 'canceled'}`);
    };
    let showing = 0;
    let lookedAround = false;
    let falseArrivals = 0;
    const excluded: ExcludedPlace[] = [];
    const feedback = (stage: string, step = 0) =>
      h.publishFeedback({ stage, step, steps: v().steps, current_plan: path ?? { header: this.header(), poses: [] }, distance_remaining: path ? this.remaining(path) : 0, keyframes_showing: showing });
    const result = (message: string) => this.emptyResult(message, plans, planTimeS, path, objectPose, falseArrivals);
    const abort = async (code: string, message: string, reason = message): Promise<void> => {
      // a leg still driving stops before the goal's end is reported
      await stopRunning();
      h.abort(result(message), reason);
      this.stats.aborted++;
      this.stats.abortedByReason[code] = (this.stats.abortedByReason[code] ?? 0) + 1;
    };
    const succeed = (message: string, verifiedBy: 'camera' | 'plans_agree' | 'plan_only') => {
      h.succeed({ ...result(message), success: true, verified_by: verifiedBy });
      this.stats.succeeded++;
    };
    const sleep = () => new Promise((r) => setTimeout(r, WAIT_POLL_MS));
    // a leg's end: remembered when Nav2 reached its goal; an abort is retried by a new plan from
    // where the robot is, up to MAX_NAV2_ABORTS_IN_A_ROW in a row (then the goal ends: true)
    const legEnded = async (end: LegEnd, goal: Pose2D): Promise<boolean> => {
      lastReached = end.reached ? goal : undefined;
      if (end.aborted === undefined) {
        nav2AbortsInARow = 0;
        return false;
      }
      nav2AbortsInARow++;
      feedback('nav2_aborted');
      if (nav2AbortsInARow < MAX_NAV2_ABORTS_IN_A_ROW) return false;
      await abort('nav2_aborted', `Nav2 aborted ${nav2AbortsInARow} legs in a row (last: ${end.aborted}) after ${plans} plan(s); the last plan is kept in this result and on ~/plan`);
      return true;
    };
    try {
      for (;;) {
        if (h.isCancelRequested()) throw new CancelledError(`goal ${h.stopReason ?? 'canceled'}`);
        if (budgetNs !== undefined && clock.now() - t0 > budgetNs) {
          await abort('time_budget', `time budget of ${h.goal.time_budget_s} s spent after ${plans} plan(s)`, 'time budget');
          return;
        }
        if (this.teleopUntilNs > clock.now()) {
          feedback('paused_by_teleop');
          await sleep();
          continue;
        }
        // an executing goal never plans from a stale camera: it waits up to camera_wait_s
        const stale = h.goal.execute ? this.cameraStale() : undefined;
        if (stale !== undefined) {
          await stopRunning();
          cameraWaitSinceNs ??= clock.now();
          const waitedS = Number(clock.now() - cameraWaitSinceNs) / 1e9;
          if (waitedS >= v().camera_wait_s) {
            await abort('camera_stale', `${stale}; waited ${waitedS.toFixed(1)} s for it (camera_wait_s ${v().camera_wait_s}) after ${plans} plan(s)`, 'camera stale');
            return;
          }
          if (waitedS === 0) this.graph.logger.warn(`goal '${h.goal.object_name}' waits for the camera: ${stale}`);
          feedback('waiting_for_camera');
          await sleep();
          continue;
        }
        cameraWaitSinceNs = undefined;
        // the grounder is used when name-aware context or the camera check is on
        const grounded = hasGrounder && (v().name_aware_context || v().verify_arrival || v().memory_goal);
        if (grounded) {
          // look where memory says it is: which keyframes show the object (each grounded once per name)
          feedback('grounding');
          const g = await groundBuffer(this.model, this.ingest.buffer, this.modelId, objIdx, camera);
          stopIfCancelled();
          showing = g.filter((k) => k.shows).length;
          if (showing === 0) {
            if (v().look_around_when_not_seen && !lookedAround && h.goal.execute) {
              // with the parameter: turn in place all around (new keyframes come in) and look again
              lookedAround = true;
              this.graph.logger.info(`goal '${name}': no keyframe shows it; turning in place to look before giving up`);
              feedback('searching');
              await stopRunning();
              await this.turnAround(h.signal, stopIfCancelled);
              continue;
            }
            const held = await this.namesInMemory();
            stopIfCancelled();
            const looked = lookedAround ? ', also after turning in place all around' : '';
            await abort('not_seen', `the ${name} is not in memory: the grounder sees it in none of the ${g.length} keyframes${looked} (it sees: ${held.length > 0 ? held.join(', ') : 'none of the known objects'}); drive where it may be, or ask for another object`, 'not seen');
            return;
          }
        }
        feedback('planning');
        const tp = performance.now();
        const policy = v().context_policy as SamplingPolicy;
        const plan = await this.planOnce(
          { model: this.model, modelId: this.modelId, camera: cameraOf(this.manifest), frameDtS: this.manifest.frame_dt_s, buffer: this.ingest.buffer, ...(this.options.extractor ? { extractor: this.options.extractor } : {}) },
          { object: h.goal.object_name, candidates: v().candidates, steps: v().steps, shift: v().shift, guidance: v().guidance_scale, guidanceMinT: v().guidance_min_t, seed: v().seed + plans, policy, contextFrames: v().context_frames, nameAware: v().name_aware_context, memoryGoal: v().memory_goal, lookDistanceM: v().look_distance_m, lookFrom: LOOK_FROM_AFTER_ABORTS[Math.min(nav2AbortsInARow, LOOK_FROM_AFTER_ABORTS.length - 1)], excluded },
          { onStep: (s) => feedback('denoising', s), isCancelled: () => h.isCancelRequested(), onStage: (s) => feedback(s) },
        );
        planTimeS += (performance.now() - tp) / 1000;
        plans++;
        this.stats.plans++;
        if (running?.end && runningGoal) {
          // the leg ended while this plan was made
          const end = running.end;
          running = undefined;
          if (await legEnded(end, runningGoal)) return;
        }
        // checked before anything is published or kept: an unsafe plan ends the goal, the last safe one stays
        const out = this.checkedOutputs(plan);
        path = out.path;
        objectPose = out.objectPose;
        this.publishPlan(plan, path, objectPose);
        const here = this.pathOrigin(plan);
        const dGoal = Math.hypot(plan.goalPose.x - here.x, plan.goalPose.y - here.y);
        const ch = plan.candidates[plan.chosen];
        this.graph.logger.info(
          `plan ${plans} for '${plan.object}': goal (${plan.goalPose.x.toFixed(2)}, ${plan.goalPose.y.toFixed(2)}) ${dGoal.toFixed(2)} m away from ${plan.grounding?.goalFrom === 'memory' ? 'memory' : (ch?.goal.source ?? '?')}, ` +
            `object ${objectPose ? `(${objectPose.pose.position.x.toFixed(2)}, ${objectPose.pose.position.y.toFixed(2)})` : 'not seen'}, score ${ch?.score.score.toFixed(2) ?? '?'}, ${(plan.timings.totalMs / 1000).toFixed(2)} s`,
        );
        if (plan.revisits && h.goal.execute) {
          // every candidate leads where a goal was already found wrong: imagine again (next seed)
          this.graph.logger.warn(`goal '${name}': plan ${plans} leads only to places found wrong before; planning again`);
          feedback('retrying');
          if (plans >= MAX_PLANS_PER_GOAL) {
            await abort('plans_exhausted', `did not arrive after ${plans} plans: ${falseArrivals} goal(s) failed the camera check and the later plans led back there`, 'plans exhausted');
            return;
          }
          continue;
        }
        if (!h.goal.execute) {
          succeed(`planned: goal ${dGoal.toFixed(2)} m away`, 'plan_only');
          return;
        }
        // arrived? With the camera check (a grounder and verify_arrival): the newest plan puts the
        // goal here, the robot drives onto it, and the live view must show the object centred.
        // Without it: a second plan puts the goal here AND the imagined video shows the object
        // within reach (an object imagined far away means the way is not over, whatever the goal).
        const verify = grounded && v().verify_arrival;
        const dObject = objectPose ? Math.hypot(objectPose.pose.position.x - here.x, objectPose.pose.position.y - here.y) : Infinity;
        // (with the check, a goal Nav2 has just reached and the new plan keeps also counts: Nav2 may
        // stop short of a goal it cannot reach exactly)
        const kept = lastReached !== undefined && Math.hypot(plan.goalPose.x - lastReached.x, plan.goalPose.y - lastReached.y) < v().arrival_distance_m;
        const arrived = verify ? dGoal < v().arrival_distance_m || kept : plans > 1 && dGoal < v().arrival_distance_m && dObject <= v().arrival_object_distance_m;
        if (arrived) {
          // the last leg: drive onto the goal pose, which faces the object, unless already there (it
          // preempts a leg still driving; without one, that leg is stopped)
          let note = '';
          if (dGoal > FINAL_LEG_MIN_M || Math.abs(angleDiff(plan.goalPose.yaw, here.yaw)) > FINAL_LEG_MIN_YAW_RAD) {
            // a leg still driving is preempted by this one; if this one cannot be sent, the catch
            // below stops that leg
            if (running) running.superseded = true;
            feedback('navigating');
            const leg = await this.drive(path, h.signal, false);
            running = undefined;
            if (h.isCancelRequested()) throw new CancelledError(`goal ${h.stopReason ?? 'canceled'}`);
            if (leg.aborted !== undefined) note = `; Nav2 aborted the final leg (${leg.aborted})`;
          }
          await stopRunning();
          if (!verify) {
            succeed(`arrived: the newest plan's goal is ${dGoal.toFixed(2)} m away after ${plans} plans${note}`, 'plans_agree');
            return;
          }
          feedback('verifying');
          const check = await this.lookAtGoal(objIdx, name, plan.grounding?.goalFrom === 'memory' ? plan.objectXY : undefined, h.signal, feedback, stopIfCancelled);
          note += check.note;
          if (check.verified) {
            succeed(`arrived: ${check.reason}, after ${plans} plan(s)${falseArrivals > 0 ? ` and ${falseArrivals} false arrival(s) caught` : ''}${note}`, 'camera');
            return;
          }
          // a false arrival caught: remember where, and do not choose it again
          falseArrivals++;
          this.stats.falseArrivalsCaught++;
          const at = plan.objectXY ?? plan.goalPose;
          excluded.push({ x: at.x, y: at.y, radiusM: v().exclusion_radius_m });
          this.graph.logger.warn(`goal '${name}': not there at plan ${plans}: ${check.reason}; excluding ${v().exclusion_radius_m} m around (${at.x.toFixed(2)}, ${at.y.toFixed(2)}) and planning again`);
          feedback('retrying');
          if (plans >= MAX_PLANS_PER_GOAL) {
            await abort('plans_exhausted', `did not arrive after ${plans} plans: ${falseArrivals} goal(s) failed the camera check (last: ${check.reason})`, 'plans exhausted');
            return;
          }
          continue;
        }
        if (plans >= MAX_PLANS_PER_GOAL) {
          await abort('plans_exhausted', `did not arrive after ${plans} plans (last goal ${dGoal.toFixed(2)} m away)`, 'plans exhausted');
          return;
        }
        feedback('navigating');
        if (!v().plan_while_driving) {
          if (await legEnded(await this.drive(path, h.signal), plan.goalPose)) return;
          continue;
        }
        // plan while driving: the leg goes on while the next plan is made, and the next leg preempts it
        const prev = running;
        if (prev) {
          prev.superseded = true;
          // it drove until now without Nav2 aborting it
          if (!prev.end) nav2AbortsInARow = 0;
        }
        running = await this.startLeg(path, h.signal, false);
        runningGoal = plan.goalPose;
        lastReached = undefined;
        await running.replanDue;
        if (running.end) {
          const end = running.end;
          running = undefined;
          if (await legEnded(end, plan.goalPose)) return;
        }
      }
    } catch (e) {
      // a leg still driving stops before the goal's end is reported
      await stopRunning();
      if (e instanceof CancelledError || h.isCancelRequested()) {
        h.canceled(result(`canceled (${h.stopReason ?? 'cancel'}) after ${plans} plan(s)`), h.stopReason ?? 'cancel');
        this.stats.canceled++;
        return;
      }
      const msg = e instanceof Error ? e.message : String(e);
      const code = e instanceof Video4SpatialError ? e.code : 'internal_error';
      this.graph.logger.error(`goal ${quoteText(h.goal.object_name)} aborted (${code}): ${msg}`);
      await abort(code, msg);
      if (!(e instanceof Video4SpatialError)) this.graph.logger.error(e instanceof Error && e.stack ? e.stack : msg);
    } finally {
      // however the goal ended, a leg still driving stops with it
      if (running && !running.end) await running.stop();
    }
  }

  /**
   * The arrival check (arrival.ts judgeView on the camera's newest view, the ingest latestView):
   * verified when the grounder sees the object centred with its base within reach; otherwise the
   * node turns toward it, steps closer, or (look_around) turns in place one field of view at a time
   * to look for it, and looks again, within MAX_LOOK_* moves. `note` tells of Nav2 refusing a move.
   */
  private async lookAtGoal(
    objIdx: number,
    name: string,
    memory: { x: number; y: number } | undefined,
    signal: AbortSignal,
    feedback: (stage: string) => void,
    stopIfCancelled: () => void,
  ): Promise<{ verified: boolean; reason: string; note: string }> {
    const v = this.params.values;
    const camera = cameraOf(this.manifest);
    const threshold = this.model.spec.grounding?.threshold ?? 0.5;
    const searchStep = horizontalFovRad(camera);
    const moves = { turn: 0, approach: 0, back: 0, search: 0 };
    let note = '';
    // the last turn toward an edge (rad): a turn back toward the other edge means the turns bracket
    // the object; the node then turns back half the last swing and no longer turns toward edges
    let lastEdgeTurn = 0;
    let bracketed = false;
    for (;;) {
      await this.settleIngest();
      const view = await this.ingest.pipeline.latestView();
      if (!view) return { verified: false, reason: 'no camera view to check', note };
      const g = await groundView(this.model, view.pixels, objIdx, camera);
      stopIfCancelled();
      const verdict = judgeView(g, name, threshold, camera, { maxBearingRad: (v.verify_max_bearing_deg * Math.PI) / 180, requireNear: v.verify_near, ignoreEdges: bracketed });
      if (verdict.kind === 'verified') return { verified: true, reason: verdict.reason, note };
      const p = view.pose;
      let target: Pose2D;
      let said: string;
      if (verdict.kind !== 'turn') lastEdgeTurn = 0;
      // nearer memory's estimate than MIN_LOOK_M the grounder misreads a view the object fills (it
      // may not fire, or not in the bottom row): step back to look_distance_m from the estimate,
      // facing it, instead of searching or stepping closer
      const dMemory = memory ? Math.hypot(memory.x - p.x, memory.y - p.y) : Infinity;
      if (memory && (verdict.kind === 'search' || verdict.kind === 'approach') && dMemory < MIN_LOOK_M && dMemory > 1e-3 && moves.back < MAX_LOOK_BACK_OFFS) {
        moves.back++;
        feedback('backing_off');
        said = `${verdict.reason}, ${dMemory.toFixed(2)} m from memory's estimate; stepping back to look again`;
        target = poseFacing(memory, p, v.look_distance_m);
      } else if (verdict.kind === 'search') {
        if (!v.look_around || moves.search >= MAX_LOOK_SEARCH_TURNS) {
          return { verified: false, reason: moves.search > 0 ? `${verdict.reason}, after ${moves.search} turn(s) in place looking for it` : verdict.reason, note };
        }
        moves.search++;
        feedback('searching');
        said = `${verdict.reason}; turning to look for it`;
        target = { x: p.x, y: p.y, yaw: normalizeAngle(p.yaw + searchStep) };
      } else if (verdict.kind === 'turn') {
        if (moves.turn >= MAX_LOOK_TURNS) return { verified: false, reason: `${verdict.reason}, after ${moves.turn} turn(s) toward it`, note };
        moves.turn++;
        feedback('turning_to_object');
        const edge = verdict.edge === true;
        let yaw = verdict.yawRad;
        if (edge && lastEdgeTurn !== 0 && Math.sign(yaw) !== Math.sign(lastEdgeTurn)) {
          yaw = -lastEdgeTurn / 2;
          bracketed = true;
        }
        lastEdgeTurn = edge ? yaw : 0;
        said = `${verdict.reason}; turning toward it`;
        target = { x: p.x, y: p.y, yaw: normalizeAngle(p.yaw + yaw) };
      } else if (verdict.kind === 'back_off') {
        if (moves.back >= MAX_LOOK_BACK_OFFS) return { verified: false, reason: `${verdict.reason}, after ${moves.back} step(s) back`, note };
        moves.back++;
        feedback('backing_off');
        said = `${verdict.reason}; stepping back`;
        target = { x: p.x - verdict.backM * Math.cos(p.yaw), y: p.y - verdict.backM * Math.sin(p.yaw), yaw: p.yaw };
      } else {
        if (moves.approach >= MAX_LOOK_APPROACHES) return { verified: false, reason: `${verdict.reason}, after ${moves.approach} step(s) closer`, note };
        moves.approach++;
        feedback('approaching');
        said = `${verdict.reason}; stepping closer`;
        const yaw = normalizeAngle(p.yaw + verdict.yawRad);
        target = { x: p.x + verdict.forwardM * Math.cos(yaw), y: p.y + verdict.forwardM * Math.sin(yaw), yaw };
      }
      this.graph.logger.info(`goal '${name}': ${said}`);
      const leg = await this.drive({ header: this.header(), poses: [this.poseStamped(target)] }, signal, false);
      stopIfCancelled();
      if (leg.aborted !== undefined) note += `; Nav2 aborted a look move (${leg.aborted})`;
    }
  }

  /**
   * Turns in place all around, one camera field of view per Nav2 goal, then lets ingest take the
   * frames received meanwhile (bounded wait).
   */
  private async turnAround(signal: AbortSignal, stopIfCancelled: () => void): Promise<void> {
    const camera = cameraOf(this.manifest);
    const fov = horizontalFovRad(camera);
    const turns = Math.ceil((2 * Math.PI) / fov);
    for (let k = 0; k < turns; k++) {
      const p = this.robotPose();
      if (!p) return;
      const leg = await this.drive({ header: this.header(), poses: [this.poseStamped({ x: p.x, y: p.y, yaw: normalizeAngle(p.yaw + fov) })] }, signal, false);
      stopIfCancelled();
      if (leg.aborted !== undefined) return;
    }
    await this.settleIngest();
  }

  /** Lets ingest process the frames already received, at most VIEW_IDLE_WAIT_MS (a fast camera never lets it idle). */
  private async settleIngest(): Promise<void> {
    await Promise.race([this.ingest.idle(), new Promise((r) => setTimeout(r, VIEW_IDLE_WAIT_MS))]);
  }

  /** The vocabulary names the grounder sees in at least one keyframe of memory (for not_seen). */
  private async namesInMemory(): Promise<string[]> {
    const camera = cameraOf(this.manifest);
    const out: string[] = [];
    for (const [i, n] of this.manifest.vocabulary.entries()) {
      if (i === 0) continue;
      const g = await groundBuffer(this.model, this.ingest.buffer, this.modelId, i, camera);
      if (g.some((k) => k.shows)) out.push(n);
    }
    return out;
  }

  /**
   * One plan. A keyframe the planner sampled can be evicted from the context buffer while the
   * model encodes (a fast camera and a small buffer): that plan ('buffer_race') is made once more.
   */
  private async planOnce(...args: Parameters<Planner>): Promise<PlanResult> {
    try {
      return await this.planner(...args);
    } catch (e) {
      if (!(e instanceof Video4SpatialError && e.code === 'buffer_race')) throw e;
      this.graph.logger.warn(`${e.message}; planning again`);
      return this.planner(...args);
    }
  }

  private remaining(path: Path): number {
    const here = this.robotPose();
    const last = path.poses[path.poses.length - 1];
    if (!here || !last) return 0;
    return Math.hypot(last.pose.position.x - here.x, last.pose.position.y - here.y);
  }

  /**
   * Sends the path's goal pose to Nav2 (nav2GoalPoses) and waits for the leg's end (`aborted`:
   * Nav2's reason when it aborted the leg; `reached`: Nav2 succeeded). The leg is cancelled after
   * replan_period_s (unless `cancelAtReplan` is false: the final leg and the moves of the camera
   * check run to their end), on teleop, or when the goal stops (a cancel, a preemption, shutdown: also
   * when it stopped while the goal request was on its way).
   * @throws Video4SpatialError 'nav2_absent' (no server within NAV2_WAIT_MS) or 'nav2_rejected';
   *   CancelledError when the goal stopped before anything was sent.
   */
  private async drive(path: Path, signal: AbortSignal, cancelAtReplan = true): Promise<LegEnd> {
    return (await this.startLeg(path, signal, cancelAtReplan)).done;
  }

  /**
   * Sends the path's goal pose to Nav2 and returns the leg in flight. With `cancelAtReplan` the
   * leg is cancelled once replan_period_s have passed; without, `replanDue` resolves then and the
   * leg goes on (the node plans the next one while the robot drives, and the next leg preempts
   * this one). Teleop and the goal stopping cancel it either way. Throws as drive() does.
   */
  private async startLeg(path: Path, signal: AbortSignal, cancelAtReplan: boolean): Promise<Leg> {
    if (!(await this.nav2.waitForServer(NAV2_WAIT_MS))) {
      throw new Video4SpatialError(`Nav2 action server '${this.nav2.name}' is not available (waited ${NAV2_WAIT_MS / 1000} s); the plan is kept in this result and on ~/plan`, 'nav2_absent');
    }
    if (signal.aborted) throw new CancelledError(`goal ${String(signal.reason ?? 'canceled')} before its Nav2 leg was sent`);
    const goalPoses = nav2GoalPoses(path);
    this.graph.logger.debug(`Nav2 leg: 1 pose (${NAV2_GOAL_POSE_ONLY})`);
    const t0 = this.graph.clock.now();
    const periodNs = BigInt(Math.round(this.params.values.replan_period_s * 1e9));
    let handle: ClientGoalHandle<NavigateThroughPosesResult> | undefined;
    let cancelling = false;
    let due: () => void = () => undefined;
    const replanDue = new Promise<void>((r) => (due = r));
    const cancel = () => {
      if (cancelling || !handle) return;
      cancelling = true;
      void handle.cancel().catch(() => undefined);
    };
    handle = await this.nav2.sendGoal(navigateThroughPosesGoal(goalPoses, this.options.nav2Distro ?? (this.params.values.nav2_distro as RosDistro)) as NavigateThroughPosesGoal, () => {
      const late = this.graph.clock.now() - t0 > periodNs;
      if (late) due();
      if ((late && cancelAtReplan) || signal.aborted || this.teleopUntilNs > this.graph.clock.now()) cancel();
    });
    if (!handle.accepted) {
      throw new Video4SpatialError(`Nav2 rejected the goal${handle.rejectReason ? `: ${handle.rejectReason}` : ''}; the plan is kept in this result and on ~/plan`, 'nav2_rejected');
    }
    const h = handle;
    signal.addEventListener('abort', cancel);
    if (signal.aborted) cancel(); // stopped while the goal request was on its way
    const leg: Leg = {
      done: undefined as unknown as Promise<LegEnd>,
      end: undefined,
      replanDue,
      superseded: false,
      stop: async () => {
        cancel();
        await leg.done;
      },
    };
    leg.done = (async (): Promise<LegEnd> => {
      try {
        let out: Awaited<typeof h.result>;
        try {
          out = await h.result;
        } catch (e) {
          // the result was lost (e.g. the action client failed): the leg is over for the node
          const end: LegEnd = { aborted: `Nav2 leg result lost: ${e instanceof Error ? e.message : String(e)}`, reached: false };
          leg.end = end;
          return end;
        }
        let end: LegEnd = { aborted: undefined, reached: out.status === 'succeeded' };
        if (out.status === 'aborted' && !leg.superseded) {
          const why = out.result.error_msg || out.reason || 'no reason given';
          this.graph.logger.warn(`Nav2 aborted the leg (${why}); replanning from here`);
          end = { aborted: why, reached: false };
        }
        leg.end = end;
        return end;
      } finally {
        signal.removeEventListener('abort', cancel);
        due();
      }
    })();
    return leg;
  }

  /** The node's own DiagnosticStatus: goal outcomes by code, refused outputs, camera age. */
  nodeStatus(): DiagnosticStatus {
    const st = this.stats;
    const age = this.cameraAgeS();
    const stale = this.ingest.pipeline.counters.received > 0 ? this.cameraStale() : undefined;
    const values = [
      { key: 'goals', value: String(st.goals) },
      { key: 'goals_rejected', value: String(st.rejected) },
      { key: 'goals_succeeded', value: String(st.succeeded) },
      { key: 'goals_aborted', value: String(st.aborted) },
      { key: 'goals_canceled', value: String(st.canceled) },
      { key: 'plans', value: String(st.plans) },
      { key: 'false_arrivals_caught', value: String(st.falseArrivalsCaught) },
      { key: 'grounder', value: this.model.spec.grounding && this.model.ground ? 'yes' : 'no (arrival = two agreeing plans)' },
      { key: 'camera_age_s', value: age === undefined ? '' : age.toFixed(2) },
      ...Object.entries(st.rejectedByReason).map(([k, n]) => ({ key: `rejected.${k}`, value: String(n) })),
      ...Object.entries(st.abortedByReason).map(([k, n]) => ({ key: `aborted.${k}`, value: String(n) })),
      ...Object.entries(st.refusedOutputs).map(([k, n]) => ({ key: `refused.${k}`, value: String(n) })),
    ];
    return { level: stale ? DIAGNOSTIC_LEVEL.WARN : DIAGNOSTIC_LEVEL.OK, name: 'video4spatial_nav: node', message: stale ?? `${st.goals} goals, ${st.plans} plans`, hardware_id: '', values };
  }

  /** Publishes the ingest and node statuses on /diagnostics (1 Hz timer); never throws. */
  publishDiagnostics(): void {
    try {
      const s = this.ingest.diagnostics.status();
      this.diagPub.publish({ header: { stamp: timeFromNs(this.graph.clock.now()), frame_id: '' }, status: [s as DiagnosticStatus, this.nodeStatus()] });
    } catch (e) {
      this.graph.logger.error(`diagnostics not published: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /**
   * Safe shutdown (SIGINT, SIGTERM, a launch shutdown): the graph refuses new goals, stops the
   * running one (stopReason 'shutdown': it cancels its Nav2 leg and ends CANCELED, "canceled
   * (shutdown) after N plan(s)"), cancels whatever Nav2 goal is still outstanding and waits
   * (bounded) for Nav2 to acknowledge, then destroys the node (Graph.shutdown). Idempotent.
   */
  shutdown(reason = 'shutdown', options: Omit<GraphShutdownOptions, 'reason'> = {}): Promise<ShutdownReport> {
    this.shutdownPromise ??= (async () => {
      this.graph.logger.info(`video4spatial_nav: shutting down (${reason}): stopping the running goal and cancelling its Nav2 leg`);
      try {
        return await this.graph.shutdown({ ...options, reason });
      } finally {
        this.ingest.close();
      }
    })();
    return this.shutdownPromise;
  }

  /** Destroys the node at once (no waiting: `shutdown` is the safe way on a robot). Idempotent. */
  close(): void {
    this.ingest.close();
    this.graph.destroy();
  }
}
