import { strict as assert } from 'node:assert';
import { ParameterError, TransformError } from '../../../src/core/errors.js';
import { type Transform3D, quaternionToYaw, yawToQuaternion } from '../../../src/core/geometry.js';
import { OdometryPoseSource } from '../../../src/core/tf/OdometryPoseSource.js';
import { formatStamp, nsToSeconds, nsToTime, secondsToNs, timeToNs } from '../../../src/core/tf/stamp.js';
import { NullPoseSource, TfBuffer, TfPoseSource, type TransformStampedLike } from '../../../src/core/tf/TfBuffer.js';
import { TransformSeries } from '../../../src/core/tf/TransformSeries.js';

const close = (a: number, b: number, tol = 1e-9, what = '') => assert.ok(Math.abs(a - b) <= tol, `${what} ${a} != ${b}`);
const S = (s: number) => secondsToNs(s);

/** A TransformStamped parent → child at time `t` seconds, planar (x, y, yaw) plus z. */
function tf(parent: string, child: string, t: number, x: number, y = 0, yaw = 0, z = 0): TransformStampedLike {
  const ns = S(t);
  return {
    header: { stamp: nsToTime(ns), frame_id: parent },
    child_frame_id: child,
    transform: { translation: { x, y, z }, rotation: yawToQuaternion(yaw) },
  };
}

const isTfError = (code: string, re?: RegExp) => (e: unknown) => e instanceof TransformError && e.code === code && (re === undefined || re.test(e.message));

describe('core/tf/stamp', () => {
  it('converts {sec, nanosec} exactly, including negative nanoseconds', () => {
    assert.equal(timeToNs({ sec: 1_700_000_000, nanosec: 123_456_789 }), 1_700_000_000_123_456_789n);
    assert.deepEqual(nsToTime(1_700_000_000_123_456_789n), { sec: 1_700_000_000, nanosec: 123_456_789 });
    assert.deepEqual(nsToTime(-1n), { sec: -1, nanosec: 999_999_999 });
    assert.equal(formatStamp(S(12.3456)), '12.345 s');
    assert.equal(formatStamp(S(-0.5)), '-0.500 s');
    assert.equal(nsToSeconds(S(2.5)), 2.5);
  });
});

