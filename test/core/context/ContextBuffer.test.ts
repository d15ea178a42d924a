import { strict as assert } from 'node:assert';
import { ContextBuffer, type ContextSample, ENTRY_OVERHEAD_BYTES, SAMPLING_POLICIES, type SamplingPolicy } from '../../../src/core/context/ContextBuffer.js';
import { BadFrameError, ParameterError } from '../../../src/core/errors.js';
import type { Pose2D } from '../../../src/core/geometry.js';
import { secondsToNs } from '../../../src/core/tf/stamp.js';

const W = 8;
const H = 8;
const PIX = new Uint8Array(W * H * 3);
const frameAt = (index: number, t: number, pose: Pose2D = { x: 0, y: 0, yaw: 0 }) => ({ index, stampNs: secondsToNs(t), pose, pixels: PIX });

function checkSample(s: ContextSample, buf: ContextBuffer, k: number): void {
  assert.equal(s.indices.length, Math.min(k, buf.size));
  assert.deepEqual(s.indices, s.entries.map((e) => e.index), 'indices are the entries’ original indices');
  for (let i = 1; i < s.indices.length; i++) assert.ok((s.indices[i] as number) > (s.indices[i - 1] as number), `sorted and distinct: ${s.indices.join(',')}`);
  assert.equal(s.indices[s.indices.length - 1], buf.newest?.index, 'newest included');
  for (const e of s.entries) assert.equal(buf.getByIndex(e.index), e, 'sampled entries are kept entries');
}

