/**
 * Ingest benchmark (a script that prints numbers, not a test):
 *   node dist/scripts/benchIngest.js [--frames N] [--json]
 * Measures, on one thread, the cost per 640×480 frame of turning a camera message into a
 * 64×64 model frame (rgb8, bgr8 raw through each backend; JPEG), the keyframe gate, and the
 * ContextBuffer's add/evict and sampling cost at 1024 entries. Reports medians of per-frame times.
 */
import { cpus } from 'node:os';
import { ContextBuffer, SAMPLING_POLICIES } from '../src/core/context/ContextBuffer.js';
import { modelCameraFromFov } from '../src/core/context/cameraFit.js';
import { KeyframeGate } from '../src/core/context/keyframeGate.js';
import { secondsToNs } from '../src/core/tf/stamp.js';
import { FrameIngestor } from '../src/vision/FrameIngestor.js';
import type { ImageLike } from '../src/vision/imageFormat.js';
import { isOpenCvAvailable, loadOpenCv } from '../src/vision/opencv.js';

const W = 640;
const H = 480;

/** A camera-like 640×480 frame: smooth shading, edges (a block pattern) and sensor noise. */
function cameraFrame(encoding: 'rgb8' | 'bgr8', seed: number): ImageLike {
  const data = new Uint8Array(W * H * 3);
  let s = seed * 2654435761;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      s = (s * 1103515245 + 12345) >>> 0;
      const noise = ((s >>> 16) & 15) - 8;
      const block = ((x >> 5) + (y >> 5)) % 3 === 0 ? 60 : 0;
      const r = (x * 200) / W + block + noise;
      const g = (y * 200) / H + noise;
      const b = 100 + 80 * Math.sin(x / 23 + y / 31) + noise;
      const p = (y * W + x) * 3;
      const px = [r, g, b].map((v) => Math.max(0, Math.min(255, Math.round(v))));
      if (encoding === 'bgr8') px.reverse();
      data.set(px, p);
    }
  }
  return { width: W, height: H, encoding, is_bigendian: 0, step: W * 3, data };
}

function median(xs: number[]): number {
  const a = xs.slice().sort((p, q) => p - q);
  return a[a.length >> 1] as number;
}

/** Median ms per call of `fn` over `n` calls after `warm` warm-up calls. */
function time(n: number, fn: (i: number) => void, warm = Math.min(20, n)): number {
  for (let i = 0; i < warm; i++) fn(i);
  const t: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    fn(i);
    t.push(performance.now() - t0);
  }
  return median(t);
}

function main(argv: string[]): void {
  const nIdx = argv.indexOf('--frames');
  const n = nIdx >= 0 ? Number(argv[nIdx + 1]) : 300;
  const json = argv.includes('--json');
  const model = modelCameraFromFov(64, 64, Math.PI / 3, 0.5, 0);
  const results: Record<string, number | string> = {};
  const frames = { rgb8: [cameraFrame('rgb8', 1), cameraFrame('rgb8', 2)], bgr8: [cameraFrame('bgr8', 1), cameraFrame('bgr8', 2)] };
  const backends: ('js' | 'opencv')[] = isOpenCvAvailable() ? ['opencv', 'js'] : ['js'];
  for (const backend of backends) {
    const ing = new FrameIngestor({ model, rawBackend: backend });
    for (const enc of ['rgb8', 'bgr8'] as const) {
      const f = frames[enc];
      results[`raw_${enc}_${backend}_ms`] = time(n, (i) => ing.fitImage(f[i & 1] as ImageLike));
    }
  }
  if (isOpenCvAvailable()) {
    const cv = loadOpenCv();
    const ing = new FrameIngestor({ model });
    const jpegs = frames.bgr8.map((f) => new Uint8Array(cv.imencode('.jpg', new cv.Mat(H, W, cv.CV_8UC3, Buffer.from(f.data.buffer), f.step), [cv.IMWRITE_JPEG_QUALITY, 80])));
    results.jpeg_bytes = (jpegs[0] as Uint8Array).length;
    results.jpeg_ms = time(n, (i) => ing.fitCompressed({ format: 'rgb8; jpeg compressed bgr8', data: jpegs[i & 1] as Uint8Array }));
    results.jpeg_full_decode_ms = time(Math.min(n, 100), (i) => cv.imdecode(Buffer.from(jpegs[i & 1] as Uint8Array), cv.IMREAD_COLOR));
    results.jpeg_thumbnail_ms = time(n, (i) => ing.thumbnail({ format: 'jpeg', data: jpegs[i & 1] as Uint8Array }));
    results.opencv = `${cv.version.major}.${cv.version.minor}.${cv.version.revision}, 1 thread`;
  } else results.opencv = 'not available: JPEG not measured';
  const js = new FrameIngestor({ model, rawBackend: 'js' });
  results.raw_thumbnail_ms = time(n, (i) => js.thumbnail(frames.rgb8[i & 1] as ImageLike));
  // keyframe gate on a moving pose: the per-frame decision before any decoding
  const gate = new KeyframeGate();
  results.gate_decision_ms = time(n * 10, (i) => gate.consider({ stampNs: secondsToNs(i / 30), pose: { x: i * 0.001, y: 0, yaw: 0 } }));
  // buffer: add with eviction at capacity, then sampling K = 8
  const buf = new ContextBuffer({ width: 64, height: 64, maxFrames: 1024 });
  const pix = new Uint8Array(64 * 64 * 3);
  let idx = 0;
  const add = () => {
    const t = idx / 2;
    buf.add({ index: idx, stampNs: secondsToNs(t), pose: { x: Math.cos(t / 50) * 5, y: Math.sin(t / 50) * 5, yaw: t / 50 }, pixels: pix });
    idx++;
  };
  for (let i = 0; i < 1024; i++) add();
  results.buffer_add_evict_ms = time(n * 10, add);
  for (const p of SAMPLING_POLICIES) results[`sample_${p}_k8_ms`] = time(n, (i) => buf.sample(8, p, { seed: i }));
  results.buffer_frames = buf.size;
  results.buffer_bytes = buf.bytes;
  results.node = process.version;
  results.cpu = cpus()[0]?.model ?? 'unknown';
  results.frames_per_measure = n;
  if (json) {
    process.stdout.write(JSON.stringify(results, null, 2) + '\n');
    return;
  }
  for (const [k, v] of Object.entries(results)) process.stdout.write(`${k.padEnd(28)} ${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(4) : v}\n`);
}

main(process.argv.slice(2));
