/**
 * Training episodes whose contexts are chosen the way the node chooses them (pure: no I/O; `dataset
 * --episodes` writes them as .npy shards; docs in README "The training dataset").
 *
 * Where `dataset.ts` renders K fresh context frames for every clip, drawn uniformly from all
 * exploration frames, an episode world renders once the keyframes the node's keyframe gate would
 * have put in its buffer (the pool), and every episode (a request at one of those keyframes, an
 * object to find, N boxed target frames along the oracle path) carries D context draws made by the
 * node's own code on that buffer: per imagined plan, `nameAwareIncludes` deals the keyframes that
 * show the object (the simulator's visibility standing in for the grounder, each such keyframe
 * counted with probability `grounderRecall`, strongest first) to M candidates, and
 * `sampleContexts` (planToObject's step 2) draws candidate 0 pose-diverse and the others uniform
 * with seeds seed + m. A trainer gathers a context's latents from the pool by slot,
 * so one rendered keyframe serves many contexts (the augmentation a reused pool needs).
 */
import { ContextBuffer, type SamplingPolicy } from '../core/context/ContextBuffer.js';
import type { Pose2D } from '../core/geometry.js';
import { nameAwareIncludes, type KeyframeGrounding } from '../core/planner/grounding.js';
import { NAME_AWARE_FRAMES, sampleContexts } from '../core/planner/planToObject.js';
import { Rng, hash32 } from '../core/rng.js';
import { MODEL_CAMERA_DEFAULT, type PinholeCamera } from './camera.js';
import { drawBox, render, type ObjectBox } from './renderer.js';
import {
  SEEN_MIN_PIXELS,
  clearanceCost,
  eligibleTargets,
  explorationKeyframes,
  explorationStampNs,
  explore,
  groundTruthFor,
  posesAlongPath,
  visibilityTable,
} from './scenario.js';
import { BOX_COLOR, vocabularyIndex } from './vocabulary.js';
import { generateWorld } from './world.js';

/** Candidate 0's policy: the node's default `context_policy` parameter. */
export const NODE_CONTEXT_POLICY: SamplingPolicy = 'pose_diverse';

export interface EpisodeOptions {
  /** Context frames per draw (including the newest, the request's keyframe). */
  k: number;
  /** Target frames. */
  n: number;
  camera: PinholeCamera;
  supersample: number;
  /** Box outline thickness in pixels (target frames only). */
  boxThickness: number;
  /** Episodes per world (fewer when the world offers fewer requests). */
  episodesPerWorld: number;
  /** Imagined plans per episode; each gives `candidates` context draws (D = plans × candidates). */
  plans: number;
  /** Candidates per plan (the node's M). */
  candidates: number;
  /** Chance in [0, 1] that a keyframe showing the object counts as showing (the grounder's recall). */
  grounderRecall: number;
}

export const DEFAULT_EPISODE_OPTIONS: EpisodeOptions = {
  k: 8,
  n: 6,
  camera: MODEL_CAMERA_DEFAULT,
  supersample: 2,
  boxThickness: 1,
  episodesPerWorld: 8,
  plans: 4,
  candidates: 4,
  // the shipped grounder's keyframe recall on held-out worlds: 0.769 (MODEL_CARD, Grounder)
  grounderRecall: 0.77,
};

export interface Episode {
  /** Vocabulary index (1-based) of the target's category. */
  object: number;
  objectName: string;
  /** Palette index of the target's colour in this world. */
  colorIndex: number;
  /** Exploration frame of the request (a keyframe: the newest frame of every context). */
  requestIndex: number;
  /** Its slot in the world's pool. */
  requestSlot: number;
  /** N×H×W×3 rgb8, the target's box drawn in red where it is visible. */
  targetFrames: Uint8Array;
  /** N stream indices: requestIndex + 1 … requestIndex + N. */
  targetIndices: Int32Array;
  /** N×3: x, y (m), yaw (rad), map frame. */
  targetPoses: Float32Array;
  /** N×4: the target's box x0, y0, x1, y1 (inclusive pixels), −1 where not visible. */
  targetBoxes: Float32Array;
  /** D×K pool slots, each row ascending in time and ending with requestSlot. */
  contexts: Int32Array;
  /** D×K×4: the target's box in each context frame, −1 where not visible. */
  contextBoxes: Float32Array;
  /** Target centre (m), map frame. */
  objectXY: [number, number];
  standoff: Pose2D;
}

