/**
 * The imagination pipeline (diffusers-style numbered steps; pure, the model is a port):
 *   1. check inputs          2. prepare seeded noise          3. denoise (flow matching, joint CFG,
 *   M candidates and both guidance branches in ONE batch per step)          4. decode.
 *
 * Joint classifier-free guidance (Video4Spatial): the unconditional branch drops the instruction
 * (object 0) AND replaces the context latents by pure noise (their time t = 1);
 * v = v_uncond + w·(v_cond − v_uncond). With `guidanceMinT` > 0, guidance is applied only at the
 * steps whose time t ≥ guidanceMinT (the noisy ones, where the layout is decided); the later steps
 * run the conditional branch alone, M sequences instead of 2M (a guidance interval).
 */
import { CancelledError, InferenceError } from '../errors.js';
import { Rng } from '../rng.js';
import { eulerStep, flowMatchTimes, guide } from './flowMatch.js';
import { frameSize, latentSize, type ImaginationModel } from './model.js';

/** One candidate's context: K encoded frames and their time indices (newest = 0, older < 0). */
export interface CandidateContext {
  /** [K, C, h, w] */
  latents: Float32Array;
  /** K time indices, strictly increasing, last = 0. */
  indices: readonly number[];
}

export interface ImagineRequest {
  /** One context per candidate, or a single one shared by all candidates. */
  contexts: readonly CandidateContext[];
  /** Vocabulary index of the object (≥ 1). */
  object: number;
  candidates: number;
  steps: number;
  shift: number;
  guidance: number;
  /**
   * Guidance only at the steps whose time t ≥ this, in [0, 1] (t = 1 is pure noise); the others run
   * the conditional branch alone. 0 or omitted: every step guided.
   */
  guidanceMinT?: number;
  seed: number;
}

export interface ImagineHooks {
  /** Called after each denoising step (1-based). */
  onStep?: (step: number, steps: number) => void;
  /** Polled before each step; true → CancelledError at that step boundary. */
  isCancelled?: () => boolean;
  /** Monotonic clock in ms for stage timings (default performance.now). */
  now?: () => number;
}

export interface ImagineResult {
  /** [M, N, C, h, w] final target latents. */
  latents: Float32Array;
  /** [M, N, 3, H, W] decoded frames in [0, 1]. */
  frames: Float32Array;
  candidates: number;
  targetFrames: number;
  /** Stage timings in ms. */
  timings: { denoiseMs: number; perStepMs: number[]; decodeMs: number };
}

/**
 * Writes one clip's time indices at `offset` of `out`: the K context frames' own (original, ≤ 0)
 * indices, then 1..N for the target frames, which continue from the newest context frame.
 */
export function writeClipIndices(out: Float32Array, offset: number, contextIndices: readonly number[], targetFrames: number): void {
  const K = contextIndices.length;
  for (let f = 0; f < K; f++) out[offset + f] = contextIndices[f] as number;
  for (let f = 0; f < targetFrames; f++) out[offset + K + f] = f + 1;
}

/** Step 1: validates a request against the model; throws RangeError quoting the bad value. */
export function checkImagineRequest(model: ImaginationModel, r: ImagineRequest): void {
  const spec = model.spec;
  const L = latentSize(spec);
  if (!Number.isInteger(r.candidates) || r.candidates < 1 || r.candidates > 64) throw new RangeError(`candidates must be an integer in [1, 64], got ${r.candidates}`);
  if (!Number.isInteger(r.object) || r.object < 1 || r.object >= spec.vocabulary.length) {
    throw new RangeError(`object index must be in [1, ${spec.vocabulary.length - 1}] (vocabulary: ${spec.vocabulary.slice(1).join(', ')}), got ${r.object}`);
  }
  if (!Number.isFinite(r.guidance) || r.guidance < 0) throw new RangeError(`guidance scale must be a finite number >= 0, got ${r.guidance}`);
  const gMin = r.guidanceMinT ?? 0;
  if (!Number.isFinite(gMin) || gMin < 0 || gMin > 1) throw new RangeError(`guidanceMinT must be a number in [0, 1], got ${r.guidanceMinT}`);
  if (r.contexts.length !== 1 && r.contexts.length !== r.candidates) {
    throw new RangeError(`contexts must have 1 entry or one per candidate (${r.candidates}), got ${r.contexts.length}`);
  }
  r.contexts.forEach((c, i) => {
    const K = c.indices.length;
    if (K < 1) throw new RangeError(`context ${i} has no frames`);
    if (c.latents.length !== K * L) throw new RangeError(`context ${i}: latents hold ${c.latents.length} values, expected K*C*h*w = ${K}*${L} = ${K * L}`);
    for (let k = 0; k < K; k++) {
      const v = c.indices[k] as number;
      if (!Number.isFinite(v)) throw new RangeError(`context ${i}: index ${k} is ${v}`);
      if (k > 0 && v <= (c.indices[k - 1] as number)) throw new RangeError(`context ${i}: indices must be strictly increasing, got ${c.indices.join(', ')}`);
    }
    if (c.indices[K - 1] !== 0) throw new RangeError(`context ${i}: the newest frame's index must be 0, got ${c.indices[K - 1]}`);
    for (let k = 0; k < c.latents.length; k++) {
      if (!Number.isFinite(c.latents[k] as number)) throw new RangeError(`context ${i}: latent value ${k} is ${c.latents[k]}`);
    }
  });
  const K0 = (r.contexts[0] as CandidateContext).indices.length;
  if (r.contexts.some((c) => c.indices.length !== K0)) throw new RangeError(`all contexts must have the same number of frames (${K0})`);
  // steps / shift are checked by flowMatchTimes
}

