/**
 * Reading the auxiliary red box back from an imagined frame. Pure.
 *
 * The model draws a 1-px pure-red (255, 0, 0) outline around the target's 2D box (inclusive
 * pixel bounds of the object, so the outline lies on the object's outermost pixels). Decoded
 * frames are blurry: the outline may be washed out to e.g. (200, 40, 40) or smeared over three
 * pixels. The detector therefore keys on *redness* s = r − max(g, b) and accepts a pixel when
 * - it is a redness ridge: s exceeds both neighbours two pixels away (left/right or up/down) by
 *   ≥ `ridgeThreshold` (a thin line redder than what lies on either side of it, even when the
 *   blur mixed it with a blue object until r < b), or
 * - it is strongly red on its own: s ≥ `absoluteThreshold`.
 * The accepted pixels are grouped into 8-connected components; components near each other
 * (within `mergeGapPx`) are merged (a blurred outline breaks into pieces); each group is fitted
 * with an axis-aligned rectangle whose sides are refined to sub-pixel precision, and scored by
 * how much of the rectangle's outline is covered (all four sides) and how empty its interior is
 * (a filled red blob is not a box outline). Groups of fewer than `minPixels` pixels, narrower than
 * `minSidePx`, or without a pixel of redness ≥ `minPeakRedness` are noise.
 *
 * Image layout everywhere: rgb8, H×W×3, row-major. Coordinates are CONTINUOUS pixel
 * coordinates: pixel (u, v) covers [u, u+1)×[v, v+1), centre (u+0.5, v+0.5).
 */
import { BadFrameError, ParameterError } from '../errors.js';

/** A detected box, in continuous pixel coordinates. */
export interface BoxDetection {
  /** Left / top edge of the outline = left / top edge of the object (px). */
  x0: number;
  y0: number;
  /** Right / bottom edge of the outline = right / bottom edge of the object (px). */
  x1: number;
  y1: number;
  /** Centre ((x0 + x1) / 2, (y0 + y1) / 2) (px). */
  cx: number;
  cy: number;
  /** Outline quality in [0, 1]: side coverage × (1 − interior fill). */
  score: number;
  /** Red pixels that make up the outline. */
  pixels: number;
  /** Which sides touch the image border (the object may extend beyond it). */
  clipped: { left: boolean; top: boolean; right: boolean; bottom: boolean };
}

export interface BoxDetectorParams {
  /** Redness ridge height (r − max(g, b) above both neighbours 2 px away) to accept a pixel. Default 40. */
  ridgeThreshold: number;
  /** Redness r − max(g, b) that accepts a pixel by itself. Default 100. */
  absoluteThreshold: number;
  /** Smallest group of red pixels that can be a box (px). Default 6. */
  minPixels: number;
  /** Groups whose bounding boxes come this close (px) are merged. Default 2. */
  mergeGapPx: number;
  /** Smallest accepted outline score in [0, 1]. Default 0.45. */
  minScore: number;
  /**
   * Smallest box side (px). Default 4: thin stripes of floor between strongly green or blue
   * furniture legs are redness ridges too, but never a closed outline at least 4 px wide.
   */
  minSidePx: number;
  /**
   * The reddest pixel of a box must reach this redness r − max(g, b). Default 60: a drawn outline,
   * even blurred or washed out, has red pixels well above brown furniture (≈ 40), whose thin legs
   * against a blue wall are redness ridges too.
   */
  minPeakRedness: number;
}

export const DEFAULT_BOX_DETECTOR_PARAMS: Readonly<BoxDetectorParams> = Object.freeze({
  ridgeThreshold: 40,
  absoluteThreshold: 100,
  minPixels: 6,
  mergeGapPx: 2,
  minScore: 0.45,
  minSidePx: 4,
  minPeakRedness: 60,
});

/** Redness r − max(g, b) of pixel p (index in pixels) of an rgb8 image. */
function rednessAt(rgb: Uint8Array, p: number): number {
  const r = rgb[p * 3] as number;
  const g = rgb[p * 3 + 1] as number;
  const b = rgb[p * 3 + 2] as number;
  return r - (g > b ? g : b);
}

/** Checks that `rgb` is an rgb8 W×H image; throws BadFrameError quoting the sizes otherwise. */
export function checkRgbImage(rgb: Uint8Array, W: number, H: number, where: string): void {
  if (!Number.isInteger(W) || !Number.isInteger(H) || W <= 0 || H <= 0) {
    throw new BadFrameError(`${where}: image size must be positive integers, got ${W}x${H}`);
  }
  if (rgb.length !== W * H * 3) {
    throw new BadFrameError(`${where}: rgb8 buffer of a ${W}x${H} image must have ${W * H * 3} bytes, got ${rgb.length}`);
  }
}