describe('core/context/ContextBuffer', () => {
  it('rejects bad options naming the field', () => {
    const bad = (o: object, re: RegExp) => assert.throws(() => new ContextBuffer({ width: W, height: H, ...o }), (e: unknown) => e instanceof ParameterError && re.test(e.message));
    bad({ width: 0 }, /width must be a positive integer, got 0/);
    bad({ maxFrames: 2.5 }, /maxFrames must be a positive integer/);
    bad({ protectNewest: -1 }, /protectNewest must be an integer ≥ 0/);
    bad({ maxFrames: 5, protectNewest: 8 }, /maxFrames 5 must be ≥ protectNewest \+ 2 = 10/);
    bad({ maxBytes: 1000 }, /maxBytes 1000 holds fewer than protectNewest \+ 2 = 10 frames of 8x8/);
    bad({ gapTimeScaleS: 0 }, /gapTimeScaleS must be a positive number, got 0/);
  });

  it('rejects frames of the wrong size, out of order, or with a non-finite pose', () => {
    const b = new ContextBuffer({ width: W, height: H });
    assert.throws(() => b.add({ ...frameAt(0, 0), pixels: new Uint8Array(5) }), (e: unknown) => e instanceof BadFrameError && e.code === 'wrong_size' && /5 pixel bytes, expected 8x8x3 = 192/.test(e.message));
    assert.throws(() => b.add(frameAt(0, 0, { x: Number.NaN, y: 0, yaw: 0 })), (e: unknown) => e instanceof BadFrameError && e.code === 'bad_pose');
    b.add(frameAt(5, 1));
    assert.throws(() => b.add(frameAt(5, 2)), (e: unknown) => e instanceof BadFrameError && e.code === 'out_of_order' && /context frame 5 .* is not after the newest entry 5/.test(e.message));
    assert.throws(() => b.add(frameAt(6, 0.5)), (e: unknown) => e instanceof BadFrameError && e.code === 'out_of_order');
    assert.equal(b.size, 1);
  });

  it('a 1-hour 30 Hz stream: bounded, the first minute still kept and sampleable, no big holes', () => {
    const b = new ContextBuffer({ width: W, height: H, maxFrames: 512 });
    const N = 3600 * 30;
    for (let i = 0; i < N; i++) {
      const t = i / 30;
      // a slow tour around a 10 m x 6 m loop, 10 minutes per lap
      const a = (2 * Math.PI * t) / 600;
      b.add(frameAt(i, t, { x: 5 * Math.cos(a), y: 3 * Math.sin(a), yaw: a + Math.PI / 2 }));
      assert.ok(b.size <= 512);
    }
    assert.equal(b.size, 512);
    assert.equal(b.oldest?.index, 0, 'the oldest frame is never evicted');
    assert.equal(b.newest?.index, N - 1);
    const entries = b.entries();
    const firstMinute = entries.filter((e) => e.stampNs < secondsToNs(60));
    assert.ok(firstMinute.length >= 3, `first-minute frames kept: ${firstMinute.length}`);
    let maxGap = 0;
    for (let i = 1; i < entries.length; i++) maxGap = Math.max(maxGap, Number((entries[i] as { stampNs: bigint }).stampNs - (entries[i - 1] as { stampNs: bigint }).stampNs) / 1e9);
    assert.ok(maxGap < 4 * (3600 / 512), `largest hole ${maxGap.toFixed(1)} s`);
    let sawFirstMinute = 0;
    for (let seed = 0; seed < 20; seed++) {
      const s = b.sample(8, 'uniform', { seed });
      checkSample(s, b, 8);
      if (s.indices.some((i) => i < 60 * 30)) sawFirstMinute++;
    }
    assert.ok(sawFirstMinute > 0, 'uniform sampling reaches the first minute');
    assert.equal(b.evicted, N - 512);
  });

  it('thins a dense burst before sparse old history', () => {
    const b = new ContextBuffer({ width: W, height: H, maxFrames: 40, protectNewest: 4 });
    let i = 0;
    for (let t = 0; t < 100; t++) b.add(frameAt(i++, t)); // 1 Hz for 100 s
    for (let k = 0; k < 300; k++) b.add(frameAt(i++, 100 + k / 30)); // 30 Hz for 10 s
    const ts = b.entries().map((e) => Number(e.stampNs) / 1e9);
    const old = ts.filter((t) => t < 100).length;
    // 40 frames over 110 s: about 36 belong to the first 100 s if spacing is even
    assert.ok(old >= 30, `frames kept from the sparse first 100 s: ${old}`);
  });

  it('stays within the byte bound, latents included', () => {
    const frameBytes = W * H * 3 + ENTRY_OVERHEAD_BYTES;
    const maxBytes = 60 * frameBytes;
    const b = new ContextBuffer({ width: W, height: H, maxFrames: 10_000, maxBytes });
    for (let i = 0; i < 500; i++) {
      b.add(frameAt(i, i));
      if (i % 3 === 0) assert.equal(b.setLatent(i, 'm1', new Float32Array(32)), true);
      assert.ok(b.bytes <= maxBytes, `bytes ${b.bytes} > ${maxBytes}`);
    }
    const withLatents = b.latentCount('m1');
    assert.ok(withLatents > 0 && b.size < 60);
    assert.equal(b.getLatent(498, 'm1')?.length, 32);
    assert.equal(b.getLatent(498, 'other'), undefined);
    assert.equal(b.setLatent(1, 'm1', new Float32Array(4)), false, 'evicted frame: nothing cached');
    const before = b.bytes;
    b.dropLatents();
    assert.equal(b.bytes, before - withLatents * 128);
    assert.equal(b.latentCount('m1'), 0);
    assert.throws(() => b.setLatent(499, 'huge', new Float32Array(maxBytes)), (e: unknown) => e instanceof ParameterError && /latent for model 'huge'/.test(e.message));
  });

  it('dropLatents keeps the named model and a replaced latent is counted once', () => {
    const b = new ContextBuffer({ width: W, height: H });
    b.add(frameAt(0, 0));
    b.setLatent(0, 'a', new Float32Array(10));
    b.setLatent(0, 'a', new Float32Array(20));
    b.setLatent(0, 'b', new Float32Array(10));
    assert.equal(b.bytes, W * H * 3 + ENTRY_OVERHEAD_BYTES + 120);
    b.dropLatents('a');
    assert.equal(b.bytes, W * H * 3 + ENTRY_OVERHEAD_BYTES + 80);
    assert.ok(b.getLatent(0, 'a'));
  });

  describe('sampling', () => {
    function tourBuffer(): ContextBuffer {
      const b = new ContextBuffer({ width: W, height: H, maxFrames: 2000 });
      // 4 rooms (corners of a 10 m square), 100 frames in each, visited in order, then back in room 0
      const rooms = [
        { x: 0, y: 0 },
        { x: 10, y: 0 },
        { x: 10, y: 10 },
        { x: 0, y: 10 },
        { x: 0, y: 0 },
      ];
      let i = 0;
      rooms.forEach((r, k) => {
        for (let j = 0; j < 100; j++, i++) b.add(frameAt(i * 3 + 7, i, { x: r.x + j * 0.001, y: r.y, yaw: 0 }));
        void k;
      });
      return b;
    }

    it('every policy returns K original indices, sorted, distinct, newest last; deterministic per seed', () => {
      const b = tourBuffer();
      for (const p of SAMPLING_POLICIES) {
        const s1 = b.sample(6, p, { seed: 3 });
        checkSample(s1, b, 6);
        assert.equal(s1.policy, p);
        assert.deepEqual(b.sample(6, p, { seed: 3 }).indices, s1.indices, `${p} is deterministic`);
        assert.ok(s1.indices.every((i) => (i - 7) % 3 === 0), `${p}: original (non-contiguous) stream indices`);
      }
      assert.notDeepEqual(b.sample(6, 'uniform', { seed: 1 }).indices, b.sample(6, 'uniform', { seed: 2 }).indices);
    });

    it('contiguous = the last K', () => {
      const b = tourBuffer();
      const idx = b.entries().map((e) => e.index);
      assert.deepEqual(b.sample(5, 'contiguous').indices, idx.slice(-5));
    });

    it('uniform spreads over the whole time span', () => {
      const b = tourBuffer();
      const s = b.sample(6, 'uniform', { seed: 9 });
      const ts = s.entries.map((e) => Number(e.stampNs) / 1e9);
      // 5 strata of 100 s each over [0, 499): one pick per stratum
      for (let j = 0; j < 5; j++) assert.ok(ts.some((t) => t >= j * 99.8 && t < (j + 1) * 99.8 + 1), `stratum ${j}: ${ts.join(',')}`);
    });

    it('pose_diverse visits every room', () => {
      const b = tourBuffer();
      const s = b.sample(4, 'pose_diverse', { seed: 1 });
      const rooms = new Set(s.entries.map((e) => `${Math.round(e.pose.x / 10)},${Math.round(e.pose.y / 10)}`));
      assert.equal(rooms.size, 4, [...rooms].join(' '));
    });

    it('pose_diverse falls back to time coverage when the robot never moved', () => {
      const b = new ContextBuffer({ width: W, height: H });
      for (let i = 0; i < 100; i++) b.add(frameAt(i, i));
      const s = b.sample(5, 'pose_diverse');
      checkSample(s, b, 5);
      assert.ok((s.indices[0] as number) < 25, `oldest pick ${s.indices[0]}`);
    });

    it('recency prefers recent frames, more so with a short time constant', () => {
      const b = tourBuffer();
      const meanAge = (tau: number) => {
        let sum = 0;
        let n = 0;
        for (let seed = 0; seed < 10; seed++) {
          for (const e of b.sample(8, 'recency', { seed, recencyTauS: tau }).entries) {
            sum += Number((b.newest as { stampNs: bigint }).stampNs - e.stampNs) / 1e9;
            n++;
          }
        }
        return sum / n;
      };
      const short = meanAge(20);
      const long = meanAge(10_000);
      assert.ok(short < 40, `τ=20 s mean age ${short}`);
      assert.ok(long > 150, `τ=10000 s mean age ${long}`);
    });

    it('small buffers, empty buffers and bad arguments', () => {
      const b = new ContextBuffer({ width: W, height: H });
      assert.deepEqual(b.sample(4, 'uniform'), { policy: 'uniform', entries: [], indices: [] });
      b.add(frameAt(10, 0));
      b.add(frameAt(20, 1));
      assert.deepEqual(b.sample(4, 'pose_diverse').indices, [10, 20]);
      assert.deepEqual(b.sample(1, 'uniform').indices, [20]);
      assert.throws(() => b.sample(0, 'uniform'), (e: unknown) => e instanceof ParameterError && /positive integer, got 0/.test(e.message));
      assert.throws(() => b.sample(2, 'random' as SamplingPolicy), (e: unknown) => e instanceof ParameterError && /unknown context sampling policy 'random'/.test(e.message));
      b.add(frameAt(30, 2));
      assert.throws(() => b.sample(2, 'recency', { recencyTauS: 0 }), (e: unknown) => e instanceof ParameterError && /recencyTauS must be a positive/.test(e.message));
      assert.throws(() => b.sample(2, 'pose_diverse', { headingWeightM: -1 }), (e: unknown) => e instanceof ParameterError && /headingWeightM/.test(e.message));
      b.clear();
      assert.equal(b.size, 0);
      assert.equal(b.bytes, 0);
    });
  });
});
