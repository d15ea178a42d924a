/**
 * Builds small MCAP files with @mcap/core's own writer, with knobs to produce the unusual or
 * broken files a reader must cope with (no index, no chunks, foreign encodings, unknown schema
 * ids, unknown compression, messages out of order).
 */
import { McapRecordBuilder, McapWriter, type McapWriterOptions } from '@mcap/core';
import { parse } from '@foxglove/rosmsg';
import { MessageWriter } from '@foxglove/rosmsg2-serialization';
import { MemoryWritable } from './helpers.js';

export const STRING_SCHEMA = 'string data\n';
const stringWriter = new MessageWriter(parse(STRING_SCHEMA, { ros2: true }));

/** CDR (with encapsulation header) of a std_msgs/String. */
export function cdrString(data: string): Uint8Array {
  return stringWriter.writeMessage({ data });
}

export interface CraftOptions {
  writer?: Partial<Omit<McapWriterOptions, 'writable'>>;
  profile?: string;
  schemaName?: string;
  schemaEncoding?: string;
  schemaText?: string;
  messageEncoding?: string;
  /** Channel's schema id instead of the registered one. */
  channelSchemaId?: number;
  topic?: string;
  /** Log times (ns) of the messages, in file order; payload i is `msg i`. */
  times?: bigint[];
  /** Payload override per message. */
  payload?: (i: number) => Uint8Array;
  metadata?: { name: string; metadata: Map<string, string> }[];
}

/** An MCAP file with one std_msgs/String topic (unless told otherwise). */
export async function craftBag(o: CraftOptions = {}): Promise<Uint8Array> {
  const out = new MemoryWritable();
  const w = new McapWriter({ writable: out, ...o.writer });
  await w.start({ profile: o.profile ?? 'ros2', library: 'craft' });
  const schemaId = await w.registerSchema({
    name: o.schemaName ?? 'std_msgs/msg/String',
    encoding: o.schemaEncoding ?? 'ros2msg',
    data: new TextEncoder().encode(o.schemaText ?? STRING_SCHEMA),
  });
  const channelId = await w.registerChannel({
    topic: o.topic ?? '/chatter',
    schemaId: o.channelSchemaId ?? schemaId,
    messageEncoding: o.messageEncoding ?? 'cdr',
    metadata: new Map(),
  });
  const times = o.times ?? [10n, 20n, 30n];
  for (const [i, t] of times.entries()) {
    await w.addMessage({ channelId, sequence: i, logTime: t, publishTime: t, data: o.payload ? o.payload(i) : cdrString(`msg ${i}`) });
  }
  for (const m of o.metadata ?? []) await w.addMetadata(m);
  await w.end();
  return out.bytes();
}

/** Writer options for a file without any summary index (like an unindexed recording). */
export const NO_INDEX: Partial<McapWriterOptions> = {
  useStatistics: false,
  useSummaryOffsets: false,
  useChunkIndex: false,
  useMessageIndex: false,
  useAttachmentIndex: false,
  useMetadataIndex: false,
  repeatSchemas: false,
  repeatChannels: false,
};

/** Magic + header + the given raw bytes (a file that breaks right after its header). */
export function headerThen(raw: number[]): Uint8Array {
  const b = new McapRecordBuilder();
  b.writeMagic();
  b.writeHeader({ profile: 'ros2', library: 'craft' });
  const out = new Uint8Array(b.length + raw.length);
  out.set(b.buffer, 0);
  out.set(raw, b.length);
  return out;
}

/** Little-endian u64 bytes. */
export function u64le(v: bigint): number[] {
  const d = new DataView(new ArrayBuffer(8));
  d.setBigUint64(0, v, true);
  return [...new Uint8Array(d.buffer)];
}

/** Little-endian u32 bytes. */
export function u32le(v: number): number[] {
  const d = new DataView(new ArrayBuffer(4));
  d.setUint32(0, v, true);
  return [...new Uint8Array(d.buffer)];
}
