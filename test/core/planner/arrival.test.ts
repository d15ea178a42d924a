import { strict as assert } from 'node:assert';
import { isExcluded, judgeView, nearRangeM } from '../../../src/core/planner/arrival.js';
import { readGrounding } from '../../../src/core/planner/grounding.js';
import { MODEL_CAMERA_DEFAULT } from '../../../src/sim/camera.js';

const cam = MODEL_CAMERA_DEFAULT;
const G = 4;

/** A view whose tokens (row, column) fire. */
function view(...tokens: [number, number][]) {
  const p = new Float32Array(G * G).fill(0.05);
  for (const [i, j] of tokens) p[i * G + j] = 0.9;
  return readGrounding(p, G, 0.5, cam);
}
const deg = (r: number) => (r * 180) / Math.PI;

describe('core/planner/arrival', () => {
  it('readGrounding reports the firing extent: leftmost and rightmost columns, lowest row', () => {
    const v = view([1, 2], [3, 1], [2, 2]);
    assert.deepEqual({ l: v.leftCol, r: v.rightCol, low: v.lowestRow, grid: v.grid }, { l: 1, r: 2, low: 3, grid: 4 });
    const none = view();
    assert.deepEqual({ l: none.leftCol, r: none.rightCol, low: none.lowestRow }, { l: -1, r: -1, low: -1 });
  });

  it('verified: centred, within the bearing limit, the base in the bottom row', () => {
    const v = judgeView(view([2, 1], [3, 1], [3, 2]), 'chair', 0.5, cam);
    assert.equal(v.kind, 'verified');
    assert.match(v.reason, /^the camera shows the chair 0° from the centre \(grounder 0\.90\)$/);
    // one column right of centre: its centre (u = 40 px) is 8.2° right, inside 20°
    const r = judgeView(view([3, 2]), 'chair', 0.5, cam);
    assert.equal(r.kind, 'verified', r.reason);
  });

  it('search when nothing fires, quoting the strongest probability', () => {
    const v = judgeView(view(), 'lamp', 0.5, cam);
    assert.deepEqual(v, { kind: 'search', reason: 'the camera does not show the lamp (grounder 0.05 < 0.5)' });
  });

  it('turn toward an object that runs off one edge, or whose extent is off-centre', () => {
    const left = judgeView(view([3, 0], [3, 1]), 'sofa', 0.5, cam);
    assert.equal(left.kind, 'turn');
    // one token column (16 px) toward the edge it touches
    assert.ok(left.kind === 'turn' && Math.abs(left.yawRad - Math.atan2(16, cam.fx)) < 1e-9, JSON.stringify(left));
    const three = judgeView(view([3, 0], [3, 1], [3, 2]), 'sofa', 0.5, cam);
    assert.ok(three.kind === 'turn' && three.yawRad > 0, JSON.stringify(three));
    assert.match(left.reason, /runs off the left edge/);
    const right = judgeView(view([3, 3]), 'sofa', 0.5, cam);
    assert.ok(right.kind === 'turn' && right.yawRad < 0 && /right edge/.test(right.reason), JSON.stringify(right));
    // the whole width fires: not cut, centred (when the base is above the bottom row)
    assert.equal(judgeView(view([2, 0], [2, 1], [2, 2], [2, 3]), 'sofa', 0.5, cam, { requireNear: false }).kind, 'verified');
    // a tighter limit turns toward a column 8.2° off
    const tight = judgeView(view([3, 2]), 'tv', 0.5, cam, { maxBearingRad: (5 * Math.PI) / 180 });
    assert.ok(tight.kind === 'turn' && Math.abs(deg(tight.yawRad) + deg(Math.atan2(8, cam.fx))) < 1e-6, JSON.stringify(tight));
    assert.match(tight.reason, /^the tv is 8° right of the heading \(at most 5°\)$/);
  });

  it('approach when the base is above the bottom row (farther than the near range); requireNear false verifies', () => {
    const near = nearRangeM(cam, G);
    assert.ok(Math.abs(near - (0.5 * cam.fy) / 16) < 1e-9, `near ${near}`);
    const v = judgeView(view([1, 1], [2, 1], [2, 2]), 'fridge', 0.5, cam, { approachStepM: 0.4 });
    assert.ok(v.kind === 'approach' && v.forwardM === 0.4 && Math.abs(v.yawRad) < 1e-9, JSON.stringify(v));
    assert.match(v.reason, /the fridge's base is not in the bottom row of the image \(farther than 1\.7 m\)/);
    assert.equal(judgeView(view([1, 1], [2, 1], [2, 2]), 'fridge', 0.5, cam, { requireNear: false }).kind, 'verified');
  });

  it('isExcluded: inside any place, its radius included', () => {
    const places = [{ x: 0, y: 0, radiusM: 1 }, { x: 5, y: 5, radiusM: 0.5 }];
    assert.equal(isExcluded({ x: 1, y: 0 }, places), true);
    assert.equal(isExcluded({ x: 5.2, y: 5.2 }, places), true);
    assert.equal(isExcluded({ x: 2, y: 2 }, places), false);
    assert.equal(isExcluded({ x: 0, y: 0 }, []), false);
  });

  it('back_off when it fills the whole width down to the bottom row (too close to tell its centre); a step of 0 never backs off', () => {
    const full = view([3, 0], [3, 1], [3, 2], [3, 3], [2, 1]);
    const v = judgeView(full, 'sofa', 0.5, cam, { backOffStepM: 0.25 });
    assert.deepEqual(v, { kind: 'back_off', backM: 0.25, reason: 'the sofa fills the whole width of the image (too close to tell its centre)' });
    assert.equal(judgeView(full, 'sofa', 0.5, cam, { backOffStepM: 0 }).kind, 'verified');
  });
});
