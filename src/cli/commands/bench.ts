/**
 * `video4spatial-nav bench [--json FILE] [--quick] [--model DIR] [--threads N] [--python PATH]`
 * `video4spatial-nav bench --rss-only [--sim-s S] [--plans P] [--candidates M] [--model DIR] [--threads N]`
 *
 * The speed numbers of DESIGN §6 in one run, printed as a table (and written as JSON with --json):
 * - ingest_ms: one 640×480 camera message → 64×64 model frame (rgb8, bgr8, JPEG q80), one thread;
 * - buffer_sample_ms: ContextBuffer.sample(K = 8) on a full 1024-frame buffer;
 * - plan_s: planToObject with the shipped model for M = 1 and M = 4, by stage (encode cold,
 *   per denoising step, decode, box, visual odometry, waypoints), and M = 4 again with path
 *   extraction in an ExtractionPool (m4_pool);
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
 */
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, freemem, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { checkFlags, flagBool, flagNumber, flagString, parseArgs, UsageError } from '../args.js';
import { booleanFlags, commandHelp, flagNames, type CliCommand } from '../command.js';
import { Progress, PROGRESS_FLAGS, progressFromArgs } from '../progress.js';
import { measureContextCost, median } from '../../core/context/contextCost.js';
import { SAMPLING_POLICIES } from '../../core/context/ContextBuffer.js';
import { angleDiff, normalizeAngle, type Pose2D } from '../../core/geometry.js';
import { cameraOf, type ModelManifest } from '../../core/model/manifest.js';
import { planToObject, type PlanResult } from '../../core/planner/planToObject.js';
import type { Extractor } from '../../core/planner/extractCandidate.js';
import { autoExtractionThreads, createExtractor, ExtractionPool } from '../../planner/ExtractionPool.js';
import type { ModelSpec } from '../../core/sampler/model.js';
import { defaultModelDir, OnnxImaginationModel, onnxRuntimeVersion } from '../../model/OnnxImaginationModel.js';
import { SimClock } from '../../ros/clock.js';
import { InProcessBus } from '../../ros/InProcessGraph.js';
import type { NavigateToObjectFeedback, NavigateToObjectGoal, NavigateToObjectResult } from '../../ros/messages/types.js';
import { Video4SpatialNode } from '../../ros/Video4SpatialNode.js';
import { SILENT_LOGGER, SIM_CAMERA } from '../../sim/graphMission.js';
import { SimRobot } from '../../sim/rosSim.js';
import { EXPLORE_DT, makeScenario } from '../../sim/scenario.js';
import { measureIngestCost } from '../../vision/ingestCost.js';
import { fillBuffer } from './eval.js';

/** The simulated world every plan and the memory run use (the demo's default seed). */
export const BENCH_SEED = 100;
/** Camera rate of the memory run, Hz. */
export const RSS_CAMERA_HZ = 30;
/**
 * Plans during the 600 simulated seconds of the memory run. With path extraction in worker
 * threads (as the node runs by default), their heaps settle over the first dozen plans: with 25
 * plans RSS was flat (623–626 MB) from about the 12th plan on, while runs of 7 and 15 plans ended
 * still settling and counted as growing. So the run plans often enough for growth after warm-up
 * to mean a leak.
 */
export const RSS_PLANS = 25;
/**
 * RSS growth after warm-up (MB) above which the run counts as growing. The node's buffer is
 * bounded (default 512 keyframes ≈ 8 MB with latents); a leak of one 160×120 camera frame per
 * message would be ≈ 1 GB over 10 simulated minutes, of one 2 KB latent per message ≈ 36 MB.
 */
export const RSS_GROWTH_LIMIT_MB = 20;
/** The issue's target for the node's peak RSS, MB. */
export const RSS_TARGET_MB = 1024;
export const DEFAULT_PYTHON = '/usr/bin/python3';

const MB = 1024 * 1024;

/** The repository's models/training/bench_torch.py (from dist/src/cli/commands/). */
export function torchScriptPath(): string {
  return fileURLToPath(new URL('../../../../models/training/bench_torch.py', import.meta.url));
}

