/**
 * Procedural apartments: 1–3 rectangular rooms joined by doorways, each room with its own wall
 * colour and pattern, a tiled floor, and 4–8 objects (at most one per category) whose colours are
 * drawn per world. Deterministic per integer seed. Map frame: x east, y north, z up, metres.
 */
import { Rng, hash32 } from '../core/rng.js';
import { OccupancyGrid } from './grid.js';
import {
  CATEGORIES,
  PALETTE,
  SHAPES,
  footprintRadius,
  objectHeight,
  type Category,
  type Part,
  type Rgb,
} from './vocabulary.js';

/** Wall height (m), thickness of one room's wall (m), doorway width (m). */
export const WALL_HEIGHT = 2.4;
export const WALL_THICKNESS = 0.06;
export const DOOR_WIDTH = 1.0;
/** Robot radius (m) used for inflation, reachability and the simulated Nav2. */
export const ROBOT_RADIUS = 0.2;
/** Occupancy grid resolution (m). */
export const GRID_RESOLUTION = 0.05;

export type WallPattern = 'plain' | 'stripes' | 'panels' | 'band';

export interface Room {
  id: number;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  wallColor: Rgb;
  wallPattern: WallPattern;
}

/** A solid axis-aligned box in the map frame (walls and object parts). */
export interface SolidBox {
  x0: number;
  y0: number;
  z0: number;
  x1: number;
  y1: number;
  z1: number;
  color: Rgb;
  /** 0 = structure (wall), k ≥ 1 = object id. */
  objectId: number;
  /** For walls: the room whose colour/pattern it shows. */
  pattern?: WallPattern;
}

export interface SolidCylinder {
  cx: number;
  cy: number;
  r: number;
  z0: number;
  z1: number;
  color: Rgb;
  objectId: number;
}

export interface WorldObject {
  /** 1-based id, also the value in the renderer's object-id buffer. */
  id: number;
  category: Category;
  color: Rgb;
  /** Index of `color` in PALETTE. */
  colorIndex: number;
  x: number;
  y: number;
  yaw: number;
  /** Radius of the footprint circle (m). */
  radius: number;
  /** Height of the tallest part (m). */
  height: number;
  roomId: number;
}

export interface Doorway {
  /** Centre of the opening (m). */
  x: number;
  y: number;
  /** 'x' when the wall runs along x (opening spans x), 'y' when it runs along y. */
  axis: 'x' | 'y';
  rooms: [number, number];
}

export interface World {
  seed: number;
  rooms: Room[];
  doorways: Doorway[];
  objects: WorldObject[];
  boxes: SolidBox[];
  cylinders: SolidCylinder[];
  floorColor: Rgb;
  floorTile: number;
  /** Occupancy (walls, objects, outside) at GRID_RESOLUTION. */
  grid: OccupancyGrid;
  /** `grid` inflated by ROBOT_RADIUS: free cells are where the robot centre may be. */
  free: OccupancyGrid;
  bounds: { x0: number; y0: number; x1: number; y1: number };
}

const WALL_COLORS: readonly Rgb[] = [
  [225, 215, 190], // beige
  [170, 200, 225], // light blue
  [180, 215, 175], // light green
  [200, 185, 220], // lavender
  [200, 200, 200], // grey
  [225, 225, 160], // pale yellow
];
const WALL_PATTERNS: readonly WallPattern[] = ['plain', 'stripes', 'panels', 'band'];
const FLOOR_COLORS: readonly Rgb[] = [
  [150, 110, 75], // wood
  [125, 125, 130], // concrete
  [185, 170, 140], // sand
  [95, 105, 95], // slate
];

export interface WorldOptions {
  minRooms?: number;
  maxRooms?: number;
  minObjects?: number;
  maxObjects?: number;
}

