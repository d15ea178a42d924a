/**
 * Planar visual odometry by direct ground-plane alignment. Pure TypeScript, no OpenCV.
 *
 * The robot moves in the plane and the camera's height and intrinsics are known, so the floor is
 * a plane of known metric position in every view: a floor pixel of frame B back-projects to a
 * floor point q (body frame of B, metres); for a candidate motion θ = (dx, dy, dyaw) = B's pose in
 * A's body frame that point lies at R(dyaw)·q + (dx, dy) in A's body frame and projects to a pixel
 * of A. The motion is the one for which the two frames agree there (photometric error on
 * luminance and two opponent-colour channels, Cauchy loss). The scale is metric by construction:
 * no triangulation, no essential matrix (ORB + essential matrix was measured and is far worse on
 * these small, weakly textured frames: see docs/path.md and src/vision/vo.ts).
 *
 * Floor pixels are those whose ray meets the floor within `maxFloorRangeM`; every other pixel
 * (walls, furniture, far floor) is placed `farM` away, i.e. it constrains the rotation only. Such
 * pixels get weight `gridUpperWeight` in the coarse search (floors are periodic: the walls pick
 * the right tile-aligned basin) and `upperWeight` (default 0) in the refinement, where walls a
 * few metres away would bias the translation.
 *
 * Steps (coarse to fine over an image pyramid):
 *   1. prepare both frames: colour channels, a light blur, 2× pyramid; mask the red box pixels;
 *   2. exhaustive grid over (dx, dy, dyaw) at the coarsest level, truncated L1 cost over the
 *      pixels that land inside A (at least 30 % of them must): ranked on a checkerboard of pixels
 *      read from a quarter-pixel table of A, then steepest descents with every pixel and exact
 *      bilinear lookups from the best minima (gridSampleStride, gridRankSubpixel, gridDescentStarts);
 *   3. Levenberg–Marquardt with Cauchy weights (analytic Jacobian: the bilinear interpolant's
 *      gradient times the projection's derivative; one pass per try) from the best few grid minima
 *      at the two coarsest levels, the winner level by level to full resolution (a refinement that
 *      leaves the searched box is dropped);
 *   4. confidence from the share of floor pixels that agree (inliers) and how distinct the
 *      minimum was in the grid.
 *
 * Known limits (measured, docs/path.md): facing a wall or furniture at 1–2 m, most "floor band"
 * pixels are not floor and the translation is biased; periodic tiles can alias the translation by
 * a tile when little else is in view. The confidence catches some of these cases, not all.
 *
 * Frames are rgb8 H×W×3 row-major; the camera gives W, H and intrinsics in continuous pixel
 * coordinates (pixel (u, v) has its centre at (u + 0.5, v + 0.5)).
 */
import type { PinholeCamera } from '../camera.js';
import { BadFrameError, ParameterError } from '../errors.js';
import { composePose2D, normalizeAngle, type Pose2D } from '../geometry.js';
import { checkRgbImage, redMask } from './box.js';

/** Relative planar motion between two frames: B's pose in A's body frame. */
export interface PlanarMotion {
  /** Forward (m), left (m) and yaw (rad, + = counter-clockwise) of B in A's body frame. */
  dx: number;
  dy: number;
  dyaw: number;
  /** In [0, 1]: how much to trust the estimate (see alignPlanar). */
  confidence: number;
  /** Floor pixels (full resolution) whose residual is below the inlier threshold. */
  inliers: number;
  /** Floor pixels of B considered (full resolution). */
  samples: number;
  /** Mean absolute residual of the valid floor pixels (0…255 units, channel mean). */
  residual: number;
}

export interface PlanarAlignParams {
  /** Floor pixels farther than this (m) are not used as floor (they are near the horizon). Default 4. */
  maxFloorRangeM: number;
  /** Grid half-range of yaw (rad). Default 50° (0.873). */
  searchYawRad: number;
  /** Grid range of forward motion [min, max] (m). Default [−0.6, 1.6]. */
  searchForwardM: [number, number];
  /** Grid half-range of lateral motion (m). Default 0.8. */
  searchLateralM: number;
  /** Grid step of translation (m). Default 0.15. */
  gridStepM: number;
  /** Grid step of yaw (rad). Default 4° (0.0698). */
  gridStepYawRad: number;
  /**
   * Coarse-to-fine grid search: 1 (default) evaluates every grid point; s > 1 evaluates every s-th
   * point along each axis, then descends from the best coarse minima on the full grid (each step
   * to the lowest of the 26 neighbours). Fewer hypotheses, at the risk of missing a narrow basin.
   */
  gridCoarseStep: number;
  /**
   * Grid search on a subset of the samples: s > 1 ranks every grid point (and takes the median)
   * with the pixels whose column + row is a multiple of s (1/s of them: s = 2 is a checkerboard),
   * then descends on the full grid with every sample from the best `gridDescentStarts` minima of
   * that ranking; when the descents meet in fewer than topK minima, the ranking's next minima fill
   * up to topK as they are. Default 2; 1: every pixel everywhere.
   */
  gridSampleStride: number;
  /**
   * How the grid's first pass (the ranking, when gridSampleStride > 1) reads A: 0 = bilinear at
   * the exact position, like every other cost; n ≥ 1 = the nearest entry of a table of A's
   * coarsest level sampled every 1/n pixel (one lookup instead of four per channel; the position
   * is off by at most 1/(2n) pixel). The descents and the refinement always use the exact
   * bilinear values, and so does a ranking with gridCoarseStep > 1 (its points are computed one
   * at a time). Default 4.
   */
  gridRankSubpixel: number;
  /**
   * Weight of the pixels that are not near floor (aligned as if far away) relative to floor
   * pixels. Default 0: walls a few metres away move with translation; treating them as far biases it.
   */
  upperWeight: number;
  /**
   * The same weight in the coarse grid search. Default 0.3: floors are periodic (tiles), and the
   * walls and furniture are what tell one tile-aligned rotation from another.
   */
  gridUpperWeight: number;
  /** Scale of the Cauchy loss on the per-channel residual (0…255 units). Default 10. */
  robustDelta: number;
  /** Horizontal distance (m) at which the non-floor pixels are placed ("far away"). Default 12. */
  farM: number;
  /** Truncation of the grid search's per-pixel L1 cost (0…255 units, channel mean). Default 30. */
  gridTruncation: number;
  /** A floor pixel is an inlier when its mean absolute residual is below this (0…255). Default 16. */
  inlierThreshold: number;
  /** Gauss–Newton iterations per level. Default 10. */
  iterations: number;
  /** Grid minima refined from the coarsest level. Default 5. */
  topK: number;
  /**
   * Of those, after their refinement at the coarsest level, how many (the lowest cost) are refined
   * again at the next level, where the winner is chosen. Default 5 (all).
   */
  refineSecondLevel: number;
  /**
   * When the grid's first pass is not the full grid with every sample (gridCoarseStep or
   * gridSampleStride > 1): from how many of its best local minima the descent with every sample
   * starts (the first pass's next minima fill up to topK when the descents meet). Default 10.
   */
  gridDescentStarts: number;
  /** The pyramid stops when a level would be narrower than this (px). Default 16. */
  minLevelWidth: number;
  /** Leave red pixels (the drawn box) out of the comparison. Default true. */
  maskRed: boolean;
  /** Residual scale (0…255, channel mean) of the confidence's agreement factor 1 / (1 + (residual / s)²). Default 8. */
  residualScale: number;
  /** Passes of the [1 2 1] blur on the full-resolution frame (fine floor texture aliases under warping). Default 1. */
  blurPasses: number;
}

