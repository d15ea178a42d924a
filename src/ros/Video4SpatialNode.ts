/**
 * The video4spatial_nav node: thin wiring between the graph and the pure core.
 *
 * Subscribes the camera (through CameraIngest: gate → decode/fit → ContextBuffer, with TF poses),
 * `~/goal_object` (std_msgs/String; '' cancels) and the teleop velocity topic; serves
 * `~/navigate_to_object` (video4spatial_nav/action/NavigateToObject); publishes `~/plan`
 * (nav_msgs/Path), `~/object_pose`, `~/imagined` (the chosen imagined video, rgb8 frame by frame),
 * `~/imagined_trajectory`, `/diagnostics`; and, with `execute`, drives through Nav2's
 * `navigate_through_poses`, replanning after `replan_period_s` of travel or on arrival of a leg,
 * until the newest plan's goal is within `arrival_distance_m` of the robot.
 * Every per-goal error is caught here and ends that goal with its message; the node keeps running.
 */
import { CancelledError, Video4SpatialError } from '../core/errors.js';
import { angleDiff, yawToQuaternion, type Pose2D } from '../core/geometry.js';
import { cameraOf, type ModelManifest } from '../core/model/manifest.js';
import { planToObject, type PlanResult } from '../core/planner/planToObject.js';
import type { SamplingPolicy } from '../core/context/ContextBuffer.js';
import type { ImaginationModel } from '../core/sampler/model.js';
import { sd as sdOf } from '../core/path/box.js';
import { CameraIngest, COMPRESSED_IMAGE_TYPE, IMAGE_TYPE } from './ingestPipeline.js';
import type { ActionClient, ClientGoalHandle, Graph, Publisher, ServerGoalHandle } from './Graph.js';
import { NodeParameters } from './parameters.js';
import { navigateThroughPosesGoal, timeFromNs, type RosDistro } from './messages/index.js';
import type {
  DiagnosticArray,
  Image,
  ImaginedTrajectory,
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

export interface NodeOptions {
  /** Parameters already declared on this graph (e.g. read before loading the model). */
  params?: NodeParameters;
  nav2Action?: string;
  nav2Distro?: RosDistro;
}

/** On arrival the node still drives the final leg when the goal is farther than this (m) … */
export const FINAL_LEG_MIN_M = 0.15;
/** … or the robot's heading differs from the goal's (which faces the object) by more than this (rad, 15°). */
export const FINAL_LEG_MIN_YAW_RAD = (15 * Math.PI) / 180;

/** Checks the invariant on everything we publish as a path: finite, framed, stamped, bounded. */
export function checkPath(path: Path, origin: Pose2D, maxDistanceM: number): string | undefined {
  if (!path.header.frame_id) return 'path without frame_id';
  for (const [i, p] of path.poses.entries()) {
    const v = [p.pose.position.x, p.pose.position.y, p.pose.orientation.z, p.pose.orientation.w];
    if (!v.every(Number.isFinite)) return `pose ${i} is not finite (${v.join(', ')})`;
    if (!p.header.frame_id) return `pose ${i} has no frame_id`;
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
  private readonly diagPub: Publisher<DiagnosticArray>;
  private readonly nav2: ActionClient<NavigateThroughPosesGoal, NavigateThroughPosesFeedback, NavigateThroughPosesResult>;
  private readonly self: ActionClient<NavigateToObjectGoal, NavigateToObjectFeedback, NavigateToObjectResult>;
  private readonly modelId: string;
  private teleopUntilNs = 0n;
  private topicGoal: ClientGoalHandle<NavigateToObjectResult> | undefined;
  readonly stats = { goals: 0, rejected: 0, succeeded: 0, aborted: 0, canceled: 0, plans: 0 };

  constructor(
    readonly graph: Graph,
    readonly model: ImaginationModel,
    readonly manifest: ModelManifest,
    readonly options: NodeOptions = {},
  ) {
    this.params = options.params ?? NodeParameters.declare(graph.parameters, graph.logger);
    const p = this.params.values;
    this.modelId = `${manifest.name}:${manifest.files.denoiser.sha256.slice(0, 12)}`;
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
      },
      { warn: (m) => graph.logger.warn(m) },
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
    this.diagPub = graph.createPublisher<DiagnosticArray>('/diagnostics', 'diagnostic_msgs/msg/DiagnosticArray', 'default');
    this.nav2 = graph.createActionClient(options.nav2Action ?? p.nav2_action, NAV2_TYPE);
    graph.createActionServer<NavigateToObjectGoal, NavigateToObjectFeedback, NavigateToObjectResult>('~/navigate_to_object', ACTION_TYPE, {
      onGoal: (g) => this.decide(g),
      execute: (h) => this.execute(h),
    });
    this.self = graph.createActionClient('~/navigate_to_object', ACTION_TYPE);
    graph.createSubscription<StringMsg>('~/goal_object', 'std_msgs/msg/String', 'default', (m) => void this.onGoalTopic(m.data));
    graph.createSubscription<Twist>(p.teleop_cmd_vel_topic, 'geometry_msgs/msg/Twist', 'default', (t) => {
      if (Math.abs(t.linear.x) + Math.abs(t.angular.z) > 1e-3) this.teleopUntilNs = graph.clock.now() + BigInt(Math.round(this.params.values.teleop_pause_s * 1e9));
    });
    graph.createTimer(1.0, () => this.publishDiagnostics());
    graph.logger.info(`video4spatial_nav ready: model ${manifest.name} (K=${manifest.context_frames}, N=${manifest.target_frames}, vocabulary: ${manifest.vocabulary.slice(1).join(', ')})`);
  }

  /** Accept or reject a goal, with a reason that tells the operator what to do. */
  decide(g: NavigateToObjectGoal): { accept: true } | { accept: false; reason: string } {
    this.stats.goals++;
    const name = g.object_name.trim().toLowerCase();
    const reject = (reason: string) => {
      this.stats.rejected++;
      this.graph.logger.warn(`goal rejected: ${reason}`);
      return { accept: false as const, reason };
    };
    if (name.length === 0) return reject(`empty object_name (the model knows: ${this.manifest.vocabulary.slice(1).join(', ')})`);
    if (!this.manifest.vocabulary.slice(1).includes(name)) return reject(`unknown object '${g.object_name.slice(0, 80)}' (the model knows: ${this.manifest.vocabulary.slice(1).join(', ')})`);
    if (!(Number.isFinite(g.time_budget_s) && g.time_budget_s >= 0)) return reject(`time_budget_s must be >= 0, got ${g.time_budget_s}`);
    if (this.ingest.buffer.size === 0) return reject(`no context yet: no camera keyframe received on ${this.graph.resolveName(this.ingest.params.imageTopic)}`);
    return { accept: true };
  }

  private async onGoalTopic(text: string): Promise<void> {
    if (this.topicGoal) await this.topicGoal.cancel();
    this.topicGoal = undefined;
    if (text.trim() === '') return; // '' cancels
    const h = await this.self.sendGoal({ object_name: text, execute: this.params.values.execute_default, time_budget_s: 0 });
    if (!h.accepted) this.graph.logger.warn(`goal_object '${text}' rejected: ${h.rejectReason ?? 'no reason'}`);
    else this.topicGoal = h;
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

  /** The path to publish and send: resampled, clamped, last pose facing the object. */
  pathOf(plan: PlanResult): Path {
    const v = this.params.values;
    const start = plan.startPose;
    const goal = clampPose(plan.goalPose, start, v.max_plan_distance_m);
    const pts = resamplePoses([start, goal], v.waypoint_spacing_m).map((q) => clampPose(q, start, v.max_plan_distance_m));
    if (pts.length > 0) pts[pts.length - 1] = goal;
    return { header: this.header(), poses: pts.map((q) => this.poseStamped(q)) };
  }

  private publishPlan(plan: PlanResult, path: Path): void {
    const v = this.params.values;
    const bad = checkPath(path, plan.startPose, v.max_plan_distance_m);
    if (bad) throw new Video4SpatialError(`refusing to publish an unsafe plan: ${bad}`, 'unsafe_path');
    this.planPub.publish(path);
    if (plan.objectXY) this.objectPub.publish(this.poseStamped({ x: plan.objectXY.x, y: plan.objectXY.y, yaw: 0 }));
    if (!v.publish_imagined) return;
    const s = this.model.spec;
    const chosen = plan.candidates[plan.chosen];
    if (chosen) {
      for (const f of chosen.frames) {
        this.imaginedPub.publish({ header: { stamp: timeFromNs(this.graph.clock.now()), frame_id: 'imagined' }, height: s.height, width: s.width, encoding: 'rgb8', is_bigendian: 0, step: s.width * 3, data: f });
      }
    }
    const frames = new Uint8Array(plan.candidates.reduce((n, c) => n + c.frames.length * s.width * s.height * 3, 0));
    let o = 0;
    for (const c of plan.candidates) for (const f of c.frames) {
      frames.set(f, o);
      o += f.length;
    }
    const boxes: number[] = [];
    const sds: number[] = [];
    for (const c of plan.candidates) {
      const b = c.goal.boxes[c.goal.boxes.length - 1];
      boxes.push(...(b ? [b.x0, b.y0, b.x1, b.y1] : [-1, -1, -1, -1]));
      sds.push(b ? sdOf(b, s.width) : -1);
    }
    const t = plan.timings;
    this.trajectoryPub.publish({
      header: this.header(),
      object_name: plan.object,
      num_candidates: plan.candidates.length,
      chosen: plan.chosen,
      scores: plan.candidates.map((c) => c.score.score),
      frames_per_candidate: s.targetFrames,
      width: s.width,
      height: s.height,
      encoding: 'rgb8',
      frames,
      candidate_paths: plan.candidates.map((c) => ({ header: this.header(), poses: (c.goal.poses ?? []).map((q) => this.poseStamped(q)) })),
      boxes,
      sd: sds,
      timings: Object.entries(t)
        .filter(([, val]) => typeof val === 'number')
        .map(([key, val]) => ({ key, value: (val as number).toFixed(1) })),
    });
  }

  private emptyResult(message: string, plans: number, planTimeS: number, path?: Path, object?: PoseStamped): NavigateToObjectResult {
    return {
      success: false,
      message,
      path: path ?? { header: this.header(), poses: [] },
      // no estimate yet: an empty frame_id marks the pose as unknown (never NaN)
      object_pose: object ?? { ...this.poseStamped({ x: 0, y: 0, yaw: 0 }), header: { stamp: timeFromNs(this.graph.clock.now()), frame_id: '' } },
      plan_time_s: planTimeS,
      plans,
    };
  }

  async execute(h: ServerGoalHandle<NavigateToObjectGoal, NavigateToObjectFeedback, NavigateToObjectResult>): Promise<void> {
    const v = () => this.params.values;
    const clock = this.graph.clock;
    const t0 = clock.now();
    const budgetNs = h.goal.time_budget_s > 0 ? BigInt(Math.round(h.goal.time_budget_s * 1e9)) : undefined;
    let plans = 0;
    let planTimeS = 0;
    let path: Path | undefined;
    let objectPose: PoseStamped | undefined;
    const feedback = (stage: string, step = 0) =>
      h.publishFeedback({ stage, step, steps: v().steps, current_plan: path ?? { header: this.header(), poses: [] }, distance_remaining: path ? this.remaining(path) : 0 });
    try {
      for (;;) {
        if (h.isCancelRequested()) throw new CancelledError(`goal ${h.stopReason ?? 'canceled'}`);
        if (budgetNs !== undefined && clock.now() - t0 > budgetNs) {
          h.abort(this.emptyResult(`time budget of ${h.goal.time_budget_s} s spent after ${plans} plan(s)`, plans, planTimeS, path, objectPose), 'time budget');
          this.stats.aborted++;
          return;
        }
        if (this.teleopUntilNs > clock.now()) {
          feedback('paused_by_teleop');
          await new Promise((r) => setTimeout(r, 50));
          continue;
        }
        feedback('planning');
        const tp = performance.now();
        const policy = v().context_policy as SamplingPolicy;
        const plan = await planToObject(
          { model: this.model, modelId: this.modelId, camera: cameraOf(this.manifest), frameDtS: this.manifest.frame_dt_s, buffer: this.ingest.buffer },
          { object: h.goal.object_name, candidates: v().candidates, steps: v().steps, shift: v().shift, guidance: v().guidance_scale, seed: v().seed + plans, policy, contextFrames: v().context_frames },
          { onStep: (s) => feedback('denoising', s), isCancelled: () => h.isCancelRequested(), onStage: (s) => feedback(s) },
        );
        planTimeS += (performance.now() - tp) / 1000;
        plans++;
        this.stats.plans++;
        path = this.pathOf(plan);
        objectPose = plan.objectXY ? this.poseStamped({ x: plan.objectXY.x, y: plan.objectXY.y, yaw: 0 }) : undefined;
        this.publishPlan(plan, path);
        const here = this.robotPose() ?? plan.startPose;
        const dGoal = Math.hypot(plan.goalPose.x - here.x, plan.goalPose.y - here.y);
        const ch = plan.candidates[plan.chosen];
        this.graph.logger.info(
          `plan ${plans} for '${plan.object}': goal (${plan.goalPose.x.toFixed(2)}, ${plan.goalPose.y.toFixed(2)}) ${dGoal.toFixed(2)} m away from ${ch?.goal.source ?? '?'}, ` +
            `object ${plan.objectXY ? `(${plan.objectXY.x.toFixed(2)}, ${plan.objectXY.y.toFixed(2)})` : 'not seen'}, score ${ch?.score.score.toFixed(2) ?? '?'}, ${(plan.timings.totalMs / 1000).toFixed(2)} s`,
        );
        if (!h.goal.execute) {
          h.succeed({ ...this.emptyResult(`planned: goal ${dGoal.toFixed(2)} m away`, plans, planTimeS, path, objectPose), success: true });
          this.stats.succeeded++;
          return;
        }
        // arrived: a second opinion puts the goal here AND the imagined video shows the object
        if (plans > 1 && dGoal < v().arrival_distance_m && plan.objectXY !== undefined) {
          // the last leg: drive onto the goal pose, which faces the object, unless already there
          if (dGoal > FINAL_LEG_MIN_M || Math.abs(angleDiff(plan.goalPose.yaw, here.yaw)) > FINAL_LEG_MIN_YAW_RAD) {
            feedback('navigating');
            await this.drive(path, h.signal);
            if (h.isCancelRequested()) throw new CancelledError(`goal ${h.stopReason ?? 'canceled'}`);
          }
          h.succeed({ ...this.emptyResult(`arrived: the newest plan's goal is ${dGoal.toFixed(2)} m away after ${plans} plans`, plans, planTimeS, path, objectPose), success: true });
          this.stats.succeeded++;
          return;
        }
        if (plans >= MAX_PLANS_PER_GOAL) {
          h.abort(this.emptyResult(`did not arrive after ${plans} plans (last goal ${dGoal.toFixed(2)} m away)`, plans, planTimeS, path, objectPose), 'plans exhausted');
          this.stats.aborted++;
          return;
        }
        feedback('navigating');
        await this.drive(path, h.signal);
      }
    } catch (e) {
      if (e instanceof CancelledError || h.isCancelRequested()) {
        h.canceled(this.emptyResult(`canceled (${h.stopReason ?? 'cancel'}) after ${plans} plan(s)`, plans, planTimeS, path, objectPose), h.stopReason ?? 'cancel');
        this.stats.canceled++;
        return;
      }
      const msg = e instanceof Error ? e.message : String(e);
      this.graph.logger.error(`goal '${h.goal.object_name}' aborted: ${msg}`);
      h.abort(this.emptyResult(msg, plans, planTimeS, path, objectPose), msg);
      this.stats.aborted++;
      if (!(e instanceof Video4SpatialError)) this.graph.logger.error(e instanceof Error && e.stack ? e.stack : msg);
    }
  }

  private remaining(path: Path): number {
    const here = this.robotPose();
    const last = path.poses[path.poses.length - 1];
    if (!here || !last) return 0;
    return Math.hypot(last.pose.position.x - here.x, last.pose.position.y - here.y);
  }

  /** Sends the path to Nav2; returns when it ends, or cancels it after replan_period_s / on stop. */
  private async drive(path: Path, signal: AbortSignal): Promise<void> {
    if (!(await this.nav2.waitForServer(2000))) throw new Video4SpatialError(`Nav2 action server '${this.nav2.name}' is not available`, 'nav2_absent');
    const goalPoses = path.poses.slice(-1);
    const t0 = this.graph.clock.now();
    const periodNs = BigInt(Math.round(this.params.values.replan_period_s * 1e9));
    let handle: ClientGoalHandle<NavigateThroughPosesResult> | undefined;
    let cancelling = false;
    handle = await this.nav2.sendGoal(navigateThroughPosesGoal(goalPoses, this.options.nav2Distro ?? (this.params.values.nav2_distro as RosDistro)) as NavigateThroughPosesGoal, () => {
      const late = this.graph.clock.now() - t0 > periodNs;
      if ((late || signal.aborted || this.teleopUntilNs > this.graph.clock.now()) && !cancelling && handle) {
        cancelling = true;
        void handle.cancel();
      }
    });
    if (!handle.accepted) throw new Video4SpatialError(`Nav2 rejected the goal${handle.rejectReason ? `: ${handle.rejectReason}` : ''}`, 'nav2_rejected');
    const onAbort = () => void handle?.cancel();
    signal.addEventListener('abort', onAbort);
    try {
      const out = await handle.result;
      if (out.status === 'aborted') {
        const why = out.result.error_msg || out.reason || 'no reason given';
        this.graph.logger.warn(`Nav2 aborted the leg (${why}); replanning from here`);
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  publishDiagnostics(): void {
    const s = this.ingest.diagnostics.status();
    this.diagPub.publish({ header: { stamp: timeFromNs(this.graph.clock.now()), frame_id: '' }, status: [s as never] });
  }

  close(): void {
    this.ingest.close();
    this.graph.destroy();
  }
}
