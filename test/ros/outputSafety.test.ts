/**
 * Output safety: checkPath is the invariant on every path the node publishes or sends. A hostile
 * planner (test double: NaN, infinities, absurd distances, wrong indices and sizes) tries to break
 * it while a tap on the bus decodes everything the node publishes, and every action result,
 * feedback and Nav2 goal is checked too: nothing non-finite, unframed, unstamped or beyond
 * max_plan_distance_m of the robot may come out.
 */
import { strict as assert } from 'node:assert';
import type { Pose2D } from '../../src/core/geometry.js';
import type { PlanResult } from '../../src/core/planner/planToObject.js';
import { Rng } from '../../src/core/rng.js';
import { cameraFromFov } from '../../src/core/camera.js';
import { InProcessBus } from '../../src/ros/InProcessGraph.js';
import { decodeMessage } from '../../src/ros/messages/index.js';
import type {
  Image,
  ImaginedTrajectory,
  NavigateThroughPosesFeedback,
  NavigateThroughPosesGoal,
  NavigateThroughPosesResult,
  NavigateToObjectFeedback,
  NavigateToObjectGoal,
  NavigateToObjectResult,
  Path,
  PoseStamped,
} from '../../src/ros/messages/types.js';
import { NAV2_TYPE, Video4SpatialNode, type Planner } from '../../src/ros/Video4SpatialNode.js';
import { makeScenario } from '../../src/sim/scenario.js';
import { goalPoses, SimRobot } from '../../src/sim/rosSim.js';
import { explore, lineLogger, MANIFEST, FaultyModel, GroundTruthImagination, planOf, setup, type Harness } from './harness.js';

const MAX_M = 3;

/** Every violation of the output invariant found in `value` (a decoded message), with its path. */
function nonFinite(value: unknown, path: string, out: string[]): void {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) out.push(`${path} = ${value}`);
  } else if (value instanceof Float32Array || value instanceof Float64Array || Array.isArray(value)) {
    Array.from(value as ArrayLike<unknown>).forEach((v, i) => nonFinite(v, `${path}[${i}]`, out));
  } else if (value && typeof value === 'object' && !ArrayBuffer.isView(value)) {
    for (const [k, v] of Object.entries(value)) nonFinite(v, path ? `${path}.${k}` : k, out);
  }
}

function checkStamped(h: { stamp: { sec: number; nanosec: number }; frame_id: string }, where: string, out: string[]): void {
  if (h.frame_id !== 'map') out.push(`${where}: frame_id '${h.frame_id}'`);
  if (h.stamp.sec === 0 && h.stamp.nanosec === 0) out.push(`${where}: no stamp`);
}

function checkPathOut(p: Path, origin: Pose2D, where: string, out: string[]): void {
  checkStamped(p.header, where, out);
  nonFinite(p, where, out);
  p.poses.forEach((q, i) => {
    checkStamped(q.header, `${where}.poses[${i}]`, out);
    const o = q.pose.orientation;
    if (Math.abs(Math.hypot(o.x, o.y, o.z, o.w) - 1) > 1e-3) out.push(`${where}.poses[${i}]: quaternion norm ${Math.hypot(o.x, o.y, o.z, o.w)}`);
    const d = Math.hypot(q.pose.position.x - origin.x, q.pose.position.y - origin.y);
    if (!(d <= MAX_M + 1e-6)) out.push(`${where}.poses[${i}]: ${d} m from the robot`);
  });
}

/** Taps the bus and checks everything the node publishes; returns the violations and counts. */
function watch(bus: InProcessBus, origin: () => Pose2D) {
  const violations: string[] = [];
  const count: Record<string, number> = {};
  bus.onAnyMessage((topic, type, bytes) => {
    if (!topic.startsWith('/video4spatial_nav/') && topic !== '/diagnostics') return;
    count[topic] = (count[topic] ?? 0) + 1;
    const msg = decodeMessage(type, bytes);
    nonFinite(msg, topic, violations);
    if (topic === '/video4spatial_nav/plan') checkPathOut(msg as Path, origin(), topic, violations);
    if (topic === '/video4spatial_nav/object_pose') checkStamped((msg as PoseStamped).header, topic, violations);
    if (topic === '/video4spatial_nav/imagined') {
      const im = msg as Image;
      if (im.step !== im.width * 3 || im.data.length !== im.step * im.height) violations.push(`${topic}: ${im.width}×${im.height} step ${im.step} with ${im.data.length} bytes`);
    }
    if (topic === '/video4spatial_nav/imagined_trajectory') {
      const t = msg as ImaginedTrajectory;
      if (!(t.chosen < t.num_candidates) || t.scores.length !== t.num_candidates || t.frames.length !== t.num_candidates * t.frames_per_candidate * t.width * t.height * 3) {
        violations.push(`${topic}: chosen ${t.chosen} of ${t.num_candidates}, ${t.scores.length} scores, ${t.frames.length} frame bytes`);
      }
      t.candidate_paths.forEach((c, i) => checkStamped(c.header, `${topic}.candidate_paths[${i}]`, violations));
    }
  });
  return { violations, count };
}

