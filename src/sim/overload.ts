/**
 * Overload: a camera far faster and larger than the node needs (60 Hz 1920×1080 rgb8 by default),
 * with /tf for a robot driving a circle and CameraInfo at 1 Hz, streamed into a running
 * Video4SpatialNode on the in-process graph while it plans back-to-back plan-only goals.
 *
 * What bounds the node (see docs/reliability.md): the camera subscription is sensor-data QoS
 * (keep_last 5: older undelivered frames are dropped by the transport), the ingest queue holds at
 * most 2 waiting frames (drop-oldest, counted as `frames_dropped` in /diagnostics), and the
 * context buffer is bounded by buffer_max_frames / buffer_max_bytes. Measured: frames
 * published / received by the node / dropped by the transport / dropped by the ingest queue,
 * camera-to-buffer latency of every admitted keyframe (the clock when it entered the buffer
 * minus its stamp), RSS and heap at start, peak and end, plans answered.
 *
 * Two clocks: 'system' streams in real time (a publisher that falls behind, e.g. while the
 * planner holds the event loop, publishes every due frame at once, as a camera driver's queue
 * would deliver them); 'sim' streams `durationS` of simulated time as fast as the graph takes
 * it, in bursts of `burst` frames (for tests).
 */
import type { Extractor } from '../core/planner/extractCandidate.js';
import type { ModelManifest } from '../core/model/manifest.js';
import type { ImaginationModel } from '../core/sampler/model.js';
import { SimClock, SystemClock } from '../ros/clock.js';
import type { Clock, Logger } from '../ros/Graph.js';
import { InProcessBus } from '../ros/InProcessGraph.js';
import { timeFromNs } from '../ros/messages/index.js';
import type { CameraInfo, DiagnosticArray, Image, NavigateToObjectFeedback, NavigateToObjectGoal, NavigateToObjectResult, TFMessage } from '../ros/messages/types.js';
import { ACTION_TYPE, Video4SpatialNode } from '../ros/Video4SpatialNode.js';
import { CAMERA_FRAME, OPTICAL_ROTATION } from './rosSim.js';

export interface OverloadOptions {
  width: number;
  height: number;
  hz: number;
  /** Seconds of streaming (wall time with the system clock, simulated time with the sim clock). */
  durationS: number;
  clock: 'system' | 'sim';
  /** Sim clock: frames published between two turns of the event loop. */
  burst: number;
  model: ImaginationModel;
  manifest: ModelManifest;
  /** Plan-only goals while streaming: back to back, or one every `planEveryS` of stream time. */
  plan: boolean;
  planEveryS?: number;
  /** The object asked for (default: the model's first word). */
  object?: string;
  /** Node parameter overrides (e.g. steps, candidates, keyframe gate). */
  parameters?: Record<string, unknown>;
  /** The node's path extractor (e.g. an ExtractionPool's); default in the planning thread. */
  extractor?: Extractor;
  logger?: Logger;
  onProgress?: (line: string) => void;
}

export interface OverloadReport {
  stream: { width: number; height: number; hz: number; duration_s: number; clock: string; frame_mb: number };
  frames_published: number;
  /** Frames the node's camera callback got. */
  frames_received: number;
  /** published − received: dropped by the keep_last(5) sensor-data subscription queue. */
  frames_dropped_transport: number;
  /** Dropped unprocessed by the node's ingest queue (diagnostics `frames_dropped`). */
  frames_dropped_ingest: number;
  frames_processed: number;
  keyframes_admitted: number;
  frames_rejected: Record<string, number>;
  buffer: { frames: number; max_frames: number; bytes: number; max_bytes: number };
  /** Camera-to-buffer latency of admitted keyframes, ms (graph clock). */
  latency_ms: { n: number; p50: number; p95: number; max: number };
  /** `end` is after a full garbage collection when node runs with --expose-gc (`after_gc`). */
  rss_mb: { start: number; peak: number; end: number; after_gc: boolean };
  heap_mb: { start: number; peak: number; end: number };
  plans: { answered: number; succeeded: number; mean_s: number };
  /** The node's last /diagnostics ingest status, key → value. */
  diagnostics: Record<string, string>;
  wall_s: number;
}

const MB = 1024 * 1024;

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

const round = (x: number, d = 1) => Number(x.toFixed(d));

/** A few distinct frames (gradients and stripes with noise), reused round-robin. */
function patterns(width: number, height: number, n: number): Uint8Array[] {
  return Array.from({ length: n }, (_, k) => {
    const data = new Uint8Array(width * height * 3);
    let seed = 12345 + k * 777;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        const o = (y * width + x) * 3;
        data[o] = ((x * 255) / width + k * 40) & 255;
        data[o + 1] = ((y * 255) / height + ((x >> 5) % 2) * 60) & 255;
        data[o + 2] = (seed >> 16) & 63;
      }
    }
    return data;
  });
}

