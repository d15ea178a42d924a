/**
 * A closed-loop mission through the real node on the in-process ROS graph: SimRobot publishes the
 * camera and TF, the scripted exploration fills the node's context buffer, an operator client sends
 * NavigateToObject(execute=true), the node plans with the given model and drives through SimNav2,
 * replanning until it believes it has arrived. Success is judged by the simulator's ground truth.
 * Optionally every message is recorded into a rosbag2 MCAP bag.
 */
import type { Pose2D } from '../core/geometry.js';
import type { SamplingPolicy } from '../core/context/ContextBuffer.js';
import { cameraFromFov, type PinholeCamera } from '../core/camera.js';
import { cameraOf, type ModelManifest } from '../core/model/manifest.js';
import type { ImaginationModel } from '../core/sampler/model.js';
import type { Extractor } from '../core/planner/extractCandidate.js';
import { SimClock } from '../ros/clock.js';
import { InProcessBus } from '../ros/InProcessGraph.js';
import type { Logger } from '../ros/Graph.js';
import type { ImaginedTrajectory, NavigateToObjectFeedback, NavigateToObjectGoal, NavigateToObjectResult, Path } from '../ros/messages/types.js';
import { Video4SpatialNode } from '../ros/Video4SpatialNode.js';
import { judge, type Judgement } from './judge.js';
import { render } from './renderer.js';
import { SimNav2, SimRobot } from './rosSim.js';
import { EXPLORE_DT, type Scenario } from './scenario.js';
import { PlanPacer } from './planPacer.js';
import { planToObject } from '../core/planner/planToObject.js';

/** The simulated robot's camera: 160×120, 80° horizontal FOV, 0.5 m high, level. */
export const SIM_CAMERA: PinholeCamera = cameraFromFov(160, 120, (80 * Math.PI) / 180, 0.5, 0);

/**
 * Inference-time ablations of the same model: no-context (the context is grey frames),
 * other-world (the context comes from another world), contiguous (the K newest frames with
 * contiguous indices instead of pose-diverse memory), first-frame-only (the current view alone,
 * K = 1: an image-to-video model without memory).
 */
/**
 * What an evaluation switches off: the memory (no-context, other-world, contiguous indices, the
 * current view only) or one of the grounding mechanisms (no-name-aware: contexts sampled by the
 * policy alone; no-verify: arrival without the camera check; no-memory-goal: the imagined goal,
 * not memory's; no-look-around: no turning in place to look for it at the goal; no-verify-near: the
 * check does not ask for the base within reach; no-grounding: all of them) — or plans made while
 * the robot drives (no-plan-while-driving: the leg is cancelled at each replan and the robot stands
 * while the node plans).
 */
export type Ablation =
  | 'none'
  | 'no-context'
  | 'other-world'
  | 'contiguous'
  | 'first-frame-only'
  | 'no-name-aware'
  | 'no-verify'
  | 'no-memory-goal'
  | 'no-look-around'
  | 'no-verify-near'
  | 'no-grounding'
  | 'no-plan-while-driving';
export const ABLATIONS: readonly Ablation[] = ['none', 'no-context', 'other-world', 'contiguous', 'first-frame-only', 'no-name-aware', 'no-verify', 'no-memory-goal', 'no-look-around', 'no-verify-near', 'no-grounding', 'no-plan-while-driving'];

/** Which of the grounder's uses the ablation keeps on (the node parameters of the same names). */
export function ablationGrounding(a: Ablation): { nameAware: boolean; verify: boolean; memoryGoal: boolean; lookAround: boolean; verifyNear: boolean } {
  const all = a === 'no-grounding';
  return {
    nameAware: a !== 'no-name-aware' && !all,
    verify: a !== 'no-verify' && !all,
    memoryGoal: a !== 'no-memory-goal' && !all,
    lookAround: a !== 'no-look-around' && !all,
    verifyNear: a !== 'no-verify-near' && !all,
  };
}

/** How an ablation samples the context: the policy, and the frames per candidate (0 = the model's K). */
export function ablationSampling(a: Ablation): { policy: SamplingPolicy; contextFrames: number } {
  return { policy: a === 'contiguous' ? 'contiguous' : 'pose_diverse', contextFrames: a === 'first-frame-only' ? 1 : 0 };
}