export const DEFAULT_PLANAR_ALIGN_PARAMS: Readonly<PlanarAlignParams> = Object.freeze({
  maxFloorRangeM: 4,
  searchYawRad: (50 * Math.PI) / 180,
  searchForwardM: [-0.6, 1.6] as [number, number],
  searchLateralM: 0.8,
  gridStepM: 0.15,
  gridStepYawRad: (4 * Math.PI) / 180,
  gridCoarseStep: 1,
  gridSampleStride: 2,
  gridRankSubpixel: 4,
  upperWeight: 0,
  gridUpperWeight: 0.3,
  robustDelta: 10,
  farM: 12,
  gridTruncation: 30,
  inlierThreshold: 16,
  iterations: 10,
  topK: 5,
  refineSecondLevel: 5,
  gridDescentStarts: 10,
  minLevelWidth: 16,
  maskRed: true,
  blurPasses: 1,
  residualScale: 8,
});

/** Channels per pixel of a prepared level: luminance and two opponent colours. */
const CH = 3;

/** One pyramid level of a prepared frame. */
export interface Level {
  W: number;
  H: number;
  /** CH×H×W planes, 0…255 scale. */
  img: Float32Array;
  /** H×W, 1 = excluded (red box). */
  mask: Uint8Array;
  cam: PinholeCamera;
}

/** A frame ready for alignment (pyramid and mask), reusable across pairs. */
export interface PreparedFrame {
  readonly camera: PinholeCamera;
  /** The frame itself (rgb8, camera size). */
  readonly rgb: Uint8Array;
  readonly levels: readonly Level[];
}

export function checkCamera(c: PinholeCamera, where: string): void {
  for (const k of ['width', 'height', 'fx', 'fy', 'cx', 'cy', 'heightM', 'pitchRad'] as const) {
    if (!Number.isFinite(c[k])) throw new ParameterError(`${where}: camera.${k} must be finite, got ${c[k]}`);
  }
  if (!(c.fx > 0 && c.fy > 0 && c.heightM > 0 && c.width > 0 && c.height > 0)) {
    throw new ParameterError(`${where}: camera needs positive width, height, fx, fy and heightM, got ${c.width}x${c.height} fx=${c.fx} fy=${c.fy} heightM=${c.heightM}`);
  }
}

function checkParams(p: PlanarAlignParams): void {
  const pos: (keyof PlanarAlignParams)[] = ['maxFloorRangeM', 'searchLateralM', 'gridStepM', 'gridStepYawRad', 'robustDelta', 'gridTruncation', 'inlierThreshold', 'minLevelWidth', 'farM', 'residualScale'];
  for (const k of pos) {
    const v = p[k] as number;
    if (!(Number.isFinite(v) && v > 0)) throw new ParameterError(`planar alignment: ${k} must be a positive number, got ${v}`);
  }
  if (!(p.searchYawRad >= 0 && p.searchYawRad <= Math.PI)) throw new ParameterError(`planar alignment: searchYawRad must be in [0, π], got ${p.searchYawRad}`);
  const [f0, f1] = p.searchForwardM;
  if (!(Number.isFinite(f0) && Number.isFinite(f1) && f0 <= f1)) throw new ParameterError(`planar alignment: searchForwardM must be [min, max] with min ≤ max, got [${f0}, ${f1}]`);
  if (!(p.upperWeight >= 0)) throw new ParameterError(`planar alignment: upperWeight must be ≥ 0, got ${p.upperWeight}`);
  if (!(p.gridUpperWeight >= 0)) throw new ParameterError(`planar alignment: gridUpperWeight must be ≥ 0, got ${p.gridUpperWeight}`);
  if (!(Number.isInteger(p.iterations) && p.iterations >= 0)) throw new ParameterError(`planar alignment: iterations must be a non-negative integer, got ${p.iterations}`);
  if (!(Number.isInteger(p.blurPasses) && p.blurPasses >= 0)) throw new ParameterError(`planar alignment: blurPasses must be a non-negative integer, got ${p.blurPasses}`);
  for (const k of ['topK', 'refineSecondLevel', 'gridDescentStarts'] as const) {
    if (!(Number.isInteger(p[k]) && p[k] >= 1)) throw new ParameterError(`planar alignment: ${k} must be a positive integer, got ${p[k]}`);
  }
  if (!(Number.isInteger(p.gridCoarseStep) && p.gridCoarseStep >= 1)) throw new ParameterError(`planar alignment: gridCoarseStep must be a positive integer, got ${p.gridCoarseStep}`);
  if (!(Number.isInteger(p.gridSampleStride) && p.gridSampleStride >= 1)) throw new ParameterError(`planar alignment: gridSampleStride must be a positive integer, got ${p.gridSampleStride}`);
  if (!(Number.isInteger(p.gridRankSubpixel) && p.gridRankSubpixel >= 0 && p.gridRankSubpixel <= 16)) throw new ParameterError(`planar alignment: gridRankSubpixel must be an integer in 0…16, got ${p.gridRankSubpixel}`);
}

/** Separable [1 2 1]/4 blur of CH planes (edges clamped). */
function blur121(src: Float32Array, W: number, H: number): Float32Array {
  const tmp = new Float32Array(src.length);
  const out = new Float32Array(src.length);
  for (let c = 0; c < CH; c++) {
    const o = c * W * H;
    for (let v = 0; v < H; v++) {
      for (let u = 0; u < W; u++) {
        const l = src[o + v * W + Math.max(0, u - 1)] as number;
        const m = src[o + v * W + u] as number;
        const r = src[o + v * W + Math.min(W - 1, u + 1)] as number;
        tmp[o + v * W + u] = (l + 2 * m + r) / 4;
      }
    }
    for (let v = 0; v < H; v++) {
      for (let u = 0; u < W; u++) {
        const t = tmp[o + Math.max(0, v - 1) * W + u] as number;
        const m = tmp[o + v * W + u] as number;
        const b = tmp[o + Math.min(H - 1, v + 1) * W + u] as number;
        out[o + v * W + u] = (t + 2 * m + b) / 4;
      }
    }
  }
  return out;
}

/**
 * Builds the pyramid of a frame for alignment (channels, blur, red-box mask).
 * @throws BadFrameError when the buffer does not match the camera's size.
 * @throws ParameterError for an invalid camera or parameters.
 */
export function prepareFrame(rgb: Uint8Array, camera: PinholeCamera, params: Partial<PlanarAlignParams> = {}): PreparedFrame {
  const prm = { ...DEFAULT_PLANAR_ALIGN_PARAMS, ...params };
  checkParams(prm);
  checkCamera(camera, 'prepareFrame');
  const W = camera.width;
  const H = camera.height;
  checkRgbImage(rgb, W, H, 'prepareFrame');
  const raw = new Float32Array(CH * W * H);
  for (let p = 0; p < W * H; p++) {
    const r = rgb[p * 3] as number;
    const g = rgb[p * 3 + 1] as number;
    const b = rgb[p * 3 + 2] as number;
    raw[p] = 0.299 * r + 0.587 * g + 0.114 * b;
    raw[W * H + p] = 0.5 * (r - g);
    raw[2 * W * H + p] = 0.5 * (b - 0.5 * (r + g));
  }
  const mask = new Uint8Array(W * H);
  if (prm.maskRed) {
    const m = redMask(rgb, W, H);
    // dilate by one pixel: a blurred outline bleeds into its neighbours
    for (let v = 0; v < H; v++) for (let u = 0; u < W; u++) {
      if (m[v * W + u] !== 1) continue;
      for (let dv = -1; dv <= 1; dv++) for (let du = -1; du <= 1; du++) {
        const uu = u + du;
        const vv = v + dv;
        if (uu >= 0 && vv >= 0 && uu < W && vv < H) mask[vv * W + uu] = 1;
      }
    }
  }
  let img0: Float32Array = raw;
  for (let k = 0; k < prm.blurPasses; k++) img0 = blur121(img0, W, H);
  const levels: Level[] = [{ W, H, img: img0, mask, cam: camera }];
  let scale = 1;
  for (;;) {
    const prev = levels[levels.length - 1] as Level;
    const w = Math.floor(prev.W / 2);
    const h = Math.floor(prev.H / 2);
    if (w < prm.minLevelWidth || h < 4) break;
    scale *= 0.5;
    const img = new Float32Array(CH * w * h);
    const nm = new Uint8Array(w * h);
    for (let c = 0; c < CH; c++) {
      const po = c * prev.W * prev.H;
      const o = c * w * h;
      for (let v = 0; v < h; v++) for (let u = 0; u < w; u++) {
        const a = po + 2 * v * prev.W + 2 * u;
        img[o + v * w + u] = ((prev.img[a] as number) + (prev.img[a + 1] as number) + (prev.img[a + prev.W] as number) + (prev.img[a + prev.W + 1] as number)) / 4;
      }
    }
    for (let v = 0; v < h; v++) for (let u = 0; u < w; u++) {
      const a = 2 * v * prev.W + 2 * u;
      nm[v * w + u] = (prev.mask[a] as number) | (prev.mask[a + 1] as number) | (prev.mask[a + prev.W] as number) | (prev.mask[a + prev.W + 1] as number);
    }
    const cam: PinholeCamera = { ...camera, width: w, height: h, fx: camera.fx * scale, fy: camera.fy * scale, cx: camera.cx * scale, cy: camera.cy * scale };
    levels.push({ W: w, H: h, img: blur121(img, w, h), mask: nm, cam });
  }
  return { camera, rgb, levels };
}

