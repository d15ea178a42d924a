/** What `bench` measured (BenchReport) and its printed table. */
import { SAMPLING_POLICIES } from '../../core/context/ContextBuffer.js';
import type { PlanStages } from './stages.js';
import type { RssRun } from './rss.js';

export interface BenchReport {
  config: Record<string, unknown>;
  machine: Record<string, unknown>;
  ingest_ms: { rgb8_640x480: number; bgr8_640x480: number; jpeg_640x480: number | null };
  ingest_detail: Record<string, unknown>;
  buffer_sample_ms: number;
  buffer_detail: Record<string, unknown>;
  /** m4_pool, m1_pool: M = 4 and M = 1 with path extraction in worker threads (plan_detail.extraction_threads). */
  plan_s: { m1: PlanStages; m4: PlanStages; m4_pool: PlanStages; m1_pool: PlanStages };
  plan_detail: Record<string, unknown>;
  ort_vs_torch: {
    ort_ms: number;
    torch_ms: number | null;
    /** torch_ms / ort_ms: above 1, ONNX Runtime is faster. */
    ratio: number | null;
    batch: number;
    frames: number;
    threads: number;
    /** ORT with intra-op spinning off, same threads (null when threads = 1). */
    ort_ms_no_spinning: number | null;
    /** Both on one thread (null when threads = 1: then the main numbers are one-thread). */
    ort_ms_1_thread: number | null;
    torch_ms_1_thread: number | null;
    ratio_1_thread: number | null;
    reason?: string;
    golden_max_abs_diff?: number | null;
    torch_version?: string;
  };
  flops: {
    denoiser_gflop: number | null;
    denoiser_gflop_counted: number | null;
    achieved_gflops: number | null;
    torch_achieved_gflops: number | null;
    /** The onnxruntime-node float32 MatMul rate on the same threads (measureOrtMatmul). */
    peak_gflops: number | null;
    /** achieved_gflops / peak_gflops: the denoiser's share of the measured peak. */
    ort_fraction_of_peak: number | null;
    how: string;
    peak_how: string;
    /** torch.mm's rate (null without python3-torch). */
    torch_peak_gflops: number | null;
    torch_peak_how: string;
    ort_fraction_of_torch_peak: number | null;
    reason?: string;
  };
  rss_mb: RssRun['rss_mb'];
  memory: Omit<RssRun, 'rss_mb'> & { target_peak_mb: number; growth_limit_mb: number };
  wall_s: number;
}

/** How to get the PyTorch rows on a machine without them. */
export const TORCH_HINT = 'the PyTorch rows need torch and onnx: apt-get install -y python3-torch python3-onnx python3-numpy';

const f = (v: number | null | undefined, d = 2) => (v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(d));

/**
 * The sampler a report's plans ran with, from its `config`: "8 steps, shift 3, guidance 3 at
 * t >= 0.7"; `guidance_min_t` 0 (every step guided) prints no interval.
 */
export function samplerText(c: Record<string, unknown>): string {
  const minT = c['guidance_min_t'];
  const interval = typeof minT === 'number' && minT > 0 ? ` at t >= ${minT}` : '';
  return `${c['steps']} steps, shift ${c['shift']}, guidance ${c['guidance']}${interval}`;
}

