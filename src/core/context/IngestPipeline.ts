/**
 * Camera messages → cheap checks → keyframe gate → decode/fit → ContextBuffer, as an rxjs
 * pipeline with a bounded drop-oldest queue, so a slow consumer (decode, or a planner hogging the
 * event loop) never backs up the camera: the subscription callback counts the frame, gives it its
 * stream index, runs the processor's cheap checks on it (header fields and first bytes, no
 * decoding: every frame is checked, whatever the gate will decide) and queues a reference to a
 * frame that passes; a single worker takes frames in order, looks the pose up, asks the gate
 * (pixels untouched unless the view test needs a thumbnail), and only then decodes. The node
 * never crashes on a frame: every failure is counted by its error code, and the counted message
 * names the frame (stream index, stamp).
 *
 * Pure: decoding is injected (`FrameProcessor`, implemented by src/vision's FrameIngestor) and
 * so is the clock used for timing.
 */
import { Observable, type OperatorFunction, Subject, type Subscription } from 'rxjs';
import { BadFrameError, ParameterError, TransformError, Video4SpatialError } from '../errors.js';
import type { Transform3D } from '../geometry.js';
import type { PoseSource } from '../tf/TfBuffer.js';
import { formatStamp, type TimeLike, timeToNs } from '../tf/stamp.js';
import type { ContextBuffer, ContextEntry } from './ContextBuffer.js';
import { IngestCounters } from './ingestDiagnostics.js';
import type { KeyframeGate, Thumbnail } from './keyframeGate.js';

/** Any camera message: what the pipeline reads itself is the header. */
export interface CameraMessageLike {
  header: { stamp: TimeLike; frame_id: string };
}

/** Decoding, injected: cheap checks, thumbnails for the gate's view test and the model-size frame. */
export interface FrameProcessor<M> {
  /**
   * Cheap checks of one message (header fields and the first bytes; never decodes), run on every
   * frame in the camera callback, before the gate. Throws (a BadFrameError with its code) when
   * the frame cannot be used; such a frame is counted and never queued.
   */
  check?(msg: M): void;
  thumbnail(msg: M): Thumbnail;
  fit(msg: M): { pixels: Uint8Array } | Promise<{ pixels: Uint8Array }>;
}

export interface IngestPipelineOptions<M> {
  processor: FrameProcessor<M>;
  poseSource: PoseSource;
  gate: KeyframeGate;
  buffer: ContextBuffer;
  /** Frames that may wait for the worker; when full the oldest waiting frame is dropped. Default 2. */
  queueCapacity?: number;
  /** Clock for timing (ms). Default performance.now. */
  now?: () => number;
  /** Yields to the event loop between frames so /tf and other callbacks run. Default setImmediate. */
  yieldFn?: (resume: () => void) => void;
  /**
   * Told about every rejection (for logging); counting happens regardless. `message` is the
   * error's message prefixed with the frame's stream index and stamp (as counted).
   */
  onReject?: (code: string, error: Error, streamIndex: number, message: string) => void;
  /**
   * The node's clock (ns) and how far ahead of it a frame may be stamped; a frame stamped later
   * is rejected 'future_stamp' (it would block every later frame as out of order). Default: no check.
   */
  stampAhead?: { clockNs: () => bigint; maxAheadNs: bigint };
}

interface Queued<M> {
  msg: M;
  index: number;
}

/**
 * rxjs operator: runs `work` on one item at a time; at most `capacity` items wait, and when a new
 * one arrives at a full queue the oldest waiting item is dropped (`onDrop`). Results that are
 * not undefined are emitted in order. Errors thrown by `work` go to `onError` and do not end the
 * stream.
 */
export function dropOldestQueue<T, R>(
  capacity: number,
  work: (item: T) => R | undefined | Promise<R | undefined>,
  onDrop: (item: T) => void,
  onError: (item: T, e: unknown) => void,
  yieldFn: (resume: () => void) => void = (r) => setImmediate(r),
): OperatorFunction<T, R> {
  if (!Number.isInteger(capacity) || capacity < 1) throw new ParameterError(`queue capacity must be an integer ≥ 1, got ${capacity}`, 'queue_capacity');
  return (source) =>
    new Observable<R>((subscriber) => {
      const queue: T[] = [];
      let busy = false;
      let sourceDone = false;
      let closed = false;
      const finishIfDone = () => {
        if (sourceDone && !busy && queue.length === 0) subscriber.complete();
      };
      const drain = async () => {
        busy = true;
        while (queue.length > 0 && !closed) {
          const item = queue.shift() as T;
          try {
            const r = await work(item);
            if (r !== undefined && !closed) subscriber.next(r);
          } catch (e) {
            onError(item, e);
          }
          if (queue.length > 0) await new Promise<void>((resume) => yieldFn(resume));
        }
        busy = false;
        finishIfDone();
      };
      const sub = source.subscribe({
        next: (item) => {
          if (queue.length >= capacity) onDrop(queue.shift() as T);
          queue.push(item);
          if (!busy) void drain();
        },
        error: (e) => subscriber.error(e),
        complete: () => {
          sourceDone = true;
          finishIfDone();
        },
      });
      return () => {
        closed = true;
        sub.unsubscribe();
      };
    });
}

