/**
 * Pure-JS crop + resize straight from a raw camera buffer to a small packed RGB frame, without
 * an intermediate full-size copy: each source row of the crop is read once, in its own encoding
 * (channel order, padding, 16-bit endianness). Downscaling is area averaging (the weights of
 * OpenCV's INTER_AREA: each output pixel averages the source area it covers, partial pixels by
 * their overlap); upscaling along an axis is bilinear. No OpenCV here.
 */
import type { PixelRect } from '../core/context/cameraFit.js';
import type { Thumbnail } from '../core/context/keyframeGate.js';
import type { RawLayout } from './imageFormat.js';

/** Per-axis resampling taps in CSR form: output o reads src[idx[k]]·w[k] for k in start[o]…start[o+1]. */
interface Taps {
  start: Int32Array;
  idx: Int32Array;
  w: Float32Array;
}

const tapCache = new Map<string, Taps>();
const TAP_CACHE_LIMIT = 64;

/** Taps mapping `srcN` source samples onto `outN` outputs (area when shrinking, bilinear when growing). */
export function axisTaps(srcN: number, outN: number): Taps {
  const key = `${srcN}:${outN}`;
  const hit = tapCache.get(key);
  if (hit !== undefined) return hit;
  const start = new Int32Array(outN + 1);
  const idx: number[] = [];
  const w: number[] = [];
  const s = srcN / outN;
  for (let o = 0; o < outN; o++) {
    start[o] = idx.length;
    if (s >= 1) {
      const a = o * s;
      const b = (o + 1) * s;
      for (let i = Math.floor(a); i < Math.min(srcN, Math.ceil(b)); i++) {
        const ov = Math.min(b, i + 1) - Math.max(a, i);
        if (ov > 1e-9) {
          idx.push(i);
          w.push(ov / s);
        }
      }
    } else {
      const c = Math.min(Math.max((o + 0.5) * s - 0.5, 0), srcN - 1);
      const i0 = Math.floor(c);
      const f = c - i0;
      idx.push(i0);
      w.push(1 - f);
      if (f > 1e-9 && i0 + 1 < srcN) {
        idx.push(i0 + 1);
        w.push(f);
      }
    }
  }
  start[outN] = idx.length;
  const taps: Taps = { start, idx: Int32Array.from(idx), w: Float32Array.from(w) };
  if (tapCache.size >= TAP_CACHE_LIMIT) tapCache.clear();
  tapCache.set(key, taps);
  return taps;
}

/** For each source row, the output rows it feeds and with what weight (CSR, inverse of axisTaps). */
function invertTaps(t: Taps, srcN: number): Taps {
  const count = new Int32Array(srcN + 1);
  for (let k = 0; k < t.idx.length; k++) count[(t.idx[k] as number) + 1]!++;
  for (let i = 0; i < srcN; i++) count[i + 1]! += count[i] as number;
  const start = count.slice();
  const fill = count.slice(0, srcN);
  const idx = new Int32Array(t.idx.length);
  const w = new Float32Array(t.idx.length);
  for (let o = 0; o + 1 < t.start.length; o++) {
    for (let k = t.start[o] as number; k < (t.start[o + 1] as number); k++) {
      const src = t.idx[k] as number;
      const at = fill[src]!++;
      idx[at] = o;
      w[at] = t.w[k] as number;
    }
  }
  return { start, idx, w };
}

/**
 * Crops `crop` out of a raw frame and resizes it to outWidth × outHeight packed RGB
 * (Uint8Array of outHeight·outWidth·3). The layout must come from `rawLayout` (validated).
 */
