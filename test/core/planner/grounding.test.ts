import { strict as assert } from 'node:assert';
import { ContextBuffer } from '../../../src/core/context/ContextBuffer.js';
import { ParameterError } from '../../../src/core/errors.js';
import { groundBuffer, groundView, nameAwareIncludes, readGrounding, type KeyframeGrounding } from '../../../src/core/planner/grounding.js';
import type { ImaginationModel, ModelSpec } from '../../../src/core/sampler/model.js';
import { MODEL_CAMERA_DEFAULT } from '../../../src/sim/camera.js';
import { CATEGORIES } from '../../../src/sim/vocabulary.js';

const cam = MODEL_CAMERA_DEFAULT;
const G = 4;
const SPEC: ModelSpec = { width: 64, height: 64, latentChannels: 1, latentHeight: 1, latentWidth: 1, contextFrames: 8, targetFrames: 6, vocabulary: ['<null>', ...CATEGORIES], grounding: { grid: G, threshold: 0.5 } };

/**
 * Closed-form grounder double: a frame's latent is its first pixel's red value (the test writes a
 * keyframe's "content" there); the named object (vocabulary index v) shows in token v − 1 of every
 * frame whose content is v, with probability 0.9, and nowhere else (0.1).
 */
class TableGrounder implements ImaginationModel {
  readonly spec: ModelSpec;
  encodes = 0;
  grounds = 0;
  constructor(withGrounder = true) {
    this.spec = withGrounder ? SPEC : { ...SPEC, grounding: undefined as never };
    if (!withGrounder) delete (this.spec as { grounding?: unknown }).grounding;
    if (!withGrounder) this.ground = undefined;
  }
  async encode(f: Float32Array, batch: number) {
    this.encodes += batch;
    const out = new Float32Array(batch);
    for (let b = 0; b < batch; b++) out[b] = Math.round((f[b * 3 * 4096] as number) * 255);
    return out;
  }
  async denoise(lat: Float32Array) {
    return new Float32Array(lat.length);
  }
  async decode(_l: Float32Array, batch: number) {
    return new Float32Array(batch * 3 * 4096).fill(0.5);
  }
  ground?: (lat: Float32Array, obj: BigInt64Array, batch: number) => Promise<Float32Array> = async (lat, obj, batch) => {
    this.grounds += batch;
    const out = new Float32Array(batch * G * G).fill(0.1);
    for (let b = 0; b < batch; b++) {
      const v = Number(obj[b]);
      if (lat[b] === v) out[b * G * G + (v - 1)] = 0.9;
    }
    return out;
  };
}

function frame(content: number): Uint8Array {
  const px = new Uint8Array(64 * 64 * 3).fill(128);
  px[0] = content;
  return px;
}

/** A buffer whose keyframe i has content contents[i] (0 = nothing). */
function bufferOf(contents: number[]): ContextBuffer {
  const b = new ContextBuffer({ width: 64, height: 64 });
  contents.forEach((c, i) => b.add({ index: i * 3, stampNs: BigInt(i) * 600_000_000n, pose: { x: i * 0.5, y: 0, yaw: 0 }, pixels: frame(c) }));
  return b;
}