export interface EpisodeWorld {
  worldSeed: number;
  /** Keyframes in the pool (P). */
  poolSize: number;
  /** P×H×W×3 rgb8, no boxes. */
  poolFrames: Uint8Array;
  /** P exploration frame indices (the node's stream indices), ascending. */
  poolIndices: Int32Array;
  /** P×3: x, y (m), yaw (rad), map frame (float64: the poses the draws were made with). */
  poolPoses: Float64Array;
  episodes: Episode[];
}

/** Context draws per episode. */
export function drawsPerEpisode(opts: EpisodeOptions): number {
  return opts.plans * opts.candidates;
}

function checkOptions(opts: EpisodeOptions): void {
  const posInt = (name: string, v: number) => {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`episodes: ${name} must be a positive integer, found ${v}`);
  };
  posInt('k', opts.k);
  posInt('n', opts.n);
  posInt('episodesPerWorld', opts.episodesPerWorld);
  posInt('plans', opts.plans);
  posInt('candidates', opts.candidates);
  if (!(opts.grounderRecall >= 0 && opts.grounderRecall <= 1)) throw new RangeError(`episodes: grounderRecall must lie in [0, 1], found ${opts.grounderRecall}`);
}

/** Builds the pool and episodes of one world. Deterministic per seed and options. */
export function buildEpisodes(seed: number, opts: EpisodeOptions = DEFAULT_EPISODE_OPTIONS): EpisodeWorld {
  checkOptions(opts);
  const { k: K, n: N, camera } = opts;
  const { width: W, height: H } = camera;
  const frameBytes = W * H * 3;
  const world = generateWorld(seed);
  const rng = new Rng(hash32(seed, 0xe915));
  const exploration = explore(world, rng);
  const vis = visibilityTable(world, exploration);
  const cost = clearanceCost(world.grid);
  const keyIdx = explorationKeyframes(exploration);
  const keyPose = keyIdx.map((i) => exploration[i] as Pose2D);
  const P = keyIdx.length;
  const poolFrames = new Uint8Array(P * frameBytes);
  const poolBoxes: Map<number, ObjectBox>[] = [];
  keyPose.forEach((pose, s) => {
    const r = render(world, pose, camera, { supersample: opts.supersample });
    poolFrames.set(r.rgb, s * frameBytes);
    poolBoxes.push(r.objects);
  });
  const out: EpisodeWorld = {
    worldSeed: seed,
    poolSize: P,
    poolFrames,
    poolIndices: new Int32Array(keyIdx),
    poolPoses: new Float64Array(keyPose.flatMap((p) => [p.x, p.y, p.yaw])),
    episodes: [],
  };
  // requests: keyframes late enough to have K of them and 30 % of the exploration behind
  const tMin = Math.max(K, Math.floor(exploration.length * 0.3));
  const requestSlots = keyIdx.map((_, s) => s).filter((s) => s >= K - 1 && (keyIdx[s] as number) >= tMin);
  if (requestSlots.length === 0) return out;
  const D = drawsPerEpisode(opts);
  /** Visible pixels of object `id` in pool slot `s` (the 32×32 visibility render). */
  const seenIn = (s: number, id: number) => ((vis[keyIdx[s] as number] as Uint16Array)[id] as number);
  const slotOf = new Map(keyIdx.map((i, s) => [i, s]));
  const used = new Set<string>();
  for (let attempt = 0; attempt < opts.episodesPerWorld * 6 && out.episodes.length < opts.episodesPerWorld; attempt++) {
    const slot = rng.pick(requestSlots);
    const t = keyIdx[slot] as number;
    // the object must be out of view now and seen by some earlier KEYFRAME (what memory holds)
    const elig = eligibleTargets(world, vis, t).filter((o) => {
      for (let s = 0; s < slot; s++) if (seenIn(s, o.id) >= SEEN_MIN_PIXELS) return true;
      return false;
    });
    if (elig.length === 0) continue;
    const target = rng.pick(elig);
    const key = `${slot}:${target.id}`;
    if (used.has(key)) continue;
    const gt = groundTruthFor(world, exploration[t] as Pose2D, target, cost);
    if (!gt) continue;
    used.add(key);
    // the node's buffer at the request: every keyframe up to and including the request's
    const buffer = new ContextBuffer({ width: W, height: H }); // default capacity: no world's pool fills it
    for (let s = 0; s <= slot; s++) {
      buffer.add({ index: keyIdx[s] as number, stampNs: explorationStampNs(keyIdx[s] as number), pose: keyPose[s] as Pose2D, pixels: poolFrames.subarray(s * frameBytes, (s + 1) * frameBytes) });
    }
    const contexts = new Int32Array(D * K);
    const contextBoxes = new Float32Array(D * K * 4).fill(-1);
    for (let j = 0; j < opts.plans; j++) {
      const showing: KeyframeGrounding[] = [];
      for (let s = 0; s <= slot; s++) {
        const px = seenIn(s, target.id);
        if (px >= SEEN_MIN_PIXELS && rng.next() < opts.grounderRecall) showing.push(groundingStandIn(keyIdx[s] as number, keyPose[s] as Pose2D, px, rng));
      }
      const includes = nameAwareIncludes(showing, opts.candidates, Math.min(NAME_AWARE_FRAMES, K - 1));
      const planSeed = episodePlanSeed(seed, out.episodes.length, j);
      const samples = sampleContexts(buffer, K, opts.candidates, NODE_CONTEXT_POLICY, planSeed, includes);
      samples.forEach((sample, m) => {
        const d = j * opts.candidates + m;
        sample.indices.forEach((idx, c) => {
          const s = slotOf.get(idx) as number;
          contexts[d * K + c] = s;
          const b = (poolBoxes[s] as Map<number, ObjectBox>).get(target.id);
          if (b) contextBoxes.set([b.x0, b.y0, b.x1, b.y1], (d * K + c) * 4);
        });
      });
    }
    const targetPoses = posesAlongPath(gt, N);
    const targetFrames = new Uint8Array(N * frameBytes);
    const targetBoxes = new Float32Array(N * 4).fill(-1);
    targetPoses.forEach((p, f) => {
      const r = render(world, p, camera, { supersample: opts.supersample });
      const b = r.objects.get(target.id);
      if (b) {
        targetBoxes.set([b.x0, b.y0, b.x1, b.y1], f * 4);
        drawBox(r.rgb, W, H, b, BOX_COLOR, opts.boxThickness);
      }
      targetFrames.set(r.rgb, f * frameBytes);
    });
    out.episodes.push({
      object: vocabularyIndex(target.category),
      objectName: target.category,
      colorIndex: target.colorIndex,
      requestIndex: t,
      requestSlot: slot,
      targetFrames,
      targetIndices: new Int32Array(targetPoses.map((_, i) => t + 1 + i)),
      targetPoses: new Float32Array(targetPoses.flatMap((p) => [p.x, p.y, p.yaw])),
      targetBoxes,
      contexts,
      contextBoxes,
      objectXY: [target.x, target.y],
      standoff: gt.standoff,
    });
  }
  return out;
}

/** The seed of plan `plan` of episode `episode` of world `worldSeed` (candidate m draws with seed + m). */
export function episodePlanSeed(worldSeed: number, episode: number, plan: number): number {
  return hash32(worldSeed, episode * 65536 + plan);
}

/**
 * What the grounder would report for a keyframe that shows the object: its strength (the order in
 * which `nameAwareIncludes` deals keyframes) grows with the object's visible pixels, jittered so
 * that equally visible keyframes trade places between plans.
 */
function groundingStandIn(index: number, pose: Pose2D, pixels: number, rng: Rng): KeyframeGrounding {
  const maxProb = Math.min(1, 0.5 + pixels / 256) * (0.8 + 0.2 * rng.next());
  return { index, pose, prob: new Float32Array(0), shows: true, maxProb, tokens: 1, bearingRad: undefined, grid: 0, leftCol: -1, rightCol: -1, lowestRow: -1 };
}
