import { strict as assert } from 'node:assert';
import { type GateReason, KeyframeGate, type Thumbnail, thumbnailDifference } from '../../../src/core/context/keyframeGate.js';
import { ParameterError } from '../../../src/core/errors.js';
import type { Pose2D } from '../../../src/core/geometry.js';
import { secondsToNs } from '../../../src/core/tf/stamp.js';

const HZ = 30;
const DEG = Math.PI / 180;

/** Synthetic motions sampled at 30 Hz: pose at time t (s). */
const straight = (speed: number) => (t: number): Pose2D => ({ x: speed * t, y: 0, yaw: 0 });
const turnInPlace = (rate: number) => (t: number): Pose2D => ({ x: 0, y: 0, yaw: rate * t });
const idle = () => (): Pose2D => ({ x: 1, y: 2, yaw: 0.3 });

function run(gate: KeyframeGate, motion: (t: number) => Pose2D, seconds: number, thumb?: (i: number) => Thumbnail) {
  const admitted: { t: number; reason: GateReason }[] = [];
  const skipped = new Map<GateReason, number>();
  for (let i = 0; i < seconds * HZ; i++) {
    const t = i / HZ;
    const d = gate.consider({ stampNs: secondsToNs(t), pose: motion(t), ...(thumb ? { thumbnail: () => thumb(i) } : {}) });
    if (d.admit) admitted.push({ t, reason: d.reason });
    else skipped.set(d.reason, (skipped.get(d.reason) ?? 0) + 1);
  }
  return { admitted, skipped };
}

const flat = (v: number): Thumbnail => ({ side: 4, data: new Uint8Array(16).fill(v) });
const pattern = (seed: number): Thumbnail => ({ side: 4, data: Uint8Array.from({ length: 16 }, (_, i) => ((i * 37 + seed * 101) % 7) * 36) });

describe('core/context/keyframeGate', () => {
  it('driving straight at 0.5 m/s admits a keyframe every 0.25 m', () => {
    const { admitted } = run(new KeyframeGate(), straight(0.5), 10);
    assert.equal(admitted[0]?.reason, 'first');
    assert.ok(admitted.slice(1).every((a) => a.reason === 'translation'));
    // 5 m at 0.25 m → 20 keyframes after the first (frame times quantised to 1/30 s)
    assert.equal(admitted.length, 20);
    const gaps = admitted.slice(1).map((a, i) => a.t - (admitted[i] as { t: number }).t);
    assert.ok(gaps.every((g) => g >= 0.5 - 1e-9 && g <= 0.5 + 1 / HZ + 1e-9), `gaps ${gaps.join(',')}`);
  });

  it('turning in place at 30°/s admits on rotation every 15°', () => {
    const { admitted } = run(new KeyframeGate(), turnInPlace(30 * DEG), 6);
    assert.ok(admitted.slice(1).every((a) => a.reason === 'rotation'));
    assert.equal(admitted.length, 12);
  });

  it('turning across ±π counts the short way round', () => {
    const g = new KeyframeGate();
    g.consider({ stampNs: 0n, pose: { x: 0, y: 0, yaw: 3.1 } });
    assert.deepEqual(g.consider({ stampNs: secondsToNs(1), pose: { x: 0, y: 0, yaw: -3.1 } }), { admit: false, reason: 'unchanged' });
  });

  it('standing still admits only on the max interval', () => {
    const { admitted, skipped } = run(new KeyframeGate({ maxIntervalS: 5 }), idle(), 21);
    assert.deepEqual(
      admitted.map((a) => [Math.round(a.t), a.reason]),
      [[0, 'first'], [5, 'interval'], [10, 'interval'], [15, 'interval'], [20, 'interval']],
    );
    assert.ok((skipped.get('unchanged') ?? 0) > 500);
  });

  it('minIntervalS caps the rate even when the robot jumps every frame', () => {
    const { admitted, skipped } = run(new KeyframeGate({ minIntervalS: 0.5 }), straight(30), 3);
    assert.equal(admitted.length, 6);
    assert.ok((skipped.get('too_soon') ?? 0) > 0);
  });

  it('frames older than the last keyframe are skipped as out of order', () => {
    const g = new KeyframeGate();
    g.consider({ stampNs: secondsToNs(10), pose: { x: 0, y: 0, yaw: 0 } });
    assert.deepEqual(g.consider({ stampNs: secondsToNs(9), pose: { x: 5, y: 0, yaw: 0 } }), { admit: false, reason: 'out_of_order' });
  });

  it('the view test admits a changed view, ignores a brightness change, and asks for thumbnails only when needed', () => {
    let calls = 0;
    const views = (i: number) => {
      calls++;
      if (i < 60) return pattern(1);
      if (i < 120) return { side: 4, data: pattern(1).data.map((v) => Math.min(255, v + 40)) }; // exposure change only
      return pattern(2); // something moved into view
    };
    const gate = new KeyframeGate({ viewChangeThreshold: 0.05, minIntervalS: 0 });
    const { admitted } = run(gate, idle(), 5, views);
    assert.deepEqual(admitted.map((a) => [Math.round(a.t * HZ), a.reason]), [[0, 'first'], [120, 'view']]);
    assert.equal(calls, 150);
    // without the view test the callback is never used
    calls = 0;
    run(new KeyframeGate(), straight(1), 2, views);
    assert.equal(calls, 0);
  });

  it('rollback restores the previous keyframe as reference', () => {
    const g = new KeyframeGate();
    g.consider({ stampNs: 0n, pose: { x: 0, y: 0, yaw: 0 } });
    assert.equal(g.consider({ stampNs: secondsToNs(1), pose: { x: 1, y: 0, yaw: 0 } }).admit, true);
    g.rollback();
    // reference is back at x = 0: 0.3 m counts as a move again
    assert.deepEqual(g.consider({ stampNs: secondsToNs(1.1), pose: { x: 0.3, y: 0, yaw: 0 } }), { admit: true, reason: 'translation' });
    g.reset();
    assert.equal(g.consider({ stampNs: 0n, pose: { x: 0, y: 0, yaw: 0 } }).reason, 'first');
  });

  it('rejects bad parameters with name and value', () => {
    assert.throws(() => new KeyframeGate({ minTranslationM: -1 }), (e: unknown) => e instanceof ParameterError && /minTranslationM must be a finite number ≥ 0, got -1/.test(e.message));
    assert.throws(() => new KeyframeGate({ minIntervalS: 6, maxIntervalS: 5 }), (e: unknown) => e instanceof ParameterError && /minIntervalS 6 > maxIntervalS 5/.test(e.message));
    assert.throws(() => new KeyframeGate({ viewChangeThreshold: 2 }), (e: unknown) => e instanceof ParameterError && /viewChangeThreshold must be in \(0, 1\]/.test(e.message));
  });

  it('thumbnailDifference is 0 for equal and brightness-shifted views, and checks sizes', () => {
    assert.equal(thumbnailDifference(pattern(3), pattern(3)), 0);
    assert.equal(thumbnailDifference(flat(10), flat(200)), 0);
    assert.ok(thumbnailDifference(pattern(1), pattern(2)) > 0.1);
    assert.throws(() => thumbnailDifference(flat(1), { side: 2, data: new Uint8Array(4) }), (e: unknown) => e instanceof ParameterError && /4x4 vs 2x2/.test(e.message));
  });
});