function overlaps(a: Room, b: { x0: number; y0: number; x1: number; y1: number }): boolean {
  return a.x0 < b.x1 - 1e-6 && b.x0 < a.x1 - 1e-6 && a.y0 < b.y1 - 1e-6 && b.y0 < a.y1 - 1e-6;
}

/** Generates the world of `seed`. Same seed → identical world. */
export function generateWorld(seed: number, opts: WorldOptions = {}): World {
  if (!Number.isInteger(seed) || seed < 0) throw new RangeError(`world seed must be a non-negative integer, got ${seed}`);
  for (let attempt = 0; attempt < 50; attempt++) {
    const w = tryGenerate(seed, hash32(seed, attempt), opts);
    if (w) return w;
  }
  throw new Error(`could not generate a valid world for seed ${seed} in 50 attempts`);
}

function tryGenerate(seed: number, subSeed: number, opts: WorldOptions): World | undefined {
  const rng = new Rng(subSeed);
  const minRooms = opts.minRooms ?? 1;
  const maxRooms = opts.maxRooms ?? 3;
  const nRooms = rng.int(minRooms, maxRooms);
  const wallColors = rng.shuffle(WALL_COLORS);
  const patterns = rng.shuffle(WALL_PATTERNS);
  const rooms: Room[] = [];
  const doorways: Doorway[] = [];
  const dims = () => [Math.round(rng.uniform(3.4, 5.6) * 10) / 10, Math.round(rng.uniform(3.2, 5.0) * 10) / 10] as const;
  {
    const [w, h] = dims();
    rooms.push({ id: 0, x0: 0, y0: 0, x1: w, y1: h, wallColor: wallColors[0] as Rgb, wallPattern: patterns[0] as WallPattern });
  }
  for (let r = 1; r < nRooms; r++) {
    let placed = false;
    for (let tries = 0; tries < 30 && !placed; tries++) {
      const host = rng.pick(rooms);
      const side = rng.int(0, 3); // 0 E, 1 N, 2 W, 3 S
      const [w, h] = dims();
      let cand: Room;
      if (side === 0 || side === 2) {
        const lo = host.y0 - h + 1.6;
        const hi = host.y1 - 1.6;
        const y0 = Math.round(rng.uniform(Math.min(lo, hi), Math.max(lo, hi)) * 10) / 10;
        const x0 = side === 0 ? host.x1 : host.x0 - w;
        cand = { id: r, x0, y0, x1: x0 + w, y1: y0 + h, wallColor: wallColors[r] as Rgb, wallPattern: patterns[r] as WallPattern };
        const oy0 = Math.max(cand.y0, host.y0) + 0.3;
        const oy1 = Math.min(cand.y1, host.y1) - 0.3;
        if (oy1 - oy0 < DOOR_WIDTH + 0.2) continue;
        if (rooms.some((o) => overlaps(o, cand))) continue;
        const dy = rng.uniform(oy0 + DOOR_WIDTH / 2, oy1 - DOOR_WIDTH / 2);
        doorways.push({ x: side === 0 ? host.x1 : host.x0, y: dy, axis: 'y', rooms: [host.id, r] });
      } else {
        const lo = host.x0 - w + 1.6;
        const hi = host.x1 - 1.6;
        const x0 = Math.round(rng.uniform(Math.min(lo, hi), Math.max(lo, hi)) * 10) / 10;
        const y0 = side === 1 ? host.y1 : host.y0 - h;
        cand = { id: r, x0, y0, x1: x0 + w, y1: y0 + h, wallColor: wallColors[r] as Rgb, wallPattern: patterns[r] as WallPattern };
        const ox0 = Math.max(cand.x0, host.x0) + 0.3;
        const ox1 = Math.min(cand.x1, host.x1) - 0.3;
        if (ox1 - ox0 < DOOR_WIDTH + 0.2) continue;
        if (rooms.some((o) => overlaps(o, cand))) continue;
        const dx = rng.uniform(ox0 + DOOR_WIDTH / 2, ox1 - DOOR_WIDTH / 2);
        doorways.push({ x: dx, y: side === 1 ? host.y1 : host.y0, axis: 'x', rooms: [host.id, r] });
      }
      rooms.push(cand);
      placed = true;
    }
    if (!placed) break;
  }

  const boxes: SolidBox[] = [];
  const t = WALL_THICKNESS;
  // Each room's four walls, inside its rectangle, with gaps at its doorways.
  for (const room of rooms) {
    const mine = doorways.filter((d) => d.rooms.includes(room.id));
    const addWall = (x0: number, y0: number, x1: number, y1: number) =>
      boxes.push({ x0, y0, z0: 0, x1, y1, z1: WALL_HEIGHT, color: room.wallColor, objectId: 0, pattern: room.wallPattern });
    // south / north walls run along x
    for (const [yLine, ya, yb] of [[room.y0, room.y0, room.y0 + t], [room.y1, room.y1 - t, room.y1]] as const) {
      const gaps = mine.filter((d) => d.axis === 'x' && Math.abs(d.y - yLine) < 1e-6).map((d) => [d.x - DOOR_WIDTH / 2, d.x + DOOR_WIDTH / 2] as const);
      splitSpan(room.x0, room.x1, gaps).forEach(([a, b]) => addWall(a, ya, b, yb));
    }
    for (const [xLine, xa, xb] of [[room.x0, room.x0, room.x0 + t], [room.x1, room.x1 - t, room.x1]] as const) {
      const gaps = mine.filter((d) => d.axis === 'y' && Math.abs(d.x - xLine) < 1e-6).map((d) => [d.y - DOOR_WIDTH / 2, d.y + DOOR_WIDTH / 2] as const);
      splitSpan(room.y0, room.y1, gaps).forEach(([a, b]) => addWall(xa, a, xb, b));
    }
  }

  const bounds = {
    x0: Math.min(...rooms.map((r) => r.x0)) - 0.5,
    y0: Math.min(...rooms.map((r) => r.y0)) - 0.5,
    x1: Math.max(...rooms.map((r) => r.x1)) + 0.5,
    y1: Math.max(...rooms.map((r) => r.y1)) + 0.5,
  };
  const res = GRID_RESOLUTION;
  const grid = new OccupancyGrid(bounds.x0, bounds.y0, Math.ceil((bounds.x1 - bounds.x0) / res), Math.ceil((bounds.y1 - bounds.y0) / res), res);
  grid.cells.fill(1);
  for (const r of rooms) grid.fillRect(r.x0, r.y0, r.x1, r.y1, 0);
  for (const d of doorways) {
    if (d.axis === 'x') grid.fillRect(d.x - DOOR_WIDTH / 2, d.y - 0.2, d.x + DOOR_WIDTH / 2, d.y + 0.2, 0);
    else grid.fillRect(d.x - 0.2, d.y - DOOR_WIDTH / 2, d.x + 0.2, d.y + DOOR_WIDTH / 2, 0);
  }
  for (const b of boxes) grid.fillRect(b.x0, b.y0, b.x1, b.y1, 1);

  // Objects.
  const nObjects = rng.int(opts.minObjects ?? 4, opts.maxObjects ?? 8);
  const cats = rng.shuffle(CATEGORIES).slice(0, nObjects);
  const colorIdx = rng.shuffle(PALETTE.map((_, i) => i));
  const objects: WorldObject[] = [];
  const cylinders: SolidCylinder[] = [];
  const floorColor = rng.pick(FLOOR_COLORS);
  const floorTile = rng.pick([0.4, 0.5, 0.6]);
  for (const cat of cats) {
    const radius = footprintRadius(cat);
    let ok = false;
    for (let tries = 0; tries < 60 && !ok; tries++) {
      const room = rng.pick(rooms);
      const margin = radius + 0.1;
      if (room.x1 - room.x0 < 2 * margin + 0.2 || room.y1 - room.y0 < 2 * margin + 0.2) continue;
      // Prefer positions near walls (like real furniture), facing into the room.
      let x: number;
      let y: number;
      if (rng.next() < 0.6) {
        const side = rng.int(0, 3);
        x = side === 0 ? room.x1 - margin : side === 2 ? room.x0 + margin : rng.uniform(room.x0 + margin, room.x1 - margin);
        y = side === 1 ? room.y1 - margin : side === 3 ? room.y0 + margin : rng.uniform(room.y0 + margin, room.y1 - margin);
      } else {
        x = rng.uniform(room.x0 + margin, room.x1 - margin);
        y = rng.uniform(room.y0 + margin, room.y1 - margin);
      }
      const cxr = (room.x0 + room.x1) / 2;
      const cyr = (room.y0 + room.y1) / 2;
      const yaw = Math.round((Math.atan2(cyr - y, cxr - x) / (Math.PI / 2))) * (Math.PI / 2) + rng.uniform(-0.25, 0.25);
      if (objects.some((o) => Math.hypot(o.x - x, o.y - y) < o.radius + radius + 0.45)) continue;
      if (doorways.some((d) => Math.hypot(d.x - x, d.y - y) < radius + DOOR_WIDTH)) continue;
      const obj: WorldObject = {
        id: objects.length + 1,
        category: cat,
        color: PALETTE[colorIdx[objects.length] as number] as Rgb,
        colorIndex: colorIdx[objects.length] as number,
        x,
        y,
        yaw,
        radius,
        height: objectHeight(cat),
        roomId: room.id,
      };
      objects.push(obj);
      placeParts(obj, SHAPES[cat], boxes, cylinders);
      ok = true;
    }
  }
  if (objects.length < (opts.minObjects ?? 4)) return undefined;
  for (const o of objects) grid.fillCircle(o.x, o.y, o.radius * 0.85, 1);
  const free = grid.inflate(ROBOT_RADIUS);
  // Every room must be reachable from every other, and every object approachable.
  const r0 = rooms[0] as Room;
  const start = findFreeNear(free, (r0.x0 + r0.x1) / 2, (r0.y0 + r0.y1) / 2);
  if (!start) return undefined;
  const reach = free.reachableFrom(start[0], start[1]);
  for (const room of rooms) {
    const p = findFreeNear(free, (room.x0 + room.x1) / 2, (room.y0 + room.y1) / 2);
    if (!p) return undefined;
    const [i, j] = free.cellOf(p[0], p[1]);
    if (!reach[free.index(i, j)]) return undefined;
  }
  for (const o of objects) {
    if (standoffCandidates(free, grid, reach, o).length === 0) return undefined;
  }
  return { seed, rooms, doorways, objects, boxes, cylinders, floorColor, floorTile, grid, free, bounds };
}

