/**
 * rosbag2's `offered_qos_profiles`: the QoS profiles the publishers of a topic offered while it
 * was recorded, stored as a YAML string in the MCAP channel metadata and in metadata.yaml.
 *
 * We write the numeric form (rmw enum values) that rosbag2 uses for metadata versions ≤ 8 and
 * that every distro reads (Humble … Rolling); we read both the numeric and the string form
 * (`keep_last`, `reliable`, … written by metadata version ≥ 9).
 */
import yaml from 'js-yaml';
import { BagFormatError } from '../core/errors.js';

export type QosHistory = 'system_default' | 'keep_last' | 'keep_all' | 'unknown';
export type QosReliability = 'system_default' | 'reliable' | 'best_effort' | 'unknown' | 'best_available';
export type QosDurability = 'system_default' | 'transient_local' | 'volatile' | 'unknown' | 'best_available';
export type QosLiveliness = 'system_default' | 'automatic' | 'manual_by_node' | 'manual_by_topic' | 'unknown' | 'best_available';

/** rmw_time_t: seconds + nanoseconds. {0, 0} means "not set" (the rmw default). */
export interface RmwDuration {
  sec: number;
  nsec: number;
}

/** One offered QoS profile, field for field as rosbag2 stores it. */
export interface OfferedQosProfile {
  history: QosHistory;
  /** Queue depth (messages) for keep_last; 0 when unknown. */
  depth: number;
  reliability: QosReliability;
  durability: QosDurability;
  deadline: RmwDuration;
  lifespan: RmwDuration;
  liveliness: QosLiveliness;
  livelinessLeaseDuration: RmwDuration;
  avoidRosNamespaceConventions: boolean;
}

// rmw enum values (rmw/types.h); index = numeric value.
const HISTORY: readonly QosHistory[] = ['system_default', 'keep_last', 'keep_all', 'unknown'];
const RELIABILITY: readonly QosReliability[] = ['system_default', 'reliable', 'best_effort', 'unknown', 'best_available'];
const DURABILITY: readonly QosDurability[] = ['system_default', 'transient_local', 'volatile', 'unknown', 'best_available'];
const LIVELINESS: readonly QosLiveliness[] = ['system_default', 'automatic', 'manual_by_node', 'manual_by_topic', 'unknown', 'best_available'];

const ZERO: RmwDuration = { sec: 0, nsec: 0 };

/**
 * The profile rosbag2 records for a publisher seen through the ROS graph: history is not
 * visible there (unknown, depth 0), durations unset, liveliness automatic.
 */
export function offeredProfile(reliability: QosReliability, durability: QosDurability, extra: Partial<OfferedQosProfile> = {}): OfferedQosProfile {
  return {
    history: 'unknown',
    depth: 0,
    reliability,
    durability,
    deadline: ZERO,
    lifespan: ZERO,
    liveliness: 'automatic',
    livelinessLeaseDuration: ZERO,
    avoidRosNamespaceConventions: false,
    ...extra,
  };
}

function enumNumber<T extends string>(table: readonly T[], value: T): number {
  return table.indexOf(value);
}

/**
 * Serialises profiles exactly as rosbag2 (yaml-cpp `YAML::Dump` of a sequence of maps) does:
 * `- history: 3\n  depth: 0\n  reliability: 1\n …\n  avoid_ros_namespace_conventions: false`
 * (no trailing newline). An empty list gives `''`.
 */
export function serializeOfferedQos(profiles: readonly OfferedQosProfile[]): string {
  return profiles
    .map((p) =>
      [
        `- history: ${enumNumber(HISTORY, p.history)}`,
        `  depth: ${p.depth}`,
        `  reliability: ${enumNumber(RELIABILITY, p.reliability)}`,
        `  durability: ${enumNumber(DURABILITY, p.durability)}`,
        `  deadline:`,
        `    sec: ${p.deadline.sec}`,
        `    nsec: ${p.deadline.nsec}`,
        `  lifespan:`,
        `    sec: ${p.lifespan.sec}`,
        `    nsec: ${p.lifespan.nsec}`,
        `  liveliness: ${enumNumber(LIVELINESS, p.liveliness)}`,
        `  liveliness_lease_duration:`,
        `    sec: ${p.livelinessLeaseDuration.sec}`,
        `    nsec: ${p.livelinessLeaseDuration.nsec}`,
        `  avoid_ros_namespace_conventions: ${p.avoidRosNamespaceConventions}`,
      ].join('\n'),
    )
    .join('\n');
}

function policy<T extends string>(table: readonly T[], raw: unknown, field: string, where: string): T {
  if (typeof raw === 'number' && Number.isInteger(raw) && raw >= 0 && raw < table.length) return table[raw] as T;
  if (typeof raw === 'string' && (table as readonly string[]).includes(raw)) return raw as T;
  throw new BagFormatError(
    `offered_qos_profiles of ${where}: ${field} is ${JSON.stringify(raw)}; expected 0…${table.length - 1} or one of ${table.join(', ')}`,
    'bag_qos',
  );
}

function duration(raw: unknown, field: string, where: string): RmwDuration {
  const r = raw as { sec?: unknown; nsec?: unknown } | null | undefined;
  if (r && typeof r.sec === 'number' && typeof r.nsec === 'number') return { sec: r.sec, nsec: r.nsec };
  throw new BagFormatError(`offered_qos_profiles of ${where}: ${field} is ${JSON.stringify(raw)}; expected {sec, nsec}`, 'bag_qos');
}

/**
 * Parses rosbag2's `offered_qos_profiles` YAML (numeric or string enums). `''` → `[]`.
 * @param where for errors, e.g. `topic '/tf'`.
 * @throws BagFormatError quoting the bad field and value.
 */
export function parseOfferedQos(text: string, where: string): OfferedQosProfile[] {
  if (text.trim() === '') return [];
  let doc: unknown;
  try {
    doc = yaml.load(text);
  } catch (e) {
    throw new BagFormatError(`offered_qos_profiles of ${where} is not YAML: ${(e as Error).message}`, 'bag_qos');
  }
  if (!Array.isArray(doc)) {
    throw new BagFormatError(`offered_qos_profiles of ${where} is not a YAML list: ${JSON.stringify(text.slice(0, 80))}`, 'bag_qos');
  }
  return doc.map((item: Record<string, unknown>) => {
    const depth = item?.depth;
    if (typeof depth !== 'number' || !Number.isInteger(depth) || depth < 0) {
      throw new BagFormatError(`offered_qos_profiles of ${where}: depth is ${JSON.stringify(depth)}; expected an integer ≥ 0`, 'bag_qos');
    }
    return {
      history: policy(HISTORY, item.history, 'history', where),
      depth,
      reliability: policy(RELIABILITY, item.reliability, 'reliability', where),
      durability: policy(DURABILITY, item.durability, 'durability', where),
      deadline: duration(item.deadline, 'deadline', where),
      lifespan: duration(item.lifespan, 'lifespan', where),
      liveliness: policy(LIVELINESS, item.liveliness, 'liveliness', where),
      livelinessLeaseDuration: duration(item.liveliness_lease_duration, 'liveliness_lease_duration', where),
      avoidRosNamespaceConventions: item.avoid_ros_namespace_conventions === true,
    };
  });
}
