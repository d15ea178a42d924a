/**
 * Test fixture: writes a small rosbag2-style MCAP (profile ros2, ros2msg schemas, cdr) with a
 * camera topic, camera_info, /tf and /tf_static, encoded with @foxglove/rosmsg2-serialization
 * from the ROS 2 message definitions below — the bytes a `ros2 bag record` of a camera would hold.
 * Also the camera bags the ingest tests (and docs/ingest.md's examples) use: a 4 s drive with a
 * 10 Hz camera, and the "mixed" bags whose broken frames sit among good ones of several encodings.
 */
import { writeFileSync } from 'node:fs';
import { McapWriter, type IWritable } from '@mcap/core';
import { parse } from '@foxglove/rosmsg';
import { MessageWriter } from '@foxglove/rosmsg2-serialization';
import { yawToQuaternion } from '../../src/core/geometry.js';
import { nsToTime, secondsToNs } from '../../src/core/tf/stamp.js';
import { makeImage, type TestEncoding } from '../vision/images.js';

const SEP = '\n' + '='.repeat(80) + '\n';
const TIME = 'MSG: builtin_interfaces/Time\nint32 sec\nuint32 nanosec';
const HEADER = 'MSG: std_msgs/Header\nbuiltin_interfaces/Time stamp\nstring frame_id';

export const SCHEMAS: Record<string, string> = {
  'sensor_msgs/msg/Image': ['std_msgs/Header header\nuint32 height\nuint32 width\nstring encoding\nuint8 is_bigendian\nuint32 step\nuint8[] data', HEADER, TIME].join(SEP),
  'sensor_msgs/msg/CompressedImage': ['std_msgs/Header header\nstring format\nuint8[] data', HEADER, TIME].join(SEP),
  'sensor_msgs/msg/CameraInfo': [
    'std_msgs/Header header\nuint32 height\nuint32 width\nstring distortion_model\nfloat64[] d\nfloat64[9] k\nfloat64[9] r\nfloat64[12] p\nuint32 binning_x\nuint32 binning_y\nsensor_msgs/RegionOfInterest roi',
    HEADER,
    TIME,
    'MSG: sensor_msgs/RegionOfInterest\nuint32 x_offset\nuint32 y_offset\nuint32 height\nuint32 width\nbool do_rectify',
  ].join(SEP),
  'tf2_msgs/msg/TFMessage': [
    'geometry_msgs/TransformStamped[] transforms',
    'MSG: geometry_msgs/TransformStamped\nstd_msgs/Header header\nstring child_frame_id\ngeometry_msgs/Transform transform',
    HEADER,
    TIME,
    'MSG: geometry_msgs/Transform\ngeometry_msgs/Vector3 translation\ngeometry_msgs/Quaternion rotation',
    'MSG: geometry_msgs/Vector3\nfloat64 x\nfloat64 y\nfloat64 z',
    'MSG: geometry_msgs/Quaternion\nfloat64 x 0\nfloat64 y 0\nfloat64 z 0\nfloat64 w 1',
  ].join(SEP),
};

class MemoryWritable implements IWritable {
  chunks: Uint8Array[] = [];
  #pos = 0n;
  position(): bigint {
    return this.#pos;
  }
  async write(buffer: Uint8Array): Promise<void> {
    this.chunks.push(buffer.slice());
    this.#pos += BigInt(buffer.byteLength);
  }
}

export interface BagEntry {
  topic: string;
  type: string;
  logTimeNs: bigint;
  message: unknown;
}

/** Writes `entries` (in order) to `path` as a chunked, indexed rosbag2 MCAP. */
export async function writeBag(path: string, entries: readonly BagEntry[]): Promise<void> {
  const out = new MemoryWritable();
  const w = new McapWriter({ writable: out, useChunks: true, chunkSize: 256 * 1024 });
  await w.start({ profile: 'ros2', library: 'test fixture' });
  const schemaIds = new Map<string, number>();
  const channels = new Map<string, { id: number; writer: MessageWriter; seq: number }>();
  for (const e of entries) {
    if (channels.has(e.topic)) continue;
    const text = SCHEMAS[e.type];
    if (text === undefined) throw new Error(`no schema for ${e.type}`);
    let sid = schemaIds.get(e.type);
    if (sid === undefined) {
      sid = await w.registerSchema({ name: e.type, encoding: 'ros2msg', data: new TextEncoder().encode(text) });
      schemaIds.set(e.type, sid);
    }
    const id = await w.registerChannel({ topic: e.topic, schemaId: sid, messageEncoding: 'cdr', metadata: new Map([['offered_qos_profiles', '']]) });
    channels.set(e.topic, { id, writer: new MessageWriter(parse(text, { ros2: true })), seq: 0 });
  }
  for (const e of entries) {
    const ch = channels.get(e.topic) as { id: number; writer: MessageWriter; seq: number };
    await w.addMessage({ channelId: ch.id, sequence: ch.seq++, logTime: e.logTimeNs, publishTime: e.logTimeNs, data: ch.writer.writeMessage(e.message) });
  }
  await w.end();
  const total = out.chunks.reduce((n, c) => n + c.byteLength, 0);
  const bytes = new Uint8Array(total);
  let o = 0;
  for (const c of out.chunks) {
    bytes.set(c, o);
    o += c.byteLength;
  }
  writeFileSync(path, bytes);
}

