/**
 * Step 5 of a plan (box → odometry → anchoring → score, per candidate) in worker threads.
 *
 * Denoising keeps every core busy inside ONNX Runtime; extraction used to run its M candidates one
 * after the other on the main thread while the other cores idled. The candidates are independent,
 * and within a candidate so are its odometry chain and the anchoring of its last frames, so with
 * two or more threads the pool runs two jobs per candidate (chainPart, anchorPart: about the same
 * work each) in parallel, each worker taking the next job when it is free, and joins each
 * candidate's halves on the calling thread (combineParts, no image work); a one-thread pool runs
 * one job per candidate. Even M = 1 uses two cores. Results are the same as the inline
 * extractor's (same pure code, same inputs).
 *
 * Workers are kept alive between plans (unref'd while idle, so they never hold a process open) and
 * each keeps the keyframe index of the newest plan. A worker that dies, busy or idle, fails its job
 * (if any) with an InferenceError ('extraction_worker') and is replaced; workers that cannot load,
 * or keep dying with no job answered in between, break the pool, and every job then fails with
 * the reason.
 *
 * Worker isolates optimise on their own thread (see workerIsolatesOptimiseInline): Node 20 takes a
 * worker's isolate off its platform before it disposes of it, and an optimising compile still
 * running for that isolate on a V8 background thread then aborts the whole process
 * (`NodePlatform::ForIsolate … Assertion failed: (data.first) != nullptr`): before, 9 of 20
 * processes closing 40 pools each aborted (scripts/stressPoolTeardown.ts).
 */
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import {
  BadFrameError,
  CancelledError,
  InferenceError,
  NoValidPathError,
  ParameterError,
  TransformError,
  Video4SpatialError,
} from '../core/errors.js';
import type { Pose2D } from '../core/geometry.js';
import type { Keyframe } from '../core/path/anchor.js';
import { combineParts, inlineExtractor, type CandidateExtraction, type ExtractionContext, type Extractor } from '../core/planner/extractCandidate.js';
import type { ExtractionPartName, ExtractionReply, ExtractionRequest, ExtractionResult } from './extractionWorker.js';

const ERROR_CLASSES: Record<string, new (message: string, code?: string) => Video4SpatialError> = {
  BadFrameError,
  CancelledError,
  InferenceError,
  NoValidPathError,
  ParameterError,
  TransformError,
};

/** Failures per thread, with no job answered in between, after which the pool gives up. */
const MAX_FAILURES_PER_THREAD = 3;

/** The largest pool: more threads than candidates or cores only cost memory. */
export const MAX_EXTRACTION_THREADS = 16;

interface Job {
  id: number;
  plan: number;
  ctx: ExtractionContext;
  /** The pool's ids of ctx.keyframes (shared by the plan's jobs). */
  keyframeIds: number[];
  frames: Uint8Array[];
  part: ExtractionPartName;
  resolve: (r: ExtractionResult) => void;
  reject: (e: Error) => void;
}

/**
 * Turns V8's concurrent recompilation off for the isolates created from now on (worker threads;
 * the main isolate keeps its background compiler). Node 20's worker teardown
 * (~WorkerThreadData: UnregisterIsolate, then Isolate::Dispose) leaves a window in which a
 * TurboFan job still compiling for the worker asks the platform for the isolate's task runner
 * and the process aborts; with compiles on the worker's own thread there is no such job when it
 * is torn down (by close(), a broken pool, or process exit). Setting the flag again is harmless;
 * called before a pool spawns its workers. On 2 cores a fresh pool's first plans got faster, not
 * slower (docs/reliability.md).
 */
function workerIsolatesOptimiseInline(): void {
  setFlagsFromString('--no-concurrent-recompilation');
}

interface Slot {
  worker: Worker;
  job: Job | undefined;
  /** Keyframe ids this worker holds (sent once; the worker drops the ids a job no longer names). */
  known: Set<number>;
  /** The worker's script loaded and said so (a worker that fails before that is not replaced: the pool breaks). */
  online: boolean;
  /** Jobs this slot's workers have answered. */
  answered: number;
}

