/**
 * Writes rosbag2-compatible MCAP through an `IWritable` (no file system here; files.ts writes
 * files and metadata.yaml):
 * - header profile `ros2`; one schema per type, encoding `ros2msg`, text = the type's .msg with
 *   its dependencies (`schemaText` from src/ros/messages, or given per topic);
 * - one channel per topic, message encoding `cdr`, metadata `offered_qos_profiles` (rosbag2's
 *   YAML); `topic_type_hash` is not written (we cannot compute RIHS01 hashes here);
 * - chunked (default 1 MiB), zstd-compressed by default, with message/chunk indexes and
 *   statistics, so readers can seek;
 * - on close, the `rosbag2` metadata record with `serialized_metadata` (metadata version 8).
 *
 * Calls may overlap (a recorder's callbacks): they are queued and run in order.
 */
import { LIBRARY_IDENTIFIER, McapWriter, type IWritable } from '@mcap/core';
import { BagFormatError } from '../core/errors.js';
import { loadBagCodecs } from './codecs.js';
import { ROS2_PROFILE, ROSBAG2_METADATA_NAME } from './BagReader.js';
import { offeredProfile, serializeOfferedQos, type OfferedQosProfile } from './qos.js';
import { ROSBAG2_METADATA_VERSION, serializeBagMetadata, type Rosbag2Metadata } from './rosbag2Metadata.js';

export const BAG_WRITER_LIBRARY = `video4spatial_nav bag writer (${LIBRARY_IDENTIFIER})`;
/** Default chunk size before compression, bytes (rosbag2's MCAP default is of the same order). */
export const DEFAULT_CHUNK_SIZE_BYTES = 1024 * 1024;
/** zstd level 1 = fastest, like rosbag2's `zstd_fast` preset. */
export const DEFAULT_ZSTD_LEVEL = 1;
const U64_LIMIT = 1n << 64n;

type MessageRegistry = typeof import('../ros/messages/index.js');
type RegistryDistro = import('../ros/messages/index.js').RosDistro;
let registry: Promise<MessageRegistry> | undefined;
/**
 * The message registry (src/ros/messages), loaded only when a schema or an encoding is needed
 * from it: copying foreign bags (schema text and bytes given) never loads it.
 */
function loadRegistry(): Promise<MessageRegistry> {
  registry ??= import('../ros/messages/index.js');
  return registry;
}

export interface BagWriterOptions {
  writable: IWritable;
  /** The bag file's name as recorded in the rosbag2 metadata (`relative_file_paths`, `files[].path`). */
  relativeFilePath: string;
  /** Chunk compression; default `zstd`. */
  compression?: 'zstd' | 'none';
  /** zstd level 1…19; default 1. */
  zstdLevel?: number;
  /** Uncompressed bytes per chunk; default 1 MiB. */
  chunkSizeBytes?: number;
  /** Written into the metadata as `ros_distro`; default ''. */
  rosDistro?: string;
}

export interface AddTopicOptions {
  /** Offered QoS profiles to record; default one reliable, volatile profile (history unknown). */
  qos?: readonly OfferedQosProfile[];
  /** ros2msg schema text; default `schemaText(type)` from src/ros/messages. */
  schemaText?: string;
}

/** Wraps an error that fails one call without poisoning the writer. */
class Rejected {
  constructor(readonly error: unknown) {}
}

interface TopicState {
  type: string;
  channelId: number;
  qosText: string;
  count: number;
  sequence: number;
}

export class BagWriter {
  readonly #mcap: McapWriter;
  readonly #relativeFilePath: string;
  readonly #compression: string;
  readonly #rosDistro: string;
  readonly #schemaIds = new Map<string, number>();
  readonly #topics = new Map<string, TopicState>();
  #tail: Promise<unknown> = Promise.resolve();
  #failure: Error | undefined;
  #closed = false;
  #startNs: bigint | undefined;
  #endNs: bigint | undefined;
  #messageCount = 0;

  private constructor(mcap: McapWriter, options: BagWriterOptions, compression: string) {
    this.#mcap = mcap;
    this.#relativeFilePath = options.relativeFilePath;
    this.#compression = compression;
    this.#rosDistro = options.rosDistro ?? '';
  }

