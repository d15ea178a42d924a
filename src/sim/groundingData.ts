/**
 * Training and held-out frames for the grounder (which context tokens show a named object), from
 * the simulator's ground truth. Pure: no I/O; `dataset --grounding` writes them as .npy shards.
 *
 * One world gives the keyframes its exploration would put in the node's buffer (the same keyframe
 * gate as `eval`), each rendered at the model's camera, and for EVERY vocabulary category the
 * share of each token cell its objects cover: a category absent from the world, or out of view,
 * has all-zero targets, so the grounder also learns to stay silent for names the memory never saw.
 */
import type { Pose2D } from '../core/geometry.js';
import type { PinholeCamera } from './camera.js';
import { render } from './renderer.js';
import { explorationKeyframes, explore, scenarioRng } from './scenario.js';
import { CATEGORIES, vocabularyIndex } from './vocabulary.js';
import { generateWorld } from './world.js';

/** A token cell counts fully positive when the object covers this share of it (as in training's box targets). */
export const FULL_COVER_SHARE = 0.25;

export interface GroundingFrames {
  worldSeed: number;
  /** Keyframes, n×H×W×3 rgb8. */
  frames: Uint8Array;
  /** n×V×G·G: per frame, per vocabulary index (0 = null, always 0), per token cell (row-major y, x): covered share / FULL_COVER_SHARE, clipped to 1. */
  cover: Float32Array;
  /** n×V: pixels of each category per frame. */
  pixels: Int32Array;
  /** V: 1 where the world holds an object of that category. */
  present: Int32Array;
  /** n×3 poses (x, y m, yaw rad; map frame) of the keyframes. */
  poses: Float32Array;
  n: number;
}

/**
 * The keyframes of world `seed`'s exploration and their per-category token coverage on a
 * `grid`×`grid` token layout (the denoiser's patches: 64 px / 4 = 16 px cells for v4s-small).
 */
export function buildGroundingFrames(seed: number, camera: PinholeCamera, grid: number, supersample = 2): GroundingFrames {
  const { width: W, height: H } = camera;
  if (W % grid !== 0 || H % grid !== 0) throw new RangeError(`grid ${grid} must divide the frame ${W}×${H}`);
  const world = generateWorld(seed);
  const poses = explore(world, scenarioRng(seed));
  const kept = explorationKeyframes(poses).map((i) => poses[i] as Pose2D);
  const V = CATEGORIES.length + 1;
  const G2 = grid * grid;
  const catOfId = new Int32Array(world.objects.reduce((m, o) => Math.max(m, o.id), 0) + 1);
  const present = new Int32Array(V);
  for (const o of world.objects) {
    const v = vocabularyIndex(o.category);
    catOfId[o.id] = v;
    present[v] = 1;
  }
  const n = kept.length;
  const frames = new Uint8Array(n * W * H * 3);
  const cover = new Float32Array(n * V * G2);
  const pixels = new Int32Array(n * V);
  const cw = W / grid;
  const ch = H / grid;
  kept.forEach((p, f) => {
    const r = render(world, p, camera, { supersample });
    frames.set(r.rgb, f * W * H * 3);
    const counts = new Float32Array(V * G2);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const id = r.ids[y * W + x] as number;
        if (id === 0 || id >= catOfId.length) continue;
        const v = catOfId[id] as number;
        if (v === 0) continue;
        const k = v * G2 + Math.floor(y / ch) * grid + Math.floor(x / cw);
        counts[k] = (counts[k] as number) + 1;
        pixels[f * V + v] = (pixels[f * V + v] as number) + 1;
      }
    }
    const full = FULL_COVER_SHARE * cw * ch;
    for (let k = 0; k < V * G2; k++) cover[f * V * G2 + k] = Math.min(1, (counts[k] as number) / full);
  });
  return { worldSeed: seed, frames, cover, pixels, present, poses: new Float32Array(kept.flatMap((p) => [p.x, p.y, p.yaw])), n };
}