function checkParams(p: BoxDetectorParams): void {
  const positive: (keyof BoxDetectorParams)[] = ['ridgeThreshold', 'absoluteThreshold', 'minPixels', 'minSidePx', 'minPeakRedness'];
  for (const k of positive) {
    if (!(Number.isFinite(p[k]) && p[k] > 0)) throw new ParameterError(`box detector: ${k} must be a positive number, got ${p[k]}`);
  }
  if (!(Number.isInteger(p.mergeGapPx) && p.mergeGapPx >= 0)) throw new ParameterError(`box detector: mergeGapPx must be a non-negative integer, got ${p.mergeGapPx}`);
  if (!(p.minScore >= 0 && p.minScore <= 1)) throw new ParameterError(`box detector: minScore must be in [0, 1], got ${p.minScore}`);
}

/** Redness map s = r − max(g, b) (Float32Array, H×W). */
export function rednessMap(rgb: Uint8Array, W: number, H: number): Float32Array {
  checkRgbImage(rgb, W, H, 'rednessMap');
  const s = new Float32Array(W * H);
  for (let p = 0; p < W * H; p++) s[p] = rednessAt(rgb, p);
  return s;
}

/**
 * The red-pixel mask of the detector (H×W, 1 = red): redness ridge ≥ ridgeThreshold or redness ≥
 * absoluteThreshold. Exposed for masking the box out of images (anchoring) and for tests.
 */
export function redMask(rgb: Uint8Array, W: number, H: number, params: Partial<BoxDetectorParams> = {}): Uint8Array {
  const prm = { ...DEFAULT_BOX_DETECTOR_PARAMS, ...params };
  checkParams(prm);
  const s = rednessMap(rgb, W, H);
  return maskFromRedness(s, W, H, prm);
}

function maskFromRedness(s: Float32Array, W: number, H: number, prm: BoxDetectorParams): Uint8Array {
  const m = new Uint8Array(W * H);
  for (let v = 0; v < H; v++) {
    for (let u = 0; u < W; u++) {
      const p = v * W + u;
      const sp = s[p] as number;
      if (sp >= prm.absoluteThreshold) {
        m[p] = 1;
        continue;
      }
      // a ridge across x (vertical line) or across y (horizontal line); at the border the
      // missing neighbour does not count against it
      const l = u >= 2 ? (s[p - 2] as number) : -Infinity;
      const r = u + 2 < W ? (s[p + 2] as number) : -Infinity;
      const t = v >= 2 ? (s[p - 2 * W] as number) : -Infinity;
      const b = v + 2 < H ? (s[p + 2 * W] as number) : -Infinity;
      const rx = l === -Infinity && r === -Infinity ? -Infinity : sp - Math.max(l, r);
      const ry = t === -Infinity && b === -Infinity ? -Infinity : sp - Math.max(t, b);
      if (Math.max(rx, ry) >= prm.ridgeThreshold) m[p] = 1;
    }
  }
  return m;
}

interface Group {
  u0: number;
  v0: number;
  u1: number;
  v1: number;
  pixels: number[];
}

/** 8-connected components of a mask. */
function components(m: Uint8Array, W: number, H: number): Group[] {
  const label = new Int32Array(W * H).fill(-1);
  const out: Group[] = [];
  const stack: number[] = [];
  for (let p0 = 0; p0 < W * H; p0++) {
    if (m[p0] === 0 || (label[p0] as number) >= 0) continue;
    const g: Group = { u0: W, v0: H, u1: -1, v1: -1, pixels: [] };
    label[p0] = out.length;
    stack.push(p0);
    while (stack.length > 0) {
      const p = stack.pop() as number;
      const u = p % W;
      const v = (p - u) / W;
      g.pixels.push(p);
      if (u < g.u0) g.u0 = u;
      if (u > g.u1) g.u1 = u;
      if (v < g.v0) g.v0 = v;
      if (v > g.v1) g.v1 = v;
      for (let dv = -1; dv <= 1; dv++) {
        const vv = v + dv;
        if (vv < 0 || vv >= H) continue;
        for (let du = -1; du <= 1; du++) {
          const uu = u + du;
          if (uu < 0 || uu >= W) continue;
          const q = vv * W + uu;
          if (m[q] === 1 && (label[q] as number) < 0) {
            label[q] = out.length;
            stack.push(q);
          }
        }
      }
    }
    out.push(g);
  }
  return out;
}

