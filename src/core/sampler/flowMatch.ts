/**
 * Rectified-flow (flow-matching) sampling, as pure functions: the scheduler never calls the model.
 *
 * Convention (the model's training objective): x_t = (1 − t)·x_0 + t·ε, t ∈ [0, 1], the model
 * predicts v = ε − x_0, so dx/dt = v and an Euler step from t to t' is x + (t' − t)·v.
 * Sampling starts from pure noise at t = 1 and ends at t = 0.
 */

/** Time-shift used by SD3/Wan: t' = s·t / (1 + (s − 1)·t). s > 1 spends more steps at high noise. */
export function shiftTime(t: number, shift: number): number {
  return (shift * t) / (1 + (shift - 1) * t);
}

/**
 * The `steps + 1` times from 1 down to 0 (inclusive), uniformly spaced, then shifted.
 * @throws RangeError on steps < 1 or shift ≤ 0 (quoting the value).
 */
export function flowMatchTimes(steps: number, shift = 1): Float64Array {
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`steps must be an integer >= 1, got ${steps}`);
  if (!(shift > 0) || !Number.isFinite(shift)) throw new RangeError(`shift must be a finite number > 0, got ${shift}`);
  const out = new Float64Array(steps + 1);
  for (let i = 0; i <= steps; i++) out[i] = shiftTime(1 - i / steps, shift);
  return out;
}

/** One Euler step in place-free form: returns x + (tNext − t)·v (new array). */
export function eulerStep(x: Float32Array, v: Float32Array, t: number, tNext: number): Float32Array {
  if (x.length !== v.length) throw new RangeError(`eulerStep: x has ${x.length} values, v has ${v.length}`);
  const dt = tNext - t;
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = (x[i] as number) + dt * (v[i] as number);
  return out;
}

/** Classifier-free guidance: v_uncond + w·(v_cond − v_uncond). w = 1 is the conditional model. */
export function guide(vCond: Float32Array, vUncond: Float32Array, w: number): Float32Array {
  if (vCond.length !== vUncond.length) throw new RangeError(`guide: cond has ${vCond.length} values, uncond has ${vUncond.length}`);
  if (!Number.isFinite(w)) throw new RangeError(`guidance scale must be finite, got ${w}`);
  const out = new Float32Array(vCond.length);
  for (let i = 0; i < out.length; i++) {
    const u = vUncond[i] as number;
    out[i] = u + w * ((vCond[i] as number) - u);
  }
  return out;
}

/** The clean sample implied by x_t and v: x_0 = x_t − t·v. */
export function predictX0(x: Float32Array, v: Float32Array, t: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = (x[i] as number) - t * (v[i] as number);
  return out;
}
