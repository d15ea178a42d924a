/**
 * Camera models for ingest: the model's camera contract (`ModelCamera`, read from the model's
 * manifest at run time) and the source camera's intrinsics (`CameraIntrinsics`, from
 * sensor_msgs/CameraInfo or from parameters), plus the crop/resize plan that maps a source frame
 * onto the model's frame size and field of view. Pure: no I/O.
 *
 * Pixel convention (the project's, as in src/core/camera.ts and the manifest's
 * `pixel_convention`): continuous coordinates in which pixel column `u` covers [u, u + 1] and has
 * its centre at u + 0.5, so a W-pixel image spans [0, W] and a centred camera has cx = W/2.
 * ROS CameraInfo / OpenCV put pixel centres at integers (a centred camera has cx = W/2 − 0.5);
 * `intrinsicsFromCameraInfo` converts (cx = K[2] + 0.5, cy = K[5] + 0.5). The default model camera
 * (64×64, 60°) is fx = fy = 32 / tan 30° = 55.43, cx = cy = 32 here (= 31.5 in ROS terms).
 */
import { BadFrameError, ParameterError } from '../errors.js';
import type { PinholeCamera } from '../camera.js';

/**
 * The camera the model was trained with (the project's PinholeCamera). Comes from the model's
 * manifest (`cameraOf(manifest)`); never hard-code it. width/height: frame size in pixels;
 * fx, fy: focal lengths (px); cx, cy: principal point (px, continuous convention above);
 * heightM: optical centre above the floor (m); pitchRad: downward tilt (rad, positive = down).
 */
export type ModelCamera = PinholeCamera;

/** Pinhole intrinsics of the source camera at the resolution of the frames it publishes (px, continuous convention). */
export interface CameraIntrinsics {
  width: number;
  height: number;
  fx: number;
  fy: number;
  cx: number;
  cy: number;
}

/** Minimal structural view of sensor_msgs/CameraInfo (fields this module reads). */
export interface CameraInfoLike {
  width: number;
  height: number;
  /** Row-major 3×3 [fx 0 cx; 0 fy cy; 0 0 1]. */
  k: ArrayLike<number>;
}

/** The horizontal FOV (rad) of the shipped default model camera: 60°. */
export const DEFAULT_MODEL_HFOV_RAD = Math.PI / 3;

/**
 * A centred, square-pixel model camera with the given horizontal FOV:
 * fx = fy = (width/2) / tan(hfov/2), cx = width/2, cy = height/2.
 */
export function modelCameraFromFov(width: number, height: number, hfovRad: number, heightM: number, pitchRad = 0): ModelCamera {
  const intr = intrinsicsFromHfov(width, height, hfovRad);
  const cam: ModelCamera = { ...intr, heightM, pitchRad };
  validateModelCamera(cam);
  return cam;
}

/** Throws ParameterError naming the first field that is not usable. */
export function validateModelCamera(c: ModelCamera, where = 'model camera'): void {
  for (const k of ['width', 'height'] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 1 || c[k] > MAX_MODEL_FRAME_SIDE) {
      throw new ParameterError(`${where}: ${k} must be an integer in [1, ${MAX_MODEL_FRAME_SIDE}], got ${c[k]}`, 'bad_model_camera');
    }
  }
  for (const k of ['fx', 'fy'] as const) {
    if (!(Number.isFinite(c[k]) && c[k] > 0)) throw new ParameterError(`${where}: ${k} must be a positive number of pixels, got ${c[k]}`, 'bad_model_camera');
  }
  for (const k of ['cx', 'cy', 'heightM', 'pitchRad'] as const) {
    if (!Number.isFinite(c[k])) throw new ParameterError(`${where}: ${k} must be finite, got ${c[k]}`, 'bad_model_camera');
  }
}

/** Largest model frame side we accept (px); the model runs on small frames. */
export const MAX_MODEL_FRAME_SIDE = 4096;

