/**
 * Where the named object is in memory: the model's grounder run on the context buffer's keyframes
 * (each once per name, cached in the buffer beside its latent), and on a single view (the arrival
 * check). Pure: the model is the core's port.
 */
import { ParameterError } from '../errors.js';
import type { Pose2D } from '../geometry.js';
import type { PinholeCamera } from '../camera.js';
import type { ContextBuffer, ContextEntry } from '../context/ContextBuffer.js';
import { latentSize, type ImaginationModel } from '../sampler/model.js';
import { fromRgb8 } from './frames.js';

/** Keyframes per grounder or encoder call. */
const GROUND_BATCH = 64;

/** What the grounder sees of the named object in one view. */
export interface ViewGrounding {
  /** Highest token probability. */
  maxProb: number;
  /** Whether a token reaches the model's threshold: the view shows the object. */
  shows: boolean;
  /** Tokens at or above the threshold. */
  tokens: number;
  /**
   * Horizontal bearing of the firing tokens' probability-weighted centre (rad, camera body frame:
   * + = left of the optical axis), undefined when nothing fires.
   */
  bearingRad: number | undefined;
  /** Token grid side. */
  grid: number;
  /** Leftmost and rightmost firing token columns (−1 when nothing fires; 0 = the image's left edge). */
  leftCol: number;
  rightCol: number;
  /** Lowest firing token row (−1 when nothing fires; grid − 1 = the image's bottom row). */
  lowestRow: number;
}

/** A keyframe of the buffer with its grounding. */
export interface KeyframeGrounding extends ViewGrounding {
  /** Stream index of the keyframe. */
  index: number;
  /** Robot pose at the keyframe (global frame). */
  pose: Pose2D;
  /** Token probabilities [grid·grid] (row-major y, x over the frame; the buffer's cached array). */
  prob: Float32Array;
}

/** Reads one view's token probabilities [grid·grid] (row-major y, x over the frame). */
export function readGrounding(prob: Float32Array, grid: number, threshold: number, camera: PinholeCamera): ViewGrounding {
  if (prob.length !== grid * grid) throw new ParameterError(`grounder output: expected ${grid * grid} token probabilities, found ${prob.length}`, 'grounder_output');
  let maxProb = 0;
  let tokens = 0;
  let leftCol = -1;
  let rightCol = -1;
  let lowestRow = -1;
  let wSum = 0;
  let uSum = 0;
  const cell = camera.width / grid;
  for (let k = 0; k < prob.length; k++) {
    const p = prob[k] as number;
    if (!Number.isFinite(p)) throw new ParameterError(`grounder output: token ${k} is ${p}`, 'grounder_output');
    if (p > maxProb) maxProb = p;
    if (p < threshold) continue;
    tokens++;
    const col = k % grid;
    const row = Math.floor(k / grid);
    if (leftCol < 0 || col < leftCol) leftCol = col;
    if (col > rightCol) rightCol = col;
    if (row > lowestRow) lowestRow = row;
    wSum += p;
    uSum += p * ((k % grid) + 0.5) * cell;
  }
  const bearingRad = wSum > 0 ? Math.atan2(camera.cx - uSum / wSum, camera.fx) : undefined;
  return { maxProb, shows: tokens > 0, tokens, bearingRad, grid, leftCol, rightCol, lowestRow };
}

/** The buffer's cache key for a model's grounding of one name. */
function groundKey(modelId: string, objectIndex: number): string {
  return `${modelId}#ground:${objectIndex}`;
}

/**
 * Latents of `entries` that the buffer has not cached for `modelId`, encoded (GROUND_BATCH at a
 * time) and cached. The planner's step 3 and the grounder share it.
 */
export async function encodeMissing(model: ImaginationModel, buffer: ContextBuffer, modelId: string, entries: readonly ContextEntry[]): Promise<void> {
  const spec = model.spec;
  const L = latentSize(spec);
  const fs = 3 * spec.width * spec.height;
  const need = new Map<number, ContextEntry>();
  for (const e of entries) if (!buffer.getLatent(e.index, modelId)) need.set(e.index, e);
  const list = [...need.values()];
  for (let o = 0; o < list.length; o += GROUND_BATCH) {
    const part = list.slice(o, o + GROUND_BATCH);
    const input = new Float32Array(part.length * fs);
    part.forEach((e, i) => fromRgb8(e.pixels, spec.width, spec.height, input, i * fs));
    const lat = await model.encode(input, part.length);
    part.forEach((e, i) => buffer.setLatent(e.index, modelId, lat.slice(i * L, (i + 1) * L)));
  }
}

