import { strict as assert } from 'node:assert';
import type { Path, Image } from '../../src/ros/messages/types.js';
import { checkPath, clampPose, NAV2_GOAL_POSE_ONLY, resamplePoses } from '../../src/ros/Video4SpatialNode.js';
import { judge } from '../../src/sim/judge.js';
import { MODEL_CAMERA_DEFAULT } from '../../src/sim/camera.js';
import { explore, holdingNav2, setup } from './harness.js';

describe('ros/Video4SpatialNode', function () {
  this.timeout(120000);

  it('rejects goals with a reason: no context yet, unknown object (listing the vocabulary), empty name', async () => {
    const s = setup(100);
    const h = await s.client.sendGoal({ object_name: 'chair', execute: false, time_budget_s: 0 });
    assert.equal(h.accepted, false);
    assert.match(h.rejectReason ?? '', /no context yet: no camera keyframe received on \/camera\/image_raw/);
    s.robot.publishFrame();
    await s.bus.flush();
    await s.node.ingest.idle();
    const u = await s.client.sendGoal({ object_name: 'unicorn', execute: false, time_budget_s: 0 });
    assert.match(u.rejectReason ?? '', /unknown object 'unicorn' \(the model knows: chair, table, sofa/);
    const e = await s.client.sendGoal({ object_name: '  ', execute: false, time_budget_s: 0 });
    assert.match(e.rejectReason ?? '', /empty object_name/);
    const b = await s.client.sendGoal({ object_name: 'chair', execute: false, time_budget_s: -1 });
    assert.match(b.rejectReason ?? '', /time_budget_s must be >= 0, got -1/);
  });

  it('plan-only goal: feedback per stage, a framed and stamped path, imagined frames published', async () => {
    const s = setup(101);
    await explore(s);
    const paths: Path[] = [];
    const imagined: Image[] = [];
    const obs = s.bus.node({ name: 'viewer' });
    obs.createSubscription<Path>('/video4spatial_nav/plan', 'nav_msgs/msg/Path', 'default', (p) => paths.push(p));
    obs.createSubscription<Image>('/video4spatial_nav/imagined', 'sensor_msgs/msg/Image', 'default', (i) => imagined.push(i));
    const stages: string[] = [];
    const h = await s.client.sendGoal({ object_name: s.sc.target.category, execute: false, time_budget_s: 0 }, (f) => stages.push(f.stage));
    assert.ok(h.accepted, h.rejectReason);
    const out = await h.result;
    await s.bus.flush();
    assert.equal(out.status, 'succeeded');
    assert.ok(stages.includes('denoising') && stages.includes('extract'), stages.join(','));
    assert.equal(paths.length, 1);
    const p = paths[0] as Path;
    assert.equal(p.header.frame_id, 'map');
    assert.ok(p.poses.length >= 1 && p.poses.every((q) => q.header.frame_id === 'map'));
    assert.equal(imagined.length, 6);
  });

  it('closed loop with a perfect imagination: Nav2 drives the robot to the object', async () => {
    const s = setup(101);
    await explore(s);
    const h = await s.client.sendGoal({ object_name: s.sc.target.category, execute: true, time_budget_s: 0 });
    assert.ok(h.accepted, h.rejectReason);
    const out = await h.result;
    assert.equal(out.status, 'succeeded', out.status);
    assert.ok((s.nav?.goalsReceived ?? 0) >= 1);
    const j = judge(s.sc.world, s.sc.target, s.robot.pose, MODEL_CAMERA_DEFAULT);
    assert.ok(j.success, `ground truth says: ${JSON.stringify(j)}`);
  });

  it('cancel during planning ends the goal canceled and the node takes the next goal', async () => {
    const s = setup(102);
    await explore(s);
    const h = await s.client.sendGoal({ object_name: s.sc.target.category, execute: true, time_budget_s: 0 }, (f) => {
      if (f.stage === 'denoising') void h2cancel();
    });
    let cancelled = false;
    async function h2cancel() {
      if (!cancelled) {
        cancelled = true;
        await h.cancel();
      }
    }
    const out = await h.result;
    assert.equal(out.status, 'canceled');
    const again = await s.client.sendGoal({ object_name: s.sc.target.category, execute: false, time_budget_s: 0 });
    assert.equal((await again.result).status, 'succeeded');
  });

  it('a new goal preempts the running one, which ends with the reason; the new one runs', async () => {
    const s = setup(102);
    await explore(s);
    const first = await s.client.sendGoal({ object_name: s.sc.target.category, execute: true, time_budget_s: 0 });
    assert.ok(first.accepted);
    await s.bus.spinUntil(() => (s.nav?.goalsReceived ?? 0) > 0, { timeoutMs: 60000, what: 'the first goal driving' });
    const second = await s.client.sendGoal({ object_name: s.sc.target.category, execute: false, time_budget_s: 0 });
    assert.ok(second.accepted);
    const a = await first.result;
    assert.notEqual(a.status, 'succeeded');
    assert.ok(a.status !== 'rejected' && /preempted/.test(a.result.message), JSON.stringify(a.status !== 'rejected' ? a.result.message : a));
    assert.equal((await second.result).status, 'succeeded');
  });

  it('the ~/goal_object topic starts the same flow; teleop pauses it until the operator stops driving', async () => {
    const s = setup(103);
    const set = s.nodeGraph.setParameters([{ name: "execute_default", value: false }]);
    assert.ok(set.successful, set.reason);
    await explore(s);
    const op = s.bus.node({ name: 'teleop' });
    const paths: Path[] = [];
    op.createSubscription<Path>('/video4spatial_nav/plan', 'nav_msgs/msg/Path', 'default', (p) => paths.push(p));
    const twist = op.createPublisher<{ linear: { x: number; y: number; z: number }; angular: { x: number; y: number; z: number } }>('/cmd_vel_teleop', 'geometry_msgs/msg/Twist', 'default');
    twist.publish({ linear: { x: 0.2, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } });
    await s.bus.flush();
    const goal = op.createPublisher<{ data: string }>('/video4spatial_nav/goal_object', 'std_msgs/msg/String', 'default');
    goal.publish({ data: s.sc.target.category });
    await s.bus.flush();
    await new Promise((r) => setTimeout(r, 300));
    await s.bus.flush();
    assert.equal(paths.length, 0, 'paused while the operator drives');
    s.clock.advance(4_000_000_000n); // teleop_pause_s = 3 s of graph time passes
    await s.bus.spinUntil(() => paths.length > 0, { timeoutMs: 60000, what: 'a plan after the teleop pause' });
    assert.equal(paths[0]?.header.frame_id, 'map');
  });

  it('path helpers: resample, clamp, and the publish invariant', () => {
    const r = resamplePoses([{ x: 0, y: 0, yaw: 0 }, { x: 2, y: 0, yaw: 1 }], 0.5);
    assert.deepEqual(r.map((p) => p.x), [0.5, 1, 1.5, 2]);
    assert.equal(r[r.length - 1]?.yaw, 1);
    assert.deepEqual(clampPose({ x: 10, y: 0, yaw: 0 }, { x: 0, y: 0, yaw: 0 }, 4), { x: 4, y: 0, yaw: 0 });
    const mk = (x: number, frame = 'map') => ({ header: { stamp: { sec: 1, nanosec: 0 }, frame_id: frame }, pose: { position: { x, y: 0, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } } });
    assert.equal(checkPath({ header: { stamp: { sec: 1, nanosec: 0 }, frame_id: 'map' }, poses: [mk(1)] }, { x: 0, y: 0, yaw: 0 }, 8), undefined);
    assert.match(checkPath({ header: { stamp: { sec: 1, nanosec: 0 }, frame_id: 'map' }, poses: [mk(NaN)] }, { x: 0, y: 0, yaw: 0 }, 8) ?? '', /not finite/);
    assert.match(checkPath({ header: { stamp: { sec: 1, nanosec: 0 }, frame_id: 'map' }, poses: [mk(9)] }, { x: 0, y: 0, yaw: 0 }, 8) ?? '', /beyond max_plan_distance_m 8/);
    assert.match(checkPath({ header: { stamp: { sec: 1, nanosec: 0 }, frame_id: '' }, poses: [] }, { x: 0, y: 0, yaw: 0 }, 8) ?? '', /without frame_id/);
    assert.match(checkPath({ header: { stamp: { sec: 1, nanosec: 0 }, frame_id: 'map' }, poses: [mk(1, '')] }, { x: 0, y: 0, yaw: 0 }, 8) ?? '', /pose 0 has no frame_id/);
  });

  it('shutdown (SIGINT): the running goal ends CANCELED with the reason, Nav2 receives a cancel, then the node is destroyed; new goals are refused; idempotent', async () => {
    const s = setup(102, { nav2: 'none' });
    await explore(s);
    const nodeServer = '/video4spatial_nav/navigate_to_object';
    let lateGoal: ReturnType<typeof s.client.sendGoal> | undefined;
    const nav2 = holdingNav2(s, () => {
      nav2.events.push(`node server up: ${s.bus.server(nodeServer) !== undefined}`);
      lateGoal = s.client.sendGoal({ object_name: s.sc.target.category, execute: false, time_budget_s: 0 });
    });
    const h = await s.client.sendGoal({ object_name: s.sc.target.category, execute: true, time_budget_s: 0 });
    assert.ok(h.accepted, h.rejectReason);
    await s.bus.spinUntil(() => nav2.goals.length > 0, { timeoutMs: 60000, what: 'a Nav2 leg' });
    const report = await s.node.shutdown('SIGINT');
    const out = await h.result;
    assert.equal(out.status, 'canceled', JSON.stringify(out.status !== 'rejected' ? [out.status, out.reason, out.result.message] : out));
    assert.equal(out.reason, 'shutdown');
    assert.match(out.result.message, /^canceled \(shutdown\) after 1 plan\(s\)$/);
    assert.equal(out.result.path.poses.length > 0, true, 'the last plan is kept in the result');
    assert.deepEqual(nav2.events, ['goal request', 'goal', 'cancel requested', 'node server up: true', 'stopped: cancel']);
    assert.equal(s.bus.server(nodeServer), undefined, 'the node is destroyed after');
    assert.deepEqual(report, { reason: 'SIGINT', goalsStopped: 1, goalsForced: 0, cancelsSent: 0, cancelsAcknowledged: 0, cancelsRefused: 0 }, 'the goal cancelled its own leg: nothing left to cancel');
    assert.equal(s.node.stats.canceled, 1);
    const late = await lateGoal;
    assert.equal(late?.accepted, false);
    assert.match(late?.rejectReason ?? '', /the action server is shutting down \(SIGINT\)/);
    assert.equal(await s.node.shutdown('SIGTERM'), report, 'idempotent');
    s.node.close();
    assert.ok(s.lines.some((l) => l.includes('video4spatial_nav: shutting down (SIGINT)')), s.lines.join('\n'));
  });

  it('shutdown while the Nav2 goal request is on its way: the leg is cancelled as soon as Nav2 accepts it', async () => {
    const s = setup(102, { nav2: 'none' });
    await explore(s);
    let shutdown: ReturnType<typeof s.node.shutdown> | undefined;
    // the goal request has reached Nav2, its answer has not reached the node: stop the node now
    const nav2 = holdingNav2(s, undefined, () => void (shutdown ??= s.node.shutdown('SIGTERM')));
    const h = await s.client.sendGoal({ object_name: s.sc.target.category, execute: true, time_budget_s: 0 });
    const out = await h.result;
    const report = await shutdown;
    assert.equal(out.status, 'canceled');
    assert.equal(out.reason, 'shutdown', 'ended by the node, not forced by the graph');
    assert.deepEqual(nav2.events, ['goal request', 'goal', 'cancel requested', 'stopped: cancel']);
    assert.equal(report?.goalsForced, 0);
  });

  it(`Nav2 is sent the plan's goal pose only, the last pose of ~/plan, facing the object (${NAV2_GOAL_POSE_ONLY.slice(0, 40)}…)`, async () => {
    const s = setup(101, { nav2: 'none', parameters: { waypoint_spacing_m: 0.25 } });
    await explore(s);
    const nav2 = holdingNav2(s);
    const paths: Path[] = [];
    s.bus.node({ name: 'viewer' }).createSubscription<Path>('/video4spatial_nav/plan', 'nav_msgs/msg/Path', 'default', (p) => paths.push(p));
    const h = await s.client.sendGoal({ object_name: s.sc.target.category, execute: true, time_budget_s: 0 });
    assert.ok(h.accepted, h.rejectReason);
    await s.bus.spinUntil(() => nav2.goals.length > 0 && paths.length > 0, { timeoutMs: 60000, what: 'a Nav2 leg and its plan' });
    const plan = paths[0] as Path;
    const sent = nav2.goals[0] as { poses: Path['poses'] };
    assert.ok(plan.poses.length >= 3, `~/plan has the spaced poses (${plan.poses.length})`);
    const [a, b] = plan.poses as [Path['poses'][number], Path['poses'][number]];
    assert.ok(Math.abs(Math.hypot(b.pose.position.x - a.pose.position.x, b.pose.position.y - a.pose.position.y) - 0.25) < 1e-6, 'spaced by waypoint_spacing_m');
    assert.equal(sent.poses.length, 1);
    assert.deepEqual(sent.poses[0], plan.poses[plan.poses.length - 1]);
    await s.node.shutdown('test over');
    assert.equal((await h.result).status, 'canceled');
  });
});

