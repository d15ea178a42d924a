/**
 * Pinhole camera model shared by the renderer, the dataset and the path extractor.
 * Pixel convention: pixel (u, v) has its centre at (u + 0.5, v + 0.5); the principal point
 * (cx, cy) is in the same continuous coordinates (cx = W/2 for a centred camera).
 * The camera sits `heightM` above the floor at the robot's base_link origin, looking along the
 * robot's +x, tilted down by `pitchRad` (positive = down, a rotation about the body +y axis).
 */
export interface PinholeCamera {
  width: number;
  height: number;
  /** Focal lengths in pixels. */
  fx: number;
  fy: number;
  /** Principal point in pixels (continuous coordinates). */
  cx: number;
  cy: number;
  /** Height of the optical centre above the floor (m). */
  heightM: number;
  /** Downward tilt (rad). */
  pitchRad: number;
}

/** A centred camera with the given horizontal field of view (rad), square pixels. */
export function cameraFromFov(width: number, height: number, hfovRad: number, heightM: number, pitchRad = 0): PinholeCamera {
  if (!(width > 0 && height > 0)) throw new RangeError(`camera size must be positive, got ${width}x${height}`);
  if (!(hfovRad > 0 && hfovRad < Math.PI)) throw new RangeError(`horizontal FOV must be in (0, π) rad, got ${hfovRad}`);
  const fx = width / 2 / Math.tan(hfovRad / 2);
  return { width, height, fx, fy: fx, cx: width / 2, cy: height / 2, heightM, pitchRad };
}


/** Horizontal field of view (rad): from the principal point to either image edge. */
export function horizontalFovRad(c: PinholeCamera): number {
  return Math.atan2(c.cx, c.fx) + Math.atan2(c.width - c.cx, c.fx);
}

/** The same camera at another resolution (intrinsics scaled). */
export function scaleCamera(c: PinholeCamera, width: number, height: number): PinholeCamera {
  const sx = width / c.width;
  const sy = height / c.height;
  return { ...c, width, height, fx: c.fx * sx, fy: c.fy * sy, cx: c.cx * sx, cy: c.cy * sy };
}

/**
 * Projects a point given in the robot's body frame (x forward, y left, z up, metres, relative to
 * base_link on the floor) to pixel coordinates. Returns undefined behind the camera.
 */
export function projectBodyPoint(c: PinholeCamera, x: number, y: number, z: number): { u: number; v: number; depth: number } | undefined {
  // camera-centred body coordinates
  const bx = x;
  const by = y;
  const bz = z - c.heightM;
  // undo pitch (rotation about +y by pitch): forward' = cos·x − sin·z ; up' = sin·x + cos·z
  const cp = Math.cos(c.pitchRad);
  const sp = Math.sin(c.pitchRad);
  const fwd = cp * bx - sp * bz;
  const up = sp * bx + cp * bz;
  if (fwd <= 1e-9) return undefined;
  // optical: x right = −y_body, y down = −up, z forward
  return { u: c.cx + (c.fx * -by) / fwd, v: c.cy + (c.fy * -up) / fwd, depth: fwd };
}

/**
 * Pixel → floor point in the robot body frame (x forward, y left, metres), for a pixel below the
 * horizon; undefined when the pixel's ray does not reach the floor in front of the camera.
 * (u, v) are continuous pixel coordinates.
 */
export function pixelToFloor(c: PinholeCamera, u: number, v: number): { x: number; y: number } | undefined {
  const xo = (u - c.cx) / c.fx;
  const yo = (v - c.cy) / c.fy;
  const cp = Math.cos(c.pitchRad);
  const sp = Math.sin(c.pitchRad);
  // optical (xo, yo, 1) → body: fwd = cp·1 + sp·(−yo)... see projectBodyPoint for the inverse
  const bx = cp - sp * yo;
  const bz = -sp - cp * yo;
  const by = -xo;
  if (bz >= -1e-9) return undefined;
  const s = c.heightM / -bz;
  return { x: bx * s, y: by * s };
}