function stampIsValid(t: TimeLike | undefined): t is TimeLike {
  return t !== undefined && Number.isInteger(t.sec) && Number.isInteger(t.nanosec) && t.nanosec >= 0 && t.nanosec < 1e9;
}

/** Error → counted reason: BadFrameError codes as they are, TransformError as 'tf_<code>'. */
export function rejectionCode(e: unknown): string {
  if (e instanceof TransformError) return `tf_${e.code}`;
  if (e instanceof Video4SpatialError) return e.code;
  const code = (e as { code?: unknown } | undefined)?.code;
  if (e instanceof Error && typeof code === 'string') return code;
  return 'internal_error';
}

/**
 * A rejection message naming its frame: 'frame 12 (stamp 1.200 s): …' (no stamp when the header
 * has no valid one); messages that already start with 'frame 12' are kept as they are.
 */
export function withFrame(message: string, index: number, msg: CameraMessageLike | undefined): string {
  const head = `frame ${index}`;
  if (message.startsWith(`${head}:`) || message.startsWith(`${head} `)) return message;
  const stamp = msg?.header?.stamp;
  return stampIsValid(stamp) ? `${head} (stamp ${formatStamp(timeToNs(stamp))}): ${message}` : `${head}: ${message}`;
}

export class IngestPipeline<M extends CameraMessageLike> {
  readonly counters = new IngestCounters();
  readonly buffer: ContextBuffer;
  readonly gate: KeyframeGate;
  /** Every entry admitted to the buffer, as it is admitted. */
  readonly admitted$: Observable<ContextEntry>;
  private readonly input = new Subject<Queued<M>>();
  private readonly sub: Subscription;
  private readonly processor: FrameProcessor<M>;
  private readonly poseSource: PoseSource;
  private readonly now: () => number;
  private readonly stampAhead: IngestPipelineOptions<M>['stampAhead'];
  private readonly onReject: (code: string, error: Error, streamIndex: number, message: string) => void;
  private readonly admittedSubject = new Subject<ContextEntry>();
  /** The newest frame that passed the checks and got a pose, kept (not decoded) for latestView(). */
  private latest: { msg: M; stampNs: bigint; pose: ContextEntry['pose']; admitted: ContextEntry | undefined } | undefined;
  private nextIndex = 0;
  private pending = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(opts: IngestPipelineOptions<M>) {
    this.processor = opts.processor;
    this.poseSource = opts.poseSource;
    this.gate = opts.gate;
    this.buffer = opts.buffer;
    this.now = opts.now ?? (() => performance.now());
    this.stampAhead = opts.stampAhead;
    this.onReject = opts.onReject ?? (() => {});
    this.admitted$ = this.admittedSubject.asObservable();
    const settle = () => {
      this.pending--;
      if (this.pending === 0) for (const w of this.idleWaiters.splice(0)) w();
    };
    this.sub = this.input
      .pipe(
        dropOldestQueue<Queued<M>, ContextEntry>(
          opts.queueCapacity ?? 2,
          async (q) => {
            // count before settling, so that idle() never resolves ahead of the counters
            try {
              return await this.process(q);
            } catch (e) {
              this.reject(q.index, e, q.msg);
              return undefined;
            } finally {
              settle();
            }
          },
          () => {
            this.counters.dropped++;
            settle();
          },
          (q, e) => this.reject(q.index, e, q.msg),
          opts.yieldFn,
        ),
      )
      .subscribe((entry) => this.admittedSubject.next(entry));
  }