/** Unit-test double: a Nav2 that accepts and succeeds at once, recording the goals. */
function recordingNav2(bus: InProcessBus): PoseStamped[][] {
  const goals: PoseStamped[][] = [];
  bus.node({ name: 'nav2_double' }).createActionServer<NavigateThroughPosesGoal, NavigateThroughPosesFeedback, NavigateThroughPosesResult>('/navigate_through_poses', NAV2_TYPE, {
    execute: async (h) => {
      goals.push(goalPoses(h.goal));
      h.succeed({ error_code: 0, error_msg: '' });
    },
  });
  return goals;
}

const SIZE = 64 * 64 * 3;

/** Random hostile plans: NaN, ±Infinity, ±1e308, huge and tiny numbers, wrong indices and sizes. */
function hostilePlan(rng: Rng, object: string, robot: Pose2D): PlanResult {
  const wild = () => rng.pick([Number.NaN, Infinity, -Infinity, 1e308, -1e308, 1e6, -0, 5e-324, rng.uniform(-10, 10), rng.uniform(-10, 10)]);
  const near = (): Pose2D => ({ x: robot.x + rng.uniform(-2 * MAX_M, 2 * MAX_M), y: robot.y + rng.uniform(-2 * MAX_M, 2 * MAX_M), yaw: rng.uniform(-10, 10) });
  const pose = (): Pose2D => (rng.next() < 0.5 ? near() : { x: wild(), y: wild(), yaw: wild() });
  const M = rng.int(1, 3);
  const sizesOk = rng.next() < 0.7;
  const candidates = Array.from({ length: M }, () => {
    const b = { x0: wild(), y0: wild(), x1: wild(), y1: wild(), cx: wild(), cy: wild() };
    return {
      frames: Array.from({ length: sizesOk ? 6 : rng.int(0, 7) }, () => new Uint8Array(sizesOk ? SIZE : rng.int(0, SIZE + 9))),
      contextIndices: [],
      chain: { poses: [], links: [], minConfidence: 0 },
      goal: { goal: pose(), source: 'anchor', goalScore: wild(), anchors: [], boxes: rng.next() < 0.5 ? [] : [b], sdLast: wild(), object: undefined, poses: rng.next() < 0.3 ? undefined : Array.from({ length: rng.int(0, 6) }, pose), confidence: wild() },
      score: { score: wild(), breakdown: { box: 0, centred: 0, anchor: 0, vo: 0, plausible: 0 }, reasons: [], sd: undefined, pathLengthM: undefined },
    };
  }) as unknown as PlanResult['candidates'];
  return {
    ...planOf(object, { goal: pose(), start: rng.next() < 0.5 ? robot : pose(), candidates, chosen: rng.pick([0, M - 1, M, -1, Number.NaN, 0.5]) }),
    objectXY: rng.next() < 0.3 ? undefined : { x: rng.next() < 0.5 ? robot.x + 1 : wild(), y: wild() },
    timings: { sampleMs: wild(), encodeMs: wild(), denoiseMs: 0, perStepMs: [wild()], decodeMs: 0, extractMs: 0, totalMs: wild() } as unknown as PlanResult['timings'],
  };
}

type Outcome = Awaited<Awaited<ReturnType<Harness['client']['sendGoal']>>['result']>;

