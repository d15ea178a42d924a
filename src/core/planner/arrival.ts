/**
 * Knowing it has arrived, and remembering where it was wrong. Pure.
 *
 * "Arrived" is believed only when the real camera at the goal shows the named object near the
 * image centre (the grounder on the live view: a token reaches the threshold and the firing
 * tokens' centre lies within maxBearingRad of the optical axis). A goal that fails the check is
 * a false goal: its place is excluded, and later plans whose goal or object estimate falls there
 * are not chosen again.
 */
import type { ViewGrounding } from './grounding.js';

/** Default half-width of the centre the object must be seen in (rad, 20°: the simulator's judge). */
export const DEFAULT_VERIFY_MAX_BEARING_RAD = (20 * Math.PI) / 180;

export interface ArrivalVerdict {
  verified: boolean;
  /** Why, in words an operator reads (the object's name, the probability, the bearing in degrees). */
  reason: string;
}

/** The verdict on one live view at the goal. */
export function verifyArrival(view: ViewGrounding, object: string, threshold: number, maxBearingRad = DEFAULT_VERIFY_MAX_BEARING_RAD): ArrivalVerdict {
  const deg = (r: number) => ((r * 180) / Math.PI).toFixed(0);
  if (!view.shows || view.bearingRad === undefined) {
    return { verified: false, reason: `the camera does not show the ${object} (grounder ${view.maxProb.toFixed(2)} < ${threshold})` };
  }
  if (Math.abs(view.bearingRad) > maxBearingRad) {
    return { verified: false, reason: `the ${object} is ${deg(Math.abs(view.bearingRad))}° ${view.bearingRad > 0 ? 'left' : 'right'} of the heading (at most ${deg(maxBearingRad)}°)` };
  }
  return { verified: true, reason: `the camera shows the ${object} ${deg(Math.abs(view.bearingRad))}° from the centre (grounder ${view.maxProb.toFixed(2)})` };
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
