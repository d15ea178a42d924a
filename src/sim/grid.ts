/**
 * Occupancy grid over the world (map frame, metres) and A* on it.
 * Cells are square, `resolution` metres; cell (i, j) covers x ∈ [x0 + i·res, x0 + (i+1)·res).
 */
import type { Pose2D } from '../core/geometry.js';

export class OccupancyGrid {
  readonly cells: Uint8Array;

  constructor(
    readonly x0: number,
    readonly y0: number,
    readonly width: number,
    readonly height: number,
    readonly resolution: number,
    cells?: Uint8Array,
  ) {
    this.cells = cells ?? new Uint8Array(width * height);
  }

  index(i: number, j: number): number {
    return j * this.width + i;
  }

  inBounds(i: number, j: number): boolean {
    return i >= 0 && j >= 0 && i < this.width && j < this.height;
  }

  /** Cell containing world point (x, y). */
  cellOf(x: number, y: number): [number, number] {
    return [Math.floor((x - this.x0) / this.resolution), Math.floor((y - this.y0) / this.resolution)];
  }

  /** Centre of cell (i, j) in metres. */
  centreOf(i: number, j: number): [number, number] {
    return [this.x0 + (i + 0.5) * this.resolution, this.y0 + (j + 0.5) * this.resolution];
  }

  occupied(i: number, j: number): boolean {
    return !this.inBounds(i, j) || this.cells[this.index(i, j)] !== 0;
  }

  occupiedAt(x: number, y: number): boolean {
    const [i, j] = this.cellOf(x, y);
    return this.occupied(i, j);
  }

  /** Marks cells whose centres fall in the axis-aligned rectangle. */
  fillRect(xa: number, ya: number, xb: number, yb: number, value = 1): void {
    const [i0, j0] = this.cellOf(Math.min(xa, xb), Math.min(ya, yb));
    const [i1, j1] = this.cellOf(Math.max(xa, xb), Math.max(ya, yb));
    for (let j = Math.max(0, j0); j <= Math.min(this.height - 1, j1); j++) {
      for (let i = Math.max(0, i0); i <= Math.min(this.width - 1, i1); i++) {
        const [cx, cy] = this.centreOf(i, j);
        if (cx >= Math.min(xa, xb) && cx <= Math.max(xa, xb) && cy >= Math.min(ya, yb) && cy <= Math.max(ya, yb)) {
          this.cells[this.index(i, j)] = value;
        }
      }
    }
  }

  fillCircle(x: number, y: number, r: number, value = 1): void {
    const [i0, j0] = this.cellOf(x - r, y - r);
    const [i1, j1] = this.cellOf(x + r, y + r);
    for (let j = Math.max(0, j0); j <= Math.min(this.height - 1, j1); j++) {
      for (let i = Math.max(0, i0); i <= Math.min(this.width - 1, i1); i++) {
        const [cx, cy] = this.centreOf(i, j);
        if (Math.hypot(cx - x, cy - y) <= r) this.cells[this.index(i, j)] = value;
      }
    }
  }

  /** A copy with every occupied cell grown by `radius` metres (robot footprint). */
  inflate(radius: number): OccupancyGrid {
    const out = new OccupancyGrid(this.x0, this.y0, this.width, this.height, this.resolution);
    const rc = Math.ceil(radius / this.resolution);
    const offsets: [number, number][] = [];
    for (let dj = -rc; dj <= rc; dj++) for (let di = -rc; di <= rc; di++) {
      if (Math.hypot(di, dj) * this.resolution <= radius) offsets.push([di, dj]);
    }
    for (let j = 0; j < this.height; j++) {
      for (let i = 0; i < this.width; i++) {
        if (this.cells[this.index(i, j)] === 0) continue;
        for (const [di, dj] of offsets) {
          const a = i + di;
          const b = j + dj;
          if (this.inBounds(a, b)) out.cells[out.index(a, b)] = 1;
        }
      }
    }
    return out;
  }

