/**
 * Reads rosbag2 MCAP files (as written by `ros2 bag record -s mcap` or by `BagWriter`) through an
 * `IReadable` — no file system here; see files.ts for opening paths.
 *
 * - Indexed files (summary with Statistics, chunk indexes and message indexes): topics and
 *   counts come from the summary; messages are read chunk by chunk in log-time order.
 * - Anything else (unfinished recordings, `fastwrite` files without chunks, files without or
 *   with a damaged summary): one linear scan at open for topics/counts/times, and a scan per
 *   `messages()` call; messages come in log-time order (sorted in memory only when the file
 *   is not already in order).
 * Chunks may be uncompressed, zstd, lz4 or bz2 (@mcap/support). Messages decode with the
 * ros2msg schema embedded in the file, whatever their type.
 */
import { McapIndexedReader, type DecompressHandlers, type IReadable, type McapTypes } from '@mcap/core';
import { BagFormatError } from '../core/errors.js';
import { loadBagCodecs, supportedCompressions } from './codecs.js';
import { checkMagic, hasClosingMagic, MAX_CHUNK_UNCOMPRESSED_BYTES, scanMcap } from './mcapScan.js';
import { SchemaDecoderCache } from './schemaDecoder.js';

/** The MCAP header profile rosbag2 writes. */
export const ROS2_PROFILE = 'ros2';
/** Name of the MCAP metadata record rosbag2 writes on close. */
export const ROSBAG2_METADATA_NAME = 'rosbag2';

/** One topic of the bag (channels with the same topic and type are merged). */
export interface BagTopicInfo {
  name: string;
  /** ROS type name from the schema, e.g. `sensor_msgs/msg/Image`. */
  type: string;
  /** Messages on this topic in the file. */
  count: number;
  /** Channel message encoding, `cdr` for rosbag2. */
  serializationFormat: string;
  /** rosbag2 `offered_qos_profiles` YAML ('' when absent); parse with qos.ts. */
  offeredQosProfiles: string;
  /** `topic_type_hash` channel metadata when present and non-empty. */
  typeHash: string | undefined;
}

export interface BagInfo {
  /** Sorted by name, then type. */
  topics: BagTopicInfo[];
  messageCount: number;
  /** Log time of the first message, ns since epoch; undefined when the bag has no messages. */
  startNs: bigint | undefined;
  /** Log time of the last message, ns since epoch; undefined when the bag has no messages. */
  endNs: bigint | undefined;
  /** endNs − startNs (0 when empty). */
  durationNs: bigint;
  /** MCAP header profile (`ros2` for rosbag2) and writer library. */
  profile: string;
  library: string;
  /** File size, bytes. */
  sizeBytes: bigint;
  /** True when the summary section was used; false when the file was scanned. */
  indexed: boolean;
  /** Distinct chunk compressions ('' = uncompressed); empty when the file has no chunks. */
  chunkCompressions: string[];
  /** `serialized_metadata` of the `rosbag2` metadata record, when present (parse with rosbag2Metadata.ts). */
  serializedMetadata: string | undefined;
}

/** One message as stored (CDR bytes with the 4-byte encapsulation header). */
export interface BagMessage {
  topic: string;
  type: string;
  channelId: number;
  sequence: number;
  /** Receive time, ns since epoch. */
  logTimeNs: bigint;
  /** Send time, ns since epoch. */
  publishTimeNs: bigint;
  data: Uint8Array;
}

export interface DecodedBagMessage<T = unknown> extends BagMessage {
  message: T;
}

export interface ReadMessagesOptions {
  /** Only these topics (each must exist in the bag). Default: all. */
  topics?: readonly string[];
  /** Inclusive log-time bounds, ns. */
  startNs?: bigint;
  endNs?: bigint;
}

export interface BagReaderOptions {
  /** Defaults to @mcap/support's handlers (zstd, lz4, bz2). */
  decompressHandlers?: DecompressHandlers;
}

type Schema = McapTypes.Schema;
type Channel = McapTypes.Channel;

