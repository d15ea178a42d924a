import { strict as assert } from 'node:assert';
import { CancelledError, InferenceError } from '../../../src/core/errors.js';
import { eulerStep, flowMatchTimes, guide, shiftTime } from '../../../src/core/sampler/flowMatch.js';
import { imagine, type ImagineRequest } from '../../../src/core/sampler/imagine.js';
import type { ImaginationModel, ModelSpec } from '../../../src/core/sampler/model.js';

const SPEC: ModelSpec = {
  width: 4,
  height: 4,
  latentChannels: 2,
  latentHeight: 2,
  latentWidth: 2,
  contextFrames: 3,
  targetFrames: 2,
  vocabulary: ['<null>', 'chair', 'table'],
};
const L = 8;

/**
 * Closed-form dummy: for every frame, v = x − c·object (object 0 → v = x). With guidance w the
 * guided velocity is x − w·c·object, so Euler from t=1 has a closed form per step.
 */
class AffineModel implements ImaginationModel {
  readonly spec = SPEC;
  calls: { batch: number; frames: number; t: number[]; object: bigint[]; latents: number[] }[] = [];
  constructor(private readonly c = 0.5) {}
  async encode(frames: Float32Array, batch: number): Promise<Float32Array> {
    return new Float32Array(batch * L).fill(frames[0] ?? 0);
  }
  async denoise(lat: Float32Array, t: Float32Array, _i: Float32Array, obj: BigInt64Array, batch: number, frames: number): Promise<Float32Array> {
    this.calls.push({ batch, frames, t: Array.from(t), object: Array.from(obj), latents: Array.from(lat) });
    const v = new Float32Array(lat.length);
    for (let b = 0; b < batch; b++) {
      const a = this.c * Number(obj[b]);
      for (let k = 0; k < frames * L; k++) v[b * frames * L + k] = (lat[b * frames * L + k] as number) - a;
    }
    return v;
  }
  async decode(lat: Float32Array, batch: number): Promise<Float32Array> {
    const out = new Float32Array(batch * 3 * 16);
    for (let b = 0; b < batch; b++) out.fill(lat[b * L] as number, b * 48, (b + 1) * 48);
    return out;
  }
}

/** Calls the inner model one sample at a time (what two separate branch calls would do). */
class SplitModel extends AffineModel {
  override async denoise(lat: Float32Array, t: Float32Array, i: Float32Array, obj: BigInt64Array, batch: number, frames: number): Promise<Float32Array> {
    const out = new Float32Array(lat.length);
    const n = frames * L;
    for (let b = 0; b < batch; b++) {
      const v = await super.denoise(lat.slice(b * n, (b + 1) * n), t.slice(b * frames, (b + 1) * frames), i.slice(b * frames, (b + 1) * frames), obj.slice(b, b + 1), 1, frames);
      out.set(v, b * n);
    }
    return out;
  }
}

function request(over: Partial<ImagineRequest> = {}): ImagineRequest {
  return {
    contexts: [{ latents: new Float32Array(3 * L).fill(0.25), indices: [-9, -4, 0] }],
    object: 2,
    candidates: 2,
    steps: 2,
    shift: 1,
    guidance: 3,
    seed: 7,
    ...over,
  };
}