function mainJsPath(): string {
  return fileURLToPath(new URL('../main.js', import.meta.url));
}

// ------------------------------------------------------------------------------------------------
// FLOPs
// ------------------------------------------------------------------------------------------------

/** The denoiser's architecture as the manifest records it (`training.architecture`). */
export interface DenoiserArchitecture {
  dim: number;
  depth: number;
  heads: number;
  patch: number;
  latent_ch: number;
  /** Where adaLN runs: once per token (older exports) or once per frame, broadcast to its tokens. */
  adaln: 'token' | 'frame';
}

/** `training.architecture` of a manifest, or a reason why it is unusable. */
export function architectureOf(m: ModelManifest): DenoiserArchitecture | string {
  const a = (m.training?.['architecture'] ?? undefined) as Record<string, unknown> | undefined;
  if (!a || typeof a !== 'object') return `manifest of ${m.name} has no training.architecture`;
  const out: Record<string, number> = {};
  for (const k of ['dim', 'depth', 'heads', 'patch', 'latent_ch'] as const) {
    const v = a[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) return `training.architecture.${k} of ${m.name} must be a positive integer, got ${JSON.stringify(v)}`;
    out[k] = v;
  }
  const adaln = a['adaln'] ?? 'token';
  if (adaln !== 'token' && adaln !== 'frame') return `training.architecture.adaln of ${m.name} must be 'token' or 'frame', got ${JSON.stringify(adaln)}`;
  return { ...(out as unknown as Omit<DenoiserArchitecture, 'adaln'>), adaln };
}

/**
 * FLOPs (2 × multiply-adds) of one denoiser forward at `batch` × `frames`, counted analytically
 * for models/training/v4s_model.py's Denoiser: T = frames · (latentH/patch)·(latentW/patch) tokens
 * of width D; per token the patch embedding (C·p²·D), per block QKV (D·3D), QKᵀ and AV (2·T·D),
 * projection (D²), MLP (2·D·4D), then the output (D·C·p²); per frame the time MLP (2·D²). adaLN
 * (D·6D per block, D·2D before the output) counts per token or per frame, as the exported graph
 * computes it (`architecture.adaln`). Linear layers and matmuls only: element-wise ops, softmax,
 * norms and RoPE are not counted.
 */
export function denoiserFlops(arch: DenoiserArchitecture, spec: Pick<ModelSpec, 'latentHeight' | 'latentWidth'>, batch: number, frames: number): number {
  const { dim: D, depth, patch: p, latent_ch: C } = arch;
  const tokensPerFrame = Math.floor(spec.latentHeight / p) * Math.floor(spec.latentWidth / p);
  const T = frames * tokensPerFrame;
  const pdim = C * p * p;
  // adaLN: depth × D·6D in the blocks + D·2D before the output, per token or per frame
  const adaln = depth * D * 6 * D + D * 2 * D;
  const perBlockPerToken = D * 3 * D + 2 * T * D + D * D + 2 * D * 4 * D;
  const perToken = pdim * D + depth * perBlockPerToken + D * pdim + (arch.adaln === 'token' ? adaln : 0);
  const perFrame = 2 * D * D + (arch.adaln === 'frame' ? adaln : 0);
  const macs = T * perToken + frames * perFrame;
  return 2 * batch * macs;
}

// ------------------------------------------------------------------------------------------------
// plan latency by stage
// ------------------------------------------------------------------------------------------------

/** Stage times of one plan in seconds; `step` is the mean time per denoising step. */
export interface PlanStages {
  total: number;
  sample: number;
  encode: number;
  step: number;
  denoise: number;
  decode: number;
  /** Step 5's wall time (box + vo + waypoints when inline; less with an extraction pool). */
  extract: number;
  box: number;
  vo: number;
  waypoints: number;
  /** Step 6: the name evidence (0 when the plan did not compute it). */
  evidence: number;
}

