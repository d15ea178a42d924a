/**
 * Training clips for the imagination model (pure: no I/O; the CLI writes them as .npy shards).
 *
 * One clip = K context frames + N target frames of the model camera:
 * - context: K−1 frames drawn non-contiguously (uniformly, without replacement) from the
 *   exploration before the request, plus the frame at the request; at least one shows the target;
 *   each keeps its ORIGINAL stream index (exploration frame number);
 * - target: N frames along the oracle path to the standoff pose, indices request+1 … request+N,
 *   with the target's 2D box drawn in red (BOX_COLOR, 1 px at 64×64) where it is visible;
 * - the instruction (the target's category = vocabulary index) and all poses (map frame).
 */
import { Rng, hash32 } from '../core/rng.js';
import type { Pose2D } from '../core/geometry.js';
import { MODEL_CAMERA_DEFAULT, type PinholeCamera } from './camera.js';
import { drawBox, render } from './renderer.js';
import {
  SEEN_MIN_PIXELS,
  clearanceCost,
  eligibleTargets,
  explore,
  groundTruthFor,
  posesAlongPath,
  visibilityTable,
} from './scenario.js';
import { BOX_COLOR, vocabularyIndex } from './vocabulary.js';
import { generateWorld } from './world.js';

export interface ClipOptions {
  /** Context frames (including the newest). */
  k: number;
  /** Target frames. */
  n: number;
  camera: PinholeCamera;
  supersample: number;
  clipsPerWorld: number;
  /** Box outline thickness in pixels. */
  boxThickness: number;
}

export const DEFAULT_CLIP_OPTIONS: ClipOptions = {
  k: 8,
  n: 6,
  camera: MODEL_CAMERA_DEFAULT,
  supersample: 2,
  clipsPerWorld: 5,
  boxThickness: 1,
};

export interface Clip {
  worldSeed: number;
  /** Vocabulary index (1-based) of the target's category. */
  object: number;
  objectName: string;
  /** (K+N)×H×W×3 rgb8. */
  frames: Uint8Array;
  /** (K+N) original stream indices. */
  indices: Int32Array;
  /** (K+N)×3: x, y (m), yaw (rad), map frame. */
  poses: Float32Array;
  /** (K+N)×4: the target's box x0, y0, x1, y1 (inclusive pixels), −1 where not visible. */
  boxes: Float32Array;
  /** Target centre (m), map frame. */
  objectXY: [number, number];
  /** Palette index of the target's colour in this world. */
  colorIndex: number;
  standoff: Pose2D;
  requestIndex: number;
}

/** Builds the clips of one world. Deterministic per seed and options. */
export function buildClips(seed: number, opts: ClipOptions = DEFAULT_CLIP_OPTIONS): Clip[] {
  const world = generateWorld(seed);
  const rng = new Rng(hash32(seed, 0xda7a));
  const exploration = explore(world, rng);
  const vis = visibilityTable(world, exploration);
  const cost = clearanceCost(world.grid);
  const { k: K, n: N, camera } = opts;
  const W = camera.width;
  const H = camera.height;
  const frameBytes = W * H * 3;
  const clips: Clip[] = [];
  const tMin = Math.max(K, Math.floor(exploration.length * 0.3));
  for (let attempt = 0; attempt < opts.clipsPerWorld * 6 && clips.length < opts.clipsPerWorld; attempt++) {
    const t = rng.int(tMin, exploration.length - 1);
    const elig = eligibleTargets(world, vis, t);
    if (elig.length === 0) continue;
    const target = rng.pick(elig);
    const start = exploration[t] as Pose2D;
    const gt = groundTruthFor(world, start, target, cost);
    if (!gt) continue;
    // context: K−1 distinct earlier frames + the newest; at least one shows the target
    const pool = rng.shuffle(Array.from({ length: t }, (_, i) => i)).slice(0, K - 1);
    const seen = (i: number) => ((vis[i] as Uint16Array)[target.id] as number) >= SEEN_MIN_PIXELS;
    if (!pool.some(seen)) {
      const showing = Array.from({ length: t }, (_, i) => i).filter(seen);
      pool[rng.int(0, pool.length - 1)] = rng.pick(showing);
      if (new Set(pool).size !== pool.length) continue;
    }
    const ctx = pool.sort((a, b) => a - b).concat([t]);
    const targetPoses = posesAlongPath(gt, N);
    const allPoses = ctx.map((i) => exploration[i] as Pose2D).concat(targetPoses);
    const frames = new Uint8Array((K + N) * frameBytes);
    const boxes = new Float32Array((K + N) * 4).fill(-1);
    allPoses.forEach((p, f) => {
      const r = render(world, p, camera, { supersample: opts.supersample });
      const b = r.objects.get(target.id);
      if (b) boxes.set([b.x0, b.y0, b.x1, b.y1], f * 4);
      if (b && f >= K) drawBox(r.rgb, W, H, b, BOX_COLOR, opts.boxThickness);
      frames.set(r.rgb, f * frameBytes);
    });
    const indices = new Int32Array(ctx.concat(targetPoses.map((_, i) => t + 1 + i)));
    const poses = new Float32Array(allPoses.flatMap((p) => [p.x, p.y, p.yaw]));
    clips.push({
      worldSeed: seed,
      object: vocabularyIndex(target.category),
      objectName: target.category,
      frames,
      indices,
      poses,
      boxes,
      objectXY: [target.x, target.y],
      colorIndex: target.colorIndex,
      standoff: gt.standoff,
      requestIndex: t,
    });
  }
  return clips;
}
