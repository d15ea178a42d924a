import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from '@foxglove/rosmsg';
import { MessageError } from '../../../src/core/errors.js';
import {
  actionTypes,
  checkDependencies,
  commonText,
  splitActionText,
  validateAgainst,
  decodeMessage,
  defaultMessage,
  encodeMessage,
  knownActions,
  knownTypes,
  navigateThroughPosesGoal,
  normalizeType,
  ROS_DISTROS,
  schemaText,
  timeFromNs,
  timeToNs,
  TYPES,
  validateMessage,
  type ImaginedTrajectory,
  type NavigateToObjectFeedback,
  type Path,
  type PoseStamped,
} from '../../../src/ros/messages/index.js';
import { IMAGINED_TRAJECTORY_MSG, NAVIGATE_TO_OBJECT_ACTION } from '../../../src/ros/messages/ownDefinitions.js';

// dist/test/ros/messages → repository root
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

const header = (sec: number, frame: string) => ({ stamp: { sec, nanosec: 250_000_000 }, frame_id: frame });
const pose = (x: number, y: number, frame = 'map'): PoseStamped => ({
  header: header(12, frame),
  pose: { position: { x, y, z: 0 }, orientation: { x: 0, y: 0, z: Math.sin(0.25), w: Math.cos(0.25) } },
});
const path = (n: number): Path => ({ header: header(12, 'map'), poses: Array.from({ length: n }, (_, i) => pose(i * 0.5, i * 0.25)) });