  /** Starts a bag (writes the magic and the header). */
  static async create(options: BagWriterOptions): Promise<BagWriter> {
    const compression = options.compression ?? 'zstd';
    const level = options.zstdLevel ?? DEFAULT_ZSTD_LEVEL;
    if (!Number.isInteger(level) || level < 1 || level > 19) {
      throw new BagFormatError(`zstdLevel must be an integer 1…19, got ${level}`, 'bag_writer_option');
    }
    const chunkSize = options.chunkSizeBytes ?? DEFAULT_CHUNK_SIZE_BYTES;
    if (!Number.isInteger(chunkSize) || chunkSize < 1) {
      throw new BagFormatError(`chunkSizeBytes must be a positive integer, got ${chunkSize}`, 'bag_writer_option');
    }
    let compressChunk: ((data: Uint8Array) => { compression: string; compressedData: Uint8Array }) | undefined;
    if (compression === 'zstd') {
      const codecs = await loadBagCodecs();
      compressChunk = (data) => {
        const compressed = codecs.zstdCompress(data, level);
        // Like the C++ writer: keep the chunk uncompressed when zstd does not make it smaller.
        return compressed.byteLength < data.byteLength ? { compression: 'zstd', compressedData: compressed } : { compression: '', compressedData: data };
      };
    } else if (compression !== 'none') {
      throw new BagFormatError(`compression must be 'zstd' or 'none', got '${String(compression)}'`, 'bag_writer_option');
    }
    const mcap = new McapWriter({
      writable: options.writable,
      useChunks: true,
      chunkSize,
      ...(compressChunk ? { compressChunk } : {}),
    });
    await mcap.start({ profile: ROS2_PROFILE, library: BAG_WRITER_LIBRARY });
    return new BagWriter(mcap, options, compression === 'zstd' ? 'zstd' : '');
  }

