/**
 * Where memory puts the named object: the grounder's firing tokens in every keyframe that shows it,
 * turned into regions of the floor (bearing from the token's column, range from the lowest firing
 * row on the floor plane), voted on a map-frame grid; the place most keyframes agree on is the
 * object estimate, and the keyframe that saw it from the best distance gives a viewpoint with a
 * known line of sight. Pure.
 *
 * Frames and units: poses and the estimate in the global (map) frame, metres and radians; token
 * probabilities row-major [grid·grid] over the model image (row 0 at the top).
 */
import { normalizeAngle, type Pose2D } from '../geometry.js';
import { pixelToFloor, type PinholeCamera } from '../camera.js';
import { ParameterError } from '../errors.js';
import { isExcluded, type ExcludedPlace } from './arrival.js';

/** One keyframe's grounding as the locator reads it. */
export interface GroundedView {
  /** Stream index of the keyframe. */
  index: number;
  /** Robot pose at the keyframe (map frame). */
  pose: Pose2D;
  /** Token probabilities [grid·grid], row-major (y, x) over the model image. */
  prob: Float32Array;
}

export interface LocateOptions {
  /** Vote grid cell (m). Default 0.1. */
  cellM?: number;
  /** Farthest range a view votes for (m). Default 6. */
  maxRangeM?: number;
  /** Nearest range a view votes for (m). Default 0.3. */
  minRangeM?: number;
  /**
   * Extra range beyond the floor point of the lowest firing row (m): the base seen in that row is
   * the object's near side, its body lies behind it. Default 0.5.
   */
  depthSlackM?: number;
  /** Each firing column's bearing interval is widened by this fraction of a column on each side. Default 0.25. */
  columnMargin?: number;
  /** Places where earlier goals were found wrong: their cells get no votes. */
  excluded?: readonly ExcludedPlace[];
}

/** Where the grounded keyframes put the object. */
export interface ObjectLocation {
  /** Object estimate (map frame, m): the vote-weighted centre of the most agreed region. */
  x: number;
  y: number;
  /** Keyframes whose regions hold the estimate. */
  support: number;
  /** Keyframes that showed the object at all. */
  showing: number;
  /** Stream indices of the supporting keyframes. */
  supportIndices: number[];
  /**
   * The supporting keyframe's pose whose distance to the estimate is nearest the preferred viewing
   * distance: the object was seen from there, so the way between is a known line of sight.
   */
  viewpoint: Pose2D;
}

/** The floor range (m) of image row v (continuous pixels) at the column centre u, or Infinity above the horizon. */
function floorRange(camera: PinholeCamera, u: number, v: number): number {
  const p = pixelToFloor(camera, u, v);
  return p ? Math.hypot(p.x, p.y) : Infinity;
}

/** One view's floor region: per firing column a bearing interval (camera frame, rad) and a range interval (m). */
export interface ViewRegion {
  wedges: { b0: number; b1: number; r0: number; r1: number }[];
}

/**
 * The region of the floor one view's firing tokens allow the object to stand in (robot body frame,
 * bearings + left). Empty when no token reaches the threshold.
 */