/** A representative message of every type we publish, subscribe or call. */
const SAMPLES: Record<string, unknown> = {
  'std_msgs/msg/String': { data: 'chair' },
  'std_msgs/msg/Header': header(3, 'camera_optical'),
  'std_msgs/msg/Empty': {},
  'builtin_interfaces/msg/Time': { sec: 5, nanosec: 7 },
  'builtin_interfaces/msg/Duration': { sec: 1, nanosec: 500 },
  'sensor_msgs/msg/Image': {
    header: header(3, 'camera_optical'),
    height: 2,
    width: 3,
    encoding: 'rgb8',
    is_bigendian: 0,
    step: 9,
    data: new Uint8Array(Array.from({ length: 18 }, (_, i) => i * 13)),
  },
  'sensor_msgs/msg/CompressedImage': { header: header(3, 'camera_optical'), format: 'jpeg', data: new Uint8Array([0xff, 0xd8, 0xff, 0xd9]) },
  'sensor_msgs/msg/CameraInfo': {
    header: header(3, 'camera_optical'),
    height: 480,
    width: 640,
    distortion_model: 'plumb_bob',
    d: [0.1, -0.05, 0, 0, 0],
    k: [500, 0, 320, 0, 500, 240, 0, 0, 1],
    r: [1, 0, 0, 0, 1, 0, 0, 0, 1],
    p: [500, 0, 320, 0, 0, 500, 240, 0, 0, 0, 1, 0],
    binning_x: 0,
    binning_y: 0,
    roi: { x_offset: 1, y_offset: 2, height: 3, width: 4, do_rectify: true },
  },
  'sensor_msgs/msg/RegionOfInterest': { x_offset: 1, y_offset: 2, height: 3, width: 4, do_rectify: false },
  'tf2_msgs/msg/TFMessage': {
    transforms: [
      {
        header: header(4, 'odom'),
        child_frame_id: 'base_link',
        transform: { translation: { x: 1.5, y: -2, z: 0 }, rotation: { x: 0, y: 0, z: 0.6, w: 0.8 } },
      },
    ],
  },
  'geometry_msgs/msg/TransformStamped': {
    header: header(4, 'base_link'),
    child_frame_id: 'camera_link',
    transform: { translation: { x: 0.1, y: 0, z: 0.5 }, rotation: { x: 0, y: 0, z: 0, w: 1 } },
  },
  'geometry_msgs/msg/Transform': { translation: { x: 1, y: 2, z: 3 }, rotation: { x: 0, y: 0, z: 0, w: 1 } },
  'geometry_msgs/msg/PoseStamped': pose(1, 2),
  'geometry_msgs/msg/Pose': pose(3, 4).pose,
  'geometry_msgs/msg/Point': { x: 1, y: 2, z: 3 },
  'geometry_msgs/msg/Vector3': { x: -1, y: 0.5, z: 3 },
  'geometry_msgs/msg/Quaternion': { x: 0, y: 0, z: 1, w: 0 },
  'geometry_msgs/msg/Twist': { linear: { x: 0.2, y: 0, z: 0 }, angular: { x: 0, y: 0, z: -0.4 } },
  'geometry_msgs/msg/TwistStamped': { header: header(1, 'base_link'), twist: { linear: { x: 0.2, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0.1 } } },
  'geometry_msgs/msg/PoseWithCovariance': { pose: pose(1, 1).pose, covariance: Array.from({ length: 36 }, (_, i) => i / 10) },
  'geometry_msgs/msg/TwistWithCovariance': { twist: { linear: { x: 1, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } }, covariance: new Array(36).fill(0.5) },
  'nav_msgs/msg/Path': path(3),
  'nav_msgs/msg/Goals': { header: header(12, 'map'), goals: [pose(1, 0), pose(2, 0)] },
  'nav_msgs/msg/Odometry': {
    header: header(2, 'odom'),
    child_frame_id: 'base_link',
    pose: { pose: pose(1, 2).pose, covariance: new Array(36).fill(0.01) },
    twist: { twist: { linear: { x: 0.3, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0.2 } }, covariance: new Array(36).fill(0) },
  },
  'nav_msgs/msg/MapMetaData': { map_load_time: { sec: 1, nanosec: 2 }, resolution: 0.25, width: 3, height: 2, origin: pose(-1, -2).pose },
  'nav_msgs/msg/OccupancyGrid': {
    header: header(6, 'map'),
    info: { map_load_time: { sec: 6, nanosec: 0 }, resolution: 0.25, width: 3, height: 2, origin: pose(-1, -2).pose },
    data: new Int8Array([0, 100, -1, 0, 0, 100]),
  },
  'std_msgs/msg/ColorRGBA': { r: 1, g: 0.5, b: 0.25, a: 1 },
  'visualization_msgs/msg/Marker': {
    header: header(5, 'map'),
    ns: 'plan',
    id: 7,
    type: 4,
    action: 0,
    pose: pose(0, 0).pose,
    scale: { x: 0.05, y: 0.05, z: 0.05 },
    color: { r: 0, g: 1, b: 0, a: 1 },
    lifetime: { sec: 2, nanosec: 0 },
    frame_locked: false,
    points: [
      { x: 0, y: 0, z: 0 },
      { x: 1, y: 0.5, z: 0 },
    ],
    text: 'chair',
  },
  'visualization_msgs/msg/MarkerArray': { markers: [{ header: header(5, 'map'), ns: 'object', id: 1, type: 2, text: 'chair' }] },
  'visualization_msgs/msg/UVCoordinate': { u: 0.5, v: 0.25 },
  'visualization_msgs/msg/MeshFile': { filename: 'a.dae', data: new Uint8Array([1, 2, 3]) },
  'diagnostic_msgs/msg/KeyValue': { key: 'sample_s', value: '0.84' },
  'diagnostic_msgs/msg/DiagnosticStatus': { level: 1, name: 'video4spatial_nav: camera', message: 'stale', hardware_id: 'cam0', values: [{ key: 'age_s', value: '2.5' }] },
  'diagnostic_msgs/msg/DiagnosticArray': {
    header: header(9, ''),
    status: [{ level: 0, name: 'video4spatial_nav: planner', message: 'ok', hardware_id: '', values: [{ key: 'plans', value: '3' }] }],
  },
  'rcl_interfaces/msg/Log': { stamp: { sec: 1, nanosec: 2 }, level: 20, name: 'video4spatial_nav', msg: 'hello', file: 'a.ts', function: 'f', line: 3 },
  'video4spatial_nav/msg/ImaginedTrajectory': {
    header: header(12, 'map'),
    object_name: 'chair',
    num_candidates: 2,
    chosen: 1,
    scores: [0.25, 0.75],
    frames_per_candidate: 2,
    width: 2,
    height: 1,
    encoding: 'rgb8',
    frames: new Uint8Array(Array.from({ length: 2 * 2 * 1 * 2 * 3 }, (_, i) => 255 - i)),
    candidate_paths: [path(2), path(3)],
    boxes: [-1, -1, -1, -1, 0.5, 0, 1.5, 1],
    sd: [-1, 0.125],
    timings: [{ key: 'sample', value: '0.84' }],
  } satisfies ImaginedTrajectory,
  'video4spatial_nav/action/NavigateToObject_Goal': { object_name: 'chair', execute: true, time_budget_s: 60 },
  'video4spatial_nav/action/NavigateToObject_Result': {
    success: true,
    message: 'reached chair',
    path: path(4),
    object_pose: pose(3, 1),
    plan_time_s: 2.5,
    plans: 3,
    verified_by: 'camera',
    false_arrivals: 1,
  },
  'video4spatial_nav/action/NavigateToObject_Feedback': {
    stage: 'sampling',
    step: 3,
    steps: 8,
    current_plan: path(2),
    distance_remaining: 4.25,
    keyframes_showing: 7,
  } satisfies NavigateToObjectFeedback,
  'nav2_msgs/action/NavigateThroughPoses_Goal': navigateThroughPosesGoal([pose(1, 0), pose(2, 1)], 'jazzy'),
  'nav2_msgs/action/NavigateThroughPoses_Result': { error_code: 9002, error_msg: 'tf error' },
  'nav2_msgs/action/NavigateThroughPoses_Feedback': {
    current_pose: pose(0.5, 0),
    navigation_time: { sec: 3, nanosec: 0 },
    estimated_time_remaining: { sec: 7, nanosec: 500 },
    number_of_recoveries: 1,
    distance_remaining: 2.5,
    number_of_poses_remaining: 2,
  },
};

