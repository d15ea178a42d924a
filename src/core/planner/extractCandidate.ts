/**
 * Step 5 of a plan for ONE candidate, as a pure function: its imagined frames → red box per frame →
 * odometry chain → anchoring against the pose-tagged keyframes → goal pose, object position and
 * score. Candidates are independent, so an Extractor may run them in parallel (see
 * src/planner/ExtractionPool.ts); `inlineExtractor` runs them one after the other here.
 *
 * Frames: poses in the map frame. Images: rgb8 H×W×3 of the camera's size.
 */
import type { PinholeCamera } from '../camera.js';
import type { Pose2D } from '../geometry.js';
import { anchorGoal, KeyframeIndex, type GoalEstimate, type Keyframe } from '../path/anchor.js';
import { detectBox, type BoxDetection } from '../path/box.js';
import { scoreCandidate, type CandidateScore } from '../path/score.js';
import { chainOdometry, type OdometryChain } from '../path/vo.js';

/** What every candidate of one plan shares. */
export interface ExtractionContext {
  camera: PinholeCamera;
  /** The current view (the newest context frame), rgb8: frame 0 of every chain. */
  newest: Uint8Array;
  /** Its red box (detected once per plan; normally none in a real camera image). */
  newestBox: BoxDetection | undefined;
  /** Robot pose (map) at the newest context frame. */
  startPose: Pose2D;
  /** Every keyframe in memory with its map pose (anchoring compares against all of them). */
  keyframes: Keyframe[];
}

/** One candidate's extraction; times in ms of the extracting thread's clock. */
export interface CandidateExtraction {
  chain: OdometryChain;
  /** Over [current view, ...frames]: index 0 is the current view. */
  goal: GoalEstimate;
  score: CandidateScore;
  boxMs: number;
  voMs: number;
  /** Anchoring, goal and object estimates, score (plus building the keyframe index, for the candidate that built it). */
  anchorMs: number;
}

/** Runs step 5 for the candidates' frames (N rgb8 frames each), results in the same order. */
export type Extractor = (ctx: ExtractionContext, candidates: readonly (readonly Uint8Array[])[]) => Promise<CandidateExtraction[]>;

/** Step 5 for one candidate's N imagined frames, against a KeyframeIndex built from ctx.keyframes. */
export function extractCandidate(frames: readonly Uint8Array[], ctx: ExtractionContext, index: KeyframeIndex, now: () => number = () => performance.now()): CandidateExtraction {
  const { camera } = ctx;
  const seq = [ctx.newest, ...frames];
  const t0 = now();
  const boxes = [ctx.newestBox, ...frames.map((x) => detectBox(x, camera.width, camera.height))];
  const t1 = now();
  const chain = chainOdometry(seq, camera);
  const t2 = now();
  const goal = anchorGoal(seq, index, camera, { chain, startPose: ctx.startPose, boxes });
  const last = goal.boxes[goal.boxes.length - 1];
  const score = scoreCandidate({ width: camera.width, lastBox: last, goal, chain, ...(goal.poses ? { poses: goal.poses } : {}) });
  const t3 = now();
  return { chain, goal, score, boxMs: t1 - t0, voMs: t2 - t1, anchorMs: t3 - t2 };
}

/** The extractor that runs every candidate in the calling thread, in order. */
export function inlineExtractor(now: () => number = () => performance.now()): Extractor {
  return async (ctx, candidates) => {
    const t0 = now();
    const index = new KeyframeIndex(ctx.keyframes, ctx.camera);
    const indexMs = now() - t0;
    return candidates.map((f, m) => {
      const x = extractCandidate(f, ctx, index, now);
      return m === 0 ? { ...x, anchorMs: x.anchorMs + indexMs } : x;
    });
  };
}
