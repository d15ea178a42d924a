/**
 * Step 5 of a plan for ONE candidate, as a pure function: its imagined frames → red box per frame →
 * odometry chain → anchoring against the pose-tagged keyframes → goal pose, object position and
 * score. Candidates are independent, so an Extractor may run them in parallel (see
 * src/planner/ExtractionPool.ts); `inlineExtractor` runs them one after the other here. Within a
 * candidate the chain (chainPart) and the anchoring of its last frames (anchorPart) are
 * independent too, so they may run in parallel; combineParts joins them into the same result.
 *
 * Frames: poses in the map frame. Images: rgb8 H×W×3 of the camera's size.
 */
import type { PinholeCamera } from '../camera.js';
import type { Pose2D } from '../geometry.js';
import { anchorGoal, anchorLastFrames, KeyframeIndex, type Anchor, type GoalEstimate, type Keyframe } from '../path/anchor.js';
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

/** The chain half of a candidate's extraction: boxes and odometry over [current view, ...frames]. */
export interface ChainPart {
  boxes: (BoxDetection | undefined)[];
  chain: OdometryChain;
  boxMs: number;
  voMs: number;
}

/** The anchoring half: the best anchor of each of the last frames (anchorLastFrames over [current view, ...frames]). */
export interface AnchorPart {
  anchors: { frame: number; anchor: Anchor | undefined }[];
  /** Including building the keyframe index, for the part that built it. */
  anchorMs: number;
}

/** Boxes and the odometry chain of one candidate's N imagined frames. */
export function chainPart(frames: readonly Uint8Array[], ctx: ExtractionContext, now: () => number = () => performance.now()): ChainPart {
  const { camera } = ctx;
  const t0 = now();
  const boxes = [ctx.newestBox, ...frames.map((x) => detectBox(x, camera.width, camera.height))];
  const t1 = now();
  const chain = chainOdometry([ctx.newest, ...frames], camera);
  return { boxes, chain, boxMs: t1 - t0, voMs: now() - t1 };
}

/** The anchors of one candidate's last frames against a KeyframeIndex built from ctx.keyframes. */
export function anchorPart(frames: readonly Uint8Array[], ctx: ExtractionContext, index: KeyframeIndex, now: () => number = () => performance.now()): AnchorPart {
  const t0 = now();
  const anchors = anchorLastFrames([ctx.newest, ...frames], index, index.params.anchorFrames);
  return { anchors, anchorMs: now() - t0 };
}

/** Goal, object and score from the two halves: the same result as extractCandidate. */
export function combineParts(frames: readonly Uint8Array[], ctx: ExtractionContext, c: ChainPart, a: AnchorPart, now: () => number = () => performance.now()): CandidateExtraction {
  const { camera } = ctx;
  const t0 = now();
  const goal = anchorGoal([ctx.newest, ...frames], ctx.keyframes, camera, {
    chain: c.chain,
    startPose: ctx.startPose,
    boxes: c.boxes,
    anchors: a.anchors,
    params: { anchorFrames: a.anchors.length },
  });
  const last = goal.boxes[goal.boxes.length - 1];
  const score = scoreCandidate({ width: camera.width, lastBox: last, goal, chain: c.chain, ...(goal.poses ? { poses: goal.poses } : {}) });
  return { chain: c.chain, goal, score, boxMs: c.boxMs, voMs: c.voMs, anchorMs: a.anchorMs + (now() - t0) };
}

/** Step 5 for one candidate's N imagined frames, against a KeyframeIndex built from ctx.keyframes. */
export function extractCandidate(frames: readonly Uint8Array[], ctx: ExtractionContext, index: KeyframeIndex, now: () => number = () => performance.now()): CandidateExtraction {
  return combineParts(frames, ctx, chainPart(frames, ctx, now), anchorPart(frames, ctx, index, now), now);
}

/**
 * The extractor that runs every candidate in the calling thread, in order. It keeps the keyframe
 * index of its last plan, so the next plan computes the layouts of the new keyframes only.
 */
export function inlineExtractor(now: () => number = () => performance.now()): Extractor {
  let previous: KeyframeIndex | undefined;
  return async (ctx, candidates) => {
    const t0 = now();
    const index = new KeyframeIndex(ctx.keyframes, ctx.camera, undefined, previous);
    previous = index;
    const indexMs = now() - t0;
    return candidates.map((f, m) => {
      const x = extractCandidate(f, ctx, index, now);
      return m === 0 ? { ...x, anchorMs: x.anchorMs + indexMs } : x;
    });
  };
}