function splitSpan(a: number, b: number, gaps: readonly (readonly [number, number])[]): [number, number][] {
  const sorted = gaps.slice().sort((p, q) => p[0] - q[0]);
  const out: [number, number][] = [];
  let cur = a;
  for (const [g0, g1] of sorted) {
    if (g0 > cur) out.push([cur, g0]);
    cur = Math.max(cur, g1);
  }
  if (cur < b) out.push([cur, b]);
  return out;
}

function placeParts(o: WorldObject, parts: readonly Part[], boxes: SolidBox[], cylinders: SolidCylinder[]): void {
  // Boxes are kept axis-aligned in the map frame: the object's yaw is snapped to the nearest
  // quarter turn for box parts (small jitter is applied to position only).
  const q = Math.round(o.yaw / (Math.PI / 2));
  const c = Math.round(Math.cos(q * (Math.PI / 2)));
  const s = Math.round(Math.sin(q * (Math.PI / 2)));
  o.yaw = q * (Math.PI / 2);
  for (const p of parts) {
    const color = p.color === 'main' ? o.color : p.color;
    if (p.kind === 'box') {
      const xa = o.x + c * p.x0 - s * p.y0;
      const ya = o.y + s * p.x0 + c * p.y0;
      const xb = o.x + c * p.x1 - s * p.y1;
      const yb = o.y + s * p.x1 + c * p.y1;
      boxes.push({ x0: Math.min(xa, xb), y0: Math.min(ya, yb), z0: p.z0, x1: Math.max(xa, xb), y1: Math.max(ya, yb), z1: p.z1, color, objectId: o.id });
    } else {
      cylinders.push({ cx: o.x + c * p.cx - s * p.cy, cy: o.y + s * p.cx + c * p.cy, r: p.r, z0: p.z0, z1: p.z1, color, objectId: o.id });
    }
  }
}

