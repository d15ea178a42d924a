/**
 * A time-sorted series of rigid transforms for one edge of the TF tree (or one odometry stream):
 * insertion in any order, pruning to a cache duration, and interpolated sampling (linear
 * translation, slerp rotation). Pure.
 */
import { TransformError } from '../errors.js';
import {
  type Quaternion,
  type Transform3D,
  type Vec3,
  isFiniteQuaternion,
  isFiniteVec3,
  isUnitQuaternion,
  quaternionNorm,
  quaternionSlerp,
} from '../geometry.js';
import { formatStamp, nsToSeconds } from './stamp.js';

export interface TimedTransform {
  stampNs: bigint;
  transform: Transform3D;
}

/**
 * Checks a transform from a message and returns a copy with the quaternion renormalised.
 * Throws TransformError('invalid_transform') quoting the bad numbers and `what`.
 */
export function checkedTransform(t: { translation: Vec3; rotation: Quaternion }, what: string): Transform3D {
  const v = t.translation;
  const q = t.rotation;
  if (!isFiniteVec3(v)) throw new TransformError(`${what}: translation (${v.x}, ${v.y}, ${v.z}) is not finite`, 'invalid_transform');
  if (!isFiniteQuaternion(q)) throw new TransformError(`${what}: rotation {x:${q.x}, y:${q.y}, z:${q.z}, w:${q.w}} is not finite`, 'invalid_transform');
  if (!isUnitQuaternion(q)) {
    throw new TransformError(
      `${what}: rotation {x:${q.x}, y:${q.y}, z:${q.z}, w:${q.w}} has norm ${quaternionNorm(q).toPrecision(6)}, expected a unit quaternion`,
      'invalid_transform',
    );
  }
  const n = quaternionNorm(q);
  return { translation: { x: v.x, y: v.y, z: v.z }, rotation: { x: q.x / n, y: q.y / n, z: q.z / n, w: q.w / n } };
}

/** Linear interpolation of translation and slerp of rotation, t ∈ [0, 1]. */
export function interpolateTransform(a: Transform3D, b: Transform3D, t: number): Transform3D {
  return {
    translation: {
      x: a.translation.x + (b.translation.x - a.translation.x) * t,
      y: a.translation.y + (b.translation.y - a.translation.y) * t,
      z: a.translation.z + (b.translation.z - a.translation.z) * t,
    },
    rotation: quaternionSlerp(a.rotation, b.rotation, t),
  };
}

export class TransformSeries {
  private readonly samples: TimedTransform[] = [];

  /** `label` names the edge in error messages, e.g. "odom → base_link". */
  constructor(readonly label: string) {}

  get size(): number {
    return this.samples.length;
  }

  get oldest(): TimedTransform | undefined {
    return this.samples[0];
  }

  get newest(): TimedTransform | undefined {
    return this.samples[this.samples.length - 1];
  }

  clear(): void {
    this.samples.length = 0;
  }

  /** Inserts (or replaces the sample with the same stamp), then drops samples older than newest − cacheNs. */
  insert(stampNs: bigint, transform: Transform3D, cacheNs: bigint): void {
    const s = this.samples;
    const last = s[s.length - 1];
    if (last === undefined || stampNs > last.stampNs) s.push({ stampNs, transform });
    else {
      const i = this.lowerBound(stampNs);
      const at = s[i];
      if (at !== undefined && at.stampNs === stampNs) at.transform = transform;
      else s.splice(i, 0, { stampNs, transform });
    }
    const newest = s[s.length - 1] as TimedTransform;
    const cutoff = newest.stampNs - cacheNs;
    let drop = 0;
    while (drop < s.length - 1 && (s[drop] as TimedTransform).stampNs < cutoff) drop++;
    if (drop > 0) s.splice(0, drop);
  }

  /** First index whose stamp ≥ stampNs. */
  private lowerBound(stampNs: bigint): number {
    let lo = 0;
    let hi = this.samples.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.samples[mid] as TimedTransform).stampNs < stampNs) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * The transform at `stampNs`, interpolated between the neighbouring samples. A request newer
   * than the newest sample by at most `futureToleranceNs` gets the newest sample (no
   * extrapolation). Throws TransformError 'too_old' / 'too_new' / 'no_data'.
   */
  sample(stampNs: bigint, futureToleranceNs: bigint, cacheNs: bigint): Transform3D {
    const s = this.samples;
    const first = s[0];
    const last = s[s.length - 1];
    if (first === undefined || last === undefined) throw new TransformError(`no data yet for ${this.label}`, 'no_data');
    if (stampNs < first.stampNs) {
      throw new TransformError(
        `requested time ${formatStamp(stampNs)} is ${nsToSeconds(first.stampNs - stampNs).toFixed(3)} s older than the oldest transform ` +
          `${this.label} (${formatStamp(first.stampNs)}); the cache keeps ${nsToSeconds(cacheNs).toFixed(1)} s`,
        'too_old',
      );
    }
    if (stampNs >= last.stampNs) {
      const ahead = stampNs - last.stampNs;
      if (ahead <= futureToleranceNs) return last.transform;
      throw new TransformError(
        `requested time ${formatStamp(stampNs)} is ${nsToSeconds(ahead).toFixed(3)} s newer than the latest transform ${this.label} ` +
          `(${formatStamp(last.stampNs)}); tolerance ${nsToSeconds(futureToleranceNs).toFixed(3)} s`,
        'too_new',
      );
    }
    const i = this.lowerBound(stampNs);
    const b = s[i] as TimedTransform;
    if (b.stampNs === stampNs) return b.transform;
    const a = s[i - 1] as TimedTransform;
    const t = Number(stampNs - a.stampNs) / Number(b.stampNs - a.stampNs);
    return interpolateTransform(a.transform, b.transform, t);
  }
}