/** Deep equality where typed arrays equal plain arrays of the same numbers (float32 rounded). */
function normalise(v: unknown): unknown {
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>);
  if (Array.isArray(v)) return v.map(normalise);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalise(x)]));
  return v;
}

/** The sample with every field the sample omitted filled from defaultMessage. */
function withDefaults(type: string, sample: unknown): unknown {
  const merge = (d: unknown, s: unknown): unknown => {
    if (s === undefined) return d;
    if (Array.isArray(s) || ArrayBuffer.isView(s)) {
      const items = Array.from(s as ArrayLike<unknown>);
      if (Array.isArray(d) && d.length === 0 && items.length > 0 && typeof items[0] === 'object') {
        return items; // array of structs: compared after decoding each
      }
      return items;
    }
    if (s && typeof s === 'object' && d && typeof d === 'object') {
      const out: Record<string, unknown> = { ...(d as Record<string, unknown>) };
      for (const [k, v] of Object.entries(s)) out[k] = merge((d as Record<string, unknown>)[k], v);
      return out;
    }
    return s;
  };
  return normalise(merge(defaultMessage(type), sample));
}

describe('ros/messages registry', () => {
  it('has a representative sample for every known type of every distro default', () => {
    assert.deepEqual(
      knownTypes().filter((t) => !(t in SAMPLES)),
      [],
    );
  });

  for (const [type, sample] of Object.entries(SAMPLES)) {
    it(`CDR round trip: ${type}`, () => {
      const bytes = encodeMessage(type, sample);
      assert.deepEqual([...bytes.subarray(0, 4)], [0, 1, 0, 0], 'little-endian CDR encapsulation header');
      const back = decodeMessage(type, bytes);
      const expected = withDefaults(type, sample);
      if (type === 'visualization_msgs/msg/MarkerArray') {
        const m = back as { markers: Array<Record<string, unknown>> };
        assert.equal(m.markers.length, 1);
        assert.equal(m.markers[0]?.text, 'chair');
        assert.deepEqual(normalise(m.markers[0]?.header), normalise(header(5, 'map')));
        return;
      }
      assert.deepEqual(normalise(back), expected);
      // Byte-stable: re-encoding the decoded message gives the same bytes.
      assert.deepEqual(encodeMessage(type, back), bytes);
    });
  }

  it('round trips the Humble and Kilted NavigateThroughPoses shapes', () => {
    const poses = [pose(1, 0), pose(2, 1)];
    const kilted = navigateThroughPosesGoal(poses, 'kilted');
    assert.deepEqual(Object.keys(kilted.poses), ['header', 'goals']);
    const back = decodeMessage<{ poses: { goals: PoseStamped[]; header: { frame_id: string } } }>(
      'nav2_msgs/action/NavigateThroughPoses_Goal',
      encodeMessage('nav2_msgs/action/NavigateThroughPoses_Goal', kilted, 'kilted'),
      'kilted',
    );
    assert.equal(back.poses.goals.length, 2);
    assert.equal(back.poses.header.frame_id, 'map');
    assert.equal(back.poses.goals[1]?.pose.position.x, 2);
    // The Jazzy shape does not fit the Kilted definition, and vice versa.
    assert.throws(() => encodeMessage('nav2_msgs/action/NavigateThroughPoses_Goal', navigateThroughPosesGoal(poses, 'jazzy'), 'kilted'), MessageError);
    assert.throws(() => encodeMessage('nav2_msgs/action/NavigateThroughPoses_Goal', kilted, 'jazzy'), /'poses' must be an array of geometry_msgs\/PoseStamped/);
    const humble = navigateThroughPosesGoal(poses, 'humble');
    assert.ok(Array.isArray(humble.poses));
    encodeMessage('nav2_msgs/action/NavigateThroughPoses_Goal', humble, 'humble');
    assert.deepEqual(decodeMessage('nav2_msgs/action/NavigateThroughPoses_Result', encodeMessage('nav2_msgs/action/NavigateThroughPoses_Result', {}, 'humble'), 'humble'), { result: {} });
    assert.throws(() => encodeMessage('nav2_msgs/action/NavigateThroughPoses_Result', { error_code: 1 }, 'humble'), /error_code' is not in/);
    assert.throws(() => navigateThroughPosesGoal(poses, 'iron' as 'jazzy'), /Unknown ROS distro 'iron'/);
  });

  it('defaults are ROS defaults (identity quaternion, zeros, empty)', () => {
    const p = defaultMessage<PoseStamped>('geometry_msgs/msg/PoseStamped');
    assert.deepEqual(p.pose.orientation, { x: 0, y: 0, z: 0, w: 1 });
    assert.deepEqual(p.header, { stamp: { sec: 0, nanosec: 0 }, frame_id: '' });
    const g = defaultMessage<{ object_name: string; execute: boolean }>('video4spatial_nav/action/NavigateToObject_Goal');
    assert.deepEqual(g, { object_name: '', execute: false, time_budget_s: 0 });
  });
});

describe('ros/messages validation', () => {
  it('a misspelt field fails with the type and the path', () => {
    const bad = { header: header(1, 'map'), poses: [{ header: header(1, 'map'), pose: { positon: { x: 1, y: 0, z: 0 } } }] };
    assert.throws(
      () => encodeMessage('nav_msgs/msg/Path', bad),
      (e: unknown) =>
        e instanceof MessageError &&
        e.code === 'message_invalid' &&
        e.message.includes('nav_msgs/msg/Path') &&
        e.message.includes("'poses[0].pose.positon'") &&
        e.message.includes('position, orientation'),
    );
    assert.throws(() => encodeMessage('video4spatial_nav/action/NavigateToObject_Goal', { object: 'chair' }), /'object' is not in/);
  });

  it('wrong primitive types fail', () => {
    const cases: Array<[string, unknown, RegExp]> = [
      ['std_msgs/msg/String', { data: 5 }, /'data' must be a string, got 5/],
      ['sensor_msgs/msg/Image', { width: 1.5 }, /'width' must be an integer uint32/],
      ['sensor_msgs/msg/Image', { width: -1 }, /'width' must be an integer uint32/],
      ['sensor_msgs/msg/Image', { data: [1, 256] }, /'data\[1\]' must be an integer uint8/],
      ['sensor_msgs/msg/Image', { data: 'abc' }, /'data' must be an array of uint8/],
      ['sensor_msgs/msg/Image', { data: new Float64Array([1.5]) }, /'data\[0\]' must be an integer uint8/],
      ['sensor_msgs/msg/Image', { data: new BigInt64Array(1) }, /cannot hold uint8/],
      ['sensor_msgs/msg/CameraInfo', { k: [1, 2, 3] }, /'k' must have exactly 9 items, got 3/],
      ['video4spatial_nav/action/NavigateToObject_Goal', { execute: 'yes' }, /'execute' must be a bool/],
      ['video4spatial_nav/action/NavigateToObject_Goal', { time_budget_s: '5' }, /'time_budget_s' must be a float64 number/],
      ['std_msgs/msg/Header', { stamp: { sec: 1, nsec: 2 } }, /'stamp.nsec' is not in builtin_interfaces\/Time/],
      ['std_msgs/msg/Header', { stamp: 5 }, /'stamp' must be a builtin_interfaces\/Time object, got 5/],
      ['nav_msgs/msg/Path', { poses: {} }, /'poses' must be an array of geometry_msgs\/PoseStamped/],
      ['nav_msgs/msg/Path', null, /field '\(root\)' must be a/],
      ['rcl_interfaces/msg/Log', { level: 300 }, /'level' must be an integer uint8/],
    ];
    for (const [type, msg, re] of cases) assert.throws(() => encodeMessage(type, msg), re, `${type} ${String(re)}`);
  });

  it('int64/uint64 accept bigint and safe integers, reject the rest (definitions parsed from text)', () => {
    const defs = parse('int64 a\nuint64 b\nuint64[] c\nfoo_msgs/Missing m\n' + '='.repeat(80) + '\nMSG: foo_msgs/Missing\nint8 x\n', { ros2: true });
    defs[0]?.definitions.push({ name: 'w', type: 'float128', isComplex: false, isArray: false });
    const noMissing = defs.filter((d) => d.name !== 'foo_msgs/Missing');
    assert.doesNotThrow(() => validateAgainst('t/msg/T', defs, { a: -5n, b: 2n ** 64n - 1n, c: new BigUint64Array(2) }));
    assert.doesNotThrow(() => validateAgainst('t/msg/T', defs, { a: -5, b: 7 }));
    assert.throws(() => validateAgainst('t/msg/T', defs, { b: -1 }), /t\/msg\/T: field 'b' must be a uint64/);
    assert.throws(() => validateAgainst('t/msg/T', defs, { b: 2n ** 64n }), /'b' must be a uint64/);
    assert.throws(() => validateAgainst('t/msg/T', defs, { a: 1.5 }), /'a' must be a int64/);
    assert.throws(() => validateAgainst('t/msg/T', defs, { c: new Float64Array(1) }), /cannot hold uint64/);
    assert.throws(() => validateAgainst('t/msg/T', defs, { w: 'x' }), /'w' has unsupported primitive type float128/);
    assert.throws(() => validateAgainst('t/msg/T', noMissing, { m: { x: 1 } }), /'m' has type foo_msgs\/Missing, which has no definition/);
    assert.doesNotThrow(() => validateMessage('builtin_interfaces/msg/Time', { sec: -5, nanosec: 0 }));
    assert.throws(() => validateMessage('builtin_interfaces/msg/Time', { sec: 2 ** 31, nanosec: 0 }), /'sec' must be an integer int32/);
  });

  it('registry building guards', () => {
    assert.throws(() => splitActionText('a/action/B', 'int8 x\n---\nint8 y\n'), /a\/action\/B must have 3 sections separated by '---', found 2/);
    assert.deepEqual(splitActionText('a/action/B', 'int8 x\n---\nint8 y\n---\nint8 z\n'), { goal: 'int8 x\n', result: 'int8 y\n', feedback: 'int8 z\n' });
    assert.throws(() => commonText({}, 'std_msgs/Nope', 'jazzy'), /rosmsg-msgs-common \(jazzy\) has no definition of std_msgs\/Nope/);
    assert.throws(
      () => checkDependencies(new Map([['a/msg/B', 'c_msgs/D d\nint8 x # foo_msgs/NotAType\n']]), 'jazzy'),
      /a\/msg\/B \(jazzy\) depends on c_msgs\/msg\/D, which is not registered/,
    );
    assert.doesNotThrow(() => checkDependencies(new Map([['a/msg/B', 'D d\n'], ['a/msg/D', 'string<=5 s\nint8[<=3] v\n']]), 'jazzy'));
  });

  it('unknown types and actions are named', () => {
    assert.throws(() => encodeMessage('foo_msgs/msg/Bar', {}), (e: unknown) => e instanceof MessageError && e.code === 'message_unknown_type' && /'foo_msgs\/msg\/Bar'/.test(e.message));
    assert.throws(() => schemaText('nav2_msgs/action/NavigateThroughPoses'), /is an action: use actionTypes/);
    assert.throws(() => actionTypes('nav2_msgs/action/NavigateToPose'), /Unknown action type 'nav2_msgs\/action\/NavigateToPose'/);
    assert.throws(() => knownTypes('foxy' as 'jazzy'), /Unknown ROS distro 'foxy'/);
  });

  it('decode rejects bytes that are not CDR of the type', () => {
    assert.throws(() => decodeMessage('std_msgs/msg/String', new Uint8Array([1, 2])), /not CDR/);
    assert.throws(() => decodeMessage('std_msgs/msg/String', new Uint8Array([0, 1, 0, 0, 200, 0, 0, 0, 65])), (e: unknown) => e instanceof MessageError && e.code === 'message_decode');
  });
});

describe('ros/messages schema text and names', () => {
  it('own interfaces: embedded text equals msg/ files', () => {
    assert.equal(NAVIGATE_TO_OBJECT_ACTION, readFileSync(join(ROOT, 'msg', 'NavigateToObject.action'), 'utf8'));
    assert.equal(IMAGINED_TRAJECTORY_MSG, readFileSync(join(ROOT, 'msg', 'ImaginedTrajectory.msg'), 'utf8'));
  });

  it('NavigateToObject has the agreed fields', () => {
    const names = (t: string) => (parse(schemaText(t), { ros2: true })[0]?.definitions ?? []).filter((f) => !f.isConstant).map((f) => `${f.type}${f.isArray ? '[]' : ''} ${f.name}`);
    const a = actionTypes(TYPES.NavigateToObject);
    assert.deepEqual(names(a.goal), ['string object_name', 'bool execute', 'float64 time_budget_s']);
    assert.deepEqual(names(a.result), ['bool success', 'string message', 'nav_msgs/Path path', 'geometry_msgs/PoseStamped object_pose', 'float64 plan_time_s', 'uint32 plans', 'string verified_by', 'uint32 false_arrivals']);
    assert.deepEqual(names(a.feedback), ['string stage', 'uint32 step', 'uint32 steps', 'nav_msgs/Path current_plan', 'float64 distance_remaining', 'uint32 keyframes_showing']);
    assert.deepEqual(names(TYPES.ImaginedTrajectory), [
      'std_msgs/Header header', 'string object_name', 'uint32 num_candidates', 'uint32 chosen', 'float32[] scores', 'uint32 frames_per_candidate',
      'uint32 width', 'uint32 height', 'string encoding', 'uint8[] frames', 'nav_msgs/Path[] candidate_paths', 'float32[] boxes', 'float32[] sd',
      'diagnostic_msgs/KeyValue[] timings',
    ]);
  });

  it('schema text is rosbag2 ros2msg: root, then ==== / MSG: pkg/Name per dependency, once each', () => {
    const text = schemaText('nav_msgs/msg/Path');
    const sections = text.split(`${'='.repeat(80)}\n`);
    assert.equal(sections[0], 'std_msgs/Header header\ngeometry_msgs/PoseStamped[] poses\n');
    const names = sections.slice(1).map((s) => s.split('\n')[0]);
    assert.deepEqual(names, [
      'MSG: std_msgs/Header',
      'MSG: builtin_interfaces/Time',
      'MSG: geometry_msgs/PoseStamped',
      'MSG: geometry_msgs/Pose',
      'MSG: geometry_msgs/Point',
      'MSG: geometry_msgs/Quaternion',
    ]);
    assert.equal(schemaText('nav_msgs/Path'), text, "'pkg/Name' is accepted");
    // It parses back into the same field lists the codec uses.
    for (const t of knownTypes()) assert.ok(parse(schemaText(t), { ros2: true }).length >= 1, t);
  });

  it('type names', () => {
    assert.equal(normalizeType('std_msgs/String'), 'std_msgs/msg/String');
    assert.equal(normalizeType('std_msgs/msg/String'), 'std_msgs/msg/String');
    assert.deepEqual(actionTypes(TYPES.NavigateThroughPoses), {
      goal: 'nav2_msgs/action/NavigateThroughPoses_Goal',
      result: 'nav2_msgs/action/NavigateThroughPoses_Result',
      feedback: 'nav2_msgs/action/NavigateThroughPoses_Feedback',
    });
    assert.deepEqual(knownActions(), ['nav2_msgs/action/NavigateThroughPoses', 'video4spatial_nav/action/NavigateToObject']);
    for (const d of ROS_DISTROS) for (const t of Object.values(TYPES)) if (!t.includes('/action/')) assert.ok(knownTypes(d).includes(t), `${d} ${t}`);
  });

  it('time conversions', () => {
    assert.deepEqual(timeFromNs(1_500_000_001n), { sec: 1, nanosec: 500_000_001 });
    assert.deepEqual(timeFromNs(-1n), { sec: -1, nanosec: 999_999_999 });
    assert.equal(timeToNs({ sec: -1, nanosec: 999_999_999 }), -1n);
    assert.equal(timeToNs(timeFromNs(1_732_000_000_123_456_789n)), 1_732_000_000_123_456_789n);
    assert.throws(() => timeFromNs(1n << 62n), /does not fit builtin_interfaces\/Time/);
  });
});
