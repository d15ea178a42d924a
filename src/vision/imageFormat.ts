/**
 * Validation and layout of camera messages, before any pixel is converted: sensor_msgs/Image
 * (encoding, step padding, endianness) and sensor_msgs/CompressedImage (format string, JPEG/PNG
 * headers, dimensions read from the header without decoding). Every rejection is a
 * BadFrameError whose `code` names the reason and whose message quotes the values and the topic.
 * No OpenCV here.
 */
import { crc32 } from 'node:zlib';
import { BadFrameError } from '../core/errors.js';

/** Structural sensor_msgs/Image (the fields read here). */
export interface ImageLike {
  header?: { frame_id?: string };
  height: number;
  width: number;
  encoding: string;
  /** uint8 in the message definition; 0 = little endian. Some bindings give a boolean. */
  is_bigendian: number | boolean;
  /** Bytes per row, including any padding. */
  step: number;
  data: Uint8Array;
}

/** Structural sensor_msgs/CompressedImage. */
export interface CompressedImageLike {
  header?: { frame_id?: string };
  /** e.g. "jpeg", "png", "rgb8; jpeg compressed bgr8", "bgr8; png compressed bgr8". */
  format: string;
  data: Uint8Array;
}

/** Largest accepted side of a camera frame (px). */
export const MAX_FRAME_SIDE = 16384;
/** Largest accepted frame area (px): 64 Mpx. */
export const MAX_FRAME_PIXELS = 64 * 1024 * 1024;

/** How to read pixels of a raw Image. */
export interface RawLayout {
  width: number;
  height: number;
  /** bytes per row */
  step: number;
  /** bytes per pixel */
  bytesPerPixel: number;
  /** '8bit': one byte per channel at the offsets below; 'mono16': one 16-bit grey sample. */
  kind: '8bit' | 'mono16';
  /** byte offsets of R, G, B inside a pixel (all 0 for mono8) */
  r: number;
  g: number;
  b: number;
  bigEndian: boolean;
  encoding: string;
  data: Uint8Array;
}

/** How one raw encoding lays out a pixel. */
export interface EncodingInfo {
  bytesPerPixel: number;
  kind: '8bit' | 'mono16';
  r: number;
  g: number;
  b: number;
}

/**
 * Supported raw encodings. mono16 is converted to 8 bits by scaling the full 16-bit range
 * (v·255/65535), honouring is_bigendian.
 */
export const RAW_ENCODINGS: Readonly<Record<string, EncodingInfo>> = Object.freeze({
  rgb8: { bytesPerPixel: 3, kind: '8bit', r: 0, g: 1, b: 2 },
  bgr8: { bytesPerPixel: 3, kind: '8bit', r: 2, g: 1, b: 0 },
  rgba8: { bytesPerPixel: 4, kind: '8bit', r: 0, g: 1, b: 2 },
  bgra8: { bytesPerPixel: 4, kind: '8bit', r: 2, g: 1, b: 0 },
  mono8: { bytesPerPixel: 1, kind: '8bit', r: 0, g: 0, b: 0 },
  '8UC1': { bytesPerPixel: 1, kind: '8bit', r: 0, g: 0, b: 0 },
  mono16: { bytesPerPixel: 2, kind: 'mono16', r: 0, g: 0, b: 0 },
});

/**
 * Encodings we recognise but refuse, with the reason (code 'unsupported_encoding'). 16UC1 and
 * 32FC1 are depth images by convention (millimetres / metres), not views the model understands.
 */
const REFUSED_ENCODINGS: Readonly<Record<string, string>> = Object.freeze({
  '16UC1': 'a depth image (mm) by ROS convention; subscribe to the colour stream',
  '32FC1': 'a depth image (m) by ROS convention; subscribe to the colour stream',
  '8UC3': 'its channel order is unknown; publish rgb8 or bgr8',
  '8UC4': 'its channel order is unknown; publish rgba8 or bgra8',
  yuv422: 'YUV is not converted; use image_proc or the compressed stream',
  'yuv422_yuy2': 'YUV is not converted; use image_proc or the compressed stream',
  uyvy: 'YUV is not converted; use image_proc or the compressed stream',
  yuyv: 'YUV is not converted; use image_proc or the compressed stream',
  nv21: 'YUV is not converted; use image_proc or the compressed stream',
  rgb16: '16-bit colour is not converted; publish rgb8',
  bgr16: '16-bit colour is not converted; publish bgr8',
  rgba16: '16-bit colour is not converted; publish rgba8',
  bgra16: '16-bit colour is not converted; publish bgra8',
});

