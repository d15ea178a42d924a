/**
 * Visual odometry entry point, and the OpenCV feature route (the only VO code that touches
 * opencv4nodejs).
 *
 * Two pair estimators, both returning B's planar pose in A's body frame with METRIC scale:
 * - 'direct' (default): core/path/vo.ts alignPlanar — direct ground-plane alignment, pure TS;
 * - 'orb': ORB features on an upscaled grey image, cross-checked Hamming matches, essential
 *   matrix with RANSAC, recoverPose; the unit translation gets its metric scale from the floor:
 *   matched inliers are triangulated (unit baseline) and, since the floor is the lowest surface,
 *   a low percentile of h / (depth below the camera) over the points below it is the scale.
 * Measured on rendered frames (docs/path.md): ORB finds 2–55 features on 64×64 frames, and even
 * at 160×120 or upscaled its translation direction is unreliable on these weakly textured rooms,
 * while the rotation of pure turns is right; the direct route is the default for that reason.
 *
 * Images are rgb8 H×W×3 row-major of the camera's size; pixels in continuous coordinates
 * (pixel (u, v) has its centre at (u + 0.5, v + 0.5)); OpenCV's keypoints have the centre of
 * pixel 0 at 0.0, converted below.
 */
import type { Mat, Point2 } from '@u4/opencv4nodejs';
import type { PinholeCamera } from '../core/camera.js';
import { ParameterError } from '../core/errors.js';
import { checkRgbImage } from '../core/path/box.js';
import {
  alignPlanar,
  chainOdometry,
  checkCamera,
  type OdometryChain,
  type PairEstimator,
  type PlanarAlignParams,
  type PlanarMotion,
  type PreparedFrame,
} from '../core/path/vo.js';
import { asBuffer, loadOpenCv, type Cv } from './opencv.js';

export interface OrbMotionParams {
  /** Upscaling before detection; 'auto' = 4 for frames ≤ 64 px wide, 2 up to 200 px, else 1. */
  upscale: number | 'auto';
  /** ORB features per frame. Default 500. */
  maxFeatures: number;
  /** ORB edge threshold and patch size at the upscaled resolution (px). Default 15. */
  patchSize: number;
  /** Largest Hamming distance of a kept match. Default 64. */
  maxHamming: number;
  /** RANSAC threshold (px at the original resolution). Default 0.5. */
  ransacThresholdPx: number;
  /** Fewer inliers than this → confidence 0. Default 8. */
  minInliers: number;
  /** Percentile (0…1) of the per-point floor scales taken as the scale. Default 0.25. */
  floorPercentile: number;
}

export const DEFAULT_ORB_MOTION_PARAMS: Readonly<OrbMotionParams> = Object.freeze({
  upscale: 'auto' as const,
  maxFeatures: 500,
  patchSize: 15,
  maxHamming: 64,
  ransacThresholdPx: 0.5,
  minInliers: 8,
  floorPercentile: 0.25,
});

/** An ORB estimate with its feature counts. */
export interface OrbMotion extends PlanarMotion {
  features: [number, number];
  matches: number;
  /** Triangulated inliers below the camera that fixed the scale. */
  floorPoints: number;
}

function checkOrbParams(p: OrbMotionParams): void {
  if (p.upscale !== 'auto' && !(Number.isInteger(p.upscale) && p.upscale >= 1 && p.upscale <= 8)) {
    throw new ParameterError(`ORB odometry: upscale must be 'auto' or an integer in [1, 8], got ${String(p.upscale)}`);
  }
  for (const k of ['maxFeatures', 'patchSize', 'maxHamming', 'ransacThresholdPx', 'minInliers'] as const) {
    if (!(Number.isFinite(p[k]) && p[k] > 0)) throw new ParameterError(`ORB odometry: ${k} must be positive, got ${p[k]}`);
  }
  if (!(p.floorPercentile >= 0 && p.floorPercentile <= 1)) throw new ParameterError(`ORB odometry: floorPercentile must be in [0, 1], got ${p.floorPercentile}`);
}

function greyMat(cv: Cv, rgb: Uint8Array, W: number, H: number, up: number): Mat {
  const m = new cv.Mat(H, W, cv.CV_8UC3, asBuffer(rgb));
  const g = m.cvtColor(cv.COLOR_RGB2GRAY);
  return up > 1 ? g.resize(H * up, W * up, 0, 0, cv.INTER_CUBIC) : g;
}