/** Nearest free cell centre to (x, y) within 2 m, spiralling outwards. */
export function findFreeNear(free: OccupancyGrid, x: number, y: number, maxR = 2.0): [number, number] | undefined {
  const [ci, cj] = free.cellOf(x, y);
  const maxC = Math.ceil(maxR / free.resolution);
  for (let r = 0; r <= maxC; r++) {
    let best: [number, number] | undefined;
    let bestD = Infinity;
    for (let dj = -r; dj <= r; dj++) for (let di = -r; di <= r; di++) {
      if (Math.max(Math.abs(di), Math.abs(dj)) !== r) continue;
      if (free.occupied(ci + di, cj + dj)) continue;
      const d = Math.hypot(di, dj);
      if (d < bestD) {
        bestD = d;
        best = free.centreOf(ci + di, cj + dj);
      }
    }
    if (best) return best;
  }
  return undefined;
}

/** Distance (m) from the object centre at which the robot stands to look at it. */
export function standoffDistance(o: WorldObject): number {
  // Far enough that the whole object fits in a level 60° camera 0.5 m high (most of a tall one).
  const fit = ((o.height - STANDOFF_CAMERA_HEIGHT) / Math.tan(STANDOFF_HALF_VFOV)) * 0.8;
  return o.radius + Math.min(1.5, Math.max(0.7, fit));
}