  /**
   * Runs `op` after every earlier call. An error thrown by `op` poisons the writer (the file may
   * be inconsistent), except a `Rejected` one: that call fails alone and nothing was written.
   */
  #enqueue<T>(op: () => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      if (this.#failure) throw this.#failure;
      try {
        return await op();
      } catch (e) {
        if (e instanceof Rejected) throw e.error;
        this.#failure ??= e as Error;
        throw e;
      }
    };
    const p = this.#tail.then(run, run);
    this.#tail = p.catch(() => undefined);
    return p;
  }

  #closedError(what: string): BagFormatError | undefined {
    return this.#closed ? new BagFormatError(`Cannot ${what}: the bag '${this.#relativeFilePath}' is already closed`, 'bag_closed') : undefined;
  }

  #unknownTopicError(topic: string): BagFormatError {
    return new BagFormatError(
      `Topic '${topic}' was not added to the bag (added: ${[...this.#topics.keys()].join(', ') || 'none'}); call addTopic first`,
      'bag_unknown_topic',
    );
  }

  /** Topics added so far: name → type. */
  get topics(): ReadonlyMap<string, string> {
    return new Map([...this.#topics].map(([k, v]) => [k, v.type]));
  }

  /**
   * Declares a topic (schema + channel). Adding the same topic again with the same type is a
   * no-op; with another type it throws.
   */
  addTopic(topic: string, type: string, options: AddTopicOptions = {}): Promise<void> {
    const closed = this.#closedError(`add topic '${topic}'`);
    if (closed) return Promise.reject(closed);
    const existing = this.#topics.get(topic);
    if (existing) {
      if (existing.type === type) return Promise.resolve();
      return Promise.reject(
        new BagFormatError(`Topic '${topic}' is already in the bag with type ${existing.type}; cannot add it again as ${type}`, 'bag_topic_type'),
      );
    }
    const qosText = serializeOfferedQos(options.qos ?? [offeredProfile('reliable', 'volatile')]);
    // Reserve the name synchronously so concurrent calls see it.
    const state: TopicState = { type, channelId: -1, qosText, count: 0, sequence: 0 };
    this.#topics.set(topic, state);
    return this.#enqueue(async () => {
      let schemaId = this.#schemaIds.get(type);
      if (schemaId === undefined) {
        let text = options.schemaText;
        if (text === undefined) {
          try {
            const { reg, distro } = await this.#registry();
            text = reg.schemaText(type, distro);
          } catch (e) {
            this.#topics.delete(topic); // e.g. a type the registry does not know: the bag goes on without it
            throw new Rejected(e);
          }
        }
        schemaId = await this.#mcap.registerSchema({ name: type, encoding: 'ros2msg', data: new TextEncoder().encode(text) });
        this.#schemaIds.set(type, schemaId);
      }
      state.channelId = await this.#mcap.registerChannel({
        topic,
        schemaId,
        messageEncoding: 'cdr',
        metadata: new Map([['offered_qos_profiles', qosText]]),
      });
    });
  }

  /** Checks a write before it is queued; undefined when it may go ahead. */
  #checkWrite(topic: string, logTimeNs: bigint, publishTimeNs: bigint): Error | undefined {
    const closed = this.#closedError(`write to '${topic}'`);
    if (closed) return closed;
    if (!this.#topics.has(topic)) return this.#unknownTopicError(topic);
    for (const [name, t] of [
      ['logTimeNs', logTimeNs],
      ['publishTimeNs', publishTimeNs],
    ] as const) {
      if (typeof t !== 'bigint' || t < 0n || t >= U64_LIMIT) {
        return new BagFormatError(`${name} for '${topic}' must be a bigint in [0, 2^64) ns, got ${String(t)}`, 'bag_bad_time');
      }
    }
    return undefined;
  }

  #checkCdr(topic: string, data: Uint8Array): Error | undefined {
    if (data.byteLength >= 4 && data[0] === 0) return undefined;
    return new BagFormatError(
      `Data for '${topic}' (${data.byteLength} bytes) is not CDR with an encapsulation header (first bytes must be 00 0x …)`,
      'bag_not_cdr',
    );
  }

  /** The registry and the distro to take definitions from: `rosDistro` when it knows it, else its default. */
  async #registry(): Promise<{ reg: MessageRegistry; distro: RegistryDistro | undefined }> {
    const reg = await loadRegistry();
    const known = (reg.ROS_DISTROS as readonly string[]).includes(this.#rosDistro);
    return { reg, distro: known ? (this.#rosDistro as RegistryDistro) : undefined };
  }

  /** Queues one message; `bytes` runs in the queue (so encoding keeps call order). */
  #enqueueMessage(topic: string, bytes: () => Promise<Uint8Array> | Uint8Array, logTimeNs: bigint, publishTimeNs: bigint): Promise<void> {
    const state = this.#topics.get(topic) as TopicState;
    return this.#enqueue(async () => {
      if (this.#topics.get(topic) !== state) throw new Rejected(new BagFormatError(`Topic '${topic}' could not be added to the bag; message dropped`, 'bag_unknown_topic'));
      let data: Uint8Array;
      try {
        data = await bytes();
      } catch (e) {
        throw new Rejected(e); // e.g. a misspelt field: this message fails, the bag goes on
      }
      await this.#mcap.addMessage({ channelId: state.channelId, sequence: state.sequence++, logTime: logTimeNs, publishTime: publishTimeNs, data });
      state.count++;
      this.#messageCount++;
      if (this.#startNs === undefined || logTimeNs < this.#startNs) this.#startNs = logTimeNs;
      if (this.#endNs === undefined || logTimeNs > this.#endNs) this.#endNs = logTimeNs;
    });
  }

  /**
   * Writes one serialised message.
   * @param data CDR bytes including the 4-byte encapsulation header.
   * @param logTimeNs receive time, ns since epoch (MCAP logTime).
   * @param publishTimeNs send time, ns since epoch; default = logTimeNs.
   */
  write(topic: string, data: Uint8Array, logTimeNs: bigint, publishTimeNs: bigint = logTimeNs): Promise<void> {
    const bad = this.#checkWrite(topic, logTimeNs, publishTimeNs) ?? this.#checkCdr(topic, data);
    if (bad) return Promise.reject(bad);
    return this.#enqueueMessage(topic, () => data, logTimeNs, publishTimeNs);
  }

  /**
   * Serialises `message` with the topic's type (`encodeMessage` from src/ros/messages, loaded
   * on first use) and writes it.
   */
  writeMessage(topic: string, message: unknown, logTimeNs: bigint, publishTimeNs: bigint = logTimeNs): Promise<void> {
    const bad = this.#checkWrite(topic, logTimeNs, publishTimeNs);
    if (bad) return Promise.reject(bad);
    const type = (this.#topics.get(topic) as TopicState).type;
    return this.#enqueueMessage(topic, async () => {
        const { reg, distro } = await this.#registry();
        return reg.encodeMessage(type, message, distro);
      }, logTimeNs, publishTimeNs);
  }

  /** The rosbag2 metadata of what was written so far. */
  metadata(): Rosbag2Metadata {
    const start = this.#startNs ?? 0n;
    const duration = this.#endNs === undefined ? 0n : this.#endNs - start;
    return {
      version: ROSBAG2_METADATA_VERSION,
      storageIdentifier: 'mcap',
      durationNs: duration,
      startingTimeNs: start,
      messageCount: this.#messageCount,
      topics: [...this.#topics].map(([name, t]) => ({
        name,
        type: t.type,
        serializationFormat: 'cdr',
        offeredQosProfiles: t.qosText,
        typeDescriptionHash: '',
        messageCount: t.count,
      })),
      // rosbag2's own compression fields describe per-file/per-message compression; MCAP chunk
      // compression is internal to the storage plugin and left empty, as rosbag2 does.
      compressionFormat: '',
      compressionMode: '',
      relativeFilePaths: [this.#relativeFilePath],
      files: [{ path: this.#relativeFilePath, startingTimeNs: start, durationNs: duration, messageCount: this.#messageCount }],
      customData: {},
      rosDistro: this.#rosDistro,
    };
  }

  /** Chunk compression in use: 'zstd' or '' (none). */
  get compression(): string {
    return this.#compression;
  }

  /**
   * Writes the `rosbag2` metadata record, the summary and the closing magic. Resolves to the
   * metadata (for metadata.yaml). Rejects with the first write error if any write failed.
   */
  close(): Promise<Rosbag2Metadata> {
    const closed = this.#closedError('close');
    if (closed) return Promise.reject(closed);
    this.#closed = true;
    return this.#enqueue(async () => {
      const meta = this.metadata();
      await this.#mcap.addMetadata({ name: ROSBAG2_METADATA_NAME, metadata: new Map([['serialized_metadata', serializeBagMetadata(meta)]]) });
      await this.#mcap.end();
      return meta;
    });
  }
}
