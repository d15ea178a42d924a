import { strict as assert } from 'node:assert';
import { modelCameraFromFov } from '../../src/core/context/cameraFit.js';
import { ParameterError } from '../../src/core/errors.js';
import { yawToQuaternion } from '../../src/core/geometry.js';
import { nsToTime, secondsToNs } from '../../src/core/tf/stamp.js';
import { CameraIngest, type CameraMessage, type IngestQos, type IngestSubscriber } from '../../src/ros/ingestPipeline.js';
import { isOpenCvAvailable, loadOpenCv } from '../../src/vision/opencv.js';
import { makeImage, skipWithoutOpenCv } from '../vision/images.js';

const MODEL = modelCameraFromFov(32, 32, Math.PI / 3, 0.5);
const stamp = (t: number) => nsToTime(secondsToNs(t));

function image(t: number): CameraMessage {
  return { ...makeImage('bgr8', 96, 72), header: { stamp: stamp(t), frame_id: 'camera_optical' } };
}

function tfMsg(t: number, x: number, yaw = 0) {
  return { transforms: [{ header: { stamp: stamp(t), frame_id: 'odom' }, child_frame_id: 'base_link', transform: { translation: { x, y: 0, z: 0 }, rotation: yawToQuaternion(yaw) } }] };
}

const staticTf = {
  transforms: [
    { header: { stamp: stamp(0), frame_id: 'map' }, child_frame_id: 'odom', transform: { translation: { x: 0, y: 1, z: 0 }, rotation: yawToQuaternion(0) } },
    { header: { stamp: stamp(0), frame_id: 'base_link' }, child_frame_id: 'camera_optical', transform: { translation: { x: 0, y: 0, z: 0.5 }, rotation: yawToQuaternion(0) } },
  ],
};