/**
 * Simulated seconds a plan takes: the robot drives on its leg meanwhile (plan_while_driving), the
 * simulated clock does not wait for the CPU. About one plan at M = 4 on a 2-core machine (bench).
 */
export const PLAN_SIM_S = 2.0;

export interface GraphMissionOptions {
  candidates: number;
  steps: number;
  guidance: number;
  /** Flow-matching timestep shift (default: the node's, i.e. the manifest's sampler.shift). */
  shift?: number;
  /** Guidance only at steps with t >= this (default: the node's, i.e. the manifest's sampler.guidance_min_t). */
  guidanceMinT?: number;
  seed: number;
  ablation: Ablation;
  /** Seconds of simulated time the goal may take (0 = no limit). */
  timeBudgetS: number;
  replanPeriodS: number;
  otherWorld?: Scenario;
  /** Taps every message (for bag recording). */
  tap?: (bus: InProcessBus) => void;
  logger?: Logger;
  onProgress?: (line: string) => void;
  /** The node's path extractor (e.g. an ExtractionPool's); default in the planning thread. */
  extractor?: Extractor;
  /** Simulated seconds each plan takes, driven on the running leg (default PLAN_SIM_S; PlanPacer). */
  planSimS?: number;
}

export interface PlanRecord {
  path: Path;
  /** This plan's imagined candidates (undefined when the node does not publish them). */
  trajectory: ImaginedTrajectory | undefined;
  /** Robot pose when the plan was published. */
  from: Pose2D;
}

export interface GraphMissionResult {
  outcome: string;
  result: NavigateToObjectResult | undefined;
  judgement: Judgement;
  plans: PlanRecord[];
  exploration: Pose2D[];
  executed: Pose2D[];
  finalPose: Pose2D;
  pathLengthM: number;
  planSeconds: number;
  simSeconds: number;
  keyframes: number;
}

/** A quiet logger for runs where only the result matters. */
export const SILENT_LOGGER: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