function checkFinite(a: Float32Array, what: string): void {
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i] as number)) throw new InferenceError(`${what} returned a non-finite value (${a[i]}) at element ${i}`, 'non_finite_output');
  }
}

/** Runs steps 1–4. Deterministic for a given seed and model. */
export async function imagine(model: ImaginationModel, r: ImagineRequest, hooks: ImagineHooks = {}): Promise<ImagineResult> {
  const now = hooks.now ?? (() => performance.now());
  // 1. check inputs
  checkImagineRequest(model, r);
  const times = flowMatchTimes(r.steps, r.shift);
  const spec = model.spec;
  const L = latentSize(spec);
  const M = r.candidates;
  const N = spec.targetFrames;
  const K = (r.contexts[0] as CandidateContext).indices.length;
  const Fr = K + N;
  const ctxOf = (m: number) => (r.contexts.length === 1 ? r.contexts[0] : r.contexts[m]) as CandidateContext;

  // 2. prepare latents: target noise per candidate, and the unconditional branch's context noise
  const rng = new Rng(r.seed);
  let x: Float32Array = new Float32Array(M * N * L);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  const useCfg = r.guidance !== 1;
  const ctxNoise = new Float32Array(useCfg ? M * K * L : 0);
  for (let i = 0; i < ctxNoise.length; i++) ctxNoise[i] = rng.normal();

  const B = useCfg ? 2 * M : M;
  const lat = new Float32Array(B * Fr * L);
  const tArr = new Float32Array(B * Fr);
  const idx = new Float32Array(B * Fr);
  const obj = new BigInt64Array(B);
  for (let b = 0; b < B; b++) {
    const m = b % M;
    const uncond = b >= M;
    const c = ctxOf(m);
    if (uncond) lat.set(ctxNoise.subarray(m * K * L, (m + 1) * K * L), b * Fr * L);
    else lat.set(c.latents, b * Fr * L);
    writeClipIndices(idx, b * Fr, c.indices, N);
    if (uncond) tArr.fill(1, b * Fr, b * Fr + K);
    obj[b] = uncond ? 0n : BigInt(r.object);
  }

  // 3. denoise
  const perStepMs: number[] = [];
  const t0 = now();
  for (let s = 0; s < r.steps; s++) {
    if (hooks.isCancelled?.()) throw new CancelledError(`cancelled before denoising step ${s + 1}/${r.steps}`);
    const ts = now();
    const t = times[s] as number;
    // a guided step runs both branches (2M sequences), an unguided one the conditional M
    // (1e-9: a grid time that is T up to rounding, e.g. 1 − 8/10 at 10 steps, counts as T)
    const guided = useCfg && t >= (r.guidanceMinT ?? 0) - 1e-9;
    const Bs = guided ? B : M;
    for (let b = 0; b < Bs; b++) {
      const m = b % M;
      lat.set(x.subarray(m * N * L, (m + 1) * N * L), (b * Fr + K) * L);
      for (let f = K; f < Fr; f++) tArr[b * Fr + f] = t;
    }
    // the conditional sequences come first, so an unguided step passes the first M of each array (views, no copies)
    const v = await model.denoise(lat.subarray(0, Bs * Fr * L), tArr.subarray(0, Bs * Fr), idx.subarray(0, Bs * Fr), obj.subarray(0, Bs), Bs, Fr);
    if (v.length !== Bs * Fr * L) throw new InferenceError(`denoiser returned ${v.length} values, expected ${Bs}*${Fr}*${L} = ${Bs * Fr * L}`, 'bad_output_shape');
    checkFinite(v, 'denoiser');
    const vc = new Float32Array(M * N * L);
    const vu = new Float32Array(guided ? M * N * L : 0);
    for (let m = 0; m < M; m++) {
      vc.set(v.subarray((m * Fr + K) * L, (m * Fr + Fr) * L), m * N * L);
      if (guided) vu.set(v.subarray(((M + m) * Fr + K) * L, ((M + m) * Fr + Fr) * L), m * N * L);
    }
    x = eulerStep(x, guided ? guide(vc, vu, r.guidance) : vc, t, times[s + 1] as number);
    perStepMs.push(now() - ts);
    hooks.onStep?.(s + 1, r.steps);
  }
  const denoiseMs = now() - t0;

  // 4. decode
  const td = now();
  const frames = await model.decode(x, M * N);
  if (frames.length !== M * N * frameSize(spec)) {
    throw new InferenceError(`decoder returned ${frames.length} values, expected ${M * N}*${frameSize(spec)}`, 'bad_output_shape');
  }
  checkFinite(frames, 'decoder');
  return { latents: x, frames, candidates: M, targetFrames: N, timings: { denoiseMs, perStepMs, decodeMs: now() - td } };
}