/**
 * The pixels of B at one level (masked ones left out): body-frame ray, floor distance, values.
 * A pixel's 3D point is ray × scale from the camera centre (see floorModel).
 */
interface Samples {
  n: number;
  /** Body-frame ray (x forward, y left, z up) per sample, 3 each; optical z = 1. */
  ray: Float32Array;
  /** Horizontal norm of the ray. */
  hr: Float32Array;
  /** Horizontal distance (m) at which the ray meets the floor; Infinity at or above the horizon. */
  floorDist: Float32Array;
  /** CH values per sample. */
  val: Float32Array;
  /** Pixel column and row of each sample at its level. */
  u: Int32Array;
  v: Int32Array;
}

/** Samples per level, computed once per level (a frame registered against several keyframes reuses them). */
const samplesCache = new WeakMap<Level, Samples>();

function samplesOf(b: Level): Samples {
  const cached = samplesCache.get(b);
  if (cached) return cached;
  const { W, H, cam } = b;
  const cp = Math.cos(cam.pitchRad);
  const sp = Math.sin(cam.pitchRad);
  let n = 0;
  for (let p = 0; p < W * H; p++) if (b.mask[p] !== 1) n++;
  const s: Samples = { n, ray: new Float32Array(3 * n), hr: new Float32Array(n), floorDist: new Float32Array(n), val: new Float32Array(CH * n), u: new Int32Array(n), v: new Int32Array(n) };
  let k = 0;
  for (let v = 0; v < H; v++) {
    const yo = (v + 0.5 - cam.cy) / cam.fy;
    for (let u = 0; u < W; u++) {
      if (b.mask[v * W + u] === 1) continue;
      const xo = (u + 0.5 - cam.cx) / cam.fx;
      const bx = cp - sp * yo;
      const bz = -sp - cp * yo;
      const by = -xo;
      const h = Math.hypot(bx, by);
      s.ray[3 * k] = bx;
      s.ray[3 * k + 1] = by;
      s.ray[3 * k + 2] = bz;
      s.hr[k] = h;
      s.floorDist[k] = bz < -1e-9 ? (h * cam.heightM) / -bz : Infinity;
      s.u[k] = u;
      s.v[k] = v;
      for (let c = 0; c < CH; c++) s.val[k * CH + c] = b.img[c * W * H + v * W + u] as number;
      k++;
    }
  }
  samplesCache.set(b, s);
  return s;
}

/**
 * Per-sample ray scale and weight of the floor-and-far model: a pixel whose ray meets the floor
 * within maxFloorRangeM is that floor point (weight 1); any other pixel is taken `farM` away
 * (horizontally) — in effect at infinity, so it constrains the rotation only — with weight
 * `upperWeight`.
 */
function floorModel(s: Samples, prm: PlanarAlignParams, upperWeight = prm.upperWeight): { scale: Float32Array; w: Float32Array } {
  const scale = new Float32Array(s.n);
  const w = new Float32Array(s.n);
  for (let i = 0; i < s.n; i++) {
    const fd = s.floorDist[i] as number;
    const floor = fd <= prm.maxFloorRangeM;
    scale[i] = (floor ? fd : prm.farM) / (s.hr[i] as number);
    w[i] = floor ? 1 : upperWeight;
  }
  return { scale, w };
}

/**
 * B's samples placed in 3D by a floor model: q = ray × scale (body frame of B, metres; z relative
 * to the camera height), with their CH values; as doubles, computed once per level and alignment.
 */
interface Points {
  n: number;
  qx: Float64Array;
  qy: Float64Array;
  qz: Float64Array;
  /** Values per channel (0…255 scale). */
  v0: Float64Array;
  v1: Float64Array;
  v2: Float64Array;
}

function pointsOf(s: Samples, scale: Float32Array): Points {
  const n = s.n;
  const pts: Points = { n, qx: new Float64Array(n), qy: new Float64Array(n), qz: new Float64Array(n), v0: new Float64Array(n), v1: new Float64Array(n), v2: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    const k = scale[i] as number;
    pts.qx[i] = k * (s.ray[3 * i] as number);
    pts.qy[i] = k * (s.ray[3 * i + 1] as number);
    pts.qz[i] = k * (s.ray[3 * i + 2] as number);
    pts.v0[i] = s.val[i * CH] as number;
    pts.v1[i] = s.val[i * CH + 1] as number;
    pts.v2[i] = s.val[i * CH + 2] as number;
  }
  return pts;
}

/** A level of A ready for lookups: its channel planes (views, no copies) and its mask. */
interface Target {
  /** The level it views (the key of the caches built from it). */
  level: Level;
  W: number;
  H: number;
  cam: PinholeCamera;
  i0: Float32Array;
  i1: Float32Array;
  i2: Float32Array;
  /** H×W, 1 = excluded. */
  mask: Uint8Array;
  /** Whether any pixel is excluded (the lookup is skipped when none is). */
  masked: boolean;
}

function targetOf(a: Level): Target {
  const plane = a.W * a.H;
  return {
    level: a,
    W: a.W,
    H: a.H,
    cam: a.cam,
    i0: a.img.subarray(0, plane),
    i1: a.img.subarray(plane, 2 * plane),
    i2: a.img.subarray(2 * plane, 3 * plane),
    mask: a.mask,
    masked: a.mask.includes(1),
  };
}

/** A level camera's projection constants: pitch cosine and sine, principal point, focal lengths (px). */
function lensOf(cam: PinholeCamera): { cp: number; sp: number; cx: number; cy: number; fxc: number; fyc: number } {
  return { cp: Math.cos(cam.pitchRad), sp: Math.sin(cam.pitchRad), cx: cam.cx, cy: cam.cy, fxc: cam.fx, fyc: cam.fy };
}

/**
 * Residuals A(warp(θ)) − B per sample and channel into `res` (CH per sample); `ok[i]` = 1 where
 * the warped pixel lies inside A and off A's mask. θ = B's pose in A's body frame. (The
 * refinement's robust cost is normalEquations'.)
 */