describe('core/tf/TfBuffer', () => {
  function robotTree(): TfBuffer {
    const b = new TfBuffer();
    b.setTransform(tf('map', 'odom', 0, 1, 2, 0), true);
    b.setTransform(tf('base_link', 'camera', 0, 0.1, 0, 0, 0.5), true);
    // base_link moves 1 m/s along odom x and turns 90° over the first second
    b.setTransform(tf('odom', 'base_link', 0, 0, 0, 0), false);
    b.setTransform(tf('odom', 'base_link', 1, 1, 0, Math.PI / 2), false);
    b.setTransform(tf('odom', 'base_link', 2, 2, 0, Math.PI / 2), false);
    return b;
  }

  it('looks up through the tree and interpolates (lerp + slerp) between stamps', () => {
    const b = robotTree();
    const t = b.lookupTransform('map', 'base_link', S(0.5));
    close(t.translation.x, 1.5);
    close(t.translation.y, 2);
    close(quaternionToYaw(t.rotation), Math.PI / 4, 1e-9, 'slerp halfway');
    const cam = b.lookupTransform('map', 'camera', S(2));
    // base at (1+2, 2) facing +y; camera 0.1 m ahead → (3, 2.1), 0.5 m up
    close(cam.translation.x, 3);
    close(cam.translation.y, 2.1);
    close(cam.translation.z, 0.5);
  });

  it('returns the inverse for the reverse lookup and identity for the same frame', () => {
    const b = robotTree();
    const a = b.lookupTransform('map', 'camera', S(1.5));
    const r = b.lookupTransform('camera', 'map', S(1.5));
    // r ∘ a must be identity: map a point through both
    const p = { x: 0.3, y: -0.2, z: 0.7 };
    const q = composePoint(r, composePoint(a, p));
    close(q.x, p.x);
    close(q.y, p.y);
    close(q.z, p.z);
    assert.deepEqual(b.lookupTransform('map', '/map', S(9)).translation, { x: 0, y: 0, z: 0 });
  });

  it('static transforms are timeless; dynamic ones are not', () => {
    const b = robotTree();
    assert.doesNotThrow(() => b.lookupTransform('base_link', 'camera', S(1e6)));
    assert.doesNotThrow(() => b.lookupTransform('map', 'odom', S(-5)));
    assert.throws(() => b.lookupTransform('map', 'base_link', S(-5)), isTfError('too_old'));
  });

  it('without a time, answers at the latest time the whole chain has data (tf2 time 0)', () => {
    const b = robotTree();
    const t = b.lookupTransform('map', 'base_link');
    close(t.translation.x, 3);
  });

  it('frames sharing an ancestor below the root connect there', () => {
    const b = robotTree();
    b.setTransform(tf('base_link', 'lidar', 0, -0.2), true);
    const t = b.lookupTransform('camera', 'lidar', S(1));
    close(t.translation.x, -0.3);
    close(t.translation.z, -0.5);
  });

  it('unknown frame: names it and lists the known ones', () => {
    const b = robotTree();
    assert.throws(() => b.lookupTransform('map', 'base_footprint', S(1)), isTfError('frame_unknown', /source frame 'base_footprint' is unknown .*known frames: base_link, camera, map, odom/));
    assert.throws(() => b.lookupTransform('world', 'base_link', S(1)), isTfError('frame_unknown', /target frame 'world'/));
    assert.throws(() => new TfBuffer().lookupTransform('a', 'b'), isTfError('frame_unknown', /none yet/));
  });

  it('broken chain: names both roots', () => {
    const b = robotTree();
    b.setTransform(tf('odom2', 'base2', 0, 0), false);
    assert.throws(() => b.lookupTransform('map', 'base2', S(0)), isTfError('chain_broken', /rooted at 'map'.*rooted at 'odom2'/));
  });

  it('too old and too new, with the tolerance on the newer side', () => {
    const b = new TfBuffer({ futureToleranceNs: S(0.1) });
    b.setTransform(tf('odom', 'base_link', 10, 0), false);
    b.setTransform(tf('odom', 'base_link', 11, 1), false);
    assert.throws(() => b.lookupTransform('odom', 'base_link', S(9.5)), isTfError('too_old', /lookup odom ← base_link: requested time 9\.500 s is 0\.500 s older than the oldest transform odom → base_link \(10\.000 s\)/));
    close(b.lookupTransform('odom', 'base_link', S(11.05)).translation.x, 1, 1e-12, 'within tolerance → latest');
    assert.throws(() => b.lookupTransform('odom', 'base_link', S(11.5)), isTfError('too_new', /0\.500 s newer than the latest transform odom → base_link \(11\.000 s\); tolerance 0\.100 s/));
    assert.equal(b.canTransform('odom', 'base_link', S(11.5)), false);
    assert.equal(b.canTransform('odom', 'base_link', S(10.5)), true);
  });

  it('keeps only the cache duration of history', () => {
    const b = new TfBuffer({ cacheDurationNs: S(10) });
    for (let t = 0; t <= 20; t++) b.setTransform(tf('odom', 'base_link', t, t), false);
    assert.throws(() => b.lookupTransform('odom', 'base_link', S(5)), isTfError('too_old', /cache keeps 10\.0 s/));
    close(b.lookupTransform('odom', 'base_link', S(15.5)).translation.x, 15.5);
  });

  it('rejects NaN, non-unit quaternions, empty and self-parent frames, loops — and keeps the rest of a message', () => {
    const b = new TfBuffer();
    const nan = tf('odom', 'base_link', 0, Number.NaN);
    assert.throws(() => b.setTransform(nan, false), isTfError('invalid_transform', /translation \(NaN, 0, 0\) is not finite/));
    const badQ = tf('odom', 'base_link', 0, 0);
    badQ.transform.rotation = { x: 0, y: 0, z: 0, w: 2 };
    assert.throws(() => b.setTransform(badQ, false), isTfError('invalid_transform', /norm 2\.00000, expected a unit quaternion/));
    const nanQ = tf('odom', 'base_link', 0, 0);
    nanQ.transform.rotation = { x: 0, y: 0, z: Number.NaN, w: 1 };
    assert.throws(() => b.setTransform(nanQ, false), isTfError('invalid_transform', /rotation .* is not finite/));
    assert.throws(() => b.setTransform(tf('', 'base_link', 0, 0), false), isTfError('invalid_transform', /empty frame id/));
    assert.throws(() => b.setTransform(tf('a', '/a', 0, 0), false), isTfError('invalid_transform', /its own parent/));
    b.setTransform(tf('a', 'b', 0, 0), true);
    b.setTransform(tf('b', 'c', 0, 0), true);
    assert.throws(() => b.setTransform(tf('c', 'a', 0, 0), true), isTfError('loop', /a is already an ancestor of c/));
    const errors = b.addTfMessage({ transforms: [nan, tf('c', 'd', 0, 1)] }, true);
    assert.equal(errors.length, 1);
    close(b.lookupTransform('a', 'd').translation.x, 1);
    assert.deepEqual(b.frames(), ['a', 'b', 'c', 'd']);
  });

  it('a second parent is refused while the edge is alive; after the cache duration it starts a new history; clear() forgets everything', () => {
    const b = new TfBuffer();
    b.setTransform(tf('odom', 'base_link', 0, 1), false);
    b.setTransform(tf('base_link', 'camera', 0, 0.2), true);
    assert.throws(() => b.setTransform(tf('map', 'base_link', 1, 5), false), isTfError('parent_conflict', /base_link already has the parent odom, updated 0\.000 s .*accepted 10\.0 s after its last update/));
    assert.throws(() => b.setTransform(tf('odom', 'camera', 1, 5), false), isTfError('parent_conflict', /camera already has the static parent base_link \(from \/tf_static/));
    b.setTransform(tf('map', 'camera', 1, 0.3), true); // /tf_static may restate its own edges
    close(b.lookupTransform('map', 'camera').translation.x, 0.3);
    b.setTransform(tf('map', 'base_link', 10.5, 5), false);
    close(b.lookupTransform('map', 'base_link', S(10.5)).translation.x, 5);
    assert.throws(() => b.lookupTransform('odom', 'base_link', S(10.5)), isTfError('chain_broken'));
    b.clear();
    assert.equal(b.hasFrame('map'), false);
  });

  it('rejects bad options', () => {
    assert.throws(() => new TfBuffer({ cacheDurationNs: 0n }), ParameterError);
    assert.throws(() => new TfBuffer({ futureToleranceNs: -1n }), ParameterError);
  });

  it('TfPoseSource gives the planar robot pose and the camera pose at a stamp', () => {
    const b = robotTree();
    const src = new TfPoseSource(b, 'map', 'base_link');
    const at = src.poseAt(S(0.5), 'camera');
    close(at.pose.x, 1.5);
    close(at.pose.yaw, Math.PI / 4);
    assert.ok(at.camera);
    close(at.camera.translation.z, 0.5);
    assert.equal(src.poseAt(S(0.5), 'unknown_optical').camera, undefined);
    assert.throws(() => src.poseAt(S(50)), isTfError('too_new'));
    assert.deepEqual(new NullPoseSource().poseAt(), { pose: { x: 0, y: 0, yaw: 0 } });
  });

  it('TfPoseSource picks the first known candidate frame and keeps it', () => {
    const b = new TfBuffer();
    b.setTransform(tf('odom', 'base_footprint', 0, 1), false);
    b.setTransform(tf('odom', 'base_footprint', 1, 2), false);
    const src = new TfPoseSource(b, ['map', 'odom'], ['base_link', 'base_footprint']);
    assert.equal(src.globalFrame, 'map');
    close(src.poseAt(S(0.5)).pose.x, 1.5);
    assert.equal(src.globalFrame, 'odom');
    assert.equal(src.baseFrame, 'base_footprint');
    // a map frame appearing later does not switch frames mid-run
    b.setTransform(tf('map', 'odom', 0, 100), true);
    close(src.poseAt(S(1)).pose.x, 2);
    assert.throws(() => new TfPoseSource(b, [], 'base_link'), ParameterError);
  });
});

describe('core/tf/TransformSeries', () => {
  const T = (x: number): Transform3D => ({ translation: { x, y: 0, z: 0 }, rotation: yawToQuaternion(0) });
  it('accepts out-of-order stamps, replaces duplicates, and reports no data', () => {
    const s = new TransformSeries('a → b');
    assert.throws(() => s.sample(0n, 0n, S(10)), isTfError('no_data', /no data yet for a → b/));
    s.insert(S(2), T(2), S(10));
    s.insert(S(0), T(0), S(10));
    s.insert(S(1), T(5), S(10));
    s.insert(S(1), T(1), S(10));
    assert.equal(s.size, 3);
    close(s.sample(S(1.5), 0n, S(10)).translation.x, 1.5);
    close(s.sample(S(1), 0n, S(10)).translation.x, 1);
  });
});

describe('core/tf/OdometryPoseSource', () => {
  function odom(t: number, x: number, yaw: number, frame = 'odom') {
    return { header: { stamp: nsToTime(S(t)), frame_id: frame }, child_frame_id: 'base_link', pose: { pose: { position: { x, y: 0, z: 0 }, orientation: yawToQuaternion(yaw) } } };
  }
  it('interpolates odometry at a stamp and adds the camera mount', () => {
    const o = new OdometryPoseSource({ cameraMount: { translation: { x: 0.1, y: 0, z: 0.5 }, rotation: yawToQuaternion(0) } });
    assert.throws(() => o.poseAt(S(0)), isTfError('no_data'));
    o.addOdometry(odom(0, 0, 0));
    o.addOdometry(odom(1, 2, 1));
    assert.equal(o.globalFrame, 'odom');
    const at = o.poseAt(S(0.5));
    close(at.pose.x, 1);
    close(at.pose.yaw, 0.5);
    assert.ok(at.camera);
    close(at.camera.translation.z, 0.5);
  });
  it('rejects a changed frame id and bad numbers', () => {
    const o = new OdometryPoseSource();
    o.addOdometry(odom(0, 0, 0));
    assert.throws(() => o.addOdometry(odom(1, 0, 0, 'map'), '/wheel_odom'), isTfError('frame_changed', /odometry map → base_link on \/wheel_odom: frame_id 'map' differs from earlier messages' 'odom'/));
    assert.throws(() => o.addOdometry(odom(1, Number.POSITIVE_INFINITY, 0)), isTfError('invalid_transform'));
    const plain = new OdometryPoseSource();
    plain.addOdometry(odom(0, 1, 0));
    assert.equal(plain.poseAt(S(0)).camera, undefined);
  });
});

function composePoint(t: Transform3D, p: { x: number; y: number; z: number }) {
  const q = t.rotation;
  const tx = 2 * (q.y * p.z - q.z * p.y);
  const ty = 2 * (q.z * p.x - q.x * p.z);
  const tz = 2 * (q.x * p.y - q.y * p.x);
  return {
    x: p.x + q.w * tx + (q.y * tz - q.z * ty) + t.translation.x,
    y: p.y + q.w * ty + (q.z * tx - q.x * tz) + t.translation.y,
    z: p.z + q.w * tz + (q.x * ty - q.y * tx) + t.translation.z,
  };
}
