/**
 * Ingest counters and their diagnostic_msgs/DiagnosticStatus view: frames received, admitted,
 * skipped by the keyframe gate (by reason), rejected (by error code), dropped under load,
 * buffer fill, bytes and the age of the oldest kept frame. Pure.
 */
import type { ContextBuffer } from './ContextBuffer.js';

/** diagnostic_msgs/DiagnosticStatus levels (byte constants of the message). */
export const DIAGNOSTIC_LEVEL = Object.freeze({ OK: 0, WARN: 1, ERROR: 2, STALE: 3 });

/** Structural diagnostic_msgs/KeyValue. */
export interface KeyValueLike {
  key: string;
  value: string;
}

/** Structural diagnostic_msgs/DiagnosticStatus. */
export interface DiagnosticStatusLike {
  level: number;
  name: string;
  message: string;
  hardware_id: string;
  values: KeyValueLike[];
}

/** Running totals since start-up. */
export class IngestCounters {
  /** camera messages seen (each one got a stream index) */
  received = 0;
  /** frames that entered the context buffer */
  admitted = 0;
  /** frames the keyframe gate passed over, by GateReason (normal operation, not a fault) */
  readonly skippedByReason: Record<string, number> = {};
  /** frames refused, by error code: BadFrameError codes, 'tf_<code>' for TransformError, … */
  readonly rejectedByReason: Record<string, number> = {};
  /** frames dropped unprocessed because the queue was full (oldest first) */
  dropped = 0;
  /** newest stamp received (ns) */
  lastStampNs: bigint | undefined;
  /**
   * newest stamp (ns) of a usable frame: valid stamp, a pose, and then admitted or passed over by
   * the gate. Camera staleness is measured from it (a stream of rejected frames is no camera).
   */
  lastUsableStampNs: bigint | undefined;
  /** message of the latest rejection, for the diagnostics text */
  lastRejection = '';
  /** total processing time of processed frames (ms) and their count */
  processingMs = 0;
  processed = 0;

  get skipped(): number {
    return sum(this.skippedByReason);
  }

  get rejected(): number {
    return sum(this.rejectedByReason);
  }

  reject(code: string, message: string): void {
    this.rejectedByReason[code] = (this.rejectedByReason[code] ?? 0) + 1;
    this.lastRejection = message;
  }

  skip(reason: string): void {
    this.skippedByReason[reason] = (this.skippedByReason[reason] ?? 0) + 1;
  }

  /** Mean processing cost per processed frame (ms), 0 before any. */
  get msPerFrame(): number {
    return this.processed === 0 ? 0 : this.processingMs / this.processed;
  }
}

function sum(r: Record<string, number>): number {
  let s = 0;
  for (const v of Object.values(r)) s += v;
  return s;
}

/** The JSON summary the `ingest` CLI prints (and tests compare). */
export interface IngestSummary {
  received: number;
  admitted: number;
  rejected_by_reason: Record<string, number>;
  skipped_by_reason: Record<string, number>;
  dropped: number;
  buffer: { frames: number; bytes: number; oldest_index: number | null; newest_index: number | null; evicted: number };
  ms_per_frame: number;
}

export function ingestSummary(c: IngestCounters, buffer: ContextBuffer): IngestSummary {
  return {
    received: c.received,
    admitted: c.admitted,
    rejected_by_reason: { ...c.rejectedByReason },
    skipped_by_reason: { ...c.skippedByReason },
    dropped: c.dropped,
    buffer: { frames: buffer.size, bytes: buffer.bytes, oldest_index: buffer.oldest?.index ?? null, newest_index: buffer.newest?.index ?? null, evicted: buffer.evicted },
    ms_per_frame: Number(c.msPerFrame.toFixed(4)),
  };
}

interface Snapshot {
  received: number;
  rejected: number;
  dropped: number;
  byReason: Record<string, number>;
}

/**
 * Produces DiagnosticStatus messages; the level reflects what happened since the previous call:
 * STALE before any frame, ERROR when every frame since then was rejected, WARN when some were
 * rejected or dropped, OK otherwise.
 */
export class IngestDiagnostics {
  private prev: Snapshot = { received: 0, rejected: 0, dropped: 0, byReason: {} };

  constructor(
    readonly counters: IngestCounters,
    readonly buffer: ContextBuffer,
    readonly name = 'video4spatial_nav: camera ingest',
    readonly hardwareId = '',
  ) {}

  status(): DiagnosticStatusLike {
    const c = this.counters;
    const b = this.buffer;
    const now: Snapshot = { received: c.received, rejected: c.rejected, dropped: c.dropped, byReason: { ...c.rejectedByReason } };
    const dRecv = now.received - this.prev.received;
    const dRej = now.rejected - this.prev.rejected;
    const dDrop = now.dropped - this.prev.dropped;
    const prevByReason = this.prev.byReason;
    this.prev = now;
    let level: number = DIAGNOSTIC_LEVEL.OK;
    let message = `${b.size} keyframes in context`;
    // the most common rejection since the previous report
    const worst = Object.entries(now.byReason)
      .map(([k, v]) => [k, v - (prevByReason[k] ?? 0)] as const)
      .sort((x, y) => y[1] - x[1])[0];
    if (c.received === 0) {
      level = DIAGNOSTIC_LEVEL.STALE;
      message = 'no camera frames received yet';
    } else if (dRecv > 0 && dRej === dRecv) {
      level = DIAGNOSTIC_LEVEL.ERROR;
      message = `all ${dRecv} frames since the last report were rejected (most common: ${worst?.[0]}); last: ${c.lastRejection}`;
    } else if (dRej > 0 || dDrop > 0) {
      level = DIAGNOSTIC_LEVEL.WARN;
      message = `${dRej} rejected and ${dDrop} dropped of ${dRecv} frames since the last report; last rejection: ${c.lastRejection || 'none'}`;
    }
    const oldest = b.oldest;
    const ageS = oldest !== undefined && c.lastStampNs !== undefined ? Number(c.lastStampNs - oldest.stampNs) / 1e9 : 0;
    const values: KeyValueLike[] = [
      { key: 'frames_received', value: String(c.received) },
      { key: 'frames_admitted', value: String(c.admitted) },
      { key: 'frames_skipped', value: String(c.skipped) },
      { key: 'frames_rejected', value: String(c.rejected) },
      { key: 'frames_dropped', value: String(c.dropped) },
      { key: 'buffer_frames', value: `${b.size}/${b.maxFrames}` },
      { key: 'buffer_bytes', value: `${b.bytes}/${b.maxBytes}` },
      { key: 'buffer_evicted', value: String(b.evicted) },
      { key: 'oldest_index', value: oldest === undefined ? '' : String(oldest.index) },
      { key: 'oldest_age_s', value: ageS.toFixed(1) },
      { key: 'ms_per_frame', value: c.msPerFrame.toFixed(3) },
    ];
    for (const [k, v] of Object.entries(c.rejectedByReason)) values.push({ key: `rejected.${k}`, value: String(v) });
    for (const [k, v] of Object.entries(c.skippedByReason)) values.push({ key: `skipped.${k}`, value: String(v) });
    return { level, name: this.name, message, hardware_id: this.hardwareId, values };
  }
}