export async function runOverload(opts: OverloadOptions): Promise<OverloadReport> {
  const t0 = performance.now();
  const clock: Clock = opts.clock === 'sim' ? new SimClock(1_000_000_000n) : new SystemClock();
  const quiet: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
  const logger = opts.logger ?? quiet;
  const bus = new InProcessBus({ clock, logger });
  const memStart = process.memoryUsage();
  const mem = { rssPeak: memStart.rss, heapPeak: memStart.heapUsed };
  const sampleMem = () => {
    const m = process.memoryUsage();
    mem.rssPeak = Math.max(mem.rssPeak, m.rss);
    mem.heapPeak = Math.max(mem.heapPeak, m.heapUsed);
  };
  const memTimer = setInterval(sampleMem, 50);

  const node = new Video4SpatialNode(
    bus.node({ name: 'video4spatial_nav', remap: { '~/image': '/camera/image_raw', '~/camera_info': '/camera/camera_info' }, parameters: { candidates: 1, steps: 2, ...opts.parameters } }),
    opts.model,
    opts.manifest,
    opts.extractor ? { extractor: opts.extractor } : {},
  );
  const latencies: number[] = [];
  const admitted = node.ingest.pipeline.admitted$.subscribe((e) => latencies.push(Number(clock.now() - e.stampNs) / 1e6));
  let lastDiag: DiagnosticArray | undefined;
  const camera = bus.node({ name: 'camera_driver' });
  camera.createSubscription<DiagnosticArray>('/diagnostics', 'diagnostic_msgs/msg/DiagnosticArray', 'default', (d) => (lastDiag = d));
  const imagePub = camera.createPublisher<Image>('/camera/image_raw', 'sensor_msgs/msg/Image', 'sensor_data');
  const infoPub = camera.createPublisher<CameraInfo>('/camera/camera_info', 'sensor_msgs/msg/CameraInfo', 'sensor_data');
  const tfPub = camera.createPublisher<TFMessage>('/tf', 'tf2_msgs/msg/TFMessage', 'tf');
  camera.createPublisher<TFMessage>('/tf_static', 'tf2_msgs/msg/TFMessage', 'tf_static').publish({
    transforms: [{ header: { stamp: timeFromNs(0n), frame_id: 'base_link' }, child_frame_id: CAMERA_FRAME, transform: { translation: { x: 0, y: 0, z: 0.5 }, rotation: { ...OPTICAL_ROTATION } } }],
  });
  const { width: W, height: H } = opts;
  const f = W / (2 * Math.tan((80 * Math.PI) / 360)); // 80° horizontal field of view
  const info = (stamp: ReturnType<typeof timeFromNs>): CameraInfo => ({
    header: { stamp, frame_id: CAMERA_FRAME },
    height: H,
    width: W,
    distortion_model: 'plumb_bob',
    d: [0, 0, 0, 0, 0],
    k: [f, 0, W / 2 - 0.5, 0, f, H / 2 - 0.5, 0, 0, 1],
    r: [1, 0, 0, 0, 1, 0, 0, 0, 1],
    p: [f, 0, W / 2 - 0.5, 0, 0, f, H / 2 - 0.5, 0, 0, 0, 1, 0],
    binning_x: 0,
    binning_y: 0,
    roi: { x_offset: 0, y_offset: 0, height: 0, width: 0, do_rectify: false },
  });
  const frames = patterns(W, H, 4);
  let published = 0;
  const startNs = clock.now();
  let lastInfoNs = -(10n ** 10n);
  /** Publishes frame `i` (due at startNs + i/hz): TF at the frame's stamp, CameraInfo once a second, the image. */
  const publishFrame = (i: number) => {
    const nowNs = clock.now();
    const stamp = timeFromNs(nowNs);
    const t = Number(nowNs - startNs) / 1e9;
    const a = t * 0.25; // a 2 m circle at 0.5 m/s
    tfPub.publish({
      transforms: [
        { header: { stamp, frame_id: 'map' }, child_frame_id: 'odom', transform: { translation: { x: 0, y: 0, z: 0 }, rotation: { x: 0, y: 0, z: 0, w: 1 } } },
        {
          header: { stamp, frame_id: 'odom' },
          child_frame_id: 'base_link',
          transform: { translation: { x: 2 * Math.cos(a), y: 2 * Math.sin(a), z: 0 }, rotation: { x: 0, y: 0, z: Math.sin((a + Math.PI / 2) / 2), w: Math.cos((a + Math.PI / 2) / 2) } },
        },
      ],
    });
    if (nowNs - lastInfoNs >= 1_000_000_000n) {
      infoPub.publish(info(stamp));
      lastInfoNs = nowNs;
    }
    imagePub.publish({ header: { stamp, frame_id: CAMERA_FRAME }, height: H, width: W, encoding: 'rgb8', is_bigendian: 0, step: W * 3, data: frames[i % frames.length] as Uint8Array });
    published++;
  };

  // plan-only goals back to back
  const client = bus.node({ name: 'operator' }).createActionClient<NavigateToObjectGoal, NavigateToObjectFeedback, NavigateToObjectResult>('/video4spatial_nav/navigate_to_object', ACTION_TYPE);
  const object = opts.object ?? (opts.manifest.vocabulary[1] as string);
  const planStats = { answered: 0, succeeded: 0, seconds: 0 };
  let streaming = true;
  let nextPlanNs = startNs;
  const planner = (async () => {
    while (opts.plan && streaming) {
      if (node.ingest.buffer.size === 0 || clock.now() < nextPlanNs) {
        await new Promise((r) => setTimeout(r, 1));
        continue;
      }
      nextPlanNs = clock.now() + BigInt(Math.round((opts.planEveryS ?? 0) * 1e9));
      const tp = performance.now();
      const h = await client.sendGoal({ object_name: object, execute: false, time_budget_s: 0 });
      if (!h.accepted) {
        opts.onProgress?.(`goal rejected: ${h.rejectReason ?? ''}`);
        await new Promise((r) => setTimeout(r, 10));
        continue;
      }
      const out = await h.result;
      planStats.answered++;
      if (out.status === 'succeeded') planStats.succeeded++;
      planStats.seconds += (performance.now() - tp) / 1000;
    }
  })();

  const periodNs = BigInt(Math.round(1e9 / opts.hz));
  const total = Math.round(opts.durationS * opts.hz);
  if (clock instanceof SimClock) {
    for (let i = 0; i < total; i++) {
      clock.advance(periodNs);
      publishFrame(i);
      // one turn of the event loop per burst: deliveries, the ingest worker and the planner share it
      if ((i + 1) % opts.burst === 0) await new Promise((r) => setImmediate(r));
    }
  } else {
    let next = 0;
    let lastProgress = performance.now();
    while (next < total) {
      const due = Number((clock.now() - startNs) / periodNs) + 1;
      while (next < Math.min(due, total)) publishFrame(next++);
      if (performance.now() - lastProgress > 5000) {
        lastProgress = performance.now();
        const c = node.ingest.pipeline.counters;
        opts.onProgress?.(`${published} frames published, ${c.received} received, ${c.dropped} dropped by ingest, ${c.admitted} keyframes, ${planStats.answered} plans, RSS ${(process.memoryUsage().rss / MB).toFixed(0)} MB`);
      }
      await new Promise((r) => setTimeout(r, 2));
    }
  }
  streaming = false;
  await bus.flush();
  await node.ingest.idle();
  await planner;
  if (clock instanceof SimClock) clock.advance(1_000_000_000n); // one more diagnostics tick
  else node.publishDiagnostics();
  await bus.flush();
  sampleMem();
  clearInterval(memTimer);
  admitted.unsubscribe();
  const c = node.ingest.pipeline.counters;
  const b = node.ingest.buffer;
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const memEnd = process.memoryUsage();
  const sorted = latencies.slice().sort((x, y) => x - y);
  const diag: Record<string, string> = {};
  for (const kv of lastDiag?.status[0]?.values ?? []) diag[kv.key] = kv.value;
  const report: OverloadReport = {
    stream: { width: W, height: H, hz: opts.hz, duration_s: opts.durationS, clock: opts.clock, frame_mb: round((W * H * 3) / MB, 2) },
    frames_published: published,
    frames_received: c.received,
    frames_dropped_transport: published - c.received,
    frames_dropped_ingest: c.dropped,
    frames_processed: c.processed,
    keyframes_admitted: c.admitted,
    frames_rejected: { ...c.rejectedByReason },
    buffer: { frames: b.size, max_frames: b.maxFrames, bytes: b.bytes, max_bytes: b.maxBytes },
    latency_ms: { n: sorted.length, p50: round(quantile(sorted, 0.5)), p95: round(quantile(sorted, 0.95)), max: round(sorted.at(-1) ?? 0) },
    rss_mb: { start: round(memStart.rss / MB), peak: round(mem.rssPeak / MB), end: round(memEnd.rss / MB), after_gc: gc !== undefined },
    heap_mb: { start: round(memStart.heapUsed / MB), peak: round(mem.heapPeak / MB), end: round(memEnd.heapUsed / MB) },
    plans: { answered: planStats.answered, succeeded: planStats.succeeded, mean_s: planStats.answered === 0 ? 0 : round(planStats.seconds / planStats.answered, 2) },
    diagnostics: diag,
    wall_s: round((performance.now() - t0) / 1000),
  };
  node.close();
  bus.shutdown();
  return report;
}
