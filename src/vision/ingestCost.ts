/**
 * Cost of turning one 640×480 camera message into a 64×64 model frame, measured on this machine
 * (used by `video4spatial-nav bench` and scripts/benchIngest.ts). One thread (OpenCV runs with one,
 * see opencv.ts); medians of per-frame wall times in ms, alternating two different frames so no
 * cache of the previous result helps.
 */
import { medianMs } from '../core/context/contextCost.js';
import type { ModelCamera } from '../core/context/cameraFit.js';
import { modelCameraFromFov } from '../core/context/cameraFit.js';
import { FrameIngestor } from './FrameIngestor.js';
import type { ImageLike } from './imageFormat.js';
import { isOpenCvAvailable, loadOpenCv } from './opencv.js';

export const INGEST_BENCH_WIDTH = 640;
export const INGEST_BENCH_HEIGHT = 480;

/**
 * A camera-like W×H rgb8/bgr8 frame (default 640×480): smooth shading, edges (a 32 px block
 * pattern) and ±8 levels of seeded sensor noise, so the resampler and JPEG see realistic content.
 */
export function syntheticCameraFrame(encoding: 'rgb8' | 'bgr8', seed: number, W = INGEST_BENCH_WIDTH, H = INGEST_BENCH_HEIGHT): ImageLike {
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

export interface IngestCost {
  /** Raw frame → model frame, ms, by encoding and backend ('opencv' only when the addon loads). */
  raw: { rgb8: { js: number; opencv?: number }; bgr8: { js: number; opencv?: number } };
  /** The backend the node uses by default ('auto'): opencv when the addon loads, else js. */
  defaultBackend: 'js' | 'opencv';
  /** JPEG (quality 80) → model frame, through the reduced-scale decode; undefined without OpenCV. */
  jpeg: { bytes: number; ms: number; fullDecodeMs: number; thumbnailMs: number } | undefined;
  /** 16×16 grey thumbnail of a raw frame (the optional view-change test), ms. */
  rawThumbnailMs: number;
  /** e.g. "4.6.0, 1 thread", or why OpenCV is not available. */
  opencv: string;
  /** Timed frames per measurement. */
  frames: number;
}

/**
 * Measures ingest per 640×480 frame for rgb8 and bgr8 (each backend) and JPEG q80.
 * @param frames timed frames per measurement (positive integer).
 * @param model the model camera to fit to (default: 64×64, 60° FOV, 0.5 m high, level).
 */
export function measureIngestCost(frames: number, model: ModelCamera = modelCameraFromFov(64, 64, Math.PI / 3, 0.5, 0)): IngestCost {
  const n = frames;
  const W = INGEST_BENCH_WIDTH;
  const H = INGEST_BENCH_HEIGHT;
  const imgs = { rgb8: [syntheticCameraFrame('rgb8', 1), syntheticCameraFrame('rgb8', 2)], bgr8: [syntheticCameraFrame('bgr8', 1), syntheticCameraFrame('bgr8', 2)] };
  const haveCv = isOpenCvAvailable();
  const raw: IngestCost['raw'] = { rgb8: { js: 0 }, bgr8: { js: 0 } };
  for (const backend of haveCv ? (['opencv', 'js'] as const) : (['js'] as const)) {
    const ing = new FrameIngestor({ model, rawBackend: backend });
    for (const enc of ['rgb8', 'bgr8'] as const) {
      const f = imgs[enc];
      raw[enc][backend] = medianMs(n, (i) => void ing.fitImage(f[i & 1] as ImageLike));
    }
  }
  let jpeg: IngestCost['jpeg'];
  let opencv: string;
  if (haveCv) {
    const cv = loadOpenCv();
    const ing = new FrameIngestor({ model });
    const jpegs = imgs.bgr8.map((f) => new Uint8Array(cv.imencode('.jpg', new cv.Mat(H, W, cv.CV_8UC3, Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength), f.step), [cv.IMWRITE_JPEG_QUALITY, 80])));
    jpeg = {
      bytes: (jpegs[0] as Uint8Array).length,
      ms: medianMs(n, (i) => void ing.fitCompressed({ format: 'rgb8; jpeg compressed bgr8', data: jpegs[i & 1] as Uint8Array })),
      fullDecodeMs: medianMs(Math.min(n, 100), (i) => void cv.imdecode(Buffer.from(jpegs[i & 1] as Uint8Array), cv.IMREAD_COLOR)),
      thumbnailMs: medianMs(n, (i) => void ing.thumbnail({ format: 'jpeg', data: jpegs[i & 1] as Uint8Array })),
    };
    opencv = `${cv.version.major}.${cv.version.minor}.${cv.version.revision}, 1 thread`;
  } else opencv = 'not available: JPEG not measured';
  const js = new FrameIngestor({ model, rawBackend: 'js' });
  const rawThumbnailMs = medianMs(n, (i) => void js.thumbnail(imgs.rgb8[i & 1] as ImageLike));
  return { raw, defaultBackend: haveCv ? 'opencv' : 'js', jpeg, rawThumbnailMs, opencv, frames: n };
}
