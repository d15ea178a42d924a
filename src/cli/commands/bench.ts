/**
 * `video4spatial-nav bench [--json FILE] [--quick] [--model DIR] [--threads N] [--python PATH]`
 * `video4spatial-nav bench --rss-only [--sim-s S] [--plans P] [--candidates M] [--model DIR] [--threads N]`
 *
 * The speed numbers of DESIGN §6 in one run, printed as a table (and written as JSON with --json):
 * - ingest_ms: one 640×480 camera message → 64×64 model frame (rgb8, bgr8, JPEG q80), one thread;
 * - buffer_sample_ms: ContextBuffer.sample(K = 8) on a full 1024-frame buffer;
 * - plan_s: planToObject with the shipped model for M = 1 and M = 4, by stage (encode cold,
 *   per denoising step, decode, box, visual odometry, waypoints), and M = 4 again with path
 *   extraction in an ExtractionPool (m4_pool), and M = 1 with it (m1_pool);
 * - ort_vs_torch: one denoiser forward at batch 2·M (M = the manifest's candidates) in
 *   onnxruntime-node and in PyTorch (`/usr/bin/python3 models/training/bench_torch.py`, the same
 *   ONNX initializers, the same threads), and their ratio;
 * - flops: FLOPs of that forward (analytic, cross-checked by counting in torch), the GFLOP/s ORT
 *   achieves, and a measured dense-matmul peak (torch/OpenBLAS float32 N×N);
 * - rss_mb: resident memory of a fresh process running the real node on the in-process graph with
 *   30 Hz 160×120 camera + TF for 600 simulated seconds (--quick: 60) and a few plans.
 * --quick: fewer repetitions and a 1-minute memory run, so the whole bench takes well under a
 * minute (for tests). --rss-only runs just the memory run in this process and prints its JSON.
 * All times are wall-clock medians on a shared machine: see docs/bench.md for how to read them.
 * This file runs the measurements and is the command; their parts are in src/cli/bench/ (flops,
 * stages, torch, rss, report).
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism, cpus, freemem, loadavg, totalmem } from 'node:os';
import { checkFlags, flagBool, flagNumber, flagString, parseArgs, UsageError } from '../args.js';
import { booleanFlags, commandHelp, flagNames, type CliCommand } from '../command.js';
import { Progress, PROGRESS_FLAGS, progressFromArgs } from '../progress.js';
import { measureContextCost, median } from '../../core/context/contextCost.js';
import { cameraOf } from '../../core/model/manifest.js';
import { planToObject, samplerRequest } from '../../core/planner/planToObject.js';
import type { Extractor } from '../../core/planner/extractCandidate.js';
import { autoExtractionThreads, ExtractionPool } from '../../planner/ExtractionPool.js';
import { defaultModelDir, measureOrtMatmul, OnnxImaginationModel, onnxRuntimeVersion } from '../../model/OnnxImaginationModel.js';
import { makeScenario } from '../../sim/scenario.js';
import { measureIngestCost } from '../../vision/ingestCost.js';
import { fillBuffer } from './eval.js';
import { architectureOf, denoiserFlops } from '../bench/flops.js';
import { medianStages, stagesOf, type PlanStages } from '../bench/stages.js';
import { DEFAULT_PYTHON, runTorchBench } from '../bench/torch.js';
import { BENCH_SEED, RSS_GROWTH_LIMIT_MB, RSS_PLANS, RSS_TARGET_MB, rssRun, spawnRssRun } from '../bench/rss.js';
import { formatReport, type BenchReport } from '../bench/report.js';

const MB = 1024 * 1024;

/** Median ms of one ORT denoiser forward with the inputs bench_torch.py times (t = 0.5, object 1). */
async function ortDenoiseMs(model: OnnxImaginationModel, batch: number, frames: number, reps: number): Promise<number> {
  const s = model.spec;
  const L = s.latentChannels * s.latentHeight * s.latentWidth;
  const lat = new Float32Array(batch * frames * L).map(() => Math.random() - 0.5);
  const t = new Float32Array(batch * frames).fill(0.5);
  const idx = new Float32Array(batch * frames).map((_, i) => (i % frames) - s.contextFrames + 1);
  const obj = new BigInt64Array(batch).fill(1n);
  for (let i = 0; i < 2; i++) await model.denoise(lat, t, idx, obj, batch, frames);
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await model.denoise(lat, t, idx, obj, batch, frames);
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

export interface BenchOptions {
  quick: boolean;
  modelDir: string;
  threads: number;
  python: string;
  /** Called as each of BENCH_STAGES starts (the progress reporter's stage()). */
  stage?: (name: (typeof BENCH_STAGES)[number]) => void;
}

/** The stages of a bench run, in order. */
export const BENCH_STAGES = ['ingest', 'plans', 'ORT vs PyTorch', 'memory run'] as const;

/** Runs every measurement; see the module comment. */
export async function runBench(o: BenchOptions): Promise<BenchReport> {
  const stage = o.stage ?? (() => undefined);
  const wall0 = performance.now();
  const q = o.quick;
  const loadStart = loadavg()[0] ?? 0;
  const started = new Date().toISOString();
  // 1. ingest and buffer (one thread, before the model is loaded)
  stage('ingest');
  const ing = measureIngestCost(q ? 30 : 300);
  const backend = ing.defaultBackend;
  const ctx = measureContextCost(q ? 30 : 300);
  // 2. plans
  stage('plans');
  const model = await OnnxImaginationModel.load(o.modelDir, { executionProvider: 'cpu', intraOpThreads: o.threads });
  const m = model.manifest;
  const spec = model.spec;
  const camera = cameraOf(m);
  const sc = makeScenario(BENCH_SEED);
  const buffer = fillBuffer(sc, camera, 'none', undefined);
  const F = spec.contextFrames + spec.targetFrames;
  const batch = 2 * m.sampler.candidates;
  await model.warmUp();
  await ortDenoiseMs(model, batch, F, 1);
  const reps = q ? 1 : 3;
  const modelId = `${m.name}:${m.files.denoiser.sha256.slice(0, 12)}`;
  const sampler = samplerRequest(m.sampler); // the model's own, as every plan below runs it
  const planStages = async (M: number, extractor?: Extractor): Promise<PlanStages> => {
    const runs: PlanStages[] = [];
    for (let r = 0; r < reps; r++) {
      buffer.dropLatents(); // cold encode: every sampled frame is encoded
      const plan = await planToObject(
        { model, modelId, camera, frameDtS: m.frame_dt_s, buffer, ...(extractor ? { extractor } : {}) },
        { object: sc.target.category, ...sampler, candidates: M, seed: BENCH_SEED + r, policy: 'pose_diverse' },
      );
      runs.push(stagesOf(plan.timings));
    }
    return medianStages(runs);
  };
  const m1 = await planStages(1);
  const m4 = await planStages(4);
  // the same plans with step 5 in worker threads (at least 2, so the pool is measured even on one core)
  const pool = new ExtractionPool(Math.max(2, autoExtractionThreads()));
  let m4Pool: PlanStages;
  let m1Pool: PlanStages;
  try {
    await planStages(4, pool.extract); // warm the workers
    m4Pool = await planStages(4, pool.extract);
    m1Pool = await planStages(1, pool.extract);
  } finally {
    await pool.close();
  }
  // 3. ORT against PyTorch, FLOPs
  stage('ORT vs PyTorch');
  const ortReps = q ? 3 : 20;
  const ortMs = await ortDenoiseMs(model, batch, F, ortReps);
  await model.dispose();
  // the same forward without spin-waiting threads, and on one thread (contention-sensitive: see docs/bench.md)
  const ortVariant = async (opts: { intraOpThreads: number; allowSpinning?: boolean }): Promise<number> => {
    const v = await OnnxImaginationModel.load(o.modelDir, { executionProvider: 'cpu', verifySha256: false, ...opts });
    try {
      return await ortDenoiseMs(v, batch, F, ortReps);
    } finally {
      await v.dispose();
    }
  };
  const ortNoSpin = o.threads > 1 ? await ortVariant({ intraOpThreads: o.threads, allowSpinning: false }) : null;
  const ort1 = o.threads > 1 ? await ortVariant({ intraOpThreads: 1 }) : null;
  // the machine's matrix-product rate in the same library: the peak the denoiser is measured against
  const ortPeak = await measureOrtMatmul({ n: q ? 1024 : 2048, threads: o.threads, reps: q ? 3 : 10 });
  const torch = await runTorchBench({
    python: o.python,
    modelDir: o.modelDir,
    batch,
    frames: F,
    threads: o.threads,
    reps: q ? 3 : 20,
    matmulN: q ? 1024 : 2048,
    matmulReps: q ? 3 : 10,
    alsoOneThread: o.threads > 1,
    timeoutMs: q ? 60_000 : 600_000,
  });
  const tb = 'error' in torch ? undefined : torch;
  const arch = architectureOf(m);
  const flops = typeof arch === 'string' ? null : denoiserFlops(arch, spec, batch, F);
  const gf = (fl: number | null, ms: number | null | undefined) => (fl === null || !ms ? null : fl / (ms / 1000) / 1e9);
  const torchPeak = tb?.matmul?.gflops ?? null;
  const achieved = gf(flops, ortMs);
  // 4. memory, in a fresh process
  stage('memory run');
  const simS = q ? 60 : 600;
  const rss = await spawnRssRun(
    { modelDir: o.modelDir, threads: o.threads, simS, plans: q ? 2 : RSS_PLANS, candidates: q ? 1 : m.sampler.candidates },
    q ? 120_000 : 1_800_000,
  );
  const { rss_mb, ...memory } = rss;
  const cpu = cpus();
  return {
    config: {
      quick: q,
      model: m.name,
      model_dir: o.modelDir,
      context_frames: spec.contextFrames,
      target_frames: spec.targetFrames,
      steps: sampler.steps,
      guidance: sampler.guidance,
      guidance_min_t: sampler.guidanceMinT,
      shift: sampler.shift,
      threads: o.threads,
      seed: BENCH_SEED,
      python: o.python,
    },
    machine: {
      date: started,
      cpu: cpu[0]?.model ?? 'unknown',
      cores: cpu.length,
      available_parallelism: availableParallelism(),
      total_mem_gb: +(totalmem() / 1024 ** 3).toFixed(1),
      free_mem_gb_start: +(freemem() / 1024 ** 3).toFixed(1),
      node: process.version,
      onnxruntime: onnxRuntimeVersion(),
      opencv: ing.opencv,
      torch: tb ? `${tb.torch_version} (python ${tb.python})` : null,
      platform: `${process.platform} ${process.arch}`,
      load_avg_start: +loadStart.toFixed(2),
      load_avg_end: +(loadavg()[0] ?? 0).toFixed(2),
    },
    ingest_ms: { rgb8_640x480: ing.raw.rgb8[backend] ?? ing.raw.rgb8.js, bgr8_640x480: ing.raw.bgr8[backend] ?? ing.raw.bgr8.js, jpeg_640x480: ing.jpeg?.ms ?? null },
    ingest_detail: {
      backend,
      frames: ing.frames,
      raw_js_ms: { rgb8: ing.raw.rgb8.js, bgr8: ing.raw.bgr8.js },
      jpeg_bytes: ing.jpeg?.bytes ?? null,
      jpeg_full_decode_ms: ing.jpeg?.fullDecodeMs ?? null,
      thumbnail_ms: { raw: ing.rawThumbnailMs, jpeg: ing.jpeg?.thumbnailMs ?? null },
    },
    buffer_sample_ms: ctx.sampleMs.pose_diverse,
    buffer_detail: { k: ctx.k, frames: ctx.bufferFrames, mb: ctx.bufferBytes / MB, sample_ms_by_policy: ctx.sampleMs, add_evict_ms: ctx.addEvictMs, gate_decision_ms: ctx.gateDecisionMs },
    plan_s: { m1, m4, m4_pool: m4Pool, m1_pool: m1Pool },
    plan_detail: { reps, extraction_threads: Math.max(2, autoExtractionThreads()), keyframes: buffer.size, object: sc.target.category, policy: 'pose_diverse (candidate 0), uniform (others)' },
    ort_vs_torch: {
      ort_ms: ortMs,
      torch_ms: tb?.denoiser_ms ?? null,
      ratio: tb ? tb.denoiser_ms / ortMs : null,
      batch,
      frames: F,
      threads: o.threads,
      ort_ms_no_spinning: ortNoSpin,
      ort_ms_1_thread: ort1,
      torch_ms_1_thread: tb?.denoiser_ms_1_thread ?? null,
      ratio_1_thread: tb?.denoiser_ms_1_thread !== undefined && ort1 !== null ? tb.denoiser_ms_1_thread / ort1 : null,
      ...(tb ? { golden_max_abs_diff: tb.golden_max_abs_diff, torch_version: tb.torch_version } : { reason: (torch as { error: string }).error }),
    },
    flops: {
      denoiser_gflop: flops === null ? null : flops / 1e9,
      denoiser_gflop_counted: tb ? tb.flops_counted / 1e9 : null,
      achieved_gflops: achieved,
      torch_achieved_gflops: tb ? gf(flops, tb.denoiser_ms) : null,
      peak_gflops: ortPeak.gflops,
      ort_fraction_of_peak: achieved !== null ? achieved / ortPeak.gflops : null,
      how: 'analytic, 2 × multiply-adds of linear layers and attention matmuls (denoiserFlops); counted = torch forward hooks on nn.Linear + torch.matmul',
      peak_how: `ORT float32 ${ortPeak.n}² MatMul, ${ortPeak.threads} threads, fastest of ${q ? 3 : 10}`,
      torch_peak_gflops: torchPeak,
      torch_peak_how: tb?.matmul ? `torch ${tb.torch_version} float32 ${tb.matmul.n}×${tb.matmul.n} matmul, ${tb.threads} threads` : 'not measured',
      ort_fraction_of_torch_peak: achieved !== null && torchPeak !== null ? achieved / torchPeak : null,
      ...(typeof arch === 'string' ? { reason: arch } : tb ? {} : { reason: (torch as { error: string }).error }),
    },
    rss_mb,
    memory: { ...memory, target_peak_mb: RSS_TARGET_MB, growth_limit_mb: RSS_GROWTH_LIMIT_MB },
    wall_s: (performance.now() - wall0) / 1000,
  };
}

const HELP = commandHelp({
  name: 'bench',
  summary: 'speed and memory: ingest, buffer sampling, plan stages (M=1, M=4), ORT vs PyTorch, FLOPs, RSS over a long run',
  synopsis: [
    'bench [--json FILE] [--quick] [--model DIR] [--threads N] [--python PATH] [--progress | --quiet]',
    'bench --rss-only [--sim-s S] [--plans P] [--candidates M] [--model DIR] [--threads N]',
  ],
  description:
    'Prints the speed numbers of DESIGN §6 as a table. --quick: fewer repetitions and a 1-minute memory run. ' +
    '--rss-only: just the memory run, in this process, printed as JSON. Times are wall-clock medians (docs/bench.md). ' +
    'On a terminal (or with --progress) each stage prints a line to stderr as it starts: stages done/total, elapsed, time left.',
  flags: [
    { name: 'json', value: 'FILE', help: 'also write the report to FILE' },
    { name: 'quick', help: 'fewer repetitions and a 60 simulated second memory run' },
    { name: 'model', value: 'DIR', default: 'the shipped model', help: 'model directory' },
    { name: 'threads', value: 'N', default: 'the available cores', help: 'onnxruntime and PyTorch threads, 1-256' },
    { name: 'python', value: 'PATH', default: DEFAULT_PYTHON, help: 'the Python that runs models/training/bench_torch.py' },
    { name: 'rss-only', help: 'only the memory run, as JSON' },
    { name: 'sim-s', value: 'S', default: '600', help: 'with --rss-only: simulated seconds' },
    { name: 'plans', value: 'P', default: String(RSS_PLANS), help: 'with --rss-only: plans during the run' },
    { name: 'candidates', value: 'M', default: '4', help: 'with --rss-only: candidates per plan, 1-16' },
    ...PROGRESS_FLAGS,
  ],
  examples: ['bench --quick --json bench.json'],
});

export const command: CliCommand = {
  ...HELP,
  async run(argv) {
    const args = parseArgs(argv, booleanFlags(HELP.flags));
    checkFlags(args, flagNames(HELP.flags), 'bench');
    const modelDir = flagString(args, 'model') ?? defaultModelDir();
    const threads = flagNumber(args, 'threads', availableParallelism(), { integer: true, min: 1, max: 256 });
    if (flagBool(args, 'rss-only')) {
      const r = await rssRun({
        modelDir,
        threads,
        simS: flagNumber(args, 'sim-s', 600, { min: 1, max: 86400 }),
        plans: flagNumber(args, 'plans', RSS_PLANS, { integer: true, min: 0, max: 1000 }),
        candidates: flagNumber(args, 'candidates', 4, { integer: true, min: 1, max: 16 }),
      });
      process.stdout.write(JSON.stringify(r) + '\n');
      return 0;
    }
    for (const k of ['sim-s', 'plans', 'candidates']) if (args.flags.has(k)) throw new UsageError(`--${k} only applies with --rss-only`);
    const json = flagString(args, 'json');
    const progress = new Progress('bench', BENCH_STAGES.length, { enabled: progressFromArgs(args) });
    const report = await runBench({
      quick: flagBool(args, 'quick'),
      modelDir,
      threads,
      python: flagString(args, 'python') ?? DEFAULT_PYTHON,
      stage: (name) => progress.stage(name),
    });
    progress.finish();
    process.stdout.write(formatReport(report));
    if (json) {
      writeFileSync(json, JSON.stringify(report, null, 2) + '\n');
      process.stdout.write(`JSON → ${json}\n`);
    }
    return 0;
  },
};