  /** Distance transform: metres from each free cell to the nearest occupied cell (8-neighbour chamfer). */
  distanceField(): Float32Array {
    const d = new Float32Array(this.width * this.height);
    const INF = 1e9;
    for (let k = 0; k < d.length; k++) d[k] = this.cells[k] !== 0 ? 0 : INF;
    const r = this.resolution;
    const diag = r * Math.SQRT2;
    const w = this.width;
    for (let j = 0; j < this.height; j++) for (let i = 0; i < w; i++) {
      const k = j * w + i;
      let v = d[k] as number;
      if (i > 0) v = Math.min(v, (d[k - 1] as number) + r);
      if (j > 0) {
        v = Math.min(v, (d[k - w] as number) + r);
        if (i > 0) v = Math.min(v, (d[k - w - 1] as number) + diag);
        if (i < w - 1) v = Math.min(v, (d[k - w + 1] as number) + diag);
      }
      d[k] = v;
    }
    for (let j = this.height - 1; j >= 0; j--) for (let i = w - 1; i >= 0; i--) {
      const k = j * w + i;
      let v = d[k] as number;
      if (i < w - 1) v = Math.min(v, (d[k + 1] as number) + r);
      if (j < this.height - 1) {
        v = Math.min(v, (d[k + w] as number) + r);
        if (i < w - 1) v = Math.min(v, (d[k + w + 1] as number) + diag);
        if (i > 0) v = Math.min(v, (d[k + w - 1] as number) + diag);
      }
      d[k] = v;
    }
    return d;
  }

  /** Cells reachable from (x, y) through free cells (4-connected flood fill); 1 = reachable. */
  reachableFrom(x: number, y: number): Uint8Array {
    const seen = new Uint8Array(this.width * this.height);
    const [si, sj] = this.cellOf(x, y);
    if (this.occupied(si, sj)) return seen;
    const stack = [this.index(si, sj)];
    seen[this.index(si, sj)] = 1;
    while (stack.length > 0) {
      const k = stack.pop() as number;
      const i = k % this.width;
      const j = (k - i) / this.width;
      for (const [a, b] of [[i + 1, j], [i - 1, j], [i, j + 1], [i, j - 1]] as const) {
        if (!this.inBounds(a, b)) continue;
        const kk = this.index(a, b);
        if (seen[kk] || this.cells[kk] !== 0) continue;
        seen[kk] = 1;
        stack.push(kk);
      }
    }
    return seen;
  }

  /** True when the straight segment between two points crosses no occupied cell. */
  lineFree(ax: number, ay: number, bx: number, by: number): boolean {
    const len = Math.hypot(bx - ax, by - ay);
    const n = Math.max(1, Math.ceil(len / (this.resolution * 0.5)));
    for (let s = 0; s <= n; s++) {
      const t = s / n;
      if (this.occupiedAt(ax + (bx - ax) * t, ay + (by - ay) * t)) return false;
    }
    return true;
  }
}

/** Binary heap keyed by number, for A*. */
class MinHeap {
  private keys: number[] = [];
  private vals: number[] = [];
  get size(): number {
    return this.keys.length;
  }
  push(key: number, val: number): void {
    const k = this.keys;
    const v = this.vals;
    k.push(key);
    v.push(val);
    let i = k.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if ((k[p] as number) <= key) break;
      k[i] = k[p] as number;
      v[i] = v[p] as number;
      i = p;
    }
    k[i] = key;
    v[i] = val;
  }
  pop(): number {
    const k = this.keys;
    const v = this.vals;
    const top = v[0] as number;
    const lk = k.pop() as number;
    const lv = v.pop() as number;
    if (k.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= k.length) break;
        const r = l + 1;
        const c = r < k.length && (k[r] as number) < (k[l] as number) ? r : l;
        if ((k[c] as number) >= lk) break;
        k[i] = k[c] as number;
        v[i] = v[c] as number;
        i = c;
      }
      k[i] = lk;
      v[i] = lv;
    }
    return top;
  }
}

/**
 * A* from start to goal (metres) over free cells, 8-connected, with an optional extra cost per
 * cell (e.g. to keep away from walls). Returns the path as points in metres (start and goal
 * included) or undefined when the goal is unreachable.
 */
