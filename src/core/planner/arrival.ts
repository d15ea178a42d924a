/**
 * Knowing it has arrived, and remembering where it was wrong. Pure.
 *
 * "Arrived" is believed only when the real camera at the goal shows the named object where the
 * simulator's judge (and a person) would call it found: the grounder on the live view fires, the
 * object's extent (its leftmost to rightmost firing token columns) is centred within maxBearingRad
 * of the optical axis and does not run off one side of the image, and (with requireNear) its base
 * lies in the bottom token row, i.e. within reach on the floor, without filling the whole width
 * (then it is too close to tell its centre). Otherwise the verdict says what to do next: turn
 * toward it, step closer, step back, or look around for it. A goal whose look fails is a false
 * goal: its place is excluded, and later plans whose goal or object estimate falls there are not
 * chosen again.
 */
import type { PinholeCamera } from '../camera.js';
import { pixelToFloor } from '../camera.js';
import type { ViewGrounding } from './grounding.js';

/** Default half-width of the centre the object must be seen in (rad, 20°: the simulator's judge). */
export const DEFAULT_VERIFY_MAX_BEARING_RAD = (20 * Math.PI) / 180;
/** Default step (m) toward an object whose base is not yet within reach. */
export const DEFAULT_APPROACH_STEP_M = 0.6;
/** Default step (m) back from an object that fills the whole view (its centre cannot be told). */
export const DEFAULT_BACK_OFF_STEP_M = 0.3;

export interface VerifyOptions {
  /** Half-width (rad) of the centre the object's extent must be centred in. */
  maxBearingRad?: number;
  /** Require the object's base in the bottom token row (default true). */
  requireNear?: boolean;
  /** Step (m) of an 'approach' verdict (default DEFAULT_APPROACH_STEP_M). */
  approachStepM?: number;
  /** Step (m) of a 'back_off' verdict (default DEFAULT_BACK_OFF_STEP_M); 0 = never back off. */
  backOffStepM?: number;
  /**
   * Do not turn toward an edge the object touches: set once turns toward either edge have
   * bracketed it (the caller turned back to the middle of the last swing).
   */
  ignoreEdges?: boolean;
}

/**
 * What one live view says: 'verified'; 'turn' by yawRad (+ = left) to centre the object (`edge`:
 * toward an image edge it touches); 'approach'
 * (turn by yawRad, then forwardM along the new heading) because its base is beyond the bottom row;
 * 'back_off' (backM straight back) because it fills the whole view; 'search' because the camera
 * does not show it.
 */
export type LookVerdict =
  | { kind: 'verified'; reason: string }
  | { kind: 'turn'; yawRad: number; reason: string; edge?: boolean }
  | { kind: 'approach'; yawRad: number; forwardM: number; reason: string }
  | { kind: 'back_off'; backM: number; reason: string }
  | { kind: 'search'; reason: string };

/** Bearing (rad, + left) of image column u (continuous pixels). */
function bearingOf(camera: PinholeCamera, u: number): number {
  return Math.atan2(camera.cx - u, camera.fx);
}

/** The floor range (m) beyond which a base leaves the bottom token row (its top edge), at the image centre. */
export function nearRangeM(camera: PinholeCamera, grid: number): number {
  const p = pixelToFloor(camera, camera.cx, camera.height - camera.height / grid);
  return p ? Math.hypot(p.x, p.y) : Infinity;
}

/** The verdict on one live view, for `object` (its name, for the reason). */
export function judgeView(view: ViewGrounding, object: string, threshold: number, camera: PinholeCamera, opts: VerifyOptions = {}): LookVerdict {
  const maxB = opts.maxBearingRad ?? DEFAULT_VERIFY_MAX_BEARING_RAD;
  const deg = (r: number) => ((Math.abs(r) * 180) / Math.PI).toFixed(0);
  const side = (r: number) => (r > 0 ? 'left' : 'right');
  if (!view.shows || view.leftCol < 0) {
    return { kind: 'search', reason: `the camera does not show the ${object} (grounder ${view.maxProb.toFixed(2)} < ${threshold})` };
  }
  const G = view.grid;
  const cw = camera.width / G;
  const centre = bearingOf(camera, ((view.leftCol + view.rightCol + 1) / 2) * cw);
  // touching one edge of the image only, it may run off it and its centre cannot be told: turn one
  // token column toward that edge (a turn by the extent's own centre can overshoot with the coarse
  // grid and swing it off the other edge)
  const cutLeft = view.leftCol === 0 && view.rightCol < G - 1;
  const cutRight = view.rightCol === G - 1 && view.leftCol > 0;
  if ((cutLeft || cutRight) && !opts.ignoreEdges) {
    const column = bearingOf(camera, camera.cx - cw);
    return { kind: 'turn', yawRad: cutLeft ? column : -column, edge: true, reason: `the ${object} runs off the ${cutLeft ? 'left' : 'right'} edge of the image` };
  }
  if (Math.abs(centre) > maxB) {
    return { kind: 'turn', yawRad: centre, reason: `the ${object} is ${deg(centre)}° ${side(centre)} of the heading (at most ${deg(maxB)}°)` };
  }
  // it fills the whole width down to the bottom row: too close to tell where its centre is
  const back = opts.backOffStepM ?? DEFAULT_BACK_OFF_STEP_M;
  if (back > 0 && view.leftCol === 0 && view.rightCol === G - 1 && view.lowestRow === G - 1) {
    return { kind: 'back_off', backM: back, reason: `the ${object} fills the whole width of the image (too close to tell its centre)` };
  }
  const near = nearRangeM(camera, G);
  if ((opts.requireNear ?? true) && view.lowestRow < G - 1) {
    return {
      kind: 'approach',
      yawRad: centre,
      forwardM: opts.approachStepM ?? DEFAULT_APPROACH_STEP_M,
      reason: `the ${object}'s base is not in the bottom row of the image (farther than ${near.toFixed(1)} m)`,
    };
  }
  return { kind: 'verified', reason: `the camera shows the ${object} ${deg(centre)}° from the centre (grounder ${view.maxProb.toFixed(2)})` };
}

/** A place (global frame, m) a goal was found wrong at, and how far around it is excluded. */
export interface ExcludedPlace {
  x: number;
  y: number;
  radiusM: number;
}

/** Whether (x, y) lies in any excluded place. */
export function isExcluded(p: { x: number; y: number }, places: readonly ExcludedPlace[]): boolean {
  return places.some((e) => Math.hypot(p.x - e.x, p.y - e.y) <= e.radiusM);
}