function tag(topic: string): string {
  return `[topic=${topic}]`;
}

/** Checks width/height; throws 'bad_dimensions', 'zero_size' or 'too_large'. */
export function checkDimensions(width: number, height: number, what: string, topic: string): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) {
    throw new BadFrameError(`${what}: dimensions ${width}x${height} are not non-negative integers ${tag(topic)}`, 'bad_dimensions');
  }
  if (width === 0 || height === 0) throw new BadFrameError(`${what}: size ${width}x${height} is empty ${tag(topic)}`, 'zero_size');
  if (width > MAX_FRAME_SIDE || height > MAX_FRAME_SIDE || width * height > MAX_FRAME_PIXELS) {
    throw new BadFrameError(
      `${what}: size ${width}x${height} exceeds the limit (sides ≤ ${MAX_FRAME_SIDE}, area ≤ ${MAX_FRAME_PIXELS} px) ${tag(topic)}`,
      'too_large',
    );
  }
}

/** Own keys only: a frame whose encoding is 'constructor' or '__proto__' must not find Object's. */
function lookup<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return typeof key === 'string' && Object.prototype.hasOwnProperty.call(table, key) ? table[key] : undefined;
}

/** Length of a message's data field; 0 when it has none (a message missing its bytes). */
function dataLength(data: unknown): number {
  const n = (data as { length?: unknown } | null | undefined)?.length;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : 0;
}

/** Bytes per pixel as the step message words it: '3 ch' for 8-bit, '1 ch × 2 B' for mono16. */
function pixelWords(info: EncodingInfo): string {
  return info.kind === 'mono16' ? '1 ch × 2 B' : `${info.bytesPerPixel} ch`;
}

/**
 * The cheap checks of a raw Image, on its header fields and the length of its data only (no
 * pixel is read, nothing is copied): size sane, encoding known and supported, step ≥ width ×
 * bytes per pixel, data long enough for `height` rows of `step`. Runs on every camera frame
 * before the keyframe gate. Returns the encoding's layout. Throws BadFrameError with code
 * 'bad_dimensions' | 'zero_size' | 'too_large' | 'unknown_encoding' | 'unsupported_encoding' |
 * 'step_too_small' | 'truncated'. Data may end right after the last row's pixels (the last
 * row's padding may be missing).
 */
export function checkRawImage(msg: ImageLike, topic = '?'): EncodingInfo {
  const { width, height, encoding, step } = msg;
  checkDimensions(width, height, `image ${width}x${height} ${encoding}`, topic);
  const info = lookup(RAW_ENCODINGS, encoding);
  if (info === undefined) {
    const refused = lookup(REFUSED_ENCODINGS, encoding);
    if (refused !== undefined) throw new BadFrameError(`encoding '${encoding}' is not supported: ${refused} ${tag(topic)}`, 'unsupported_encoding');
    throw new BadFrameError(`unknown encoding '${encoding}' (supported: ${Object.keys(RAW_ENCODINGS).join(', ')}) ${tag(topic)}`, 'unknown_encoding');
  }
  const rowBytes = width * info.bytesPerPixel;
  if (!Number.isInteger(step) || step < rowBytes) {
    throw new BadFrameError(`expected step >= ${rowBytes} (${width} px × ${pixelWords(info)}, ${encoding}), found ${step} ${tag(topic)}`, 'step_too_small');
  }
  const needed = (height - 1) * step + rowBytes;
  const length = dataLength(msg.data);
  if (length < needed) {
    throw new BadFrameError(
      `expected data >= ${needed} bytes (${height} rows of step ${step}, the last without padding; ${width}x${height} ${encoding}), found ${length} ${tag(topic)}`,
      'truncated',
    );
  }
  return info;
}

