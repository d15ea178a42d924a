/**
 * Worker-thread side of ExtractionPool: runs extractCandidate (pure, src/core) for the jobs it is
 * sent. The keyframe index of the newest plan is kept, so the jobs of one plan build it once per
 * worker. Errors go back as { name, message, code } and are rebuilt as the same class.
 */
import { parentPort } from 'node:worker_threads';
import { KeyframeIndex } from '../core/path/anchor.js';
import { extractCandidate, type CandidateExtraction, type ExtractionContext } from '../core/planner/extractCandidate.js';

/** main → worker */
export interface ExtractionRequest {
  id: number;
  /** The same for every job of one plan. */
  plan: number;
  ctx: ExtractionContext;
  frames: Uint8Array[];
}

/** worker → main */
export type ExtractionReply = { id: number; result: CandidateExtraction } | { id: number; error: { name: string; message: string; code?: string } };

let cached: { plan: number; index: KeyframeIndex } | undefined;

parentPort?.on('message', (req: ExtractionRequest) => {
  try {
    let indexMs = 0;
    if (cached?.plan !== req.plan) {
      const t0 = performance.now();
      cached = { plan: req.plan, index: new KeyframeIndex(req.ctx.keyframes, req.ctx.camera) };
      indexMs = performance.now() - t0;
    }
    const r = extractCandidate(req.frames, req.ctx, cached.index);
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
