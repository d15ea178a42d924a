import { strict as assert } from 'node:assert';
import { yawToQuaternion } from '../../src/core/geometry.js';
import { SimClock } from '../../src/ros/clock.js';
import { InProcessBus } from '../../src/ros/InProcessGraph.js';
import { navigateThroughPosesGoal, timeFromNs } from '../../src/ros/messages/index.js';
import type { CameraInfo, Image, NavigateThroughPosesFeedback, NavigateThroughPosesGoal, NavigateThroughPosesResult, TFMessage } from '../../src/ros/messages/types.js';
import { SIM_CAMERA, SILENT_LOGGER } from '../../src/sim/graphMission.js';
import { SimNav2, SimRobot } from '../../src/sim/rosSim.js';
import { makeScenario } from '../../src/sim/scenario.js';

function setup(seed = 104) {
  const sc = makeScenario(seed);
  const clock = new SimClock(1_000_000_000n);
  const bus = new InProcessBus({ clock, logger: SILENT_LOGGER });
  const g = bus.node({ name: 'sim', logger: SILENT_LOGGER });
  const robot = new SimRobot(g, sc.world, SIM_CAMERA, sc.start);
  const nav = new SimNav2(g, robot, clock, { dt: 0.2, framesEvery: 1, afterStep: () => bus.flush() });
  const client = bus.node({ name: 'c', logger: SILENT_LOGGER }).createActionClient<NavigateThroughPosesGoal, NavigateThroughPosesFeedback, NavigateThroughPosesResult>('/navigate_through_poses', 'nav2_msgs/action/NavigateThroughPoses');
  const goalTo = (x: number, y: number, yaw: number, frame = 'map') =>
    navigateThroughPosesGoal([{ header: { stamp: timeFromNs(clock.now()), frame_id: frame }, pose: { position: { x, y, z: 0 }, orientation: yawToQuaternion(yaw) } }], 'jazzy') as NavigateThroughPosesGoal;
  return { sc, clock, bus, robot, nav, client, goalTo };
}

