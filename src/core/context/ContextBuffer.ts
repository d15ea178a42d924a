/**
 * The rolling, non-contiguous context memory (Video4Spatial's spatial memory): admitted camera
 * keyframes at the model's frame size, each with its ORIGINAL stream index (the camera frame
 * counter), its stamp and the robot's pose at that stamp, bounded in frames and bytes.
 *
 * Eviction keeps coverage of the whole history: when full, it removes the frame whose removal
 * opens the smallest merged gap between its neighbours, measured in time, position and heading
 * (it thins the densest stretch), never the oldest frame nor the newest `protectNewest` ones. So
 * a room seen in the first minute of an hour-long run is still there, at a coarser spacing.
 *
 * Sampling returns K entries and their original indices, sorted in time, always including the
 * newest; policies: 'uniform' (over the covered time span), 'recency' (weighted to recent
 * frames), 'pose_diverse' (greedy farthest point in x, y, heading), 'contiguous' (the last K, for
 * ablations). Deterministic for a given seed. Pure: no I/O.
 */
import { BadFrameError, ParameterError } from '../errors.js';
import { type Pose2D, type Transform3D, angleDiff } from '../geometry.js';
import { Rng } from '../rng.js';

/** One keyframe. Treat `pixels` and latents as read-only: entries are shared, not copied. */
export interface ContextEntry {
  /** Original stream index (camera frame counter since the node started). */
  readonly index: number;
  /** Acquisition stamp (ns, header.stamp). */
  readonly stampNs: bigint;
  /** Robot base pose in the global frame at the stamp (m, rad). */
  readonly pose: Pose2D;
  /** Camera pose in the global frame at the stamp, when TF knows the camera frame. */
  readonly camera?: Transform3D;
  /** RGB, model size: height × width × 3 bytes, row-major, no padding. */
  readonly pixels: Uint8Array;
}

/** What `add` takes. */
export interface ContextFrame {
  index: number;
  stampNs: bigint;
  pose: Pose2D;
  camera?: Transform3D;
  pixels: Uint8Array;
}

export type SamplingPolicy = 'uniform' | 'recency' | 'pose_diverse' | 'contiguous';
export const SAMPLING_POLICIES: readonly SamplingPolicy[] = ['uniform', 'recency', 'pose_diverse', 'contiguous'];

export interface SampleOptions {
  /** Seed for the policy's randomness (uniform jitter, recency draws, ties). Default 0. */
  seed?: number;
  /** 'recency': weight exp(−age / recencyTauS); age in seconds before the newest frame. Default 60 s. */
  recencyTauS?: number;
  /** 'pose_diverse': metres that one radian of heading difference counts as. Default 1 m/rad. */
  headingWeightM?: number;
  /**
   * Stream indices that must be in the sample (e.g. keyframes that show the named object), at
   * most K − 1 of them (the newest always is); the policy picks the rest. An index that is not in
   * the buffer throws ParameterError.
   */
  include?: readonly number[];
}

/** A sample: entries and their original stream indices, ascending (oldest first, newest last). */
export interface ContextSample {
  policy: SamplingPolicy;
  entries: ContextEntry[];
  indices: number[];
}

export interface ContextBufferOptions {
  /** Model frame size (px): every entry's pixels are width × height × 3 bytes. */
  width: number;
  height: number;
  /** Most entries kept. Default 1024. */
  maxFrames?: number;
  /** Most bytes kept (pixels + cached latents + per-entry overhead). Default 64 MiB. */
  maxBytes?: number;
  /** The newest entries eviction never touches. Default 8. */
  protectNewest?: number;
  /** Scale of one unit of gap for eviction: seconds. Default 10 s. */
  gapTimeScaleS?: number;
  /** Scale of one unit of gap for eviction: metres. Default 1 m. */
  gapDistanceScaleM?: number;
  /** Scale of one unit of gap for eviction: radians of heading. Default π/4. */
  gapHeadingScaleRad?: number;
}

export const DEFAULT_CONTEXT_MAX_FRAMES = 1024;
export const DEFAULT_CONTEXT_MAX_BYTES = 64 * 1024 * 1024;
export const DEFAULT_PROTECT_NEWEST = 8;
/** Bookkeeping counted per entry on top of its pixel and latent bytes. */
export const ENTRY_OVERHEAD_BYTES = 256;