/** Optical-frame vector (x right, y down, z forward) → body frame (x forward, y left, z up), with pitch. */
function opticalToBody(c: PinholeCamera, v: [number, number, number]): [number, number, number] {
  const fwd = v[2];
  const left = -v[0];
  const up = -v[1];
  const cp = Math.cos(c.pitchRad);
  const sp = Math.sin(c.pitchRad);
  return [cp * fwd + sp * up, left, -sp * fwd + cp * up];
}

const zeroMotion = (features: [number, number], matches: number): OrbMotion => ({
  dx: 0,
  dy: 0,
  dyaw: 0,
  confidence: 0,
  inliers: 0,
  samples: matches,
  residual: Infinity,
  features,
  matches,
  floorPoints: 0,
});

/**
 * B's planar pose in A's body frame from ORB matches, the essential matrix and the floor scale
 * (see the module comment). Confidence 0 (and zero motion) when there are too few features,
 * matches, inliers or floor points.
 * @throws BadFrameError when a buffer does not match the camera's size.
 * @throws ParameterError for an invalid camera or parameters.
 * @throws OpenCvUnavailableError when the OpenCV addon cannot be loaded.
 */
export function estimateMotionOrb(a: Uint8Array, b: Uint8Array, camera: PinholeCamera, params: Partial<OrbMotionParams> = {}): OrbMotion {
  const prm = { ...DEFAULT_ORB_MOTION_PARAMS, ...params };
  checkOrbParams(prm);
  checkCamera(camera, 'estimateMotionOrb');
  const W = camera.width;
  const H = camera.height;
  checkRgbImage(a, W, H, 'estimateMotionOrb frame A');
  checkRgbImage(b, W, H, 'estimateMotionOrb frame B');
  const cv = loadOpenCv();
  const up = prm.upscale === 'auto' ? (W <= 64 ? 4 : W <= 200 ? 2 : 1) : prm.upscale;
  const ga = greyMat(cv, a, W, H, up);
  const gb = greyMat(cv, b, W, H, up);
  const orb = new cv.ORBDetector({ maxFeatures: prm.maxFeatures, edgeThreshold: prm.patchSize, patchSize: prm.patchSize, fastThreshold: 10 });
  const ka = orb.detect(ga);
  const kb = orb.detect(gb);
  const features: [number, number] = [ka.length, kb.length];
  if (ka.length < prm.minInliers || kb.length < prm.minInliers) return zeroMotion(features, 0);
  const da = orb.compute(ga, ka);
  const db = orb.compute(gb, kb);
  const ab = cv.matchBruteForceHamming(da, db);
  const ba = cv.matchBruteForceHamming(db, da);
  const good = ab.filter((m) => ba[m.trainIdx]?.trainIdx === m.queryIdx && m.distance <= prm.maxHamming);
  if (good.length < prm.minInliers) return zeroMotion(features, good.length);
  // normalised coordinates from OpenCV pixel coordinates of the upscaled image
  const norm = (p: Point2): [number, number] => [((p.x + 0.5) / up - camera.cx) / camera.fx, ((p.y + 0.5) / up - camera.cy) / camera.fy];
  const pa = good.map((m) => (ka[m.queryIdx] as { pt: Point2 }).pt);
  const pb = good.map((m) => (kb[m.trainIdx] as { pt: Point2 }).pt);
  // essential matrix on normalised points (identity intrinsics): threshold in normalised units
  const na = pa.map((p) => norm(p));
  const nb = pb.map((p) => norm(p));
  const K = new cv.Mat([[1, 0, 0], [0, 1, 0], [0, 0, 1]], cv.CV_64F);
  const P1 = na.map(([x, y]) => new cv.Point2(x, y));
  const P2 = nb.map(([x, y]) => new cv.Point2(x, y));
  const thr = prm.ransacThresholdPx / camera.fx;
  const { E, mask } = K.findEssentialMat(P1, P2, cv.RANSAC, 0.999, thr);
  if (E.rows !== 3 || E.cols !== 3) return zeroMotion(features, good.length);
  const pose = K.recoverPose(E, P1, P2, mask);
  const inliers = pose.returnValue;
  if (!(inliers >= prm.minInliers)) return zeroMotion(features, good.length);
  const R = pose.R.getDataAsArray() as number[][];
  const t: [number, number, number] = [pose.T.x, pose.T.y, pose.T.z];
  const r = (i: number, j: number) => (R[i] as number[])[j] as number;
  // B's optical axis in A's optical frame = third row of R; B's centre in A = −Rᵀ t (unit)
  const fwdB = opticalToBody(camera, [r(2, 0), r(2, 1), r(2, 2)]);
  const dyaw = Math.atan2(fwdB[1], fwdB[0]);
  const cA: [number, number, number] = [
    -(r(0, 0) * t[0] + r(1, 0) * t[1] + r(2, 0) * t[2]),
    -(r(0, 1) * t[0] + r(1, 1) * t[1] + r(2, 1) * t[2]),
    -(r(0, 2) * t[0] + r(1, 2) * t[1] + r(2, 2) * t[2]),
  ];
  const cBody = opticalToBody(camera, cA);
  // triangulate inliers (midpoint of the two rays, unit baseline) in A's optical frame
  const maskData = mask.getDataAsArray() as number[][];
  const scales: number[] = [];
  for (let i = 0; i < good.length; i++) {
    if (!((maskData[i] as number[])[0] as number)) continue;
    const [xa, ya] = na[i] as [number, number];
    const [xb, yb] = nb[i] as [number, number];
    const d1: [number, number, number] = [xa, ya, 1];
    // ray of B in A's frame: Rᵀ (xb, yb, 1) from centre cA
    const d2: [number, number, number] = [
      r(0, 0) * xb + r(1, 0) * yb + r(2, 0),
      r(0, 1) * xb + r(1, 1) * yb + r(2, 1),
      r(0, 2) * xb + r(1, 2) * yb + r(2, 2),
    ];
    const dot = (u: number[], v: number[]) => (u[0] as number) * (v[0] as number) + (u[1] as number) * (v[1] as number) + (u[2] as number) * (v[2] as number);
    const a11 = dot(d1, d1);
    const a12 = -dot(d1, d2);
    const a22 = dot(d2, d2);
    const b1 = dot(d1, cA);
    const b2 = -dot(d2, cA);
    const det = a11 * a22 - a12 * a12;
    if (Math.abs(det) < 1e-12) continue;
    const s1 = (b1 * a22 - a12 * b2) / det;
    const s2 = (a11 * b2 - a12 * b1) / det;
    if (!(s1 > 0 && s2 > 0)) continue;
    const X: [number, number, number] = [
      (s1 * d1[0] + cA[0] + s2 * d2[0]) / 2,
      (s1 * d1[1] + cA[1] + s2 * d2[1]) / 2,
      (s1 * d1[2] + cA[2] + s2 * d2[2]) / 2,
    ];
    const below = -opticalToBody(camera, X)[2];
    if (below > 1e-6) scales.push(camera.heightM / below);
  }
  if (scales.length < 4) return { ...zeroMotion(features, good.length), inliers, floorPoints: scales.length };
  scales.sort((p, q) => p - q);
  const s = scales[Math.min(scales.length - 1, Math.floor(prm.floorPercentile * scales.length))] as number;
  const confidence = Math.min(1, inliers / good.length) * Math.min(1, inliers / 30);
  return {
    dx: s * cBody[0],
    dy: s * cBody[1],
    dyaw,
    confidence,
    inliers,
    samples: good.length,
    residual: Number.NaN,
    features,
    matches: good.length,
    floorPoints: scales.length,
  };
}

