/**
 * Top-down pictures of a world: walls, doorways, objects with labels, and overlays (explored
 * path, plans, executed path, estimates). Map frame x east → image right, y north → image up.
 * By default the scale makes the map at least MAP_MIN_WIDTH_PX across, so the labels (the bitmap
 * font at 3×, on a white patch) can be read; mapKey adds a colour key below a map.
 */
import type { Pose2D } from '../core/geometry.js';
import { drawText, textHeight, textWidth } from './font.js';
import { beside, blit, drawLine, fillDisc, fillRect, newImage, stack, type Rgb, type RgbImage } from './pictures.js';
import type { World } from './world.js';

export interface MapView {
  image: RgbImage;
  /** Pixels per metre. */
  pxPerM: number;
  /** Line widths and marker sizes scale by this (1 up to 119 px/m, 2 up to 199 px/m, …). */
  stroke: number;
  /** Map metres → image pixel. */
  toPixel(x: number, y: number): [number, number];
}

export const MAP_COLORS = {
  explored: [120, 120, 255] as const,
  plan: [255, 150, 0] as const,
  executed: [0, 170, 0] as const,
  estimate: [255, 0, 255] as const,
  target: [255, 0, 0] as const,
  start: [0, 0, 0] as const,
};

/** A map is at least this wide by default (unless the world is so tall that it would pass MAP_MAX_HEIGHT_PX). */
export const MAP_MIN_WIDTH_PX = 800;
export const MAP_MAX_HEIGHT_PX = 1600;

/** Pixels per metre that make the world's map at least `minWidthPx` across (at most `maxHeightPx` tall), and never under 40. */
export function legiblePxPerM(world: Pick<World, 'bounds'>, minWidthPx = MAP_MIN_WIDTH_PX, maxHeightPx = MAP_MAX_HEIGHT_PX): number {
  const b = world.bounds;
  const w = Math.max(1e-6, b.x1 - b.x0);
  const h = Math.max(1e-6, b.y1 - b.y0);
  return Math.max(40, Math.min(Math.ceil(minWidthPx / w), Math.floor(maxHeightPx / h)));
}

/** The font scale of object labels at `pxPerM`: 2 on small maps, 3 from 100 px/m. */
export function labelScale(pxPerM: number): number {
  return pxPerM >= 100 ? 3 : 2;
}

/** Draws the world at `pxPerM` pixels per metre (default: legiblePxPerM); `targetId` gets a red ring. */
export function drawWorldMap(world: World, pxPerM = legiblePxPerM(world), targetId?: number): MapView {
  const b = world.bounds;
  const stroke = Math.max(1, Math.round(pxPerM / 80));
  const W = Math.ceil((b.x1 - b.x0) * pxPerM);
  const H = Math.ceil((b.y1 - b.y0) * pxPerM);
  const image = newImage(W, H, [255, 255, 255]);
  const toPixel = (x: number, y: number): [number, number] => [(x - b.x0) * pxPerM, (b.y1 - y) * pxPerM];
  for (const r of world.rooms) {
    const [u0, v0] = toPixel(r.x0, r.y1);
    const [u1, v1] = toPixel(r.x1, r.y0);
    const tint = r.wallColor.map((c) => Math.round(255 - (255 - c) * 0.35)) as unknown as [number, number, number];
    fillRect(image, u0, v0, u1, v1, tint);
  }
  for (const bx of world.boxes) {
    if (bx.objectId !== 0) continue;
    const [u0, v0] = toPixel(bx.x0, bx.y1);
    const [u1, v1] = toPixel(bx.x1, bx.y0);
    fillRect(image, u0, v0, u1, v1, [40, 40, 40]);
  }
  for (const bx of world.boxes) {
    if (bx.objectId === 0) continue;
    const [u0, v0] = toPixel(bx.x0, bx.y1);
    const [u1, v1] = toPixel(bx.x1, bx.y0);
    fillRect(image, u0, v0, u1, v1, bx.color);
  }
  for (const c of world.cylinders) {
    const [u, v] = toPixel(c.cx, c.cy);
    fillDisc(image, u, v, c.r * pxPerM, c.color);
  }
  for (const o of world.objects) {
    const [u, v] = toPixel(o.x, o.y);
    if (o.id === targetId) {
      for (let a = 0; a < 96; a++) {
        const t0 = (a / 96) * 2 * Math.PI;
        const t1 = ((a + 1) / 96) * 2 * Math.PI;
        const r = o.radius * pxPerM + 4 * stroke;
        drawLine(image, u + r * Math.cos(t0), v + r * Math.sin(t0), u + r * Math.cos(t1), v + r * Math.sin(t1), MAP_COLORS.target, 2 * stroke);
      }
    }
  }
  // labels last, each on a white patch, kept inside the picture
  const ls = labelScale(pxPerM);
  for (const o of world.objects) {
    // under the object's drawn footprint (its boxes and cylinders), else under its footprint circle
    let [fx0, fy0, fx1, fy1] = [o.x - o.radius, o.y - o.radius, o.x + o.radius, o.y + o.radius];
    const parts = [
      ...world.boxes.filter((bx) => bx.objectId === o.id).map((bx) => [bx.x0, bx.y0, bx.x1, bx.y1] as const),
      ...world.cylinders.filter((c) => c.objectId === o.id).map((c) => [c.cx - c.r, c.cy - c.r, c.cx + c.r, c.cy + c.r] as const),
    ];
    if (parts.length > 0) {
      fx0 = Math.min(...parts.map((q) => q[0]));
      fy0 = Math.min(...parts.map((q) => q[1]));
      fx1 = Math.max(...parts.map((q) => q[2]));
      fy1 = Math.max(...parts.map((q) => q[3]));
    }
    const [u0, vb] = toPixel(fx0, fy0);
    const [u1, vt] = toPixel(fx1, fy1);
    const u = (u0 + u1) / 2;
    // clear of the target's ring too
    const vc = toPixel(o.x, o.y)[1];
    const ring = o.id === targetId ? o.radius * pxPerM + 5 * stroke : 0;
    const vBottom = Math.max(vb, vc + ring);
    const vTop = Math.min(vt, vc - ring);
    const w = textWidth(o.category, ls);
    const h = textHeight(ls);
    const x = Math.round(Math.min(Math.max(ls, u - w / 2), W - w - ls));
    let y = Math.round(vBottom + 2 * stroke + ls);
    if (y + h + ls > H) y = Math.round(vTop - 2 * stroke - h - ls);
    fillRect(image, x - ls, y - ls, x + w + ls - 1, y + h + ls - 1, [255, 255, 255]);
    drawText(image, o.category, x, y, o.id === targetId ? MAP_COLORS.target : [0, 0, 0], ls);
  }
  return { image, pxPerM, stroke, toPixel };
}

