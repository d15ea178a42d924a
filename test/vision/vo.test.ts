import { strict as assert } from 'node:assert';
import { cameraFromFov } from '../../src/core/camera.js';
import { BadFrameError, ParameterError } from '../../src/core/errors.js';
import { composePose2D } from '../../src/core/geometry.js';
import { Rng } from '../../src/core/rng.js';
import { chainOdometry } from '../../src/core/path/vo.js';
import { isOpenCvAvailable } from '../../src/vision/opencv.js';
import { estimateMotionOrb, pairEstimator, visualOdometry } from '../../src/vision/vo.js';
import { MODEL_CAMERA_DEFAULT } from '../../src/sim/camera.js';
import { generateWorld } from '../../src/sim/world.js';
import { openPose, straight, turn, view } from '../core/path/fixtures.js';

const CAM160 = cameraFromFov(160, 120, Math.PI / 3, 0.5);
const CAM64 = MODEL_CAMERA_DEFAULT;
const DEG = Math.PI / 180;

describe('vision/vo', function () {
  this.timeout(120000);
  before(function () {
    if (!isOpenCvAvailable()) this.skip();
  });

  const rng = new Rng(11);
  const scenes = [300, 301, 302, 303, 304, 305].map((seed) => {
    const world = generateWorld(seed);
    return { world, pose: openPose(world, rng, 2.5) };
  });

  it('ORB + essential matrix recovers a 20° turn at 160×120 within 1.5°', () => {
    for (const { world, pose } of scenes) {
      const a = view(world, pose, CAM160).rgb;
      const b = view(world, composePose2D(pose, turn(20 * DEG)), CAM160).rgb;
      const e = estimateMotionOrb(a, b, CAM160);
      assert.ok(e.inliers >= 8 && e.confidence > 0, `world ${world.seed}: ${e.inliers} inliers`);
      assert.ok(Math.abs(e.dyaw - 20 * DEG) < 1.5 * DEG, `world ${world.seed}: yaw ${(e.dyaw / DEG).toFixed(2)}°`);
    }
  });

  it('ORB metric scale from triangulated floor points: a straight 0.5 m within 10 % in at least half the worlds', () => {
    let good = 0;
    for (const { world, pose } of scenes) {
      const a = view(world, pose, CAM160).rgb;
      const b = view(world, composePose2D(pose, straight(0.5)), CAM160).rgb;
      const e = estimateMotionOrb(a, b, CAM160);
      if (Math.abs(Math.hypot(e.dx, e.dy) / 0.5 - 1) <= 0.1 && Math.abs(e.dyaw) < 3 * DEG) good++;
      assert.ok(e.floorPoints >= 4, `world ${world.seed}: ${e.floorPoints} floor points`);
    }
    assert.ok(good >= 3, `only ${good}/6 straight motions within 10 %`);
  });

  it('gives zero motion and confidence 0 on a featureless pair', () => {
    const flat = new Uint8Array(64 * 64 * 3).fill(140);
    const e = estimateMotionOrb(flat, flat, CAM64);
    assert.equal(e.confidence, 0);
    assert.deepEqual([e.dx, e.dy, e.dyaw], [0, 0, 0]);
    assert.ok(e.features[0] < 8);
  });

  it('visualOdometry: direct by default (same as chainOdometry), orb on request', () => {
    const { world, pose } = scenes[0] as (typeof scenes)[number];
    const frames = [0, 0.3, 0.6].map((d) => view(world, composePose2D(pose, straight(d)), CAM64).rgb);
    const direct = visualOdometry(frames, CAM64);
    const core = chainOdometry(frames, CAM64);
    assert.deepEqual(direct.poses, core.poses);
    const orb = visualOdometry(frames, CAM64, { method: 'orb' });
    assert.equal(orb.poses.length, 3);
    assert.equal(orb.links.length, 2);
    assert.equal(typeof pairEstimator({ method: 'orb' }), 'function');
  });

  it('throws on bad frames, methods and parameters', () => {
    const f = new Uint8Array(64 * 64 * 3);
    const isParam = (re: RegExp) => (e: unknown) => e instanceof ParameterError && re.test(e.message);
    assert.throws(() => estimateMotionOrb(new Uint8Array(4), f, CAM64), (e: unknown) => e instanceof BadFrameError && /frame A/.test(e.message));
    assert.throws(() => estimateMotionOrb(f, f, CAM64, { upscale: 0 }), isParam(/upscale.*0/));
    assert.throws(() => estimateMotionOrb(f, f, CAM64, { maxFeatures: 0 }), isParam(/maxFeatures.*0/));
    assert.throws(() => estimateMotionOrb(f, f, CAM64, { floorPercentile: 2 }), isParam(/floorPercentile.*2/));
    assert.throws(() => estimateMotionOrb(f, f, { ...CAM64, fy: -1 }), ParameterError);
    assert.throws(() => visualOdometry([f], CAM64, { method: 'sift' as never }), isParam(/'sift'/));
  });
});