/** planToObject's timings (ms) → PlanStages (s). */
export function stagesOf(t: PlanResult['timings']): PlanStages {
  const s = (ms: number) => ms / 1000;
  const steps = t.perStepMs.length;
  return {
    total: s(t.totalMs),
    sample: s(t.sampleMs),
    encode: s(t.encodeMs),
    step: steps > 0 ? s(t.perStepMs.reduce((a, b) => a + b, 0) / steps) : 0,
    denoise: s(t.denoiseMs),
    decode: s(t.decodeMs),
    extract: s(t.extractMs),
    box: s(t.boxMs),
    vo: s(t.voMs),
    waypoints: s(t.waypointsMs),
    evidence: s(t.evidenceMs),
  };
}

/** Per-stage median over repetitions. */
export function medianStages(runs: readonly PlanStages[]): PlanStages {
  if (runs.length === 0) throw new RangeError('medianStages: no runs');
  const keys = Object.keys(runs[0] as PlanStages) as (keyof PlanStages)[];
  return Object.fromEntries(keys.map((k) => [k, median(runs.map((r) => r[k]))])) as unknown as PlanStages;
}

// ------------------------------------------------------------------------------------------------
// PyTorch child process
// ------------------------------------------------------------------------------------------------

/** What models/training/bench_torch.py prints. */
export interface TorchBench {
  torch_version: string;
  python: string;
  threads: number;
  batch: number;
  frames: number;
  reps: number;
  denoiser_ms: number;
  golden_max_abs_diff: number | null;
  initializers_loaded: number;
  flops_counted: number;
  /** The same forward with torch.set_num_threads(1) (with alsoOneThread). */
  denoiser_ms_1_thread?: number;
  matmul?: { n: number; ms: number; gflops: number };
}

export interface TorchBenchOptions {
  python?: string;
  script?: string;
  modelDir: string;
  batch: number;
  frames: number;
  threads: number;
  reps: number;
  matmulN: number;
  matmulReps: number;
  /** Also time the forward on one thread. */
  alsoOneThread?: boolean;
  timeoutMs: number;
}

/**
 * Runs bench_torch.py in a child process. Never throws: a missing interpreter, a missing torch or
 * a failed run come back as `{ error }` quoting the cause. The child gets OMP_WAIT_POLICY=PASSIVE
 * (GNU OpenMP's spin-waiting made the same forward 7–14× slower on a shared 2-core machine) and
 * OMP/OpenBLAS thread counts equal to `threads`.
 */
export function runTorchBench(o: TorchBenchOptions): Promise<TorchBench | { error: string }> {
  const python = o.python ?? DEFAULT_PYTHON;
  const script = o.script ?? torchScriptPath();
  if (!existsSync(python)) return Promise.resolve({ error: `${python} not found (PyTorch is measured with Debian's python3-torch)` });
  if (!existsSync(script)) return Promise.resolve({ error: `${script} not found` });
  const args = [script, '--model', o.modelDir, '--batch', `${o.batch}`, '--frames', `${o.frames}`, '--threads', `${o.threads}`, '--reps', `${o.reps}`, '--matmul', `${o.matmulN}`, '--matmul-reps', `${o.matmulReps}`, ...(o.alsoOneThread ? ['--also-1-thread'] : [])];
  const env = { ...process.env, OMP_WAIT_POLICY: 'PASSIVE', OMP_NUM_THREADS: `${o.threads}`, OPENBLAS_NUM_THREADS: `${o.threads}` };
  return new Promise((resolve) => {
    execFile(python, args, { env, timeout: o.timeoutMs, maxBuffer: 16 * MB }, (err, stdout, stderr) => {
      const last = stdout.trim().split('\n').pop() ?? '';
      let parsed: unknown;
      try {
        parsed = last ? JSON.parse(last) : undefined;
      } catch {
        parsed = undefined;
      }
      if (parsed && typeof parsed === 'object' && 'error' in parsed) return resolve({ error: String((parsed as { error: unknown }).error) });
      if (err) {
        const why = (err as NodeJS.ErrnoException & { killed?: boolean }).killed ? `timed out after ${o.timeoutMs} ms` : err.message;
        return resolve({ error: `${python} ${script} failed: ${why}${stderr ? ` (${stderr.trim().split('\n').slice(-3).join(' | ')})` : ''}` });
      }
      if (!parsed || typeof (parsed as TorchBench).denoiser_ms !== 'number') return resolve({ error: `${script} printed no result JSON (last line: '${last.slice(0, 200)}')` });
      resolve(parsed as TorchBench);
    });
  });
}

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

