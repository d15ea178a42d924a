import { strict as assert } from 'node:assert';
import { cameraFromFov } from '../../../src/core/camera.js';
import { BadFrameError, ParameterError } from '../../../src/core/errors.js';
import { composePose2D, type Pose2D } from '../../../src/core/geometry.js';
import { Rng } from '../../../src/core/rng.js';
import { alignPlanar, chainOdometry, prepareFrame, type PlanarAlignParams, type PlanarMotion } from '../../../src/core/path/vo.js';
import { MODEL_CAMERA_DEFAULT } from '../../../src/sim/camera.js';
import { generateWorld } from '../../../src/sim/world.js';
import { arc, openPose, straight, turn, view } from './fixtures.js';

const CAM64 = MODEL_CAMERA_DEFAULT;
const CAM160 = cameraFromFov(160, 120, Math.PI / 3, 0.5);
const DEG = Math.PI / 180;

/** Worlds 300–305, one pose each with 2.5 m of free floor ahead (as when driving a path). */
const rng = new Rng(11);
const scenes = [300, 301, 302, 303, 304, 305].map((seed) => {
  const world = generateWorld(seed);
  return { world, pose: openPose(world, rng, 2.5) };
});
const MOTIONS: [string, Pose2D][] = [
  ['straight 0.5 m', straight(0.5)],
  ['turn 20°', turn(20 * DEG)],
  ['arc 0.5 m / 20°', arc(0.5, 20 * DEG)],
];

function errors(e: PlanarMotion, m: Pose2D): { scale: number; yawDeg: number; t: number } {
  const tn = Math.hypot(m.x, m.y);
  const en = Math.hypot(e.dx, e.dy);
  return { scale: tn > 0 ? Math.abs(en / tn - 1) : en, yawDeg: Math.abs(e.dyaw - m.yaw) / DEG, t: Math.hypot(e.dx - m.x, e.dy - m.y) };
}