interface Contents {
  profile: string;
  library: string;
  schemas: Map<number, Schema>;
  channels: Map<number, Channel>;
  counts: Map<number, bigint>;
  messageCount: bigint;
  startNs: bigint | undefined;
  endNs: bigint | undefined;
  compressions: Set<string>;
  serializedMetadata: string | undefined;
  /** Scan mode only: messages appear in non-decreasing log time in the file. */
  ordered: boolean;
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class BagReader {
  readonly #readable: IReadable;
  readonly #handlers: DecompressHandlers;
  readonly #indexed: McapIndexedReader | undefined;
  readonly #contents: Contents;
  readonly #size: bigint;
  readonly #decoders = new SchemaDecoderCache();

  private constructor(readable: IReadable, handlers: DecompressHandlers, indexed: McapIndexedReader | undefined, contents: Contents, size: bigint) {
    this.#readable = readable;
    this.#handlers = handlers;
    this.#indexed = indexed;
    this.#contents = contents;
    this.#size = size;
  }

  /**
   * Opens a bag: checks the magic, reads the summary or scans the file, and validates that every
   * channel names a schema.
   * @throws BagFormatError: bad magic (quoting the bytes and offset), truncation at offset N,
   *   trailing garbage, unsupported chunk compression, a channel with an unknown schema id.
   */
  static async open(readable: IReadable, options: BagReaderOptions = {}): Promise<BagReader> {
    const handlers = options.decompressHandlers ?? (await loadBagCodecs()).decompressHandlers;
    const size = await readable.size();
    await checkMagic(readable, size, 'opening');
    let indexed: McapIndexedReader | undefined;
    let contents: Contents | undefined;
    if (await hasClosingMagic(readable, size)) {
      try {
        indexed = await McapIndexedReader.Initialize({ readable, decompressHandlers: handlers });
      } catch {
        // No summary, or a damaged one: the scan below reads the file and names what is wrong.
        indexed = undefined;
      }
      if (indexed && BagReader.#summaryIsUsable(indexed)) contents = await BagReader.#fromSummary(indexed, handlers);
      else indexed = undefined;
    }
    contents ??= await BagReader.#fromScan(readable, handlers);
    BagReader.#validateChannels(contents);
    return new BagReader(readable, handlers, indexed, contents, size);
  }

  static #summaryIsUsable(r: McapIndexedReader): boolean {
    const stats = r.statistics;
    if (!stats) return false;
    if (r.channelsById.size !== stats.channelCount || r.schemasById.size !== stats.schemaCount) return false;
    if (r.chunkIndexes.length === 0) return stats.messageCount === 0n;
    // Chunks without message indexes can only be read by scanning (@mcap/core refuses them).
    return r.chunkIndexes.every((ci) => ci.messageIndexLength > 0n || (ci.messageStartTime === 0n && ci.messageEndTime === 0n));
  }

  static async #fromSummary(r: McapIndexedReader, handlers: DecompressHandlers): Promise<Contents> {
    const stats = r.statistics as McapTypes.Statistics;
    const compressions = new Set<string>();
    for (const ci of r.chunkIndexes) {
      if (ci.compression !== '' && handlers[ci.compression] === undefined) {
        throw new BagFormatError(
          `Unsupported chunk compression '${ci.compression}' in the chunk at offset ${ci.chunkStartOffset} (this reader handles: ${supportedCompressions(handlers)
            .map((c) => `'${c}'`)
            .join(', ')})`,
          'bag_unsupported_compression',
        );
      }
      if (ci.uncompressedSize > MAX_CHUNK_UNCOMPRESSED_BYTES) {
        throw new BagFormatError(
          `Chunk at offset ${ci.chunkStartOffset} declares ${ci.uncompressedSize} uncompressed bytes, more than the ${MAX_CHUNK_UNCOMPRESSED_BYTES} this reader accepts`,
          'bag_corrupt',
        );
      }
      compressions.add(ci.compression);
    }
    let serializedMetadata: string | undefined;
    try {
      for await (const m of r.readMetadata({ name: ROSBAG2_METADATA_NAME })) {
        serializedMetadata = m.metadata.get('serialized_metadata') ?? serializedMetadata;
      }
    } catch (e) {
      throw new BagFormatError(`Cannot read the '${ROSBAG2_METADATA_NAME}' metadata record: ${errorMessage(e)}`, 'bag_corrupt');
    }
    const empty = stats.messageCount === 0n;
    return {
      profile: r.header.profile,
      library: r.header.library,
      schemas: new Map(r.schemasById),
      channels: new Map(r.channelsById),
      counts: new Map(stats.channelMessageCounts),
      messageCount: stats.messageCount,
      startNs: empty ? undefined : stats.messageStartTime,
      endNs: empty ? undefined : stats.messageEndTime,
      compressions,
      serializedMetadata,
      ordered: true,
    };
  }