/** One entry of a map's colour key. */
export interface MapKeyEntry {
  color: Rgb;
  text: string;
}

/** The map with a colour key below it: a swatch and a name per entry, wrapped to the map's width. */
export function mapKey(map: RgbImage, entries: readonly MapKeyEntry[], scale = 3): RgbImage {
  const h = textHeight(scale);
  const items = entries.map((e) => {
    const img = newImage(h * 2 + scale * 2 + textWidth(e.text, scale), h, [255, 255, 255]);
    fillRect(img, 0, 0, h * 2 - 1, h - 1, e.color);
    drawText(img, e.text, h * 2 + scale * 2, 0, [0, 0, 0], scale);
    return img;
  });
  const rows: RgbImage[] = [];
  let row: RgbImage[] = [];
  const gap = 6 * scale;
  const pad = 3 * scale;
  let used = 0;
  for (const it of items) {
    if (row.length > 0 && used + gap + it.width > map.width - 2 * pad) {
      rows.push(beside(row, gap));
      row = [];
      used = 0;
    }
    used += (row.length > 0 ? gap : 0) + it.width;
    row.push(it);
  }
  if (row.length > 0) rows.push(beside(row, gap));
  const key = stack(rows, 2 * scale);
  const band = newImage(map.width, key.height + 2 * pad, [255, 255, 255]);
  blit(band, key, pad, pad);
  return stack([map, newImage(map.width, Math.max(1, scale), [200, 200, 200]), band]);
}

export function drawPolyline(view: MapView, pts: readonly { x: number; y: number }[], color: readonly [number, number, number], width = 2): void {
  for (let i = 1; i < pts.length; i++) {
    const a = pts[i - 1] as { x: number; y: number };
    const b = pts[i] as { x: number; y: number };
    const [u0, v0] = view.toPixel(a.x, a.y);
    const [u1, v1] = view.toPixel(b.x, b.y);
    drawLine(view.image, u0, v0, u1, v1, color, width);
  }
}

/** A pose as a disc with a heading tick. */
export function drawPose(view: MapView, p: Pose2D, color: readonly [number, number, number], radiusPx = 5): void {
  const [u, v] = view.toPixel(p.x, p.y);
  fillDisc(view.image, u, v, radiusPx, color);
  drawLine(view.image, u, v, u + Math.cos(p.yaw) * radiusPx * 2.5, v - Math.sin(p.yaw) * radiusPx * 2.5, color, 2);
}

export function drawCross(view: MapView, x: number, y: number, color: readonly [number, number, number], sizePx = 7): void {
  const [u, v] = view.toPixel(x, y);
  drawLine(view.image, u - sizePx, v - sizePx, u + sizePx, v + sizePx, color, 3);
  drawLine(view.image, u - sizePx, v + sizePx, u + sizePx, v - sizePx, color, 3);
}