export function viewRegion(prob: Float32Array, grid: number, threshold: number, camera: PinholeCamera, opts: LocateOptions = {}): ViewRegion {
  if (prob.length !== grid * grid) throw new ParameterError(`grounder output: expected ${grid * grid} token probabilities, found ${prob.length}`, 'grounder_output');
  const maxR = opts.maxRangeM ?? 6;
  const minR = opts.minRangeM ?? 0.3;
  const slack = opts.depthSlackM ?? 0.5;
  const margin = opts.columnMargin ?? 0.25;
  const cw = camera.width / grid;
  const ch = camera.height / grid;
  const wedges: ViewRegion['wedges'] = [];
  for (let j = 0; j < grid; j++) {
    let low = -1;
    for (let i = grid - 1; i >= 0; i--) {
      if ((prob[i * grid + j] as number) >= threshold) {
        low = i;
        break;
      }
    }
    if (low < 0) continue;
    const u = (j + 0.5) * cw;
    // bearing + left: the column's left edge (smaller u) has the larger bearing
    const b1 = Math.atan2(camera.cx - (j - margin) * cw, camera.fx);
    const b0 = Math.atan2(camera.cx - (j + 1 + margin) * cw, camera.fx);
    // the object's base lies between the lowest firing row's top and bottom edges; the bottom row
    // may cut it off (nearer); a row wholly above the horizon (the base hidden) leaves the range open
    const rTop = floorRange(camera, u, low * ch);
    const rBottom = low === grid - 1 ? minR : floorRange(camera, u, (low + 1) * ch);
    const r0 = rBottom === Infinity ? minR : Math.max(minR, Math.min(rBottom, maxR));
    const r1 = Math.min(maxR, rTop === Infinity ? maxR : rTop + slack);
    if (r1 > r0) wedges.push({ b0, b1, r0, r1 });
  }
  return { wedges };
}

/** Whether body-frame point (range r, bearing b) lies in the region. */
function inRegion(region: ViewRegion, r: number, b: number): boolean {
  for (const w of region.wedges) if (r >= w.r0 && r <= w.r1 && b >= w.b0 && b <= w.b1) return true;
  return false;
}

/** Preferred distance (m) from the viewpoint to the estimate. */
const PREFERRED_VIEW_M = 1.5;

/**
 * The object estimate from every grounded view (undefined when none shows it): each view votes
 * once for every grid cell its region holds; the peak is the most-voted cell nearest the centroid
 * of all most-voted cells; the estimate is the vote-weighted centre of the cells within 1 m of the
 * peak that reach 3/4 of its votes.
 */