/** The human-readable table printed by the bench. */
export function formatReport(r: BenchReport): string {
  const L: string[] = [];
  const W = 58;
  const row = (label: string, ...values: string[]) => L.push(`  ${label.padEnd(W)}${values.map((v) => v.padStart(9)).join('')}`);
  const head = (label: string, ...units: string[]) => L.push(`${label.padEnd(W + 2)}${units.map((v) => v.padStart(9)).join('')}`);
  const m = r.machine;
  const c = r.config;
  L.push(`video4spatial-nav bench${c['quick'] ? ' --quick' : ''}   ${m['date']}`);
  L.push(`machine: ${m['cpu']}, ${m['cores']} cores, ${m['total_mem_gb']} GB; node ${m['node']}; onnxruntime-node ${m['onnxruntime']}; OpenCV ${m['opencv']}; ${m['torch'] ? `torch ${m['torch']}` : 'no torch'}`);
  L.push(`load average (1 min) at start ${m['load_avg_start']}, at end ${m['load_avg_end']}`);
  L.push(`model ${c['model']}: K=${c['context_frames']}, N=${c['target_frames']}, ${samplerText(c)}; ORT CPU EP, ${c['threads']} threads; world seed ${c['seed']}`);
  L.push('');
  head(`ingest, 640×480 frame → 64×64, one thread (median of ${r.ingest_detail['frames']})`, 'ms');
  row(`rgb8 (${r.ingest_detail['backend']})`, f(r.ingest_ms.rgb8_640x480, 3));
  row(`bgr8 (${r.ingest_detail['backend']})`, f(r.ingest_ms.bgr8_640x480, 3));
  row(`JPEG q80 (${r.ingest_detail['jpeg_bytes'] ?? '?'} bytes)`, f(r.ingest_ms.jpeg_640x480, 3));
  const bp = r.buffer_detail['sample_ms_by_policy'] as Record<string, number>;
  head(`context buffer, sample K=${r.buffer_detail['k']} of ${r.buffer_detail['frames']} frames`, 'ms');
  row('pose_diverse (candidate 0 of every plan)', f(r.buffer_sample_ms, 3));
  for (const p of SAMPLING_POLICIES.filter((q) => q !== 'pose_diverse')) row(p, f(bp[p], 3));
  L.push('');
  head(`plan latency by stage (median of ${r.plan_detail['reps']}; ${r.plan_detail['keyframes']} keyframes; encode cold)`, 'M=1 s', 'M=4 s', 'pool s', 'pool M=1');
  L.push(`  (pool: M = 4 again, and M = 1, with path extraction in ${r.plan_detail['extraction_threads']} worker threads: the node's default)`);
  const rows: [string, keyof PlanStages][] = [
    ['sample + ground (grounder: every keyframe, once per name)', 'sample'],
    ['encode (sampled keyframes the grounder did not encode)', 'encode'],
    ['denoise, per step (mean; batch 2·M guided, M not)', 'step'],
    [`denoise, all ${c['steps']} steps`, 'denoise'],
    ['decode (M·N frames)', 'decode'],
    ['extract (wall: box + vo + waypoints)', 'extract'],
    ['  box (red box in every frame; summed over threads)', 'box'],
    ['  vo (odometry chain per candidate; summed)', 'vo'],
    ['  waypoints (anchoring, goal, object, score; summed)', 'waypoints'],
    ['name evidence (step 6)', 'evidence'],
    ['total', 'total'],
  ];
  for (const [label, k] of rows) row(label, f(r.plan_s.m1[k], 3), f(r.plan_s.m4[k], 3), f(r.plan_s.m4_pool[k], 3), f(r.plan_s.m1_pool[k], 3));
  L.push('');
  const o = r.ort_vs_torch;
  head(`denoiser forward, batch ${o.batch} × ${o.frames} frames, ${o.threads} threads (median)`, 'ms');
  row('onnxruntime-node (default: intra-op threads spin-wait)', f(o.ort_ms, 1));
  if (o.torch_ms === null) {
    row(`PyTorch: n/a (${o.reason ?? 'no reason'})`);
    L.push(`  (${TORCH_HINT}, or pass --python PATH to a Python with torch and onnx)`);
  }
  else {
    row(`PyTorch ${o.torch_version ?? ''}, same weights (max |Δ| on golden ${o.golden_max_abs_diff === undefined || o.golden_max_abs_diff === null ? 'n/a' : o.golden_max_abs_diff.toExponential(1)})`, f(o.torch_ms, 1));
    row('ratio PyTorch / ORT', `${f(o.ratio, 2)}×`);
  }
  if (o.ort_ms_no_spinning !== null) row(`onnxruntime-node, ${o.threads} threads, spinning off`, f(o.ort_ms_no_spinning, 1));
  if (o.ort_ms_1_thread !== null) {
    row('onnxruntime-node, 1 thread', f(o.ort_ms_1_thread, 1));
    row('PyTorch, 1 thread', f(o.torch_ms_1_thread, 1));
    row('ratio PyTorch / ORT, 1 thread', `${f(o.ratio_1_thread, 2)}×`);
  }
  const fl = r.flops;
  head('FLOPs', 'GFLOP(/s)');
  row(`denoiser forward (analytic; counted in torch: ${f(fl.denoiser_gflop_counted, 3)})`, f(fl.denoiser_gflop, 3));
  row('achieved, onnxruntime-node', f(fl.achieved_gflops, 1));
  row('achieved, PyTorch', f(fl.torch_achieved_gflops, 1));
  const pct = (x: number | null) => (x === null ? 'n/a' : `${(100 * x).toFixed(0)} %`);
  row(`peak: ${fl.peak_how}`, f(fl.peak_gflops, 1));
  row('denoiser (onnxruntime-node) share of that peak', pct(fl.ort_fraction_of_peak));
  if (fl.torch_peak_gflops === null) row(`peak: torch n/a (${TORCH_HINT})`);
  else {
    row(`peak: ${fl.torch_peak_how}`, f(fl.torch_peak_gflops, 1));
    row('denoiser (onnxruntime-node) share of the torch peak', pct(fl.ort_fraction_of_torch_peak));
  }
  L.push('');
  const mem = r.memory;
  head(`memory: the node on the in-process graph, fresh process, ${mem.sim_s} simulated s`, 'MB');
  L.push(`  (${mem.camera}; ${mem.ingest.received} frames, ${mem.ingest.dropped} dropped; ${mem.plans.done} plans M=${mem.plans.candidates}, ${f(mem.plans.mean_plan_s, 2)} s each; ${f(mem.wall_s, 0)} s wall)`);
  row('RSS at start (modules loaded, no model)', f(r.rss_mb.start, 0));
  row(`RSS peak (target ≤ ${mem.target_peak_mb} MB: ${r.rss_mb.peak <= mem.target_peak_mb ? 'met' : 'MISSED'})`, f(r.rss_mb.peak, 0));
  row('RSS at end', f(r.rss_mb.end, 0));
  row(`RSS after warm-up (t=${f(mem.warmup_end_s, 0)} s: ${mem.warmup})`, f(r.rss_mb.after_warmup, 0));
  row(`growth after warm-up: ${mem.grew_after_warmup ? 'GREW' : 'no growth'} (limit ${mem.growth_limit_mb} MB)`, f(r.rss_mb.growth_after_warmup, 1));
  L.push(`  (buffer ${mem.buffer.frames}/${mem.buffer.max_frames} keyframes, ${f(mem.buffer.mb, 1)} MB, full at ${mem.buffer_full_s === null ? 'never' : `${f(mem.buffer_full_s, 0)} s`}, ${mem.buffer.evicted} evicted)`);
  L.push('');
  L.push(`bench wall time ${f(r.wall_s, 0)} s; wall-clock times on a shared machine (see docs/bench.md)`);
  return L.join('\n') + '\n';
}