export const stampOf = (t: number) => nsToTime(secondsToNs(t));

/** The camera's topics in the bags below. */
export const RAW_TOPIC = '/camera/image_raw';
export const COMPRESSED_TOPIC = '/camera/image_raw/compressed';

/** One camera message for cameraBagEntries: its type and fields (the header is added). */
export interface CameraFrame {
  type: string;
  message: Record<string, unknown>;
}

/**
 * A 4 s drive at 0.6 m/s along odom x: /tf_static (base_link → camera_optical 0.5 m up),
 * /camera/camera_info (160×120, f 160 px), /tf at 50 Hz and the camera at 10 Hz (41 frames,
 * 0.06 m apart: with the default gate, 0.25 m, frames 0, 5, 10, … 40 are the keyframes).
 * `camera(i, t)` gives frame i (stamp t s).
 */
export function cameraBagEntries(camera: (i: number, t: number) => CameraFrame): BagEntry[] {
  const e: BagEntry[] = [];
  const tfStatic = {
    transforms: [{ header: { stamp: stampOf(0), frame_id: 'base_link' }, child_frame_id: 'camera_optical', transform: { translation: { x: 0.1, y: 0, z: 0.5 }, rotation: { x: 0, y: 0, z: 0, w: 1 } } }],
  };
  e.push({ topic: '/tf_static', type: 'tf2_msgs/msg/TFMessage', logTimeNs: 0n, message: tfStatic });
  const k = [160, 0, 79.5, 0, 160, 59.5, 0, 0, 1];
  const info = { header: { stamp: stampOf(0), frame_id: 'camera_optical' }, height: 120, width: 160, distortion_model: 'plumb_bob', d: [0, 0, 0, 0, 0], k, r: [1, 0, 0, 0, 1, 0, 0, 0, 1], p: [160, 0, 79.5, 0, 0, 160, 59.5, 0, 0, 0, 1, 0], binning_x: 0, binning_y: 0, roi: { x_offset: 0, y_offset: 0, height: 0, width: 0, do_rectify: false } };
  e.push({ topic: '/camera/camera_info', type: 'sensor_msgs/msg/CameraInfo', logTimeNs: 0n, message: info });
  for (let i = 0; i <= 200; i++) {
    const t = i / 50; // /tf at 50 Hz: driving 0.6 m/s along odom x (0.06 m between camera frames)
    e.push({
      topic: '/tf',
      type: 'tf2_msgs/msg/TFMessage',
      logTimeNs: secondsToNs(t),
      message: { transforms: [{ header: { stamp: stampOf(t), frame_id: 'odom' }, child_frame_id: 'base_link', transform: { translation: { x: 0.6 * t, y: 0, z: 0 }, rotation: yawToQuaternion(0) } }] },
    });
    if (i % 5 === 0) {
      const c = camera(i / 5, t); // camera at 10 Hz
      e.push({ topic: c.type.endsWith('CompressedImage') ? COMPRESSED_TOPIC : RAW_TOPIC, type: c.type, logTimeNs: secondsToNs(t) + 1000n, message: { header: { stamp: stampOf(t), frame_id: 'camera_optical' }, ...c.message } });
    }
  }
  return e;
}

const IMAGE = 'sensor_msgs/msg/Image';
const COMPRESSED = 'sensor_msgs/msg/CompressedImage';
const MIXED_ENCODINGS: readonly TestEncoding[] = ['rgb8', 'bgr8', 'rgba8', 'mono8', 'mono16'];

/** A good 160×120 raw frame for frame i: five encodings in turn, odd frames with 4 bytes of row padding. */
function goodRaw(i: number): Record<string, unknown> {
  const img = makeImage(MIXED_ENCODINGS[(i + Math.floor(i / 5)) % MIXED_ENCODINGS.length] as TestEncoding, 160, 120, { pad: i % 2 === 1 ? 4 : 0 });
  return { height: img.height, width: img.width, encoding: img.encoding, is_bigendian: img.is_bigendian, step: img.step, data: img.data };
}

/**
 * Broken raw frames of the mixed raw bag, by frame index, with the code each must be rejected
 * with. None is at a keyframe position (every 5th frame): the gate would skip them all.
 */
