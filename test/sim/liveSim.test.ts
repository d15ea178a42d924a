/**
 * The live simulator without a socket: its speed is checked; with an empty memory a goal is
 * rejected (no_context) and reported as such, the report line reading as documented; the robot
 * stands and the camera streams when nobody drives; a Twist on the teleop topic drives it for the
 * steps it is fresh, then it stands.
 */
import { strict as assert } from 'node:assert';
import type { StringMsg, Twist } from '../../src/ros/messages/types.js';
import { GOAL_TOPIC, goalReportLine, LiveSim, TELEOP_TOPIC, type GoalReport } from '../../src/sim/liveSim.js';
import { makeScenario } from '../../src/sim/scenario.js';
import { GreyImagination, lineLogger, MANIFEST } from '../ros/harness.js';

describe('sim/liveSim', function () {
  this.timeout(60000);

  it('refuses a speed that is not a finite number > 0, quoting it', async () => {
    for (const speed of [0, -2, Number.NaN]) {
      await assert.rejects(LiveSim.start({ scenario: makeScenario(103), model: new GreyImagination(), manifest: MANIFEST, logger: lineLogger().logger, explore: false, speed }), new RegExp(`live sim speed must be a finite number > 0 \\(simulated s per wall s\\), got ${speed}`));
    }
  });

  it('steps: stands and streams when nobody drives, drives under a Twist; an empty memory rejects a goal (reported)', async () => {
    const sc = makeScenario(103);
    const ended: GoalReport[] = [];
    const s = await LiveSim.start({ scenario: sc, model: new GreyImagination(), manifest: MANIFEST, logger: lineLogger().logger, explore: false, onGoalEnd: (r) => ended.push(r) });
    try {
      assert.equal(s.node.ingest.buffer.size, 0, 'no exploration: no memory');
      // the memory is empty: the node rejects a goal at once; the report has the ground truth
      const operator = s.bus.node({ name: 'operator' });
      operator.createPublisher<StringMsg>(GOAL_TOPIC, 'std_msgs/msg/String', 'default').publish({ data: sc.target.category });
      await s.bus.spinUntil(() => s.node.stats.goals === 1, { what: 'the goal at the node' });
      const start = s.robot.pose;
      const frames = s.robot.frames;
      await s.tick();
      assert.equal(ended.length, 1);
      const r = ended[0] as GoalReport;
      assert.deepEqual([r.number, r.object, r.outcome, r.code], [1, sc.target.category, 'rejected', 'no_context']);
      assert.equal(r.target?.category, sc.target.category);
      assert.match(goalReportLine(r), new RegExp(`^goal 1 '${sc.target.category}': node rejected \\(no_context\\); ground truth: (NOT )?ARRIVED, \\d+\\.\\d\\d m from the ${sc.target.category} \\(reach \\d+\\.\\d\\d m\\), bearing -?\\d+\\.\\d°; after \\d+\\.\\d s at \\(`));
      // nobody drives: it stands, the camera streams
      for (let i = 0; i < 2; i++) await s.tick();
      assert.deepEqual(s.robot.pose, start);
      assert.equal(s.robot.frames, frames + 3);
      assert.deepEqual(s.steps, { teleop: 0, nav2: 0, idle: 3 });
      operator.createPublisher<Twist>(TELEOP_TOPIC, 'geometry_msgs/msg/Twist', 'default').publish({ linear: { x: 0, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 1 } });
      await s.bus.flush();
      for (let i = 0; i < 5; i++) await s.tick();
      // fresh for 0.5 s: three 0.2 s steps (at 0, 0.2 and 0.4 s after it arrived), then it stands
      assert.deepEqual(s.steps, { teleop: 3, nav2: 0, idle: 5 });
      assert.ok(Math.abs(s.robot.pose.yaw - start.yaw) > 0.5, `turned: ${start.yaw} → ${s.robot.pose.yaw}`);
    } finally {
      await s.shutdown('test');
    }
  });
});