interface Slot {
  entry: ContextEntry;
  /** seconds since the first frame ever added (float, for gap maths) */
  t: number;
  latents: Map<string, Float32Array>;
  bytes: number;
  /** cost of evicting this slot: merged gap between its neighbours (Infinity at either end) */
  cost: number;
}

export class ContextBuffer {
  readonly width: number;
  readonly height: number;
  readonly maxFrames: number;
  readonly maxBytes: number;
  readonly protectNewest: number;
  private readonly timeScale: number;
  private readonly distScale: number;
  private readonly headScale: number;
  private readonly frameBytes: number;
  private slots: Slot[] = [];
  private totalBytes = 0;
  private baseStampNs: bigint | undefined;
  private evictedCount = 0;

  constructor(opts: ContextBufferOptions) {
    const posInt = (name: string, v: number) => {
      if (!Number.isInteger(v) || v < 1) throw new ParameterError(`context buffer: ${name} must be a positive integer, got ${v}`, 'context_buffer');
    };
    posInt('width', opts.width);
    posInt('height', opts.height);
    this.width = opts.width;
    this.height = opts.height;
    this.maxFrames = opts.maxFrames ?? DEFAULT_CONTEXT_MAX_FRAMES;
    this.maxBytes = opts.maxBytes ?? DEFAULT_CONTEXT_MAX_BYTES;
    this.protectNewest = opts.protectNewest ?? DEFAULT_PROTECT_NEWEST;
    posInt('maxFrames', this.maxFrames);
    if (!Number.isInteger(this.protectNewest) || this.protectNewest < 0) {
      throw new ParameterError(`context buffer: protectNewest must be an integer ≥ 0, got ${this.protectNewest}`, 'context_buffer');
    }
    if (this.maxFrames < this.protectNewest + 2) {
      throw new ParameterError(`context buffer: maxFrames ${this.maxFrames} must be ≥ protectNewest + 2 = ${this.protectNewest + 2}`, 'context_buffer');
    }
    this.frameBytes = this.width * this.height * 3 + ENTRY_OVERHEAD_BYTES;
    const minBytes = (this.protectNewest + 2) * this.frameBytes;
    if (!(this.maxBytes >= minBytes)) {
      throw new ParameterError(
        `context buffer: maxBytes ${this.maxBytes} holds fewer than protectNewest + 2 = ${this.protectNewest + 2} frames of ${this.width}x${this.height} (${minBytes} bytes needed)`,
        'context_buffer',
      );
    }
    this.timeScale = opts.gapTimeScaleS ?? 10;
    this.distScale = opts.gapDistanceScaleM ?? 1;
    this.headScale = opts.gapHeadingScaleRad ?? Math.PI / 4;
    for (const [n, v] of [
      ['gapTimeScaleS', this.timeScale],
      ['gapDistanceScaleM', this.distScale],
      ['gapHeadingScaleRad', this.headScale],
    ] as const) {
      if (!(v > 0 && Number.isFinite(v))) throw new ParameterError(`context buffer: ${n} must be a positive number, got ${v}`, 'context_buffer');
    }
  }