  /**
   * The camera callback: counts the frame, gives it the next stream index, runs the cheap checks
   * (a frame that fails them is counted by its code and not queued) and queues it.
   * Returns the stream index. Never throws for a bad message.
   */
  push(msg: M): number {
    const index = this.nextIndex++;
    this.counters.received++;
    if (stampIsValid(msg.header?.stamp)) {
      const ns = timeToNs(msg.header.stamp);
      if (this.counters.lastStampNs === undefined || ns > this.counters.lastStampNs) this.counters.lastStampNs = ns;
    }
    if (this.processor.check !== undefined) {
      try {
        this.processor.check(msg);
      } catch (e) {
        this.reject(index, e, msg);
        return index;
      }
    }
    this.pending++;
    this.input.next({ msg, index });
    return index;
  }

  /** Resolves when every pushed frame has been processed, rejected or dropped. */
  /**
   * The camera's newest usable view, fitted to the model (rgb8 at model size), with its pose and
   * stamp: the newest keyframe when that frame was admitted, else the newest frame the gate
   * skipped, decoded now (once per call; the gate decides only what enters the buffer). Undefined
   * before any usable frame.
   */
  async latestView(): Promise<{ pixels: Uint8Array; pose: ContextEntry['pose']; stampNs: bigint } | undefined> {
    const l = this.latest;
    if (!l) return undefined;
    if (l.admitted) return { pixels: l.admitted.pixels, pose: l.admitted.pose, stampNs: l.admitted.stampNs };
    try {
      const frame = await this.processor.fit(l.msg);
      return { pixels: frame.pixels, pose: l.pose, stampNs: l.stampNs };
    } catch {
      // the newest frame passed the cheap checks but does not decode: the newest keyframe instead
      const n = this.buffer.newest;
      return n ? { pixels: n.pixels, pose: n.pose, stampNs: n.stampNs } : undefined;
    }
  }

  /** Resolves when every frame pushed so far has been processed (at once when none is pending). */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops processing; frames still queued are discarded. */
  close(): void {
    this.input.complete();
    this.sub.unsubscribe();
    this.admittedSubject.complete();
    this.pending = 0;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private reject(index: number, e: unknown, msg: M): void {
    const err = e instanceof Error ? e : new Error(String(e));
    const code = rejectionCode(e);
    const message = withFrame(err.message, index, msg);
    this.counters.reject(code, message);
    this.onReject(code, err, index, message);
  }

  private markUsable(stampNs: bigint): void {
    const c = this.counters;
    if (c.lastUsableStampNs === undefined || stampNs > c.lastUsableStampNs) c.lastUsableStampNs = stampNs;
  }

  private async process(q: Queued<M>): Promise<ContextEntry | undefined> {
    const t0 = this.now();
    try {
      const { msg, index } = q;
      const stamp = msg.header?.stamp;
      if (!stampIsValid(stamp)) {
        throw new BadFrameError(`frame ${index}: header.stamp ${JSON.stringify(stamp)} is not a valid time (integer sec, nanosec in [0, 1e9))`, 'bad_stamp');
      }
      const stampNs = timeToNs(stamp);
      const ahead = this.stampAhead;
      if (ahead !== undefined) {
        const clock = ahead.clockNs();
        if (stampNs - clock > ahead.maxAheadNs) {
          throw new BadFrameError(
            `frame ${index}: header.stamp ${formatStamp(stampNs)} is ${formatStamp(stampNs - clock)} ahead of the clock (${formatStamp(clock)}; at most ${formatStamp(ahead.maxAheadNs)}): are the clocks synchronised?`,
            'future_stamp',
          );
        }
      }
      const at = this.poseSource.poseAt(stampNs, msg.header.frame_id);
      const decision = this.gate.consider({ stampNs, pose: at.pose, thumbnail: () => this.processor.thumbnail(msg) });
      if (this.latest === undefined || stampNs >= this.latest.stampNs) this.latest = { msg, stampNs, pose: at.pose, admitted: undefined };
      if (!decision.admit) {
        this.counters.skip(decision.reason);
        this.markUsable(stampNs);
        return undefined;
      }
      let frame: { pixels: Uint8Array };
      try {
        frame = await this.processor.fit(msg);
        const camera: Transform3D | undefined = at.camera;
        this.buffer.add({ index, stampNs, pose: at.pose, ...(camera !== undefined ? { camera } : {}), pixels: frame.pixels });
      } catch (e) {
        this.gate.rollback();
        throw e;
      }
      this.counters.admitted++;
      this.markUsable(stampNs);
      if (this.latest?.msg === msg) this.latest.admitted = this.buffer.newest;
      return this.buffer.newest;
    } finally {
      this.counters.processingMs += this.now() - t0;
      this.counters.processed++;
    }
  }
}