/** Centred square-pixel intrinsics from a horizontal FOV (rad). */
export function intrinsicsFromHfov(width: number, height: number, hfovRad: number): CameraIntrinsics {
  if (!(Number.isFinite(hfovRad) && hfovRad > 0 && hfovRad < Math.PI)) {
    throw new ParameterError(`horizontal FOV must be in (0, 180)°, got ${(hfovRad * 180) / Math.PI}°`, 'bad_fov');
  }
  const fx = width / 2 / Math.tan(hfovRad / 2);
  return { width, height, fx, fy: fx, cx: width / 2, cy: height / 2 };
}

/**
 * Intrinsics from sensor_msgs/CameraInfo (ROS convention, converted to the continuous one),
 * scaled to the frame size actually received
 * (`imageWidth` × `imageHeight`) when CameraInfo was calibrated at another resolution (binning,
 * a resized stream). Distortion is ignored: subscribe to a rectified image (image_rect) if the
 * lens distorts noticeably.
 */
export function intrinsicsFromCameraInfo(info: CameraInfoLike, imageWidth: number, imageHeight: number, topic = '?'): CameraIntrinsics {
  const k = info.k;
  if (k.length !== 9) throw new BadFrameError(`CameraInfo.k has ${k.length} elements, expected 9 [topic=${topic}]`, 'bad_camera_info');
  const fx = Number(k[0]);
  const cx = Number(k[2]);
  const fy = Number(k[4]);
  const cy = Number(k[5]);
  if (!(fx > 0 && fy > 0 && Number.isFinite(fx) && Number.isFinite(fy) && Number.isFinite(cx) && Number.isFinite(cy))) {
    throw new BadFrameError(`CameraInfo.k has fx=${fx} fy=${fy} cx=${cx} cy=${cy}; need fx, fy > 0 and finite values (uncalibrated camera?) [topic=${topic}]`, 'bad_camera_info');
  }
  if (!(info.width > 0 && info.height > 0)) {
    throw new BadFrameError(`CameraInfo size ${info.width}x${info.height} is empty [topic=${topic}]`, 'bad_camera_info');
  }
  const sx = imageWidth / info.width;
  const sy = imageHeight / info.height;
  // ROS x (pixel centres at integers) → continuous x + 0.5, which scales with the image
  return { width: imageWidth, height: imageHeight, fx: fx * sx, fy: fy * sy, cx: (cx + 0.5) * sx, cy: (cy + 0.5) * sy };
}

/** Horizontal FOV (rad) of a camera whose image spans [0, W]. */
export function horizontalFov(c: { width: number; fx: number; cx: number }): number {
  return Math.atan(c.cx / c.fx) + Math.atan((c.width - c.cx) / c.fx);
}

/** Vertical FOV (rad). */
export function verticalFov(c: { height: number; fy: number; cy: number }): number {
  return Math.atan(c.cy / c.fy) + Math.atan((c.height - c.cy) / c.fy);
}

/** An integer pixel rectangle in source-image pixels: columns [x, x+width), rows [y, y+height). */
export interface PixelRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * How a source frame becomes a model frame: crop `crop` (source px), then resize to
 * outWidth × outHeight. `fovScale` = 1 when the crop covers the model's full field of view;
 * < 1 when the source camera is narrower than the model (the largest crop around the principal
 * point was used; the model frame then shows a narrower view than the model expects, with
 * focal lengths `effective.fx = model.fx / fovScale`).
 */
export interface FitPlan {
  crop: PixelRect;
  outWidth: number;
  outHeight: number;
  fovScale: number;
  fovDeficient: boolean;
  /** Intrinsics of the produced frame (px, continuous convention). */
  effective: CameraIntrinsics;
  /** Source px per model px along x and y. */
  scaleX: number;
  scaleY: number;
}

/** Relative slack before a FOV shortfall counts as deficient (rounding to whole pixels). */
const FOV_FIT_SLACK = 1e-3;

