/** The memory run of `bench`: the real node on the in-process graph for simulated minutes, RSS sampled. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { median } from '../../core/context/contextCost.js';
import { angleDiff, normalizeAngle, type Pose2D } from '../../core/geometry.js';
import { createExtractor } from '../../planner/ExtractionPool.js';
import { OnnxImaginationModel } from '../../model/OnnxImaginationModel.js';
import { SimClock } from '../../ros/clock.js';
import { InProcessBus } from '../../ros/InProcessGraph.js';
import type { NavigateToObjectFeedback, NavigateToObjectGoal, NavigateToObjectResult } from '../../ros/messages/types.js';
import { Video4SpatialNode } from '../../ros/Video4SpatialNode.js';
import { SILENT_LOGGER, SIM_CAMERA } from '../../sim/graphMission.js';
import { SimRobot } from '../../sim/rosSim.js';
import { EXPLORE_DT, makeScenario } from '../../sim/scenario.js';

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

const MB = 1024 * 1024;

function mainJsPath(): string {
  return fileURLToPath(new URL('../main.js', import.meta.url));
}

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
export function spawnRssRun(o: RssRunOptions, timeoutMs: number): Promise<RssRun> {
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
