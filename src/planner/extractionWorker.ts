/**
 * Worker-thread side of ExtractionPool: runs extractCandidate (pure, src/core) for the jobs it is
 * sent. Keyframes with ids arrive once and are kept until a job's id list no longer names them, so
 * a replan sends only the new ones. The keyframe index of the newest plan is kept, so the jobs of
 * one plan build it once per worker. Errors go back as { name, message, code } and are rebuilt as
 * the same class.
 */
import { parentPort } from 'node:worker_threads';
import { InferenceError } from '../core/errors.js';
import { KeyframeIndex, type Keyframe } from '../core/path/anchor.js';
import { extractCandidate, type CandidateExtraction, type ExtractionContext } from '../core/planner/extractCandidate.js';

/** main → worker */
export interface ExtractionRequest {
  id: number;
  /** The same for every job of one plan. */
  plan: number;
  /** The context without its keyframes (empty): the worker's store supplies them by id. */
  ctx: ExtractionContext;
  frames: Uint8Array[];
  /** The pool's ids of the plan's keyframes, in order (an id always names the same image and pose). */
  keyframeIds: number[];
  /** Keyframes this worker has not been sent yet. */
  added: { id: number; keyframe: Keyframe }[];
}

/** worker → main */
export type ExtractionReply = { id: number; result: CandidateExtraction } | { id: number; error: { name: string; message: string; code?: string } };

let cached: { plan: number; index: KeyframeIndex } | undefined;
/** Keyframes by id, as sent by the pool: each once, then named by id; ids no longer in memory are dropped. */
const store = new Map<number, Keyframe>();

/** The plan's keyframes by id from the store (updated with `added`, pruned to the ids). */
function keyframesOf(req: ExtractionRequest): Keyframe[] {
  for (const a of req.added) store.set(a.id, a.keyframe);
  const out = req.keyframeIds.map((id) => {
    const k = store.get(id);
    if (!k) throw new InferenceError(`extraction worker: keyframe ${id} was never sent to it`, 'extraction_worker');
    return k;
  });
  const keep = new Set(req.keyframeIds);
  for (const id of store.keys()) if (!keep.has(id)) store.delete(id);
  return out;
}

parentPort?.on('message', (req: ExtractionRequest) => {
  try {
    let indexMs = 0;
    const keyframes = keyframesOf(req);
    if (cached?.plan !== req.plan) {
      const t0 = performance.now();
      cached = { plan: req.plan, index: new KeyframeIndex(keyframes, req.ctx.camera) };
      indexMs = performance.now() - t0;
    }
    const r = extractCandidate(req.frames, { ...req.ctx, keyframes }, cached.index);
    const reply: ExtractionReply = { id: req.id, result: { ...r, anchorMs: r.anchorMs + indexMs } };
    parentPort?.postMessage(reply);
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    const code = (err as { code?: unknown }).code;
    const reply: ExtractionReply = { id: req.id, error: { name: err.name, message: err.message, ...(typeof code === 'string' ? { code } : {}) } };
    parentPort?.postMessage(reply);
  }
});

// the pool replaces a worker that dies only if it had loaded (a script that cannot load would fail again)
parentPort?.postMessage({ ready: true });
