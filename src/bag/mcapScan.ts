/**
 * Linear scan of an MCAP file through an `IReadable` (no file system here), record by record,
 * with the byte offset of every top-level record. Used when a file has no usable summary
 * (an unfinished or unindexed recording, or one whose index is damaged) and to name the exact
 * place where a file is broken: bad magic, a record cut off at offset N, trailing bytes after
 * the closing magic, an unsupported chunk compression.
 *
 * Parsing of record contents is @mcap/core's `McapStreamReader`; this module frames the
 * records itself (opcode + u64 length) so every error quotes an offset.
 */
import { McapStreamReader, type DecompressHandlers, type IReadable, type TypedMcapRecord } from '@mcap/core';
import { BagFormatError } from '../core/errors.js';
import { supportedCompressions } from './codecs.js';

/** The 8 bytes every MCAP file starts and ends with: `\x89MCAP0\r\n`. */
export const MCAP_MAGIC: readonly number[] = [0x89, 0x4d, 0x43, 0x41, 0x50, 0x30, 0x0d, 0x0a];
/** Opcode (1 byte) + content length (u64 little endian). */
export const RECORD_HEADER_BYTES = 9;
/** Chunks that declare a larger uncompressed size are refused (WebAssembly memory is 32-bit). */
export const MAX_CHUNK_UNCOMPRESSED_BYTES = 1n << 30n;

const OPCODE_NAMES: Record<number, string> = {
  1: 'Header',
  2: 'Footer',
  3: 'Schema',
  4: 'Channel',
  5: 'Message',
  6: 'Chunk',
  7: 'MessageIndex',
  8: 'ChunkIndex',
  9: 'Attachment',
  10: 'AttachmentIndex',
  11: 'Statistics',
  12: 'Metadata',
  13: 'MetadataIndex',
  14: 'SummaryOffset',
  15: 'DataEnd',
};
const OPCODE_FOOTER = 2;
const OPCODE_CHUNK = 6;

/** `Chunk (0x06)` style name of an opcode, for error messages. */
export function opcodeName(opcode: number): string {
  return `${OPCODE_NAMES[opcode] ?? 'unknown record'} (0x${opcode.toString(16).padStart(2, '0')})`;
}

