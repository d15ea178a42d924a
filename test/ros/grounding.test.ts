import { strict as assert } from 'node:assert';
import { angleDiff, type Pose2D } from '../../src/core/geometry.js';
import { judge } from '../../src/sim/judge.js';
import { MODEL_CAMERA_DEFAULT } from '../../src/sim/camera.js';
import { explore, planOf, setup, type Harness } from './harness.js';
import { planToObject } from '../../src/core/planner/planToObject.js';
import type { Path } from '../../src/ros/messages/types.js';

/** Metres from the robot to the target. */
function toTarget(s: Harness, p: Pose2D): number {
  return Math.hypot(s.sc.target.x - p.x, s.sc.target.y - p.y);
}

/** The scripted double fires the same tokens for every keyframe: memory cannot locate anything with it. */
const SCRIPTED = { memory_goal: false, verify_near: false };

describe('ros/Video4SpatialNode with a grounder (scripted double)', function () {
  this.timeout(120000);

  it('arrival is verified by the camera: success says "camera", feedback counts the keyframes that show the object', async () => {
    const s = setup(101, { grounding: () => 'centred', parameters: SCRIPTED });
    await explore(s);
    const stages: string[] = [];
    let showing = 0;
    const h = await s.client.sendGoal({ object_name: s.sc.target.category, execute: true, time_budget_s: 0 }, (f) => {
      stages.push(f.stage);
      showing = Math.max(showing, f.keyframes_showing);
    });
    assert.ok(h.accepted, h.rejectReason);
    const out = await h.result;
    assert.equal(out.status, 'succeeded', JSON.stringify(out));
    assert.equal(out.result.verified_by, 'camera');
    assert.equal(out.result.false_arrivals, 0);
    assert.match(out.result.message, /arrived: the camera shows the .* from the centre/);
    assert.ok(stages.includes('grounding') && stages.includes('verifying'), stages.join(','));
    assert.ok(showing > 0 && showing <= s.node.ingest.buffer.size, `${showing} keyframes show it of ${s.node.ingest.buffer.size}`);
    assert.ok(judge(s.sc.world, s.sc.target, s.robot.pose, MODEL_CAMERA_DEFAULT).success);
  });

  it('never seen: the goal ends not_seen before any plan, and no Nav2 goal is sent', async () => {
    const s = setup(101, { grounding: () => 'none' });
    await explore(s);
    const h = await s.client.sendGoal({ object_name: s.sc.target.category, execute: true, time_budget_s: 0 });
    assert.ok(h.accepted, h.rejectReason);
    const out = await h.result;
    assert.equal(out.status, 'aborted');
    assert.match(out.result.message, new RegExp(`the ${s.sc.target.category} is not in memory: the grounder sees it in none of the \\d+ keyframes \\(it sees: none of the known objects\\)`));
    assert.equal(out.result.plans, 0);
    assert.equal(s.nav?.goalsReceived ?? 0, 0);
    assert.equal(s.node.stats.abortedByReason['not_seen'], 1);
  });

  it('a false arrival is caught, its place excluded, and the goal never ends "arrived" where the camera does not see it', async () => {
    // the keyframes show the object, but the live view near it never does (a wrong memory)
    const s = setup(101, { grounding: (p) => (toTarget(s, p) > 2.5 ? 'centred' : 'none'), parameters: { ...SCRIPTED, look_around: false } });
    await explore(s);
    const warn: string[] = [];
    const h = await s.client.sendGoal({ object_name: s.sc.target.category, execute: true, time_budget_s: 0 }, (f) => warn.push(f.stage));
    assert.ok(h.accepted, h.rejectReason);
    const out = await h.result;
    assert.equal(out.status, 'aborted');
    assert.equal(out.result.success, false);
    assert.ok(out.result.false_arrivals >= 1, `false arrivals ${out.result.false_arrivals}`);
    assert.match(out.result.message, /did not arrive after \d+ plans: \d+ goal\(s\) failed the camera check/);
    assert.ok(warn.includes('retrying'));
    assert.ok(s.node.stats.falseArrivalsCaught >= 1);
    assert.ok(s.lines.some((l) => /not there at plan \d+: the camera does not show the .*; excluding 1 m around/.test(l)), s.lines.join('\n'));
    // the same place is not driven to again: once excluded, later plans lead back there and are refused
    assert.ok(s.lines.some((l) => /leads only to places found wrong before; planning again/.test(l)));
  });

  it('seen but off-centre at the goal: the node turns to face it and then succeeds', async () => {
    let turned = false;
    const s = setup(101, {
      grounding: (p) => {
        if (toTarget(s, p) > 2.5 || turned) return 'centred';
        return 'left';
      },
      parameters: SCRIPTED,
    });
    await explore(s);
    const stages: string[] = [];
    const h = await s.client.sendGoal({ object_name: s.sc.target.category, execute: true, time_budget_s: 0 }, (f) => {
      stages.push(f.stage);
      if (f.stage === 'turning_to_object') turned = true;
    });
    const out = await h.result;
    assert.equal(out.status, 'succeeded', JSON.stringify(out));
    assert.equal(out.result.verified_by, 'camera');
    assert.ok(stages.includes('turning_to_object'), stages.join(','));
  });

  it('verify_arrival false: arrival is two agreeing plans again ("plans_agree")', async () => {
    const s = setup(101, { grounding: () => 'centred', parameters: { ...SCRIPTED, verify_arrival: false } });
    await explore(s);
    const h = await s.client.sendGoal({ object_name: s.sc.target.category, execute: true, time_budget_s: 0 });
    const out = await h.result;
    assert.equal(out.status, 'succeeded');
    assert.equal(out.result.verified_by, 'plans_agree');
  });

  it('goal from memory (a grounder that sees the truth): the keyframes locate the object, the robot goes to look at it, the camera verifies', async () => {
    const s = setup(101, { grounding: 'true' });
    await explore(s);
    const stages: string[] = [];
    const h = await s.client.sendGoal({ object_name: s.sc.target.category, execute: true, time_budget_s: 0 }, (f) => stages.push(f.stage));
    const out = await h.result;
    assert.equal(out.status, 'succeeded', JSON.stringify(out));
    assert.equal(out.result.verified_by, 'camera');
    assert.ok(s.lines.some((l) => /plan 1 for '.*': goal \(.*\) [\d.]+ m away from memory/.test(l)), s.lines.join('\n'));
    // the object estimate the result carries is memory's: near the true object
    const op = out.result.object_pose.pose.position;
    assert.ok(Math.hypot(op.x - s.sc.target.x, op.y - s.sc.target.y) < 1.0, `object estimate (${op.x.toFixed(2)}, ${op.y.toFixed(2)}) vs (${s.sc.target.x.toFixed(2)}, ${s.sc.target.y.toFixed(2)})`);
    const j = judge(s.sc.world, s.sc.target, s.robot.pose, MODEL_CAMERA_DEFAULT);
    assert.ok(j.success, JSON.stringify(j));
  });

  it('memory_goal false (the ablation): the goal is the imagined one', async () => {
    const s = setup(101, { grounding: 'true', parameters: { memory_goal: false } });
    await explore(s);
    const h = await s.client.sendGoal({ object_name: s.sc.target.category, execute: true, time_budget_s: 0 });
    const out = await h.result;
    assert.equal(out.status, 'succeeded', JSON.stringify(out));
    assert.ok(!s.lines.some((l) => /m away from memory/.test(l)), s.lines.join('\n'));
  });

  it('arriving facing away: the node turns in place one field of view at a time until the camera shows the object (look_around)', async () => {
    const facing = (p: Pose2D) => Math.abs(angleDiff(Math.atan2(s.sc.target.y - p.y, s.sc.target.x - p.x), p.yaw)) < (25 * Math.PI) / 180;
    const away = (start: Pose2D) => planOf(s.sc.target.category, { goal: { ...s.sc.standoff, yaw: s.sc.standoff.yaw + Math.PI }, start });
    const s = setup(101, {
      grounding: (p) => (toTarget(s, p) > 2.5 || facing(p) ? 'centred' : 'none'),
      parameters: SCRIPTED,
      planner: async (deps) => away(deps.buffer.entries().at(-1)?.pose ?? s.sc.start),
    });
    await explore(s);
    const stages: string[] = [];
    const h = await s.client.sendGoal({ object_name: s.sc.target.category, execute: true, time_budget_s: 0 }, (f) => stages.push(f.stage));
    const out = await h.result;
    assert.equal(out.status, 'succeeded', JSON.stringify(out));
    assert.equal(stages.filter((x) => x === 'searching').length, 3, stages.join(','));
    assert.ok(facing(s.robot.pose));
  });

  it('look_around false: arriving facing away is a false arrival at once', async () => {
    const facing = (p: Pose2D) => Math.abs(angleDiff(Math.atan2(s.sc.target.y - p.y, s.sc.target.x - p.x), p.yaw)) < (25 * Math.PI) / 180;
    const s = setup(101, {
      grounding: (p) => (toTarget(s, p) > 2.5 || facing(p) ? 'centred' : 'none'),
      parameters: { ...SCRIPTED, look_around: false },
      planner: async (deps) => planOf(s.sc.target.category, { goal: { ...s.sc.standoff, yaw: s.sc.standoff.yaw + Math.PI }, start: deps.buffer.entries().at(-1)?.pose ?? s.sc.start }),
    });
    await explore(s);
    const stages: string[] = [];
    const h = await s.client.sendGoal({ object_name: s.sc.target.category, execute: true, time_budget_s: 0 }, (f) => stages.push(f.stage));
    const out = await h.result;
    assert.equal(out.status, 'aborted');
    assert.ok(out.result.false_arrivals >= 1);
    assert.ok(!stages.includes('searching'), stages.join(','));
  });

  it('look_around_when_not_seen: with no keyframe showing the object, the robot turns all around and looks again before not_seen', async () => {
    let searched = false;
    const s = setup(101, {
      grounding: () => (searched ? 'centred' : 'none'),
      parameters: { ...SCRIPTED, look_around_when_not_seen: true },
      planner: async (deps) => planOf(s.sc.target.category, { goal: s.sc.standoff, start: deps.buffer.entries().at(-1)?.pose ?? s.sc.start }),
    });
    await explore(s);
    const goalsBefore = s.nav?.goalsReceived ?? 0;
    const stages: string[] = [];
    const h = await s.client.sendGoal({ object_name: s.sc.target.category, execute: true, time_budget_s: 0 }, (f) => {
      stages.push(f.stage);
      if (f.stage === 'searching') searched = true;
    });
    const out = await h.result;
    assert.equal(out.status, 'succeeded', JSON.stringify(out));
    assert.ok(stages.indexOf('searching') < stages.indexOf('planning'), stages.join(','));
    // six turns of the 60° model camera, then the plan's own legs
    assert.ok((s.nav?.goalsReceived ?? 0) - goalsBefore >= 6);
    // never seen even after turning: not_seen, saying it looked
    const t = setup(101, { grounding: () => 'none', parameters: { ...SCRIPTED, look_around_when_not_seen: true } });
    await explore(t);
    const h2 = await t.client.sendGoal({ object_name: t.sc.target.category, execute: true, time_budget_s: 0 });
    const out2 = await h2.result;
    assert.equal(out2.status, 'aborted');
    assert.match(out2.result.message, /not in memory: .* keyframes, also after turning in place all around/);
    assert.equal(t.nav?.goalsReceived, 6);
  });
});

