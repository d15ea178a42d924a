/**
 * Camera message → model frame: validates a sensor_msgs/Image or CompressedImage, crops it to
 * the model's field of view about the principal point (from CameraInfo, else a FOV parameter)
 * and resizes it to the model's frame size (area averaging), as packed RGB.
 *
 * Fast paths (measured in docs/ingest.md):
 * - raw 8-bit encodings: OpenCV wraps the message's own bytes (no copy, padding honoured through
 *   `step`), resizes only the crop with INTER_AREA and converts colour on the small result;
 *   without the addon (or for mono16) a pure-JS resampler reads the crop straight from the
 *   message. Either way no full-size copy is made.
 * - JPEG: decoded at 1/2, 1/4 or 1/8 scale when the crop still has at least the model's
 *   resolution there (libjpeg's DCT scaling: most of the decode work is skipped).
 */
import { BadFrameError } from '../core/errors.js';
import {
  type CameraInfoLike,
  type CameraIntrinsics,
  type FitPlan,
  type ModelCamera,
  type PixelRect,
  computeFitPlan,
  describeFitPlan,
  horizontalFov,
  intrinsicsFromCameraInfo,
  intrinsicsFromHfov,
  validateModelCamera,
} from '../core/context/cameraFit.js';
import type { Thumbnail } from '../core/context/keyframeGate.js';
import { type Codec, type CompressedImageLike, type CompressedProbe, type ImageLike, type RawLayout, checkRawImage, probeCompressed, rawLayout } from './imageFormat.js';
import { type Cv, asBuffer, isOpenCvAvailable, loadOpenCv } from './opencv.js';
import { rawThumbnail, resampleRawToRgb } from './resample.js';

/** A packed RGB image: height × width × 3 bytes, row-major, no padding. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** A frame ready for the context buffer. */
export interface ModelFrame {
  /** Packed RGB at the model's size (plan.outHeight × plan.outWidth × 3). */
  pixels: Uint8Array;
  plan: FitPlan;
  sourceWidth: number;
  sourceHeight: number;
}

export type RawBackend = 'auto' | 'js' | 'opencv';

export interface FrameIngestorOptions {
  /** The model's camera (from its manifest). */
  model: ModelCamera;
  /** Topic name quoted in error messages. */
  topic?: string;
  /** Horizontal FOV (rad) of the source camera, used until a CameraInfo arrives. Default: the model's. */
  fallbackHfovRad?: number;
  /** Raw-image resampler. 'auto' (default): OpenCV for 8-bit encodings when the addon loads, else JS. */
  rawBackend?: RawBackend;
  /** Side of the grey view thumbnails for the keyframe gate (px). Default 16. */
  thumbnailSide?: number;
  /** Called once per distinct situation worth a warning (narrow camera, CameraInfo size mismatch). */
  onWarning?: (message: string) => void;
}

export function isCompressed(msg: ImageLike | CompressedImageLike): msg is CompressedImageLike {
  return typeof (msg as CompressedImageLike).format === 'string' && (msg as ImageLike).encoding === undefined;
}

/** Where a JPEG of this size can be decoded at reduced scale: 1, 2, 4 or 8. */
export function jpegReduction(plan: FitPlan): number {
  for (const r of [8, 4, 2]) {
    if (Math.floor(plan.crop.width / r) >= plan.outWidth && Math.floor(plan.crop.height / r) >= plan.outHeight) return r;
  }
  return 1;
}

