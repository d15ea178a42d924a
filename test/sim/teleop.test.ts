/**
 * The teleop base: exact unicycle arcs, limits clamped, a zero Twist or a stale one stops the
 * robot, a non-finite Twist is ignored, an obstacle stops the robot (it may still turn); and the
 * world's /map and /sim/objects messages.
 */
import { strict as assert } from 'node:assert';
import { SimClock } from '../../src/ros/clock.js';
import { InProcessBus } from '../../src/ros/InProcessGraph.js';
import type { Twist } from '../../src/ros/messages/types.js';
import { SIM_CAMERA, SILENT_LOGGER } from '../../src/sim/graphMission.js';
import { SimRobot } from '../../src/sim/rosSim.js';
import { makeScenario } from '../../src/sim/scenario.js';
import { integrateUnicycle, TELEOP_MAX_ANGULAR, TELEOP_MAX_LINEAR, TeleopBase } from '../../src/sim/teleop.js';
import { CELL_OCCUPIED, objectMarkers, occupancyGridOf } from '../../src/sim/worldTopics.js';

const twist = (v: number, w: number): Twist => ({ linear: { x: v, y: 0, z: 0 }, angular: { x: 0, y: 0, z: w } });
const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a} vs ${b}`);

function base() {
  const sc = makeScenario(103);
  const clock = new SimClock(1_000_000_000n);
  const bus = new InProcessBus({ clock, logger: SILENT_LOGGER });
  const g = bus.node({ name: 'sim', logger: SILENT_LOGGER });
  const robot = new SimRobot(g, sc.world, SIM_CAMERA, sc.exploration.at(-1) ?? sc.start);
  const teleop = new TeleopBase(g);
  const pub = bus.node({ name: 'teleop', logger: SILENT_LOGGER }).createPublisher<Twist>('/cmd_vel_teleop', 'geometry_msgs/msg/Twist', 'default');
  return { sc, clock, bus, robot, teleop, pub };
}

describe('sim/teleop', () => {
  it('integrates the unicycle exactly: a straight line, a quarter circle, a turn in place', () => {
    const s = integrateUnicycle({ x: 1, y: 2, yaw: 0 }, 0.5, 0, 2);
    close(s.x, 2, 'x');
    close(s.y, 2, 'y');
    close(s.yaw, 0, 'yaw');
    // radius 1 m, a quarter turn left from the origin facing +x ends at (1, 1) facing +y
    const q = integrateUnicycle({ x: 0, y: 0, yaw: 0 }, Math.PI / 2, Math.PI / 2, 1);
    close(q.x, 1, 'x');
    close(q.y, 1, 'y');
    close(q.yaw, Math.PI / 2, 'yaw');
    const t = integrateUnicycle({ x: 3, y: 4, yaw: 3 }, 0, 1, 0.5);
    close(t.x, 3, 'x');
    close(t.y, 4, 'y');
    close(t.yaw, 3.5 - 2 * Math.PI, 'yaw wraps to (−π, π]');
  });

  it('obeys the newest Twist on /cmd_vel_teleop, clamped to the limits, until a zero Twist or the timeout', async () => {
    const s = base();
    assert.equal(s.teleop.command(s.clock.now()), undefined, 'no command yet');
    s.pub.publish(twist(3, -5));
    await s.bus.flush();
    assert.deepEqual(s.teleop.command(s.clock.now()), { v: TELEOP_MAX_LINEAR, w: -TELEOP_MAX_ANGULAR });
    assert.equal(s.teleop.stats.clamped, 1);
    s.clock.advance(400_000_000n);
    assert.ok(s.teleop.command(s.clock.now()), 'still fresh after 0.4 s');
    s.clock.advance(200_000_000n);
    assert.equal(s.teleop.command(s.clock.now()), undefined, 'stale after 0.6 s: stop');
    s.pub.publish(twist(0.2, 0));
    await s.bus.flush();
    assert.deepEqual(s.teleop.command(s.clock.now()), { v: 0.2, w: 0 });
    s.pub.publish(twist(0, 0));
    await s.bus.flush();
    assert.equal(s.teleop.command(s.clock.now()), undefined, 'a zero Twist stops it at once');
  });

  it('ignores a Twist with a non-finite field (the last good command stands)', async () => {
    const s = base();
    s.pub.publish(twist(0.1, 0.2));
    s.pub.publish(twist(Number.NaN, 0));
    s.pub.publish(twist(0.3, Infinity));
    await s.bus.flush();
    assert.deepEqual(s.teleop.command(s.clock.now()), { v: 0.1, w: 0.2 });
    assert.deepEqual([s.teleop.stats.received, s.teleop.stats.ignored], [3, 2]);
  });

  it('drives the robot; at a wall it stops (and may still turn in place)', () => {
    const s = base();
    const start = s.robot.pose;
    assert.ok(s.teleop.drive(s.robot, { v: 0.5, w: 0 }, 0.2));
    close(Math.hypot(s.robot.pose.x - start.x, s.robot.pose.y - start.y), 0.1, 'moved 0.1 m');
    // straight ahead until blocked: the robot never enters an occupied cell
    let blocked = false;
    for (let i = 0; i < 500 && !blocked; i++) blocked = !s.teleop.drive(s.robot, { v: 0.5, w: 0 }, 0.2);
    assert.ok(blocked, 'a wall stops it');
    assert.equal(s.sc.world.free.occupiedAt(s.robot.pose.x, s.robot.pose.y), false);
    const at = s.robot.pose;
    assert.ok(s.teleop.drive(s.robot, { v: 0.5, w: 1 }, 0.2), 'turning at the wall is allowed');
    close(s.robot.pose.x, at.x, 'no move into the wall');
    assert.ok(s.teleop.stats.blocked >= 1);
  });

  it('refuses bad limits with the value', () => {
    const s = base();
    const g = s.bus.node({ name: 'other', logger: SILENT_LOGGER });
    assert.throws(() => new TeleopBase(g, { timeoutS: 0 }), /teleop timeout must be a finite number of seconds > 0, got 0/);
    assert.throws(() => new TeleopBase(g, { maxLinear: Number.NaN }), /maxLinear must be a finite speed > 0 m\/s, got NaN/);
    assert.throws(() => new TeleopBase(g, { maxAngular: -1 }), /maxAngular must be a finite rate > 0 rad\/s, got -1/);
  });

  it('the world as /map (0 free, 100 occupied, origin at the grid corner) and /sim/objects (a cylinder and a name each)', () => {
    const { sc } = base();
    const header = { stamp: { sec: 1, nanosec: 0 }, frame_id: 'map' };
    const m = occupancyGridOf(sc.world, header);
    const g = sc.world.grid;
    assert.deepEqual([m.info.width, m.info.height, m.info.resolution], [g.width, g.height, g.resolution]);
    assert.deepEqual([m.info.origin.position.x, m.info.origin.position.y], [g.x0, g.y0]);
    assert.equal(Array.from(m.data).filter((v) => v === CELL_OCCUPIED).length, Array.from(g.cells).filter((c) => c !== 0).length);
    const [i, j] = g.cellOf(sc.start.x, sc.start.y);
    assert.equal(m.data[j * g.width + i], 0, "the start's cell is free");
    const o = objectMarkers(sc.world, header);
    assert.equal(o.markers.length, 2 * sc.world.objects.length);
    assert.deepEqual(
      o.markers.filter((k) => k.ns === 'object_names').map((k) => k.text),
      sc.world.objects.map((w) => w.category),
    );
  });
});
