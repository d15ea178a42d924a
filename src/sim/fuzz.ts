/**
 * The fuzzer: feeds running Video4SpatialNodes on the in-process graph seeded malformed and
 * hostile messages, interleaved with valid traffic (a simulated robot's camera, CameraInfo and
 * TF) and valid goals, and reports what happened.
 *
 * Two nodes run side by side, one on the raw camera (sensor_msgs/Image) and one on its
 * compressed stream (sensor_msgs/CompressedImage, PNG), so both decoders are attacked. Hostile
 * kinds: Image (wrong step, truncated, unknown/unsupported encodings, 0×0, absurd sizes, garbage,
 * bad/backward/future stamps, odd frame ids), CompressedImage (corrupt bytes, wrong format
 * string, truncated, a header claiming a huge image, a valid header over garbage), CameraInfo
 * (zeros, NaN, negative focal length, infinities), TF (NaN, non-unit quaternions, time going
 * backwards, far future, empty ids, self loops, cycles, re-parenting, 300 transforms at once),
 * goals (empty, huge, unicode, unknown names, bad budgets; on the action and on ~/goal_object)
 * and teleop twists. Messages ROS itself cannot carry (wrong field types, out-of-range integers,
 * NUL in a string) are refused by the graph's CDR validation at publish: they are counted as
 * `refused_by_transport`, never delivered.
 *
 * A crash is an exception escaping into the graph (re-thrown by `flush`) or the process
 * (uncaughtException / unhandledRejection while the fuzzer runs), or a valid goal left
 * unanswered (no result within `answerTimeoutMs`), including one last goal on each node.
 */
import { crc32 } from 'node:zlib';
import type { Pose2D } from '../core/geometry.js';
import type { ModelManifest } from '../core/model/manifest.js';
import { Rng } from '../core/rng.js';
import type { ImaginationModel } from '../core/sampler/model.js';
import { MessageError } from '../core/errors.js';
import { SimClock } from '../ros/clock.js';
import type { ActionClient, ClientGoalHandle, Logger, Publisher } from '../ros/Graph.js';
import { InProcessBus } from '../ros/InProcessGraph.js';
import { timeFromNs } from '../ros/messages/index.js';
import type { CameraInfo, CompressedImage, Image, NavigateToObjectFeedback, NavigateToObjectGoal, NavigateToObjectResult, StringMsg, TFMessage, Twist } from '../ros/messages/types.js';
import { ACTION_TYPE, Video4SpatialNode } from '../ros/Video4SpatialNode.js';
import { SIM_CAMERA } from './graphMission.js';
import { encodePng } from './pictures.js';
import { render } from './renderer.js';
import { CAMERA_FRAME, cameraInfoOf, SimRobot } from './rosSim.js';
import { EXPLORE_DT, makeScenario } from './scenario.js';

export interface FuzzOptions {
  /** Messages to send in all (hostile, valid traffic and goals). */
  count: number;
  seed: number;
  model: ImaginationModel;
  manifest: ModelManifest;
  /** Sampler settings of the nodes (valid goals plan with them). */
  steps: number;
  candidates: number;
  /** A valid plan-only goal after every this many messages (alternating the two nodes). */
  goalEvery: number;
  /** A valid goal must be answered within this much wall time, ms. */
  answerTimeoutMs: number;
  /** Where the nodes log; default: lines are only counted by level. */
  logger?: Logger;
  onProgress?: (line: string) => void;
}

export const DEFAULT_FUZZ_OPTIONS = { steps: 1, candidates: 1, goalEvery: 100, answerTimeoutMs: 120_000 } as const;

export interface FuzzReport {
  seed: number;
  /** Messages handed to the graph: publications and goal requests, refused ones included. */
  sent: number;
  sent_by_kind: Record<string, number>;
  /** Exceptions that escaped into the graph or the process, and valid goals left unanswered. */
  crashes: number;
  crash_details: string[];
  /** Refused by the graph's CDR validation at publish (not representable in ROS), by kind. */
  refused_by_transport: number;
  refused_by_transport_by_kind: Record<string, number>;
  /**
   * What the nodes refused, by reason, summed over both nodes (each node counts what it
   * received; CameraInfo and TF reach both): `frame.<code>` camera frames, `pose_input.<code>`
   * CameraInfo and TF, `goal.<code>` goals.
   */
  rejected_by_reason: Record<string, number>;
  /** Camera frames dropped unprocessed by the bounded ingest queue. */
  dropped_under_load: number;
  /** Camera frames admitted to the context buffers (valid, or hostile but decodable). */
  admitted: number;
  /** Valid goals answered (a result: succeeded, or ended with a reason). */
  goals_ok: number;
  goals_by_outcome: Record<string, number>;
  /** Hostile goals rejected with a reason. */
  goals_rejected: number;
  /** Hostile goals the nodes accepted (should be 0). */
  hostile_goals_accepted: number;
  /** Aborted valid goals by code, both nodes (e.g. the model's imagination gave no goal pose). */
  aborted_by_reason: Record<string, number>;
  /** The last valid goal on each node, after all the traffic. */
  final_goals: Record<string, string>;
  /** Node log lines by level, and errors that were not typed Video4SpatialErrors. */
  log_lines: Record<string, number>;
  internal_errors: number;
  keyframes: Record<string, number>;
  seconds: number;
}

