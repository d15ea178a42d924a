/**
 * Keyframe gate: decides from a frame's stamp and the robot's pose — before any pixel is
 * touched — whether the frame is worth keeping. A frame is admitted when the robot moved
 * ≥ minTranslationM or turned ≥ minRotationRad since the last admitted frame, or when
 * ≥ maxIntervalS passed, or (optional) when a cheap thumbnail of the view differs from the last
 * admitted one by ≥ viewChangeThreshold. The thumbnail is requested lazily, only when the pose
 * and time tests did not already decide. Pure.
 */
import { ParameterError } from '../errors.js';
import { type Pose2D, angleDiff } from '../geometry.js';

export interface KeyframeGateParams {
  /** Admit after moving this far from the last keyframe (m). Default 0.25. */
  minTranslationM: number;
  /** Admit after turning this much from the last keyframe (rad). Default 15° (0.2618). */
  minRotationRad: number;
  /** Admit when this much time passed since the last keyframe (s), even without motion. Default 5. */
  maxIntervalS: number;
  /** Never admit two keyframes closer than this (s); bounds the admission rate. Default 0.1. */
  minIntervalS: number;
  /**
   * Admit when the mean absolute difference between mean-subtracted grey thumbnails (0…1) is at
   * least this; undefined disables the view test (no thumbnail is ever computed). Default undefined.
   */
  viewChangeThreshold: number | undefined;
}

export const DEFAULT_KEYFRAME_GATE_PARAMS: Readonly<KeyframeGateParams> = Object.freeze({
  minTranslationM: 0.25,
  minRotationRad: (15 * Math.PI) / 180,
  maxIntervalS: 5,
  minIntervalS: 0.1,
  viewChangeThreshold: undefined,
});

/** Why a frame was admitted or skipped. */
export type GateReason =
  | 'first'
  | 'translation'
  | 'rotation'
  | 'interval'
  | 'view'
  /** skipped: closer than minIntervalS to the last keyframe */
  | 'too_soon'
  /** skipped: stamp older than the last keyframe's */
  | 'out_of_order'
  /** skipped: nothing changed enough */
  | 'unchanged';

export interface GateDecision {
  admit: boolean;
  reason: GateReason;
}

/** A grey thumbnail: side×side bytes, row-major. */
export interface Thumbnail {
  side: number;
  data: Uint8Array;
}

export interface GateInput {
  stampNs: bigint;
  pose: Pose2D;
  /** Lazily computes the view thumbnail; called only when the view test needs it. */
  thumbnail?: () => Thumbnail;
}

/** Throws ParameterError naming the bad field and value. */
export function validateKeyframeGateParams(p: KeyframeGateParams): void {
  const nonNeg: (keyof KeyframeGateParams)[] = ['minTranslationM', 'minRotationRad', 'maxIntervalS', 'minIntervalS'];
  for (const k of nonNeg) {
    const v = p[k];
    if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)) throw new ParameterError(`keyframe gate: ${k} must be a finite number ≥ 0, got ${v}`, 'keyframe_gate');
  }
  if (p.minIntervalS > p.maxIntervalS) {
    throw new ParameterError(`keyframe gate: minIntervalS ${p.minIntervalS} > maxIntervalS ${p.maxIntervalS}`, 'keyframe_gate');
  }
  const v = p.viewChangeThreshold;
  if (v !== undefined && !(v > 0 && v <= 1)) throw new ParameterError(`keyframe gate: viewChangeThreshold must be in (0, 1] or unset, got ${v}`, 'keyframe_gate');
}

/**
 * Mean absolute difference of two thumbnails after subtracting each one's mean brightness
 * (so auto-exposure alone does not count as a new view), scaled to 0…1.
 */