function residuals(a: Target, s: Points, dx: number, dy: number, dyaw: number, res: Float32Array, ok: Uint8Array): void {
  const { W, H, cam, i0, i1, i2, mask, masked } = a;
  const { cp, sp, cx, cy, fxc, fyc } = lensOf(cam);
  const c = Math.cos(dyaw);
  const sn = Math.sin(dyaw);
  const { qx, qy, qz, v0, v1, v2 } = s;
  for (let i = 0; i < s.n; i++) {
    ok[i] = 0;
    const qxi = qx[i] as number;
    const qyi = qy[i] as number;
    const qzi = qz[i] as number;
    const px = c * qxi - sn * qyi + dx;
    const py = sn * qxi + c * qyi + dy;
    const fwd = cp * px - sp * qzi;
    if (fwd <= 1e-6) continue;
    const up = sp * px + cp * qzi;
    // array coordinates: continuous − 0.5
    const x = cx - (fxc * py) / fwd - 0.5;
    const y = cy - (fyc * up) / fwd - 0.5;
    if (!(x >= 0 && y >= 0 && x <= W - 1 && y <= H - 1)) continue;
    if (masked && mask[Math.round(y) * W + Math.round(x)] === 1) continue;
    // x, y ≥ 0: truncation is the floor
    const x0 = Math.min(W - 2, x | 0);
    const y0 = Math.min(H - 2, y | 0);
    const fx = x - x0;
    const fy = y - y0;
    const p = y0 * W + x0;
    ok[i] = 1;
    const w00 = (1 - fx) * (1 - fy);
    const w10 = fx * (1 - fy);
    const w01 = (1 - fx) * fy;
    const w11 = fx * fy;
    res[i * CH] = bilinear(i0, p, W, w00, w10, w01, w11) - (v0[i] as number);
    res[i * CH + 1] = bilinear(i1, p, W, w00, w10, w01, w11) - (v1[i] as number);
    res[i * CH + 2] = bilinear(i2, p, W, w00, w10, w01, w11) - (v2[i] as number);
  }
}

/** A W-wide plane's bilinear value from its pixels p, p + 1, p + W, p + W + 1 with those weights. */
function bilinear(plane: Float32Array, p: number, W: number, w00: number, w10: number, w01: number, w11: number): number {
  return w00 * (plane[p] as number) + w10 * (plane[p + 1] as number) + w01 * (plane[p + W] as number) + w11 * (plane[p + W + 1] as number);
}

/**
 * Sum over the channels of |A(bilinear at pixel p + (fx, fy)) − value|, each residual rounded to
 * float32 as residuals() stores it. p = y0·W + x0 (top-left neighbour); gy = 1 − fy.
 */
function absError(a: Target, p: number, fx: number, fy: number, gy: number, v0: number, v1: number, v2: number): number {
  const { W, i0, i1, i2 } = a;
  const gx = 1 - fx;
  const w00 = gx * gy;
  const w10 = fx * gy;
  const w01 = gx * fy;
  const w11 = fx * fy;
  return (
    Math.abs(Math.fround(bilinear(i0, p, W, w00, w10, w01, w11) - v0)) +
    Math.abs(Math.fround(bilinear(i1, p, W, w00, w10, w01, w11) - v1)) +
    Math.abs(Math.fround(bilinear(i2, p, W, w00, w10, w01, w11) - v2))
  );
}

/**
 * A's three channels sampled every 1/n pixel by bilinear interpolation, interleaved: entry
 * (yi, xi) = the values at array position (xi / n, yi / n), xi in 0…n(W−1), yi in 0…n(H−1);
 * channel 0 is NaN where the nearest pixel is masked.
 */
interface SubpixelTable {
  n: number;
  /** Entries per row: n(W − 1) + 1. */
  Wn: number;
  /** (n(H − 1) + 1) × Wn × CH. */
  t: Float32Array;
}

/** Tables per level and step, built once per level (a keyframe is registered by many imagined frames). */
const tableCache = new WeakMap<Level, SubpixelTable[]>();

function subpixelTable(a: Target, n: number): SubpixelTable {
  const cached = tableCache.get(a.level)?.[n];
  if (cached) return cached;
  const made = buildSubpixelTable(a, n);
  const perStep = tableCache.get(a.level) ?? [];
  perStep[n] = made;
  tableCache.set(a.level, perStep);
  return made;
}

function buildSubpixelTable(a: Target, n: number): SubpixelTable {
  const { W, H, i0, i1, i2, mask, masked } = a;
  const Wn = n * (W - 1) + 1;
  const Hn = n * (H - 1) + 1;
  const t = new Float32Array(Wn * Hn * CH);
  for (let yi = 0; yi < Hn; yi++) {
    const y = yi / n;
    const y0 = Math.min(H - 2, Math.floor(y));
    const fy = y - y0;
    for (let xi = 0; xi < Wn; xi++) {
      const x = xi / n;
      const x0 = Math.min(W - 2, Math.floor(x));
      const fx = x - x0;
      const p = y0 * W + x0;
      const k = (yi * Wn + xi) * CH;
      const w00 = (1 - fx) * (1 - fy);
      const w10 = fx * (1 - fy);
      const w01 = (1 - fx) * fy;
      const w11 = fx * fy;
      t[k] = masked && mask[Math.round(y) * W + Math.round(x)] === 1 ? Number.NaN : bilinear(i0, p, W, w00, w10, w01, w11);
      t[k + 1] = bilinear(i1, p, W, w00, w10, w01, w11);
      t[k + 2] = bilinear(i2, p, W, w00, w10, w01, w11);
    }
  }
  return { n, Wn, t };
}

/** Grid costs of B's samples `s` (weights `w`) against A; see gridCost. */
interface GridCost {
  /**
   * Every cost of an nx×ny×nyaw grid at once into `costs` (index (i·ny + j)·nyaw + l), computed
   * with the shared work hoisted — the rotation once per yaw, the forward distance and image row
   * once per (yaw, dx), only the column and the lookup per dy — over the samples that can still
   * land (weight > 0, in front, inside A's rows).
   */
  volume(dims: [number, number, number], xAt: (i: number) => number, yAt: (j: number) => number, aAt: (l: number) => number, costs: Float32Array): void;
  /** The cost of one motion, rounded to float32 as the volume stores it. */
  at(dx: number, dy: number, dyaw: number): number;
}

/**
 * The grid search's cost of a motion: the weighted mean over the samples of B that land inside A
 * (see residuals()) of the channels' mean absolute residual, truncated at `trunc`; Infinity when
 * less than MIN_OVERLAP of the weight lands. Computed in one pass without residual arrays.
 */