type Sink = 'image' | 'compressed' | 'info' | 'tf' | 'tf_static' | 'goal_topic_raw' | 'goal_topic_compressed' | 'twist';

/** One hostile message: where it goes and what it is. */
interface Shot {
  kind: string;
  sink: Sink | 'goal';
  msg: unknown;
}

const KNOWN_NAMES_TO_AVOID = new Set(['chair', 'table', 'sofa', 'bed', 'plant', 'lamp', 'tv', 'fridge']);

/** Hostile goal names (never a known object after trim + lowercase). */
function hostileName(rng: Rng): { kind: string; name: string } {
  const options: [string, () => string][] = [
    ['empty', () => ''],
    ['whitespace', () => rng.pick([' ', '\t\n ', '\u00a0', '\u3000'])],
    ['huge', () => 'chair'.repeat(rng.int(2_000, 20_000))],
    ['unicode', () => rng.pick(['椅子', '🪑', 'chaise é', 'стул', 'كرسي', 'chair\u200b', 'c\u0301hair', '\u202echair'])],
    ['unknown', () => rng.pick(['unicorn', 'chair; rm -rf /', '../../etc/passwd', '%s%n%x', '${jndi:ldap://x}', '<script>', 'tables', 'DROP TABLE goals'])],
  ];
  const [kind, make] = rng.pick(options);
  let name = make();
  if (KNOWN_NAMES_TO_AVOID.has(name.trim().toLowerCase())) name = `${name}?`;
  return { kind, name };
}