/** Bytes as lower-case hex pairs separated by spaces: `89 4d 43 …`. */
export function hexBytes(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

const MAGIC_HEX = hexBytes(Uint8Array.from(MCAP_MAGIC));

/**
 * Checks the opening (offset 0) or closing (offset size−8) magic.
 * @throws BagFormatError quoting the expected and the found bytes and the offset.
 */
export async function checkMagic(readable: IReadable, size: bigint, which: 'opening' | 'closing'): Promise<void> {
  const len = BigInt(MCAP_MAGIC.length);
  if (size < len) {
    throw new BagFormatError(
      `Truncated MCAP file: it is ${size} bytes, shorter than the ${len}-byte MCAP magic (file ends at offset ${size})`,
      'bag_truncated',
    );
  }
  const offset = which === 'opening' ? 0n : size - len;
  const found = await readable.read(offset, len);
  if (!MCAP_MAGIC.every((b, i) => found[i] === b)) {
    throw new BagFormatError(
      `Expected MCAP magic ${MAGIC_HEX} at offset ${offset} (${which} magic), found ${hexBytes(found)}`,
      'bag_bad_magic',
    );
  }
}

/** True when the last 8 bytes are the MCAP magic (the file was closed by its writer). */
export async function hasClosingMagic(readable: IReadable, size: bigint): Promise<boolean> {
  const len = BigInt(MCAP_MAGIC.length);
  if (size < 2n * len) return false;
  const found = await readable.read(size - len, len);
  return MCAP_MAGIC.every((b, i) => found[i] === b);
}

/** One record found by the scan; `offset` is where its top-level record (or its chunk) starts. */
export interface ScannedRecord {
  /** Byte offset of the top-level record, or of the enclosing Chunk record. */
  offset: bigint;
  /** True when the record came out of a chunk. */
  inChunk: boolean;
  record: TypedMcapRecord;
}

function u64(bytes: Uint8Array, at: number): bigint {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(at, true);
}

/** Reads a chunk's compression name and uncompressed size before the whole chunk is loaded. */
async function checkChunkHeader(readable: IReadable, offset: bigint, contentLength: bigint, handlers: DecompressHandlers): Promise<void> {
  const fixed = 8n + 8n + 8n + 4n + 4n; // start, end, uncompressed size, crc, compression length
  if (contentLength < fixed) {
    throw new BagFormatError(
      `Chunk record at offset ${offset} is ${contentLength} bytes long, shorter than its ${fixed}-byte fixed fields`,
      'bag_corrupt',
    );
  }
  const head = await readable.read(offset + BigInt(RECORD_HEADER_BYTES), fixed);
  const uncompressedSize = u64(head, 16);
  const nameLength = BigInt(new DataView(head.buffer, head.byteOffset, head.byteLength).getUint32(28, true));
  if (nameLength > contentLength - fixed) {
    throw new BagFormatError(
      `Chunk record at offset ${offset}: compression name length ${nameLength} exceeds the record (${contentLength} bytes)`,
      'bag_corrupt',
    );
  }
  const compression = new TextDecoder().decode(await readable.read(offset + BigInt(RECORD_HEADER_BYTES) + fixed, nameLength));
  if (compression !== '' && handlers[compression] === undefined) {
    throw new BagFormatError(
      `Unsupported chunk compression '${compression}' in the chunk at offset ${offset} (this reader handles: ${supportedCompressions(handlers)
        .map((c) => `'${c}'`)
        .join(', ')})`,
      'bag_unsupported_compression',
    );
  }
  if (uncompressedSize > MAX_CHUNK_UNCOMPRESSED_BYTES) {
    throw new BagFormatError(
      `Chunk at offset ${offset} declares ${uncompressedSize} uncompressed bytes, more than the ${MAX_CHUNK_UNCOMPRESSED_BYTES} this reader accepts`,
      'bag_corrupt',
    );
  }
}

/**
 * Yields every record of an MCAP file in file order (each Chunk record, then its contents), checking the
 * framing as it goes (the Footer record itself is not yielded). Ends normally only after the
 * Footer and the closing magic, with nothing after them.
 * @throws BagFormatError for bad magic, truncation (quoting the offset), trailing bytes,
 *   unsupported compression, or a record @mcap/core cannot parse (quoting its offset and opcode).
 */
export async function* scanMcap(readable: IReadable, handlers: DecompressHandlers): AsyncGenerator<ScannedRecord, void, void> {
  const size = await readable.size();
  await checkMagic(readable, size, 'opening');
  const stream = new McapStreamReader({ decompressHandlers: handlers, validateCrcs: true, noMagicPrefix: true, includeChunks: true });
  let offset = BigInt(MCAP_MAGIC.length);
  let last = 'the opening magic at offset 0';
  for (;;) {
    const remaining = size - offset;
    if (remaining === 0n) {
      throw new BagFormatError(
        `Truncated MCAP file: it ends at offset ${size} after ${last}, without a Footer record and closing magic ` +
          `(the recording was probably not closed)`,
        'bag_truncated',
      );
    }
    if (remaining < BigInt(RECORD_HEADER_BYTES)) {
      throw new BagFormatError(
        `Truncated MCAP file at offset ${offset}: ${remaining} byte(s) left after ${last}, a record header needs ${RECORD_HEADER_BYTES}`,
        'bag_truncated',
      );
    }
    const header = await readable.read(offset, BigInt(RECORD_HEADER_BYTES));
    const opcode = header[0] as number;
    const contentLength = u64(header, 1);
    if (contentLength > remaining - BigInt(RECORD_HEADER_BYTES)) {
      throw new BagFormatError(
        `Truncated MCAP file at offset ${offset}: ${opcodeName(opcode)} record declares ${contentLength} content bytes ` +
          `but only ${remaining - BigInt(RECORD_HEADER_BYTES)} remain before the end of the file (size ${size})`,
        'bag_truncated',
      );
    }
    if (opcode === OPCODE_CHUNK) await checkChunkHeader(readable, offset, contentLength, handlers);
    const recordLength = BigInt(RECORD_HEADER_BYTES) + contentLength;
    const recordStart = offset;
    try {
      stream.append(await readable.read(offset, recordLength));
      for (let rec = stream.nextRecord(); rec !== undefined; rec = stream.nextRecord()) {
        yield { offset: recordStart, inChunk: opcode === OPCODE_CHUNK, record: rec };
      }
    } catch (e) {
      throw new BagFormatError(
        `Cannot parse the ${opcodeName(opcode)} record at offset ${recordStart}: ${(e as Error).message}`,
        'bag_corrupt',
      );
    }
    offset += recordLength;
    last = `the ${opcodeName(opcode)} record at offset ${recordStart}`;
    if (opcode !== OPCODE_FOOTER) continue;

    // After the Footer: exactly the closing magic, nothing else.
    const after = size - offset;
    const magicLength = BigInt(MCAP_MAGIC.length);
    if (after < magicLength) {
      throw new BagFormatError(
        `Truncated MCAP file at offset ${offset}: ${after} byte(s) after the Footer, the closing magic needs ${magicLength}`,
        'bag_truncated',
      );
    }
    const magic = await readable.read(offset, magicLength);
    if (!MCAP_MAGIC.every((b, i) => magic[i] === b)) {
      throw new BagFormatError(
        `Expected MCAP magic ${MAGIC_HEX} at offset ${offset} (closing magic after the Footer), found ${hexBytes(magic)}`,
        'bag_bad_magic',
      );
    }
    if (after > magicLength) {
      throw new BagFormatError(
        `Trailing garbage: ${after - magicLength} byte(s) after the closing MCAP magic at offset ${offset} (file size ${size})`,
        'bag_trailing_data',
      );
    }
    // The Footer itself was parsed above; the stream reader is not fed the closing magic since
    // nothing after the Footer is needed.
    return;
  }
}