export class ExtractionPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private nextPlan = 1;
  /** Keyframe ids by pixel array (see keyframeId). */
  private readonly keyframeIds = new WeakMap<Uint8Array, { id: number; pose: Pose2D }>();
  private nextKeyframeId = 1;
  private closed = false;
  /** Worker failures since the last answered job. */
  private failuresInARow = 0;
  /** Why the workers cannot run (a worker failed before it started); every job then fails with it. */
  private broken: string | undefined;

  /**
   * @param threads worker threads, 1 … MAX_EXTRACTION_THREADS.
   * @throws ParameterError for any other count, quoting it.
   */
  constructor(
    readonly threads: number,
    /** The worker script (default: extractionWorker.js beside this module). */
    private readonly script: URL = new URL('./extractionWorker.js', import.meta.url),
  ) {
    if (!(Number.isInteger(threads) && threads >= 1 && threads <= MAX_EXTRACTION_THREADS)) {
      throw new ParameterError(`extraction threads must be an integer in [1, ${MAX_EXTRACTION_THREADS}], got ${threads}`);
    }
    workerIsolatesOptimiseInline();
    for (let i = 0; i < threads; i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const worker = new Worker(this.script);
    worker.unref();
    const slot: Slot = { worker, job: undefined, known: new Set(), online: false, answered: 0 };
    worker.on('message', (reply: ExtractionReply | { ready: true }) => {
      if ('ready' in reply) {
        slot.online = true;
        return;
      }
      const job = slot.job;
      if (!job || job.id !== reply.id) return;
      slot.job = undefined;
      slot.answered++;
      this.failuresInARow = 0;
      if ('done' in reply) job.resolve(reply.done);
      else {
        slot.known = new Set(); // whatever went wrong, the next job sends this worker every keyframe again
        const Cls = ERROR_CLASSES[reply.error.name];
        const code = reply.error.code;
        const err = Cls ? new Cls(reply.error.message, code) : code !== undefined ? new Video4SpatialError(reply.error.message, code) : new Error(reply.error.message);
        job.reject(err);
      }
      this.pump();
    });
    const fail = (why: string) => {
      if (this.closed || this.broken !== undefined) return;
      if (++this.failuresInARow > MAX_FAILURES_PER_THREAD * this.threads) {
        // workers that keep dying (even while idle) would be respawned forever
        this.breakPool(`extraction workers keep failing (${this.failuresInARow - 1} in a row), last: ${why}`);
        return;
      }
      if (!slot.online) {
        // it never started (e.g. its script is missing): replacing it would fail the same way
        this.breakPool(`an extraction worker could not start: ${why}`);
        return;
      }
      const job = slot.job;
      slot.job = undefined;
      job?.reject(new InferenceError(`extraction worker failed: ${why}`, 'extraction_worker'));
      const i = this.slots.indexOf(slot);
      if (i >= 0 && !this.closed) {
        const fresh = this.spawn();
        fresh.answered = slot.answered;
        this.slots[i] = fresh;
      }
      this.pump();
    };
    worker.on('error', (e) => fail(e instanceof Error ? e.message : String(e)));
    // a worker that exits for any reason (idle or not) is replaced, or breaks the pool if it never loaded:
    // a dead worker left in its slot would take the next job and never answer
    worker.on('exit', (code) => {
      if (!this.closed && this.slots.includes(slot)) fail(`exited with code ${code}`);
    });
    return slot;
  }

  private breakPool(why: string): void {
    if (this.broken !== undefined) return;
    this.broken = why;
    for (const job of this.queue.splice(0)) job.reject(new InferenceError(why, 'extraction_worker'));
    for (const s of this.slots) {
      const job = s.job;
      s.job = undefined;
      job?.reject(new InferenceError(why, 'extraction_worker'));
      void s.worker.terminate();
    }
  }

  private pump(): void {
    if (this.broken !== undefined) return;
    for (const slot of this.slots) {
      if (slot.job) continue;
      const job = this.queue.shift();
      if (!job) break;
      slot.job = job;
      slot.worker.postMessage(this.requestFor(slot, job));
    }
    // workers hold the process open only while they have work
    for (const slot of this.slots) {
      if (slot.job) slot.worker.ref();
      else slot.worker.unref();
    }
  }

  /**
   * The pool's id of a keyframe. Ids are given by identity: a context buffer shares each entry's
   * pixel array between plans and never writes it, so the same array with the same pose is the
   * same keyframe. (Stream indices are not ids: two buffers, or a buffer after clear(), reuse them.)
   */
  private keyframeId(k: Keyframe): number {
    const known = this.keyframeIds.get(k.rgb);
    if (known && known.pose.x === k.pose.x && known.pose.y === k.pose.y && known.pose.yaw === k.pose.yaw) return known.id;
    const id = this.nextKeyframeId++;
    this.keyframeIds.set(k.rgb, { id, pose: { ...k.pose } });
    return id;
  }

  /** The message for `job` on `slot`: each keyframe goes once to a worker, then only its id. */
  private requestFor(slot: Slot, job: Job): ExtractionRequest {
    const added: NonNullable<ExtractionRequest['added']> = [];
    job.keyframeIds.forEach((id, i) => {
      if (!slot.known.has(id)) added.push({ id, keyframe: job.ctx.keyframes[i] as Keyframe });
    });
    slot.known = new Set(job.keyframeIds);
    return { id: job.id, plan: job.plan, ctx: { ...job.ctx, keyframes: [] }, frames: job.frames, keyframeIds: job.keyframeIds, added, part: job.part };
  }

  /**
   * The Extractor for PlanDeps.extractor: two jobs per candidate (one with a single thread),
   * results in candidate order.
   */
  readonly extract: Extractor = (ctx: ExtractionContext, candidates) => {
    if (this.closed) return Promise.reject(new InferenceError('the extraction pool is closed', 'extraction_worker'));
    if (this.broken !== undefined) return Promise.reject(new InferenceError(this.broken, 'extraction_worker'));
    const plan = this.nextPlan++;
    const keyframeIds = ctx.keyframes.map((k) => this.keyframeId(k));
    const job = (frames: readonly Uint8Array[], part: ExtractionPartName) =>
      new Promise<ExtractionResult>((resolve, reject) => {
        this.queue.push({ id: this.nextId++, plan, ctx, keyframeIds, frames: [...frames], part, resolve, reject });
      });
    const split = this.threads > 1;
    const results = candidates.map(async (frames): Promise<CandidateExtraction> => {
      const wrong = (r: ExtractionResult, want: ExtractionPartName) => new InferenceError(`extraction worker: expected a '${want}' result, found '${r.part}'`, 'extraction_worker');
      if (!split) {
        const w = await job(frames, 'whole');
        if (w.part !== 'whole') throw wrong(w, 'whole');
        return w.result;
      }
      const [c, a] = await Promise.all([job(frames, 'chain'), job(frames, 'anchors')]);
      if (c.part !== 'chain') throw wrong(c, 'chain');
      if (a.part !== 'anchors') throw wrong(a, 'anchors');
      return combineParts(frames, ctx, c.result, a.result);
    });
    this.pump();
    return Promise.all(results);
  };

  /** Jobs answered per worker slot since the pool started (a replaced worker's count carries over). */
  jobsAnswered(): number[] {
    return this.slots.map((s) => s.answered);
  }

  /** Stops the workers; queued and running jobs fail. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new InferenceError('the extraction pool was closed', 'extraction_worker'));
    await Promise.all(
      this.slots.map(async (s) => {
        const job = s.job;
        s.job = undefined;
        job?.reject(new InferenceError('the extraction pool was closed', 'extraction_worker'));
        await s.worker.terminate();
      }),
    );
  }
}

/** Threads for `extraction_threads` 0 (auto): the cores, at most 4 (one per default candidate). */
export function autoExtractionThreads(): number {
  return Math.max(1, Math.min(availableParallelism(), 4));
}

/** An extractor for a thread setting and how to release it. */
export interface ExtractorHandle {
  /** Threads in use (1 = in the planning thread, no workers). */
  threads: number;
  /** For PlanDeps.extractor (with 1 thread: one inline extractor kept across plans, so its keyframe index is reused). */
  extractor: Extractor | undefined;
  close(): Promise<void>;
}

/**
 * The extractor for a thread setting: 0 = autoExtractionThreads(), 1 = inline (no workers, in the planning thread),
 * n > 1 = a pool of n workers.
 * @throws ParameterError for a count outside 0 … MAX_EXTRACTION_THREADS, quoting it.
 */
export function createExtractor(threads: number): ExtractorHandle {
  if (!(Number.isInteger(threads) && threads >= 0 && threads <= MAX_EXTRACTION_THREADS)) {
    throw new ParameterError(`extraction threads must be an integer in [0, ${MAX_EXTRACTION_THREADS}] (0 = auto), got ${threads}`);
  }
  const n = threads === 0 ? autoExtractionThreads() : threads;
  if (n === 1) return { threads: 1, extractor: inlineExtractor(), close: async () => undefined };
  const pool = new ExtractionPool(n);
  return { threads: n, extractor: pool.extract, close: () => pool.close() };
}
