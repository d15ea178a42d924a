/**
 * Shared test scenes for the path-extraction tests: rendered frames of simulated worlds
 * (src/sim), with deterministic pose picking.
 */
import { composePose2D, type Pose2D } from '../../../src/core/geometry.js';
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

/**
 * A pose in a random room of `world` with at least `clearM` of free floor straight ahead (as when
 * the robot drives along a path), deterministic per rng state.
 */
export function openPose(world: World, rng: Rng, clearM: number): Pose2D {
  for (let k = 0; k < 2000; k++) {
    const r = rng.pick(world.rooms);
    const x = rng.uniform(r.x0 + 0.5, r.x1 - 0.5);
    const y = rng.uniform(r.y0 + 0.5, r.y1 - 0.5);
    const yaw = rng.uniform(-Math.PI, Math.PI);
    let ok = true;
    for (let d = 0; d <= clearM + 1e-9 && ok; d += 0.1) {
      const q = composePose2D({ x, y, yaw }, { x: d, y: 0, yaw: 0 });
      if (world.free.occupiedAt(q.x, q.y)) ok = false;
    }
    if (ok) return { x, y, yaw };
  }
  throw new Error(`no open pose with ${clearM} m clearance in world ${world.seed}`);
}

/** The readable synthetic motions of the VO tests (B's pose in A's body frame). */
export const straight = (m: number): Pose2D => ({ x: m, y: 0, yaw: 0 });
export const turn = (rad: number): Pose2D => ({ x: 0, y: 0, yaw: rad });
/** An arc of length `m` turning `rad` (constant curvature). */
export const arc = (m: number, rad: number): Pose2D => ({ x: (m * Math.sin(rad)) / rad, y: (m * (1 - Math.cos(rad))) / rad, yaw: rad });