/**
 * Plans the centre crop that gives the model's field of view, then the resize to its frame size.
 * The crop is taken about the source's principal point so the model's principal point lands
 * where the model expects it; its edges are rounded to whole source pixels (≤ 0.5 source px).
 */
export function computeFitPlan(src: CameraIntrinsics, model: ModelCamera, topic = '?'): FitPlan {
  if (!(src.width >= 1 && src.height >= 1)) throw new BadFrameError(`source frame ${src.width}x${src.height} is empty [topic=${topic}]`, 'zero_size');
  if (!(src.fx > 0 && src.fy > 0 && Number.isFinite(src.cx) && Number.isFinite(src.cy))) {
    throw new BadFrameError(`source intrinsics fx=${src.fx} fy=${src.fy} cx=${src.cx} cy=${src.cy} are unusable [topic=${topic}]`, 'bad_intrinsics');
  }
  // model frame edges (at 0 and W) as tangents of the view angle
  const tl = -model.cx / model.fx;
  const tr = (model.width - model.cx) / model.fx;
  const tt = -model.cy / model.fy;
  const tb = (model.height - model.cy) / model.fy;
  const pu = src.cx;
  const pv = src.cy;
  if (!(pu > 0 && pu < src.width && pv > 0 && pv < src.height)) {
    throw new BadFrameError(
      `principal point (${src.cx.toFixed(1)}, ${src.cy.toFixed(1)}) lies outside the ${src.width}x${src.height} frame [topic=${topic}]`,
      'bad_intrinsics',
    );
  }
  // largest scale f ≤ 1 such that the (scaled) model view fits inside the source frame
  let f = 1;
  const limits: [number, number][] = [
    [-src.fx * tl, pu],
    [src.fx * tr, src.width - pu],
    [-src.fy * tt, pv],
    [src.fy * tb, src.height - pv],
  ];
  for (const [need, have] of limits) if (need > 0 && need * f > have) f = have / need;
  const u0 = pu + f * src.fx * tl;
  const u1 = pu + f * src.fx * tr;
  const v0 = pv + f * src.fy * tt;
  const v1 = pv + f * src.fy * tb;
  const x0 = clampInt(Math.round(u0), 0, src.width - 1);
  const x1 = clampInt(Math.round(u1), x0 + 1, src.width);
  const y0 = clampInt(Math.round(v0), 0, src.height - 1);
  const y1 = clampInt(Math.round(v1), y0 + 1, src.height);
  const crop = { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
  const scaleX = crop.width / model.width;
  const scaleY = crop.height / model.height;
  const effective: CameraIntrinsics = {
    width: model.width,
    height: model.height,
    fx: src.fx / scaleX,
    fy: src.fy / scaleY,
    cx: (src.cx - crop.x) / scaleX,
    cy: (src.cy - crop.y) / scaleY,
  };
  return { crop, outWidth: model.width, outHeight: model.height, fovScale: f, fovDeficient: f < 1 - FOV_FIT_SLACK, effective, scaleX, scaleY };
}

function clampInt(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** A one-line human description of a plan, for the once-only FOV warning and logs. */
export function describeFitPlan(src: CameraIntrinsics, model: ModelCamera, plan: FitPlan): string {
  const deg = (r: number) => ((r * 180) / Math.PI).toFixed(1);
  return (
    `source ${src.width}x${src.height} (FOV ${deg(horizontalFov(src))}°x${deg(verticalFov(src))}°) → crop ` +
    `${plan.crop.width}x${plan.crop.height}+${plan.crop.x}+${plan.crop.y} → model ${model.width}x${model.height} ` +
    `(model FOV ${deg(horizontalFov(model))}°x${deg(verticalFov(model))}°, produced ${deg(horizontalFov(plan.effective))}°x${deg(verticalFov(plan.effective))}°)`
  );
}