/** The crop in an image decoded at 1/sx × 1/sy scale (w × h px). */
function reducedRect(crop: PixelRect, sx: number, sy: number, w: number, h: number): PixelRect {
  const x0 = Math.min(w - 1, Math.round(crop.x / sx));
  const y0 = Math.min(h - 1, Math.round(crop.y / sy));
  const x1 = Math.max(x0 + 1, Math.min(w, Math.round((crop.x + crop.width) / sx)));
  const y1 = Math.max(y0 + 1, Math.min(h, Math.round((crop.y + crop.height) / sy)));
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

function toUint8(buf: Buffer): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

export class FrameIngestor {
  readonly model: ModelCamera;
  readonly topic: string;
  readonly thumbnailSide: number;
  private readonly fallbackHfovRad: number;
  private readonly rawBackendOption: RawBackend;
  private resolvedRawBackend: 'js' | 'opencv' | undefined;
  private cameraInfo: CameraInfoLike | undefined;
  private readonly plans = new Map<string, { plan: FitPlan; intrinsics: CameraIntrinsics }>();
  private readonly warned = new Set<string>();
  private readonly onWarning: (message: string) => void;

  constructor(opts: FrameIngestorOptions) {
    validateModelCamera(opts.model);
    this.model = opts.model;
    this.topic = opts.topic ?? '?';
    this.fallbackHfovRad = opts.fallbackHfovRad ?? horizontalFov(opts.model);
    intrinsicsFromHfov(1, 1, this.fallbackHfovRad); // validates the FOV (ParameterError)
    this.rawBackendOption = opts.rawBackend ?? 'auto';
    this.thumbnailSide = opts.thumbnailSide ?? 16;
    this.onWarning = opts.onWarning ?? (() => {});
  }

  /** The raw backend in use ('auto' resolved on first call). */
  get rawBackend(): 'js' | 'opencv' {
    if (this.resolvedRawBackend === undefined) {
      this.resolvedRawBackend = this.rawBackendOption === 'auto' ? (isOpenCvAvailable() ? 'opencv' : 'js') : this.rawBackendOption;
    }
    return this.resolvedRawBackend;
  }

  /**
   * Loads what decoding will need now rather than on the first frame (OpenCV takes ~0.3 s to
   * load). Returns false when OpenCV is unavailable (raw frames still work through JS).
   */
  warmUp(): boolean {
    void this.rawBackend;
    return isOpenCvAvailable();
  }

  /** Uses this CameraInfo's intrinsics from now on. Throws BadFrameError 'bad_camera_info'. */
  setCameraInfo(info: CameraInfoLike): void {
    intrinsicsFromCameraInfo(info, info.width, info.height, this.topic);
    const prev = this.cameraInfo;
    if (prev !== undefined && prev.width === info.width && prev.height === info.height && sameK(prev.k, info.k)) return;
    this.cameraInfo = { width: info.width, height: info.height, k: Array.from(info.k) };
    this.plans.clear();
  }

  /** The crop/resize plan for frames of this size (cached; warns once if the camera is narrower than the model). */
  planFor(width: number, height: number): FitPlan {
    const key = `${width}x${height}`;
    const hit = this.plans.get(key);
    if (hit !== undefined) return hit.plan;
    const info = this.cameraInfo;
    let intr: CameraIntrinsics;
    if (info !== undefined) {
      intr = intrinsicsFromCameraInfo(info, width, height, this.topic);
      if (info.width !== width || info.height !== height) {
        this.warnOnce(
          `caminfo:${key}:${info.width}x${info.height}`,
          `CameraInfo is for ${info.width}x${info.height} but frames are ${width}x${height}; intrinsics scaled to the frame size [topic=${this.topic}]`,
        );
      }
    } else intr = intrinsicsFromHfov(width, height, this.fallbackHfovRad);
    const plan = computeFitPlan(intr, this.model, this.topic);
    if (plan.fovDeficient) {
      this.warnOnce(
        `fov:${key}:${intr.fx}:${intr.fy}`,
        `camera field of view is narrower than the model's; using the largest crop, the model sees ${(plan.fovScale * 100).toFixed(0)}% of its expected view: ` +
          `${describeFitPlan(intr, this.model, plan)} [topic=${this.topic}]`,
      );
    }
    this.plans.set(key, { plan, intrinsics: intr });
    return plan;
  }

  private warnOnce(key: string, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.onWarning(message);
  }

  /**
   * The cheap checks of one camera message, run on every frame before the keyframe gate: header
   * fields and the first (and, for JPEG/PNG, last) bytes only; no pixel is decoded or copied.
   * Raw: size, encoding, step, data length (checkRawImage); compressed: format, magic bytes,
   * header size (probeCompressed). Throws BadFrameError with the codes of those two functions.
   */
  check(msg: ImageLike | CompressedImageLike): void {
    if (isCompressed(msg)) probeCompressed(msg, this.topic);
    else checkRawImage(msg, this.topic);
  }

  /** Raw or compressed, by the message's shape. Throws BadFrameError. */
  fit(msg: ImageLike | CompressedImageLike): ModelFrame {
    return isCompressed(msg) ? this.fitCompressed(msg) : this.fitImage(msg);
  }

  /** sensor_msgs/Image → model frame. Throws BadFrameError (see rawLayout's codes). */
  fitImage(msg: ImageLike): ModelFrame {
    const layout = rawLayout(msg, this.topic);
    const plan = this.planFor(layout.width, layout.height);
    const pixels = layout.kind === '8bit' && this.rawBackend === 'opencv' ? fitRawOpenCv(loadOpenCv(), layout, plan) : resampleRawToRgb(layout, plan.crop, plan.outWidth, plan.outHeight);
    return { pixels, plan, sourceWidth: layout.width, sourceHeight: layout.height };
  }

  /** sensor_msgs/CompressedImage → model frame, decoding on this thread. */
  fitCompressed(msg: CompressedImageLike): ModelFrame {
    const probe = probeCompressed(msg, this.topic);
    const plan = this.planFor(probe.width, probe.height);
    const cv = loadOpenCv();
    const r = probe.codec === 'jpeg' ? jpegReduction(plan) : 1;
    // probeCompressed guarantees non-empty data (imdecode aborts the process on an empty buffer)
    const mat = cv.imdecode(asBuffer(msg.data), imreadFlag(cv, r, false));
    return { pixels: finishCompressed(cv, mat, probe, plan, this.topic, msg), plan, sourceWidth: probe.width, sourceHeight: probe.height };
  }

  /** As fitCompressed, with the decode on libuv's thread pool (keeps the event loop free). */
  async fitCompressedAsync(msg: CompressedImageLike): Promise<ModelFrame> {
    const probe = probeCompressed(msg, this.topic);
    const plan = this.planFor(probe.width, probe.height);
    const cv = loadOpenCv();
    const r = probe.codec === 'jpeg' ? jpegReduction(plan) : 1;
    const mat = await cv.imdecodeAsync(asBuffer(msg.data), imreadFlag(cv, r, false));
    return { pixels: finishCompressed(cv, mat, probe, plan, this.topic, msg), plan, sourceWidth: probe.width, sourceHeight: probe.height };
  }

  /** A grey thumbnail (thumbnailSide²) of the model's crop, for the gate's view test. Throws BadFrameError. */
  thumbnail(msg: ImageLike | CompressedImageLike): Thumbnail {
    const side = this.thumbnailSide;
    if (!isCompressed(msg)) {
      const layout = rawLayout(msg, this.topic);
      return rawThumbnail(layout, this.planFor(layout.width, layout.height).crop, side);
    }
    const probe = probeCompressed(msg, this.topic);
    const plan = this.planFor(probe.width, probe.height);
    const cv = loadOpenCv();
    let r = 1;
    if (probe.codec === 'jpeg') for (const f of [8, 4, 2]) if (r === 1 && plan.crop.width / f >= side && plan.crop.height / f >= side) r = f;
    const mat = cv.imdecode(asBuffer(msg.data), imreadFlag(cv, r, true));
    checkDecoded(mat, probe, this.topic, msg);
    const rect = reducedRect(plan.crop, probe.width / mat.cols, probe.height / mat.rows, mat.cols, mat.rows);
    const small = mat.getRegion(new cv.Rect(rect.x, rect.y, rect.width, rect.height)).resize(side, side, 0, 0, cv.INTER_AREA);
    return { side, data: new Uint8Array(toUint8(small.getData())) };
  }

}

function sameK(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function imreadFlag(cv: Cv, r: number, grey: boolean): number {
  if (grey) return r === 8 ? cv.IMREAD_REDUCED_GRAYSCALE_8 : r === 4 ? cv.IMREAD_REDUCED_GRAYSCALE_4 : r === 2 ? cv.IMREAD_REDUCED_GRAYSCALE_2 : cv.IMREAD_GRAYSCALE;
  return r === 8 ? cv.IMREAD_REDUCED_COLOR_8 : r === 4 ? cv.IMREAD_REDUCED_COLOR_4 : r === 2 ? cv.IMREAD_REDUCED_COLOR_2 : cv.IMREAD_COLOR;
}

type Mat = ReturnType<Cv['imdecode']>;

/** OpenCV returns an empty Mat (it does not throw) for data its codec rejects. */
function checkDecoded(mat: Mat, probe: CompressedProbe, topic: string, msg: CompressedImageLike): void {
  if (mat.empty || mat.rows === 0 || mat.cols === 0) {
    throw new BadFrameError(`${probe.codec} data (${msg.data.length} bytes, header says ${probe.width}x${probe.height}) did not decode [topic=${topic}]`, `corrupt_${probe.codec}`);
  }
}

function finishCompressed(cv: Cv, mat: Mat, probe: CompressedProbe, plan: FitPlan, topic: string, msg: CompressedImageLike): Uint8Array {
  checkDecoded(mat, probe, topic, msg);
  // the reduced decode is ceil(W / r) wide; map the crop by the actual scale
  const rect = reducedRect(plan.crop, probe.width / mat.cols, probe.height / mat.rows, mat.cols, mat.rows);
  const small = mat.getRegion(new cv.Rect(rect.x, rect.y, rect.width, rect.height)).resize(plan.outHeight, plan.outWidth, 0, 0, cv.INTER_AREA);
  return toUint8(small.cvtColor(cv.COLOR_BGR2RGB).getData());
}

/** 8-bit raw frame through OpenCV: zero-copy wrap of the message bytes, crop, INTER_AREA, colour. */
function fitRawOpenCv(cv: Cv, l: RawLayout, plan: FitPlan): Uint8Array {
  const type = l.bytesPerPixel === 1 ? cv.CV_8UC1 : l.bytesPerPixel === 3 ? cv.CV_8UC3 : cv.CV_8UC4;
  const buf = asBuffer(l.data);
  const whole = new cv.Mat(l.height, l.width, type, buf, l.step);
  const c = plan.crop;
  const small = whole.getRegion(new cv.Rect(c.x, c.y, c.width, c.height)).resize(plan.outHeight, plan.outWidth, 0, 0, cv.INTER_AREA);
  let rgb: Mat;
  if (l.bytesPerPixel === 1) rgb = small.cvtColor(cv.COLOR_GRAY2RGB);
  else if (l.bytesPerPixel === 3) rgb = l.r === 0 ? small : small.cvtColor(cv.COLOR_BGR2RGB);
  else rgb = small.cvtColor(l.r === 0 ? cv.COLOR_RGBA2RGB : cv.COLOR_BGRA2RGB);
  const out = toUint8(rgb.getData());
  // keep the source bytes reachable until OpenCV is done with them (the Mat does not own them)
  void buf.byteLength;
  return out;
}

/** Full-size packed RGB from a raw Image (one copy, the output). Throws BadFrameError. */
export function decodeImage(msg: ImageLike, topic = '?'): RgbImage {
  const l = rawLayout(msg, topic);
  return { width: l.width, height: l.height, data: resampleRawToRgb(l, { x: 0, y: 0, width: l.width, height: l.height }, l.width, l.height) };
}

/** Full-size packed RGB from a CompressedImage (needs OpenCV). Throws BadFrameError. */
export function decodeCompressedImage(msg: CompressedImageLike, topic = '?'): RgbImage {
  const probe = probeCompressed(msg, topic);
  const cv = loadOpenCv();
  const mat = cv.imdecode(asBuffer(msg.data), cv.IMREAD_COLOR);
  checkDecoded(mat, probe, topic, msg);
  return { width: mat.cols, height: mat.rows, data: new Uint8Array(toUint8(mat.cvtColor(cv.COLOR_BGR2RGB).getData())) };
}

/**
 * Crops and resizes a full-size RGB image to the model's frame (pure JS area resampling).
 * `intrinsics` must describe this image's size; throws BadFrameError 'intrinsics_mismatch' if not.
 */
export function fitToModel(rgb: RgbImage, intrinsics: CameraIntrinsics, model: ModelCamera, topic = '?'): ModelFrame {
  const layout = rawLayout({ width: rgb.width, height: rgb.height, encoding: 'rgb8', is_bigendian: 0, step: rgb.width * 3, data: rgb.data }, topic);
  if (intrinsics.width !== rgb.width || intrinsics.height !== rgb.height) {
    throw new BadFrameError(
      `intrinsics are for ${intrinsics.width}x${intrinsics.height} but the image is ${rgb.width}x${rgb.height} [topic=${topic}]`,
      'intrinsics_mismatch',
    );
  }
  const plan = computeFitPlan(intrinsics, model, topic);
  return { pixels: resampleRawToRgb(layout, plan.crop, plan.outWidth, plan.outHeight), plan, sourceWidth: rgb.width, sourceHeight: rgb.height };
}

export type { Codec };
