import { strict as assert } from 'node:assert';
import type { PlanResult } from '../../src/core/planner/planToObject.js';
import { followedByGeometry } from '../../src/cli/commands/eval.js';
import { cameraOf } from '../../src/core/model/manifest.js';
import { readManifest, defaultModelDir } from '../../src/model/OnnxImaginationModel.js';
import { render } from '../../src/sim/renderer.js';
import { makeScenario } from '../../src/sim/scenario.js';
import type { Pose2D } from '../../src/core/geometry.js';

/** A minimal plan whose chosen candidate has `goal` and a last-frame box centred at column `cx`. */
function planWith(goal: Pose2D | undefined, cx: number | undefined): PlanResult {
  const box = cx === undefined ? undefined : { x0: cx - 3, y0: 20, x1: cx + 3, y1: 40, cx, cy: 30, score: 1, pixels: 30, clipped: false };
  return { chosen: 0, candidates: [{ goal: { goal, boxes: [undefined, box] } }] } as unknown as PlanResult;
}

describe('cli/eval: IF judged by geometry', () => {
  const sc = makeScenario(101);
  const camera = cameraOf(readManifest(defaultModelDir()));

  it('true when the recovered pose really sees the target where the imagined box is', () => {
    const v = render(sc.world, sc.standoff, camera, { idsOnly: true }).objects.get(sc.target.id);
    assert.ok(v);
    assert.equal(followedByGeometry(sc, planWith(sc.standoff, (v.x0 + v.x1 + 1) / 2), camera), true);
  });

  it('false when the box is elsewhere, the pose faces away, or there is no box or goal', () => {
    const away = { ...sc.standoff, yaw: sc.standoff.yaw + Math.PI };
    assert.equal(followedByGeometry(sc, planWith(away, 32), camera), false);
    assert.equal(followedByGeometry(sc, planWith(sc.standoff, undefined), camera), false);
    assert.equal(followedByGeometry(sc, planWith(undefined, 32), camera), false);
    const v = render(sc.world, sc.standoff, camera, { idsOnly: true }).objects.get(sc.target.id);
    assert.ok(v);
    const outside = v.x1 + 8 < 64 ? v.x1 + 8 : v.x0 - 8;
    assert.equal(followedByGeometry(sc, planWith(sc.standoff, outside), camera), false);
  });
});