// ------------------------------------------------------------------------------------------------
// memory over a long run
// ------------------------------------------------------------------------------------------------

/**
 * The robot's pose at simulated time `t` (s), driving `path` (sampled every `dt` s) forward, then
 * back, and so on; positions and headings interpolated linearly between samples.
 */
export function pingPongPose(path: readonly Pose2D[], dt: number, t: number): Pose2D {
  if (path.length === 0) throw new RangeError('pingPongPose: empty path');
  if (path.length === 1) return path[0] as Pose2D;
  const n = path.length;
  const period = 2 * (n - 1);
  let u = (t / dt) % period;
  if (u > n - 1) u = period - u;
  const i = Math.min(n - 2, Math.floor(u));
  const f = u - i;
  const a = path[i] as Pose2D;
  const b = path[i + 1] as Pose2D;
  return { x: a.x + f * (b.x - a.x), y: a.y + f * (b.y - a.y), yaw: normalizeAngle(a.yaw + f * angleDiff(b.yaw, a.yaw)) };
}

export interface RssRunOptions {
  modelDir: string;
  threads: number;
  /** Simulated seconds of camera stream. */
  simS: number;
  /** Plans (execute = false) spread evenly over the run. */
  plans: number;
  candidates: number;
}

export interface RssRun {
  rss_mb: { start: number; peak: number; end: number; after_warmup: number; growth_after_warmup: number };
  grew_after_warmup: boolean;
  /** Kernel high-water mark (getrusage ru_maxrss), MB: catches peaks between samples. */
  max_rss_kernel_mb: number;
  heap_used_mb: { after_warmup: number; end: number };
  sim_s: number;
  camera: string;
  frames: number;
  /** Simulated second at which warm-up ended (see `warmup`). */
  warmup_end_s: number;
  /** What ended warm-up: the first plan made with a full buffer, else the first plan, else half the run. */
  warmup: 'first plan with a full buffer' | 'first plan (buffer never full)' | 'half the run (no plans)';
  /** Simulated second at which the context buffer reached its capacity (null: never). */
  buffer_full_s: number | null;
  plans: { done: number; succeeded: number; candidates: number; mean_plan_s: number };
  ingest: { received: number; admitted: number; dropped: number; rejected: number };
  buffer: { frames: number; max_frames: number; mb: number; evicted: number };
  wall_s: number;
  /** [simulated s, RSS MB], at most 121 points. */
  samples: [number, number][];
}

/** Median of the samples whose time lies in [t0, t1] (falls back to the nearest sample). */
function windowMedian(samples: readonly [number, number][], t0: number, t1: number): number {
  const w = samples.filter(([t]) => t >= t0 && t <= t1).map(([, v]) => v);
  if (w.length > 0) return median(w);
  let best = samples[0] as [number, number];
  for (const s of samples) if (Math.abs(s[0] - t0) < Math.abs(best[0] - t0)) best = s;
  return best[1];
}

/**
 * Growth after warm-up, MB: the median RSS over the last 10 % of the run minus the median over the
 * 10 % of the run that follows the end of warm-up.
 */
export function growthAfterWarmup(samples: readonly [number, number][], warmupEndS: number, endS: number): { afterWarmup: number; end: number; growth: number } {
  if (samples.length === 0) throw new RangeError('growthAfterWarmup: no samples');
  const w = 0.1 * endS;
  const afterWarmup = windowMedian(samples, warmupEndS, warmupEndS + w);
  const end = windowMedian(samples, endS - w, endS);
  return { afterWarmup, end, growth: end - afterWarmup };
}

