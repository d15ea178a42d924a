/**
 * Top-down pictures of a world: walls, doorways, objects with labels, and overlays (explored
 * path, plans, executed path, estimates). Map frame x east → image right, y north → image up.
 */
import type { Pose2D } from '../core/geometry.js';
import { drawText } from './font.js';
import { drawLine, fillDisc, fillRect, newImage, type RgbImage } from './pictures.js';
import type { World } from './world.js';

export interface MapView {
  image: RgbImage;
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

/** Draws the world at `pxPerM` pixels per metre; `targetId` gets a red ring. */
export function drawWorldMap(world: World, pxPerM = 40, targetId?: number): MapView {
  const b = world.bounds;
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
      for (let a = 0; a < 64; a++) {
        const t0 = (a / 64) * 2 * Math.PI;
        const t1 = ((a + 1) / 64) * 2 * Math.PI;
        const r = o.radius * pxPerM + 4;
        drawLine(image, u + r * Math.cos(t0), v + r * Math.sin(t0), u + r * Math.cos(t1), v + r * Math.sin(t1), MAP_COLORS.target, 2);
      }
    }
    drawText(image, o.category, u - o.category.length * 4, v + o.radius * pxPerM + 3, [0, 0, 0], 2);
  }
  return { image, toPixel };
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
