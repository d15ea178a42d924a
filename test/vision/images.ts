/**
 * Synthetic camera messages for the vision tests: a smooth colour pattern in any supported
 * encoding, with optional row padding and 16-bit endianness.
 */
import type { ImageLike } from '../../src/vision/imageFormat.js';

/** The reference colour of pixel (x, y) in a w×h frame. */
export function patternRgb(x: number, y: number, w: number, h: number): [number, number, number] {
  return [Math.round((255 * x) / Math.max(1, w - 1)), Math.round((255 * y) / Math.max(1, h - 1)), Math.round(128 + 100 * Math.sin(x / 9) * Math.cos(y / 7))];
}

/** Grey used for mono encodings: (77 R + 150 G + 29 B) / 256, as 8 bits. */
export function patternGrey(x: number, y: number, w: number, h: number): number {
  const [r, g, b] = patternRgb(x, y, w, h);
  return (r * 77 + g * 150 + b * 29) >> 8;
}

export const ENCODINGS = ['rgb8', 'bgr8', 'rgba8', 'bgra8', 'mono8', '8UC1', 'mono16'] as const;
export type TestEncoding = (typeof ENCODINGS)[number];

const BPP: Record<TestEncoding, number> = { rgb8: 3, bgr8: 3, rgba8: 4, bgra8: 4, mono8: 1, '8UC1': 1, mono16: 2 };

/** A sensor_msgs/Image of the pattern; `pad` garbage bytes (0xEE) after every row. */
export function makeImage(encoding: TestEncoding, w: number, h: number, opts: { pad?: number; bigEndian?: boolean } = {}): ImageLike {
  const bpp = BPP[encoding];
  const step = w * bpp + (opts.pad ?? 0);
  const data = new Uint8Array(step * h).fill(0xee);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = y * step + x * bpp;
      const [r, g, b] = patternRgb(x, y, w, h);
      const grey = patternGrey(x, y, w, h);
      switch (encoding) {
        case 'rgb8':
          data.set([r, g, b], p);
          break;
        case 'bgr8':
          data.set([b, g, r], p);
          break;
        case 'rgba8':
          data.set([r, g, b, 255], p);
          break;
        case 'bgra8':
          data.set([b, g, r, 255], p);
          break;
        case 'mono8':
        case '8UC1':
          data[p] = grey;
          break;
        case 'mono16': {
          // 16-bit value whose high and low bytes differ and that scales (·255/65535) back to `grey`
          const v = grey * 256 + 128;
          if (opts.bigEndian) data.set([v >> 8, v & 255], p);
          else data.set([v & 255, v >> 8], p);
          break;
        }
      }
    }
  }
  return { header: { frame_id: 'camera_optical' }, width: w, height: h, encoding, is_bigendian: opts.bigEndian ? 1 : 0, step, data };
}

/** The pattern as packed RGB (what a decoder should produce for colour encodings). */
export function patternImage(w: number, h: number, mono = false): Uint8Array {
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = mono ? [patternGrey(x, y, w, h), patternGrey(x, y, w, h), patternGrey(x, y, w, h)] : patternRgb(x, y, w, h);
      out.set(v, (y * w + x) * 3);
    }
  }
  return out;
}

export function maxAbsDiff(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

export function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs((a[i] as number) - (b[i] as number));
  return s / a.length;
}

/**
 * Skips the calling test (or suite, from a before hook) with a clear message when the OpenCV
 * addon is not built; CI has it.
 */
export function skipWithoutOpenCv(ctx: Mocha.Context, available: boolean): void {
  if (available) return;
  console.warn('    (skipped: @u4/opencv4nodejs is not built here — run `npm rebuild @u4/opencv4nodejs` against libopencv-dev)');
  ctx.skip();
}
