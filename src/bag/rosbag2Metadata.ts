/**
 * rosbag2's bag metadata: the `metadata.yaml` beside the bag files
 * (`rosbag2_bagfile_information: …`) and the same mapping without the root key, stored in the
 * MCAP metadata record `rosbag2` under `serialized_metadata`.
 *
 * Timestamps are nanoseconds since the Unix epoch as `bigint` (they exceed 2^53). YAML is
 * written by hand in rosbag2's layout so that 64-bit integers stay exact; `loadYamlExact`
 * reads integers beyond 2^53 as `bigint` for the same reason.
 */
import yaml from 'js-yaml';
import { BagFormatError } from '../core/errors.js';

/** The metadata version we write: 8 = v7 (type_description_hash) + ros_distro; QoS numeric. */
export const ROSBAG2_METADATA_VERSION = 8;

export interface Rosbag2TopicInfo {
  name: string;
  /** e.g. `std_msgs/msg/String`. */
  type: string;
  /** `cdr`. */
  serializationFormat: string;
  /** YAML string, see qos.ts. */
  offeredQosProfiles: string;
  /** `RIHS01_…` or `''` when unknown. */
  typeDescriptionHash: string;
  messageCount: number;
}

export interface Rosbag2FileInfo {
  path: string;
  startingTimeNs: bigint;
  durationNs: bigint;
  messageCount: number;
}

export interface Rosbag2Metadata {
  version: number;
  storageIdentifier: string;
  /** Last minus first message log time, ns. */
  durationNs: bigint;
  /** First message log time, ns since epoch (0 for an empty bag). */
  startingTimeNs: bigint;
  messageCount: number;
  topics: Rosbag2TopicInfo[];
  compressionFormat: string;
  compressionMode: string;
  relativeFilePaths: string[];
  files: Rosbag2FileInfo[];
  customData: Record<string, string>;
  rosDistro: string;
}

function q(s: string): string {
  // A JSON string literal is a valid YAML double-quoted scalar.
  return JSON.stringify(s);
}

/** The mapping (no root key), as stored in the MCAP `rosbag2` metadata record. */
export function serializeBagMetadata(m: Rosbag2Metadata): string {
  const lines: string[] = [
    `version: ${m.version}`,
    `storage_identifier: ${q(m.storageIdentifier)}`,
    `duration:`,
    `  nanoseconds: ${m.durationNs}`,
    `starting_time:`,
    `  nanoseconds_since_epoch: ${m.startingTimeNs}`,
    `message_count: ${m.messageCount}`,
  ];
  if (m.topics.length === 0) lines.push('topics_with_message_count: []');
  else {
    lines.push('topics_with_message_count:');
    for (const t of m.topics) {
      lines.push(
        `  - topic_metadata:`,
        `      name: ${q(t.name)}`,
        `      type: ${q(t.type)}`,
        `      serialization_format: ${q(t.serializationFormat)}`,
        `      offered_qos_profiles: ${q(t.offeredQosProfiles)}`,
        `      type_description_hash: ${q(t.typeDescriptionHash)}`,
        `    message_count: ${t.messageCount}`,
      );
    }
  }
  lines.push(`compression_format: ${q(m.compressionFormat)}`, `compression_mode: ${q(m.compressionMode)}`);
  if (m.relativeFilePaths.length === 0) lines.push('relative_file_paths: []');
  else lines.push('relative_file_paths:', ...m.relativeFilePaths.map((p) => `  - ${q(p)}`));
  if (m.files.length === 0) lines.push('files: []');
  else {
    lines.push('files:');
    for (const f of m.files) {
      lines.push(
        `  - path: ${q(f.path)}`,
        `    starting_time:`,
        `      nanoseconds_since_epoch: ${f.startingTimeNs}`,
        `    duration:`,
        `      nanoseconds: ${f.durationNs}`,
        `    message_count: ${f.messageCount}`,
      );
    }
  }
  const custom = Object.entries(m.customData);
  if (custom.length === 0) lines.push('custom_data: {}');
  else lines.push('custom_data:', ...custom.map(([k, v]) => `  ${q(k)}: ${q(v)}`));
  lines.push(`ros_distro: ${q(m.rosDistro)}`);
  return lines.join('\n') + '\n';
}

/** The full `metadata.yaml` text (`rosbag2_bagfile_information:` root). */
export function metadataYaml(m: Rosbag2Metadata): string {
  const body = serializeBagMetadata(m)
    .trimEnd()
    .split('\n')
    .map((l) => '  ' + l)
    .join('\n');
  return `rosbag2_bagfile_information:\n${body}\n`;
}

const exactInt = new yaml.Type('tag:yaml.org,2002:int', {
  kind: 'scalar',
  resolve: (data: unknown) => typeof data === 'string' && /^[-+]?[0-9]+$/.test(data),
  construct: (data: string) => {
    const b = BigInt(data);
    return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
  },
});
// Replaces the core schema's int type in place (js-yaml keeps the position of a type it overrides).
const EXACT_SCHEMA = yaml.CORE_SCHEMA.extend({ implicit: [exactInt] });

