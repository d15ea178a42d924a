/**
 * Test fixture: writes a small rosbag2-style MCAP (profile ros2, ros2msg schemas, cdr) with a
 * camera topic, camera_info, /tf and /tf_static, encoded with @foxglove/rosmsg2-serialization
 * from the ROS 2 message definitions below — the bytes a `ros2 bag record` of a camera would hold.
 */
import { writeFileSync } from 'node:fs';
import { McapWriter, type IWritable } from '@mcap/core';
import { parse } from '@foxglove/rosmsg';
import { MessageWriter } from '@foxglove/rosmsg2-serialization';

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
