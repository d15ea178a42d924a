import { strict as assert } from 'node:assert';
import { projectBodyPoint } from '../../../src/core/camera.js';
import { ParameterError } from '../../../src/core/errors.js';
import { normalizeAngle, type Pose2D } from '../../../src/core/geometry.js';
import { locateObject, lookPose, viewRegion, type GroundedView } from '../../../src/core/planner/locate.js';
import { MODEL_CAMERA_DEFAULT } from '../../../src/sim/camera.js';

const cam = MODEL_CAMERA_DEFAULT;
const G = 4;

/**
 * Closed-form grounder: the tokens covered by the image box of an upright cylinder (centre ox, oy;
 * radius r; height h) seen from `pose` fire at 0.9, the rest stay at 0.1.
 */
function viewOf(index: number, pose: Pose2D, ox: number, oy: number, r = 0.3, h = 1.0): GroundedView {
  let u0 = Infinity;
  let u1 = -Infinity;
  let v0 = Infinity;
  let v1 = -Infinity;
  const c = Math.cos(pose.yaw);
  const s = Math.sin(pose.yaw);
  for (let k = 0; k < 32; k++) {
    const a = (k / 32) * 2 * Math.PI;
    const wx = ox + r * Math.cos(a) - pose.x;
    const wy = oy + r * Math.sin(a) - pose.y;
    for (const z of [0, h]) {
      const p = projectBodyPoint(cam, c * wx + s * wy, -s * wx + c * wy, z);
      if (!p) continue;
      u0 = Math.min(u0, p.u);
      u1 = Math.max(u1, p.u);
      v0 = Math.min(v0, p.v);
      v1 = Math.max(v1, p.v);
    }
  }
  const prob = new Float32Array(G * G).fill(0.1);
  const cell = cam.width / G;
  for (let i = 0; i < G; i++) {
    for (let j = 0; j < G; j++) {
      const overlapU = Math.min(u1, (j + 1) * cell) - Math.max(u0, j * cell);
      const overlapV = Math.min(v1, (i + 1) * cell) - Math.max(v0, i * cell);
      if (overlapU > 0 && overlapV > 0) prob[i * G + j] = 0.9;
    }
  }
  return { index, pose, prob };
}

/** Poses around (ox, oy) at distance d, facing it. */
function around(ox: number, oy: number, d: number, angles: number[]): Pose2D[] {
  return angles.map((a) => ({ x: ox + d * Math.cos(a), y: oy + d * Math.sin(a), yaw: normalizeAngle(a + Math.PI) }));
}