export function aStar(
  grid: OccupancyGrid,
  sx: number,
  sy: number,
  gx: number,
  gy: number,
  cellCost?: Float32Array,
): [number, number][] | undefined {
  const [si, sj] = grid.cellOf(sx, sy);
  const [gi, gj] = grid.cellOf(gx, gy);
  if (grid.occupied(si, sj) || grid.occupied(gi, gj)) return undefined;
  const w = grid.width;
  const n = w * grid.height;
  const g = new Float64Array(n).fill(Infinity);
  const parent = new Int32Array(n).fill(-1);
  const closed = new Uint8Array(n);
  const start = grid.index(si, sj);
  const goal = grid.index(gi, gj);
  g[start] = 0;
  const heap = new MinHeap();
  const h = (i: number, j: number) => Math.hypot(i - gi, j - gj);
  heap.push(h(si, sj), start);
  const nbr: [number, number, number][] = [
    [1, 0, 1], [-1, 0, 1], [0, 1, 1], [0, -1, 1],
    [1, 1, Math.SQRT2], [1, -1, Math.SQRT2], [-1, 1, Math.SQRT2], [-1, -1, Math.SQRT2],
  ];
  while (heap.size > 0) {
    const k = heap.pop();
    if (closed[k]) continue;
    closed[k] = 1;
    if (k === goal) break;
    const i = k % w;
    const j = (k - i) / w;
    for (const [di, dj, c] of nbr) {
      const a = i + di;
      const b = j + dj;
      if (grid.occupied(a, b)) continue;
      if (di !== 0 && dj !== 0 && (grid.occupied(i + di, j) || grid.occupied(i, j + dj))) continue;
      const kk = grid.index(a, b);
      if (closed[kk]) continue;
      const ng = (g[k] as number) + c * (1 + (cellCost ? (cellCost[kk] as number) : 0));
      if (ng < (g[kk] as number)) {
        g[kk] = ng;
        parent[kk] = k;
        heap.push(ng + h(a, b), kk);
      }
    }
  }
  if (!closed[goal]) return undefined;
  const cells: number[] = [];
  for (let k = goal; k !== -1; k = parent[k] as number) cells.push(k);
  cells.reverse();
  const pts: [number, number][] = cells.map((k) => grid.centreOf(k % w, Math.floor(k / w)));
  pts[0] = [sx, sy];
  pts[pts.length - 1] = [gx, gy];
  return pts;
}

/** Removes intermediate points while the straight shortcut stays free (string pulling). */
export function smoothPath(grid: OccupancyGrid, pts: [number, number][]): [number, number][] {
  if (pts.length <= 2) return pts.slice();
  const out: [number, number][] = [pts[0] as [number, number]];
  let i = 0;
  while (i < pts.length - 1) {
    let j = pts.length - 1;
    const a = pts[i] as [number, number];
    while (j > i + 1 && !grid.lineFree(a[0], a[1], (pts[j] as [number, number])[0], (pts[j] as [number, number])[1])) j--;
    out.push(pts[j] as [number, number]);
    i = j;
  }
  return out;
}

/** Length of a polyline in metres. */
export function pathLength(pts: readonly (readonly [number, number])[]): number {
  let s = 0;
  for (let k = 1; k < pts.length; k++) {
    const a = pts[k - 1] as readonly [number, number];
    const b = pts[k] as readonly [number, number];
    s += Math.hypot(b[0] - a[0], b[1] - a[1]);
  }
  return s;
}

/** Point at arc length s along a polyline (clamped), and the tangent heading there. */
export function pointAlong(pts: readonly (readonly [number, number])[], s: number): Pose2D {
  let acc = 0;
  for (let k = 1; k < pts.length; k++) {
    const a = pts[k - 1] as readonly [number, number];
    const b = pts[k] as readonly [number, number];
    const L = Math.hypot(b[0] - a[0], b[1] - a[1]);
    if (acc + L >= s || k === pts.length - 1) {
      const t = L > 0 ? Math.min(1, Math.max(0, (s - acc) / L)) : 0;
      return { x: a[0] + (b[0] - a[0]) * t, y: a[1] + (b[1] - a[1]) * t, yaw: Math.atan2(b[1] - a[1], b[0] - a[0]) };
    }
    acc += L;
  }
  const p = pts[0] as readonly [number, number];
  return { x: p[0], y: p[1], yaw: 0 };
}