  static async #fromScan(readable: IReadable, handlers: DecompressHandlers): Promise<Contents> {
    const c: Contents = {
      profile: '',
      library: '',
      schemas: new Map(),
      channels: new Map(),
      counts: new Map(),
      messageCount: 0n,
      startNs: undefined,
      endNs: undefined,
      compressions: new Set(),
      serializedMetadata: undefined,
      ordered: true,
    };
    let previous: bigint | undefined;
    for await (const { record } of scanMcap(readable, handlers)) {
      switch (record.type) {
        case 'Header':
          c.profile = record.profile;
          c.library = record.library;
          break;
        case 'Schema':
          if (record.id !== 0) c.schemas.set(record.id, record);
          break;
        case 'Channel':
          c.channels.set(record.id, record);
          break;
        case 'Chunk':
          c.compressions.add(record.compression);
          break;
        case 'Metadata':
          if (record.name === ROSBAG2_METADATA_NAME) c.serializedMetadata = record.metadata.get('serialized_metadata') ?? c.serializedMetadata;
          break;
        case 'Message': {
          const t = record.logTime;
          c.counts.set(record.channelId, (c.counts.get(record.channelId) ?? 0n) + 1n);
          c.messageCount++;
          if (c.startNs === undefined || t < c.startNs) c.startNs = t;
          if (c.endNs === undefined || t > c.endNs) c.endNs = t;
          if (previous !== undefined && t < previous) c.ordered = false;
          previous = t;
          break;
        }
        default:
          break;
      }
    }
    return c;
  }

  static #validateChannels(c: Contents): void {
    for (const ch of c.channels.values()) {
      if (ch.schemaId === 0) {
        throw new BagFormatError(
          `Channel ${ch.id} (topic '${ch.topic}') has no schema (schema id 0); a rosbag2 file names the message type of every topic`,
          'bag_unknown_schema',
        );
      }
      if (!c.schemas.has(ch.schemaId)) {
        const known = [...c.schemas.keys()].sort((a, b) => a - b);
        throw new BagFormatError(
          `Channel ${ch.id} (topic '${ch.topic}') refers to schema id ${ch.schemaId}, which the file does not define ` +
            `(schema ids in the file: ${known.length > 0 ? known.join(', ') : 'none'})`,
          'bag_unknown_schema',
        );
      }
    }
  }

  /** Topics, counts and times (no I/O: computed at open). */
  info(): BagInfo {
    const c = this.#contents;
    const byKey = new Map<string, BagTopicInfo>();
    for (const ch of c.channels.values()) {
      const type = (c.schemas.get(ch.schemaId) as Schema).name;
      const key = `${ch.topic}\u0000${type}`;
      const count = Number(c.counts.get(ch.id) ?? 0n);
      const existing = byKey.get(key);
      if (existing) existing.count += count;
      else {
        const hash = ch.metadata.get('topic_type_hash');
        byKey.set(key, {
          name: ch.topic,
          type,
          count,
          serializationFormat: ch.messageEncoding,
          offeredQosProfiles: ch.metadata.get('offered_qos_profiles') ?? '',
          typeHash: hash === undefined || hash === '' ? undefined : hash,
        });
      }
    }
    const topics = [...byKey.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
    return {
      topics,
      messageCount: Number(c.messageCount),
      startNs: c.startNs,
      endNs: c.endNs,
      durationNs: c.startNs === undefined || c.endNs === undefined ? 0n : c.endNs - c.startNs,
      profile: c.profile,
      library: c.library,
      sizeBytes: this.#size,
      indexed: this.#indexed !== undefined,
      chunkCompressions: [...c.compressions].sort(),
      serializedMetadata: c.serializedMetadata,
    };
  }

  /** The ros2msg schema text embedded for `type` (e.g. `std_msgs/msg/String`), or undefined. */
  schemaText(type: string): string | undefined {
    for (const s of this.#contents.schemas.values()) if (s.name === type) return new TextDecoder().decode(s.data);
    return undefined;
  }

  #channelIdsFor(topics: readonly string[] | undefined): Set<number> | undefined {
    if (topics === undefined) return undefined;
    const ids = new Set<number>();
    const known = new Set([...this.#contents.channels.values()].map((ch) => ch.topic));
    for (const t of topics) {
      if (!known.has(t)) {
        throw new BagFormatError(`Topic '${t}' is not in the bag (topics: ${[...known].sort().join(', ') || 'none'})`, 'bag_unknown_topic');
      }
    }
    for (const ch of this.#contents.channels.values()) if (topics.includes(ch.topic)) ids.add(ch.id);
    return ids;
  }

  #toBagMessage(m: McapTypes.Message): BagMessage {
    const ch = this.#contents.channels.get(m.channelId);
    if (!ch) {
      throw new BagFormatError(`Message at log time ${m.logTime} ns refers to channel ${m.channelId}, which the file does not define`, 'bag_corrupt');
    }
    return {
      topic: ch.topic,
      type: (this.#contents.schemas.get(ch.schemaId) as Schema).name,
      channelId: m.channelId,
      sequence: m.sequence,
      logTimeNs: m.logTime,
      publishTimeNs: m.publishTime,
      data: m.data,
    };
  }

  /**
   * Messages in log-time order (ties: file order), optionally filtered by topic and time.
   * @throws BagFormatError for an unknown topic in the filter, or corrupt data met while reading.
   */
  async *messages(options: ReadMessagesOptions = {}): AsyncGenerator<BagMessage, void, void> {
    const ids = this.#channelIdsFor(options.topics);
    const start = options.startNs;
    const end = options.endNs;
    if (this.#indexed) {
      const it = this.#indexed.readMessages({
        ...(options.topics ? { topics: options.topics } : {}),
        ...(start !== undefined ? { startTime: start } : {}),
        ...(end !== undefined ? { endTime: end } : {}),
        validateCrcs: true,
      });
      for (;;) {
        let r: IteratorResult<McapTypes.Message>;
        try {
          r = await it.next();
        } catch (e) {
          throw new BagFormatError(`Cannot read messages: ${errorMessage(e)}`, 'bag_corrupt');
        }
        if (r.done) return;
        yield this.#toBagMessage(r.value);
      }
    }
    const wanted = (m: McapTypes.Message): boolean =>
      (ids === undefined || ids.has(m.channelId)) && (start === undefined || m.logTime >= start) && (end === undefined || m.logTime <= end);
    if (this.#contents.ordered) {
      for await (const { record } of scanMcap(this.#readable, this.#handlers)) {
        if (record.type === 'Message' && wanted(record)) yield this.#toBagMessage(record);
      }
      return;
    }
    const all: McapTypes.Message[] = [];
    for await (const { record } of scanMcap(this.#readable, this.#handlers)) {
      if (record.type === 'Message' && wanted(record)) all.push(record);
    }
    all.sort((a, b) => (a.logTime < b.logTime ? -1 : a.logTime > b.logTime ? 1 : 0)); // stable
    for (const m of all) yield this.#toBagMessage(m);
  }

  /**
   * Decodes one message with the schema embedded in the file.
   * @throws BagFormatError: encoding not cdr, schema not ros2msg or not parseable, bytes that
   *   do not match the schema.
   */
  decode<T = unknown>(message: BagMessage): T {
    const ch = this.#contents.channels.get(message.channelId);
    if (!ch) throw new BagFormatError(`Message refers to channel ${message.channelId}, which the file does not define`, 'bag_corrupt');
    if (ch.messageEncoding !== 'cdr') {
      throw new BagFormatError(
        `Topic '${ch.topic}' (channel ${ch.id}) uses message encoding '${ch.messageEncoding}'; rosbag2 bags use 'cdr', the only one this reader decodes`,
        'bag_message_encoding',
      );
    }
    const schema = this.#contents.schemas.get(ch.schemaId) as Schema;
    return this.#decoders.decode<T>(schema, ch.topic, message.data, `topic '${ch.topic}' at log time ${message.logTimeNs} ns`);
  }

  /** `messages()` with each message decoded. */
  async *decodedMessages<T = unknown>(options: ReadMessagesOptions = {}): AsyncGenerator<DecodedBagMessage<T>, void, void> {
    for await (const m of this.messages(options)) yield { ...m, message: this.decode<T>(m) };
  }
}