/** Merges groups whose bounding boxes, grown by `gap` px, intersect (until stable). */
function mergeGroups(groups: Group[], gap: number): Group[] {
  const gs = groups.slice();
  let changed = true;
  while (changed) {
    changed = false;
    outer: for (let i = 0; i < gs.length; i++) {
      for (let j = i + 1; j < gs.length; j++) {
        const a = gs[i] as Group;
        const b = gs[j] as Group;
        if (a.u0 - gap <= b.u1 && b.u0 - gap <= a.u1 && a.v0 - gap <= b.v1 && b.v0 - gap <= a.v1) {
          gs[i] = {
            u0: Math.min(a.u0, b.u0),
            v0: Math.min(a.v0, b.v0),
            u1: Math.max(a.u1, b.u1),
            v1: Math.max(a.v1, b.v1),
            pixels: a.pixels.concat(b.pixels),
          };
          gs.splice(j, 1);
          changed = true;
          break outer;
        }
      }
    }
  }
  return gs;
}

/**
 * Sub-pixel centre of a line crossing pixel column/row `c` (integer), from the redness profile
 * across it: centroid of max(0, s − base) over c−1…c+1, base = the lower of s at c±2.
 * `at(k)` returns redness at integer offset k along the profile, or undefined outside the image.
 */
function lineCentre(at: (k: number) => number | undefined, c: number): number {
  const a = at(c - 2);
  const b = at(c + 2);
  if (a === undefined || b === undefined) return c + 0.5;
  const base = Math.min(a, b);
  let sw = 0;
  let sx = 0;
  for (let k = -1; k <= 1; k++) {
    const s = at(c + k);
    if (s === undefined) continue;
    const w = Math.max(0, s - base);
    sw += w;
    sx += w * (c + k + 0.5);
  }
  return sw > 0 ? sx / sw : c + 0.5;
}

/** Fits and scores a group; undefined when it is not a box outline. */
/**
 * The group's rectangle trimmed to its outline: stray red pixels beyond a side (a blurred
 * corner, a stub where the model overshot a line) widen the bounding box but are not lines.
 * Each side moves in to the first column (row) whose red count reaches 60 % of the largest count
 * in its half of the rectangle.
 */
function trimToLines(g: Group, m: Uint8Array, W: number): { u0: number; v0: number; u1: number; v1: number } {
  const bw = g.u1 - g.u0 + 1;
  const bh = g.v1 - g.v0 + 1;
  const col = new Int32Array(bw);
  const row = new Int32Array(bh);
  for (let v = g.v0; v <= g.v1; v++) {
    for (let u = g.u0; u <= g.u1; u++) {
      if (m[v * W + u] === 1) {
        col[u - g.u0] = (col[u - g.u0] as number) + 1;
        row[v - g.v0] = (row[v - g.v0] as number) + 1;
      }
    }
  }
  const firstFrom = (c: Int32Array, fromStart: boolean): number => {
    const half = Math.ceil(c.length / 2);
    let max = 0;
    for (let k = 0; k < half; k++) max = Math.max(max, c[fromStart ? k : c.length - 1 - k] as number);
    for (let k = 0; k < half; k++) if ((c[fromStart ? k : c.length - 1 - k] as number) >= 0.6 * max) return k;
    return 0;
  };
  return { u0: g.u0 + firstFrom(col, true), u1: g.u1 - firstFrom(col, false), v0: g.v0 + firstFrom(row, true), v1: g.v1 - firstFrom(row, false) };
}