describe('core/planner/grounding', () => {
  it('readGrounding: the firing tokens, their strongest probability and their bearing (golden numbers)', () => {
    const p = new Float32Array(16).fill(0.2);
    p[7] = 0.8; // row 1, column 3: centre u = 56 px
    const g = readGrounding(p, G, 0.5, cam);
    assert.equal(g.shows, true);
    assert.equal(g.tokens, 1);
    assert.ok(Math.abs(g.maxProb - 0.8) < 1e-6);
    assert.ok(Math.abs((g.bearingRad as number) - Math.atan2(32 - 56, cam.fx)) < 1e-9, `bearing ${g.bearingRad}`);
    // two columns, weighted: (0.6·8 + 0.9·24) / 1.5 = 17.6 px → left of centre, positive bearing
    const q = new Float32Array(16).fill(0);
    q[0] = 0.6;
    q[1] = 0.9;
    assert.ok(Math.abs((readGrounding(q, G, 0.5, cam).bearingRad as number) - Math.atan2(32 - 17.6, cam.fx)) < 1e-6);
    const none = readGrounding(new Float32Array(16).fill(0.3), G, 0.5, cam);
    assert.deepEqual({ shows: none.shows, tokens: none.tokens, bearing: none.bearingRad }, { shows: false, tokens: 0, bearing: undefined });
  });

  it('readGrounding rejects a wrong length or a non-finite probability, quoting it', () => {
    assert.throws(() => readGrounding(new Float32Array(15), G, 0.5, cam), (e: unknown) => e instanceof ParameterError && e.code === 'grounder_output' && /expected 16 token probabilities, found 15/.test(e.message));
    const bad = new Float32Array(16);
    bad[3] = NaN;
    assert.throws(() => readGrounding(bad, G, 0.5, cam), (e: unknown) => e instanceof ParameterError && /token 3 is NaN/.test(e.message));
  });

  it('groundBuffer grounds each keyframe once per name and serves the rest from the buffer', async () => {
    const m = new TableGrounder();
    const buf = bufferOf([0, 1, 0, 5, 1, 0]);
    const chair = await groundBuffer(m, buf, 'id', 1, cam);
    assert.deepEqual(chair.filter((k) => k.shows).map((k) => k.index), [3, 12]);
    assert.equal(m.grounds, 6);
    assert.equal(m.encodes, 6);
    await groundBuffer(m, buf, 'id', 1, cam);
    assert.equal(m.grounds, 6, 'cached');
    buf.add({ index: 30, stampNs: 10n * 600_000_000n, pose: { x: 9, y: 0, yaw: 0 }, pixels: frame(1) });
    const again = await groundBuffer(m, buf, 'id', 1, cam);
    assert.equal(m.grounds, 7, 'only the new keyframe');
    assert.equal(m.encodes, 7);
    assert.deepEqual(again.filter((k) => k.shows).map((k) => k.index), [3, 12, 30]);
    const plant = await groundBuffer(m, buf, 'id', 5, cam);
    assert.deepEqual(plant.filter((k) => k.shows).map((k) => k.index), [9]);
    assert.equal(m.grounds, 14, 'another name is grounded anew');
    assert.equal(m.encodes, 7, 'latents are reused');
    const tv = await groundBuffer(m, buf, 'id', 7, cam);
    assert.equal(tv.some((k) => k.shows), false, 'a name the memory never saw: no keyframe');
  });

  it('groundBuffer skips keyframes evicted while the model runs, and grounds the ones added meanwhile on the next call', async () => {
    const m = new TableGrounder();
    const buf = new ContextBuffer({ width: 64, height: 64, maxFrames: 10 });
    [1, 0, 1, 0, 0, 0, 0, 0, 0, 0].forEach((c, i) => buf.add({ index: i, stampNs: BigInt(i) * 600_000_000n, pose: { x: i, y: 0, yaw: 0 }, pixels: frame(c) }));
    const encode = m.encode.bind(m);
    let added = false;
    m.encode = async (f, batch) => {
      if (!added) {
        added = true; // the camera keeps coming: two new keyframes evict the two oldest mid-call
        for (const i of [10, 11]) buf.add({ index: i, stampNs: BigInt(i) * 600_000_000n, pose: { x: i, y: 0, yaw: 0 }, pixels: frame(1) });
      }
      return encode(f, batch);
    };
    const g = await groundBuffer(m, buf, 'id', 1, cam);
    const kept = buf.entries().map((e) => e.index);
    assert.equal(kept.length, 10);
    assert.ok(kept.includes(10) && kept.includes(11) && !(kept.includes(0) && kept.includes(1)), `buffer ${kept.join(',')}`);
    assert.deepEqual(g.map((k) => k.index), kept.filter((i) => i < 10), 'evicted keyframes are gone; 10 and 11 wait for the next call');
    const again = await groundBuffer(m, buf, 'id', 1, cam);
    assert.deepEqual(again.map((k) => k.index), kept);
    assert.deepEqual(again.filter((k) => k.shows).map((k) => k.index), kept.filter((i) => i === 0 || i === 2 || i >= 10));
  });

  it('groundView grounds one view; without a grounder both calls throw no_grounder', async () => {
    const m = new TableGrounder();
    const v = await groundView(m, frame(2), 2, cam);
    assert.equal(v.shows, true);
    const bare = new TableGrounder(false);
    await assert.rejects(groundBuffer(bare, bufferOf([1]), 'id', 1, cam), (e: unknown) => e instanceof ParameterError && e.code === 'no_grounder');
    await assert.rejects(groundView(bare, frame(1), 1, cam), (e: unknown) => e instanceof ParameterError && e.code === 'no_grounder');
  });

  it('nameAwareIncludes deals the showing keyframes round-robin, strongest first', () => {
    const k = (index: number, maxProb: number, shows = true): KeyframeGrounding => ({ index, pose: { x: 0, y: 0, yaw: 0 }, prob: new Float32Array(0), maxProb, shows, tokens: shows ? 1 : 0, bearingRad: shows ? 0 : undefined, grid: 4, leftCol: shows ? 1 : -1, rightCol: shows ? 1 : -1, lowestRow: shows ? 2 : -1 });
    const g = [k(1, 0.6), k(2, 0.95), k(3, 0.2, false), k(4, 0.7)];
    assert.deepEqual(nameAwareIncludes(g, 4, 1), [[2], [4], [1], [2]]);
    assert.deepEqual(nameAwareIncludes(g, 2, 2), [[2, 4], [1, 2]]);
    assert.deepEqual(nameAwareIncludes([k(3, 0.2, false)], 3, 2), [[], [], []]);
  });
});

describe('core/context/ContextBuffer sample include', () => {
  const buf = bufferOf(Array.from({ length: 40 }, () => 0));
  for (const policy of ['uniform', 'recency', 'pose_diverse', 'contiguous'] as const) {
    it(`${policy}: the included keyframes, the newest and K in all`, () => {
      const s = buf.sample(8, policy, { seed: 3, include: [0, 6, 117] });
      assert.equal(s.indices.length, 8);
      for (const i of [0, 6, 117]) assert.ok(s.indices.includes(i), `${i} in ${s.indices.join(',')}`);
      assert.deepEqual([...s.indices].sort((a, b) => a - b), s.indices);
      assert.equal(new Set(s.indices).size, 8);
    });
  }
  it('at most K − 1 included; an index not in the buffer is refused with its value', () => {
    const s = buf.sample(3, 'uniform', { include: [0, 3, 6, 9] });
    assert.deepEqual(s.indices, [0, 3, 117]);
    assert.throws(() => buf.sample(3, 'uniform', { include: [1] }), (e: unknown) => e instanceof ParameterError && /keyframe 1 to include is not in the buffer \(it holds 0 … 117\)/.test(e.message));
  });
});