export const BROKEN_RAW: Readonly<Record<number, { code: string; message: () => Record<string, unknown> }>> = {
  1: { code: 'truncated', message: () => ({ ...goodRaw(1), data: (goodRaw(1).data as Uint8Array).subarray(0, 1000) }) },
  2: { code: 'step_too_small', message: () => ({ ...goodRaw(2), step: 100 }) },
  3: { code: 'unknown_encoding', message: () => ({ ...goodRaw(3), encoding: 'bayer_rggb8' }) },
  4: { code: 'zero_size', message: () => ({ height: 0, width: 0, encoding: 'rgb8', is_bigendian: 0, step: 0, data: new Uint8Array(0) }) },
  6: { code: 'too_large', message: () => ({ height: 100_000, width: 100_000, encoding: 'rgb8', is_bigendian: 0, step: 300_000, data: new Uint8Array(16) }) },
  7: { code: 'unsupported_encoding', message: () => ({ ...goodRaw(7), encoding: '16UC1' }) },
  8: { code: 'truncated', message: () => ({ ...goodRaw(8), data: new Uint8Array(0) }) },
  11: { code: 'step_too_small', message: () => ({ ...goodRaw(11), encoding: 'rgba8', step: 160 * 3 }) },
};

/** 41 raw frames: five encodings, padded rows, and BROKEN_RAW among them (see cameraBagEntries). */
export function mixedRawBagEntries(): BagEntry[] {
  return cameraBagEntries((i) => ({ type: IMAGE, message: BROKEN_RAW[i]?.message() ?? goodRaw(i) }));
}

/** First SOF header of a JPEG: its offset (the FF of FF Cx), or -1. */
function sofOffset(j: Uint8Array): number {
  let p = 2;
  while (p + 4 < j.length && j[p] === 0xff) {
    const m = j[p + 1] as number;
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) return p;
    p += 2 + (((j[p + 2] as number) << 8) | (j[p + 3] as number));
  }
  return -1;
}

/** The JPEG with the size in its SOF header replaced (the scan data is left as it is). */
export function jpegWithSize(jpeg: Uint8Array, width: number, height: number): Uint8Array {
  const out = jpeg.slice();
  const p = sofOffset(out);
  if (p < 0) throw new Error('no SOF header in the JPEG');
  out.set([height >> 8, height & 255, width >> 8, width & 255], p + 5);
  return out;
}

/**
 * Broken compressed frames of the mixed compressed bag, by frame index, with their codes (none at
 * a keyframe position). `jpeg` and `png` are good frames to break.
 */
export function brokenCompressed(jpeg: Uint8Array, png: Uint8Array): Record<number, { code: string; message: Record<string, unknown> }> {
  const garbage = Uint8Array.from({ length: 64 }, (_, i) => (i * 37) & 0x7f);
  const badCrc = png.slice();
  badCrc[17] = (badCrc[17] as number) ^ 0x01; // a width bit in IHDR: the header CRC no longer matches
  return {
    1: { code: 'corrupt_jpeg', message: { format: 'rgb8; jpeg compressed bgr8', data: garbage } },
    2: { code: 'corrupt_png', message: { format: 'png', data: garbage } },
    3: { code: 'unknown_encoding', message: { format: 'theora', data: jpeg } },
    4: { code: 'truncated', message: { format: 'jpeg', data: new Uint8Array(0) } },
    6: { code: 'truncated', message: { format: 'jpeg', data: jpeg.subarray(0, jpeg.length >> 1) } },
    7: { code: 'corrupt_png', message: { format: 'bgr8; png compressed bgr8', data: badCrc } },
    8: { code: 'unsupported_encoding', message: { format: '16UC1; compressedDepth png', data: png } },
    9: { code: 'too_large', message: { format: 'jpeg', data: jpegWithSize(jpeg, 65000, 65000) } },
    11: { code: 'unknown_encoding', message: { format: '', data: garbage } },
  };
}

/** 41 compressed frames, JPEG and PNG in turn, and brokenCompressed(jpeg, png) among them. */
export function mixedCompressedBagEntries(jpeg: Uint8Array, png: Uint8Array): BagEntry[] {
  const broken = brokenCompressed(jpeg, png);
  return cameraBagEntries((i) => ({
    type: COMPRESSED,
    message: broken[i]?.message ?? (i % 2 === 0 ? { format: 'rgb8; jpeg compressed bgr8', data: jpeg } : { format: 'bgr8; png compressed bgr8', data: png }),
  }));
}

/** The codes of broken frames, counted: what `ingest --bag` must report as rejected_by_reason. */
export function countCodes(broken: Readonly<Record<number, { code: string }>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const { code } of Object.values(broken)) out[code] = (out[code] ?? 0) + 1;
  return out;
}