  get size(): number {
    return this.slots.length;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  /** Frames evicted since construction (or the last clear). */
  get evicted(): number {
    return this.evictedCount;
  }

  get oldest(): ContextEntry | undefined {
    return this.slots[0]?.entry;
  }

  get newest(): ContextEntry | undefined {
    return this.slots[this.slots.length - 1]?.entry;
  }

  /** All entries, oldest first (a fresh array; the entries are shared). */
  entries(): ContextEntry[] {
    return this.slots.map((s) => s.entry);
  }

  /** The entry with this original stream index, if still kept. */
  getByIndex(index: number): ContextEntry | undefined {
    const i = this.findSlot(index);
    return i < 0 ? undefined : this.slots[i]?.entry;
  }

  clear(): void {
    this.slots = [];
    this.totalBytes = 0;
    this.baseStampNs = undefined;
    this.evictedCount = 0;
  }

  /**
   * Adds a keyframe (the buffer keeps the given pixel array; do not modify it afterwards) and
   * evicts as needed. Returns the original indices of evicted entries. Throws BadFrameError:
   * 'wrong_size' (pixels not width×height×3), 'out_of_order' (index or stamp not after the
   * newest entry's), 'bad_pose' (non-finite pose).
   */
  add(f: ContextFrame): number[] {
    const need = this.width * this.height * 3;
    if (f.pixels.length !== need) {
      throw new BadFrameError(`context frame ${f.index}: ${f.pixels.length} pixel bytes, expected ${this.width}x${this.height}x3 = ${need}`, 'wrong_size');
    }
    if (!Number.isFinite(f.pose.x) || !Number.isFinite(f.pose.y) || !Number.isFinite(f.pose.yaw)) {
      throw new BadFrameError(`context frame ${f.index}: pose (${f.pose.x}, ${f.pose.y}, ${f.pose.yaw}) is not finite`, 'bad_pose');
    }
    const last = this.slots[this.slots.length - 1];
    if (last !== undefined && (f.index <= last.entry.index || f.stampNs < last.entry.stampNs)) {
      throw new BadFrameError(
        `context frame ${f.index} (stamp ${f.stampNs} ns) is not after the newest entry ${last.entry.index} (stamp ${last.entry.stampNs} ns)`,
        'out_of_order',
      );
    }
    if (this.baseStampNs === undefined) this.baseStampNs = f.stampNs;
    const entry: ContextEntry = {
      index: f.index,
      stampNs: f.stampNs,
      pose: { x: f.pose.x, y: f.pose.y, yaw: f.pose.yaw },
      ...(f.camera !== undefined ? { camera: f.camera } : {}),
      pixels: f.pixels,
    };
    const slot: Slot = { entry, t: Number(f.stampNs - this.baseStampNs) / 1e9, latents: new Map(), bytes: this.frameBytes, cost: Infinity };
    this.slots.push(slot);
    this.totalBytes += slot.bytes;
    this.updateCosts(this.slots.length - 2, this.slots.length - 1);
    return this.enforceBounds();
  }

  /**
   * Caches a model's latent for a kept frame, so the frame is encoded once. Returns false when
   * the frame was already evicted. May evict other frames to stay within maxBytes. Throws
   * ParameterError when one entry with this latent would exceed maxBytes on its own.
   */
  setLatent(index: number, modelId: string, latent: Float32Array): boolean {
    const i = this.findSlot(index);
    const slot = this.slots[i];
    if (slot === undefined) return false;
    const old = slot.latents.get(modelId);
    const delta = latent.byteLength - (old?.byteLength ?? 0);
    if (slot.bytes + delta > this.maxBytes / (this.protectNewest + 2)) {
      throw new ParameterError(
        `context buffer: a ${latent.byteLength}-byte latent for model '${modelId}' makes one frame ${slot.bytes + delta} bytes; maxBytes ${this.maxBytes} allows ${Math.floor(this.maxBytes / (this.protectNewest + 2))} per frame`,
        'context_buffer',
      );
    }
    slot.latents.set(modelId, latent);
    slot.bytes += delta;
    this.totalBytes += delta;
    this.enforceBounds();
    return true;
  }

  getLatent(index: number, modelId: string): Float32Array | undefined {
    const i = this.findSlot(index);
    return i < 0 ? undefined : this.slots[i]?.latents.get(modelId);
  }

  /** Drops cached latents of every model except `keepModelId` (all when omitted). */
  dropLatents(keepModelId?: string): void {
    for (const s of this.slots) {
      for (const [id, l] of s.latents) {
        if (id === keepModelId) continue;
        s.latents.delete(id);
        s.bytes -= l.byteLength;
        this.totalBytes -= l.byteLength;
      }
    }
  }

  /** Number of kept frames holding a latent for `modelId`. */
  latentCount(modelId: string): number {
    let n = 0;
    for (const s of this.slots) if (s.latents.has(modelId)) n++;
    return n;
  }

  private findSlot(index: number): number {
    let lo = 0;
    let hi = this.slots.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = (this.slots[mid] as Slot).entry.index;
      if (v === index) return mid;
      if (v < index) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** Gap between two entries in eviction units (time + distance + heading). */
  private gap(a: Slot, b: Slot): number {
    const pa = a.entry.pose;
    const pb = b.entry.pose;
    return (
      Math.abs(b.t - a.t) / this.timeScale +
      Math.hypot(pb.x - pa.x, pb.y - pa.y) / this.distScale +
      Math.abs(angleDiff(pb.yaw, pa.yaw)) / this.headScale
    );
  }

  /** Recomputes the merged-gap cost of slots lo..hi (clamped); the ends have no cost. */
  private updateCosts(lo: number, hi: number): void {
    const n = this.slots.length;
    for (let i = Math.max(0, lo); i <= Math.min(hi, n - 1); i++) {
      const s = this.slots[i] as Slot;
      s.cost = i === 0 || i === n - 1 ? Infinity : this.gap(this.slots[i - 1] as Slot, this.slots[i + 1] as Slot);
    }
  }

  /** Highest slot position eviction may touch (the newest max(protectNewest, 1) are exempt). */
  private lastEvictable(): number {
    return this.slots.length - 1 - Math.max(1, this.protectNewest);
  }

  private enforceBounds(): number[] {
    const evicted: number[] = [];
    while (this.slots.length > 0 && (this.slots.length > this.maxFrames || this.totalBytes > this.maxBytes)) {
      let best = -1;
      let bestCost = Infinity;
      const hi = this.lastEvictable();
      for (let i = 1; i <= hi; i++) {
        const c = (this.slots[i] as Slot).cost;
        if (c < bestCost) {
          bestCost = c;
          best = i;
        }
      }
      // every candidate protected (only with very large latents): give up the oldest
      if (best < 0) best = 0;
      const [gone] = this.slots.splice(best, 1) as [Slot];
      this.totalBytes -= gone.bytes;
      this.evictedCount++;
      evicted.push(gone.entry.index);
      this.updateCosts(best - 1, best);
    }
    return evicted;
  }

  /**
   * K entries by `policy`, sorted in time, always including the newest; fewer than K when the
   * buffer holds fewer. Empty when the buffer is empty. Throws ParameterError for k < 1 or an
   * unknown policy.
   */
  sample(k: number, policy: SamplingPolicy, opts: SampleOptions = {}): ContextSample {
    if (!Number.isInteger(k) || k < 1) throw new ParameterError(`context sample size must be a positive integer, got ${k}`, 'context_k');
    if (!SAMPLING_POLICIES.includes(policy)) {
      throw new ParameterError(`unknown context sampling policy '${String(policy)}' (known: ${SAMPLING_POLICIES.join(', ')})`, 'context_policy');
    }
    const n = this.slots.length;
    if (n === 0) return { policy, entries: [], indices: [] };
    const want = Math.min(k, n);
    const rng = new Rng(opts.seed ?? 0);
    const forced = new Set<number>();
    for (const idx of opts.include ?? []) {
      const i = this.findSlot(idx);
      if (i < 0) throw new ParameterError(`context sample: keyframe ${idx} to include is not in the buffer (it holds ${this.slots[0]?.entry.index ?? '-'} … ${this.slots[n - 1]?.entry.index ?? '-'})`, 'context_include');
      if (i !== n - 1 && forced.size < want - 1) forced.add(i);
    }
    const free = want - forced.size;
    let picked: number[]; // slot positions, newest included
    if (want === n) picked = this.slots.map((_, i) => i);
    else if (policy === 'contiguous') picked = range(n - free, n);
    else if (policy === 'uniform') picked = this.pickUniform(free, rng, new Set([n - 1]));
    else if (policy === 'recency') picked = this.pickRecency(free, rng, opts.recencyTauS ?? 60);
    else picked = this.pickPoseDiverse(free, rng, opts.headingWeightM ?? 1);
    if (forced.size > 0 && want < n) {
      const all = new Set([...picked, ...forced]);
      // a forced frame the policy had picked anyway leaves room: filled uniformly over time
      picked = all.size < want ? this.pickUniform(want, rng, all) : [...all];
    }
    picked.sort((a, b) => a - b);
    const entries = picked.map((i) => (this.slots[i] as Slot).entry);
    return { policy, entries, indices: entries.map((e) => e.index) };
  }

  /**
   * Stratified over the covered time span: K − 1 strata between the oldest and the newest
   * stamp, one jittered target time per stratum, each resolved to the nearest unused entry.
   */
  private pickUniform(want: number, rng: Rng, chosen: Set<number>): number[] {
    const n = this.slots.length;
    const t0 = (this.slots[0] as Slot).t;
    const t1 = (this.slots[n - 1] as Slot).t;
    const strata = want - chosen.size;
    for (let j = 0; j < strata && chosen.size < want; j++) {
      const target = t0 + ((j + rng.next()) * (t1 - t0)) / Math.max(1, strata);
      chosen.add(this.nearestUnused(target, chosen));
    }
    return [...chosen];
  }

  private nearestUnused(t: number, used: Set<number>): number {
    const n = this.slots.length;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.slots[mid] as Slot).t < t) lo = mid + 1;
      else hi = mid;
    }
    let l = lo - 1;
    let r = lo;
    while (l >= 0 && used.has(l)) l--;
    while (r < n && used.has(r)) r++;
    // callers ask for at most n − |used| more entries, so one side always has an unused slot
    if (l < 0) return r;
    if (r >= n) return l;
    const dl = t - (this.slots[l] as Slot).t;
    const dr = (this.slots[r] as Slot).t - t;
    return dl <= dr ? l : r;
  }

  /** Weighted draw without replacement (Gumbel top-k) with weight exp(−age/τ). */
  private pickRecency(want: number, rng: Rng, tauS: number): number[] {
    if (!(tauS > 0 && Number.isFinite(tauS))) throw new ParameterError(`recencyTauS must be a positive number of seconds, got ${tauS}`, 'context_recency_tau');
    const n = this.slots.length;
    const tNew = (this.slots[n - 1] as Slot).t;
    const keys: { i: number; key: number }[] = [];
    for (let i = 0; i < n - 1; i++) {
      let u = rng.next();
      if (u <= 0) u = Number.MIN_VALUE;
      const logW = -(tNew - (this.slots[i] as Slot).t) / tauS;
      keys.push({ i, key: logW - Math.log(-Math.log(u)) });
    }
    keys.sort((a, b) => b.key - a.key || b.i - a.i);
    return [n - 1, ...keys.slice(0, want - 1).map((k) => k.i)];
  }

  /**
   * Greedy farthest-point sampling from the newest frame in (x, y, heading·headingWeightM);
   * ties broken by a seeded shuffle. When every remaining frame sits at an already chosen pose,
   * the rest is filled uniformly over time.
   */
  private pickPoseDiverse(want: number, rng: Rng, headingWeightM: number): number[] {
    if (!(headingWeightM >= 0 && Number.isFinite(headingWeightM))) {
      throw new ParameterError(`headingWeightM must be a finite number ≥ 0, got ${headingWeightM}`, 'context_heading_weight');
    }
    const n = this.slots.length;
    const order = rng.shuffle(range(0, n - 1));
    const xs = new Float64Array(n);
    const ys = new Float64Array(n);
    const hs = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const p = (this.slots[i] as Slot).entry.pose;
      xs[i] = p.x;
      ys[i] = p.y;
      hs[i] = p.yaw;
    }
    // squared distances to the nearest chosen frame
    const minD2 = new Float64Array(n).fill(Infinity);
    const chosen = new Set<number>([n - 1]);
    let last = n - 1;
    while (chosen.size < want) {
      const lx = xs[last] as number;
      const ly = ys[last] as number;
      const lh = hs[last] as number;
      let best = -1;
      let bestD2 = -1;
      for (const i of order) {
        if (chosen.has(i)) continue;
        const dx = (xs[i] as number) - lx;
        const dy = (ys[i] as number) - ly;
        const dh = headingWeightM * angleDiff(hs[i] as number, lh);
        const d2 = Math.min(minD2[i] as number, dx * dx + dy * dy + dh * dh);
        minD2[i] = d2;
        if (d2 > bestD2) {
          bestD2 = d2;
          best = i;
        }
      }
      if (bestD2 <= POSE_EPSILON_M * POSE_EPSILON_M) return this.pickUniform(want, rng, chosen);
      chosen.add(best);
      last = best;
    }
    return [...chosen];
  }
}

/** Poses closer than this (m, heading included) count as the same place. */
const POSE_EPSILON_M = 1e-6;

function range(a: number, b: number): number[] {
  const out: number[] = [];
  for (let i = a; i < b; i++) out.push(i);
  return out;
}
