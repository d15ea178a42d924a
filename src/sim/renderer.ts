/**
 * A small exact ray caster for the simulated worlds: every pixel's ray is intersected with the
 * floor, ceiling, wall boxes and object parts (boxes, vertical cylinders). Pure TypeScript.
 *
 * Outputs, for a robot pose (map frame) and a PinholeCamera:
 * - rgb: Uint8Array, H×W×3, row-major, rgb8;
 * - depth: Float32Array, H×W, metres along the optical axis (z of the optical frame);
 * - ids: Uint8Array, H×W, 0 = structure (floor, walls, ceiling), k ≥ 1 = object id;
 * - objects: per visible object, its 2D box (inclusive pixel bounds) from the id buffer and
 *   its pixel count.
 * With `supersample` s > 1 colours are averaged over s×s sub-pixels; depth and ids take the
 * sub-pixel nearest the pixel centre.
 */
import { hash32 } from '../core/rng.js';
import type { Pose2D } from '../core/geometry.js';
import type { PinholeCamera } from './camera.js';
import { WALL_HEIGHT, type World, type WallPattern } from './world.js';

export interface ObjectBox {
  id: number;
  /** Inclusive pixel bounds. */
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  pixels: number;
}

export interface RenderResult {
  width: number;
  height: number;
  rgb: Uint8Array;
  depth: Float32Array;
  ids: Uint8Array;
  objects: Map<number, ObjectBox>;
}

export interface RenderOptions {
  supersample?: number;
  /** Skip shading: only depth, ids and boxes are produced (rgb left black). */
  idsOnly?: boolean;
}

const PATTERN_CODE: Record<WallPattern, number> = { plain: 0, stripes: 1, panels: 2, band: 3 };
const CEILING: readonly [number, number, number] = [232, 232, 226];
const NO_HIT = 1e9;

/** World geometry flattened into typed arrays for the inner loop (built once per world). */
export class SceneCache {
  readonly nBoxes: number;
  readonly box: Float64Array; // 6 per box
  readonly boxColor: Float32Array; // 3 per box
  readonly boxId: Int32Array;
  readonly boxPattern: Int32Array; // -1 for object parts
  readonly nCyl: number;
  readonly cyl: Float64Array; // cx, cy, r, z0, z1
  readonly cylColor: Float32Array;
  readonly cylId: Int32Array;
  /** Per object: bounding circle (cx, cy, r) and top z, and the index ranges of its parts. */
  readonly objBound: Float64Array;
  readonly objBoxes: number[][];
  readonly objCyls: number[][];
  readonly wallBoxes: number[];
  readonly floorColor: readonly [number, number, number];
  readonly floorTile: number;
  readonly seed: number;

  constructor(readonly world: World) {
    const boxes = world.boxes;
    this.nBoxes = boxes.length;
    this.box = new Float64Array(boxes.length * 6);
    this.boxColor = new Float32Array(boxes.length * 3);
    this.boxId = new Int32Array(boxes.length);
    this.boxPattern = new Int32Array(boxes.length);
    this.wallBoxes = [];
    const nObj = world.objects.length;
    this.objBoxes = Array.from({ length: nObj + 1 }, () => []);
    this.objCyls = Array.from({ length: nObj + 1 }, () => []);
    boxes.forEach((b, k) => {
      this.box.set([b.x0, b.y0, b.z0, b.x1, b.y1, b.z1], k * 6);
      this.boxColor.set(b.color, k * 3);
      this.boxId[k] = b.objectId;
      this.boxPattern[k] = b.pattern === undefined ? -1 : PATTERN_CODE[b.pattern];
      if (b.objectId === 0) this.wallBoxes.push(k);
      else (this.objBoxes[b.objectId] as number[]).push(k);
    });
    const cyls = world.cylinders;
    this.nCyl = cyls.length;
    this.cyl = new Float64Array(cyls.length * 5);
    this.cylColor = new Float32Array(cyls.length * 3);
    this.cylId = new Int32Array(cyls.length);
    cyls.forEach((c, k) => {
      this.cyl.set([c.cx, c.cy, c.r, c.z0, c.z1], k * 5);
      this.cylColor.set(c.color, k * 3);
      this.cylId[k] = c.objectId;
      (this.objCyls[c.objectId] as number[]).push(k);
    });
    this.objBound = new Float64Array((nObj + 1) * 4);
    for (const o of world.objects) this.objBound.set([o.x, o.y, o.radius + 0.02, o.height + 0.02], o.id * 4);
    this.floorColor = world.floorColor;
    this.floorTile = world.floorTile;
    this.seed = world.seed;
  }
}