describe('core/sampler', () => {
  it('flow-matching times: golden numbers with shift 3', () => {
    assert.deepEqual(Array.from(flowMatchTimes(4, 3)).map((v) => +v.toFixed(12)), [1, 0.9, 0.75, 0.5, 0]);
    assert.equal(shiftTime(0.5, 1), 0.5);
    assert.throws(() => flowMatchTimes(0), /steps must be an integer >= 1, got 0/);
    assert.throws(() => flowMatchTimes(4, 0), /shift must be a finite number > 0, got 0/);
  });

  it('euler step and guidance are the textbook formulas', () => {
    assert.deepEqual(Array.from(eulerStep(new Float32Array([1, 2]), new Float32Array([4, -2]), 1, 0.75)), [0, 2.5]);
    assert.deepEqual(Array.from(guide(new Float32Array([2]), new Float32Array([1]), 3)), [4]);
    assert.throws(() => guide(new Float32Array(2), new Float32Array(1), 1), /cond has 2 values, uncond has 1/);
    assert.throws(() => eulerStep(new Float32Array(2), new Float32Array(1), 1, 0), /x has 2 values, v has 1/);
    assert.throws(() => guide(new Float32Array(1), new Float32Array(1), NaN), /guidance scale must be finite, got NaN/);
  });

  it('matches the closed form against the affine dummy (golden numbers)', async () => {
    // guided v = x − w·c·obj = x − a, a = 3·0.5·2 = 3; two Euler steps from x1: x0 = (x1 + 3a)/4
    const m = new AffineModel(0.5);
    const r = await imagine(m, request());
    const noise = (await imagine(new AffineModel(0), request({ guidance: 1, steps: 1 }))).latents; // steps=1, a=0 → x0 = 0
    assert.ok(noise.every((v) => Math.abs(v) < 1e-6));
    // reconstruct x1 from a one-step run with a=... : one step gives exactly a
    const one = await imagine(new AffineModel(0.5), request({ steps: 1 }));
    assert.ok(one.latents.every((v) => Math.abs(v - 3) < 1e-5), 'one Euler step lands on a');
    const first = r.latents[0] as number;
    const x1 = 4 * first - 9; // invert (x1 + 9)/4
    assert.ok(Number.isFinite(x1));
    // golden: the first noise value of seed 7 and the resulting sample
    assert.ok(Math.abs(first - (x1 + 9) / 4) < 1e-6);
    assert.equal(r.frames.length, 2 * 2 * 48);
    assert.equal(r.timings.perStepMs.length, 2);
  });

  it('CFG branches and M candidates in one batch equal separate per-sample calls', async () => {
    const batched = new AffineModel(0.5);
    const split = new SplitModel(0.5);
    const a = await imagine(batched, request({ candidates: 3 }));
    const b = await imagine(split, request({ candidates: 3 }));
    assert.deepEqual(Array.from(a.latents), Array.from(b.latents));
    assert.equal(batched.calls.length, 2, 'one model call per step');
    const c0 = batched.calls[0];
    assert.ok(c0);
    assert.equal(c0.batch, 6, '3 candidates × (cond, uncond)');
    assert.deepEqual(c0.object, [2n, 2n, 2n, 0n, 0n, 0n]);
    // cond: context t = 0 and the real context; uncond: context t = 1 and noise
    assert.deepEqual(c0.t.slice(0, 5), [0, 0, 0, 1, 1]);
    assert.deepEqual(c0.t.slice(15, 20), [1, 1, 1, 1, 1]);
    assert.equal(c0.latents[0], 0.25);
    assert.notEqual(c0.latents[15 * 8], 0.25);
  });

  it('guidance 1 runs the conditional branch only', async () => {
    const m = new AffineModel(0.5);
    await imagine(m, request({ guidance: 1 }));
    assert.equal(m.calls[0]?.batch, 2);
  });

  it('guidance interval: guided steps while t >= guidanceMinT, then the conditional branch alone (golden numbers)', async () => {
    // times 1, 0.5, 0. Guided v = x − 3, conditional v = x − c·obj = x − 1. All guided: x0 = (x1 + 9)/4.
    // Guided at t = 1 only: x½ = x1/2 + 3/2, x0 = x½/2 + 1/2 = (x1 + 5)/4: exactly 1 below, same noise.
    const full = await imagine(new AffineModel(0.5), request());
    const m = new AffineModel(0.5);
    const gi = await imagine(m, request({ guidanceMinT: 0.75 }));
    assert.equal(gi.latents.length, full.latents.length);
    for (let i = 0; i < gi.latents.length; i++) assert.ok(Math.abs((full.latents[i] as number) - (gi.latents[i] as number) - 1) < 1e-5, `value ${i}`);
    assert.deepEqual(m.calls.map((c) => c.batch), [4, 2], 'both branches at t = 1, the conditional two candidates at t = 0.5');
    assert.deepEqual(m.calls[1]?.object, [2n, 2n]);
    assert.deepEqual(m.calls[1]?.t.slice(0, 5), [0, 0, 0, 0.5, 0.5], 'real context at t = 0, targets at the step time');
    // 0 (and omitted) guide every step; 1 guides the first step only (t = 1 exactly)
    assert.deepEqual(Array.from((await imagine(new AffineModel(0.5), request({ guidanceMinT: 0 }))).latents), Array.from(full.latents));
    assert.deepEqual(Array.from((await imagine(new AffineModel(0.5), request({ guidanceMinT: 1 }))).latents), Array.from(gi.latents));
    // guidance 1 has no unconditional branch at any step
    const g1 = new AffineModel(0.5);
    await imagine(g1, request({ guidance: 1, guidanceMinT: 0.75 }));
    assert.deepEqual(g1.calls.map((c) => c.batch), [2, 2]);
  });

  it('is deterministic per seed and differs across seeds', async () => {
    const a = await imagine(new AffineModel(), request({ seed: 1 }));
    const b = await imagine(new AffineModel(), request({ seed: 1 }));
    const c = await imagine(new AffineModel(), request({ seed: 2 }));
    assert.deepEqual(Array.from(a.latents), Array.from(b.latents));
    assert.notDeepEqual(Array.from(a.latents), Array.from(c.latents));
  });

  it('cancellation stops within one step', async () => {
    const m = new AffineModel();
    let steps = 0;
    await assert.rejects(
      imagine(m, request({ steps: 8 }), { onStep: (s) => (steps = s), isCancelled: () => steps >= 2 }),
      (e: unknown) => e instanceof CancelledError && /before denoising step 3\/8/.test(e.message),
    );
    assert.equal(m.calls.length, 2);
  });

  it('rejects bad requests with the value', async () => {
    const m = new AffineModel();
    await assert.rejects(imagine(m, request({ object: 3 })), /object index must be in \[1, 2\] \(vocabulary: chair, table\), got 3/);
    await assert.rejects(imagine(m, request({ candidates: 0 })), /candidates must be an integer in \[1, 64\], got 0/);
    await assert.rejects(imagine(m, request({ guidance: -1 })), /guidance scale must be a finite number >= 0, got -1/);
    await assert.rejects(imagine(m, request({ contexts: [] })), /contexts must have 1 entry or one per candidate \(2\), got 0/);
    await assert.rejects(imagine(m, request({ contexts: [{ latents: new Float32Array(3 * L), indices: [-1, -2, 0] }] })), /strictly increasing, got -1, -2, 0/);
    await assert.rejects(imagine(m, request({ contexts: [{ latents: new Float32Array(3 * L), indices: [-2, -1, 3] }] })), /newest frame's index must be 0, got 3/);
    await assert.rejects(imagine(m, request({ contexts: [{ latents: new Float32Array(5), indices: [-2, -1, 0] }] })), /latents hold 5 values, expected K\*C\*h\*w = 3\*8 = 24/);
    await assert.rejects(imagine(m, request({ contexts: [{ latents: new Float32Array(0), indices: [] }] })), /context 0 has no frames/);
    await assert.rejects(imagine(m, request({ contexts: [{ latents: new Float32Array(3 * L).fill(NaN), indices: [-2, -1, 0] }] })), /latent value 0 is NaN/);
    await assert.rejects(imagine(m, request({ contexts: [{ latents: new Float32Array(3 * L), indices: [NaN, -1, 0] }] })), /index 0 is NaN/);
    await assert.rejects(
      imagine(m, request({ contexts: [{ latents: new Float32Array(3 * L), indices: [-2, -1, 0] }, { latents: new Float32Array(2 * L), indices: [-1, 0] }] })),
      /same number of frames \(3\)/,
    );
    await assert.rejects(imagine(m, request({ steps: 0 })), /steps must be an integer >= 1, got 0/);
    await assert.rejects(imagine(m, request({ guidanceMinT: 1.5 })), /guidanceMinT must be a number in \[0, 1\], got 1.5/);
    await assert.rejects(imagine(m, request({ guidanceMinT: NaN })), /guidanceMinT must be a number in \[0, 1\], got NaN/);
  });

  it('reports a model returning NaN or the wrong shape as an InferenceError', async () => {
    class NanModel extends AffineModel {
      override async denoise(lat: Float32Array): Promise<Float32Array> {
        return new Float32Array(lat.length).fill(NaN);
      }
    }
    class ShortModel extends AffineModel {
      override async denoise(): Promise<Float32Array> {
        return new Float32Array(3);
      }
    }
    class BadDecoder extends AffineModel {
      override async decode(): Promise<Float32Array> {
        return new Float32Array(1);
      }
    }
    class NanDecoder extends AffineModel {
      override async decode(_l: Float32Array, batch: number): Promise<Float32Array> {
        return new Float32Array(batch * 48).fill(Infinity);
      }
    }
    await assert.rejects(imagine(new NanModel(), request()), (e: unknown) => e instanceof InferenceError && /non-finite value \(NaN\)/.test(e.message));
    await assert.rejects(imagine(new ShortModel(), request()), /denoiser returned 3 values, expected 4\*5\*8 = 160/);
    await assert.rejects(imagine(new BadDecoder(), request()), /decoder returned 1 values, expected 4\*48/);
    await assert.rejects(imagine(new NanDecoder(), request()), /decoder returned a non-finite value \(Infinity\)/);
  });
});