function fitGroup(g: Group, s: Float32Array, m: Uint8Array, W: number, H: number, minSide: number): BoxDetection | undefined {
  const { u0, v0, u1, v1 } = trimToLines(g, m, W);
  const bw = u1 - u0 + 1;
  const bh = v1 - v0 + 1;
  if (bw < minSide || bh < minSide) return undefined;
  const red = (u: number, v: number) => u >= 0 && u < W && v >= 0 && v < H && m[v * W + u] === 1;
  // side coverage: a perimeter pixel counts when a red pixel lies within 1 px across the side
  const cover = (n: number, at: (k: number) => [number, number], across: [number, number]) => {
    let hit = 0;
    for (let k = 0; k < n; k++) {
      const [u, v] = at(k);
      if (red(u, v) || red(u + across[0], v + across[1]) || red(u - across[0], v - across[1])) hit++;
    }
    return n > 0 ? hit / n : 0;
  };
  const clipped = { left: u0 === 0, top: v0 === 0, right: u1 === W - 1, bottom: v1 === H - 1 };
  const nClipped = Number(clipped.left) + Number(clipped.top) + Number(clipped.right) + Number(clipped.bottom);
  // a side on the image border belongs to an object the frame cuts off: the model may not draw
  // it there, so it counts as covered, as long as at least two sides are drawn (a blob in a corner is not a box)
  const onBorder = (side: boolean) => side && nClipped <= 2;
  const top = onBorder(clipped.top) ? 1 : cover(bw, (k) => [u0 + k, v0], [0, 1]);
  const bottom = onBorder(clipped.bottom) ? 1 : cover(bw, (k) => [u0 + k, v1], [0, 1]);
  const left = onBorder(clipped.left) ? 1 : cover(bh, (k) => [u0, v0 + k], [1, 0]);
  const right = onBorder(clipped.right) ? 1 : cover(bh, (k) => [u1, v0 + k], [1, 0]);
  const coverage = (top + bottom + left + right) / 4;
  // interior fill, inside the outline by its width: 1 px for the 1-px line the ridge test keeps
  // of a blurred outline, more where the model drew it thick (median red run in from each side)
  const inset = 1 + lineExtraWidth(m, W, u0, v0, u1, v1);
  let inside = 0;
  let filled = 0;
  for (let v = v0 + inset; v <= v1 - inset; v++) {
    for (let u = u0 + inset; u <= u1 - inset; u++) {
      inside++;
      if (m[v * W + u] === 1) filled++;
    }
  }
  const fill = inside > 0 ? filled / inside : 0;
  const score = coverage * (1 - fill);
  // sub-pixel sides: average line centre along each side (interior part of the side)
  const sAt = (u: number, v: number) => (u >= 0 && u < W && v >= 0 && v < H ? (s[v * W + u] as number) : undefined);
  const avg = (vals: number[], fallback: number) => (vals.length > 0 ? vals.reduce((a, b) => a + b, 0) / vals.length : fallback);
  const rowsL: number[] = [];
  const rowsR: number[] = [];
  for (let v = v0 + 1; v <= v1 - 1; v++) {
    if (red(u0, v)) rowsL.push(lineCentre((k) => sAt(k, v), u0));
    if (red(u1, v)) rowsR.push(lineCentre((k) => sAt(k, v), u1));
  }
  const colsT: number[] = [];
  const colsB: number[] = [];
  for (let u = u0 + 1; u <= u1 - 1; u++) {
    if (red(u, v0)) colsT.push(lineCentre((k) => sAt(u, k), v0));
    if (red(u, v1)) colsB.push(lineCentre((k) => sAt(u, k), v1));
  }
  // a blurred line may have been accepted one pixel wide of its centre: the refined centre stays
  // within the fitted column ± 1
  const x0 = avg(rowsL, u0 + 0.5) - 0.5;
  const x1 = avg(rowsR, u1 + 0.5) + 0.5;
  const y0 = avg(colsT, v0 + 0.5) - 0.5;
  const y1 = avg(colsB, v1 + 0.5) + 0.5;
  return {
    x0,
    y0,
    x1,
    y1,
    cx: (x0 + x1) / 2,
    cy: (y0 + y1) / 2,
    score,
    pixels: g.pixels.length,
    clipped,
  };
}

/**
 * How much wider than 1 px the outline of the rectangle (u0, v0)–(u1, v1) is drawn: the median,
 * over the rows and columns crossing it, of the red run going inwards from each side, minus 1;
 * at most a quarter of the smaller side (so a filled blob keeps a core to count as filled).
 */
function lineExtraWidth(m: Uint8Array, W: number, u0: number, v0: number, u1: number, v1: number): number {
  const runs: number[] = [];
  const run = (start: number, step: number, n: number) => {
    let k = 0;
    while (k < n && m[start + k * step] === 1) k++;
    return k;
  };
  const bw = u1 - u0 + 1;
  const bh = v1 - v0 + 1;
  for (let v = v0 + 1; v <= v1 - 1; v++) {
    const l = run(v * W + u0, 1, bw);
    const r = run(v * W + u1, -1, bw);
    if (l > 0) runs.push(l);
    if (r > 0) runs.push(r);
  }
  for (let u = u0 + 1; u <= u1 - 1; u++) {
    const t = run(v0 * W + u, W, bh);
    const b = run(v1 * W + u, -W, bh);
    if (t > 0) runs.push(t);
    if (b > 0) runs.push(b);
  }
  if (runs.length === 0) return 0;
  runs.sort((a, b) => a - b);
  const median = runs[Math.floor(runs.length / 2)] as number;
  return Math.max(0, Math.min(median - 1, Math.floor(Math.min(bw, bh) / 4)));
}