describe('core/path/vo (direct ground-plane alignment)', function () {
  this.timeout(120000);

  // Yaw within 2° at both sizes. Until day 10 160×120 was held to 1°; on day 11 the refinement's
  // Jacobian became analytic and world 303's arc (a wall and a lamp about a metre ahead, a strip of
  // floor) came out at 1.84° instead of 0.51°: the new estimate has the LOWER robust cost at full
  // resolution (35.87 against 36.25 at the old estimate and 37.17 at the true motion), so the old
  // optimiser stopped short of a biased minimum by luck. The other 17 motions moved by ≤ 0.02°.
  for (const [cam, scaleTol, yawTolDeg] of [
    [CAM160, 0.05, 2.0],
    [CAM64, 0.07, 2.0],
  ] as const) {
    it(`${cam.width}×${cam.height}: straight, turn and arc with metric scale within ${Math.round(scaleTol * 100)} % and yaw within ${yawTolDeg}°`, () => {
      for (const { world, pose } of scenes) {
        const a = view(world, pose, cam).rgb;
        for (const [name, m] of MOTIONS) {
          const b = view(world, composePose2D(pose, m), cam).rgb;
          const e = alignPlanar(a, b, cam);
          const err = errors(e, m);
          const where = `world ${world.seed}, ${name}: est (${e.dx.toFixed(3)}, ${e.dy.toFixed(3)}, ${(e.dyaw / DEG).toFixed(2)}°)`;
          if (m.x === 0 && m.y === 0) assert.ok(err.t < 0.02, `${where}: ${err.t.toFixed(3)} m of spurious translation`);
          else assert.ok(err.scale <= scaleTol, `${where}: scale off by ${(err.scale * 100).toFixed(1)} %`);
          assert.ok(err.yawDeg <= yawTolDeg, `${where}: yaw off by ${err.yawDeg.toFixed(2)}°`);
          assert.ok(e.confidence > 0.5 && e.confidence <= 1, `${where}: confidence ${e.confidence}`);
          assert.ok(e.inliers > 0 && e.inliers <= e.samples);
        }
      }
    });
  }

  it('coarse-to-fine grid (gridCoarseStep 2, off by default) finds the pure turn the full grid finds', () => {
    for (const { world, pose } of scenes) {
      const a = view(world, pose, CAM64).rgb;
      const turn = { x: 0, y: 0, yaw: 20 * DEG };
      const b = view(world, composePose2D(pose, turn), CAM64).rgb;
      const full = alignPlanar(a, b, CAM64);
      const coarse = alignPlanar(a, b, CAM64, { gridCoarseStep: 2 });
      const where = `world ${world.seed}: full (${full.dx.toFixed(3)}, ${full.dy.toFixed(3)}, ${(full.dyaw / DEG).toFixed(2)}°), coarse (${coarse.dx.toFixed(3)}, ${coarse.dy.toFixed(3)}, ${(coarse.dyaw / DEG).toFixed(2)}°)`;
      assert.ok(errors(coarse, turn).yawDeg <= 1 && errors(coarse, turn).t < 0.02, where);
      assert.ok(Math.abs(coarse.dyaw - full.dyaw) < 0.5 * DEG, where);
    }
  });

  /** The default alignment against `reference` parameters on worlds 300–305 at 64×64: the same motions and confidences. */
  function sameMotionsAs(reference: Partial<PlanarAlignParams>, label: string): void {
    for (const { world, pose } of scenes) {
      const a = view(world, pose, CAM64).rgb;
      for (const motion of [{ x: 0.5, y: 0, yaw: 0 }, { x: 0, y: 0, yaw: 20 * DEG }, { x: 0.45, y: 0.15, yaw: 15 * DEG }]) {
        const b = view(world, composePose2D(pose, motion), CAM64).rgb;
        const ref = alignPlanar(a, b, CAM64, reference);
        const got = alignPlanar(a, b, CAM64);
        const where = `world ${world.seed} motion ${JSON.stringify(motion)}: ${label} (${ref.dx.toFixed(3)}, ${ref.dy.toFixed(3)}, ${(ref.dyaw / DEG).toFixed(2)}°), default (${got.dx.toFixed(3)}, ${got.dy.toFixed(3)}, ${(got.dyaw / DEG).toFixed(2)}°)`;
        assert.ok(Math.hypot(got.dx - ref.dx, got.dy - ref.dy) < 0.01 && Math.abs(got.dyaw - ref.dyaw) < 0.2 * DEG, where);
        assert.ok(Math.abs(got.confidence - ref.confidence) < 0.1, `${where}: confidence ${got.confidence} vs ${ref.confidence}`);
      }
    }
  }

  it('the grid ranked on a checkerboard of pixels (gridSampleStride 2, the default) finds the motions every pixel finds', () => {
    sameMotionsAs({ gridSampleStride: 1 }, 'every pixel');
  });

  it('the ranking read from the quarter-pixel table (gridRankSubpixel 4, the default) finds the motions exact bilinear lookups find', () => {
    sameMotionsAs({ gridRankSubpixel: 0 }, 'exact lookups');
  });

  it('identical frames give zero motion; frames of two different worlds give low confidence', () => {
    const { world, pose } = scenes[0] as { world: ReturnType<typeof generateWorld>; pose: Pose2D };
    const a = view(world, pose, CAM64).rgb;
    const same = alignPlanar(a, a, CAM64);
    assert.ok(Math.hypot(same.dx, same.dy) < 0.01 && Math.abs(same.dyaw) < 0.005, JSON.stringify(same));
    assert.ok(same.confidence > 0.9);
    const other = scenes[3] as { world: ReturnType<typeof generateWorld>; pose: Pose2D };
    const b = view(other.world, other.pose, CAM64).rgb;
    const wrong = alignPlanar(a, b, CAM64);
    assert.ok(wrong.confidence < same.confidence * 0.6, `unrelated frames: confidence ${wrong.confidence} vs ${same.confidence}`);
  });

  it('ignores the red box: a box drawn in one frame does not move the estimate', () => {
    const { world, pose } = scenes[1] as { world: ReturnType<typeof generateWorld>; pose: Pose2D };
    const m = straight(0.5);
    const a = view(world, pose, CAM64).rgb;
    const b = view(world, composePose2D(pose, m), CAM64).rgb;
    const boxed = b.slice();
    for (let u = 20; u <= 44; u++) for (const v of [30, 60]) boxed.set([255, 0, 0], (v * 64 + u) * 3);
    for (let v = 30; v <= 60; v++) for (const u of [20, 44]) boxed.set([255, 0, 0], (v * 64 + u) * 3);
    const e0 = alignPlanar(a, b, CAM64);
    const e1 = alignPlanar(a, boxed, CAM64);
    assert.ok(Math.hypot(e0.dx - e1.dx, e0.dy - e1.dy) < 0.03 && Math.abs(e0.dyaw - e1.dyaw) < 0.01, `${JSON.stringify(e0)} vs ${JSON.stringify(e1)}`);
  });

  it('chainOdometry composes consecutive links into poses relative to the first frame', () => {
    const world = generateWorld(310);
    const start = openPose(world, new Rng(3), 3.0);
    const step = arc(0.4, 8 * DEG);
    const truth: Pose2D[] = [{ x: 0, y: 0, yaw: 0 }];
    for (let i = 1; i < 6; i++) truth.push(composePose2D(truth[i - 1] as Pose2D, step));
    const frames = truth.map((p) => view(world, composePose2D(start, p), CAM64).rgb);
    const chain = chainOdometry(frames, CAM64);
    assert.equal(chain.poses.length, 6);
    assert.equal(chain.links.length, 5);
    assert.deepEqual(chain.poses[0], { x: 0, y: 0, yaw: 0 });
    const end = chain.poses[5] as Pose2D;
    const tEnd = truth[5] as Pose2D;
    assert.ok(Math.hypot(end.x - tEnd.x, end.y - tEnd.y) < 0.15, `end (${end.x.toFixed(2)}, ${end.y.toFixed(2)}) vs (${tEnd.x.toFixed(2)}, ${tEnd.y.toFixed(2)})`);
    assert.ok(Math.abs(end.yaw - tEnd.yaw) < 3 * DEG, `end yaw ${(end.yaw / DEG).toFixed(1)}° vs ${(tEnd.yaw / DEG).toFixed(1)}°`);
    assert.equal(chain.minConfidence, Math.min(...chain.links.map((l) => l.motion.confidence)));
    assert.ok(chain.minConfidence > 0.3);
  });

  it('chainOdometry composes an injected estimator exactly; one frame gives the identity', () => {
    const frames = [0, 1, 2].map(() => new Uint8Array(64 * 64 * 3));
    const chain = chainOdometry(frames, CAM64, () => ({ dx: 1, dy: 0, dyaw: Math.PI / 2, confidence: 0.5, inliers: 1, samples: 1, residual: 0 }));
    const p2 = chain.poses[2] as Pose2D;
    assert.ok(Math.abs(p2.x - 1) < 1e-12 && Math.abs(p2.y - 1) < 1e-12 && Math.abs(p2.yaw - Math.PI) < 1e-12, JSON.stringify(p2));
    const one = chainOdometry([frames[0] as Uint8Array], CAM64);
    assert.deepEqual(one.poses, [{ x: 0, y: 0, yaw: 0 }]);
    assert.equal(one.minConfidence, 0);
  });

  it('throws on bad frames, cameras and parameters, quoting the value', () => {
    const f = new Uint8Array(64 * 64 * 3);
    const isParam = (re: RegExp) => (e: unknown) => e instanceof ParameterError && re.test(e.message);
    assert.throws(() => alignPlanar(new Uint8Array(5), f, CAM64), (e: unknown) => e instanceof BadFrameError && /got 5/.test(e.message));
    assert.throws(() => alignPlanar(prepareFrame(f, CAM64), prepareFrame(new Uint8Array(160 * 120 * 3), CAM160), CAM64), (e: unknown) => e instanceof BadFrameError && /160x120/.test(e.message));
    assert.throws(() => alignPlanar(f, f, { ...CAM64, fx: Number.NaN }), isParam(/camera\.fx.*NaN/));
    assert.throws(() => alignPlanar(f, f, { ...CAM64, heightM: 0 }), isParam(/heightM=0/));
    assert.throws(() => alignPlanar(f, f, CAM64, { gridStepM: 0 }), isParam(/gridStepM.*0/));
    assert.throws(() => alignPlanar(f, f, CAM64, { searchYawRad: 4 }), isParam(/searchYawRad.*4/));
    assert.throws(() => alignPlanar(f, f, CAM64, { searchForwardM: [1, 0] }), isParam(/searchForwardM.*\[1, 0\]/));
    assert.throws(() => alignPlanar(f, f, CAM64, { upperWeight: -1 }), isParam(/upperWeight.*-1/));
    assert.throws(() => alignPlanar(f, f, CAM64, { gridUpperWeight: -1 }), isParam(/gridUpperWeight.*-1/));
    assert.throws(() => alignPlanar(f, f, CAM64, { iterations: 1.5 }), isParam(/iterations.*1.5/));
    assert.throws(() => alignPlanar(f, f, CAM64, { blurPasses: -1 }), isParam(/blurPasses.*-1/));
    assert.throws(() => alignPlanar(f, f, CAM64, { topK: 0 }), isParam(/topK.*0/));
    assert.throws(() => alignPlanar(f, f, CAM64, { gridCoarseStep: 0 }), isParam(/gridCoarseStep.*0/));
    assert.throws(() => alignPlanar(f, f, CAM64, { gridCoarseStep: 1.5 }), isParam(/gridCoarseStep.*1.5/));
    assert.throws(() => alignPlanar(f, f, CAM64, { gridSampleStride: 0 }), isParam(/gridSampleStride.*0/));
    assert.throws(() => alignPlanar(f, f, CAM64, { gridRankSubpixel: -1 }), isParam(/gridRankSubpixel.*-1/));
    assert.throws(() => alignPlanar(f, f, CAM64, { gridRankSubpixel: 2.5 }), isParam(/gridRankSubpixel.*2.5/));
    assert.throws(() => alignPlanar(f, f, CAM64, { gridRankSubpixel: 17 }), isParam(/gridRankSubpixel.*17/));
    assert.throws(() => alignPlanar(f, f, CAM64, { refineSecondLevel: 0 }), isParam(/refineSecondLevel.*0/));
    assert.throws(() => alignPlanar(f, f, CAM64, { gridDescentStarts: 2.5 }), isParam(/gridDescentStarts.*2.5/));
    assert.throws(() => chainOdometry([], CAM64), isParam(/at least one frame, got 0/));
  });
});