/**
 * The memory run, in this process: loads the model, puts the real Video4SpatialNode on an
 * in-process graph with SimRobot publishing 160×120 rgb8 + CameraInfo + /tf at 30 Hz of simulated
 * time while it drives the seed-100 exploration path back and forth, and asks for the target
 * (execute = false) `plans` times, evenly spread. RSS is sampled every simulated second and around
 * each plan. Warm-up ends after the first plan made with a full context buffer (the node's bounded
 * structures are then at their size), else after the first plan.
 */
export async function rssRun(o: RssRunOptions): Promise<RssRun> {
  const startRss = process.memoryUsage().rss / MB;
  const wall0 = performance.now();
  const model = await OnnxImaginationModel.load(o.modelDir, { executionProvider: 'cpu', intraOpThreads: o.threads });
  const manifest = model.manifest;
  const sc = makeScenario(BENCH_SEED);
  const clock = new SimClock(1_000_000_000n);
  const t0ns = clock.now();
  const bus = new InProcessBus({ clock, logger: SILENT_LOGGER });
  const sim = bus.node({ name: 'simulator', logger: SILENT_LOGGER });
  const robot = new SimRobot(sim, sc.world, SIM_CAMERA, sc.exploration[0] as Pose2D);
  const nodeGraph = bus.node({
    name: 'video4spatial_nav',
    logger: SILENT_LOGGER,
    remap: { '~/image': '/camera/image_raw', '~/camera_info': '/camera/camera_info' },
    parameters: { candidates: o.candidates, seed: BENCH_SEED },
  });
  // path extraction as the node runs it by default (extraction_threads 0): the workers' memory counts
  const extraction = createExtractor(0);
  const node = new Video4SpatialNode(nodeGraph, model, manifest, extraction.extractor ? { extractor: extraction.extractor } : {});
  const operator = bus.node({ name: 'operator', logger: SILENT_LOGGER });
  const client = operator.createActionClient<NavigateToObjectGoal, NavigateToObjectFeedback, NavigateToObjectResult>('/video4spatial_nav/navigate_to_object', 'video4spatial_nav/action/NavigateToObject');
  const frames = Math.round(o.simS * RSS_CAMERA_HZ);
  const planAt = new Set(Array.from({ length: o.plans }, (_, i) => Math.round(((i + 1) * frames) / (o.plans + 1))));
  const samples: [number, number][] = [];
  const sample = (tS: number) => samples.push([tS, process.memoryUsage().rss / MB]);
  let warmupEndS = Number.NaN;
  let warmup: RssRun['warmup'] = 'first plan with a full buffer';
  let firstPlanEndS = Number.NaN;
  let heapAfterFirstPlan = Number.NaN;
  let bufferFullS: number | null = null;
  const buf = node.ingest.buffer;
  let planS = 0;
  let done = 0;
  let succeeded = 0;
  let heapAfterWarmup = Number.NaN;
  for (let f = 1; f <= frames; f++) {
    const tS = f / RSS_CAMERA_HZ;
    robot.moveTo(pingPongPose(sc.exploration, EXPLORE_DT, tS));
    clock.set(t0ns + BigInt(Math.round(tS * 1e9)));
    robot.publishFrame();
    await bus.flush();
    await node.ingest.idle();
    if (bufferFullS === null && buf.size >= buf.maxFrames) bufferFullS = tS;
    if (f % RSS_CAMERA_HZ === 0) sample(tS);
    if (planAt.has(f)) {
      const fullBuffer = bufferFullS !== null;
      sample(tS);
      const h = await client.sendGoal({ object_name: sc.target.category, execute: false, time_budget_s: 0 });
      if (h.accepted) {
        const out = await h.result;
        done++;
        if (out.status === 'succeeded') {
          succeeded++;
          planS += out.result.plan_time_s;
        }
      }
      await bus.flush();
      sample(tS);
      if (Number.isNaN(firstPlanEndS)) {
        firstPlanEndS = tS;
        heapAfterFirstPlan = process.memoryUsage().heapUsed / MB;
      }
      if (Number.isNaN(warmupEndS) && fullBuffer) {
        warmupEndS = tS;
        heapAfterWarmup = process.memoryUsage().heapUsed / MB;
      }
    }
  }
  if (Number.isNaN(warmupEndS)) {
    // the buffer never filled before a plan: warm-up ends after the first plan, or at half the run
    warmup = Number.isNaN(firstPlanEndS) ? 'half the run (no plans)' : 'first plan (buffer never full)';
    warmupEndS = Number.isNaN(firstPlanEndS) ? o.simS / 2 : firstPlanEndS;
    heapAfterWarmup = Number.isNaN(firstPlanEndS) ? process.memoryUsage().heapUsed / MB : heapAfterFirstPlan;
  }
  const c = node.ingest.pipeline.counters;
  const result = {
    ingest: { received: c.received, admitted: c.admitted, dropped: c.dropped, rejected: c.rejected },
    buffer: { frames: buf.size, max_frames: buf.maxFrames, mb: buf.bytes / MB, evicted: buf.evicted },
  };
  const endRss = process.memoryUsage().rss / MB;
  const heapEnd = process.memoryUsage().heapUsed / MB;
  sample(o.simS);
  node.close();
  await extraction.close();
  await model.dispose();
  const g = growthAfterWarmup(samples, warmupEndS, o.simS);
  const kernelPeak = process.resourceUsage().maxRSS / 1024;
  const step = Math.max(1, Math.ceil(samples.length / 120));
  return {
    rss_mb: { start: startRss, peak: Math.max(kernelPeak, ...samples.map(([, v]) => v)), end: endRss, after_warmup: g.afterWarmup, growth_after_warmup: g.growth },
    grew_after_warmup: g.growth > RSS_GROWTH_LIMIT_MB,
    max_rss_kernel_mb: kernelPeak,
    heap_used_mb: { after_warmup: heapAfterWarmup, end: heapEnd },
    sim_s: o.simS,
    camera: `${SIM_CAMERA.width}x${SIM_CAMERA.height} rgb8 + CameraInfo + /tf at ${RSS_CAMERA_HZ} Hz (simulated time)`,
    frames,
    warmup_end_s: warmupEndS,
    warmup,
    buffer_full_s: bufferFullS,
    plans: { done, succeeded, candidates: o.candidates, mean_plan_s: succeeded > 0 ? planS / succeeded : 0 },
    ...result,
    wall_s: (performance.now() - wall0) / 1000,
    samples: samples.filter((_, i) => i % step === 0 || i === samples.length - 1).map(([t, v]) => [+t.toFixed(2), +v.toFixed(1)]),
  };
}