/**
 * Finds the red box outline in an rgb8 W×H frame, or undefined when there is none (no group of
 * red pixels large enough whose rectangle fit scores ≥ minScore). With several candidates the one
 * with the most outline evidence (pixels × score) wins.
 * @throws BadFrameError when the buffer does not hold W×H×3 bytes.
 * @throws ParameterError for invalid detector parameters.
 */
export function detectBox(rgb: Uint8Array, W: number, H: number, params: Partial<BoxDetectorParams> = {}): BoxDetection | undefined {
  checkRgbImage(rgb, W, H, 'detectBox');
  const prm = { ...DEFAULT_BOX_DETECTOR_PARAMS, ...params };
  checkParams(prm);
  const s = rednessMap(rgb, W, H);
  const m = maskFromRedness(s, W, H, prm);
  const groups = mergeGroups(
    components(m, W, H).filter((g) => g.pixels.length >= 2),
    prm.mergeGapPx,
  ).filter((g) => g.pixels.length >= prm.minPixels);
  let best: BoxDetection | undefined;
  for (const g of groups) {
    let peak = -Infinity;
    for (const p of g.pixels) peak = Math.max(peak, s[p] as number);
    if (peak < prm.minPeakRedness) continue;
    const d = fitGroup(g, s, m, W, H, prm.minSidePx);
    if (!d || d.score < prm.minScore) continue;
    if (!best || d.pixels * d.score > best.pixels * best.score) best = d;
  }
  return best;
}

/**
 * Horizontal centring error of a box: |cx − W/2| / W, in [0, 0.5]; 0 = the box centre is on the
 * image's vertical centre line. Only the horizontal offset counts: with a level camera 0.5 m high,
 * low objects sit below the image centre even when the robot faces them squarely, so a vertical
 * term would fail the ground truth itself (DESIGN §7). At the ground-truth standoff pose (facing
 * the object's centre) sd ≈ 0.
 * @throws ParameterError when W is not a positive number.
 */
export function sd(box: Pick<BoxDetection, 'cx'>, W: number): number {
  if (!(W > 0)) throw new ParameterError(`sd: image width must be positive, got ${W}`);
  return Math.abs(box.cx - W / 2) / W;
}

/** The dominant colour of the pixels inside a box. */
export interface DominantColor {
  /** Mean rgb of the dominant colour cluster, 0…255. */
  rgb: [number, number, number];
  /** Share of the inspected interior pixels in that cluster, in (0, 1]. */
  share: number;
  /** Interior pixels inspected (non-red). */
  pixels: number;
}

/** Colour histogram: 16 levels per channel. */
const COLOR_BITS = 4;
const COLOR_LEVELS = 1 << COLOR_BITS;
const COLOR_SHIFT = 8 - COLOR_BITS;

function colorBin(rgb: Uint8Array, p: number): number {
  return (((rgb[p * 3] as number) >> COLOR_SHIFT) * COLOR_LEVELS + ((rgb[p * 3 + 1] as number) >> COLOR_SHIFT)) * COLOR_LEVELS + ((rgb[p * 3 + 2] as number) >> COLOR_SHIFT);
}

/** Per bin: the pixel count of its 3×3×3 neighbourhood of bins. */
function neighbourhoodCounts(rgb: Uint8Array, ps: readonly number[]): Float32Array {
  const L = COLOR_LEVELS;
  const hist = new Float32Array(L ** 3);
  for (const p of ps) {
    const bin = colorBin(rgb, p);
    hist[bin] = (hist[bin] as number) + 1;
  }
  const out = new Float32Array(L ** 3);
  for (let bin = 0; bin < hist.length; bin++) {
    const n = hist[bin] as number;
    if (n === 0) continue;
    const r = Math.floor(bin / (L * L));
    const g = Math.floor(bin / L) % L;
    const b = bin % L;
    for (let dr = -1; dr <= 1; dr++) for (let dg = -1; dg <= 1; dg++) for (let db = -1; db <= 1; db++) {
      const rr = r + dr;
      const gg = g + dg;
      const bb = b + db;
      if (rr < 0 || gg < 0 || bb < 0 || rr >= L || gg >= L || bb >= L) continue;
      const q = (rr * L + gg) * L + bb;
      out[q] = (out[q] as number) + n;
    }
  }
  return out;
}

