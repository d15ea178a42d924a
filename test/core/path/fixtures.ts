/**
 * Shared test scenes for the path-extraction tests: rendered frames of simulated worlds
 * (src/sim), with deterministic pose picking.
 */
import { openPose as openPoseOrUndefined } from '../../../src/sim/scenario.js';
import type { Pose2D } from '../../../src/core/geometry.js';
import { Rng } from '../../../src/core/rng.js';
import type { PinholeCamera } from '../../../src/core/camera.js';
import { drawBox, render, type RenderResult } from '../../../src/sim/renderer.js';
import { BOX_COLOR } from '../../../src/sim/vocabulary.js';
import type { World, WorldObject } from '../../../src/sim/world.js';

/** Renders with 2× supersampling (as the dataset does). */
export function view(world: World, pose: Pose2D, cam: PinholeCamera): RenderResult {
  return render(world, pose, cam, { supersample: 2 });
}

/** A frame with the target's box drawn (1 px, pure red) when visible; the true box (inclusive px) too. */
export function boxedView(world: World, pose: Pose2D, cam: PinholeCamera, target: WorldObject): { rgb: Uint8Array; box: { x0: number; y0: number; x1: number; y1: number } | undefined } {
  const r = view(world, pose, cam);
  const b = r.objects.get(target.id);
  if (b) drawBox(r.rgb, cam.width, cam.height, b, BOX_COLOR);
  return { rgb: r.rgb, box: b };
}

export { boxBlur } from '../../../src/sim/pictures.js';

/** `openPose` of src/sim that fails the test when the world has no such pose. */
export function openPose(world: World, rng: Rng, clearM: number): Pose2D {
  const p = openPoseOrUndefined(world, rng, clearM);
  if (!p) throw new Error(`no open pose with ${clearM} m clearance in world ${world.seed}`);
  return p;
}

/** The readable synthetic motions of the VO tests (B's pose in A's body frame). */
export const straight = (m: number): Pose2D => ({ x: m, y: 0, yaw: 0 });
export const turn = (rad: number): Pose2D => ({ x: 0, y: 0, yaw: rad });
/** An arc of length `m` turning `rad` (constant curvature). */
export const arc = (m: number, rad: number): Pose2D => ({ x: (m * Math.sin(rad)) / rad, y: (m * (1 - Math.cos(rad))) / rad, yaw: rad });