export async function runFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const t0 = performance.now();
  const rng = new Rng(opts.seed);
  const sc = makeScenario(opts.seed);
  const clock = new SimClock(1_000_000_000n);
  const logLines: Record<string, number> = { debug: 0, info: 0, warn: 0, error: 0 };
  let internalErrors = 0;
  const count = (level: string) => (m: string) => {
    logLines[level] = (logLines[level] ?? 0) + 1;
    if (level === 'error' && / \(internal_error\): /.test(m)) internalErrors++;
  };
  const quiet: Logger = { debug: count('debug'), info: count('info'), warn: count('warn'), error: count('error') };
  const logger: Logger = opts.logger
    ? { debug: (m) => (count('debug')(m), opts.logger?.debug(m)), info: (m) => (count('info')(m), opts.logger?.info(m)), warn: (m) => (count('warn')(m), opts.logger?.warn(m)), error: (m) => (count('error')(m), opts.logger?.error(m)) }
    : quiet;
  const bus = new InProcessBus({ clock, logger, seed: opts.seed });
  const crashes: string[] = [];
  const crash = (what: string) => {
    crashes.push(what);
    opts.onProgress?.(`CRASH: ${what}`);
  };
  const onUncaught = (e: unknown) => crash(`uncaught exception: ${e instanceof Error ? e.message : String(e)}`);
  const onUnhandled = (e: unknown) => crash(`unhandled rejection: ${e instanceof Error ? e.message : String(e)}`);
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUnhandled);

  try {
    // the robot (valid traffic) and the two nodes under attack
    const sim = bus.node({ name: 'simulator' });
    const robot = new SimRobot(sim, sc.world, SIM_CAMERA, sc.exploration[0] as Pose2D);
    const params = {
      image_topic: '/camera/image_raw',
      camera_info_topic: '/camera/camera_info',
      candidates: opts.candidates,
      steps: opts.steps,
      execute_default: false,
      buffer_max_frames: 64,
      // every frame is a keyframe candidate, so every camera message reaches the decoder
      keyframe_min_translation_m: 0,
    };
    const nodes = {
      raw: new Video4SpatialNode(bus.node({ name: 'video4spatial_nav', namespace: '/raw', parameters: { ...params, compressed: false } }), opts.model, opts.manifest),
      compressed: new Video4SpatialNode(bus.node({ name: 'video4spatial_nav', namespace: '/compressed', parameters: { ...params, compressed: true } }), opts.model, opts.manifest),
    };
    const fuzzer = bus.node({ name: 'fuzzer' });
    const pubs: Record<Sink, Publisher<unknown>> = {
      image: fuzzer.createPublisher('/camera/image_raw', 'sensor_msgs/msg/Image', 'sensor_data'),
      compressed: fuzzer.createPublisher('/camera/image_raw/compressed', 'sensor_msgs/msg/CompressedImage', 'sensor_data'),
      info: fuzzer.createPublisher('/camera/camera_info', 'sensor_msgs/msg/CameraInfo', 'sensor_data'),
      tf: fuzzer.createPublisher('/tf', 'tf2_msgs/msg/TFMessage', 'tf'),
      tf_static: fuzzer.createPublisher('/tf_static', 'tf2_msgs/msg/TFMessage', 'tf_static'),
      goal_topic_raw: fuzzer.createPublisher('/raw/video4spatial_nav/goal_object', 'std_msgs/msg/String', 'default'),
      goal_topic_compressed: fuzzer.createPublisher('/compressed/video4spatial_nav/goal_object', 'std_msgs/msg/String', 'default'),
      twist: fuzzer.createPublisher('/cmd_vel_teleop', 'geometry_msgs/msg/Twist', 'default'),
    };
    type Client = ActionClient<NavigateToObjectGoal, NavigateToObjectFeedback, NavigateToObjectResult>;
    const clients: Record<'raw' | 'compressed', Client> = {
      raw: fuzzer.createActionClient('/raw/video4spatial_nav/navigate_to_object', ACTION_TYPE),
      compressed: fuzzer.createActionClient('/compressed/video4spatial_nav/navigate_to_object', ACTION_TYPE),
    };
    const compressedPub = pubs.compressed as Publisher<CompressedImage>;

    const report = {
      sent: 0,
      sentByKind: {} as Record<string, number>,
      refused: 0,
      refusedByKind: {} as Record<string, number>,
      goalsRejected: 0,
      hostileAccepted: 0,
      goalsByOutcome: {} as Record<string, number>,
      goalsOk: 0,
    };
    const bump = (r: Record<string, number>, k: string, n = 1) => (r[k] = (r[k] ?? 0) + n);
    const flush = async (what: string) => {
      try {
        await bus.flush();
      } catch (e) {
        crash(`${what}: ${e instanceof Error ? e.message : String(e)}`);
      }
    };
    const idle = () => Promise.all([nodes.raw.ingest.idle(), nodes.compressed.ingest.idle()]);

    // valid traffic: the exploration, rendered once per pose (raw rgb8 and PNG)
    const rendered = new Map<number, { rgb: Uint8Array; png: Uint8Array }>();
    let step = 0;
    const validFrame = async () => {
      const i = step++ % sc.exploration.length;
      robot.moveTo(sc.exploration[i] as Pose2D);
      clock.advance(BigInt(Math.round(EXPLORE_DT * 1e9)));
      let r = rendered.get(i);
      if (!r) {
        const rgb = render(sc.world, robot.pose, SIM_CAMERA).rgb;
        r = { rgb, png: new Uint8Array(encodePng({ width: SIM_CAMERA.width, height: SIM_CAMERA.height, data: rgb })) };
        rendered.set(i, r);
      }
      robot.publishFrame(r.rgb); // /tf, CameraInfo, Image
      compressedPub.publish({ header: { stamp: timeFromNs(clock.now()), frame_id: CAMERA_FRAME }, format: 'png', data: r.png });
      report.sent += 4;
      bump(report.sentByKind, 'valid.frame', 4);
      await flush('valid frame');
      await idle();
    };

    // valid goals: plan-only, alternating nodes, not awaited (traffic goes on while they plan)
    const pending: { node: string; done: Promise<void> }[] = [];
    let goalTurn = 0;
    const answer = (node: string, h: Promise<ClientGoalHandle<NavigateToObjectResult>>, onOutcome: (o: string) => void): Promise<void> => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), opts.answerTimeoutMs);
      });
      const outcome = (async () => {
        const handle = await h;
        if (!handle.accepted) return `rejected: ${handle.rejectReason ?? ''}`;
        const o = await handle.result;
        if (o.status === 'rejected') return `rejected: ${o.reason ?? ''}`;
        return o.status === 'aborted' && /^canceled \(preempted\)/.test(o.result.message) ? 'preempted' : o.status;
      })().catch((e: unknown) => `error: ${e instanceof Error ? e.message : String(e)}`);
      return Promise.race([outcome, timeout]).then((o) => {
        if (timer) clearTimeout(timer);
        if (o === 'timeout') crash(`valid goal on ${node} not answered within ${opts.answerTimeoutMs} ms`);
        onOutcome(o);
      });
    };
    // one valid goal per node at a time (preemption is tested in test/ros/faults.test.ts); due goals wait for a free node
    const busy = { raw: false, compressed: false };
    const validGoal = () => {
      let which: 'raw' | 'compressed' = goalTurn++ % 2 === 0 ? 'raw' : 'compressed';
      if (busy[which]) which = which === 'raw' ? 'compressed' : 'raw';
      busy[which] = true;
      const h = clients[which].sendGoal({ object_name: sc.target.category, execute: false, time_budget_s: 0 });
      report.sent++;
      bump(report.sentByKind, 'valid.goal');
      pending.push({
        node: which,
        done: answer(which, h, (o) => {
          busy[which] = false;
          bump(report.goalsByOutcome, o.startsWith('rejected') ? 'rejected' : o.startsWith('error') ? 'error' : o);
          if (!o.startsWith('error')) report.goalsOk++;
          if (o.startsWith('rejected')) opts.onProgress?.(`valid goal on ${which} ${o}`);
        }),
      });
    };

    const send = async (shot: Shot) => {
      report.sent++;
      bump(report.sentByKind, shot.kind);
      if (shot.sink === 'goal') {
        const which = rng.next() < 0.5 ? 'raw' : 'compressed';
        try {
          const h = await clients[which].sendGoal(shot.msg as NavigateToObjectGoal);
          if (h.accepted) {
            report.hostileAccepted++;
            crash(`hostile goal ${shot.kind} accepted by ${which}`);
            await h.cancel();
          } else report.goalsRejected++;
        } catch (e) {
          if (e instanceof MessageError) {
            report.refused++;
            bump(report.refusedByKind, shot.kind);
          } else crash(`sendGoal ${shot.kind}: ${e instanceof Error ? e.message : String(e)}`);
        }
        return;
      }
      try {
        pubs[shot.sink].publish(shot.msg);
      } catch (e) {
        if (e instanceof MessageError) {
          report.refused++;
          bump(report.refusedByKind, shot.kind);
          return;
        }
        crash(`publish ${shot.kind}: ${e instanceof Error ? e.message : String(e)}`);
        return;
      }
      await flush(shot.kind);
      if (shot.sink === 'image' || shot.sink === 'compressed') await idle();
    };

    // before a hostile camera frame: time moves on and the robot's TF comes first (TF runs faster than the camera)
    const tfPub = pubs.tf as Publisher<TFMessage>;
    const cameraNowNs = (): bigint => {
      clock.advance(120_000_000n);
      const st = timeFromNs(clock.now());
      const p = robot.pose;
      tfPub.publish({
        transforms: [
          { header: { stamp: st, frame_id: 'map' }, child_frame_id: 'odom', transform: { translation: { x: 0, y: 0, z: 0 }, rotation: { x: 0, y: 0, z: 0, w: 1 } } },
          { header: { stamp: st, frame_id: 'odom' }, child_frame_id: 'base_link', transform: { translation: { x: p.x, y: p.y, z: 0 }, rotation: { x: 0, y: 0, z: Math.sin(p.yaw / 2), w: Math.cos(p.yaw / 2) } } },
        ],
      });
      report.sent++;
      bump(report.sentByKind, 'valid.tf');
      return clock.now();
    };
    // a few valid frames first, so both nodes have context for valid goals
    for (let i = 0; i < 12 && report.sent < opts.count; i++) await validFrame();
    let lastGoalAt = report.sent;
    let nextReport = 1000;
    let due = 0;
    while (report.sent < opts.count) {
      if (report.sent - lastGoalAt >= opts.goalEvery) {
        due++;
        lastGoalAt = report.sent;
      }
      if (due > 0 && (!busy.raw || !busy.compressed)) {
        validGoal();
        due--;
      } else if (rng.next() < 0.08 && report.sent + 4 <= opts.count) await validFrame();
      else await send(hostileShot(rng, { nowNs: clock.now(), cameraNowNs, robot: robot.pose, rendered }));
      if (report.sent >= nextReport) {
        opts.onProgress?.(`sent ${report.sent}/${opts.count}: ${crashes.length} crashes, ${report.refused} refused by transport, ${report.goalsOk} valid goals answered, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
        nextReport += 1000;
      }
    }
    // the robot's clock and camera go on while goals are answered (a teleop twist pauses goals for
    // teleop_pause_s of graph time; a stopped clock would hold them forever)
    const settle = async (done: Promise<unknown>) => {
      let settled = false;
      const all = done.then(() => (settled = true));
      while (!settled) {
        await validFrame();
        await new Promise((r) => setTimeout(r, 20));
      }
      await all;
    };
    while (due > 0) {
      if (busy.raw && busy.compressed) await settle(Promise.race(pending.map((p) => p.done)));
      else {
        validGoal();
        due--;
      }
    }
    await settle(Promise.all(pending.map((p) => p.done)));
    // the nodes still answer: one last valid goal each
    const finalGoals: Record<string, string> = {};
    for (const which of ['raw', 'compressed'] as const) {
      report.sent++;
      bump(report.sentByKind, 'valid.goal');
      await settle(answer(which, clients[which].sendGoal({ object_name: sc.target.category, execute: false, time_budget_s: 0 }), (o) => (finalGoals[which] = o)));
      if (!['succeeded', 'aborted'].includes(finalGoals[which] ?? '')) crash(`final goal on ${which}: ${finalGoals[which]}`);
    }
    await flush('final');

    const rejected: Record<string, number> = {};
    const aborted: Record<string, number> = {};
    let dropped = 0;
    let admitted = 0;
    const keyframes: Record<string, number> = {};
    for (const [name, node] of Object.entries(nodes)) {
      const c = node.ingest.pipeline.counters;
      for (const [k, n] of Object.entries(c.rejectedByReason)) bump(rejected, `frame.${k}`, n);
      for (const [k, n] of Object.entries(node.ingest.poseInputErrors)) bump(rejected, `pose_input.${k}`, n);
      for (const [k, n] of Object.entries(node.stats.rejectedByReason)) bump(rejected, `goal.${k}`, n);
      for (const [k, n] of Object.entries(node.stats.abortedByReason)) bump(aborted, k, n);
      dropped += c.dropped;
      admitted += c.admitted;
      keyframes[name] = node.ingest.buffer.size;
    }
    for (const node of Object.values(nodes)) node.close();
    bus.shutdown();
    return {
      seed: opts.seed,
      sent: report.sent,
      sent_by_kind: sortKeys(report.sentByKind),
      crashes: crashes.length,
      crash_details: crashes.slice(0, 20),
      refused_by_transport: report.refused,
      refused_by_transport_by_kind: sortKeys(report.refusedByKind),
      rejected_by_reason: sortKeys(rejected),
      dropped_under_load: dropped,
      admitted,
      goals_ok: report.goalsOk,
      goals_by_outcome: sortKeys(report.goalsByOutcome),
      goals_rejected: report.goalsRejected,
      hostile_goals_accepted: report.hostileAccepted,
      aborted_by_reason: sortKeys(aborted),
      final_goals: finalGoals,
      log_lines: logLines,
      internal_errors: internalErrors,
      keyframes,
      seconds: Number(((performance.now() - t0) / 1000).toFixed(1)),
    };
  } finally {
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUnhandled);
  }
}

function sortKeys(r: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

const W = SIM_CAMERA.width;
const H = SIM_CAMERA.height;

function randomBytes(rng: Rng, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 4) {
    const v = Math.floor(rng.next() * 4294967296);
    out[i] = v & 255;
    if (i + 1 < n) out[i + 1] = (v >>> 8) & 255;
    if (i + 2 < n) out[i + 2] = (v >>> 16) & 255;
    if (i + 3 < n) out[i + 3] = (v >>> 24) & 255;
  }
  return out;
}

/** A PNG header (signature + IHDR, its CRC right or zero) claiming `w`×`h`, followed by `body` and an IEND chunk. */
function pngClaiming(w: number, h: number, body: Uint8Array, goodCrc = true): Uint8Array {
  const head = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52];
  const u32 = (v: number) => [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
  const fields = [...u32(w), ...u32(h), 8, 2, 0, 0, 0];
  const ihdr = [...fields, ...u32(goodCrc ? crc32(new Uint8Array([0x49, 0x48, 0x44, 0x52, ...fields])) : 0)];
  const iend = [0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82];
  return new Uint8Array([...head, ...ihdr, ...body, ...iend]);
}

/** A JPEG start (SOI + SOF0 claiming `w`×`h`) over garbage, ending with EOI. */
function jpegClaiming(w: number, h: number, body: Uint8Array): Uint8Array {
  const sof = [0xff, 0xc0, 0, 17, 8, (h >>> 8) & 255, h & 255, (w >>> 8) & 255, w & 255, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1];
  return new Uint8Array([0xff, 0xd8, ...sof, ...body, 0xff, 0xd9]);
}

/** What a hostile message is made from. */
export interface ShotContext {
  /** The graph clock, ns. */
  nowNs: bigint;
  /**
   * The stamp for a camera message, ns: the engine moves the clock on and publishes the robot's
   * TF for it first, so the frame passes the pose lookup and the keyframe gate and reaches the decoder.
   */
  cameraNowNs: () => bigint;
  robot: Pose2D;
  rendered: ReadonlyMap<number, { rgb: Uint8Array; png: Uint8Array }>;
}

/** One hostile (or unrepresentable) message, drawn by `rng`. */
export function hostileShot(rng: Rng, ctx: ShotContext): Shot {
  const { nowNs, robot } = ctx;
  const stamp = timeFromNs(nowNs);
  const header = { stamp, frame_id: CAMERA_FRAME };
  const cam = () => ({ stamp: timeFromNs(ctx.cameraNowNs()), frame_id: CAMERA_FRAME });
  const anyRendered = [...ctx.rendered.values()][0];
  const image = (over: Partial<Image>): Image => ({ header: over.header ?? cam(), height: 24, width: 32, encoding: 'rgb8', is_bigendian: 0, step: 96, data: randomBytes(rng, 96 * 24), ...over });
  const info = (over: Partial<CameraInfo>): CameraInfo => ({ ...cameraInfoOf(SIM_CAMERA, header), ...over });
  const tf = (over: { parent?: string; child?: string; t?: { x: number; y: number; z: number }; q?: { x: number; y: number; z: number; w: number }; stamp?: { sec: number; nanosec: number } }): TFMessage => ({
    transforms: [
      {
        header: { stamp: over.stamp ?? stamp, frame_id: over.parent ?? 'odom' },
        child_frame_id: over.child ?? 'base_link',
        transform: { translation: over.t ?? { x: robot.x, y: robot.y, z: 0 }, rotation: over.q ?? { x: 0, y: 0, z: 0, w: 1 } },
      },
    ],
  });
  const secsAgo = (s: number) => timeFromNs(nowNs - BigInt(Math.round(s * 1e9)) > 0n ? nowNs - BigInt(Math.round(s * 1e9)) : 0n);
  const weird = () => rng.pick([Number.NaN, Infinity, -Infinity, 1e308, -1e308, 0, -0]);
  const kinds: (() => Shot)[] = [
    // ── sensor_msgs/Image ──
    () => ({ kind: 'image.wrong_step', sink: 'image', msg: image({ step: rng.pick([95, 1, 0, 32]) }) }),
    () => ({ kind: 'image.truncated', sink: 'image', msg: image({ data: randomBytes(rng, rng.int(0, 96 * 24 - 1)) }) }),
    () => ({ kind: 'image.unknown_encoding', sink: 'image', msg: image({ encoding: rng.pick(['rgb9', '', 'RGB8', 'yuv420', '椅子', 'x'.repeat(300), 'rgb8 ']) }) }),
    () => ({ kind: 'image.unsupported_encoding', sink: 'image', msg: image({ encoding: rng.pick(['16UC1', '32FC1', '8UC3', 'yuv422', 'rgb16', 'nv21']) }) }),
    () => ({ kind: 'image.zero_size', sink: 'image', msg: image({ width: 0, height: 0, step: 0, data: new Uint8Array(0) }) }),
    () => ({ kind: 'image.absurd_size', sink: 'image', msg: image({ width: rng.pick([4294967295, 100000, 16385]), height: rng.pick([4294967295, 100000, 2]), step: 4294967295, data: randomBytes(rng, 64) }) }),
    () => {
      const width = rng.int(1, 48);
      const height = rng.int(1, 48);
      const encoding = rng.pick(['rgb8', 'bgr8', 'rgba8', 'bgra8', 'mono8', '8UC1', 'mono16']);
      const step = rng.int(0, width * 8);
      return { kind: 'image.garbage', sink: 'image', msg: image({ width, height, encoding, step, is_bigendian: rng.int(0, 255), data: randomBytes(rng, rng.int(0, step * height + 16)) }) };
    },
    () => ({ kind: 'image.bad_stamp', sink: 'image', msg: image({ header: { stamp: { sec: rng.pick([-1, -2147483648, 0]), nanosec: rng.pick([1_000_000_000, 4294967295, 0]) }, frame_id: CAMERA_FRAME } }) }),
    () => ({ kind: 'image.stamp_backwards', sink: 'image', msg: image({ header: { stamp: secsAgo(rng.uniform(0.5, 1000)), frame_id: CAMERA_FRAME }, width: W, height: H, step: W * 3, data: anyRendered?.rgb ?? randomBytes(rng, W * H * 3) }) }),
    () => ({ kind: 'image.stamp_future', sink: 'image', msg: image({ header: { stamp: { sec: stamp.sec + rng.int(1, 1_000_000), nanosec: 0 }, frame_id: CAMERA_FRAME }, width: W, height: H, step: W * 3, data: anyRendered?.rgb ?? randomBytes(rng, W * H * 3) }) }),
    () => ({ kind: 'image.odd_frame_id', sink: 'image', msg: image({ header: { stamp: cam().stamp, frame_id: rng.pick(['', ' ', '/', 'map', 'c'.repeat(5000), 'カメラ', '../base_link']) }, width: W, height: H, step: W * 3, data: anyRendered?.rgb ?? randomBytes(rng, W * H * 3) }) }),
    () => ({ kind: 'image.wrong_size_for_camera_info', sink: 'image', msg: image({ width: W * 2, height: H * 2, step: W * 6, data: randomBytes(rng, W * H * 12) }) }),
    // ── sensor_msgs/CompressedImage ──
    () => ({ kind: 'compressed.corrupt', sink: 'compressed', msg: { header: cam(), format: rng.pick(['jpeg', 'png', 'rgb8; jpeg compressed bgr8']), data: randomBytes(rng, rng.int(0, 2000)) } }),
    () => ({ kind: 'compressed.wrong_format', sink: 'compressed', msg: { header: cam(), format: rng.pick(['tiff', 'bmp', 'webp', 'rgb8; compressedDepth png', '🖼', 'x'.repeat(1000)]), data: anyRendered?.png ?? randomBytes(rng, 100) } }),
    () => {
      const png = anyRendered?.png ?? randomBytes(rng, 100);
      return { kind: 'compressed.truncated', sink: 'compressed', msg: { header: cam(), format: 'png', data: png.slice(0, rng.int(0, png.length - 1)) } };
    },
    () => ({ kind: 'compressed.header_claims_huge', sink: 'compressed', msg: { header: cam(), format: 'png', data: pngClaiming(rng.pick([100000, 16384, 4294967295]), rng.pick([100000, 8192, 1]), randomBytes(rng, 64)) } }),
    () => ({ kind: 'compressed.png_garbage_body', sink: 'compressed', msg: { header: cam(), format: 'png', data: pngClaiming(rng.int(1, 640), rng.int(1, 480), randomBytes(rng, rng.int(0, 3000)), rng.next() < 0.8) } }),
    () => ({ kind: 'compressed.jpeg_garbage_body', sink: 'compressed', msg: { header: cam(), format: 'jpeg', data: jpegClaiming(rng.int(1, 640), rng.int(1, 480), randomBytes(rng, rng.int(0, 3000))) } }),
    () => ({ kind: 'compressed.empty', sink: 'compressed', msg: { header: cam(), format: '', data: new Uint8Array(0) } }),
    // ── sensor_msgs/CameraInfo ──
    () => ({ kind: 'camera_info.zeros', sink: 'info', msg: info({ width: 0, height: 0, k: new Array(9).fill(0), p: new Array(12).fill(0), d: [] }) }),
    () => ({ kind: 'camera_info.nan', sink: 'info', msg: info({ k: [Number.NaN, 0, Number.NaN, 0, Number.NaN, Number.NaN, 0, 0, 1], d: [Number.NaN, 0, 0, 0, 0] }) }),
    () => ({ kind: 'camera_info.infinite', sink: 'info', msg: info({ k: [weird(), 0, weird(), 0, weird(), weird(), 0, 0, weird()] }) }),
    () => ({ kind: 'camera_info.negative_focal', sink: 'info', msg: info({ k: [-100, 0, 80, 0, -100, 60, 0, 0, 1] }) }),
    () => ({ kind: 'camera_info.other_size', sink: 'info', msg: info({ width: rng.int(1, 4000), height: rng.int(1, 4000) }) }),
    () => ({ kind: 'camera_info.odd_distortion', sink: 'info', msg: info({ distortion_model: rng.pick(['fisheye', 'equidistant', '', 'rational_polynomial']), d: Array.from({ length: rng.int(0, 20) }, () => rng.uniform(-5, 5)) }) }),
    // ── tf2_msgs/TFMessage ──
    () => ({ kind: 'tf.nan', sink: 'tf', msg: tf({ t: { x: Number.NaN, y: robot.y, z: weird() } }) }),
    () => ({ kind: 'tf.non_unit_quaternion', sink: 'tf', msg: tf({ q: rng.pick([{ x: 0, y: 0, z: 0, w: 0 }, { x: 0, y: 0, z: 3, w: 3 }, { x: 1e-9, y: 0, z: 0, w: 1e-9 }, { x: 0, y: 0, z: weird(), w: 1 }]) }) }),
    () => ({ kind: 'tf.time_backwards', sink: 'tf', msg: tf({ stamp: secsAgo(rng.uniform(0.01, 1000)), t: { x: robot.x + rng.uniform(-5, 5), y: robot.y + rng.uniform(-5, 5), z: 0 } }) }),
    () => ({ kind: 'tf.far_future', sink: 'tf', msg: tf({ stamp: { sec: Math.min(2147483647, stamp.sec + rng.int(1, 2_000_000_000)), nanosec: 0 } }) }),
    () => ({ kind: 'tf.bad_stamp', sink: 'tf', msg: tf({ stamp: { sec: rng.pick([-5, 0]), nanosec: rng.pick([1_000_000_000, 4294967295]) } }) }),
    () => ({ kind: 'tf.empty_frame_ids', sink: 'tf', msg: tf(rng.pick([{ parent: '' }, { child: '' }, { parent: '', child: '' }, { parent: '/', child: ' ' }])) }),
    () => ({ kind: 'tf.self_loop', sink: 'tf', msg: tf({ parent: 'base_link', child: 'base_link' }) }),
    () => ({ kind: 'tf.cycle', sink: 'tf', msg: tf(rng.pick([{ parent: 'base_link', child: 'map' }, { parent: 'base_link', child: 'odom' }, { parent: CAMERA_FRAME, child: 'base_link' }])) }),
    () => ({ kind: 'tf.reparent', sink: 'tf', msg: tf(rng.pick([{ parent: 'map', child: 'base_link' }, { parent: 'world', child: 'odom' }, { parent: 'odom', child: CAMERA_FRAME }])) }),
    () => ({
      kind: 'tf.many_transforms',
      sink: 'tf',
      msg: { transforms: Array.from({ length: 300 }, (_, i) => tf({ parent: `f${i}`, child: `f${i + 1}`, t: { x: rng.uniform(-1, 1), y: 0, z: 0 } }).transforms[0]) },
    }),
    () => ({ kind: 'tf_static.nan', sink: 'tf_static', msg: tf({ parent: 'base_link', child: CAMERA_FRAME, t: { x: 0, y: 0, z: Number.NaN } }) }),
    // ── goals ──
    () => {
      const { kind, name } = hostileName(rng);
      return { kind: `goal.${kind}`, sink: 'goal', msg: { object_name: name, execute: rng.next() < 0.5, time_budget_s: 0 } };
    },
    () => ({ kind: 'goal.bad_budget', sink: 'goal', msg: { object_name: rng.pick(['unicorn', '']), execute: false, time_budget_s: rng.pick([Number.NaN, -1, -Infinity, Infinity]) } }),
    () => ({ kind: 'goal.valid_name_bad_budget', sink: 'goal', msg: { object_name: 'chair', execute: false, time_budget_s: rng.pick([Number.NaN, -1, -Infinity, Infinity, -1e-9]) } }),
    () => {
      const { kind, name } = hostileName(rng);
      return { kind: `goal_topic.${kind}`, sink: rng.next() < 0.5 ? 'goal_topic_raw' : 'goal_topic_compressed', msg: { data: name } satisfies StringMsg };
    },
    // ── teleop ──
    () => ({ kind: 'twist.non_finite', sink: 'twist', msg: { linear: { x: weird(), y: weird(), z: 0 }, angular: { x: 0, y: 0, z: weird() } } satisfies Twist }),
    // ── not representable in ROS: the graph refuses them at publish ──
    () => ({ kind: 'transport.image_negative_height', sink: 'image', msg: image({ height: -1 }) }),
    () => ({ kind: 'transport.image_fractional_step', sink: 'image', msg: image({ step: 95.5 }) }),
    () => ({ kind: 'transport.image_data_string', sink: 'image', msg: { ...image({}), data: 'not bytes' } }),
    () => ({ kind: 'transport.image_unknown_field', sink: 'image', msg: { ...image({}), channels: 3 } }),
    () => ({ kind: 'transport.camera_info_k_length', sink: 'info', msg: info({ k: [1, 0, 0, 0, 1, 0, 0, 0] }) }),
    () => ({ kind: 'transport.tf_quaternion_string', sink: 'tf', msg: { transforms: [{ header, child_frame_id: 'base_link', transform: { translation: { x: 0, y: 0, z: 0 }, rotation: { x: 0, y: 0, z: 0, w: '1' } } }] } }),
    () => (rng.next() < 0.5 ? { kind: 'transport.string_with_nul', sink: 'goal', msg: { object_name: 'chair\0; drop', execute: false, time_budget_s: 0 } } : { kind: 'transport.string_with_nul', sink: 'goal_topic_raw', msg: { data: 'chair\0' } }),
    () => ({ kind: 'transport.lone_surrogate', sink: 'goal', msg: { object_name: 'ch\ud800air', execute: false, time_budget_s: 0 } }),
    () => ({ kind: 'transport.goal_budget_string', sink: 'goal', msg: { object_name: 'chair', execute: false, time_budget_s: '5' } }),
  ];
  return rng.pick(kinds)();
}
