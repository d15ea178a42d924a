/**
 * Bag benchmark (a script that prints numbers, not a test):
 *   node dist/scripts/benchBag.js [--frames N]
 * Writes N camera-like 640×480 rgb8 sensor_msgs/Image messages (smooth shading + sensor noise)
 * into an in-memory bag with zstd level 1 and without compression, then reads and decodes them
 * back with the embedded schema. Prints sizes and frames per second, one thread.
 */
import { performance } from 'node:perf_hooks';
import { BagReader } from '../src/bag/BagReader.js';
import { BagWriter } from '../src/bag/BagWriter.js';
import { encodeMessage, TYPES, type Image } from '../src/ros/messages/index.js';
import { MemoryReadable, MemoryWritable } from '../test/bag/helpers.js';

const W = 640;
const H = 480;

function frame(i: number): Image {
  const data = new Uint8Array(W * H * 3);
  let s = (i + 1) * 2654435761;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      s = (s * 1103515245 + 12345) >>> 0;
      const noise = ((s >>> 16) & 15) - 8;
      const o = (y * W + x) * 3;
      data[o] = Math.max(0, Math.min(255, (x * 200) / W + i + noise));
      data[o + 1] = Math.max(0, Math.min(255, (y * 200) / H + noise));
      data[o + 2] = Math.max(0, Math.min(255, 128 + noise));
    }
  }
  const t = 1_700_000_000n * 1_000_000_000n + BigInt(i) * 33_333_333n;
  return {
    header: { stamp: { sec: Number(t / 1_000_000_000n), nanosec: Number(t % 1_000_000_000n) }, frame_id: 'camera_optical' },
    height: H,
    width: W,
    encoding: 'rgb8',
    is_bigendian: 0,
    step: W * 3,
    data,
  };
}

async function main(): Promise<void> {
  const i = process.argv.indexOf('--frames');
  const n = i >= 0 ? Number(process.argv[i + 1]) : 100;
  if (!Number.isInteger(n) || n < 1) throw new Error(`--frames must be a positive integer, got '${process.argv[i + 1]}'`);
  const frames = Array.from({ length: n }, (_, k) => encodeMessage(TYPES.Image, frame(k)));
  const rawMb = frames.reduce((a, f) => a + f.byteLength, 0) / 1e6;
  for (const compression of ['zstd', 'none'] as const) {
    const out = new MemoryWritable();
    const t0 = performance.now();
    const w = await BagWriter.create({ writable: out, relativeFilePath: 'bench_0.mcap', compression });
    await w.addTopic('/camera/image_raw', TYPES.Image);
    for (let k = 0; k < n; k++) await w.write('/camera/image_raw', frames[k] as Uint8Array, BigInt(k) * 33_333_333n);
    await w.close();
    const t1 = performance.now();
    const r = await BagReader.open(new MemoryReadable(out.bytes()));
    let read = 0;
    for await (const m of r.messages()) {
      r.decode(m);
      read++;
    }
    const t2 = performance.now();
    console.log(
      `${compression.padEnd(4)}: ${n} frames ${W}x${H} rgb8, ${rawMb.toFixed(1)} MB of CDR -> bag ${(out.bytes().byteLength / 1e6).toFixed(1)} MB; ` +
        `write ${(n / ((t1 - t0) / 1000)).toFixed(0)} frames/s, read+decode ${(read / ((t2 - t1) / 1000)).toFixed(0)} frames/s`,
    );
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
