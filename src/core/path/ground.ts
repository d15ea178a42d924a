/**
 * Floor-plane geometry of a detected box: bearing of a pixel, range of the box's bottom edge on
 * the floor, and the object's position in the robot's body frame. Pure.
 *
 * Frames: body = base_link, x forward, y left, metres, on the floor under the camera; the camera
 * sits `heightM` above it (see core/camera.ts). Pixels are continuous coordinates (pixel (u, v)
 * has its centre at (u + 0.5, v + 0.5)). Bearings are radians, positive to the left (+y).
 */
import { pixelToFloor, type PinholeCamera } from '../camera.js';
import { ParameterError } from '../errors.js';
import type { BoxDetection } from './box.js';

/** Ranges beyond this (m) are not trusted: a floor point this far is a pixel or two from the horizon. */
export const DEFAULT_MAX_RANGE_M = 8;
/** Cap on the half depth (m) added behind the box's front contact to reach the object's centre. */
export const DEFAULT_MAX_HALF_DEPTH_M = 1.0;

/**
 * Bearing (rad, + = left) of the floor-plane direction of the ray through pixel (u, v); with a
 * level camera it does not depend on v. v defaults to the principal point's row.
 */
export function pixelBearing(c: PinholeCamera, u: number, v: number = c.cy): number {
  const xo = (u - c.cx) / c.fx;
  const yo = (v - c.cy) / c.fy;
  const fwd = Math.cos(c.pitchRad) - Math.sin(c.pitchRad) * yo;
  return Math.atan2(-xo, fwd);
}

/** Bearing (rad, + = left) of pixel column u (continuous), through the principal point's row. */
export function columnBearing(c: PinholeCamera, u: number): number {
  return pixelBearing(c, u, c.cy);
}

/** Where a box's bottom edge meets the floor. */
export interface GroundContact {
  /** Floor point under the bottom-centre of the box, body frame (m). */
  x: number;
  y: number;
  /** Horizontal distance from base_link to that point (m), ≤ the cap. */
  rangeM: number;
  /** Bearing of the box centre column (rad, + = left). */
  bearingRad: number;
  /** The range hit the cap (the bottom edge was at or above the horizon, or too far). */
  capped: boolean;
  /**
   * The box touches the image's bottom border: the object's floor contact is out of view and
   * nearer than reported (the range is an upper bound).
   */
  clippedBottom: boolean;
}

function checkBox(box: Pick<BoxDetection, 'x0' | 'y0' | 'x1' | 'y1'>, where: string): void {
  for (const k of ['x0', 'y0', 'x1', 'y1'] as const) {
    if (!Number.isFinite(box[k])) throw new ParameterError(`${where}: box.${k} must be finite, got ${box[k]}`);
  }
  if (!(box.x1 > box.x0 && box.y1 > box.y0)) {
    throw new ParameterError(`${where}: box must have x1 > x0 and y1 > y0, got [${box.x0}, ${box.y0}, ${box.x1}, ${box.y1}]`);
  }
}

/**
 * Range of the box's bottom edge on the floor: the floor point under the bottom-centre
 * (cx, y1) of the box, via pixelToFloor. The lowest pixel of an object standing on the floor is
 * its nearest floor contact, so this is the distance to the object's front (not its centre).
 * Capped at `maxRangeM` (also when the bottom edge is at or above the horizon).
 * @throws ParameterError for a non-finite or empty box or a non-positive cap.
 */
export function boxGroundContact(c: PinholeCamera, box: Pick<BoxDetection, 'x0' | 'y0' | 'x1' | 'y1'>, maxRangeM = DEFAULT_MAX_RANGE_M): GroundContact {
  checkBox(box, 'boxGroundContact');
  if (!(maxRangeM > 0)) throw new ParameterError(`boxGroundContact: maxRangeM must be positive, got ${maxRangeM}`);
  const cx = (box.x0 + box.x1) / 2;
  const bearingRad = pixelBearing(c, cx, box.y1);
  const clippedBottom = box.y1 >= c.height - 0.5;
  const f = pixelToFloor(c, cx, box.y1);
  const r = f ? Math.hypot(f.x, f.y) : Infinity;
  if (!f || r > maxRangeM) {
    return { x: maxRangeM * Math.cos(bearingRad), y: maxRangeM * Math.sin(bearingRad), rangeM: maxRangeM, bearingRad, capped: true, clippedBottom };
  }
  return { x: f.x, y: f.y, rangeM: r, bearingRad, capped: false, clippedBottom };
}

/** The object's estimated centre in the body frame. */
export interface ObjectInBody {
  /** Estimated object centre, body frame (m). */
  x: number;
  y: number;
  /** Distance (m) and bearing (rad, + = left) of that centre from base_link. */
  rangeM: number;
  bearingRad: number;
  /** The front contact it was built from. */
  contact: GroundContact;
  /** Half depth added behind the front contact (m). */
  halfDepthM: number;
}

/**
 * The object's centre in the body frame from its box: the front contact (boxGroundContact) pushed
 * back along the bearing by half the object's depth, taken equal to half its visible width
 * ((x1 − x0) / fx × forward distance; most furniture is about as deep as wide), capped at
 * `maxHalfDepthM`.
 * @throws ParameterError for a non-finite or empty box or non-positive caps.
 */
export function objectInBody(
  c: PinholeCamera,
  box: Pick<BoxDetection, 'x0' | 'y0' | 'x1' | 'y1'>,
  maxRangeM = DEFAULT_MAX_RANGE_M,
  maxHalfDepthM = DEFAULT_MAX_HALF_DEPTH_M,
): ObjectInBody {
  if (!(maxHalfDepthM >= 0)) throw new ParameterError(`objectInBody: maxHalfDepthM must be ≥ 0, got ${maxHalfDepthM}`);
  const contact = boxGroundContact(c, box, maxRangeM);
  const fwd = Math.max(0, contact.x);
  const widthM = ((box.x1 - box.x0) / c.fx) * fwd;
  const halfDepthM = Math.min(maxHalfDepthM, widthM / 2);
  const x = contact.x + halfDepthM * Math.cos(contact.bearingRad);
  const y = contact.y + halfDepthM * Math.sin(contact.bearingRad);
  return { x, y, rangeM: Math.hypot(x, y), bearingRad: Math.atan2(y, x), contact, halfDepthM };
}
