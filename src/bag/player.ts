/**
 * Replays a bag into a graph: one publisher per topic with the topic's type and the QoS the
 * bag recorded as offered, then every message in log-time order, decoded with the schema
 * embedded in the bag and published (the graph serialises it again with its own definitions,
 * so a bag whose types do not match ours fails here as it would on a robot).
 *
 * Pacing: as fast as possible (`rate` undefined or 0), or real time scaled by `rate`
 * (1 = as recorded, 2 = twice as fast): message i is published `(logTime_i − logTime_0) / rate`
 * after the first.
 */
import { BagFormatError, CancelledError } from '../core/errors.js';
import type { BagReader } from './BagReader.js';
import { parseOfferedQos, type OfferedQosProfile } from './qos.js';

/** The QoS a replay publisher asks for, derived from the recorded offers. */
export interface ReplayQos {
  reliability: 'reliable' | 'best_effort';
  durability: 'volatile' | 'transient_local';
  /** keep_last depth (messages). */
  depth: number;
}

/** What the player needs from a graph. */
export interface PlayableGraph<Q = ReplayQos> {
  createPublisher(topic: string, type: string, qos: Q): { publish(message: unknown): unknown };
}

export interface PlayOptions<Q = ReplayQos> {
  /** Topics to replay; default all topics with messages. */
  topics?: readonly string[];
  /** 0 / undefined: as fast as possible; > 0: real time divided by `rate`. */
  rate?: number;
  /** Stops the replay (rejects with CancelledError). */
  signal?: AbortSignal;
  /** Converts the recorded QoS into the graph's QoS type; default passes `ReplayQos`. */
  qos?: (replay: ReplayQos, topic: string) => Q;
}

export interface PlayResult {
  published: number;
  perTopic: Map<string, number>;
  /** Wall time from the first to the last publication, ms. */
  wallMs: number;
}

/** Depth used when the bag's offer does not say (rosbag2 records history as unknown). */
export const DEFAULT_REPLAY_DEPTH = 10;

/**
 * The QoS to offer when replaying, like `ros2 bag play`: reliable only if every recorded offer
 * was reliable, transient_local only if every offer was; keep_last with the recorded depth (or
 * 10 when unknown).
 */
export function replayQos(profiles: readonly OfferedQosProfile[]): ReplayQos {
  const depths = profiles.filter((p) => p.history === 'keep_last' && p.depth > 0).map((p) => p.depth);
  return {
    // No recorded offer (old bags): reliable + volatile, rosbag2's default.
    reliability: profiles.every((p) => p.reliability === 'reliable') ? 'reliable' : 'best_effort',
    durability: profiles.length > 0 && profiles.every((p) => p.durability === 'transient_local') ? 'transient_local' : 'volatile',
    depth: depths.length > 0 ? Math.max(...depths) : DEFAULT_REPLAY_DEPTH,
  };
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  // The caller checked `signal.aborted` just before (synchronously).
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(new CancelledError('bag replay cancelled'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Replays `reader` into `graph` (see the module comment). */
export async function playBag<Q = ReplayQos>(reader: BagReader, graph: PlayableGraph<Q>, options: PlayOptions<Q> = {}): Promise<PlayResult> {
  const rate = options.rate ?? 0;
  if (!Number.isFinite(rate) || rate < 0) throw new BagFormatError(`replay rate must be a finite number ≥ 0 (0 = as fast as possible), got ${rate}`, 'bag_play_option');
  const info = reader.info();
  const selected = options.topics ?? info.topics.filter((t) => t.count > 0).map((t) => t.name);
  const toQos = options.qos ?? ((q: ReplayQos) => q as unknown as Q);
  const publishers = new Map<string, { publish(message: unknown): unknown }>();
  for (const name of selected) {
    const topic = info.topics.find((t) => t.name === name);
    if (!topic) throw new BagFormatError(`Topic '${name}' is not in the bag (topics: ${info.topics.map((t) => t.name).join(', ') || 'none'})`, 'bag_unknown_topic');
    if (publishers.has(name)) continue;
    const qos = replayQos(parseOfferedQos(topic.offeredQosProfiles, `topic '${name}'`));
    publishers.set(name, graph.createPublisher(name, topic.type, toQos(qos, name)));
  }
  const perTopic = new Map<string, number>();
  let published = 0;
  let firstLog: bigint | undefined;
  let startWall = 0;
  let lastWall = 0;
  for await (const m of reader.messages({ topics: selected })) {
    if (options.signal?.aborted) throw new CancelledError('bag replay cancelled');
    const now = performance.now();
    if (firstLog === undefined) {
      firstLog = m.logTimeNs;
      startWall = now;
    } else if (rate > 0) {
      const dueMs = Number(m.logTimeNs - firstLog) / 1e6 / rate;
      const waitMs = startWall + dueMs - now;
      if (waitMs > 0) await sleep(waitMs, options.signal);
    }
    await (publishers.get(m.topic) as { publish(message: unknown): unknown }).publish(reader.decode(m));
    lastWall = performance.now();
    published++;
    perTopic.set(m.topic, (perTopic.get(m.topic) ?? 0) + 1);
  }
  return { published, perTopic, wallMs: published > 0 ? lastWall - startWall : 0 };
}