function gridCost(a: Target, s: Points, w: Float32Array, trunc: number, table?: SubpixelTable): GridCost {
  const { W, H, cam, mask, masked } = a;
  const { cp, sp, cx, cy, fxc, fyc } = lensOf(cam);
  const { n, qx, qy, qz, v0, v1, v2 } = s;
  let wAll = 0;
  for (let i = 0; i < n; i++) wAll += w[i] as number;
  const rx = new Float64Array(n);
  const ry = new Float64Array(n);
  // per (yaw, dx): the samples that land in A's rows, in sample order
  const idx = new Int32Array(n);
  const fwdOf = new Float64Array(n);
  const rowOf = new Int32Array(n);
  const y0Of = new Int32Array(n);
  const fyOf = new Float64Array(n);
  // per lateral step: its offset, and the weighted cost sum and weight of the samples that land
  let dys = new Float64Array(0);
  let sums = new Float64Array(0);
  let wIns = new Float64Array(0);
  // the lateral offsets of a volume, once per volume (and room for their sums)
  const lateralSteps = (ny: number, yAt: (j: number) => number) => {
    if (dys.length < ny) {
      dys = new Float64Array(ny);
      sums = new Float64Array(ny);
      wIns = new Float64Array(ny);
    }
    for (let j = 0; j < ny; j++) dys[j] = yAt(j);
  };
  // every sample rotated by dyaw into rx, ry
  const rotate = (dyaw: number) => {
    const c = Math.cos(dyaw);
    const sn = Math.sin(dyaw);
    for (let i = 0; i < n; i++) {
      rx[i] = c * (qx[i] as number) - sn * (qy[i] as number);
      ry[i] = sn * (qx[i] as number) + c * (qy[i] as number);
    }
  };
  // the lateral steps' sums of one (dx, yaw) into the volume
  const storeLateral = (costs: Float32Array, ix: number, ny: number, nyaw: number, l: number) => {
    for (let j = 0; j < ny; j++) {
      const wIn = wIns[j] as number;
      costs[(ix * ny + j) * nyaw + l] = wIn > 0 && wIn >= MIN_OVERLAP * wAll ? (sums[j] as number) / wIn : Infinity;
    }
  };
  const volume: GridCost['volume'] = (dims, xAt, yAt, aAt, costs) => {
    if (table) return volumeFromTable(table, dims, xAt, yAt, aAt, costs);
    const [nx, ny, nyaw] = dims;
    lateralSteps(ny, yAt);
    for (let l = 0; l < nyaw; l++) {
      rotate(aAt(l));
      for (let ix = 0; ix < nx; ix++) {
        const dx = xAt(ix);
        let m = 0;
        for (let i = 0; i < n; i++) {
          if ((w[i] as number) === 0) continue;
          const px = (rx[i] as number) + dx;
          const fwd = cp * px - sp * (qz[i] as number);
          if (fwd <= 1e-6) continue;
          const up = sp * px + cp * (qz[i] as number);
          const y = cy - (fyc * up) / fwd - 0.5;
          if (!(y >= 0 && y <= H - 1)) continue;
          const y0 = Math.min(H - 2, y | 0);
          idx[m] = i;
          fwdOf[m] = fwd;
          rowOf[m] = Math.round(y) * W;
          y0Of[m] = y0;
          fyOf[m] = y - y0;
          m++;
        }
        // samples outer, lateral steps inner: each sample's values are loaded once; every
        // hypothesis still sums its samples in sample order (the same numbers)
        sums.fill(0);
        wIns.fill(0);
        for (let t = 0; t < m; t++) {
          const i = idx[t] as number;
          const ryi = ry[i] as number;
          const fwd = fwdOf[t] as number;
          const row = rowOf[t] as number;
          const fy = fyOf[t] as number;
          const gy = 1 - fy;
          const base = (y0Of[t] as number) * W;
          const a0 = v0[i] as number;
          const a1 = v1[i] as number;
          const a2 = v2[i] as number;
          const wi = w[i] as number;
          for (let j = 0; j < ny; j++) {
            const x = cx - (fxc * (ryi + (dys[j] as number))) / fwd - 0.5;
            if (!(x >= 0 && x <= W - 1)) continue;
            if (masked && mask[row + Math.round(x)] === 1) continue;
            // x ≥ 0: truncation is the floor
            const x0 = Math.min(W - 2, x | 0);
            const e = absError(a, base + x0, x - x0, fy, gy, a0, a1, a2);
            wIns[j] = (wIns[j] as number) + wi;
            sums[j] = (sums[j] as number) + wi * Math.min(trunc, e / CH);
          }
        }
        storeLateral(costs, ix, ny, nyaw, l);
      }
    }
  };
  // the volume read from the table, in one pass per (yaw, dx): per landing sample its row's
  // entries, its column at dy = 0 and per metre of dy, then the nearest entry per lateral step
  // (the mask is in the table: NaN)
  const volumeFromTable = (tb: SubpixelTable, [nx, ny, nyaw]: [number, number, number], xAt: (i: number) => number, yAt: (j: number) => number, aAt: (l: number) => number, costs: Float32Array) => {
    const { n: sub, Wn, t: T } = tb;
    const lo = 0.5;
    const hi = sub * (W - 1) + 0.5;
    const third = 1 / CH;
    lateralSteps(ny, yAt);
    for (let l = 0; l < nyaw; l++) {
      rotate(aAt(l));
      for (let ix = 0; ix < nx; ix++) {
        const dx = xAt(ix);
        sums.fill(0);
        wIns.fill(0);
        for (let i = 0; i < n; i++) {
          const wi = w[i] as number;
          if (wi === 0) continue;
          const px = (rx[i] as number) + dx;
          const fwd = cp * px - sp * (qz[i] as number);
          if (fwd <= 1e-6) continue;
          const y = cy - (fyc * (sp * px + cp * (qz[i] as number))) / fwd - 0.5;
          if (!(y >= 0 && y <= H - 1)) continue;
          const entry = ((sub * y + 0.5) | 0) * Wn;
          const kx = (sub * fxc) / fwd;
          // column + 0.5, so that truncation rounds to the nearest entry
          const xs = sub * (cx - 0.5) - kx * (ry[i] as number) + 0.5;
          const a0 = v0[i] as number;
          const a1 = v1[i] as number;
          const a2 = v2[i] as number;
          for (let j = 0; j < ny; j++) {
            const x = xs - kx * (dys[j] as number);
            if (!(x >= lo && x <= hi)) continue;
            const k = (entry + (x | 0)) * CH;
            const b0 = T[k] as number;
            if (b0 !== b0) continue; // masked
            const e = Math.abs(b0 - a0) + Math.abs((T[k + 1] as number) - a1) + Math.abs((T[k + 2] as number) - a2);
            wIns[j] = (wIns[j] as number) + wi;
            sums[j] = (sums[j] as number) + wi * Math.min(trunc, e * third);
          }
        }
        storeLateral(costs, ix, ny, nyaw, l);
      }
    }
  };
  // one motion: the volume's arithmetic, expression for expression, in a single pass
  const at: GridCost['at'] = (dx, dy, dyaw) => {
    const c = Math.cos(dyaw);
    const sn = Math.sin(dyaw);
    let sum = 0;
    let wIn = 0;
    for (let i = 0; i < n; i++) {
      const wi = w[i] as number;
      if (wi === 0) continue;
      const qxi = qx[i] as number;
      const qyi = qy[i] as number;
      const px = c * qxi - sn * qyi + dx;
      const fwd = cp * px - sp * (qz[i] as number);
      if (fwd <= 1e-6) continue;
      const y = cy - (fyc * (sp * px + cp * (qz[i] as number))) / fwd - 0.5;
      if (!(y >= 0 && y <= H - 1)) continue;
      const x = cx - (fxc * (sn * qxi + c * qyi + dy)) / fwd - 0.5;
      if (!(x >= 0 && x <= W - 1)) continue;
      if (masked && mask[Math.round(y) * W + Math.round(x)] === 1) continue;
      const y0 = Math.min(H - 2, y | 0);
      const x0 = Math.min(W - 2, x | 0);
      const fy = y - y0;
      const e = absError(a, y0 * W + x0, x - x0, fy, 1 - fy, v0[i] as number, v1[i] as number, v2[i] as number);
      wIn += wi;
      sum += wi * Math.min(trunc, e / CH);
    }
    return Math.fround(wIn > 0 && wIn >= MIN_OVERLAP * wAll ? sum / wIn : Infinity);
  };
  return { volume, at };
}

/** Share of the samples that must land inside A for a motion to be considered. */
const MIN_OVERLAP = 0.3;

/** Solves the 3×3 system A x = b (Cramer); undefined when singular. */
function solve3(A: number[], b: number[]): [number, number, number] | undefined {
  const [a, bb, c, d, e, f, g, h, i] = A as [number, number, number, number, number, number, number, number, number];
  const det = a * (e * i - f * h) - bb * (d * i - f * g) + c * (d * h - e * g);
  if (!Number.isFinite(det) || Math.abs(det) < 1e-12) return undefined;
  const [b0, b1, b2] = b as [number, number, number];
  return [
    (b0 * (e * i - f * h) - bb * (b1 * i - f * b2) + c * (b1 * h - e * b2)) / det,
    (a * (b1 * i - f * b2) - b0 * (d * i - f * g) + c * (d * b2 - b1 * g)) / det,
    (a * (e * b2 - b1 * h) - bb * (d * b2 - b1 * g) + b0 * (d * h - e * g)) / det,
  ];
}

type Theta = [number, number, number];

/** The Gauss–Newton system of the robust cost at one motion (see normalEquations). */
interface NormalEquations {
  /** The mean robust cost (see normalEquations); Infinity when too little lands. */
  cost: number;
  /** Upper triangle of JᵀWJ: h00, h01, h02, h11, h12, h22. */
  h: [number, number, number, number, number, number];
  /** JᵀWr. */
  g: [number, number, number];
}

