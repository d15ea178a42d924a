/**
 * The project's only door to @u4/opencv4nodejs (an optional native dependency). Loaded lazily,
 * on first use, so that commands which never touch pixels start fast and a machine without the
 * addon still runs everything that does not need it. Nothing outside src/vision imports this.
 */
import { createRequire } from 'node:module';
import type * as OpenCv from '@u4/opencv4nodejs';

export type Cv = typeof OpenCv.cv;

const require = createRequire(import.meta.url);
/** module id → the loaded binding, or the error that stopped it (failed requires are not retried) */
const loaded = new Map<string, Cv | LoadFailure>();

interface LoadFailure {
  failed: Error;
}

/** Thrown when OpenCV is needed (compressed frames) but the addon cannot be loaded. */
export class OpenCvUnavailableError extends Error {
  readonly code = 'opencv_unavailable';
  constructor(cause: Error) {
    super(
      `@u4/opencv4nodejs could not be loaded (${cause.message.split('\n')[0]}); compressed images need it: ` +
        `build it with 'npm rebuild @u4/opencv4nodejs' against Debian's libopencv-dev`,
    );
    this.name = 'OpenCvUnavailableError';
  }
}

/** The npm name of the binding. */
export const OPENCV_MODULE = '@u4/opencv4nodejs';

/**
 * Loads a binding by module id without caching (exported for tests); throws
 * OpenCvUnavailableError quoting the loader's first line when it cannot be loaded.
 */
export function requireOpenCv(moduleId = OPENCV_MODULE): Cv {
  try {
    // the binding's build helper logs its environment on load; keep stdout clean for the CLI
    try {
      (require('@u4/opencv-build') as { Log: { silence: boolean } }).Log.silence = true;
    } catch {
      // helper absent: only the noise is lost
    }
    const mod = require(moduleId) as { cv?: Cv } & Cv;
    return (mod.cv ?? mod) as Cv;
  } catch (e) {
    throw new OpenCvUnavailableError(e instanceof Error ? e : new Error(String(e)));
  }
}

/**
 * The OpenCV binding (loaded once per process); throws OpenCvUnavailableError when the addon is
 * missing or broken (the failure is remembered, not retried per frame). Sets OpenCV to one
 * thread: the node shares its CPU with planning, and the ingest targets are per core.
 * `moduleId` exists for tests.
 */
export function loadOpenCv(moduleId = OPENCV_MODULE): Cv {
  const hit = loaded.get(moduleId);
  if (hit !== undefined) {
    if ('failed' in hit) throw hit.failed;
    return hit;
  }
  try {
    const cv = requireOpenCv(moduleId);
    cv.setNumThreads(1);
    loaded.set(moduleId, cv);
    return cv;
  } catch (e) {
    loaded.set(moduleId, { failed: e as Error });
    throw e;
  }
}

/** True when the addon loads (caches the outcome). */
export function isOpenCvAvailable(moduleId = OPENCV_MODULE): boolean {
  try {
    loadOpenCv(moduleId);
    return true;
  } catch {
    return false;
  }
}

/** A zero-copy Node Buffer view of a Uint8Array (same memory); other array-likes are copied. */
export function asBuffer(u8: Uint8Array | ArrayLike<number>): Buffer {
  if (!(u8 instanceof Uint8Array)) return Buffer.from(Array.from(u8));
  return Buffer.isBuffer(u8) ? u8 : Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
}
