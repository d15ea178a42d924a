/**
 * runGraphMission with the ground-truth imagination double (unit test; the shipped model's
 * mission is in test/cli/demo.test.ts): what the mission records about each plan belongs to that
 * plan, and a model that imagines the true way arrives.
 */
import { strict as assert } from 'node:assert';
import type { Pose2D } from '../../src/core/geometry.js';
import { quaternionToYaw } from '../../src/core/geometry.js';
import type { TFMessage } from '../../src/ros/messages/types.js';
import { runGraphMission } from '../../src/sim/graphMission.js';
import { makeScenario } from '../../src/sim/scenario.js';
import { GroundTruthImagination, MANIFEST } from '../ros/harness.js';

describe('sim/graphMission', function () {
  this.timeout(120000);

  it('pairs every plan with its own imagined trajectory and arrives with a true imagination', async () => {
    const sc = makeScenario(7);
    let pose: Pose2D = sc.exploration[0] as Pose2D;
    const model = new GroundTruthImagination(sc, () => pose);
    const r = await runGraphMission(sc, model, MANIFEST, {
      candidates: 2,
      steps: 2,
      guidance: 3,
      seed: 1,
      ablation: 'none',
      timeBudgetS: 120,
      replanPeriodS: 8,
      // the double imagines from the robot's current pose: follow it on /tf (map→odom is identity here)
      tap: (bus) =>
        bus.node({ name: 'pose_probe' }).createSubscription<TFMessage>('/tf', 'tf2_msgs/msg/TFMessage', 'tf', (m) => {
          for (const t of m.transforms) {
            if (t.child_frame_id === 'base_link') pose = { x: t.transform.translation.x, y: t.transform.translation.y, yaw: quaternionToYaw(t.transform.rotation) };
          }
        }),
    });
    assert.ok(r.plans.length >= 2, `${r.plans.length} plan(s): ${r.outcome}`);
    for (const [i, p] of r.plans.entries()) {
      assert.ok(p.trajectory, `plan ${i + 1} has no trajectory`);
      // a plan's Path and ImaginedTrajectory carry the same stamp; the simulated clock moves between plans
      assert.deepEqual(p.trajectory.header.stamp, p.path.header.stamp, `plan ${i + 1} holds another plan's trajectory`);
    }
    assert.notDeepEqual(r.plans[0]?.path.header.stamp, r.plans[1]?.path.header.stamp);
    assert.ok(r.judgement.success, `${r.outcome}; ${JSON.stringify(r.judgement)}`);
  });
});