/** `js-yaml` load where decimal integers outside ±(2^53−1) come back as `bigint` (not rounded). */
export function loadYamlExact(text: string): unknown {
  return yaml.load(text, { schema: EXACT_SCHEMA });
}

function field(obj: Record<string, unknown>, key: string, where: string): unknown {
  if (!(key in obj)) throw new BagFormatError(`${where}: missing '${key}'`, 'bag_metadata');
  return obj[key];
}

function asBig(v: unknown, where: string): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  throw new BagFormatError(`${where} is ${JSON.stringify(String(v))}; expected an integer`, 'bag_metadata');
}

function asCount(v: unknown, where: string): number {
  const b = asBig(v, where);
  if (b < 0n || b > BigInt(Number.MAX_SAFE_INTEGER)) throw new BagFormatError(`${where} is ${b}; expected a count ≥ 0`, 'bag_metadata');
  return Number(b);
}

function asStr(v: unknown): string {
  return v === null || v === undefined ? '' : String(v);
}

function asMap(v: unknown, where: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    const what = v === undefined ? 'missing' : v === null ? 'null' : Array.isArray(v) ? 'a list' : `a ${typeof v}`;
    throw new BagFormatError(`${where} is ${what}; expected a mapping`, 'bag_metadata');
  }
  return v as Record<string, unknown>;
}

/**
 * Parses metadata.yaml (with the `rosbag2_bagfile_information` root) or a `serialized_metadata`
 * mapping (without it). Accepts metadata versions 1…9; fields a version lacks get defaults.
 * @param source for errors, e.g. the file path.
 * @throws BagFormatError naming the missing or malformed field.
 */
export function parseBagMetadata(text: string, source: string): Rosbag2Metadata {
  let doc: unknown;
  try {
    doc = loadYamlExact(text);
  } catch (e) {
    throw new BagFormatError(`${source}: not valid YAML: ${(e as Error).message}`, 'bag_metadata');
  }
  let root = asMap(doc, source);
  if ('rosbag2_bagfile_information' in root) root = asMap(root.rosbag2_bagfile_information, `${source}: rosbag2_bagfile_information`);
  const where = source;
  const topicsRaw = field(root, 'topics_with_message_count', where);
  const topics = (Array.isArray(topicsRaw) ? topicsRaw : []).map((t, i) => {
    const tw = `${where}: topics_with_message_count[${i}]`;
    const tm = asMap(asMap(t, tw).topic_metadata, `${tw}.topic_metadata`);
    return {
      name: asStr(field(tm, 'name', tw)),
      type: asStr(field(tm, 'type', tw)),
      serializationFormat: asStr(tm.serialization_format),
      offeredQosProfiles: asStr(tm.offered_qos_profiles),
      typeDescriptionHash: asStr(tm.type_description_hash),
      messageCount: asCount(field(asMap(t, tw), 'message_count', tw), `${tw}.message_count`),
    };
  });
  const files = Array.isArray(root.files)
    ? root.files.map((f, i) => {
        const fw = `${where}: files[${i}]`;
        const fm = asMap(f, fw);
        return {
          path: asStr(field(fm, 'path', fw)),
          startingTimeNs: asBig(asMap(fm.starting_time, `${fw}.starting_time`).nanoseconds_since_epoch, `${fw}.starting_time`),
          durationNs: asBig(asMap(fm.duration, `${fw}.duration`).nanoseconds, `${fw}.duration`),
          messageCount: asCount(fm.message_count, `${fw}.message_count`),
        };
      })
    : [];
  const custom: Record<string, string> = {};
  if (root.custom_data && typeof root.custom_data === 'object') {
    for (const [k, v] of Object.entries(root.custom_data as Record<string, unknown>)) custom[k] = asStr(v);
  }
  return {
    version: asCount(field(root, 'version', where), `${where}: version`),
    storageIdentifier: asStr(field(root, 'storage_identifier', where)),
    durationNs: asBig(asMap(field(root, 'duration', where), `${where}: duration`).nanoseconds, `${where}: duration.nanoseconds`),
    startingTimeNs: asBig(
      asMap(field(root, 'starting_time', where), `${where}: starting_time`).nanoseconds_since_epoch,
      `${where}: starting_time.nanoseconds_since_epoch`,
    ),
    messageCount: asCount(field(root, 'message_count', where), `${where}: message_count`),
    topics,
    compressionFormat: asStr(root.compression_format),
    compressionMode: asStr(root.compression_mode),
    relativeFilePaths: Array.isArray(root.relative_file_paths) ? root.relative_file_paths.map(asStr) : [],
    files,
    customData: custom,
    rosDistro: asStr(root.ros_distro),
  };
}
