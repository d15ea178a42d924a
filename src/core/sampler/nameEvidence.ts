/**
 * Name evidence for best-of-M: does a candidate's imagined video go to the NAMED object? (pure; the
 * model is a port). A diffusion model is also a classifier: the object that explains a video best
 * is the one under which the denoiser predicts its noise best. Numbered steps:
 *   1. check inputs;
 *   2. noise each candidate's final target latents x0 at each level t with seeded noise ε shared by
 *      all candidates and objects (paired comparisons): x_t = (1 − t)·x0 + t·ε;
 *   3. run the denoiser on [the candidate's own clean context (t = 0), x_t] once per object
 *      compared (the vocabulary, null class included), batched;
 *   4. loss(m, o) = mean over target values and levels of (v − (ε − x0))², the flow-matching loss;
 *      margin(m) = min over the other non-null objects o of loss(m, o) − loss(m, named): > 0 when
 *      the named object explains the video better than any other object does.
 * Context and target layouts are those of imagine.ts; time indices: context as sampled, targets 1..N.
 */
import { InferenceError } from '../errors.js';
import { Rng } from '../rng.js';
import { writeClipIndices, type CandidateContext } from './imagine.js';
import { latentSize, type ImaginationModel } from './model.js';

export interface NameEvidenceRequest {
  /** One context per candidate, or one shared by all (as in the ImagineRequest). */
  contexts: readonly CandidateContext[];
  /** Final target latents [M, N, C, h, w] (ImagineResult.latents). */
  latents: Float32Array;
  candidates: number;
  /** Vocabulary index of the named object (≥ 1). */
  object: number;
  /** Noise levels in (0, 1), e.g. [0.5, 0.8]. */
  tLevels: readonly number[];
  seed: number;
  /** Most rows per denoiser call (default 36). */
  maxBatch?: number;
}

export interface NameEvidence {
  /** Vocabulary indices compared (0 = null, then every object), in the order of `losses` columns. */
  compared: number[];
  /** losses[m][j]: flow loss of candidate m with object compared[j], mean over the levels. */
  losses: number[][];
  /** Per candidate: min over the other non-null objects of loss − the named object's loss. */
  margin: number[];
  /** Per candidate: loss with the null object − loss with the named one. */
  overNull: number[];
  /** Denoiser rows run (M · objects · levels). */
  rows: number;
}

/** Step 1: validates a request against the model; throws RangeError quoting the bad value. */
export function checkNameEvidenceRequest(model: ImaginationModel, r: NameEvidenceRequest): void {
  const spec = model.spec;
  const V = spec.vocabulary.length;
  if (!Number.isInteger(r.candidates) || r.candidates < 1) throw new RangeError(`name evidence: candidates must be a positive integer, got ${r.candidates}`);
  if (!Number.isInteger(r.object) || r.object < 1 || r.object >= V) throw new RangeError(`name evidence: object index must be in [1, ${V - 1}], got ${r.object}`);
  if (V < 3) throw new RangeError(`name evidence needs at least two objects in the vocabulary, got ${V - 1}`);
  if (r.tLevels.length === 0 || r.tLevels.some((t) => !(t > 0 && t < 1))) throw new RangeError(`name evidence: noise levels must be in (0, 1), got [${r.tLevels.join(', ')}]`);
  const L = latentSize(spec);
  const want = r.candidates * spec.targetFrames * L;
  if (r.latents.length !== want) throw new RangeError(`name evidence: latents hold ${r.latents.length} values, expected M*N*C*h*w = ${want}`);
  if (r.contexts.length !== 1 && r.contexts.length !== r.candidates) throw new RangeError(`name evidence: contexts must have 1 entry or one per candidate (${r.candidates}), got ${r.contexts.length}`);
  const K0 = (r.contexts[0] as CandidateContext).indices.length;
  r.contexts.forEach((c, i) => {
    if (c.indices.length !== K0 || c.latents.length !== K0 * L) throw new RangeError(`name evidence: context ${i} has ${c.indices.length} frames and ${c.latents.length} values, expected ${K0} and ${K0 * L}`);
  });
  if (r.maxBatch !== undefined && !(Number.isInteger(r.maxBatch) && r.maxBatch >= 1)) throw new RangeError(`name evidence: maxBatch must be a positive integer, got ${r.maxBatch}`);
}

