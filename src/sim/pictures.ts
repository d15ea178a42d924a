/**
 * Image files for people: PNG (pngjs) and animated GIF (gifenc) from rgb8 buffers, and
 * simple raster drawing helpers (lines, discs, upscaling, tiling, borders, stacking, text bands)
 * used by the map and the demo's pictures.
 */
import { PNG } from 'pngjs';
import gifenc from 'gifenc';
import { drawText, textHeight, textWidth } from './font.js';

/** An rgb8 raster, row-major H×W×3. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

export function newImage(width: number, height: number, fill: readonly [number, number, number] = [255, 255, 255]): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) data.set(fill, p * 3);
  return { width, height, data };
}

/** Encodes an rgb8 image as PNG bytes. */
export function encodePng(img: RgbImage): Buffer {
  const png = new PNG({ width: img.width, height: img.height, colorType: 2, inputColorType: 2, inputHasAlpha: false });
  png.data = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  return PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false });
}

/** Encodes frames (same size) as an animated GIF; `delayMs` per frame. */
export function encodeGif(frames: readonly RgbImage[], delayMs = 300): Uint8Array {
  const first = frames[0];
  if (!first) throw new RangeError('encodeGif needs at least one frame');
  const enc = gifenc.GIFEncoder();
  for (const f of frames) {
    if (f.width !== first.width || f.height !== first.height) {
      throw new RangeError(`GIF frames must share one size: ${first.width}x${first.height} vs ${f.width}x${f.height}`);
    }
    const rgba = new Uint8Array(f.width * f.height * 4);
    for (let p = 0; p < f.width * f.height; p++) {
      rgba[p * 4] = f.data[p * 3] as number;
      rgba[p * 4 + 1] = f.data[p * 3 + 1] as number;
      rgba[p * 4 + 2] = f.data[p * 3 + 2] as number;
      rgba[p * 4 + 3] = 255;
    }
    const palette = gifenc.quantize(rgba, 256);
    const index = gifenc.applyPalette(rgba, palette);
    enc.writeFrame(index, f.width, f.height, { palette, delay: delayMs });
  }
  enc.finish();
  return enc.bytes();
}

/** Nearest-neighbour upscale by an integer factor. */
export function upscale(img: RgbImage, k: number): RgbImage {
  const out = newImage(img.width * k, img.height * k);
  for (let v = 0; v < out.height; v++) {
    for (let u = 0; u < out.width; u++) {
      const s = (((v / k) | 0) * img.width + ((u / k) | 0)) * 3;
      const d = (v * out.width + u) * 3;
      out.data[d] = img.data[s] as number;
      out.data[d + 1] = img.data[s + 1] as number;
      out.data[d + 2] = img.data[s + 2] as number;
    }
  }
  return out;
}

/** Places images side by side in a grid with `cols` columns and a `gap`-pixel white border. */
export function tile(images: readonly RgbImage[], cols: number, gap = 2): RgbImage {
  const first = images[0];
  if (!first) throw new RangeError('tile needs at least one image');
  const rows = Math.ceil(images.length / cols);
  const W = cols * first.width + (cols + 1) * gap;
  const H = rows * first.height + (rows + 1) * gap;
  const out = newImage(W, H);
  images.forEach((im, n) => {
    const ox = gap + (n % cols) * (first.width + gap);
    const oy = gap + Math.floor(n / cols) * (first.height + gap);
    for (let v = 0; v < im.height; v++) {
      out.data.set(im.data.subarray(v * im.width * 3, (v + 1) * im.width * 3), ((oy + v) * W + ox) * 3);
    }
  });
  return out;
}

export type Rgb = readonly [number, number, number];

/** The image inside a `width`-pixel border of `color`. */
export function bordered(img: RgbImage, width: number, color: Rgb): RgbImage {
  const out = newImage(img.width + 2 * width, img.height + 2 * width, color);
  blit(out, img, width, width);
  return out;
}

/** Copies `img` into `dst` with its top-left at (x, y), clipped to `dst`. */
export function blit(dst: RgbImage, img: RgbImage, x: number, y: number): void {
  for (let v = 0; v < img.height; v++) {
    const dy = y + v;
    if (dy < 0 || dy >= dst.height) continue;
    const u0 = Math.max(0, -x);
    const u1 = Math.min(img.width, dst.width - x);
    if (u1 <= u0) continue;
    dst.data.set(img.data.subarray((v * img.width + u0) * 3, (v * img.width + u1) * 3), (dy * dst.width + x + u0) * 3);
  }
}

/** Images one above the other, left-aligned, `gap` pixels apart, on `fill`; as wide as the widest. */
export function stack(images: readonly RgbImage[], gap = 0, fill: Rgb = [255, 255, 255]): RgbImage {
  if (images.length === 0) throw new RangeError('stack needs at least one image');
  const W = Math.max(...images.map((i) => i.width));
  const H = images.reduce((a, i) => a + i.height, 0) + gap * (images.length - 1);
  const out = newImage(W, H, fill);
  let y = 0;
  for (const im of images) {
    blit(out, im, 0, y);
    y += im.height + gap;
  }
  return out;
}

