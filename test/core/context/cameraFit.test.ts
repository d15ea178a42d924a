import { strict as assert } from 'node:assert';
import {
  computeFitPlan,
  describeFitPlan,
  horizontalFov,
  intrinsicsFromCameraInfo,
  intrinsicsFromHfov,
  modelCameraFromFov,
  validateModelCamera,
  verticalFov,
} from '../../../src/core/context/cameraFit.js';
import { BadFrameError, ParameterError } from '../../../src/core/errors.js';

const DEG = Math.PI / 180;
const close = (a: number, b: number, tol: number, what = '') => assert.ok(Math.abs(a - b) <= tol, `${what} ${a} != ${b} (±${tol})`);
const MODEL = modelCameraFromFov(64, 64, 60 * DEG, 0.5, 0);

describe('core/context/cameraFit', () => {
  it('the default model camera follows the contract: fx = fy = 32/tan 30°, centred (cx = cy = 32 continuous), 60° FOV', () => {
    close(MODEL.fx, 32 / Math.tan(30 * DEG), 1e-12);
    assert.equal(MODEL.fy, MODEL.fx);
    assert.equal(MODEL.cx, 32);
    assert.equal(MODEL.cy, 32);
    close(horizontalFov(MODEL), 60 * DEG, 1e-12);
    close(verticalFov(MODEL), 60 * DEG, 1e-12);
    assert.equal(MODEL.heightM, 0.5);
  });

  it('rejects unusable model cameras and FOVs naming the field', () => {
    assert.throws(() => validateModelCamera({ ...MODEL, width: 0 }), (e: unknown) => e instanceof ParameterError && /width must be an integer/.test(e.message));
    assert.throws(() => validateModelCamera({ ...MODEL, fx: Number.NaN }), (e: unknown) => e instanceof ParameterError && /fx must be a positive/.test(e.message));
    assert.throws(() => validateModelCamera({ ...MODEL, pitchRad: Infinity }), (e: unknown) => e instanceof ParameterError && /pitchRad must be finite/.test(e.message));
    assert.throws(() => intrinsicsFromHfov(640, 480, 0), (e: unknown) => e instanceof ParameterError && e.code === 'bad_fov' && /got 0°/.test(e.message));
    assert.throws(() => modelCameraFromFov(64, 64, Math.PI, 0.5), ParameterError);
  });

  it('a camera with the model FOV at 10x resolution is used whole', () => {
    const src = intrinsicsFromHfov(640, 640, 60 * DEG);
    const plan = computeFitPlan(src, MODEL);
    assert.deepEqual(plan.crop, { x: 0, y: 0, width: 640, height: 640 });
    assert.equal(plan.fovScale, 1);
    assert.equal(plan.fovDeficient, false);
    close(plan.effective.fx, MODEL.fx, 1e-9);
    close(plan.effective.cx, MODEL.cx, 1e-9);
    assert.equal(plan.scaleX, 10);
  });

  it('a wide camera is centre-cropped to the model FOV', () => {
    const src = intrinsicsFromHfov(1280, 960, 120 * DEG);
    const plan = computeFitPlan(src, MODEL);
    // crop width = 64 · fx_src / fx_model = 64 · 369.50 / 55.43 = 426.7 → 427 px, centred
    const want = (64 * src.fx) / MODEL.fx;
    close(plan.crop.width, want, 1);
    close(plan.crop.x + plan.crop.width / 2, 640, 0.5);
    close(plan.crop.y + plan.crop.height / 2, 480, 0.5);
    assert.equal(plan.fovDeficient, false);
    close(horizontalFov(plan.effective), 60 * DEG, 0.2 * DEG);
  });

  it('a 640x480 60° camera is narrower vertically: the largest crop (480x480) and a deficit flag', () => {
    const src = intrinsicsFromHfov(640, 480, 60 * DEG);
    const plan = computeFitPlan(src, MODEL);
    assert.deepEqual(plan.crop, { x: 80, y: 0, width: 480, height: 480 });
    assert.equal(plan.fovDeficient, true);
    close(plan.fovScale, 0.75, 1e-9);
    close(plan.effective.fx, MODEL.fx / 0.75, 1e-9);
    assert.match(describeFitPlan(src, MODEL, plan), /crop 480x480\+80\+0 → model 64x64/);
  });

  it('an off-centre principal point moves the crop with it', () => {
    const src = { ...intrinsicsFromHfov(1280, 960, 120 * DEG), cx: 600 };
    const plan = computeFitPlan(src, MODEL);
    close(plan.crop.x + plan.crop.width / 2, 600, 0.5);
    close(plan.effective.cx, MODEL.cx, 0.1);
  });

  it('rejects empty frames and unusable intrinsics', () => {
    assert.throws(() => computeFitPlan({ ...intrinsicsFromHfov(640, 480, 1), width: 0 }, MODEL), (e: unknown) => e instanceof BadFrameError && e.code === 'zero_size');
    assert.throws(() => computeFitPlan({ ...intrinsicsFromHfov(640, 480, 1), fx: 0 }, MODEL), (e: unknown) => e instanceof BadFrameError && e.code === 'bad_intrinsics');
    assert.throws(
      () => computeFitPlan({ ...intrinsicsFromHfov(640, 480, 1), cx: 700 }, MODEL, '/cam'),
      (e: unknown) => e instanceof BadFrameError && e.code === 'bad_intrinsics' && /\(700\.0, 240\.0\) lies outside the 640x480 frame \[topic=\/cam\]/.test(e.message),
    );
  });

  it('CameraInfo intrinsics (ROS convention: centred cx = W/2 − 0.5) become continuous, scaled to the stream', () => {
    const info = { width: 1280, height: 960, k: [1000, 0, 639.5, 0, 1000, 479.5, 0, 0, 1] };
    const same = intrinsicsFromCameraInfo(info, 1280, 960);
    assert.deepEqual(same, { width: 1280, height: 960, fx: 1000, fy: 1000, cx: 640, cy: 480 });
    const half = intrinsicsFromCameraInfo(info, 640, 480);
    assert.deepEqual(half, { width: 640, height: 480, fx: 500, fy: 500, cx: 320, cy: 240 });
    // a centred ROS camera is the same camera as the centred model camera: a plan without shift
    const plan = computeFitPlan(intrinsicsFromCameraInfo({ width: 640, height: 640, k: [10 * MODEL.fx, 0, 319.5, 0, 10 * MODEL.fx, 319.5, 0, 0, 1] }, 640, 640), MODEL);
    assert.deepEqual(plan.crop, { x: 0, y: 0, width: 640, height: 640 });
    close(plan.effective.cx, MODEL.cx, 1e-9);
  });

  it('rejects CameraInfo without usable K', () => {
    const ok = { width: 640, height: 480, k: [500, 0, 319.5, 0, 500, 239.5, 0, 0, 1] };
    assert.throws(() => intrinsicsFromCameraInfo({ ...ok, k: [1, 2, 3] }, 640, 480, '/ci'), (e: unknown) => e instanceof BadFrameError && e.code === 'bad_camera_info' && /has 3 elements/.test(e.message));
    assert.throws(() => intrinsicsFromCameraInfo({ ...ok, k: new Array(9).fill(0) }, 640, 480), (e: unknown) => e instanceof BadFrameError && /fx=0 fy=0/.test(e.message));
    assert.throws(() => intrinsicsFromCameraInfo({ ...ok, width: 0 }, 640, 480), (e: unknown) => e instanceof BadFrameError && /size 0x480 is empty/.test(e.message));
  });
});
