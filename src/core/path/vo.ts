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
 *      pixels that land inside A (at least 30 % of them must);
 *   3. Levenberg–Marquardt with Cauchy weights from the best few grid minima at the two coarsest
 *      levels, the winner level by level to full resolution (a refinement that leaves the searched
 *      box is dropped);
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

function samplesOf(b: Level): Samples {
  const { W, H, cam } = b;
  const cp = Math.cos(cam.pitchRad);
  const sp = Math.sin(cam.pitchRad);
  const ray: number[] = [];
  const hr: number[] = [];
  const fd: number[] = [];
  const val: number[] = [];
  const us: number[] = [];
  const vs: number[] = [];
  for (let v = 0; v < H; v++) {
    const yo = (v + 0.5 - cam.cy) / cam.fy;
    for (let u = 0; u < W; u++) {
      if (b.mask[v * W + u] === 1) continue;
      const xo = (u + 0.5 - cam.cx) / cam.fx;
      const bx = cp - sp * yo;
      const bz = -sp - cp * yo;
      const by = -xo;
      const h = Math.hypot(bx, by);
      ray.push(bx, by, bz);
      hr.push(h);
      fd.push(bz < -1e-9 ? (h * cam.heightM) / -bz : Infinity);
      us.push(u);
      vs.push(v);
      for (let c = 0; c < CH; c++) val.push(b.img[c * W * H + v * W + u] as number);
    }
  }
  return { n: hr.length, ray: Float32Array.from(ray), hr: Float32Array.from(hr), floorDist: Float32Array.from(fd), val: Float32Array.from(val), u: Int32Array.from(us), v: Int32Array.from(vs) };
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

/**
 * Residuals A(warp(θ)) − B per sample and channel into `res` (CH per sample); `ok[i]` = 1 where
 * the warped pixel lies inside A and off A's mask. θ = B's pose in A's body frame. With `cost`,
 * also returns the mean robust cost over the samples that land inside A (weights cost.w, Cauchy
 * loss 0.5·δ²·ln(1 + (r/δ)²) per channel at δ = cost.delta); Infinity when less than MIN_OVERLAP
 * of the weight lands (samples outside are not penalised: a penalty would favour small motions,
 * whose views overlap more). Without `cost`, NaN.
 */
function residuals(a: Target, s: Points, dx: number, dy: number, dyaw: number, res: Float32Array, ok: Uint8Array, cost?: { w: Float32Array; delta: number }): number {
  const { W, H, cam, i0, i1, i2, mask, masked } = a;
  const cp = Math.cos(cam.pitchRad);
  const sp = Math.sin(cam.pitchRad);
  const c = Math.cos(dyaw);
  const sn = Math.sin(dyaw);
  const { cx, cy, fx: fxc, fy: fyc } = cam;
  const { qx, qy, qz, v0, v1, v2 } = s;
  const w = cost?.w;
  const delta = cost?.delta ?? 1;
  const hd = 0.5 * delta * delta;
  let sum = 0;
  let wIn = 0;
  let wAll = 0;
  for (let i = 0; i < s.n; i++) {
    const wi = w ? (w[i] as number) : 0;
    wAll += wi;
    const qxi = qx[i] as number;
    const qyi = qy[i] as number;
    const qzi = qz[i] as number;
    const px = c * qxi - sn * qyi + dx;
    const py = sn * qxi + c * qyi + dy;
    const fwd = cp * px - sp * qzi;
    if (fwd <= 1e-6) {
      ok[i] = 0;
      continue;
    }
    const up = sp * px + cp * qzi;
    // array coordinates: continuous − 0.5
    const x = cx - (fxc * py) / fwd - 0.5;
    const y = cy - (fyc * up) / fwd - 0.5;
    if (!(x >= 0 && y >= 0 && x <= W - 1 && y <= H - 1)) {
      ok[i] = 0;
      continue;
    }
    if (masked && mask[Math.round(y) * W + Math.round(x)] === 1) {
      ok[i] = 0;
      continue;
    }
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
    const r0 = Math.fround(bilinear(i0, p, W, w00, w10, w01, w11) - (v0[i] as number));
    const r1 = Math.fround(bilinear(i1, p, W, w00, w10, w01, w11) - (v1[i] as number));
    const r2 = Math.fround(bilinear(i2, p, W, w00, w10, w01, w11) - (v2[i] as number));
    res[i * CH] = r0;
    res[i * CH + 1] = r1;
    res[i * CH + 2] = r2;
    if (wi !== 0) {
      // Cauchy loss summed over the channels: ½δ²·Σ ln(1 + (r/δ)²), as one logarithm of the product
      wIn += wi;
      sum += wi * hd * Math.log((1 + (r0 / delta) ** 2) * (1 + (r1 / delta) ** 2) * (1 + (r2 / delta) ** 2));
    }
  }
  return !cost ? Number.NaN : wIn > 0 && wIn >= MIN_OVERLAP * wAll ? sum / wIn : Infinity;
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
function gridCost(a: Target, s: Points, w: Float32Array, trunc: number): GridCost {
  const { W, H, cam, mask, masked } = a;
  const cp = Math.cos(cam.pitchRad);
  const sp = Math.sin(cam.pitchRad);
  const { cx, cy, fx: fxc, fy: fyc } = cam;
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
  const volume: GridCost['volume'] = ([nx, ny, nyaw], xAt, yAt, aAt, costs) => {
    if (dys.length < ny) {
      dys = new Float64Array(ny);
      sums = new Float64Array(ny);
      wIns = new Float64Array(ny);
    }
    for (let l = 0; l < nyaw; l++) {
      const dyaw = aAt(l);
      const c = Math.cos(dyaw);
      const sn = Math.sin(dyaw);
      for (let i = 0; i < n; i++) {
        rx[i] = c * (qx[i] as number) - sn * (qy[i] as number);
        ry[i] = sn * (qx[i] as number) + c * (qy[i] as number);
      }
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
        for (let j = 0; j < ny; j++) {
          dys[j] = yAt(j);
          sums[j] = 0;
          wIns[j] = 0;
        }
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
        for (let j = 0; j < ny; j++) {
          const wIn = wIns[j] as number;
          costs[(ix * ny + j) * nyaw + l] = wIn > 0 && wIn >= MIN_OVERLAP * wAll ? (sums[j] as number) / wIn : Infinity;
        }
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

/** Levenberg–Marquardt with Cauchy weights at one level (fixed scales and sample weights), from θ. */
function refine(a: Target, s: Points, wts: Float32Array, theta: Theta, prm: PlanarAlignParams): { theta: Theta; cost: number } {
  const res = new Float32Array(s.n * CH);
  const ok = new Uint8Array(s.n);
  const rj = [new Float32Array(s.n * CH), new Float32Array(s.n * CH), new Float32Array(s.n * CH)];
  const okj = [new Uint8Array(s.n), new Uint8Array(s.n), new Uint8Array(s.n)];
  // finite-difference steps: about a tenth of a pixel of image motion at this level
  const eps = [0.15 / a.cam.fx, 0.15 / a.cam.fx, 0.1 / a.cam.fx];
  const delta = prm.robustDelta;
  let th: Theta = [theta[0], theta[1], theta[2]];
  const costOf = { w: wts, delta };
  let cost = residuals(a, s, th[0], th[1], th[2], res, ok, costOf);
  let lambda = 1e-3;
  for (let it = 0; it < prm.iterations; it++) {
    for (let j = 0; j < 3; j++) {
      const t: Theta = [th[0], th[1], th[2]];
      t[j] = (t[j] as number) + (eps[j] as number);
      residuals(a, s, t[0], t[1], t[2], rj[j] as Float32Array, okj[j] as Uint8Array);
    }
    const Hm = new Float64Array(9);
    const g = new Float64Array(3);
    const r0s = rj[0] as Float32Array;
    const r1s = rj[1] as Float32Array;
    const r2s = rj[2] as Float32Array;
    for (let i = 0; i < s.n; i++) {
      const wi = wts[i] as number;
      if (wi === 0 || ok[i] !== 1 || okj[0]?.[i] !== 1 || okj[1]?.[i] !== 1 || okj[2]?.[i] !== 1) continue;
      for (let ch = 0; ch < CH; ch++) {
        const k = i * CH + ch;
        const r = res[k] as number;
        const w = wi / (1 + (r / delta) ** 2);
        const J0 = ((r0s[k] as number) - r) / (eps[0] as number);
        const J1 = ((r1s[k] as number) - r) / (eps[1] as number);
        const J2 = ((r2s[k] as number) - r) / (eps[2] as number);
        Hm[0] = (Hm[0] as number) + w * J0 * J0;
        Hm[1] = (Hm[1] as number) + w * J0 * J1;
        Hm[2] = (Hm[2] as number) + w * J0 * J2;
        Hm[4] = (Hm[4] as number) + w * J1 * J1;
        Hm[5] = (Hm[5] as number) + w * J1 * J2;
        Hm[8] = (Hm[8] as number) + w * J2 * J2;
        g[0] = (g[0] as number) + w * J0 * r;
        g[1] = (g[1] as number) + w * J1 * r;
        g[2] = (g[2] as number) + w * J2 * r;
      }
    }
    Hm[3] = Hm[1] as number;
    Hm[6] = Hm[2] as number;
    Hm[7] = Hm[5] as number;
    let improved = false;
    let small = false;
    for (let tries = 0; tries < 5 && !improved; tries++) {
      const Hd = Array.from(Hm);
      for (const d of [0, 4, 8]) Hd[d] = (Hm[d] as number) * (1 + lambda) + 1e-9;
      const step = solve3(Hd, [-(g[0] as number), -(g[1] as number), -(g[2] as number)]);
      if (!step) break;
      const cand: Theta = [th[0] + step[0], th[1] + step[1], th[2] + step[2]];
      const c = residuals(a, s, cand[0], cand[1], cand[2], res, ok, costOf);
      if (c < cost) {
        small = Math.abs(step[0]) < 1e-4 && Math.abs(step[1]) < 1e-4 && Math.abs(step[2]) < 1e-5;
        th = cand;
        cost = c;
        lambda = Math.max(1e-6, lambda / 3);
        improved = true;
      } else {
        lambda *= 8;
      }
    }
    if (!improved || small) break;
  }
  return { theta: th, cost };
}

/** Median of the finite values; Infinity when there are none. */
function finiteMedian(values: ArrayLike<number>): number {
  const finite = new Float64Array(values.length);
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const c = values[i] as number;
    if (Number.isFinite(c)) finite[n++] = c;
  }
  return n > 0 ? (finite.subarray(0, n).sort()[Math.floor(n / 2)] as number) : Infinity;
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

/** The samples flagged in `keep`, with their weights. */
function subsetOf(s: Points, w: Float32Array, keep: Uint8Array): { pts: Points; w: Float32Array } {
  const at: number[] = [];
  for (let i = 0; i < s.n; i++) if (keep[i] === 1) at.push(i);
  const pick = (x: Float64Array) => Float64Array.from(at, (i) => x[i] as number);
  return {
    pts: { n: at.length, qx: pick(s.qx), qy: pick(s.qy), qz: pick(s.qz), v0: pick(s.v0), v1: pick(s.v1), v2: pick(s.v2) },
    w: Float32Array.from(at, (i) => w[i] as number),
  };
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
  const first = sub ? gridCost(a, sub.pts, sub.w, prm.gridTruncation) : full;
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
  const fitAt = (l: number, th: Theta) => {
    const f = refine(targetAt(l), points[l] as Points, (models[l] as { w: Float32Array }).w, th, prm);
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