const cacheByWorld = new WeakMap<World, SceneCache>();
function sceneOf(world: World): SceneCache {
  let c = cacheByWorld.get(world);
  if (!c) {
    c = new SceneCache(world);
    cacheByWorld.set(world, c);
  }
  return c;
}

/** Hash → [0, 1). */
function h01(a: number, b: number, s: number): number {
  return hash32(hash32(a, b), s) / 4294967296;
}

/** Renders the view from robot pose `pose` (map frame) with camera `cam`. */
export function render(world: World, pose: Pose2D, cam: PinholeCamera, opts: RenderOptions = {}): RenderResult {
  const ss = Math.max(1, Math.floor(opts.supersample ?? 1));
  const idsOnly = opts.idsOnly === true;
  const W = cam.width;
  const H = cam.height;
  const SW = W * ss;
  const SH = H * ss;
  const scene = sceneOf(world);
  const rgbAcc = idsOnly ? undefined : new Float32Array(W * H * 3);
  const depth = new Float32Array(W * H);
  const ids = new Uint8Array(W * H);
  const cp = Math.cos(cam.pitchRad);
  const sp = Math.sin(cam.pitchRad);
  const cy0 = Math.cos(pose.yaw);
  const sy0 = Math.sin(pose.yaw);
  const ox = pose.x;
  const oy = pose.y;
  const oz = cam.heightM;
  const fx = cam.fx * ss;
  const fy = cam.fy * ss;
  const pcx = cam.cx * ss;
  const pcy = cam.cy * ss;
  const nObj = world.objects.length;
  const mid = Math.floor(ss / 2);
  const hit = { t: 0, r: 0, g: 0, b: 0, id: 0 };

  for (let sv = 0; sv < SH; sv++) {
    const yo = (sv + 0.5 - pcy) / fy;
    for (let su = 0; su < SW; su++) {
      const xo = (su + 0.5 - pcx) / fx;
      // optical (xo, yo, 1) → camera body (fwd=1, left=−xo, up=−yo) → pitch → yaw
      const bx = cp * 1 + sp * -yo;
      const bz = -sp * 1 + cp * -yo;
      const by = -xo;
      const dx = cy0 * bx - sy0 * by;
      const dy = sy0 * bx + cy0 * by;
      const dz = bz;
      traceRay(scene, nObj, ox, oy, oz, dx, dy, dz, idsOnly, hit);
      const u = (su / ss) | 0;
      const v = (sv / ss) | 0;
      const p = v * W + u;
      if (su % ss === mid && sv % ss === mid) {
        depth[p] = hit.t;
        ids[p] = hit.id;
      }
      if (rgbAcc) {
        rgbAcc[p * 3] = (rgbAcc[p * 3] as number) + hit.r;
        rgbAcc[p * 3 + 1] = (rgbAcc[p * 3 + 1] as number) + hit.g;
        rgbAcc[p * 3 + 2] = (rgbAcc[p * 3 + 2] as number) + hit.b;
      }
    }
  }
  const rgb = new Uint8Array(W * H * 3);
  if (rgbAcc) {
    const inv = 1 / (ss * ss);
    for (let k = 0; k < rgb.length; k++) {
      const c = (rgbAcc[k] as number) * inv;
      rgb[k] = c < 0 ? 0 : c > 255 ? 255 : Math.round(c);
    }
  }
  return { width: W, height: H, rgb, depth, ids, objects: objectBoxes(ids, W, H) };
}