export function thumbnailDifference(a: Thumbnail, b: Thumbnail): number {
  if (a.side !== b.side || a.data.length !== b.data.length) {
    throw new ParameterError(`thumbnails differ in size: ${a.side}x${a.side} vs ${b.side}x${b.side}`, 'thumbnail_size');
  }
  const n = a.data.length;
  if (n === 0) return 0;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a.data[i] as number;
    mb += b.data[i] as number;
  }
  const off = (ma - mb) / n;
  let d = 0;
  for (let i = 0; i < n; i++) d += Math.abs((a.data[i] as number) - (b.data[i] as number) - off);
  return d / n / 255;
}

export class KeyframeGate {
  readonly params: Readonly<KeyframeGateParams>;
  private lastStampNs: bigint | undefined;
  private lastPose: Pose2D | undefined;
  private lastThumb: Thumbnail | undefined;
  private previous: { stampNs: bigint | undefined; pose: Pose2D | undefined; thumb: Thumbnail | undefined } | undefined;

  constructor(params: Partial<KeyframeGateParams> = {}) {
    const p = { ...DEFAULT_KEYFRAME_GATE_PARAMS, ...params };
    validateKeyframeGateParams(p);
    this.params = Object.freeze(p);
  }

  /** Forgets the last keyframe: the next frame is admitted as 'first'. */
  reset(): void {
    this.lastStampNs = undefined;
    this.lastPose = undefined;
    this.lastThumb = undefined;
    this.previous = undefined;
  }

  /**
   * Decides for one frame and, when it is admitted, makes it the reference for the next ones.
   * The thumbnail callback runs only when the view test is enabled and either the pose/time
   * tests were inconclusive or the frame is admitted (to refresh the reference).
   */
  consider(f: GateInput): GateDecision {
    const p = this.params;
    const viewTest = p.viewChangeThreshold !== undefined && f.thumbnail !== undefined;
    if (this.lastStampNs === undefined || this.lastPose === undefined) {
      return this.admit(f, 'first', viewTest ? f.thumbnail?.() : undefined);
    }
    if (f.stampNs < this.lastStampNs) return { admit: false, reason: 'out_of_order' };
    const dt = Number(f.stampNs - this.lastStampNs) / 1e9;
    if (dt < p.minIntervalS) return { admit: false, reason: 'too_soon' };
    const moved = Math.hypot(f.pose.x - this.lastPose.x, f.pose.y - this.lastPose.y);
    const turned = Math.abs(angleDiff(f.pose.yaw, this.lastPose.yaw));
    let reason: GateReason | undefined;
    if (moved >= p.minTranslationM) reason = 'translation';
    else if (turned >= p.minRotationRad) reason = 'rotation';
    else if (dt >= p.maxIntervalS) reason = 'interval';
    if (reason !== undefined) return this.admit(f, reason, viewTest ? f.thumbnail?.() : undefined);
    if (viewTest && f.thumbnail !== undefined) {
      const thumb = f.thumbnail();
      if (this.lastThumb === undefined || thumbnailDifference(thumb, this.lastThumb) >= (p.viewChangeThreshold as number)) {
        return this.admit(f, 'view', thumb);
      }
    }
    return { admit: false, reason: 'unchanged' };
  }

  /**
   * Undoes the last admission (the frame turned out to be undecodable): the keyframe before it
   * becomes the reference again. Only one step back; a no-op when there is nothing to undo.
   */
  rollback(): void {
    if (this.previous === undefined) return;
    this.lastStampNs = this.previous.stampNs;
    this.lastPose = this.previous.pose;
    this.lastThumb = this.previous.thumb;
    this.previous = undefined;
  }

  private admit(f: GateInput, reason: GateReason, thumb: Thumbnail | undefined): GateDecision {
    this.previous = { stampNs: this.lastStampNs, pose: this.lastPose, thumb: this.lastThumb };
    this.lastStampNs = f.stampNs;
    this.lastPose = { ...f.pose };
    if (thumb !== undefined) this.lastThumb = thumb;
    return { admit: true, reason };
  }
}