export type OdometryMethod = 'direct' | 'orb';

export interface VisualOdometryOptions {
  method?: OdometryMethod;
  direct?: Partial<PlanarAlignParams>;
  orb?: Partial<OrbMotionParams>;
}

/** The pair estimator of a method, for chainOdometry or anchoring. */
export function pairEstimator(options: VisualOdometryOptions = {}): PairEstimator {
  const method = options.method ?? 'direct';
  if (method === 'direct') return (a: PreparedFrame, b: PreparedFrame, c: PinholeCamera) => alignPlanar(a, b, c, options.direct ?? {});
  if (method === 'orb') return (a: PreparedFrame, b: PreparedFrame, c: PinholeCamera) => estimateMotionOrb(a.rgb, b.rgb, c, options.orb ?? {});
  throw new ParameterError(`visual odometry: method must be 'direct' or 'orb', got '${String(method)}'`);
}

/**
 * Poses of a frame sequence relative to its first frame, with per-link confidence, by the
 * chosen method (default 'direct').
 * @throws ParameterError for an unknown method or an empty frame list.
 * @throws BadFrameError when a frame does not match the camera's size.
 */
export function visualOdometry(frames: readonly Uint8Array[], camera: PinholeCamera, options: VisualOdometryOptions = {}): OdometryChain {
  return chainOdometry(frames, camera, pairEstimator(options), options.direct ?? {});
}