/** 2D boxes and pixel counts of every object id present in an id buffer. */
export function objectBoxes(ids: Uint8Array, W: number, H: number): Map<number, ObjectBox> {
  const out = new Map<number, ObjectBox>();
  for (let v = 0; v < H; v++) {
    for (let u = 0; u < W; u++) {
      const id = ids[v * W + u] as number;
      if (id === 0) continue;
      const b = out.get(id);
      if (!b) out.set(id, { id, x0: u, y0: v, x1: u, y1: v, pixels: 1 });
      else {
        if (u < b.x0) b.x0 = u;
        if (u > b.x1) b.x1 = u;
        if (v < b.y0) b.y0 = v;
        if (v > b.y1) b.y1 = v;
        b.pixels++;
      }
    }
  }
  return out;
}

function traceRay(
  s: SceneCache,
  nObj: number,
  ox: number,
  oy: number,
  oz: number,
  dx: number,
  dy: number,
  dz: number,
  idsOnly: boolean,
  out: { t: number; r: number; g: number; b: number; id: number },
): void {
  let best = NO_HIT;
  let kind = 0; // 0 none, 1 floor, 2 ceiling, 3 box, 4 cylinder side, 5 cylinder cap
  let which = -1;
  let axis = 0; // box face axis 0 x, 1 y, 2 z; sign in faceSign
  let faceSign = 0;
  if (dz < -1e-12) {
    best = -oz / dz;
    kind = 1;
  } else if (dz > 1e-12) {
    best = (WALL_HEIGHT - oz) / dz;
    kind = 2;
  }
  const idx = 1 / dx;
  const idy = 1 / dy;
  const idz = 1 / dz;
  const B = s.box;
  // walls
  const walls = s.wallBoxes;
  for (let n = 0; n < walls.length; n++) {
    const k = walls[n] as number;
    const o = k * 6;
    let t0 = ((dx >= 0 ? (B[o] as number) : (B[o + 3] as number)) - ox) * idx;
    let t1 = ((dx >= 0 ? (B[o + 3] as number) : (B[o] as number)) - ox) * idx;
    let ax = 0;
    const ty0 = ((dy >= 0 ? (B[o + 1] as number) : (B[o + 4] as number)) - oy) * idy;
    const ty1 = ((dy >= 0 ? (B[o + 4] as number) : (B[o + 1] as number)) - oy) * idy;
    if (ty0 > t0) {
      t0 = ty0;
      ax = 1;
    }
    if (ty1 < t1) t1 = ty1;
    const tz0 = ((dz >= 0 ? (B[o + 2] as number) : (B[o + 5] as number)) - oz) * idz;
    const tz1 = ((dz >= 0 ? (B[o + 5] as number) : (B[o + 2] as number)) - oz) * idz;
    if (tz0 > t0) {
      t0 = tz0;
      ax = 2;
    }
    if (tz1 < t1) t1 = tz1;
    if (t0 <= t1 && t0 > 1e-6 && t0 < best) {
      best = t0;
      kind = 3;
      which = k;
      axis = ax;
      faceSign = ax === 0 ? (dx > 0 ? -1 : 1) : ax === 1 ? (dy > 0 ? -1 : 1) : dz > 0 ? -1 : 1;
    }
  }
  // objects, culled by their bounding cylinder
  const OB = s.objBound;
  const C = s.cyl;
  for (let id = 1; id <= nObj; id++) {
    const bo = id * 4;
    const ex = ox - (OB[bo] as number);
    const ey = oy - (OB[bo + 1] as number);
    const br = OB[bo + 2] as number;
    const a = dx * dx + dy * dy;
    const hb = ex * dx + ey * dy;
    const c = ex * ex + ey * ey - br * br;
    const disc = hb * hb - a * c;
    if (disc < 0) continue;
    const tNear = (-hb - Math.sqrt(disc)) / a;
    if (tNear >= best) continue;
    const tFar = (-hb + Math.sqrt(disc)) / a;
    if (tFar <= 0) continue;
    const boxes = s.objBoxes[id] as number[];
    for (let n = 0; n < boxes.length; n++) {
      const k = boxes[n] as number;
      const o = k * 6;
      let t0 = ((dx >= 0 ? (B[o] as number) : (B[o + 3] as number)) - ox) * idx;
      let t1 = ((dx >= 0 ? (B[o + 3] as number) : (B[o] as number)) - ox) * idx;
      let ax = 0;
      const ty0 = ((dy >= 0 ? (B[o + 1] as number) : (B[o + 4] as number)) - oy) * idy;
      const ty1 = ((dy >= 0 ? (B[o + 4] as number) : (B[o + 1] as number)) - oy) * idy;
      if (ty0 > t0) {
        t0 = ty0;
        ax = 1;
      }
      if (ty1 < t1) t1 = ty1;
      const tz0 = ((dz >= 0 ? (B[o + 2] as number) : (B[o + 5] as number)) - oz) * idz;
      const tz1 = ((dz >= 0 ? (B[o + 5] as number) : (B[o + 2] as number)) - oz) * idz;
      if (tz0 > t0) {
        t0 = tz0;
        ax = 2;
      }
      if (tz1 < t1) t1 = tz1;
      if (t0 <= t1 && t0 > 1e-6 && t0 < best) {
        best = t0;
        kind = 3;
        which = k;
        axis = ax;
        faceSign = ax === 0 ? (dx > 0 ? -1 : 1) : ax === 1 ? (dy > 0 ? -1 : 1) : dz > 0 ? -1 : 1;
      }
    }
    const cyls = s.objCyls[id] as number[];
    for (let n = 0; n < cyls.length; n++) {
      const k = cyls[n] as number;
      const o = k * 5;
      const qx = ox - (C[o] as number);
      const qy = oy - (C[o + 1] as number);
      const r = C[o + 2] as number;
      const z0 = C[o + 3] as number;
      const z1 = C[o + 4] as number;
      const hh = qx * dx + qy * dy;
      const cc = qx * qx + qy * qy - r * r;
      const dd = hh * hh - a * cc;
      if (dd >= 0) {
        const ts = (-hh - Math.sqrt(dd)) / a;
        if (ts > 1e-6 && ts < best) {
          const z = oz + ts * dz;
          if (z >= z0 && z <= z1) {
            best = ts;
            kind = 4;
            which = k;
          }
        }
      }
      // caps
      if (dz !== 0) {
        const zc = oz > z1 ? z1 : oz < z0 ? z0 : NaN;
        if (!Number.isNaN(zc)) {
          const tc = (zc - oz) * idz;
          if (tc > 1e-6 && tc < best) {
            const px = qx + tc * dx;
            const py = qy + tc * dy;
            if (px * px + py * py <= r * r) {
              best = tc;
              kind = 5;
              which = k;
            }
          }
        }
      }
    }
  }

  out.t = best;
  if (kind === 3) out.id = s.boxId[which] as number;
  else if (kind === 4 || kind === 5) out.id = s.cylId[which] as number;
  else out.id = 0;
  if (idsOnly) return;

  const px = ox + best * dx;
  const py = oy + best * dy;
  const pz = oz + best * dz;
  let r = 0;
  let g = 0;
  let b = 0;
  let shade = 1;
  if (kind === 1) {
    const tile = s.floorTile;
    const fx = px / tile;
    const fy = py / tile;
    const ti = Math.floor(fx);
    const tj = Math.floor(fy);
    const gx = fx - ti;
    const gy = fy - tj;
    const grout = gx < 0.04 || gx > 0.96 || gy < 0.04 || gy > 0.96;
    const jitter = 0.82 + 0.36 * h01(ti, tj, s.seed);
    const fine = 0.93 + 0.14 * h01(Math.floor(px * 12), Math.floor(py * 12), s.seed ^ 0x51);
    shade = grout ? 0.5 : jitter * fine;
    [r, g, b] = s.floorColor;
  } else if (kind === 2) {
    [r, g, b] = CEILING;
    shade = 0.92;
  } else if (kind === 3) {
    const o = which * 3;
    r = s.boxColor[o] as number;
    g = s.boxColor[o + 1] as number;
    b = s.boxColor[o + 2] as number;
    // face lighting: light from the north-east and above
    shade = axis === 2 ? (faceSign > 0 ? 1.08 : 0.6) : axis === 0 ? (faceSign > 0 ? 1.0 : 0.82) : faceSign > 0 ? 0.92 : 0.74;
    const pat = s.boxPattern[which] as number;
    if (pat >= 0) {
      const along = axis === 0 ? py : px;
      shade *= wallPattern(pat, along, pz);
    }
  } else if (kind === 4 || kind === 5) {
    const o = which * 3;
    r = s.cylColor[o] as number;
    g = s.cylColor[o + 1] as number;
    b = s.cylColor[o + 2] as number;
    if (kind === 4) {
      const c5 = which * 5;
      const nx = (px - (s.cyl[c5] as number)) / (s.cyl[c5 + 2] as number);
      const ny = (py - (s.cyl[c5 + 1] as number)) / (s.cyl[c5 + 2] as number);
      shade = 0.72 + 0.32 * Math.max(0, 0.8 * nx + 0.6 * ny);
    } else shade = pz > oz ? 0.6 : 1.08;
  }
  const fog = 1 / (1 + 0.025 * best);
  shade *= fog;
  out.r = r * shade;
  out.g = g * shade;
  out.b = b * shade;
}