describe('core/planner/locate', () => {
  it('viewRegion: a token in the bottom row bounds the range by its top edge on the floor; above the horizon it stays open', () => {
    const p = new Float32Array(16).fill(0);
    p[3 * G + 1] = 0.9; // bottom row, column 1 (u 16…32: left of centre)
    const r = viewRegion(p, G, 0.5, cam, { depthSlackM: 0.5, columnMargin: 0, minRangeM: 0.3, maxRangeM: 6 });
    assert.equal(r.wedges.length, 1);
    const w = r.wedges[0] as (typeof r.wedges)[number];
    // the top edge of row 3 is v = 48: floor range 0.5 · fy / 16 (level camera), plus the slack
    assert.ok(Math.abs(w.r1 - (0.5 * cam.fy) / 16 / Math.cos(Math.atan2(8, cam.fx)) - 0.5) < 1e-6, `r1 ${w.r1}`);
    assert.equal(w.r0, 0.3);
    assert.ok(Math.abs(w.b1 - Math.atan2(32 - 16, cam.fx)) < 1e-9 && Math.abs(w.b0) < 1e-9, `bearings ${w.b0} ${w.b1}`);
    const q = new Float32Array(16).fill(0);
    q[0 * G + 2] = 0.9; // top row: the base is not seen, the range stays open
    const top = viewRegion(q, G, 0.5, cam, { maxRangeM: 6 }).wedges[0] as (typeof r.wedges)[number];
    assert.equal(top.r1, 6);
    assert.equal(viewRegion(new Float32Array(16).fill(0.2), G, 0.5, cam).wedges.length, 0);
    assert.throws(() => viewRegion(new Float32Array(9), G, 0.5, cam), (e: unknown) => e instanceof ParameterError && /expected 16 token probabilities, found 9/.test(e.message));
  });

  it('locateObject: views from three sides agree on the object within a few decimetres, and name their viewpoint', () => {
    const obj = { x: 3, y: 1 };
    const views = around(obj.x, obj.y, 2.2, [0.3, 1.9, -2.4]).map((p, i) => viewOf(i, p, obj.x, obj.y));
    const loc = locateObject(views, G, 0.5, cam);
    assert.ok(loc, 'an estimate');
    const err = Math.hypot(loc.x - obj.x, loc.y - obj.y);
    assert.ok(err < 0.45, `error ${err.toFixed(2)} m at (${loc.x.toFixed(2)}, ${loc.y.toFixed(2)})`);
    assert.equal(loc.showing, 3);
    assert.equal(loc.support, 3);
    assert.deepEqual(loc.supportIndices, [0, 1, 2]);
    assert.ok(views.some((v) => v.pose.x === loc.viewpoint.x && v.pose.y === loc.viewpoint.y));
  });

  it('locateObject: one stray view firing elsewhere does not move the estimate; nothing firing gives undefined', () => {
    const obj = { x: -1, y: 2 };
    const views = around(obj.x, obj.y, 1.8, [0, 2.1, -2.1]).map((p, i) => viewOf(i, p, obj.x, obj.y));
    const stray = viewOf(9, { x: 4, y: -3, yaw: 0 }, 6, -3);
    const loc = locateObject([...views, stray], G, 0.5, cam);
    assert.ok(loc && Math.hypot(loc.x - obj.x, loc.y - obj.y) < 0.45, `estimate ${JSON.stringify(loc)}`);
    assert.equal(loc.showing, 4);
    assert.equal(loc.support, 3);
    assert.equal(locateObject([{ index: 0, pose: { x: 0, y: 0, yaw: 0 }, prob: new Float32Array(16).fill(0.1) }], G, 0.5, cam), undefined);
    assert.equal(locateObject([], G, 0.5, cam), undefined);
  });

  it('locateObject: an excluded place gets no votes, so the estimate moves to the next place the views agree on', () => {
    const a = { x: 2, y: 0 };
    const b = { x: -2, y: 3 };
    const va = around(a.x, a.y, 2, [0.5, 2.5, -2.0, 1.4]).map((p, i) => viewOf(i, p, a.x, a.y));
    const vb = around(b.x, b.y, 2, [0.2, -1.8]).map((p, i) => viewOf(10 + i, p, b.x, b.y));
    const first = locateObject([...va, ...vb], G, 0.5, cam);
    assert.ok(first && Math.hypot(first.x - a.x, first.y - a.y) < 0.45, `first ${JSON.stringify(first)}`);
    const second = locateObject([...va, ...vb], G, 0.5, cam, { excluded: [{ x: first.x, y: first.y, radiusM: 1.2 }] });
    assert.ok(second && Math.hypot(second.x - b.x, second.y - b.y) < 0.6, `second ${JSON.stringify(second)}`);
  });

  it('locateObject: one view alone gives the middle of its region, not a corner of it (ties broken by the plateau centroid)', () => {
    const p = new Float32Array(16).fill(0.1);
    p[2 * G + 1] = 0.9;
    p[2 * G + 2] = 0.9; // row 2, the two middle columns: straight ahead, beyond 1.73 m
    for (const yaw of [0, Math.PI / 2, -2]) {
      const loc = locateObject([{ index: 0, pose: { x: 1, y: -1, yaw }, prob: p }], G, 0.5, cam, { maxRangeM: 6 });
      assert.ok(loc, 'an estimate');
      const along = (loc.x - 1) * Math.cos(yaw) + (loc.y + 1) * Math.sin(yaw);
      const across = -(loc.x - 1) * Math.sin(yaw) + (loc.y + 1) * Math.cos(yaw);
      assert.ok(Math.abs(across) < 0.3 && along > 2.5 && along < 5, `yaw ${yaw}: along ${along.toFixed(2)}, across ${across.toFixed(2)}`);
    }
  });

  it('lookPose: on the line to the viewpoint, at the distance asked (or at the viewpoint when nearer), facing the object', () => {
    const p = lookPose({ x: 1, y: 1 }, { x: 4, y: 5 }, 1.5);
    assert.ok(Math.abs(Math.hypot(p.x - 1, p.y - 1) - 1.5) < 1e-9);
    assert.ok(Math.abs(p.x - (1 + 0.9)) < 1e-9 && Math.abs(p.y - (1 + 1.2)) < 1e-9);
    assert.ok(Math.abs(p.yaw - Math.atan2(-1.2, -0.9)) < 1e-9);
    const near = lookPose({ x: 0, y: 0 }, { x: 0.5, y: 0 }, 1.5);
    assert.deepEqual({ x: near.x, y: near.y }, { x: 0.5, y: 0 });
    assert.ok(Math.abs(Math.abs(near.yaw) - Math.PI) < 1e-9);
  });
});