/** Runs `bench --rss-only` in a fresh node process (so the bench's own allocations do not count). */
function spawnRssRun(o: RssRunOptions, timeoutMs: number): Promise<RssRun> {
  const args = [mainJsPath(), 'bench', '--rss-only', '--sim-s', `${o.simS}`, '--plans', `${o.plans}`, '--candidates', `${o.candidates}`, '--model', o.modelDir, '--threads', `${o.threads}`];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { timeout: timeoutMs, maxBuffer: 16 * MB }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`memory run failed: ${err.message}${stderr ? ` (${stderr.trim().split('\n').slice(-3).join(' | ')})` : ''}`));
      const last = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(last) as RssRun);
      } catch {
        reject(new Error(`memory run printed no JSON (last line: '${last.slice(0, 200)}')`));
      }
    });
  });
}

// ------------------------------------------------------------------------------------------------
// the report
// ------------------------------------------------------------------------------------------------

export interface BenchReport {
  config: Record<string, unknown>;
  machine: Record<string, unknown>;
  ingest_ms: { rgb8_640x480: number; bgr8_640x480: number; jpeg_640x480: number | null };
  ingest_detail: Record<string, unknown>;
  buffer_sample_ms: number;
  buffer_detail: Record<string, unknown>;
  /** m4_pool: M = 4 with path extraction in worker threads (plan_detail.extraction_threads). */
  plan_s: { m1: PlanStages; m4: PlanStages; m4_pool: PlanStages };
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
    peak_gflops: number | null;
    ort_fraction_of_peak: number | null;
    how: string;
    peak_how: string;
    reason?: string;
  };
  rss_mb: RssRun['rss_mb'];
  memory: Omit<RssRun, 'rss_mb'> & { target_peak_mb: number; growth_limit_mb: number };
  wall_s: number;
}

