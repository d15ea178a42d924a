import { strict as assert } from 'node:assert';
import { cameraFromFov, projectBodyPoint } from '../../../src/core/camera.js';
import { ParameterError } from '../../../src/core/errors.js';
import { composePose2D, relativePose2D, type Pose2D } from '../../../src/core/geometry.js';
import { detectBox } from '../../../src/core/path/box.js';
import { boxGroundContact, columnBearing, DEFAULT_MAX_RANGE_M, objectInBody, pixelBearing } from '../../../src/core/path/ground.js';
import { MODEL_CAMERA_DEFAULT } from '../../../src/sim/camera.js';
import { makeScenario } from '../../../src/sim/scenario.js';
import type { World, WorldObject } from '../../../src/sim/world.js';
import { boxedView } from './fixtures.js';

const cam = MODEL_CAMERA_DEFAULT;

/**
 * Ground truth of the front contact: the smallest forward (body x) distance of the object's
 * floor-touching parts (boxes: their corners; cylinders: centre minus radius along x).
 */
function trueFrontDistance(world: World, o: WorldObject, pose: Pose2D): number {
  let best = Infinity;
  for (const b of world.boxes) {
    if (b.objectId !== o.id || b.z0 > 1e-6) continue;
    for (const x of [b.x0, b.x1]) for (const y of [b.y0, b.y1]) best = Math.min(best, relativePose2D(pose, { x, y, yaw: 0 }).x);
  }
  for (const c of world.cylinders) {
    if (c.objectId !== o.id || c.z0 > 1e-6) continue;
    best = Math.min(best, relativePose2D(pose, { x: c.cx, y: c.cy, yaw: 0 }).x - c.r);
  }
  return best;
}

describe('core/path/ground', () => {
  it('bearing: centre column is 0, the left edge is +half FOV, the right edge −half FOV', () => {
    assert.ok(Math.abs(columnBearing(cam, cam.cx)) < 1e-12);
    assert.ok(Math.abs(columnBearing(cam, 0) - Math.PI / 6) < 1e-9);
    assert.ok(Math.abs(columnBearing(cam, cam.width) + Math.PI / 6) < 1e-9);
    // a pitched camera: the bearing of a projected body point is recovered at any row
    const pitched = cameraFromFov(64, 48, Math.PI / 3, 0.5, 0.2);
    const p = projectBodyPoint(pitched, 2, 0.7, 0.1);
    assert.ok(p);
    assert.ok(Math.abs(pixelBearing(pitched, p.u, p.v) - Math.atan2(0.7, 2)) < 1e-9);
  });

  it('range of the box bottom edge: a synthetic box whose bottom sits on a known floor point', () => {
    const p = projectBodyPoint(cam, 2.5, 0.4, 0);
    assert.ok(p);
    const c = boxGroundContact(cam, { x0: p.u - 5, x1: p.u + 5, y0: p.v - 20, y1: p.v });
    assert.ok(Math.abs(c.x - 2.5) < 1e-9 && Math.abs(c.y - 0.4) < 1e-9, JSON.stringify(c));
    assert.ok(Math.abs(c.rangeM - Math.hypot(2.5, 0.4)) < 1e-9);
    assert.equal(c.capped, false);
    assert.equal(c.clippedBottom, false);
  });

  it('caps the range above the horizon and beyond the cap, and flags a clipped bottom', () => {
    const above = boxGroundContact(cam, { x0: 20, x1: 30, y0: 5, y1: 20 });
    assert.equal(above.capped, true);
    assert.equal(above.rangeM, DEFAULT_MAX_RANGE_M);
    const far = boxGroundContact(cam, { x0: 30, x1: 34, y0: 20, y1: 32.5 }, 5);
    assert.equal(far.capped, true);
    assert.equal(far.rangeM, 5);
    const clipped = boxGroundContact(cam, { x0: 20, x1: 40, y0: 30, y1: 64 });
    assert.equal(clipped.clippedBottom, true);
  });

  it('range of rendered objects is within 10 % of the true front distance; centre within 0.4 m', () => {
    let n = 0;
    for (const seed of [1, 2, 4, 5, 6]) {
      const sc = makeScenario(seed);
      for (const back of [0.5, 1.0]) {
        const pose = composePose2D(sc.standoff, { x: -back, y: 0, yaw: 0 });
        if (sc.world.free.occupiedAt(pose.x, pose.y)) continue;
        const { rgb } = boxedView(sc.world, pose, cam, sc.target);
        const d = detectBox(rgb, cam.width, cam.height);
        assert.ok(d, `no box (seed ${seed})`);
        if (d.clipped.bottom) continue;
        const truth = trueFrontDistance(sc.world, sc.target, pose);
        const c = boxGroundContact(cam, d);
        assert.ok(Math.abs(c.x - truth) / truth < 0.1, `seed ${seed} back ${back}: front ${c.x.toFixed(3)} m vs true ${truth.toFixed(3)} m`);
        const ob = objectInBody(cam, d);
        const rel = relativePose2D(pose, { x: sc.target.x, y: sc.target.y, yaw: 0 });
        assert.ok(Math.hypot(ob.x - rel.x, ob.y - rel.y) < 0.4, `seed ${seed}: centre (${ob.x.toFixed(2)}, ${ob.y.toFixed(2)}) vs (${rel.x.toFixed(2)}, ${rel.y.toFixed(2)})`);
        assert.ok(Math.abs(ob.bearingRad - Math.atan2(ob.y, ob.x)) < 1e-12 && ob.halfDepthM >= 0);
        n++;
      }
    }
    assert.ok(n >= 6, `only ${n} unclipped views`);
  });

  it('throws ParameterError for non-finite or empty boxes and bad caps', () => {
    assert.throws(() => boxGroundContact(cam, { x0: Number.NaN, x1: 1, y0: 0, y1: 1 }), (e: unknown) => e instanceof ParameterError && /box\.x0.*NaN/.test(e.message));
    assert.throws(() => boxGroundContact(cam, { x0: 5, x1: 5, y0: 0, y1: 1 }), (e: unknown) => e instanceof ParameterError && /x1 > x0/.test(e.message));
    assert.throws(() => boxGroundContact(cam, { x0: 0, x1: 5, y0: 0, y1: 40 }, 0), (e: unknown) => e instanceof ParameterError && /maxRangeM.*0/.test(e.message));
    assert.throws(() => objectInBody(cam, { x0: 0, x1: 5, y0: 0, y1: 40 }, 8, -1), (e: unknown) => e instanceof ParameterError && /maxHalfDepthM.*-1/.test(e.message));
  });
});