describe('output safety: nothing bad is ever published', function () {
  this.timeout(60000);

  let next: (robot: Pose2D) => PlanResult = () => {
    throw new Error('no plan set');
  };
  const planner: Planner = async (deps, req, hooks) => {
    hooks?.onStep?.(1, 1);
    const newest = deps.buffer.newest;
    assert.ok(newest);
    return next(newest.pose);
  };

  async function run(s: Harness, goal: NavigateToObjectGoal, seen: { feedback: NavigateToObjectFeedback[] }): Promise<Outcome> {
    const h = await s.client.sendGoal(goal, (f) => seen.feedback.push(f));
    assert.ok(h.accepted, h.rejectReason);
    return h.result;
  }

  it('NaN goal, far goal, NaN object, wrong candidate index and frame sizes: each refused or made safe, with the reason', async () => {
    const s = setup(109, { nav2: 'none', planner, parameters: { max_plan_distance_m: MAX_M, waypoint_spacing_m: 0.5, arrival_distance_m: 0.5 } });
    const nav2Goals = recordingNav2(s.bus);
    await explore(s, 15);
    const robot = () => s.node.ingest.buffer.newest?.pose as Pose2D;
    const w = watch(s.bus, robot);
    const seen = { feedback: [] as NavigateToObjectFeedback[] };
    const object = s.sc.target.category;
    const r0 = robot();

    next = (r) => planOf(object, { goal: { x: Number.NaN, y: r.y, yaw: 0 }, start: r });
    let out = await run(s, { object_name: object, execute: true, time_budget_s: 0 }, seen);
    assert.equal(out.status, 'aborted');
    assert.match((out as { result: NavigateToObjectResult }).result.message, /^refusing to publish an unsafe plan: pose \d+ is not finite \(NaN, /);
    assert.equal((out as { result: NavigateToObjectResult }).result.path.poses.length, 0, 'no unsafe path in the result');
    assert.equal(w.count['/video4spatial_nav/plan'] ?? 0, 0, 'nothing on ~/plan');
    assert.equal(nav2Goals.length, 0, 'nothing sent to Nav2');

    next = (r) => planOf(object, { goal: { x: r.x + 1e6, y: r.y - 1e6, yaw: 1 }, start: { x: 1e9, y: -1e9, yaw: 0 }, objectXY: { x: Number.NaN, y: 0 } });
    out = await run(s, { object_name: object, execute: false, time_budget_s: 0 }, seen);
    assert.equal(out.status, 'succeeded');
    const res = (out as { result: NavigateToObjectResult }).result;
    const last = res.path.poses.at(-1)?.pose.position;
    assert.ok(last && Math.abs(Math.hypot(last.x - r0.x, last.y - r0.y) - MAX_M) < 1e-6, 'a far goal is cut at max_plan_distance_m from the robot, whatever the planner says its start is');
    assert.equal(res.object_pose.header.frame_id, '', 'a NaN object estimate is dropped: unknown');
    assert.equal(w.count['/video4spatial_nav/object_pose'] ?? 0, 0);
    assert.equal(s.node.stats.refusedOutputs['object_pose'], 1);

    next = (r) => ({ ...planOf(object, { goal: { x: r.x + 1, y: r.y, yaw: 0 }, start: r, objectXY: { x: r.x + 1.5, y: r.y } }), chosen: 3 });
    out = await run(s, { object_name: object, execute: false, time_budget_s: 0 }, seen);
    assert.equal(out.status, 'succeeded', 'a wrong candidate index costs the pictures, not the plan');
    assert.equal(s.node.stats.refusedOutputs['imagined'], 1);
    assert.ok(s.lines.some((l) => l === 'warn: not publishing imagined: the chosen candidate 3 is not one of the 1 candidates'));

    next = (r) => planOf(object, { goal: { x: r.x + 2, y: r.y + 1, yaw: 0 }, start: r, objectXY: { x: r.x + 2.5, y: r.y + 1 } });
    out = await run(s, { object_name: object, execute: true, time_budget_s: 0 }, seen);
    assert.notEqual(out.status, 'rejected');
    assert.ok(nav2Goals.length > 0);
    for (const [i, g] of nav2Goals.entries()) checkPathOut({ header: g[0]?.header ?? { stamp: { sec: 0, nanosec: 0 }, frame_id: '' }, poses: g }, r0, `nav2 goal ${i}`, w.violations);
    for (const [i, f] of seen.feedback.entries()) if (f.current_plan.poses.length > 0) checkPathOut(f.current_plan, r0, `feedback ${i}`, w.violations);
    await s.bus.flush();
    assert.deepEqual(w.violations, []);
  });

  it('a frozen clock at 0 (use_sim_time without /clock): plans are refused for want of a stamp', async () => {
    const sc = makeScenario(110);
    const { logger } = lineLogger();
    const bus = new InProcessBus({ clock: { now: () => 0n }, logger });
    const robot = new SimRobot(bus.node({ name: 'sim' }), sc.world, cameraFromFov(128, 128, Math.PI / 3, 0.5), sc.exploration[0] as Pose2D);
    const nodeGraph = bus.node({ name: 'video4spatial_nav', remap: { '~/image': '/camera/image_raw', '~/camera_info': '/camera/camera_info' }, parameters: { candidates: 1, steps: 1 } });
    const node = new Video4SpatialNode(nodeGraph, new FaultyModel(new GroundTruthImagination(sc, () => robot.pose)), MANIFEST, { planner });
    const w = watch(bus, () => robot.pose);
    robot.publishFrame();
    await bus.flush();
    await node.ingest.idle();
    next = (r) => planOf(sc.target.category, { goal: { x: r.x + 1, y: r.y, yaw: 0 }, start: r });
    const client = bus.node({ name: 'op' }).createActionClient<NavigateToObjectGoal, NavigateToObjectFeedback, NavigateToObjectResult>('/video4spatial_nav/navigate_to_object', 'video4spatial_nav/action/NavigateToObject');
    const out = await (await client.sendGoal({ object_name: sc.target.category, execute: false, time_budget_s: 0 })).result;
    assert.equal(out.status, 'aborted');
    assert.match((out as { result: NavigateToObjectResult }).result.message, /refusing to publish an unsafe plan: path without stamp \(the clock reads 0/);
    assert.equal(w.count['/video4spatial_nav/plan'] ?? 0, 0);
    node.close();
  });

  it('200 random hostile plans: every published message, feedback, result and Nav2 goal keeps the invariant; the node answers throughout', async () => {
    const s = setup(111, { nav2: 'none', planner, parameters: { max_plan_distance_m: MAX_M, arrival_distance_m: 0.5 } });
    const nav2Goals = recordingNav2(s.bus);
    await explore(s, 15);
    const robot = () => s.node.ingest.buffer.newest?.pose as Pose2D;
    const w = watch(s.bus, robot);
    const rng = new Rng(8);
    next = (r) => hostilePlan(rng, s.sc.target.category, r);
    const seen = { feedback: [] as NavigateToObjectFeedback[] };
    const statuses: Record<string, number> = {};
    let plans = 0;
    while (plans < 200) {
      const before = s.node.stats.plans;
      const out = await run(s, { object_name: s.sc.target.category, execute: rng.next() < 0.3, time_budget_s: 0 }, seen);
      plans += s.node.stats.plans - before;
      statuses[out.status] = (statuses[out.status] ?? 0) + 1;
      if (out.status !== 'rejected') {
        const r = out.result;
        if (r.path.poses.length > 0) checkPathOut(r.path, robot(), 'result.path', w.violations);
        if (r.object_pose.header.frame_id !== '') checkStamped(r.object_pose.header, 'result.object_pose', w.violations);
        nonFinite(r, 'result', w.violations);
      }
    }
    for (const [i, f] of seen.feedback.entries()) if (f.current_plan.poses.length > 0) checkPathOut(f.current_plan, robot(), `feedback ${i}`, w.violations);
    for (const [i, g] of nav2Goals.entries()) checkPathOut({ header: g[0]?.header ?? { stamp: { sec: 0, nanosec: 0 }, frame_id: '' }, poses: g }, robot(), `nav2 goal ${i}`, w.violations);
    await s.bus.flush();
    assert.deepEqual(w.violations.slice(0, 10), []);
    assert.ok((statuses['aborted'] ?? 0) > 0 && (statuses['succeeded'] ?? 0) > 0, JSON.stringify(statuses));
    assert.ok((s.node.stats.abortedByReason['unsafe_path'] ?? 0) > 0, JSON.stringify(s.node.stats));
    assert.ok((w.count['/video4spatial_nav/plan'] ?? 0) > 20, JSON.stringify(w.count));
    for (const k of ['object_pose', 'imagined', 'candidate_scores', 'candidate_poses']) assert.ok((s.node.stats.refusedOutputs[k] ?? 0) > 0, `${k}: ${JSON.stringify(s.node.stats.refusedOutputs)}`);
  });
});