/** Images side by side, top-aligned, `gap` pixels apart, on `fill`; as tall as the tallest. */
export function beside(images: readonly RgbImage[], gap = 0, fill: Rgb = [255, 255, 255]): RgbImage {
  if (images.length === 0) throw new RangeError('beside needs at least one image');
  const W = images.reduce((a, i) => a + i.width, 0) + gap * (images.length - 1);
  const H = Math.max(...images.map((i) => i.height));
  const out = newImage(W, H, fill);
  let x = 0;
  for (const im of images) {
    blit(out, im, x, 0);
    x += im.width + gap;
  }
  return out;
}

/** One line of a text band: its text, colour (default near-black) and font scale (default the band's). */
export interface TextLine {
  text: string;
  color?: Rgb;
  scale?: number;
}

/**
 * A `width`-pixel-wide band of text lines on `fill` (default white), `pad` pixels of margin and
 * half a line between lines; a line longer than the band is cut with '..'.
 */
export function textBand(width: number, lines: readonly TextLine[], opts: { scale?: number; pad?: number; fill?: Rgb } = {}): RgbImage {
  const scale = opts.scale ?? 2;
  const pad = opts.pad ?? 4;
  const heights = lines.map((l) => textHeight(l.scale ?? scale));
  const H = 2 * pad + heights.reduce((a, h) => a + h, 0) + Math.max(0, lines.length - 1) * Math.ceil(textHeight(scale) / 2);
  const out = newImage(width, Math.max(1, H), opts.fill ?? [255, 255, 255]);
  let y = pad;
  lines.forEach((l, i) => {
    const sc = l.scale ?? scale;
    drawText(out, fitText(l.text, width - 2 * pad, sc), pad, y, l.color ?? [20, 20, 20], sc);
    y += (heights[i] as number) + Math.ceil(textHeight(scale) / 2);
  });
  return out;
}

/** `text`, cut to fit `maxPx` at `scale` (ending '..' when cut). */
export function fitText(text: string, maxPx: number, scale: number): string {
  if (textWidth(text, scale) <= maxPx) return text;
  let t = text;
  while (t.length > 0 && textWidth(`${t}..`, scale) > maxPx) t = t.slice(0, -1);
  return `${t}..`;
}

export function setPixel(img: RgbImage, u: number, v: number, c: readonly [number, number, number]): void {
  const x = Math.round(u);
  const y = Math.round(v);
  if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
  img.data.set(c, (y * img.width + x) * 3);
}

export function drawLine(img: RgbImage, u0: number, v0: number, u1: number, v1: number, c: readonly [number, number, number], width = 1): void {
  const n = Math.max(1, Math.ceil(Math.hypot(u1 - u0, v1 - v0)));
  const r = (width - 1) / 2;
  for (let s = 0; s <= n; s++) {
    const u = u0 + ((u1 - u0) * s) / n;
    const v = v0 + ((v1 - v0) * s) / n;
    if (r <= 0) setPixel(img, u, v, c);
    else fillDisc(img, u, v, r, c);
  }
}

export function fillDisc(img: RgbImage, u: number, v: number, r: number, c: readonly [number, number, number]): void {
  for (let y = Math.floor(v - r); y <= Math.ceil(v + r); y++) {
    for (let x = Math.floor(u - r); x <= Math.ceil(u + r); x++) {
      if ((x - u) ** 2 + (y - v) ** 2 <= r * r + 0.25) setPixel(img, x, y, c);
    }
  }
}

export function fillRect(img: RgbImage, u0: number, v0: number, u1: number, v1: number, c: readonly [number, number, number]): void {
  for (let y = Math.max(0, Math.floor(Math.min(v0, v1))); y <= Math.min(img.height - 1, Math.ceil(Math.max(v0, v1))); y++) {
    for (let x = Math.max(0, Math.floor(Math.min(u0, u1))); x <= Math.min(img.width - 1, Math.ceil(Math.max(u0, u1))); x++) {
      img.data.set(c, (y * img.width + x) * 3);
    }
  }
}

/** 3×3 box filter (edges clamped): a blurry decoder stand-in. */
export function boxBlur(rgb: Uint8Array, W: number, H: number): Uint8Array {
  const out = new Uint8Array(rgb.length);
  for (let v = 0; v < H; v++) for (let u = 0; u < W; u++) for (let c = 0; c < 3; c++) {
    let s = 0;
    let n = 0;
    for (let dv = -1; dv <= 1; dv++) for (let du = -1; du <= 1; du++) {
      const uu = u + du;
      const vv = v + dv;
      if (uu < 0 || vv < 0 || uu >= W || vv >= H) continue;
      s += rgb[(vv * W + uu) * 3 + c] as number;
      n++;
    }
    out[(v * W + u) * 3 + c] = Math.round(s / n);
  }
  return out;
}