/**
 * The grounding of every keyframe in the buffer for vocabulary index `objectIndex`, oldest first.
 * Keyframes grounded before (same model, same name) come from the buffer's cache; the rest are
 * encoded if needed and grounded GROUND_BATCH at a time. Keyframes evicted while the model runs
 * are left out, and keyframes added meanwhile are grounded by the next call. Throws ParameterError 'no_grounder' when
 * the model has none.
 */
export async function groundBuffer(model: ImaginationModel, buffer: ContextBuffer, modelId: string, objectIndex: number, camera: PinholeCamera): Promise<KeyframeGrounding[]> {
  const g = model.spec.grounding;
  const ground = model.ground?.bind(model);
  if (!g || !ground) throw new ParameterError(`model has no grounder: cannot tell which keyframes show '${model.spec.vocabulary[objectIndex] ?? objectIndex}'`, 'no_grounder');
  const key = groundKey(modelId, objectIndex);
  const entries = buffer.entries();
  const todo = entries.filter((e) => !buffer.getLatent(e.index, key));
  await encodeMissing(model, buffer, modelId, todo);
  const L = latentSize(model.spec);
  const G2 = g.grid * g.grid;
  for (let o = 0; o < todo.length; o += GROUND_BATCH) {
    // a keyframe the buffer evicted while the model ran (a full buffer, a moving camera) is skipped
    const part = todo.slice(o, o + GROUND_BATCH).filter((e) => buffer.getLatent(e.index, modelId) !== undefined);
    if (part.length === 0) continue;
    const lat = new Float32Array(part.length * L);
    part.forEach((e, i) => lat.set(buffer.getLatent(e.index, modelId) as Float32Array, i * L));
    const prob = await ground(lat, new BigInt64Array(part.length).fill(BigInt(objectIndex)), part.length);
    if (prob.length !== part.length * G2) throw new ParameterError(`grounder output: expected ${part.length * G2} values for ${part.length} keyframes, found ${prob.length}`, 'grounder_output');
    part.forEach((e, i) => buffer.setLatent(e.index, key, prob.slice(i * G2, (i + 1) * G2)));
  }
  // the buffer as it is now: evicted keyframes are gone, keyframes added meanwhile wait for the next call
  return buffer.entries().flatMap((e) => {
    const prob = buffer.getLatent(e.index, key);
    return prob ? [{ index: e.index, pose: e.pose, prob, ...readGrounding(prob, g.grid, g.threshold, camera) }] : [];
  });
}

/** The grounding of one rgb8 view (model size) for `objectIndex`, uncached. */
export async function groundView(model: ImaginationModel, rgb: Uint8Array, objectIndex: number, camera: PinholeCamera): Promise<ViewGrounding> {
  const g = model.spec.grounding;
  const ground = model.ground?.bind(model);
  if (!g || !ground) throw new ParameterError('model has no grounder: cannot check the view', 'no_grounder');
  const spec = model.spec;
  const input = new Float32Array(3 * spec.width * spec.height);
  fromRgb8(rgb, spec.width, spec.height, input, 0);
  const z = await model.encode(input, 1);
  const prob = await ground(z, new BigInt64Array([BigInt(objectIndex)]), 1);
  return readGrounding(prob, g.grid, g.threshold, camera);
}

/**
 * The keyframes each candidate's context must include (name-aware context): the keyframes that
 * show the object, strongest first, dealt round-robin `perCandidate` at a time so candidates get
 * different memories. [] for every candidate when none shows it.
 */
export function nameAwareIncludes(showing: readonly KeyframeGrounding[], candidates: number, perCandidate: number): number[][] {
  const order = showing.filter((k) => k.shows).sort((a, b) => b.maxProb - a.maxProb || b.index - a.index);
  return Array.from({ length: candidates }, (_, m) => {
    if (order.length === 0) return [];
    const take = Math.min(perCandidate, order.length);
    const out = new Set<number>();
    for (let j = 0; j < take; j++) out.add((order[(m * take + j) % order.length] as KeyframeGrounding).index);
    return [...out];
  });
}