export function locateObject(views: readonly GroundedView[], grid: number, threshold: number, camera: PinholeCamera, opts: LocateOptions = {}): ObjectLocation | undefined {
  const cell = opts.cellM ?? 0.1;
  const maxR = opts.maxRangeM ?? 6;
  const regions = views.map((v) => ({ v, region: viewRegion(v.prob, grid, threshold, camera, opts) })).filter((x) => x.region.wedges.length > 0);
  if (regions.length === 0) return undefined;
  // grid bounds: every showing pose ± the farthest range
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const { v } of regions) {
    x0 = Math.min(x0, v.pose.x - maxR);
    y0 = Math.min(y0, v.pose.y - maxR);
    x1 = Math.max(x1, v.pose.x + maxR);
    y1 = Math.max(y1, v.pose.y + maxR);
  }
  const nx = Math.ceil((x1 - x0) / cell);
  const ny = Math.ceil((y1 - y0) / cell);
  const votes = new Float32Array(nx * ny);
  const excluded = opts.excluded ?? [];
  for (const { v, region } of regions) {
    const ci0 = Math.max(0, Math.floor((v.pose.x - maxR - x0) / cell));
    const ci1 = Math.min(nx - 1, Math.ceil((v.pose.x + maxR - x0) / cell));
    const cj0 = Math.max(0, Math.floor((v.pose.y - maxR - y0) / cell));
    const cj1 = Math.min(ny - 1, Math.ceil((v.pose.y + maxR - y0) / cell));
    for (let cj = cj0; cj <= cj1; cj++) {
      const py = y0 + (cj + 0.5) * cell - v.pose.y;
      for (let ci = ci0; ci <= ci1; ci++) {
        const px = x0 + (ci + 0.5) * cell - v.pose.x;
        const r = Math.hypot(px, py);
        if (r > maxR) continue;
        const b = normalizeAngle(Math.atan2(py, px) - v.pose.yaw);
        if (!inRegion(region, r, b)) continue;
        if (excluded.length > 0 && isExcluded({ x: px + v.pose.x, y: py + v.pose.y }, excluded)) continue;
        votes[cj * nx + ci] = (votes[cj * nx + ci] as number) + 1;
      }
    }
  }
  let peak = 0;
  for (let k = 0; k < votes.length; k++) if ((votes[k] as number) > peak) peak = votes[k] as number;
  if (peak === 0) return undefined;
  // the peak's cells may form a plateau (one long wedge, wedges overlapping along a stretch): its
  // cell nearest the plateau's centroid is the peak, not the first one scanned
  let cx = 0;
  let cy = 0;
  let n = 0;
  for (let k = 0; k < votes.length; k++) {
    if (votes[k] !== peak) continue;
    cx += k % nx;
    cy += Math.floor(k / nx);
    n++;
  }
  cx /= n;
  cy /= n;
  let pk = -1;
  let best2 = Infinity;
  for (let k = 0; k < votes.length; k++) {
    if (votes[k] !== peak) continue;
    const d2 = ((k % nx) - cx) ** 2 + (Math.floor(k / nx) - cy) ** 2;
    if (d2 < best2) {
      best2 = d2;
      pk = k;
    }
  }
  const pi = pk % nx;
  const pj = Math.floor(pk / nx);
  const span = Math.ceil(1 / cell);
  let w = 0;
  let sx = 0;
  let sy = 0;
  for (let cj = Math.max(0, pj - span); cj <= Math.min(ny - 1, pj + span); cj++) {
    for (let ci = Math.max(0, pi - span); ci <= Math.min(nx - 1, pi + span); ci++) {
      const n = votes[cj * nx + ci] as number;
      if (n < 0.75 * peak || Math.hypot(ci - pi, cj - pj) * cell > 1) continue;
      w += n;
      sx += n * (x0 + (ci + 0.5) * cell);
      sy += n * (y0 + (cj + 0.5) * cell);
    }
  }
  const x = sx / w;
  const y = sy / w;
  // the supporting views: their region holds the peak cell
  const px = x0 + (pi + 0.5) * cell;
  const py = y0 + (pj + 0.5) * cell;
  const supporting = regions.filter(({ v, region }) => {
    const dx = px - v.pose.x;
    const dy = py - v.pose.y;
    return inRegion(region, Math.hypot(dx, dy), normalizeAngle(Math.atan2(dy, dx) - v.pose.yaw));
  });
  let best = (supporting[0] ?? regions[0]) as (typeof regions)[number];
  for (const s of supporting) {
    const d = Math.abs(Math.hypot(x - s.v.pose.x, y - s.v.pose.y) - PREFERRED_VIEW_M);
    if (d < Math.abs(Math.hypot(x - best.v.pose.x, y - best.v.pose.y) - PREFERRED_VIEW_M)) best = s;
  }
  return { x, y, support: supporting.length, showing: regions.length, supportIndices: supporting.map((s) => s.v.index), viewpoint: { ...best.v.pose } };
}

/**
 * The pose on the ray from `obj` through `from`, exactly `distanceM` from `obj`, facing it (at
 * `from`, yaw 0, when the two coincide).
 */
export function poseFacing(obj: { x: number; y: number }, from: { x: number; y: number }, distanceM: number): Pose2D {
  const dx = from.x - obj.x;
  const dy = from.y - obj.y;
  const d = Math.hypot(dx, dy);
  if (d < 1e-6) return { x: from.x, y: from.y, yaw: 0 };
  const s = distanceM / d;
  const x = obj.x + dx * s;
  const y = obj.y + dy * s;
  return { x, y, yaw: Math.atan2(obj.y - y, obj.x - x) };
}

/**
 * The pose to look at an estimate from: on the line from the estimate to `from` (a viewpoint with a
 * line of sight), `distanceM` from the estimate (or at `from` when it is nearer), facing it.
 */
export function lookPose(obj: { x: number; y: number }, from: { x: number; y: number }, distanceM: number): Pose2D {
  return poseFacing(obj, from, Math.min(Math.hypot(from.x - obj.x, from.y - obj.y), distanceM));
}
