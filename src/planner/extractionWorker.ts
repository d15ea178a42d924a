/**
 * Worker-thread side of ExtractionPool: runs extractCandidate, or one of its halves (chainPart,
 * anchorPart), for the jobs it is sent (pure code, src/core). Keyframes with ids arrive once and are kept until a job's id list no longer names them, so
 * a replan sends only the new ones. The keyframe index of the newest plan is kept, so the jobs of
 * one plan build it once per worker, and the next plan's index takes over its layouts for the
 * keyframes still in memory. Errors go back as { name, message, code } and are rebuilt as
 * the same class.
 */
import { parentPort } from 'node:worker_threads';
import { InferenceError } from '../core/errors.js';
import { KeyframeIndex, type Keyframe } from '../core/path/anchor.js';
import { anchorPart, chainPart, extractCandidate, type AnchorPart, type CandidateExtraction, type ChainPart, type ExtractionContext } from '../core/planner/extractCandidate.js';

/** What a job computes: a candidate's whole extraction, or one half of it (combined by the pool). */
export type ExtractionPartName = 'whole' | 'chain' | 'anchors';

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
  part: ExtractionPartName;
}

/** A job's result by part. */
export type ExtractionResult = { part: 'whole'; result: CandidateExtraction } | { part: 'chain'; result: ChainPart } | { part: 'anchors'; result: AnchorPart };

/** worker → main */
export type ExtractionReply = { id: number; done: ExtractionResult } | { id: number; error: { name: string; message: string; code?: string } };

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
    const keyframes = keyframesOf(req);
    const ctx = { ...req.ctx, keyframes };
    if (req.part === 'chain') {
      const reply: ExtractionReply = { id: req.id, done: { part: 'chain', result: chainPart(req.frames, ctx) } };
      parentPort?.postMessage(reply);
      return;
    }
    let indexMs = 0;
    if (cached?.plan !== req.plan) {
      const t0 = performance.now();
      cached = { plan: req.plan, index: new KeyframeIndex(keyframes, req.ctx.camera, undefined, cached?.index) };
      indexMs = performance.now() - t0;
    }
    let done: ExtractionResult;
    if (req.part === 'anchors') {
      const r = anchorPart(req.frames, ctx, cached.index);
      done = { part: 'anchors', result: { ...r, anchorMs: r.anchorMs + indexMs } };
    } else {
      const r = extractCandidate(req.frames, ctx, cached.index);
      done = { part: 'whole', result: { ...r, anchorMs: r.anchorMs + indexMs } };
    }
    const reply: ExtractionReply = { id: req.id, done };
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