/** Brightness multiplier of a wall pattern at horizontal coordinate `s` and height `z` (m). */
function wallPattern(pattern: number, s: number, z: number): number {
  if (z < 0.08) return 0.55; // skirting board: marks the floor line
  switch (pattern) {
    case 1: // vertical stripes, 0.25 m
      return Math.floor(s / 0.25) % 2 === 0 ? 1.0 : 0.8;
    case 2: {
      // panels 0.9 m wide with dark seams
      const f = s / 0.9 - Math.floor(s / 0.9);
      return f < 0.05 ? 0.6 : 1.0;
    }
    case 3: // darker wainscot band below 0.9 m
      return z < 0.9 ? 0.7 : z < 0.95 ? 0.5 : 1.0;
    default:
      return 1.0;
  }
}

/** Draws a rectangle outline (inclusive pixel bounds) into an rgb8 image in place. */
export function drawBox(rgb: Uint8Array, W: number, H: number, box: { x0: number; y0: number; x1: number; y1: number }, color: readonly [number, number, number], thickness = 1): void {
  const x0 = Math.max(0, Math.floor(box.x0));
  const y0 = Math.max(0, Math.floor(box.y0));
  const x1 = Math.min(W - 1, Math.ceil(box.x1));
  const y1 = Math.min(H - 1, Math.ceil(box.y1));
  if (x1 < x0 || y1 < y0) return;
  const put = (u: number, v: number) => {
    const p = (v * W + u) * 3;
    rgb[p] = color[0];
    rgb[p + 1] = color[1];
    rgb[p + 2] = color[2];
  };
  for (let k = 0; k < thickness; k++) {
    for (let u = x0; u <= x1; u++) {
      if (y0 + k <= y1) put(u, y0 + k);
      if (y1 - k >= y0) put(u, y1 - k);
    }
    for (let v = y0; v <= y1; v++) {
      if (x0 + k <= x1) put(x0 + k, v);
      if (x1 - k >= x0) put(x1 - k, v);
    }
  }
}