describe('sim/rosSim: SimRobot and SimNav2 on the graph', function () {
  this.timeout(60000);

  it('the robot publishes camera, camera_info (ROS pixel convention), /tf and a latched /tf_static', async () => {
    const s = setup();
    const got: { img?: Image; info?: CameraInfo; tf?: TFMessage; st?: TFMessage } = {};
    const o = s.bus.node({ name: 'o', logger: SILENT_LOGGER });
    s.robot.publishFrame();
    o.createSubscription<Image>('/camera/image_raw', 'sensor_msgs/msg/Image', 'sensor_data', (m) => (got.img = m));
    o.createSubscription<CameraInfo>('/camera/camera_info', 'sensor_msgs/msg/CameraInfo', 'sensor_data', (m) => (got.info = m));
    o.createSubscription<TFMessage>('/tf', 'tf2_msgs/msg/TFMessage', 'tf', (m) => (got.tf = m));
    o.createSubscription<TFMessage>('/tf_static', 'tf2_msgs/msg/TFMessage', 'tf_static', (m) => (got.st = m));
    s.robot.publishFrame();
    await s.bus.flush();
    assert.equal(got.img?.encoding, 'rgb8');
    assert.equal(got.img?.step, SIM_CAMERA.width * 3);
    assert.equal(got.img?.header.frame_id, 'camera_optical_frame');
    assert.equal(got.info?.k[2], SIM_CAMERA.cx - 0.5);
    assert.deepEqual(got.tf?.transforms.map((t) => `${t.header.frame_id}>${t.child_frame_id}`), ['map>odom', 'odom>base_link']);
    assert.equal(got.tf?.transforms[1]?.transform.translation.x, s.sc.start.x);
    assert.equal(got.st?.transforms[0]?.child_frame_id, 'camera_optical_frame', 'late subscriber gets the latched static transform');
  });

  it('reaches a goal, with feedback and camera frames on the way, never through an obstacle', async () => {
    const s = setup();
    let feedback = 0;
    const h = await s.client.sendGoal(s.goalTo(s.sc.standoff.x, s.sc.standoff.y, s.sc.standoff.yaw), () => feedback++);
    assert.ok(h.accepted);
    const out = await h.result;
    assert.equal(out.status, 'succeeded');
    assert.ok(feedback > 5);
    assert.ok(Math.hypot(s.robot.pose.x - s.sc.standoff.x, s.robot.pose.y - s.sc.standoff.y) < 0.1);
    assert.ok(s.robot.frames > 5);
  });

  it('follows on from where something else moved the robot (teleop), never back to its old path', async () => {
    const s = setup();
    const moved = { x: s.sc.start.x, y: s.sc.start.y, yaw: s.sc.start.yaw + 0.3 };
    const seen: { x: number; y: number }[] = [];
    let n = 0;
    const h = await s.client.sendGoal(s.goalTo(s.sc.standoff.x, s.sc.standoff.y, s.sc.standoff.yaw), (f) => {
      seen.push({ x: f.current_pose.pose.position.x, y: f.current_pose.pose.position.y });
      // an operator drives it back to the start (between two steps, as the live simulator's teleop does)
      if (++n === 6) assert.ok(s.robot.moveTo(moved));
    });
    assert.equal((await h.result).status, 'succeeded');
    assert.equal(s.nav.followedOn, 1);
    assert.ok(Math.hypot(s.robot.pose.x - s.sc.standoff.x, s.robot.pose.y - s.sc.standoff.y) < 0.1);
    // the first step after the move starts from the moved-to pose: no jump back to the old path
    const after = seen[6] as { x: number; y: number };
    assert.ok(Math.hypot(after.x - moved.x, after.y - moved.y) <= 0.5 * 0.2 + 1e-9, `first step after the move is ${JSON.stringify(after)}, moved to ${JSON.stringify(moved)}`);
  });

  it('cancels on request', async () => {
    const s = setup();
    let h: Awaited<ReturnType<typeof s.client.sendGoal>> | undefined;
    let n = 0;
    h = await s.client.sendGoal(s.goalTo(s.sc.standoff.x, s.sc.standoff.y, 0), () => {
      if (++n === 3) void h?.cancel();
    });
    const out = await h.result;
    assert.equal(out.status, 'canceled');
    assert.ok(Math.hypot(s.robot.pose.x - s.sc.standoff.x, s.robot.pose.y - s.sc.standoff.y) > 0.1, 'stopped before the goal');
  });

  it('aborts with a reason when there is no path, or the frame is not map; rejects an empty goal', async () => {
    const s = setup();
    const far = await s.client.sendGoal(s.goalTo(100, 100, 0));
    const o1 = await far.result;
    assert.equal(o1.status, 'aborted');
    assert.match(o1.status === 'aborted' ? (o1.result.error_msg ?? '') : '', /no path to pose 0 \(100\.00, 100\.00\)/);
    const odom = await s.client.sendGoal(s.goalTo(s.sc.standoff.x, s.sc.standoff.y, 0, 'odom'));
    const o2 = await odom.result;
    assert.match(o2.status === 'aborted' ? (o2.result.error_msg ?? '') : '', /frame 'odom'/);
    const empty = await s.client.sendGoal(navigateThroughPosesGoal([], 'jazzy') as NavigateThroughPosesGoal);
    assert.equal(empty.accepted, false);
    assert.match(empty.rejectReason ?? '', /no poses/);
  });

  it('moveTo refuses a pose in collision', () => {
    const s = setup();
    const w = s.sc.world.boxes.find((b) => b.objectId === 0);
    assert.ok(w);
    assert.equal(s.robot.moveTo({ x: (w.x0 + w.x1) / 2, y: (w.y0 + w.y1) / 2, yaw: 0 }), false);
    assert.deepEqual(s.robot.pose, s.sc.start);
  });
});
