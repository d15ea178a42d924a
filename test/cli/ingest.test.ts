import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../../src/cli/args.js';
import { type BagRecord, ingestParamsFor, ingestRecords, modelCameraFromArgs, planIngest, siblingCameraInfo } from '../../src/cli/commands/ingest.js';
import { yawToQuaternion } from '../../src/core/geometry.js';
import { ModelLoadError } from '../../src/core/errors.js';
import { nsToTime, secondsToNs } from '../../src/core/tf/stamp.js';
import { CameraIngest } from '../../src/ros/ingestPipeline.js';
import { isOpenCvAvailable, loadOpenCv } from '../../src/vision/opencv.js';
import { makeImage, skipWithoutOpenCv } from '../vision/images.js';
import { BROKEN_RAW, brokenCompressed, cameraBagEntries, countCodes, mixedCompressedBagEntries, mixedRawBagEntries, writeBag } from './cameraBag.js';

const usage = (re: RegExp) => (e: unknown) => e instanceof UsageError && re.test(e.message);
const stamp = (t: number) => nsToTime(secondsToNs(t));

describe('cli/ingest planning', () => {
  const topics = [
    { name: '/camera/image_raw', type: 'sensor_msgs/msg/Image', count: 300 },
    { name: '/camera/camera_info', type: 'sensor_msgs/msg/CameraInfo' },
    { name: '/tf', type: 'tf2_msgs/msg/TFMessage' },
    { name: '/tf_static', type: 'tf2_msgs/msg/TFMessage' },
    { name: '/odom', type: 'nav_msgs/msg/Odometry' },
    { name: '/rosout', type: 'rcl_interfaces/msg/Log' },
  ];

  it('picks the only camera topic, its camera_info sibling and /tf', () => {
    const p = planIngest(topics);
    assert.equal(p.camera.name, '/camera/image_raw');
    assert.equal(p.cameraInfoTopic, '/camera/camera_info');
    assert.equal(p.poseSource, 'tf');
    assert.match(p.notes.join('\n'), /camera: \/camera\/image_raw \(sensor_msgs\/msg\/Image, 300 messages\)/);
    assert.equal(siblingCameraInfo('/oakd/rgb/image_raw/compressed'), '/oakd/rgb/camera_info');
    assert.equal(siblingCameraInfo('image'), '/camera_info');
  });

  it('falls back to odometry, then to no poses; honours --pose', () => {
    const noTf = topics.filter((t) => !t.name.startsWith('/tf'));
    assert.equal(planIngest(noTf).poseSource, 'odom');
    assert.equal(planIngest(noTf).odomTopic, '/odom');
    assert.equal(planIngest(noTf.filter((t) => t.name !== '/odom')).poseSource, 'none');
    assert.equal(planIngest(topics, undefined, 'none').poseSource, 'none');
    assert.throws(() => planIngest(noTf, undefined, 'tf'), usage(/no \/tf/));
    assert.throws(() => planIngest(noTf.filter((t) => t.name !== '/odom'), undefined, 'odom'), usage(/no nav_msgs\/msg\/Odometry topic/));
  });

  it('explains ambiguous or missing camera topics', () => {
    const two = [...topics, { name: '/camera/image_raw/compressed', type: 'sensor_msgs/msg/CompressedImage' }];
    assert.throws(() => planIngest(two), usage(/several camera topics, pick one with --topic: \/camera\/image_raw .*\/camera\/image_raw\/compressed/));
    const p = planIngest(two, '/camera/image_raw/compressed');
    assert.equal(p.cameraInfoTopic, '/camera/camera_info');
    assert.equal(ingestParamsFor(p).imageType, 'sensor_msgs/msg/CompressedImage');
    assert.throws(() => planIngest(topics, '/nope'), usage(/'\/nope' is not in the bag/));
    assert.throws(() => planIngest(topics, '/odom'), usage(/has type nav_msgs\/msg\/Odometry, not/));
    assert.throws(() => planIngest([{ name: '/rosout', type: 'rcl_interfaces/msg/Log' }]), usage(/no camera topic/));
  });

  it('model camera: the default, or from a manifest', () => {
    const d = modelCameraFromArgs(undefined);
    assert.deepEqual([d.width, d.height, d.cx, d.heightM], [64, 64, 32, 0.5]);
    const dir = mkdtempSync(join(tmpdir(), 'ingest-'));
    try {
      assert.throws(() => modelCameraFromArgs(join(dir, 'missing.json')), usage(/cannot read --manifest/));
      writeFileSync(join(dir, 'bad.json'), '{');
      assert.throws(() => modelCameraFromArgs(join(dir, 'bad.json')), usage(/is not JSON/));
      writeFileSync(join(dir, 'empty.json'), '{}');
      assert.throws(() => modelCameraFromArgs(join(dir, 'empty.json')), ModelLoadError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('cli/ingest records → summary', () => {
  it('a recorded camera with TF and a few bad frames', async () => {
    const topics = [
      { name: '/cam/image', type: 'sensor_msgs/msg/Image' },
      { name: '/cam/camera_info', type: 'sensor_msgs/msg/CameraInfo' },
      { name: '/tf', type: 'tf2_msgs/msg/TFMessage' },
      { name: '/tf_static', type: 'tf2_msgs/msg/TFMessage' },
    ];
    const plan = planIngest(topics);
    const records: BagRecord[] = [];
    const at = (t: number) => secondsToNs(t);
    records.push({
      topic: '/tf_static',
      logTimeNs: 0n,
      message: { transforms: [{ header: { stamp: stamp(0), frame_id: 'base_link' }, child_frame_id: 'cam', transform: { translation: { x: 0, y: 0, z: 0.5 }, rotation: yawToQuaternion(0) } }] },
    });
    records.push({ topic: '/cam/camera_info', logTimeNs: 0n, message: { width: 64, height: 48, k: [40, 0, 31.5, 0, 40, 23.5, 0, 0, 1] } });
    const img = makeImage('rgb8', 64, 48);
    for (let i = 0; i <= 100; i++) {
      const t = i / 50;
      records.push({
        topic: '/tf',
        logTimeNs: at(t),
        message: { transforms: [{ header: { stamp: stamp(t), frame_id: 'odom' }, child_frame_id: 'base_link', transform: { translation: { x: t, y: 0, z: 0 }, rotation: yawToQuaternion(0) } }] },
      });
      if (i % 5 === 0) {
        const bad = i === 60 ? { step: 3 } : {}; // t = 1.2 s: a keyframe by pose, then rejected
        records.push({ topic: '/cam/image', logTimeNs: at(t), message: { ...img, ...bad, header: { stamp: stamp(t), frame_id: 'cam' } } });
      }
    }
    const ingest = new CameraIngest(modelCameraFromArgs(undefined), { ...ingestParamsFor(plan), rawBackend: 'js' });
    const s = await ingestRecords(ingest, plan, records);
    assert.equal(s.received, 21);
    assert.deepEqual(s.rejected_by_reason, { step_too_small: 1 });
    assert.equal(s.admitted, 7); // 1 m/s, frames every 0.1 s: 0, 0.3, 0.6, 0.9, (1.2 bad), 1.3, 1.6, 1.9
    assert.equal(s.buffer.oldest_index, 0);
    assert.equal(s.dropped, 0);
    assert.ok(s.ms_per_frame > 0);
    ingest.close();
  });
});

describe('cli/ingest on a rosbag2 MCAP (the real command)', function () {
  const mainJs = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'ingest-bag-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('prints {received, admitted, rejected_by_reason, buffer, ms_per_frame} and writes --json', async () => {
    const img = makeImage('rgb8', 160, 120, { pad: 4 });
    const bagPath = join(dir, 'raw.mcap');
    await writeBag(
      bagPath,
      cameraBagEntries((i) => ({
        type: 'sensor_msgs/msg/Image',
        message: { height: 120, width: 160, encoding: i === 13 ? 'bayer_rggb8' : 'rgb8', is_bigendian: 0, step: img.step, data: img.data },
      })),
    );
    const jsonPath = join(dir, 'out.json');
    const r = spawnSync(process.execPath, [mainJs, 'ingest', '--bag', bagPath, '--json', jsonPath], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.deepEqual(JSON.parse(readFileSync(jsonPath, 'utf8')), s);
    assert.equal(s.received, 41);
    // frames every 0.06 m → a keyframe every 5th frame (0.30 m ≥ 0.25 m): 0, 5, 10, … 40. Frame 13
    // (bayer_rggb8) is no keyframe, but every frame is checked before the gate: it is rejected.
    assert.deepEqual(s.rejected_by_reason, { unknown_encoding: 1 });
    assert.deepEqual(s.skipped_by_reason, { unchanged: 31 });
    assert.equal(s.admitted, 9);
    assert.deepEqual(s.buffer.oldest_index, 0);
    assert.equal(s.buffer.frames, 9);
    assert.ok(s.buffer.bytes > 9 * 64 * 64 * 3);
    assert.ok(s.ms_per_frame > 0 && s.ms_per_frame < 100);
    assert.match(r.stderr, /camera: \/camera\/image_raw \(sensor_msgs\/msg\/Image, 41 messages\)/);
    assert.match(r.stderr, /intrinsics: \/camera\/camera_info/);
    assert.match(r.stderr, /ingest: warning: camera frame rejected \(unknown_encoding\): frame 13 \(stamp 1\.300 s\): unknown encoding 'bayer_rggb8' \(supported: [^)]*\) \[topic=\/camera\/image_raw\] \(further 'unknown_encoding' frames are only counted\)/);
  });

  it('counts every broken raw frame by its code, whatever the gate decides, and admits the good ones', async () => {
    const bagPath = join(dir, 'mixed_raw.mcap');
    await writeBag(bagPath, mixedRawBagEntries());
    const r = spawnSync(process.execPath, [mainJs, 'ingest', '--bag', bagPath], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    const broken = Object.keys(BROKEN_RAW).length;
    assert.equal(s.received, 41);
    assert.deepEqual(s.rejected_by_reason, countCodes(BROKEN_RAW));
    assert.deepEqual(s.rejected_by_reason, { truncated: 2, step_too_small: 2, unknown_encoding: 1, zero_size: 1, too_large: 1, unsupported_encoding: 1 });
    // the good frames (rgb8, bgr8, rgba8, mono8, mono16; odd ones padded) are admitted as before:
    // every keyframe 0, 5, … 40; the other good frames are skipped by the gate
    assert.equal(s.admitted, 9);
    assert.equal(s.buffer.frames, 9);
    assert.deepEqual([s.buffer.oldest_index, s.buffer.newest_index], [0, 40]);
    assert.deepEqual(s.skipped_by_reason, { unchanged: 41 - 9 - broken });
    assert.equal(s.dropped, 0);
    // the first frame of each code is quoted on stderr with its index, stamp, values and topic
    assert.match(r.stderr, /camera frame rejected \(step_too_small\): frame 2 \(stamp 0\.200 s\): expected step >= 640 \(160 px × 4 ch, rgba8\), found 100 \[topic=\/camera\/image_raw\]/);
    assert.match(r.stderr, /camera frame rejected \(truncated\): frame 1 \(stamp 0\.100 s\): expected data >= 58076 bytes \(120 rows of step 484, the last without padding; 160x120 bgr8\), found 1000 \[topic=\/camera\/image_raw\]/);
    assert.match(r.stderr, /camera frame rejected \(too_large\): frame 6 \(stamp 0\.600 s\): image 100000x100000 rgb8: size 100000x100000 exceeds the limit/);
    assert.equal((r.stderr.match(/camera frame rejected/g) ?? []).length, 6, 'one line per code');
  });

  it('counts every broken compressed frame by its code and admits the good JPEG and PNG frames', async function () {
    skipWithoutOpenCv(this, isOpenCvAvailable());
    const cv = loadOpenCv();
    const raw = makeImage('bgr8', 160, 120);
    const mat = new cv.Mat(120, 160, cv.CV_8UC3, Buffer.from(raw.data.buffer), raw.step);
    const jpeg = new Uint8Array(cv.imencode('.jpg', mat, [cv.IMWRITE_JPEG_QUALITY, 85]));
    const png = new Uint8Array(cv.imencode('.png', mat));
    const bagPath = join(dir, 'mixed_compressed.mcap');
    await writeBag(bagPath, mixedCompressedBagEntries(jpeg, png));
    const r = spawnSync(process.execPath, [mainJs, 'ingest', '--bag', bagPath], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    const broken = brokenCompressed(jpeg, png);
    assert.equal(s.received, 41);
    assert.deepEqual(s.rejected_by_reason, countCodes(broken));
    assert.deepEqual(s.rejected_by_reason, { corrupt_jpeg: 1, corrupt_png: 2, unknown_encoding: 2, truncated: 2, unsupported_encoding: 1, too_large: 1 });
    assert.equal(s.admitted, 9);
    assert.deepEqual(s.skipped_by_reason, { unchanged: 41 - 9 - Object.keys(broken).length });
    assert.match(r.stderr, /camera frame rejected \(corrupt_jpeg\): frame 1 \(stamp 0\.100 s\): compressed image \(format 'rgb8; jpeg compressed bgr8', 64 bytes\): starts with 00 25 4A 6F, neither a JPEG/);
    assert.match(r.stderr, /camera frame rejected \(too_large\): frame 9 .*65000x65000 exceeds the limit/);
  });

  it('broken keyframes (5 and 11) are counted and the next frame becomes the keyframe', async () => {
    const img = makeImage('bgr8', 160, 120);
    const bagPath = join(dir, 'bad.mcap');
    await writeBag(
      bagPath,
      cameraBagEntries((i) => ({
        type: 'sensor_msgs/msg/Image',
        message: { height: 120, width: 160, encoding: 'bgr8', is_bigendian: 0, step: i === 5 ? 100 : img.step, data: i === 11 ? img.data.subarray(0, 999) : img.data },
      })),
    );
    const r = spawnSync(process.execPath, [mainJs, 'ingest', '--bag', bagPath], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.deepEqual(s.rejected_by_reason, { step_too_small: 1, truncated: 1 });
    assert.equal(s.received, 41);
    // each broken keyframe is rolled back, so the next frame becomes the keyframe: 0, 6, 12, 17, … 37
    assert.equal(s.admitted, 8);
    assert.equal(s.buffer.newest_index, 37);
  });

  it('a compressed camera topic is detected from its type', async function () {
    skipWithoutOpenCv(this, isOpenCvAvailable());
    const cv = loadOpenCv();
    const raw = makeImage('bgr8', 160, 120);
    const jpeg = new Uint8Array(cv.imencode('.jpg', new cv.Mat(120, 160, cv.CV_8UC3, Buffer.from(raw.data.buffer), raw.step), [cv.IMWRITE_JPEG_QUALITY, 85]));
    const bagPath = join(dir, 'jpeg.mcap');
    await writeBag(bagPath, cameraBagEntries(() => ({ type: 'sensor_msgs/msg/CompressedImage', message: { format: 'rgb8; jpeg compressed bgr8', data: jpeg } })));
    const r = spawnSync(process.execPath, [mainJs, 'ingest', '--bag', bagPath, '--topic', '/camera/image_raw/compressed'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.admitted, 9);
    assert.deepEqual(s.rejected_by_reason, {});
  });

  it('usage and bag errors exit non-zero with a message', () => {
    const r1 = spawnSync(process.execPath, [mainJs, 'ingest', '--bag', join(dir, 'nope.mcap')], { encoding: 'utf8' });
    assert.equal(r1.status, 1);
    assert.match(r1.stderr, /No bag at/);
    const r2 = spawnSync(process.execPath, [mainJs, 'ingest', '--bag', 'x', '--frobnicate', '1'], { encoding: 'utf8' });
    assert.equal(r2.status, 2);
    assert.match(r2.stderr, /unknown flag --frobnicate/);
    const r3 = spawnSync(process.execPath, [mainJs, 'ingest', '--bag', 'x', '--pose', 'gps'], { encoding: 'utf8' });
    assert.match(r3.stderr, /--pose must be auto, tf, odom or none, got 'gps'/);
    const r4 = spawnSync(process.execPath, [mainJs, 'ingest', 'stray'], { encoding: 'utf8' });
    assert.match(r4.stderr, /unexpected argument 'stray'/);
  });
});
