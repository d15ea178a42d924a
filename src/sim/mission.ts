/**
 * A closed-loop mission in a simulated world, without the ROS graph: the scripted exploration
 * fills the context buffer through the keyframe gate, the object is requested, the planner
 * imagines the way there, a kinematic Nav2 stand-in (driver.ts) drives to the planned goal while
 * the camera keeps feeding the buffer, and the planner replans until it believes it has arrived
 * (or runs out of plans). Success is judged by the simulator's ground truth (judge.ts).
 */
import type { Pose2D } from '../core/geometry.js';
import type { PinholeCamera } from '../core/camera.js';
import { ContextBuffer, type SamplingPolicy } from '../core/context/ContextBuffer.js';
import { KeyframeGate } from '../core/context/keyframeGate.js';
import { planToObject, type PlanResult } from '../core/planner/planToObject.js';
import type { ImaginationModel } from '../core/sampler/model.js';
import { Video4SpatialError } from '../core/errors.js';
import { driveTo } from './driver.js';
import { judge, type Judgement } from './judge.js';
import { render } from './renderer.js';
import { EXPLORE_DT, type Scenario } from './scenario.js';

export interface MissionOptions {
  candidates: number;
  steps: number;
  shift: number;
  guidance: number;
  seed: number;
  policy: SamplingPolicy;
  /** At most this many plans. */
  maxPlans: number;
  /** The node believes it has arrived when the new plan's goal is closer than this (m). */
  arrivalDistanceM: number;
  /** Drive at most this far (m) per plan before replanning. */
  replanDistanceM: number;
  /** Ablations applied to the context the planner sees. */
  ablation: 'none' | 'no-context' | 'other-world';
  /** Pixels supersampled per side when rendering camera frames. */
  supersample: number;
}

export const DEFAULT_MISSION_OPTIONS: MissionOptions = {
  candidates: 4,
  steps: 8,
  shift: 1,
  guidance: 3,
  seed: 0,
  policy: 'pose_diverse',
  maxPlans: 4,
  arrivalDistanceM: 0.6,
  replanDistanceM: 4,
  ablation: 'none',
  supersample: 2,
};

export interface MissionPlanRecord {
  plan: PlanResult | undefined;
  error: string | undefined;
  from: Pose2D;
  /** Executed poses after this plan. */
  executed: Pose2D[];
}

export interface MissionResult {
  judgement: Judgement;
  plans: MissionPlanRecord[];
  exploration: Pose2D[];
  executed: Pose2D[];
  finalPose: Pose2D;
  planSeconds: number[];
  pathLengthM: number;
  keyframes: number;
}

export interface MissionDeps {
  model: ImaginationModel;
  modelId: string;
  camera: PinholeCamera;
  frameDtS: number;
  /** For 'other-world': frames of another world's exploration, fed instead of this world's. */
  otherWorld?: Scenario;
  onProgress?: (line: string) => void;
}

export async function runMission(sc: Scenario, deps: MissionDeps, opts: MissionOptions = DEFAULT_MISSION_OPTIONS): Promise<MissionResult> {
  const { camera } = deps;
  const buffer = new ContextBuffer({ width: camera.width, height: camera.height });
  const gate = new KeyframeGate();
  let streamIndex = 0;
  const feed = (pose: Pose2D, viewWorld = sc.world, viewPose = pose) => {
    const stampNs = BigInt(Math.round(streamIndex * EXPLORE_DT * 1e9));
    const d = gate.consider({ stampNs, pose });
    if (d.admit) {
      const r = render(viewWorld, viewPose, camera, { supersample: opts.supersample });
      let pixels = r.rgb;
      if (opts.ablation === 'no-context') pixels = new Uint8Array(pixels.length).fill(128);
      buffer.add({ index: streamIndex, stampNs, pose, pixels });
    }
    streamIndex++;
  };
  // exploration (other-world: the memory holds another world's views, keeping this world's poses)
  const other = opts.ablation === 'other-world' ? deps.otherWorld : undefined;
  sc.exploration.forEach((p, i) => {
    if (other) {
      const q = other.exploration[Math.min(i, other.exploration.length - 1)] as Pose2D;
      feed(p, other.world, q);
    } else feed(p);
  });
  let pose = sc.start;
  const executed: Pose2D[] = [pose];
  const plans: MissionPlanRecord[] = [];
  const planSeconds: number[] = [];
  for (let k = 0; k < opts.maxPlans; k++) {
    const t0 = performance.now();
    let plan: PlanResult | undefined;
    let error: string | undefined;
    try {
      plan = await planToObject(
        { model: deps.model, modelId: deps.modelId, camera, frameDtS: deps.frameDtS, buffer },
        { object: sc.target.category, candidates: opts.candidates, steps: opts.steps, shift: opts.shift, guidance: opts.guidance, seed: opts.seed + 1000 * k, policy: opts.policy },
      );
    } catch (e) {
      if (!(e instanceof Video4SpatialError)) throw e;
      error = e.message;
    }
    planSeconds.push((performance.now() - t0) / 1000);
    const rec: MissionPlanRecord = { plan, error, from: pose, executed: [] };
    plans.push(rec);
    if (!plan) {
      // nothing to go on: turn in place to see more, then try again
      deps.onProgress?.(`plan ${k + 1}: no plan (${error}); turning to look around`);
      for (let s = 0; s < 8; s++) {
        pose = { ...pose, yaw: pose.yaw + Math.PI / 8 };
        rec.executed.push(pose);
        executed.push(pose);
        feed(pose);
      }
      continue;
    }
    const dGoal = Math.hypot(plan.goalPose.x - pose.x, plan.goalPose.y - pose.y);
    deps.onProgress?.(
      `plan ${k + 1}: candidate ${plan.chosen} of ${plan.candidates.length}, goal (${plan.goalPose.x.toFixed(2)}, ${plan.goalPose.y.toFixed(2)}) ${dGoal.toFixed(2)} m away, ${((performance.now() - t0) / 1000).toFixed(2)} s`,
    );
    if (k > 0 && dGoal < opts.arrivalDistanceM) {
      // arrived by the node's own belief: face the goal heading and stop
      const drive = driveTo(sc.world, pose, { ...pose, yaw: plan.goalPose.yaw });
      for (const p of drive.poses) {
        rec.executed.push(p);
        executed.push(p);
        feed(p);
      }
      pose = executed[executed.length - 1] as Pose2D;
      break;
    }
    const drive = driveTo(sc.world, pose, plan.goalPose, EXPLORE_DT, opts.replanDistanceM);
    for (const p of drive.poses) {
      rec.executed.push(p);
      executed.push(p);
      feed(p);
    }
    pose = executed[executed.length - 1] as Pose2D;
  }
  let len = 0;
  for (let i = 1; i < executed.length; i++) {
    const a = executed[i - 1] as Pose2D;
    const b = executed[i] as Pose2D;
    len += Math.hypot(b.x - a.x, b.y - a.y);
  }
  return {
    judgement: judge(sc.world, sc.target, pose, camera),
    plans,
    exploration: sc.exploration,
    executed,
    finalPose: pose,
    planSeconds,
    pathLengthM: len,
    keyframes: buffer.size,
  };
}