export async function runGraphMission(sc: Scenario, model: ImaginationModel, manifest: ModelManifest, opts: GraphMissionOptions): Promise<GraphMissionResult> {
  const clock = new SimClock(1_000_000_000n);
  const logger = opts.logger ?? SILENT_LOGGER;
  const bus = new InProcessBus({ clock, logger });
  opts.tap?.(bus);
  const sim = bus.node({ name: 'simulator', logger });
  const robot = new SimRobot(sim, sc.world, SIM_CAMERA, sc.exploration[0] as Pose2D);
  const executed: Pose2D[] = [];
  const pacer = new PlanPacer(Math.round((opts.planSimS ?? PLAN_SIM_S) / EXPLORE_DT));
  const nav = new SimNav2(sim, robot, clock, {
    dt: EXPLORE_DT,
    framesEvery: 1,
    gate: pacer.gate,
    afterStep: async () => {
      executed.push(robot.pose);
      await bus.flush();
    },
  });
  const nodeGraph = bus.node({
    name: 'video4spatial_nav',
    logger,
    remap: { '~/image': '/camera/image_raw', '~/camera_info': '/camera/camera_info' },
    parameters: {
      candidates: opts.candidates,
      steps: opts.steps,
      guidance_scale: opts.guidance,
      ...(opts.shift !== undefined ? { shift: opts.shift } : {}),
      ...(opts.guidanceMinT !== undefined ? { guidance_min_t: opts.guidanceMinT } : {}),
      seed: opts.seed,
      context_policy: ablationSampling(opts.ablation).policy,
      context_frames: ablationSampling(opts.ablation).contextFrames,
      name_aware_context: ablationGrounding(opts.ablation).nameAware,
      verify_arrival: ablationGrounding(opts.ablation).verify,
      memory_goal: ablationGrounding(opts.ablation).memoryGoal,
      look_around: ablationGrounding(opts.ablation).lookAround,
      verify_near: ablationGrounding(opts.ablation).verifyNear,
      plan_while_driving: opts.ablation !== 'no-plan-while-driving',
      replan_period_s: opts.replanPeriodS,
    },
  });
  const node: Video4SpatialNode = new Video4SpatialNode(nodeGraph, model, manifest, { planner: pacer.wrap(planToObject, () => nav.executing, () => node.ingest.idle()), ...(opts.extractor ? { extractor: opts.extractor } : {}) });
  const operator = bus.node({ name: 'operator', logger });
  const plans: PlanRecord[] = [];
  // the node publishes a plan's Path first, then its ImaginedTrajectory (with publish_imagined):
  // a trajectory belongs to the newest plan, never to the next one
  operator.createSubscription<ImaginedTrajectory>('/video4spatial_nav/imagined_trajectory', 'video4spatial_nav/msg/ImaginedTrajectory', 'default', (t) => {
    const last = plans[plans.length - 1];
    if (last && !last.trajectory) last.trajectory = t;
  });
  operator.createSubscription<Path>('/video4spatial_nav/plan', 'nav_msgs/msg/Path', 'default', (p) => {
    plans.push({ path: p, trajectory: undefined, from: robot.pose });
    opts.onProgress?.(`plan ${plans.length}: ${p.poses.length} waypoint(s), goal (${p.poses.at(-1)?.pose.position.x.toFixed(2)}, ${p.poses.at(-1)?.pose.position.y.toFixed(2)})`);
  });
  // exploration: the camera stream fills the node's memory (ablations change what it sees)
  const grey = new Uint8Array(SIM_CAMERA.width * SIM_CAMERA.height * 3).fill(128);
  for (const [i, p] of sc.exploration.entries()) {
    robot.moveTo(p);
    clock.advance(BigInt(Math.round(EXPLORE_DT * 1e9)));
    if (opts.ablation === 'no-context' && i < sc.exploration.length - 1) robot.publishFrame(grey);
    else if (opts.ablation === 'other-world' && opts.otherWorld && i < sc.exploration.length - 1) {
      const o = opts.otherWorld;
      robot.publishFrame(render(o.world, o.exploration[Math.min(i, o.exploration.length - 1)] as Pose2D, SIM_CAMERA).rgb);
    } else robot.publishFrame();
    await bus.flush();
  }
  await node.ingest.idle();
  executed.push(robot.pose);
  opts.onProgress?.(`explored ${sc.exploration.length} frames; ${node.ingest.buffer.size} keyframes in memory; asking for the ${sc.target.category}`);
  const client = operator.createActionClient<NavigateToObjectGoal, NavigateToObjectFeedback, NavigateToObjectResult>('/video4spatial_nav/navigate_to_object', 'video4spatial_nav/action/NavigateToObject');
  const t0 = performance.now();
  const simStart = clock.now();
  const h = await client.sendGoal({ object_name: sc.target.category, execute: true, time_budget_s: opts.timeBudgetS }, (f) => {
    if (f.stage === 'denoising' && f.step === f.steps) opts.onProgress?.(`denoised ${f.steps} steps`);
  });
  let outcome: string;
  let result: NavigateToObjectResult | undefined;
  if (!h.accepted) outcome = `rejected: ${h.rejectReason ?? ''}`;
  else {
    const out = await h.result;
    outcome = out.status === 'rejected' ? `rejected: ${out.reason ?? ''}` : `${out.status}: ${out.result.message}`;
    if (out.status !== 'rejected') result = out.result;
  }
  await bus.flush();
  const keyframes = node.ingest.buffer.size;
  node.close();
  let len = 0;
  for (let i = 1; i < executed.length; i++) {
    const a = executed[i - 1] as Pose2D;
    const b = executed[i] as Pose2D;
    len += Math.hypot(b.x - a.x, b.y - a.y);
  }
  return {
    outcome,
    result,
    judgement: judge(sc.world, sc.target, robot.pose, cameraOf(manifest)),
    plans,
    exploration: sc.exploration,
    executed,
    finalPose: robot.pose,
    pathLengthM: len,
    planSeconds: result?.plan_time_s ?? (performance.now() - t0) / 1000,
    simSeconds: Number(clock.now() - simStart) / 1e9,
    keyframes,
  };
}