/**
 * The dominant non-red colour inside a detected box (the object's colour in this world).
 * Interior = 2 px inside the outline (1 px for small boxes); surround = a ring outside the box,
 * max(2, ¼ of the box's smaller side) wide; red pixels (the detector's mask) are left out of
 * both. Colours are binned at 16 levels per channel and grouped with their 3×3×3 neighbouring
 * bins; the group most over-represented inside relative to the surround (interior share minus
 * surround share — the wall seen between a chair's legs is in both) wins, and the mean of its
 * interior pixels is returned. Undefined when no interior pixel is left.
 * @throws BadFrameError when the buffer does not hold W×H×3 bytes.
 */
export function objectPixelsColor(rgb: Uint8Array, W: number, H: number, box: Pick<BoxDetection, 'x0' | 'y0' | 'x1' | 'y1'>): DominantColor | undefined {
  checkRgbImage(rgb, W, H, 'objectPixelsColor');
  const mask = redMask(rgb, W, H);
  // outline columns/rows (integer) from the continuous edges
  const ou0 = Math.round(box.x0);
  const ou1 = Math.round(box.x1) - 1;
  const ov0 = Math.round(box.y0);
  const ov1 = Math.round(box.y1) - 1;
  const pick = (inset: number): number[] => {
    const ps: number[] = [];
    for (let v = Math.max(0, ov0 + inset); v <= Math.min(H - 1, ov1 - inset); v++) {
      for (let u = Math.max(0, ou0 + inset); u <= Math.min(W - 1, ou1 - inset); u++) {
        const p = v * W + u;
        if (mask[p] === 0) ps.push(p);
      }
    }
    return ps;
  };
  let inside = pick(2);
  if (inside.length === 0) inside = pick(1);
  if (inside.length === 0) return undefined;
  const ring = Math.max(2, Math.round(Math.min(ou1 - ou0 + 1, ov1 - ov0 + 1) / 4));
  const surround: number[] = [];
  for (let v = Math.max(0, ov0 - ring); v <= Math.min(H - 1, ov1 + ring); v++) {
    for (let u = Math.max(0, ou0 - ring); u <= Math.min(W - 1, ou1 + ring); u++) {
      if (u >= ou0 && u <= ou1 && v >= ov0 && v <= ov1) continue;
      const p = v * W + u;
      if (mask[p] === 0) surround.push(p);
    }
  }
  const cin = neighbourhoodCounts(rgb, inside);
  const cout = surround.length > 0 ? neighbourhoodCounts(rgb, surround) : undefined;
  let bestBin = -1;
  let best = -Infinity;
  for (let bin = 0; bin < cin.length; bin++) {
    const ci = cin[bin] as number;
    if (ci === 0) continue;
    const e = ci / inside.length - (cout ? (cout[bin] as number) / surround.length : 0);
    if (e > best) {
      best = e;
      bestBin = bin;
    }
  }
  const L = COLOR_LEVELS;
  const br = Math.floor(bestBin / (L * L));
  const bg = Math.floor(bestBin / L) % L;
  const bb = bestBin % L;
  let n = 0;
  const sum = [0, 0, 0];
  for (const p of inside) {
    const r = (rgb[p * 3] as number) >> COLOR_SHIFT;
    const g = (rgb[p * 3 + 1] as number) >> COLOR_SHIFT;
    const b = (rgb[p * 3 + 2] as number) >> COLOR_SHIFT;
    if (Math.abs(r - br) <= 1 && Math.abs(g - bg) <= 1 && Math.abs(b - bb) <= 1) {
      n++;
      sum[0] = (sum[0] as number) + (rgb[p * 3] as number);
      sum[1] = (sum[1] as number) + (rgb[p * 3 + 1] as number);
      sum[2] = (sum[2] as number) + (rgb[p * 3 + 2] as number);
    }
  }
  return {
    rgb: [Math.round((sum[0] as number) / n), Math.round((sum[1] as number) / n), Math.round((sum[2] as number) / n)],
    share: n / inside.length,
    pixels: inside.length,
  };
}
