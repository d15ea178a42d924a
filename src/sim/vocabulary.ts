/**
 * Object categories, their shapes, and the colour palette of the simulated worlds.
 *
 * Shapes are per category (the name says the shape); colours are drawn per world from PALETTE
 * (the name does not say the colour). No palette colour is red, the auxiliary box's colour.
 * Units: metres, object-local frame x forward (the object's front), y left, z up.
 */

export type Rgb = readonly [number, number, number];

/** The colour of the auxiliary bounding box drawn on the target (pure red). */
export const BOX_COLOR: Rgb = [255, 0, 0];

/** Object categories. Index in the model vocabulary = position + 1 (0 is the null class). */
export const CATEGORIES = ['chair', 'table', 'sofa', 'bed', 'plant', 'lamp', 'tv', 'fridge'] as const;
export type Category = (typeof CATEGORIES)[number];

/** Per-world object colours (never red, orange or pink: the box detector keys on red). */
export const PALETTE: readonly Rgb[] = [
  [40, 80, 220], // blue
  [40, 165, 60], // green
  [230, 205, 40], // yellow
  [135, 60, 185], // purple
  [40, 190, 200], // cyan
  [235, 235, 235], // white
  [115, 75, 40], // brown
  [45, 45, 50], // black
];

export const NEUTRAL_DARK: Rgb = [55, 55, 60];
export const POT_BROWN: Rgb = [95, 60, 35];
export const PILLOW_WHITE: Rgb = [245, 245, 240];

/** An axis-aligned box in object-local coordinates (metres). `tint` false → fixed colour. */
export interface BoxPart {
  kind: 'box';
  x0: number;
  y0: number;
  z0: number;
  x1: number;
  y1: number;
  z1: number;
  /** 'main' parts take the object's world colour; else the fixed colour given. */
  color: 'main' | Rgb;
}

/** A vertical cylinder in object-local coordinates (metres). */
export interface CylinderPart {
  kind: 'cylinder';
  cx: number;
  cy: number;
  r: number;
  z0: number;
  z1: number;
  color: 'main' | Rgb;
}

export type Part = BoxPart | CylinderPart;

function box(x0: number, y0: number, z0: number, x1: number, y1: number, z1: number, color: 'main' | Rgb = 'main'): BoxPart {
  return { kind: 'box', x0, y0, z0, x1, y1, z1, color };
}
function cyl(cx: number, cy: number, r: number, z0: number, z1: number, color: 'main' | Rgb = 'main'): CylinderPart {
  return { kind: 'cylinder', cx, cy, r, z0, z1, color };
}

function legs(hx: number, hy: number, h: number, t: number, color: 'main' | Rgb = 'main'): BoxPart[] {
  const out: BoxPart[] = [];
  for (const sx of [-1, 1]) for (const sy of [-1, 1]) {
    const x = sx * (hx - t / 2);
    const y = sy * (hy - t / 2);
    out.push(box(x - t / 2, y - t / 2, 0, x + t / 2, y + t / 2, h, color));
  }
  return out;
}

/** Parts of each category, in the object's local frame (front faces +x). */
export const SHAPES: Readonly<Record<Category, readonly Part[]>> = {
  chair: [...legs(0.23, 0.23, 0.42, 0.05), box(-0.23, -0.23, 0.42, 0.23, 0.23, 0.5), box(-0.23, -0.23, 0.5, -0.17, 0.23, 0.98)],
  table: [...legs(0.6, 0.4, 0.7, 0.07), box(-0.6, -0.4, 0.7, 0.6, 0.4, 0.76)],
  sofa: [box(-0.4, -0.9, 0, 0.4, 0.9, 0.42), box(-0.4, -0.9, 0.42, -0.2, 0.9, 0.85), box(-0.2, -0.9, 0.42, 0.4, -0.72, 0.62), box(-0.2, 0.72, 0.42, 0.4, 0.9, 0.62)],
  bed: [box(-1.0, -0.7, 0, 1.0, 0.7, 0.5), box(-1.06, -0.7, 0, -1.0, 0.7, 1.05), box(-0.95, -0.55, 0.5, -0.6, 0.55, 0.62, PILLOW_WHITE)],
  plant: [cyl(0, 0, 0.17, 0, 0.35, POT_BROWN), cyl(0, 0, 0.32, 0.35, 1.15)],
  lamp: [cyl(0, 0, 0.16, 0, 0.05, NEUTRAL_DARK), cyl(0, 0, 0.025, 0.05, 1.25, NEUTRAL_DARK), cyl(0, 0, 0.24, 1.2, 1.6)],
  tv: [box(-0.2, -0.55, 0, 0.2, 0.55, 0.5, NEUTRAL_DARK), box(-0.05, -0.65, 0.55, 0.03, 0.65, 1.25), box(-0.06, -0.04, 0.5, 0.02, 0.04, 0.55, NEUTRAL_DARK)],
  fridge: [box(-0.35, -0.35, 0, 0.35, 0.35, 1.8), box(0.35, 0.22, 0.9, 0.39, 0.27, 1.5, NEUTRAL_DARK)],
};

/** Radius (m) of the circle around the object origin that contains its footprint. */
export function footprintRadius(category: Category): number {
  let r = 0;
  for (const p of SHAPES[category]) {
    if (p.kind === 'box') {
      for (const x of [p.x0, p.x1]) for (const y of [p.y0, p.y1]) r = Math.max(r, Math.hypot(x, y));
    } else r = Math.max(r, Math.hypot(p.cx, p.cy) + p.r);
  }
  return r;
}

/** Height (m) of the tallest part. */
export function objectHeight(category: Category): number {
  return Math.max(...SHAPES[category].map((p) => p.z1));
}

/** Vocabulary index of a category name (1-based; 0 = null), or -1. */
export function vocabularyIndex(name: string): number {
  const i = (CATEGORIES as readonly string[]).indexOf(name);
  return i < 0 ? -1 : i + 1;
}