/**
 * In one pass over B's samples with weight > 0: the robust cost at θ — the weighted mean over the
 * samples that land inside A and off its mask of the Cauchy loss ½δ²·Σ ln(1 + (r/δ)²) over the
 * channels, Infinity when less than MIN_OVERLAP of the weight lands (samples outside are not
 * penalised: a penalty would favour small motions, whose views overlap more) — and the
 * Gauss–Newton system of its IRLS step, with the Jacobian of
 * each residual taken analytically — the bilinear interpolant's gradient in A times the
 * projection's derivative with respect to θ = (dx, dy, dyaw) — and the Cauchy weights
 * wᵢ / (1 + (r/δ)²) per channel. `wAll` = the sum of all samples' weights (for MIN_OVERLAP).
 */
function normalEquations(a: Target, s: Points, w: Float32Array, wAll: number, dx: number, dy: number, dyaw: number, delta: number): NormalEquations {
  const { W, H, cam, i0, i1, i2, mask, masked } = a;
  const { cp, sp, cx, cy, fxc, fyc } = lensOf(cam);
  const c = Math.cos(dyaw);
  const sn = Math.sin(dyaw);
  const { qx, qy, qz, v0, v1, v2 } = s;
  const hd = 0.5 * delta * delta;
  const id2 = 1 / (delta * delta);
  let sum = 0;
  let wIn = 0;
  let h00 = 0, h01 = 0, h02 = 0, h11 = 0, h12 = 0, h22 = 0, g0 = 0, g1 = 0, g2 = 0;
  for (let i = 0; i < s.n; i++) {
    const wi = w[i] as number;
    if (wi === 0) continue;
    const qxi = qx[i] as number;
    const qyi = qy[i] as number;
    const qzi = qz[i] as number;
    const rx = c * qxi - sn * qyi;
    const ry = sn * qxi + c * qyi;
    const px = rx + dx;
    const py = ry + dy;
    const fwd = cp * px - sp * qzi;
    if (fwd <= 1e-6) continue;
    const up = sp * px + cp * qzi;
    const inv = 1 / fwd;
    const x = cx - fxc * py * inv - 0.5;
    const y = cy - fyc * up * inv - 0.5;
    if (!(x >= 0 && y >= 0 && x <= W - 1 && y <= H - 1)) continue;
    if (masked && mask[Math.round(y) * W + Math.round(x)] === 1) continue;
    const x0 = Math.min(W - 2, x | 0);
    const y0 = Math.min(H - 2, y | 0);
    const fx = x - x0;
    const fy = y - y0;
    const gx = 1 - fx;
    const gy = 1 - fy;
    const p = y0 * W + x0;
    // image position's derivatives: ∂x/∂px, ∂x/∂py, ∂y/∂px (∂y/∂py = 0); ∂px/∂θ = (1, 0, −ry), ∂py/∂θ = (0, 1, rx)
    const xPx = fxc * py * cp * inv * inv;
    const xPy = -fxc * inv;
    const yPx = fyc * qzi * inv * inv;
    wIn += wi;
    let prod = 1;
    for (let ch = 0; ch < CH; ch++) {
      const P = ch === 0 ? i0 : ch === 1 ? i1 : i2;
      const p00 = P[p] as number;
      const p10 = P[p + 1] as number;
      const p01 = P[p + W] as number;
      const p11 = P[p + W + 1] as number;
      const val = gx * gy * p00 + fx * gy * p10 + gx * fy * p01 + fx * fy * p11;
      const r = val - ((ch === 0 ? v0 : ch === 1 ? v1 : v2)[i] as number);
      const q = 1 + r * r * id2;
      prod *= q;
      // gradient of the bilinear interpolant in the cell
      const dIx = gy * (p10 - p00) + fy * (p11 - p01);
      const dIy = gx * (p01 - p00) + fx * (p11 - p10);
      const ja = dIx * xPx + dIy * yPx;
      const J0 = ja;
      const J1 = dIx * xPy;
      const J2 = -ja * ry + J1 * rx;
      const wr = wi / q;
      h00 += wr * J0 * J0;
      h01 += wr * J0 * J1;
      h02 += wr * J0 * J2;
      h11 += wr * J1 * J1;
      h12 += wr * J1 * J2;
      h22 += wr * J2 * J2;
      g0 += wr * J0 * r;
      g1 += wr * J1 * r;
      g2 += wr * J2 * r;
    }
    sum += wi * hd * Math.log(prod);
  }
  return {
    cost: wIn > 0 && wIn >= MIN_OVERLAP * wAll ? sum / wIn : Infinity,
    h: [h00, h01, h02, h11, h12, h22],
    g: [g0, g1, g2],
  };
}

/**
 * Levenberg–Marquardt with Cauchy weights at one level (fixed scales and sample weights), from θ:
 * each try is one pass (normalEquations at the tried motion gives its cost and, when accepted, the
 * next step's system).
 */
function refine(a: Target, s: Points, wts: Float32Array, wAll: number, theta: Theta, prm: PlanarAlignParams): { theta: Theta; cost: number } {
  const delta = prm.robustDelta;
  let th: Theta = [theta[0], theta[1], theta[2]];
  let cur = normalEquations(a, s, wts, wAll, th[0], th[1], th[2], delta);
  let lambda = 1e-3;
  for (let it = 0; it < prm.iterations && Number.isFinite(cur.cost); it++) {
    const [h00, h01, h02, h11, h12, h22] = cur.h;
    const [g0, g1, g2] = cur.g;
    let improved = false;
    let small = false;
    for (let tries = 0; tries < 5 && !improved; tries++) {
      const d = 1 + lambda;
      const step = solve3([h00 * d + 1e-9, h01, h02, h01, h11 * d + 1e-9, h12, h02, h12, h22 * d + 1e-9], [-g0, -g1, -g2]);
      if (!step) break;
      const cand: Theta = [th[0] + step[0], th[1] + step[1], th[2] + step[2]];
      const next = normalEquations(a, s, wts, wAll, cand[0], cand[1], cand[2], delta);
      if (next.cost < cur.cost) {
        small = Math.abs(step[0]) < 1e-4 && Math.abs(step[1]) < 1e-4 && Math.abs(step[2]) < 1e-5;
        th = cand;
        cur = next;
        lambda = Math.max(1e-6, lambda / 3);
        improved = true;
      } else {
        lambda *= 8;
      }
    }
    if (!improved || small) break;
  }
  return { theta: th, cost: cur.cost };
}