describe('ros/Video4SpatialNode plans while the robot drives (plan_while_driving)', function () {
  this.timeout(120000);

  /** Runs seed 101 to the end with short legs; the robot's pose when each plan starts and when the node publishes it. */
  async function run(planWhileDriving: boolean) {
    const starts: Pose2D[] = [];
    const poses: { start: Pose2D; handed: Pose2D }[] = [];
    const s = setup(101, {
      planSteps: 5,
      grounding: 'true',
      parameters: { replan_period_s: 2, plan_while_driving: planWhileDriving },
      planner: async (...a) => {
        starts.push(s.robot.pose);
        return planToObject(...a);
      },
    });
    s.bus.node({ name: 'observer' }).createSubscription<Path>('/video4spatial_nav/plan', 'nav_msgs/msg/Path', 'default', () => {
      poses.push({ start: starts[starts.length - 1] as Pose2D, handed: s.robot.pose });
    });
    await explore(s);
    const h = await s.client.sendGoal({ object_name: s.sc.target.category, execute: true, time_budget_s: 0 });
    const out = await h.result;
    return { s, out, poses };
  }

  it('the leg goes on while the next plan is made, and the next goal preempts it; the robot ends where it should', async () => {
    const { s, out, poses } = await run(true);
    assert.equal(out.status, 'succeeded', JSON.stringify(out));
    assert.ok((s.nav?.preempted ?? 0) >= 1, `preempted ${s.nav?.preempted}, cancelled ${s.nav?.cancelled}`);
    // nothing is cancelled: each leg is preempted by the next one, the last by the final leg
    assert.equal(s.nav?.cancelled, 0);
    // while a plan was made during a leg, the robot drove on (5 steps of 0.2 s at up to 0.5 m/s)
    const moved = poses.map((p) => Math.hypot(p.handed.x - p.start.x, p.handed.y - p.start.y) + Math.abs(angleDiff(p.handed.yaw, p.start.yaw)));
    assert.ok(moved.some((m) => m > 0.05), `moved while planning: ${moved.map((m) => m.toFixed(2)).join(', ')}`);
    assert.ok(judge(s.sc.world, s.sc.target, s.robot.pose, MODEL_CAMERA_DEFAULT).success);
  });

  it('plan_while_driving false: each leg is cancelled at the replan period and the robot stands while the node plans', async () => {
    const { s, out, poses } = await run(false);
    assert.equal(out.status, 'succeeded', JSON.stringify(out));
    assert.equal(s.nav?.preempted, 0);
    assert.ok((s.nav?.cancelled ?? 0) >= 1, `cancelled ${s.nav?.cancelled}`);
    for (const p of poses) assert.deepEqual(p.handed, p.start);
  });

  it('a cancel while the next plan is made stops the leg that is still driving', async () => {
    let cancelAt = -1;
    const s = setup(101, { planSteps: 5, parameters: { replan_period_s: 2 } });
    await explore(s);
    let plansSeen = 0;
    const h = await s.client.sendGoal({ object_name: s.sc.target.category, execute: true, time_budget_s: 0 }, (f) => {
      if (f.stage === 'planning' && ++plansSeen === 2 && cancelAt < 0) {
        cancelAt = plansSeen;
        void h.cancel();
      }
    });
    const out = await h.result;
    assert.equal(out.status, 'canceled');
    assert.equal(s.nav?.executing, false);
  });
});