/** Per candidate: min over the other non-null objects of (their loss − the named loss), and loss(null) − loss(named). */
export function marginsOf(losses: readonly (readonly number[])[], compared: readonly number[], object: number): { margin: number[]; overNull: number[] } {
  const jNamed = compared.indexOf(object);
  const jNull = compared.indexOf(0);
  if (jNamed < 0) throw new RangeError(`name evidence: the named object ${object} is not among the compared [${compared.join(', ')}]`);
  const margin = losses.map((row) => {
    let m = Infinity;
    compared.forEach((o, j) => {
      if (o !== 0 && o !== object) m = Math.min(m, (row[j] as number) - (row[jNamed] as number));
    });
    return m;
  });
  const overNull = losses.map((row) => (jNull < 0 ? NaN : (row[jNull] as number) - (row[jNamed] as number)));
  return { margin, overNull };
}

/** Runs steps 1–4. Deterministic for a given seed and model. */
export async function nameEvidence(model: ImaginationModel, r: NameEvidenceRequest): Promise<NameEvidence> {
  // 1. check
  checkNameEvidenceRequest(model, r);
  const spec = model.spec;
  const L = latentSize(spec);
  const M = r.candidates;
  const N = spec.targetFrames;
  const K = (r.contexts[0] as CandidateContext).indices.length;
  const Fr = K + N;
  const NL = N * L;
  const compared = spec.vocabulary.map((_, i) => i);
  const O = compared.length;
  // 2. noise: one ε per level, shared by every candidate and object; per (level, candidate) the
  // noised latents x_t and the velocity target ε − x0, made once for all the objects compared
  const rng = new Rng(r.seed);
  const eps = r.tLevels.map(() => {
    const e = new Float32Array(NL);
    for (let i = 0; i < NL; i++) e[i] = rng.normal();
    return e;
  });
  const noised = r.tLevels.map((t, l) =>
    Array.from({ length: M }, (_, m) => {
      const e = eps[l] as Float32Array;
      const x0 = r.latents.subarray(m * NL, (m + 1) * NL);
      const xt = new Float32Array(NL);
      const target = new Float64Array(NL);
      for (let i = 0; i < NL; i++) {
        xt[i] = (1 - t) * (x0[i] as number) + t * (e[i] as number);
        target[i] = (e[i] as number) - (x0[i] as number);
      }
      return { xt, target };
    }),
  );
  // rows: (level, candidate, object)
  const rows: { l: number; m: number; j: number }[] = [];
  r.tLevels.forEach((_, l) => {
    for (let m = 0; m < M; m++) for (let j = 0; j < O; j++) rows.push({ l, m, j });
  });
  const sums = Array.from({ length: M }, () => new Float64Array(O));
  const maxBatch = r.maxBatch ?? 36;
  // 3. denoise, batched
  for (let s = 0; s < rows.length; s += maxBatch) {
    const chunk = rows.slice(s, s + maxBatch);
    const B = chunk.length;
    const lat = new Float32Array(B * Fr * L);
    const tArr = new Float32Array(B * Fr);
    const idx = new Float32Array(B * Fr);
    const obj = new BigInt64Array(B);
    chunk.forEach(({ l, m, j }, b) => {
      const c = (r.contexts.length === 1 ? r.contexts[0] : r.contexts[m]) as CandidateContext;
      const t = r.tLevels[l] as number;
      lat.set(c.latents, b * Fr * L);
      lat.set((noised[l]?.[m] as { xt: Float32Array }).xt, (b * Fr + K) * L);
      writeClipIndices(idx, b * Fr, c.indices, N);
      tArr.fill(t, b * Fr + K, (b + 1) * Fr);
      obj[b] = BigInt(compared[j] as number);
    });
    const v = await model.denoise(lat, tArr, idx, obj, B, Fr);
    if (v.length !== B * Fr * L) throw new InferenceError(`denoiser returned ${v.length} values, expected ${B}*${Fr}*${L} = ${B * Fr * L}`, 'bad_output_shape');
    // 4. flow-matching loss per row against ε − x0
    chunk.forEach(({ l, m, j }, b) => {
      const target = (noised[l]?.[m] as { target: Float64Array }).target;
      const o = (b * Fr + K) * L;
      let se = 0;
      for (let i = 0; i < NL; i++) {
        const d = (v[o + i] as number) - (target[i] as number);
        se += d * d;
      }
      if (!Number.isFinite(se)) throw new InferenceError(`denoiser returned a non-finite value for candidate ${m}, object ${compared[j]}`, 'non_finite_output');
      (sums[m] as Float64Array)[j] = ((sums[m] as Float64Array)[j] as number) + se / NL;
    });
  }
  const losses = sums.map((row) => Array.from(row, (x) => x / r.tLevels.length));
  const { margin, overNull } = marginsOf(losses, compared, r.object);
  return { compared, losses, margin, overNull, rows: rows.length };
}
