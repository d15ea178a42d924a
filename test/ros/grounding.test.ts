import { strict as assert } from 'node:assert';
import type { Pose2D } from '../../src/core/geometry.js';
import { judge } from '../../src/sim/judge.js';
import { MODEL_CAMERA_DEFAULT } from '../../src/sim/camera.js';
import { explore, setup, type Harness } from './harness.js';

/** Metres from the robot to the target. */
function toTarget(s: Harness, p: Pose2D): number {
  return Math.hypot(s.sc.target.x - p.x, s.sc.target.y - p.y);
}

describe('ros/Video4SpatialNode with a grounder (scripted double)', function () {
  this.timeout(120000);

  it('arrival is verified by the camera: success says "camera", feedback counts the keyframes that show the object', async () => {
    const s = setup(101, { grounding: () => 'centred' });
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
    const s = setup(101, { grounding: (p) => (toTarget(s, p) > 2.5 ? 'centred' : 'none') });
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
    const s = setup(101, { grounding: () => 'centred', parameters: { verify_arrival: false } });
    await explore(s);
    const h = await s.client.sendGoal({ object_name: s.sc.target.category, execute: true, time_budget_s: 0 });
    const out = await h.result;
    assert.equal(out.status, 'succeeded');
    assert.equal(out.result.verified_by, 'plans_agree');
  });
});