/**
 * Validates a raw Image (checkRawImage: same codes) and returns how to read it.
 */
export function rawLayout(msg: ImageLike, topic = '?'): RawLayout {
  const info = checkRawImage(msg, topic);
  const { width, height, encoding, step } = msg;
  return {
    width,
    height,
    step,
    bytesPerPixel: info.bytesPerPixel,
    kind: info.kind,
    r: info.r,
    g: info.g,
    b: info.b,
    bigEndian: msg.is_bigendian === true || (typeof msg.is_bigendian === 'number' && msg.is_bigendian !== 0),
    encoding,
    data: asBytes(msg.data),
  };
}

/** Message bytes as a Uint8Array (bindings without typed-array support deliver number[]; copied then). */
export function asBytes(data: Uint8Array | ArrayLike<number>): Uint8Array {
  return data instanceof Uint8Array ? data : Uint8Array.from(data);
}

export type Codec = 'jpeg' | 'png';

/** What the compressed header says, read without decoding. */
export interface CompressedProbe {
  codec: Codec;
  width: number;
  height: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function hex(bytes: Uint8Array, n: number): string {
  return [...bytes.subarray(0, n)].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(' ') || '(none)';
}

/** The codec named by a CompressedImage.format string, or undefined when it names none. */
export function codecFromFormat(format: string, topic = '?'): Codec | undefined {
  const f = format.toLowerCase();
  if (f.includes('compresseddepth')) {
    throw new BadFrameError(`format '${format}' is a compressed depth image, not a colour view ${tag(topic)}`, 'unsupported_encoding');
  }
  if (f.includes('jpeg') || f.includes('jpg')) return 'jpeg';
  if (f.includes('png')) return 'png';
  if (f.trim() === '') return undefined;
  throw new BadFrameError(`unknown compressed format '${format}' (supported: jpeg, png) ${tag(topic)}`, 'unknown_encoding');
}

/**
 * Reads codec and size from a CompressedImage without decoding it: the compressed frame's cheap
 * checks, run on every camera frame before the keyframe gate (the format string, the magic
 * bytes, the JPEG markers up to the start-of-frame header or the PNG IHDR and its CRC, the end
 * marker in the last bytes). The codec comes from the data's magic bytes (the format string
 * only has to name jpeg or png, or be empty). Throws
 * BadFrameError 'unknown_encoding' | 'unsupported_encoding' | 'truncated' | 'corrupt_jpeg' |
 * 'corrupt_png' | 'zero_size' | 'too_large'.
 */
export function probeCompressed(msg: CompressedImageLike, topic = '?'): CompressedProbe {
  const declared = codecFromFormat(typeof msg.format === 'string' ? msg.format : '', topic);
  const d = dataLength(msg.data) === 0 ? new Uint8Array(0) : asBytes(msg.data);
  const what = `compressed image (format '${msg.format}', ${d.length} bytes)`;
  if (d.length < 4) throw new BadFrameError(`${what}: too short to hold an image ${tag(topic)}`, 'truncated');
  let probe: CompressedProbe;
  if (d[0] === 0xff && d[1] === 0xd8) probe = probeJpeg(d, what, topic);
  else if (PNG_SIGNATURE.every((b, i) => i >= d.length || d[i] === b)) probe = probePng(d, what, topic);
  else {
    const code = declared === 'png' ? 'corrupt_png' : 'corrupt_jpeg';
    throw new BadFrameError(
      `${what}: starts with ${hex(d, 4)}, neither a JPEG (FF D8) nor a PNG (89 50 4E 47) signature ${tag(topic)}`,
      declared === undefined ? 'unknown_encoding' : code,
    );
  }
  checkDimensions(probe.width, probe.height, `${what} ${probe.codec} header`, topic);
  return probe;
}

/** Start-of-frame markers that carry the image size (SOF0–SOF15 except DHT C4, JPG C8, DAC CC). */
function isSofMarker(m: number): boolean {
  return m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;
}

/** Bytes at the end of a JPEG that may follow EOI (some encoders pad). */
const JPEG_EOI_SEARCH_BYTES = 64;

function probeJpeg(d: Uint8Array, what: string, topic: string): CompressedProbe {
  let p = 2;
  let width = -1;
  let height = -1;
  while (p < d.length) {
    if (d[p] !== 0xff) {
      throw new BadFrameError(`${what}: expected a JPEG marker (FF xx) at byte ${p}, found ${hex(d.subarray(p), 2)} ${tag(topic)}`, 'corrupt_jpeg');
    }
    while (p < d.length && d[p] === 0xff) p++; // fill bytes
    const m = d[p];
    p++;
    if (m === undefined) break;
    if (m === 0xd8 || m === 0x01 || (m >= 0xd0 && m <= 0xd7)) continue; // stand-alone markers
    if (m === 0xd9 || m === 0xda) {
      throw new BadFrameError(`${what}: reached marker FF ${m.toString(16).toUpperCase()} before any start-of-frame header ${tag(topic)}`, 'corrupt_jpeg');
    }
    if (p + 2 > d.length) break;
    const len = ((d[p] as number) << 8) | (d[p + 1] as number);
    if (len < 2) throw new BadFrameError(`${what}: segment FF ${m.toString(16).toUpperCase()} has length ${len} at byte ${p} ${tag(topic)}`, 'corrupt_jpeg');
    if (isSofMarker(m)) {
      if (p + 7 > d.length) break;
      height = ((d[p + 3] as number) << 8) | (d[p + 4] as number);
      width = ((d[p + 5] as number) << 8) | (d[p + 6] as number);
      break;
    }
    p += len;
  }
  if (width < 0) throw new BadFrameError(`${what}: data ends at byte ${d.length} before the JPEG start-of-frame header ${tag(topic)}`, 'truncated');
  let eoi = false;
  for (let i = d.length - 2; i >= Math.max(0, d.length - JPEG_EOI_SEARCH_BYTES); i--) {
    if (d[i] === 0xff && d[i + 1] === 0xd9) {
      eoi = true;
      break;
    }
  }
  if (!eoi) throw new BadFrameError(`${what}: no JPEG end-of-image marker (FF D9) in the last bytes; the frame was cut ${tag(topic)}`, 'truncated');
  return { codec: 'jpeg', width, height };
}

function probePng(d: Uint8Array, what: string, topic: string): CompressedProbe {
  if (d.length < 33) throw new BadFrameError(`${what}: too short for a PNG header (33 bytes) ${tag(topic)}`, 'truncated');
  const chunk = String.fromCharCode(d[12] as number, d[13] as number, d[14] as number, d[15] as number);
  if (chunk !== 'IHDR') throw new BadFrameError(`${what}: first PNG chunk is '${chunk}', expected 'IHDR' ${tag(topic)}`, 'corrupt_png');
  const u32 = (o: number) => (((d[o] as number) << 24) | ((d[o + 1] as number) << 16) | ((d[o + 2] as number) << 8) | (d[o + 3] as number)) >>> 0;
  // the IHDR CRC (over type + 13 data bytes) catches a corrupt header before the decoder sees it
  const crc = crc32(d.subarray(12, 29));
  if (crc !== u32(29)) {
    throw new BadFrameError(`${what}: PNG IHDR CRC is ${u32(29).toString(16).padStart(8, '0')}, the header's bytes give ${crc.toString(16).padStart(8, '0')}; the header is corrupt ${tag(topic)}`, 'corrupt_png');
  }
  const width = u32(16);
  const height = u32(20);
  const n = d.length;
  const iend = n >= 12 && d[n - 8] === 0x49 && d[n - 7] === 0x45 && d[n - 6] === 0x4e && d[n - 5] === 0x44;
  if (!iend) throw new BadFrameError(`${what}: no PNG IEND chunk at the end; the frame was cut ${tag(topic)}`, 'truncated');
  return { codec: 'png', width, height };
}
