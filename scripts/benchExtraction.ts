/**
 * Path extraction (plan step 5) alone, timed on the candidates of real plans, with a digest of
 * its results so that a faster extractor can be checked to give the same paths.
 *   node dist/scripts/benchExtraction.js [A-B] [reps]   (default seeds 100-103, 3 reps)
 * Wall and process CPU time (the extraction is single-threaded here; the least CPU time of the repetitions is the most
 * robust number on a shared machine). Per world: one plan at M = 4 with the shipped model (the bench's request), its candidates'
 * frames and context captured, then extracted inline `reps` times. Prints the median ms per
 * candidate and per plan, the split box / vo / waypoints, and a digest (FNV-1a of the rounded
 * chain poses, goals, objects and scores) that must not change when only speed changes.
 */
import { OnnxImaginationModel, defaultModelDir } from '../src/model/OnnxImaginationModel.js';
import { cameraOf } from '../src/core/model/manifest.js';
import { makeScenario } from '../src/sim/scenario.js';
import { fillBuffer } from '../src/cli/commands/eval.js';
import { parseSeedRange } from '../src/cli/args.js';
import { median } from '../src/core/context/contextCost.js';
import { planToObject, samplerRequest } from '../src/core/planner/planToObject.js';
import { inlineExtractor, type CandidateExtraction, type ExtractionContext, type Extractor } from '../src/core/planner/extractCandidate.js';

const seeds = parseSeedRange(process.argv[2] ?? '100-103');
const reps = Number(process.argv[3] ?? 3);
if (!(Number.isInteger(reps) && reps >= 1)) throw new Error(`expected reps ≥ 1, found '${process.argv[3]}'`);
const model = await OnnxImaginationModel.load(defaultModelDir());
const m = model.manifest;
const camera = cameraOf(m);

function digestOf(xs: CandidateExtraction[]): string {
  const r = (v: number | undefined) => (v === undefined ? 'u' : v.toFixed(4));
  const parts: string[] = [];
  for (const x of xs) {
    for (const p of x.chain.poses) parts.push(r(p.x), r(p.y), r(p.yaw));
    for (const l of x.chain.links) parts.push(r(l.motion.confidence));
    const g = x.goal;
    parts.push(g.source, r(g.goal?.x), r(g.goal?.y), r(g.goal?.yaw), r(g.goalScore), r(g.object?.x), r(g.object?.y), r(x.score.score));
  }
  let h = 0x811c9dc5;
  for (const ch of parts.join(',')) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

const least = (v: number[]) => Math.min(...v);
let totalPlan = 0;
let totalCpu = 0;
const digests: string[] = [];
for (const s of seeds) {
  const sc = makeScenario(s);
  const buffer = fillBuffer(sc, camera, 'none', undefined);
  let captured: { ctx: ExtractionContext; cands: (readonly Uint8Array[])[] } | undefined;
  const capture: Extractor = async (ctx, cands) => {
    captured = { ctx, cands: cands.map((c) => c.slice()) };
    return inlineExtractor()(ctx, cands);
  };
  await planToObject(
    { model, modelId: 'bench', camera, frameDtS: m.frame_dt_s, buffer, extractor: capture },
    { object: sc.target.category, ...samplerRequest(m.sampler), candidates: 4, seed: s, policy: 'pose_diverse' },
  );
  if (!captured) throw new Error('the plan did not extract');
  await new Promise((r) => setTimeout(r, 200)); // let ONNX Runtime's threads stop spinning
  const planMs: number[] = [];
  const cpuMs: number[] = [];
  const vo: number[] = [];
  const wp: number[] = [];
  let digest = '';
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const xs = await inlineExtractor()(captured.ctx, captured.cands);
    const c1 = process.cpuUsage(c0);
    planMs.push(performance.now() - t0);
    cpuMs.push((c1.user + c1.system) / 1000);
    vo.push(xs.reduce((t, x) => t + x.voMs, 0));
    wp.push(xs.reduce((t, x) => t + x.anchorMs, 0));
    digest = digestOf(xs);
  }
  totalPlan += median(planMs);
  totalCpu += least(cpuMs);
  digests.push(digest);
  console.log(`seed ${s}: ${captured.ctx.keyframes.length} keyframes, ${captured.cands.length}×${captured.cands[0]?.length} frames; extraction ${median(planMs).toFixed(1)} ms wall, ${least(cpuMs).toFixed(1)} ms CPU at best (vo ${median(vo).toFixed(1)}, waypoints ${median(wp).toFixed(1)}); digest ${digest}`);
}
console.log(`seeds ${seeds[0]}-${seeds[seeds.length - 1]}: median-of-${reps} extraction per plan, mean ${(totalPlan / seeds.length).toFixed(1)} ms wall, best-of-${reps} CPU ${(totalCpu / seeds.length).toFixed(1)} ms; digest ${digests.join(' ')}`);
process.exit(0);
