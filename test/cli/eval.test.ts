import { strict as assert } from 'node:assert';
import type { PlanResult } from '../../src/core/planner/planToObject.js';
import { agreementAlong, blockMeans, colourMatches, followedByGeometry, frameAgreement, nameEvidenceFlags, perFrameMean } from '../../src/cli/commands/eval.js';
import { UsageError } from '../../src/cli/args.js';
import { detectBox } from '../../src/core/path/box.js';
import { drawBox as drawRed } from '../../src/sim/renderer.js';
import { PALETTE } from '../../src/sim/vocabulary.js';
import { cameraOf } from '../../src/core/model/manifest.js';
import { readManifest, defaultModelDir } from '../../src/model/OnnxImaginationModel.js';
import { render } from '../../src/sim/renderer.js';
import { makeScenario, posesAlongPath } from '../../src/sim/scenario.js';
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

  it('judges any candidate by index, the chosen one by default', () => {
    const v = render(sc.world, sc.standoff, camera, { idsOnly: true }).objects.get(sc.target.id);
    assert.ok(v);
    const good = planWith(sc.standoff, (v.x0 + v.x1 + 1) / 2).candidates[0];
    const bad = planWith({ ...sc.standoff, yaw: sc.standoff.yaw + Math.PI }, 32).candidates[0];
    const plan = { chosen: 0, candidates: [bad, good] } as unknown as PlanResult;
    assert.equal(followedByGeometry(sc, plan, camera), false);
    assert.equal(followedByGeometry(sc, plan, camera, 1), true);
    assert.equal(followedByGeometry(sc, plan, camera, 2), false, 'no such candidate');
  });
});

describe('cli/eval: per-frame agreement with the true view', () => {
  const sc = makeScenario(101);
  const other = makeScenario(102);
  const camera = cameraOf(readManifest(defaultModelDir()));
  const W = camera.width;
  const H = camera.height;

  it('block means of a constant frame are that constant; a wrong size is refused with the sizes', () => {
    const m = blockMeans(new Uint8Array(W * H * 3).fill(77), W, H);
    assert.equal(m.length, 8 * 8 * 3);
    assert.ok(m.every((v) => v === 77));
    assert.throws(() => blockMeans(new Uint8Array(10), W, H), /10 bytes is not 64x64x3/);
  });

  it('is 1 for identical frames, 0 for black against white, symmetric', () => {
    const a = render(sc.world, sc.standoff, camera).rgb;
    assert.equal(frameAgreement(a, a, W, H), 1);
    assert.equal(frameAgreement(new Uint8Array(W * H * 3), new Uint8Array(W * H * 3).fill(255), W, H), 0);
    const b = render(other.world, other.standoff, camera).rgb;
    assert.equal(frameAgreement(a, b, W, H), frameAgreement(b, a, W, H));
  });

  it('the true frames along the oracle path agree with themselves better than with another world', () => {
    const truth = posesAlongPath(sc, 6).map((p) => render(sc.world, p, camera, { supersample: 2 }).rgb);
    const self = agreementAlong(truth, sc, camera);
    const chance = agreementAlong(truth, other, camera);
    assert.equal(self.length, 6);
    assert.ok(self.every((v) => v > 0.999), `self ${self.join(' ')}`);
    assert.ok(chance.every((v, j) => v < (self[j] as number)), `chance ${chance.join(' ')}`);
  });

  it('perFrameMean averages per frame and skips samples without values', () => {
    assert.deepEqual(perFrameMean([[1, 0.5], undefined, [0, 0.5]]), [0.5, 0.5]);
    assert.deepEqual(perFrameMean([undefined]), []);
  });
});

describe('cli/eval: the imagined object has the colour it has in this world', () => {
  const sc = makeScenario(101);
  /** A 64×64 grey frame with a block of `rgb` outlined in red, and a plan whose chosen candidate ends on it. */
  const planOf = (rgb: readonly number[]) => {
    const f = new Uint8Array(64 * 64 * 3).fill(128);
    for (let v = 20; v <= 50; v++) for (let u = 20; u <= 40; u++) f.set(rgb, (v * 64 + u) * 3);
    drawRed(f, 64, 64, { x0: 20, y0: 20, x1: 40, y1: 50 }, [255, 0, 0]);
    const box = detectBox(f, 64, 64);
    assert.ok(box);
    return { chosen: 0, candidates: [{ frames: [f], goal: { boxes: [box] } }] } as unknown as PlanResult;
  };
  it('true for the target colour, false for any other palette colour, undefined without a box', () => {
    const idx = sc.target.colorIndex;
    assert.equal(colourMatches(sc, planOf(PALETTE[idx] as readonly number[]), 64, 64), true);
    for (let k = 1; k < PALETTE.length; k++) assert.equal(colourMatches(sc, planOf(PALETTE[(idx + k) % PALETTE.length] as readonly number[]), 64, 64), false, `palette ${(idx + k) % PALETTE.length}`);
    const none = { chosen: 0, candidates: [{ frames: [new Uint8Array(64 * 64 * 3)], goal: { boxes: [undefined] } }] } as unknown as PlanResult;
    assert.equal(colourMatches(sc, none, 64, 64), undefined);
  });

  it('--name-evidence W [--name-evidence-levels a,b]: off when omitted; bad values quoted', () => {
    assert.equal(nameEvidenceFlags(undefined, undefined), undefined);
    assert.deepEqual(nameEvidenceFlags('0', undefined), { weight: 0, tLevels: [0.5, 0.8] });
    assert.deepEqual(nameEvidenceFlags('0.25', '0.3, 0.6,0.9'), { weight: 0.25, tLevels: [0.3, 0.6, 0.9] });
    const usage = (re: RegExp) => (e: unknown) => e instanceof UsageError && re.test(e.message);
    assert.throws(() => nameEvidenceFlags('1.5', undefined), usage(/--name-evidence must be a weight in \[0, 1\], got '1.5'/));
    assert.throws(() => nameEvidenceFlags('', undefined), usage(/got ''/));
    assert.throws(() => nameEvidenceFlags('0.5', '0.5,1'), usage(/noise levels in \(0, 1\) separated by commas, got '0.5,1'/));
    assert.throws(() => nameEvidenceFlags(undefined, '0.5'), usage(/--name-evidence-levels '0.5' needs --name-evidence W/));
  });
});