describe('ros/ingestPipeline CameraInfo + TF + camera → buffer', () => {
  it('runs a 20 Hz camera with /tf at 50 Hz: keyframes every 0.25 m, poses in map, camera poses from TF', async () => {
    const warnings: string[] = [];
    const ing = new CameraIngest(MODEL, { rawBackend: 'js' }, { warn: (m) => warnings.push(m) });
    ing.handleTf(staticTf, true);
    ing.handleCameraInfo({ width: 96, height: 72, k: [60, 0, 47.5, 0, 60, 35.5, 0, 0, 1] });
    // interleave as a bag would: tf up to t, then the frame stamped t
    let nextTf = 0;
    for (let i = 0; i < 60; i++) {
      const t = i / 20;
      for (; nextTf <= t * 50; nextTf++) ing.handleTf(tfMsg(nextTf / 50, (nextTf / 50) * 0.5), false);
      ing.handleImage(image(t));
      await ing.idle();
    }
    const s = ing.summary();
    assert.equal(s.received, 60);
    assert.equal(s.admitted, 6); // 1.5 m at 0.25 m
    assert.deepEqual(s.rejected_by_reason, {});
    assert.deepEqual(ing.buffer.entries().map((e) => e.index), [0, 10, 20, 30, 40, 50]);
    const e = ing.buffer.getByIndex(20);
    assert.ok(e && Math.abs(e.pose.x - 0.5) < 1e-9 && e.pose.y === 1);
    assert.equal(e.camera?.translation.z, 0.5);
    // 96x72 with fx 60: vertical FOV 61.9°, horizontal 77.3° → crop fits, no FOV warning
    assert.deepEqual(warnings, []);
    const status = ing.diagnostics.status();
    assert.equal(status.level, 0, status.message);
    ing.close();
  });

  it('counts bad camera_info, bad /tf transforms and frames without TF, and warns once per kind', async () => {
    const warnings: string[] = [];
    const ing = new CameraIngest(MODEL, { rawBackend: 'js' }, { warn: (m) => warnings.push(m) });
    ing.handleCameraInfo({ width: 96, height: 72, k: [0, 0, 0, 0, 0, 0, 0, 0, 0] });
    ing.handleCameraInfo({ width: 96, height: 72, k: [0, 0, 0, 0, 0, 0, 0, 0, 0] });
    const nan = tfMsg(0, Number.NaN);
    ing.handleTf(nan, false);
    ing.handleImage(image(0));
    await ing.idle();
    assert.deepEqual(ing.poseInputErrors, { bad_camera_info: 2, invalid_transform: 1 });
    assert.equal(warnings.filter((w) => /camera_info/.test(w)).length, 1);
    assert.deepEqual(ing.summary().rejected_by_reason, { tf_frame_unknown: 1 });
    ing.close();
  });

  it('odometry fallback and pose-less operation', async () => {
    const odo = new CameraIngest(MODEL, { rawBackend: 'js', poseSource: 'odom' });
    for (let i = 0; i <= 100; i++) {
      odo.handleOdometry({ header: { stamp: stamp(i / 50), frame_id: 'odom' }, child_frame_id: 'base_link', pose: { pose: { position: { x: i / 50, y: 0, z: 0 }, orientation: yawToQuaternion(0) } } });
    }
    odo.handleOdometry({ header: { stamp: stamp(2.1), frame_id: 'map' }, child_frame_id: 'base_link', pose: { pose: { position: { x: 0, y: 0, z: 0 }, orientation: yawToQuaternion(0) } } });
    for (let i = 0; i < 20; i++) {
      odo.handleImage(image(i / 10));
      await odo.idle();
    }
    assert.equal(odo.summary().admitted, 7); // 1 m/s, frames every 0.1 m: keyframes at 0, 0.3, 0.6, … 1.8 m
    assert.deepEqual(odo.poseInputErrors, { frame_changed: 1 });
    odo.close();
    const none = new CameraIngest(MODEL, { rawBackend: 'js', poseSource: 'none', gate: { maxIntervalS: 1 } });
    for (let i = 0; i < 40; i++) {
      none.handleImage(image(i / 10));
      await none.idle();
    }
    assert.equal(none.summary().admitted, 4); // by time only: 0, 1, 2, 3 s
    none.close();
  });

  it('checks every frame before the gate: broken frames between keyframes are counted by code in the summary and /diagnostics', async () => {
    const warnings: string[] = [];
    const ing = new CameraIngest(MODEL, { rawBackend: 'js', poseSource: 'none', imageTopic: '/cam/image_raw', gate: { maxIntervalS: 1 } }, { warn: (m) => warnings.push(m) });
    const good = image(0);
    const broken: CameraMessage[] = [
      { ...good, data: good.data.subarray(0, 100) }, // truncated
      { ...good, step: 200 }, // step_too_small: bgr8 96 px needs 288
      { ...good, encoding: 'bayer_rggb8' }, // unknown_encoding
      { ...good, width: 0, height: 0, step: 0, data: new Uint8Array(0) }, // zero_size
      { ...good, width: 100_000, height: 100_000, step: 300_000 }, // too_large
      { ...good, data: good.data.subarray(0, 100) }, // truncated again
    ];
    ing.handleImage(good);
    await ing.idle();
    assert.equal(ing.diagnostics.status().level, 0);
    broken.forEach((m, i) => ing.handleImage({ ...m, header: { stamp: stamp(0.1 * (i + 1)), frame_id: 'camera_optical' } }));
    await ing.idle();
    // the gate would have skipped all of them (less than maxIntervalS after frame 0): still rejected
    assert.deepEqual(ing.summary().rejected_by_reason, { truncated: 2, step_too_small: 1, unknown_encoding: 1, zero_size: 1, too_large: 1 });
    assert.deepEqual(ing.summary().skipped_by_reason, {});
    // a stream of broken frames is no camera: the action's staleness check still sees frame 0 as the newest usable one
    assert.equal(ing.pipeline.counters.lastUsableStampNs, 0n);
    const st = ing.diagnostics.status();
    assert.equal(st.level, 2, st.message); // every frame since the last report was rejected
    assert.match(st.message, /all 6 frames since the last report were rejected \(most common: truncated\); last: frame 6 \(stamp 0\.600 s\): expected data >= 20736 bytes .*found 100 \[topic=\/cam\/image_raw\]/);
    const value = (k: string) => st.values.find((v) => v.key === k)?.value;
    assert.deepEqual([value('frames_rejected'), value('rejected.truncated'), value('rejected.step_too_small'), value('rejected.too_large')], ['6', '2', '1', '1']);
    ing.handleImage({ ...good, header: { stamp: stamp(1), frame_id: 'camera_optical' } });
    await ing.idle();
    assert.equal(ing.summary().admitted, 2);
    assert.equal(ing.pipeline.counters.lastUsableStampNs, secondsToNs(1));
    // logged once per code, naming the frame
    const rejections = warnings.filter((w) => w.startsWith('camera frame rejected'));
    assert.equal(rejections.length, 5);
    assert.match(rejections[1] ?? '', /^camera frame rejected \(step_too_small\): frame 2 \(stamp 0\.200 s\): expected step >= 288 \(96 px × 3 ch, bgr8\), found 200 \[topic=\/cam\/image_raw\] \(further 'step_too_small' frames are only counted\)$/);
    ing.close();
  });

  it('broken frames never take a place in the queue: a burst of them drops no good frame', async () => {
    const ing = new CameraIngest(MODEL, { rawBackend: 'js', poseSource: 'none', queueCapacity: 2, gate: { maxIntervalS: 1 } });
    ing.handleImage(image(0));
    for (let i = 1; i <= 10; i++) ing.handleImage({ ...image(i / 100), encoding: '16UC1' });
    ing.handleImage(image(2));
    await ing.idle();
    const s = ing.summary();
    assert.deepEqual(s.rejected_by_reason, { unsupported_encoding: 10 });
    assert.equal(s.dropped, 0);
    assert.equal(s.admitted, 2);
    ing.close();
  });

  it('compressed camera messages go through the async JPEG path', async function () {
    skipWithoutOpenCv(this, isOpenCvAvailable());
    const cv = loadOpenCv();
    const raw = makeImage('bgr8', 96, 72);
    const jpeg = new Uint8Array(cv.imencode('.jpg', new cv.Mat(72, 96, cv.CV_8UC3, Buffer.from(raw.data.buffer), raw.step), [cv.IMWRITE_JPEG_QUALITY, 90]));
    const ing = new CameraIngest(MODEL, { poseSource: 'none', imageType: 'sensor_msgs/msg/CompressedImage' });
    ing.handleImage({ header: { stamp: stamp(0), frame_id: 'cam' }, format: 'jpeg', data: jpeg });
    ing.handleImage({ header: { stamp: stamp(9), frame_id: 'cam' }, format: 'jpeg', data: jpeg.subarray(0, 100) });
    await ing.idle();
    const s = ing.summary();
    assert.equal(s.admitted, 1);
    assert.deepEqual(s.rejected_by_reason, { truncated: 1 });
    ing.close();
  });

  it('attach() subscribes camera, camera_info and TF with the right types and QoS; close() unsubscribes', async () => {
    const subs = new Map<string, { type: string; qos: IngestQos; cb: (m: unknown) => void }>();
    const bus: IngestSubscriber = {
      subscribe(topic, type, qos, cb) {
        subs.set(topic, { type, qos, cb });
        return () => subs.delete(topic);
      },
    };
    const ing = new CameraIngest(MODEL, { rawBackend: 'js', imageTopic: '/camera/image_raw', cameraInfoTopic: '/camera/camera_info' });
    ing.attach(bus);
    assert.deepEqual(
      [...subs].map(([t, s]) => [t, s.type, s.qos]),
      [
        ['/camera/image_raw', 'sensor_msgs/msg/Image', 'sensor_data'],
        ['/camera/camera_info', 'sensor_msgs/msg/CameraInfo', 'sensor_data'],
        ['/tf', 'tf2_msgs/msg/TFMessage', 'tf'],
        ['/tf_static', 'tf2_msgs/msg/TFMessage', 'tf_static'],
      ],
    );
    subs.get('/tf_static')?.cb(staticTf);
    subs.get('/tf')?.cb(tfMsg(0, 0));
    subs.get('/camera/image_raw')?.cb(image(0));
    await ing.idle();
    assert.equal(ing.summary().admitted, 1);
    ing.close();
    assert.equal(subs.size, 0);
  });

  it('rejects bad parameters by name', () => {
    assert.throws(() => new CameraIngest(MODEL, { poseSource: 'gps' as 'tf' }), (e: unknown) => e instanceof ParameterError && /poseSource: must be 'tf', 'odom' or 'none', got "gps"/.test(e.message));
    assert.throws(() => new CameraIngest(MODEL, { cameraHfovDeg: 200 }), (e: unknown) => e instanceof ParameterError && /cameraHfovDeg/.test(e.message));
    assert.throws(() => new CameraIngest(MODEL, { imageType: 'sensor_msgs/msg/Imag' as 'sensor_msgs/msg/Image' }), ParameterError);
    assert.throws(() => new CameraIngest(MODEL, { tfCacheS: 0 }), /tfCacheS/);
    assert.throws(() => new CameraIngest(MODEL, { tfFutureToleranceS: -1 }), /tfFutureToleranceS/);
    assert.throws(() => new CameraIngest(MODEL, { globalFrame: '' }), /globalFrame/);
  });
});