/** Median of the finite values (the element at ⌊n/2⌋ in ascending order); Infinity when there are none. */
function finiteMedian(values: ArrayLike<number>): number {
  const v = new Float64Array(values.length);
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const c = values[i] as number;
    if (Number.isFinite(c)) v[n++] = c;
  }
  if (n === 0) return Infinity;
  // quickselect (Hoare partition) for the element of rank k
  const k = Math.floor(n / 2);
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const pivot = v[(lo + hi) >> 1] as number;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while ((v[i] as number) < pivot) i++;
      while ((v[j] as number) > pivot) j--;
      if (i <= j) {
        const t = v[i] as number;
        v[i] = v[j] as number;
        v[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return v[k] as number;
}

/**
 * Local minima of a finite-valued n0×n1×n2 grid (no lower one among the 26 neighbours), in
 * index order, then sorted by cost (stable).
 */
function gridMinima([n0, n1, n2]: [number, number, number], at: (x: number, y: number, z: number) => number): { x: number; y: number; z: number; cost: number }[] {
  const out: { x: number; y: number; z: number; cost: number }[] = [];
  for (let x = 0; x < n0; x++) for (let y = 0; y < n1; y++) for (let z = 0; z < n2; z++) {
    const c = at(x, y, z);
    if (!Number.isFinite(c)) continue;
    let isMin = true;
    for (let dx = -1; dx <= 1 && isMin; dx++) for (let dy = -1; dy <= 1 && isMin; dy++) for (let dz = -1; dz <= 1 && isMin; dz++) {
      if (dx === 0 && dy === 0 && dz === 0) continue;
      const xx = x + dx;
      const yy = y + dy;
      const zz = z + dz;
      if (xx < 0 || yy < 0 || zz < 0 || xx >= n0 || yy >= n1 || zz >= n2) continue;
      if (at(xx, yy, zz) < c) isMin = false;
    }
    if (isMin) out.push({ x, y, z, cost: c });
  }
  return out.sort((p, q) => p.cost - q.cost);
}

/** The samples flagged in `keep` (without it, those with weight > 0), with their weights. */
function subsetOf(s: Points, w: Float32Array, keep?: Uint8Array): { pts: Points; w: Float32Array } {
  const kept = (i: number) => (keep ? keep[i] === 1 : (w[i] as number) > 0);
  let n = 0;
  for (let i = 0; i < s.n; i++) if (kept(i)) n++;
  const pts: Points = { n, qx: new Float64Array(n), qy: new Float64Array(n), qz: new Float64Array(n), v0: new Float64Array(n), v1: new Float64Array(n), v2: new Float64Array(n) };
  const ws = new Float32Array(n);
  for (let i = 0, k = 0; i < s.n; i++) {
    if (!kept(i)) continue;
    pts.qx[k] = s.qx[i] as number;
    pts.qy[k] = s.qy[i] as number;
    pts.qz[k] = s.qz[i] as number;
    pts.v0[k] = s.v0[i] as number;
    pts.v1[k] = s.v1[i] as number;
    pts.v2[k] = s.v2[i] as number;
    ws[k] = w[i] as number;
    k++;
  }
  return { pts, w: ws };
}

/**
 * Grid search at the coarsest level over (dx, dy, dyaw) with the floor-and-far model, truncated
 * L1 cost: the best `k` local minima and the median cost. A first pass ranks the grid: every
 * point, or with gridCoarseStep s > 1 only every s-th point per axis (and each axis's last); with
 * every sample, or with `keep` (gridSampleStride > 1) only the flagged ones. The median is the
 * first pass's. When the first pass is not the full grid with every sample, a steepest descent
 * over the full grid's 26 neighbours, with every sample, goes from its best `gridDescentStarts` local
 * minima and finds the minima; when they are fewer than `k`, the first pass's next local minima
 * (with their full cost) fill up to `k`.
 * Every cost is computed at most once per pass.
 */
function gridSearch(a: Target, s: Points, w: Float32Array, prm: PlanarAlignParams, k: number, keep?: Uint8Array): { minima: { theta: Theta; cost: number }[]; median: number } {
  const nx = Math.floor((prm.searchForwardM[1] - prm.searchForwardM[0]) / prm.gridStepM + 1e-9) + 1;
  const ny = 2 * Math.floor(prm.searchLateralM / prm.gridStepM + 1e-9) + 1;
  const nyaw = 2 * Math.floor(prm.searchYawRad / prm.gridStepYawRad + 1e-9) + 1;
  const xAt = (i: number) => prm.searchForwardM[0] + i * prm.gridStepM;
  const yAt = (j: number) => (j - (ny - 1) / 2) * prm.gridStepM;
  const aAt = (l: number) => (l - (nyaw - 1) / 2) * prm.gridStepYawRad;
  const theta = (i: number, j: number, l: number): Theta => [xAt(i), yAt(j), aAt(l)];
  const lazy = (cost: GridCost, cache: Float32Array) => (i: number, j: number, l: number): number => {
    const idx = (i * ny + j) * nyaw + l;
    if (Number.isNaN(cache[idx] as number)) cache[idx] = cost.at(xAt(i), yAt(j), aAt(l));
    return cache[idx] as number;
  };
  const full = gridCost(a, s, w, prm.gridTruncation);
  const costs = new Float32Array(nx * ny * nyaw).fill(Number.NaN);
  const at = lazy(full, costs);
  // the first pass: every sample, or the kept ones
  const sub = keep ? subsetOf(s, w, keep) : undefined;
  const table = sub && prm.gridRankSubpixel > 0 ? subpixelTable(a, prm.gridRankSubpixel) : undefined;
  const first = sub ? gridCost(a, sub.pts, sub.w, prm.gridTruncation, table) : full;
  const firstCosts = sub ? new Float32Array(nx * ny * nyaw).fill(Number.NaN) : costs;
  const firstAt = sub ? lazy(first, firstCosts) : at;
  const axis = (n: number): number[] => {
    const v: number[] = [];
    for (let x = 0; x < n; x += prm.gridCoarseStep) v.push(x);
    if (v[v.length - 1] !== n - 1) v.push(n - 1);
    return v;
  };
  if (prm.gridCoarseStep === 1) first.volume([nx, ny, nyaw], xAt, yAt, aAt, firstCosts);
  const [ci, cj, cl] = [axis(nx), axis(ny), axis(nyaw)];
  const coarseAt = (x: number, y: number, z: number) => firstAt(ci[x] as number, cj[y] as number, cl[z] as number);
  const coarse: number[] = [];
  for (let x = 0; x < ci.length; x++) for (let y = 0; y < cj.length; y++) for (let z = 0; z < cl.length; z++) coarse.push(coarseAt(x, y, z));
  const median = finiteMedian(coarse);
  const starts = gridMinima([ci.length, cj.length, cl.length], coarseAt).map((m) => ({ i: ci[m.x] as number, j: cj[m.y] as number, l: cl[m.z] as number }));
  if (prm.gridCoarseStep === 1 && !keep) return { minima: starts.slice(0, k).map((m) => ({ theta: theta(m.i, m.j, m.l), cost: at(m.i, m.j, m.l) })), median };
  const found = new Map<number, { theta: Theta; cost: number }>();
  for (const st of starts.slice(0, prm.gridDescentStarts)) {
    let { i, j, l } = st;
    let cost = at(i, j, l);
    for (;;) {
      let best = { i, j, l, cost };
      for (let di = -1; di <= 1; di++) for (let dj = -1; dj <= 1; dj++) for (let dl = -1; dl <= 1; dl++) {
        const ii = i + di;
        const jj = j + dj;
        const ll = l + dl;
        if ((di === 0 && dj === 0 && dl === 0) || ii < 0 || jj < 0 || ll < 0 || ii >= nx || jj >= ny || ll >= nyaw) continue;
        const c = at(ii, jj, ll);
        if (c < best.cost) best = { i: ii, j: jj, l: ll, cost: c };
      }
      if (best.i === i && best.j === j && best.l === l) break;
      ({ i, j, l, cost } = best);
    }
    found.set((i * ny + j) * nyaw + l, { theta: theta(i, j, l), cost });
  }
  // descents that met in fewer than k minima: the next first-pass minima, as they are, fill up to k
  for (const st of starts.slice(prm.gridDescentStarts)) {
    if (found.size >= k) break;
    const idx = (st.i * ny + st.j) * nyaw + st.l;
    if (!found.has(idx)) found.set(idx, { theta: theta(st.i, st.j, st.l), cost: at(st.i, st.j, st.l) });
  }
  return { minima: [...found.values()].sort((p, q) => p.cost - q.cost).slice(0, k), median };
}

function asPrepared(f: Uint8Array | PreparedFrame, camera: PinholeCamera, prm: PlanarAlignParams): PreparedFrame {
  if (f instanceof Uint8Array) return prepareFrame(f, camera, prm);
  if (f.camera.width !== camera.width || f.camera.height !== camera.height) {
    throw new BadFrameError(`planar alignment: prepared frame is ${f.camera.width}x${f.camera.height}, camera is ${camera.width}x${camera.height}`);
  }
  return f;
}

const clamp01 = (x: number) => (x < 0 ? 0 : x > 1 ? 1 : x);

/**
 * Planar motion from frame A to frame B (B's pose in A's body frame) by direct alignment under
 * the floor-and-walls model (see the module comment). Frames are rgb8 buffers of the camera's
 * size or PreparedFrames of it.
 *
 * confidence = clamp((inlierShare − 0.2) / 0.4) × clamp(distinctness / 0.25) × 1 / (1 + (residual /
 * residualScale)²), where inlierShare is the share of B's floor pixels that land inside A and
 * agree within `inlierThreshold`, distinctness = 1 − (best grid cost / median grid cost), and
 * residual the mean absolute residual of the floor pixels that land inside A.
 * @throws BadFrameError when a buffer does not match the camera's size.
 * @throws ParameterError for an invalid camera or parameters.
 */
export function alignPlanar(
  frameA: Uint8Array | PreparedFrame,
  frameB: Uint8Array | PreparedFrame,
  camera: PinholeCamera,
  params: Partial<PlanarAlignParams> = {},
): PlanarMotion {
  const prm = { ...DEFAULT_PLANAR_ALIGN_PARAMS, ...params };
  checkParams(prm);
  checkCamera(camera, 'alignPlanar');
  const A = asPrepared(frameA, camera, prm);
  const B = asPrepared(frameB, camera, prm);
  const nL = Math.min(A.levels.length, B.levels.length);
  const top = nL - 1;
  const samples: Samples[] = [];
  for (let l = 0; l < nL; l++) samples[l] = samplesOf(B.levels[l] as Level);
  const s0 = samples[0] as Samples;
  const models = samples.map((sm) => floorModel(sm, prm));
  const points = samples.map((sm, l) => pointsOf(sm, (models[l] as { scale: Float32Array }).scale));
  const targetsA = A.levels.map(targetOf);
  const targetAt = (l: number) => targetsA[l] as Target;
  const st = samples[top] as Samples;
  const stride = prm.gridSampleStride;
  const keep = stride > 1 ? Uint8Array.from(st.u, (u, i) => ((u + (st.v[i] as number)) % stride === 0 ? 1 : 0)) : undefined;
  const grid = gridSearch(targetAt(top), points[top] as Points, floorModel(st, prm, prm.gridUpperWeight).w, prm, prm.topK, keep);
  const best0 = grid.minima[0];
  if (!best0) return { dx: 0, dy: 0, dyaw: 0, confidence: 0, inliers: 0, samples: s0.n, residual: Infinity };
  // a refinement that leaves the searched box (plus two grid steps) has slid into another
  // basin (periodic floor tiles): it is dropped
  const inBox = (th: Theta) =>
    th[0] >= prm.searchForwardM[0] - 2 * prm.gridStepM &&
    th[0] <= prm.searchForwardM[1] + 2 * prm.gridStepM &&
    Math.abs(th[1]) <= prm.searchLateralM + 2 * prm.gridStepM &&
    Math.abs(th[2]) <= prm.searchYawRad + 2 * prm.gridStepYawRad;
  // the refinement's samples: those with weight (the floor, unless upperWeight > 0)
  const fitting = points.map((pt, l) => {
    const w = (models[l] as { w: Float32Array }).w;
    let wAll = 0;
    for (let i = 0; i < w.length; i++) wAll += w[i] as number;
    return { ...subsetOf(pt, w), wAll };
  });
  const fitAt = (l: number, th: Theta) => {
    const fs = fitting[l] as { pts: Points; w: Float32Array; wAll: number };
    const f = refine(targetAt(l), fs.pts, fs.w, fs.wAll, th, prm);
    return inBox(f.theta) ? f : { theta: th, cost: Infinity };
  };
  // the best few grid minima are refined at the two coarsest levels; the winner goes on up
  let hyps = grid.minima.map((m) => fitAt(top, m.theta));
  if (top >= 1) {
    if (hyps.length > prm.refineSecondLevel) hyps = hyps.sort((p, q) => p.cost - q.cost).slice(0, prm.refineSecondLevel);
    hyps = hyps.map((h) => fitAt(top - 1, h.theta));
  }
  hyps.sort((p, q) => p.cost - q.cost);
  let theta = (hyps[0] as { theta: Theta }).theta;
  for (let l = top - 2; l >= 0; l--) theta = fitAt(l, theta).theta;
  // quality at full resolution, floor pixels only
  const res = new Float32Array(s0.n * CH);
  const ok = new Uint8Array(s0.n);
  residuals(targetAt(0), points[0] as Points, theta[0], theta[1], theta[2], res, ok);
  let nFloor = 0;
  for (let i = 0; i < s0.n; i++) if ((s0.floorDist[i] as number) <= prm.maxFloorRangeM) nFloor++;
  let inliers = 0;
  let valid = 0;
  let sumErr = 0;
  for (let i = 0; i < s0.n; i++) {
    if (ok[i] !== 1 || (s0.floorDist[i] as number) > prm.maxFloorRangeM) continue;
    const e = (Math.abs(res[i * CH] as number) + Math.abs(res[i * CH + 1] as number) + Math.abs(res[i * CH + 2] as number)) / CH;
    valid++;
    sumErr += e;
    if (e < prm.inlierThreshold) inliers++;
  }
  const inlierShare = nFloor > 0 ? inliers / nFloor : 0;
  const distinct = grid.median > 0 && Number.isFinite(grid.median) ? 1 - best0.cost / grid.median : 0;
  const residual = valid > 0 ? sumErr / valid : Infinity;
  const agreement = 1 / (1 + (residual / prm.residualScale) ** 2);
  const confidence = clamp01((inlierShare - 0.2) / 0.4) * clamp01(distinct / 0.25) * agreement;
  return {
    dx: theta[0],
    dy: theta[1],
    dyaw: normalizeAngle(theta[2]),
    confidence: Number.isFinite(confidence) ? confidence : 0,
    inliers,
    samples: nFloor,
    residual,
  };
}

/** Estimates the motion between two frames (B's pose in A's body frame). */
export type PairEstimator = (frameA: PreparedFrame, frameB: PreparedFrame, camera: PinholeCamera) => PlanarMotion;

/** One link of a chain: the motion from frame i to frame i+1. */
export interface OdometryLink {
  from: number;
  to: number;
  motion: PlanarMotion;
}

export interface OdometryChain {
  /** Pose of every frame relative to the first (frame 0 = identity), its body frame. */
  poses: Pose2D[];
  /** Per consecutive pair, the estimated motion and its confidence. */
  links: OdometryLink[];
  /** Product-free summary: the smallest link confidence (0 for a single frame). */
  minConfidence: number;
}

/**
 * Visual odometry along a frame sequence: consecutive pairs aligned with `estimator` (default:
 * alignPlanar with `params`), composed into poses relative to the first frame.
 * @throws ParameterError for an empty frame list.
 * @throws BadFrameError when a frame does not match the camera's size.
 */
export function chainOdometry(
  frames: readonly Uint8Array[],
  camera: PinholeCamera,
  estimator?: PairEstimator,
  params: Partial<PlanarAlignParams> = {},
): OdometryChain {
  if (frames.length === 0) throw new ParameterError('chainOdometry: needs at least one frame, got 0');
  const prm = { ...DEFAULT_PLANAR_ALIGN_PARAMS, ...params };
  const est: PairEstimator = estimator ?? ((a, b, c) => alignPlanar(a, b, c, prm));
  const prepared = frames.map((f) => prepareFrame(f, camera, prm));
  const poses: Pose2D[] = [{ x: 0, y: 0, yaw: 0 }];
  const links: OdometryLink[] = [];
  for (let i = 0; i + 1 < prepared.length; i++) {
    const motion = est(prepared[i] as PreparedFrame, prepared[i + 1] as PreparedFrame, camera);
    links.push({ from: i, to: i + 1, motion });
    poses.push(composePose2D(poses[i] as Pose2D, { x: motion.dx, y: motion.dy, yaw: motion.dyaw }));
  }
  const minConfidence = links.length > 0 ? Math.min(...links.map((l) => l.motion.confidence)) : 0;
  return { poses, links, minConfidence };
}