const f = (v: number | null | undefined, d = 2) => (v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(d));

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
  L.push(`model ${c['model']}: K=${c['context_frames']}, N=${c['target_frames']}, ${c['steps']} steps, guidance ${c['guidance']}; ORT CPU EP, ${c['threads']} threads; world seed ${c['seed']}`);
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
  head(`plan latency by stage (median of ${r.plan_detail['reps']}; ${r.plan_detail['keyframes']} keyframes; encode cold)`, 'M=1 s', 'M=4 s', 'pool s');
  L.push(`  (pool: M = 4 again, path extraction in ${r.plan_detail['extraction_threads']} worker threads)`);
  const rows: [string, keyof PlanStages][] = [
    ['sample + ground (grounder: every keyframe, once per name)', 'sample'],
    ['encode (sampled keyframes the grounder did not encode)', 'encode'],
    ['denoise, per step (batch 2·M)', 'step'],
    [`denoise, all ${c['steps']} steps`, 'denoise'],
    ['decode (M·N frames)', 'decode'],
    ['extract (wall: box + vo + waypoints)', 'extract'],
    ['  box (red box in every frame; summed over threads)', 'box'],
    ['  vo (odometry chain per candidate; summed)', 'vo'],
    ['  waypoints (anchoring, goal, object, score; summed)', 'waypoints'],
    ['name evidence (step 6)', 'evidence'],
    ['total', 'total'],
  ];
  for (const [label, k] of rows) row(label, f(r.plan_s.m1[k], 3), f(r.plan_s.m4[k], 3), f(r.plan_s.m4_pool[k], 3));
  L.push('');
  const o = r.ort_vs_torch;
  head(`denoiser forward, batch ${o.batch} × ${o.frames} frames, ${o.threads} threads (median)`, 'ms');
  row('onnxruntime-node (default: intra-op threads spin-wait)', f(o.ort_ms, 1));
  if (o.torch_ms === null) row(`PyTorch: n/a (${o.reason ?? 'no reason'})`);
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
  row(`peak: ${fl.peak_how}`, f(fl.peak_gflops, 1));
  row('ORT share of that peak', fl.ort_fraction_of_peak === null ? 'n/a' : `${(100 * fl.ort_fraction_of_peak).toFixed(0)} %`);
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
  const planStages = async (M: number, extractor?: Extractor): Promise<PlanStages> => {
    const runs: PlanStages[] = [];
    for (let r = 0; r < reps; r++) {
      buffer.dropLatents(); // cold encode: every sampled frame is encoded
      const plan = await planToObject(
        { model, modelId, camera, frameDtS: m.frame_dt_s, buffer, ...(extractor ? { extractor } : {}) },
        { object: sc.target.category, candidates: M, steps: m.sampler.steps, shift: m.sampler.shift, guidance: m.sampler.guidance_scale, seed: BENCH_SEED + r, policy: 'pose_diverse' },
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
  try {
    await planStages(4, pool.extract); // warm the workers
    m4Pool = await planStages(4, pool.extract);
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
  const peak = tb?.matmul?.gflops ?? null;
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
      steps: m.sampler.steps,
      guidance: m.sampler.guidance_scale,
      shift: m.sampler.shift,
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
    plan_s: { m1, m4, m4_pool: m4Pool },
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
      peak_gflops: peak,
      ort_fraction_of_peak: achieved !== null && peak !== null ? achieved / peak : null,
      how: 'analytic, 2 × multiply-adds of linear layers and attention matmuls (denoiserFlops); counted = torch forward hooks on nn.Linear + torch.matmul',
      peak_how: tb?.matmul ? `torch ${tb.torch_version} float32 ${tb.matmul.n}×${tb.matmul.n} matmul, ${tb.threads} threads` : 'not measured',
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
