import { strict as assert } from 'node:assert';
import { Rng } from '../../../src/core/rng.js';
import { marginsOf, nameEvidence, type NameEvidenceRequest } from '../../../src/core/sampler/nameEvidence.js';
import type { ImaginationModel, ModelSpec } from '../../../src/core/sampler/model.js';

const SPEC: ModelSpec = {
  width: 4,
  height: 4,
  latentChannels: 2,
  latentHeight: 2,
  latentWidth: 2,
  contextFrames: 3,
  targetFrames: 2,
  vocabulary: ['<null>', 'chair', 'table', 'lamp'],
};
const L = 8;
const N = 2;
const K = 3;

/** Closed-form dummy: for every frame, v = x − c·object (object 0 → v = x); records every call. */
class AffineModel implements ImaginationModel {
  readonly spec = SPEC;
  calls: { batch: number; t: number[]; index: number[]; object: bigint[]; latents: Float32Array }[] = [];
  constructor(private readonly c = 0.3) {}
  async encode(): Promise<Float32Array> {
    throw new Error('not used');
  }
  async denoise(lat: Float32Array, t: Float32Array, index: Float32Array, obj: BigInt64Array, batch: number, frames: number): Promise<Float32Array> {
    this.calls.push({ batch, t: Array.from(t), index: Array.from(index), object: Array.from(obj), latents: lat.slice() });
    const v = new Float32Array(lat.length);
    for (let b = 0; b < batch; b++) {
      const a = this.c * Number(obj[b]);
      for (let k = 0; k < frames * L; k++) v[b * frames * L + k] = (lat[b * frames * L + k] as number) - a;
    }
    return v;
  }
  async decode(): Promise<Float32Array> {
    throw new Error('not used');
  }
}

function request(over: Partial<NameEvidenceRequest> = {}): NameEvidenceRequest {
  const latents = new Float32Array(2 * N * L);
  for (let i = 0; i < latents.length; i++) latents[i] = i < N * L ? 0.2 + 0.01 * i : -0.4 + 0.02 * (i - N * L);
  return {
    contexts: [
      { latents: new Float32Array(K * L).fill(0.5), indices: [-9, -4, 0] },
      { latents: new Float32Array(K * L).fill(-0.5), indices: [-7, -2, 0] },
    ],
    latents,
    candidates: 2,
    object: 2,
    tLevels: [0.5, 0.8],
    seed: 11,
    ...over,
  };
}

/** The loss by its definition, for the affine dummy: v − (ε − x0) = (2 − t)·x0 − (1 − t)·ε − c·o. */
function expectedLosses(r: NameEvidenceRequest, c: number): number[][] {
  const rng = new Rng(r.seed);
  const eps = r.tLevels.map(() => Array.from({ length: N * L }, () => Math.fround(rng.normal())));
  return Array.from({ length: r.candidates }, (_, m) =>
    SPEC.vocabulary.map((_, o) => {
      let sum = 0;
      r.tLevels.forEach((t, l) => {
        let se = 0;
        for (let i = 0; i < N * L; i++) {
          const x0 = Math.fround(r.latents[m * N * L + i] as number);
          const e = eps[l]?.[i] as number;
          const xt = Math.fround((1 - t) * x0 + t * e);
          const d = Math.fround(xt - c * o) - (e - x0);
          se += d * d;
        }
        sum += se / (N * L);
      });
      return sum / r.tLevels.length;
    }),
  );
}

describe('core/sampler/nameEvidence', () => {
  it('golden losses and margins against the flow-matching loss written out for a closed-form model', async () => {
    const model = new AffineModel(0.3);
    const r = request();
    const ev = await nameEvidence(model, r);
    const want = expectedLosses(r, 0.3);
    assert.deepEqual(ev.compared, [0, 1, 2, 3]);
    ev.losses.forEach((row, m) => row.forEach((v, j) => assert.ok(Math.abs(v - (want[m]?.[j] as number)) < 1e-9, `loss[${m}][${j}] ${v} vs ${want[m]?.[j]}`)));
    for (let m = 0; m < 2; m++) {
      const row = want[m] as number[];
      const margin = Math.min((row[1] as number) - (row[2] as number), (row[3] as number) - (row[2] as number));
      assert.ok(Math.abs((ev.margin[m] as number) - margin) < 1e-5);
      assert.ok(Math.abs((ev.overNull[m] as number) - ((row[0] as number) - (row[2] as number))) < 1e-5);
    }
    assert.equal(ev.rows, 2 * 4 * 2);
  });

  it('feeds each candidate its own clean context and indices, the level as the targets\' time, and every object', async () => {
    const model = new AffineModel();
    const r = request({ tLevels: [0.5] });
    await nameEvidence(model, r);
    assert.equal(model.calls.length, 1);
    const call = model.calls[0] as AffineModel['calls'][number];
    assert.equal(call.batch, 8);
    assert.deepEqual(call.object, [0n, 1n, 2n, 3n, 0n, 1n, 2n, 3n]);
    const F = K + N;
    for (let b = 0; b < 8; b++) {
      const m = b < 4 ? 0 : 1;
      assert.deepEqual(call.t.slice(b * F, (b + 1) * F), [0, 0, 0, 0.5, 0.5]);
      assert.deepEqual(call.index.slice(b * F, (b + 1) * F), m === 0 ? [-9, -4, 0, 1, 2] : [-7, -2, 0, 1, 2]);
      assert.equal(call.latents[b * F * L], m === 0 ? 0.5 : -0.5, 'context latents of the candidate itself');
    }
  });

  it('batches at most maxBatch rows per call with the same numbers', async () => {
    const a = await nameEvidence(new AffineModel(), request());
    const small = new AffineModel();
    const b = await nameEvidence(small, request({ maxBatch: 3 }));
    assert.equal(small.calls.length, Math.ceil(16 / 3));
    assert.ok(small.calls.every((c) => c.batch <= 3));
    assert.deepEqual(b.losses, a.losses);
  });

  it('a model that ignores the name gives margins of 0: no evidence either way', async () => {
    const ev = await nameEvidence(new AffineModel(0), request());
    ev.margin.forEach((m) => assert.equal(m, 0));
  });

  it('rejects bad requests, quoting the value', async () => {
    const model = new AffineModel();
    await assert.rejects(nameEvidence(model, request({ tLevels: [0.5, 1] })), /noise levels must be in \(0, 1\), got \[0\.5, 1\]/);
    await assert.rejects(nameEvidence(model, request({ tLevels: [] })), /noise levels must be in \(0, 1\), got \[\]/);
    await assert.rejects(nameEvidence(model, request({ object: 0 })), /object index must be in \[1, 3\], got 0/);
    await assert.rejects(nameEvidence(model, request({ latents: new Float32Array(5) })), /latents hold 5 values, expected M\*N\*C\*h\*w = 32/);
    await assert.rejects(nameEvidence(model, request({ maxBatch: 0 })), /maxBatch must be a positive integer, got 0/);
    assert.equal(model.calls.length, 0);
  });

  it('marginsOf: the named object must be among those compared', () => {
    assert.throws(() => marginsOf([[1, 2]], [0, 1], 3), /the named object 3 is not among the compared \[0, 1\]/);
    assert.deepEqual(marginsOf([[0.9, 0.5, 0.4, 0.7]], [0, 1, 2, 3], 2), { margin: [0.09999999999999998], overNull: [0.5] });
  });
});