export function resampleRawToRgb(src: RawLayout, crop: PixelRect, outWidth: number, outHeight: number): Uint8Array {
  const tx = axisTaps(crop.width, outWidth);
  const ty = invertTaps(axisTaps(crop.height, outHeight), crop.height);
  const mono = src.kind === 'mono16' || (src.r === src.g && src.g === src.b);
  const nc = mono ? 1 : 3;
  const acc = new Float32Array(outWidth * outHeight * nc);
  const row = new Float32Array(outWidth * nc);
  const d = src.data;
  const bpp = src.bytesPerPixel;
  // tap offsets in bytes, relative to the crop's first pixel in a row
  const tapByte = new Int32Array(tx.idx.length);
  for (let k = 0; k < tx.idx.length; k++) tapByte[k] = (tx.idx[k] as number) * bpp;
  const ro = src.r;
  const go = src.g;
  const bo = src.b;
  const big = src.bigEndian;
  for (let y = 0; y < crop.height; y++) {
    const base = (crop.y + y) * src.step + crop.x * bpp;
    // horizontal pass over one source row
    if (src.kind === 'mono16') {
      const hi = big ? 0 : 1;
      const lo = big ? 1 : 0;
      for (let o = 0; o < outWidth; o++) {
        let a = 0;
        const end = tx.start[o + 1] as number;
        for (let k = tx.start[o] as number; k < end; k++) {
          const p = base + (tapByte[k] as number);
          a += (((d[p + hi] as number) << 8) | (d[p + lo] as number)) * (tx.w[k] as number);
        }
        row[o] = a;
      }
    } else if (mono) {
      for (let o = 0; o < outWidth; o++) {
        let a = 0;
        const end = tx.start[o + 1] as number;
        for (let k = tx.start[o] as number; k < end; k++) a += (d[base + (tapByte[k] as number)] as number) * (tx.w[k] as number);
        row[o] = a;
      }
    } else {
      for (let o = 0; o < outWidth; o++) {
        let ar = 0;
        let ag = 0;
        let ab = 0;
        const end = tx.start[o + 1] as number;
        for (let k = tx.start[o] as number; k < end; k++) {
          const p = base + (tapByte[k] as number);
          const wk = tx.w[k] as number;
          ar += (d[p + ro] as number) * wk;
          ag += (d[p + go] as number) * wk;
          ab += (d[p + bo] as number) * wk;
        }
        const q = o * 3;
        row[q] = ar;
        row[q + 1] = ag;
        row[q + 2] = ab;
      }
    }
    // vertical: add this row into the output rows it covers
    const end = ty.start[y + 1] as number;
    for (let k = ty.start[y] as number; k < end; k++) {
      const wy = ty.w[k] as number;
      const off = (ty.idx[k] as number) * outWidth * nc;
      for (let i = 0; i < row.length; i++) acc[off + i]! += (row[i] as number) * wy;
    }
  }
  const out = new Uint8Array(outWidth * outHeight * 3);
  const scale = src.kind === 'mono16' ? 255 / 65535 : 1;
  if (nc === 3) {
    for (let i = 0; i < acc.length; i++) out[i] = clampByte((acc[i] as number) * scale);
  } else {
    for (let i = 0; i < acc.length; i++) {
      const v = clampByte((acc[i] as number) * scale);
      out[3 * i] = v;
      out[3 * i + 1] = v;
      out[3 * i + 2] = v;
    }
  }
  return out;
}

function clampByte(v: number): number {
  const r = Math.round(v);
  return r < 0 ? 0 : r > 255 ? 255 : r;
}

/** Samples per cell axis for thumbnails (2 → 4 samples per thumbnail pixel). */
const THUMB_SAMPLES = 2;

/**
 * A side×side grey thumbnail of the crop by sparse point sampling (THUMB_SAMPLES² samples per
 * cell): a few thousand byte reads, whatever the frame size. Grey = (77 R + 150 G + 29 B) / 256.
 */
export function rawThumbnail(src: RawLayout, crop: PixelRect, side: number): Thumbnail {
  const out = new Uint8Array(side * side);
  const d = src.data;
  const bpp = src.bytesPerPixel;
  const n = THUMB_SAMPLES;
  for (let ty = 0; ty < side; ty++) {
    for (let tx = 0; tx < side; tx++) {
      let sum = 0;
      for (let sy = 0; sy < n; sy++) {
        const y = crop.y + Math.min(crop.height - 1, Math.floor(((ty * n + sy + 0.5) * crop.height) / (side * n)));
        for (let sx = 0; sx < n; sx++) {
          const x = crop.x + Math.min(crop.width - 1, Math.floor(((tx * n + sx + 0.5) * crop.width) / (side * n)));
          const p = y * src.step + x * bpp;
          if (src.kind === 'mono16') {
            const v = src.bigEndian ? ((d[p] as number) << 8) | (d[p + 1] as number) : ((d[p + 1] as number) << 8) | (d[p] as number);
            sum += v >> 8;
          } else {
            sum += ((d[p + src.r] as number) * 77 + (d[p + src.g] as number) * 150 + (d[p + src.b] as number) * 29) >> 8;
          }
        }
      }
      out[ty * side + tx] = Math.round(sum / (n * n));
    }
  }
  return { side, data: out };
}

/** Grey thumbnail of a packed RGB image (e.g. a model frame) by area averaging. */
export function rgbThumbnail(rgb: Uint8Array, width: number, height: number, side: number): Thumbnail {
  const layout: RawLayout = { width, height, step: width * 3, bytesPerPixel: 3, kind: '8bit', r: 0, g: 1, b: 2, bigEndian: false, encoding: 'rgb8', data: rgb };
  const small = resampleRawToRgb(layout, { x: 0, y: 0, width, height }, side, side);
  const out = new Uint8Array(side * side);
  for (let i = 0; i < out.length; i++) out[i] = ((small[3 * i] as number) * 77 + (small[3 * i + 1] as number) * 150 + (small[3 * i + 2] as number) * 29) >> 8;
  return { side, data: out };
}