/** Camera height (m) and half vertical FOV (rad) that standoff distances are chosen for. */
export const STANDOFF_CAMERA_HEIGHT = 0.5;
export const STANDOFF_HALF_VFOV = Math.PI / 6;

/** Candidate standoff positions around an object: free, reachable, with line of sight. */
export function standoffCandidates(free: OccupancyGrid, grid: OccupancyGrid, reach: Uint8Array, o: WorldObject): [number, number][] {
  const out: [number, number][] = [];
  const base = standoffDistance(o);
  for (const extra of [0, 0.25, 0.5, 0.8]) {
    for (let k = 0; k < 24; k++) {
      const a = (k / 24) * 2 * Math.PI;
      const x = o.x + (base + extra) * Math.cos(a);
      const y = o.y + (base + extra) * Math.sin(a);
      const [i, j] = free.cellOf(x, y);
      if (free.occupied(i, j) || !reach[free.index(i, j)]) continue;
      // line of sight from the standoff to the object's footprint edge
      const ex = o.x + (o.radius * 0.9) * Math.cos(a);
      const ey = o.y + (o.radius * 0.9) * Math.sin(a);
      if (!lineFreeExcept(grid, x, y, ex, ey)) continue;
      out.push([x, y]);
    }
    if (out.length > 0) return out;
  }
  return out;
}

function lineFreeExcept(grid: OccupancyGrid, ax: number, ay: number, bx: number, by: number): boolean {
  const len = Math.hypot(bx - ax, by - ay);
  const n = Math.max(1, Math.ceil(len / (grid.resolution * 0.5)));
  for (let s = 0; s < n; s++) {
    const t = s / n;
    if (grid.occupiedAt(ax + (bx - ax) * t, ay + (by - ay) * t)) return false;
  }
  return true;
}
