/**
 * Cost of the per-frame context bookkeeping, measured on this machine (used by
 * `video4spatial-nav bench` and scripts/benchIngest.ts): the keyframe gate's decision, a
 * ContextBuffer add with eviction at capacity, and sampling K frames from a full buffer with each
 * policy. Timings are medians of per-call wall times (performance.now, ms), on the calling thread.
 */
import { secondsToNs } from '../tf/stamp.js';
import { ContextBuffer, DEFAULT_CONTEXT_MAX_FRAMES, SAMPLING_POLICIES, type SamplingPolicy } from './ContextBuffer.js';
import { KeyframeGate } from './keyframeGate.js';

/** Median of a non-empty list (the upper median for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('median of an empty list');
  const a = xs.slice().sort((p, q) => p - q);
  return a[a.length >> 1] as number;
}

/**
 * Median ms per call of `fn(i)` over `n` timed calls, after `warm` untimed warm-up calls.
 * @throws RangeError when n is not a positive integer.
 */
export function medianMs(n: number, fn: (i: number) => void, warm = Math.min(20, n)): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`medianMs: n must be a positive integer, got ${n}`);
  for (let i = 0; i < warm; i++) fn(i);
  const t: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    fn(i);
    t.push(performance.now() - t0);
  }
  return median(t);
}

export interface ContextCost {
  /** KeyframeGate.consider on a moving pose, ms per frame (median of 10·n calls). */
  gateDecisionMs: number;
  /** ContextBuffer.add of one 64×64 frame into a full buffer (one eviction), ms. */
  addEvictMs: number;
  /** ContextBuffer.sample(k, policy) on the full buffer, ms per call, by policy. */
  sampleMs: Record<SamplingPolicy, number>;
  /** K frames per sample. */
  k: number;
  /** Entries in the buffer while sampling (= its capacity). */
  bufferFrames: number;
  /** Its accounted size, bytes. */
  bufferBytes: number;
}

/**
 * Measures the gate, add/evict and sampling on a ContextBuffer of `maxFrames` 64×64 frames
 * (default capacity 1024) filled along a circle of radius 5 m, one frame every 0.5 s.
 * @param n timed calls per measurement (the gate and add get 10·n).
 */
export function measureContextCost(n: number, opts: { maxFrames?: number; k?: number } = {}): ContextCost {
  const maxFrames = opts.maxFrames ?? DEFAULT_CONTEXT_MAX_FRAMES;
  const k = opts.k ?? 8;
  const gate = new KeyframeGate();
  const gateDecisionMs = medianMs(n * 10, (i) => void gate.consider({ stampNs: secondsToNs(i / 30), pose: { x: i * 0.001, y: 0, yaw: 0 } }));
  const buf = new ContextBuffer({ width: 64, height: 64, maxFrames });
  const pix = new Uint8Array(64 * 64 * 3);
  let idx = 0;
  const add = () => {
    const t = idx / 2;
    buf.add({ index: idx, stampNs: secondsToNs(t), pose: { x: Math.cos(t / 50) * 5, y: Math.sin(t / 50) * 5, yaw: t / 50 }, pixels: pix });
    idx++;
  };
  for (let i = 0; i < maxFrames; i++) add();
  const addEvictMs = medianMs(n * 10, add);
  const sampleMs = {} as Record<SamplingPolicy, number>;
  for (const p of SAMPLING_POLICIES) sampleMs[p] = medianMs(n, (i) => void buf.sample(k, p, { seed: i }));
  return { gateDecisionMs, addEvictMs, sampleMs, k, bufferFrames: buf.size, bufferBytes: buf.bytes };
}
