/**
 * Actions on the in-process graph with Nav2's real NavigateThroughPoses definition: accept,
 * reject with a reason, feedback, cancel, preemption by a newer goal, and the failure paths.
 */
import assert from 'node:assert/strict';
import { MessageError, ParameterError } from '../../src/core/errors.js';
import { SimClock } from '../../src/ros/clock.js';
import type { ActionOutcome, ClientGoalHandle, ServerGoalHandle } from '../../src/ros/Graph.js';
import { InProcessGraph } from '../../src/ros/InProcessGraph.js';
import { createMemoryLogger } from '../../src/ros/logger.js';
import { navigateThroughPosesGoal } from '../../src/ros/messages/index.js';
import type { NavigateThroughPosesFeedback, PoseStamped } from '../../src/ros/messages/types.js';

const NTP = 'nav2_msgs/action/NavigateThroughPoses';

/** Jazzy shapes (the registry's default distro). */
interface Goal {
  poses: PoseStamped[];
  behavior_tree: string;
}
interface Result {
  error_code: number;
  error_msg: string;
}
type Feedback = NavigateThroughPosesFeedback;

function pose(x: number, y: number): PoseStamped {
  return { header: { stamp: { sec: 10, nanosec: 0 }, frame_id: 'map' }, pose: { position: { x, y, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } } };
}

function feedback(remaining: number, poses: number): Feedback {
  return {
    current_pose: pose(remaining, 0),
    navigation_time: { sec: 2, nanosec: 500_000_000 },
    estimated_time_remaining: { sec: 7, nanosec: 0 },
    number_of_recoveries: 0,
    distance_remaining: remaining,
    number_of_poses_remaining: poses,
  };
}

const OK: Result = { error_code: 0, error_msg: '' };

/** Resolves when `signal` fires. */
function stopped(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

function setup() {
  const { logger, memory } = createMemoryLogger('test');
  const nav2 = new InProcessGraph({ name: 'bt_navigator', logger, busOptions: { logger, clock: new SimClock() } });
  const node = nav2.createPeer({ name: 'video4spatial_nav', logger });
  return { nav2, node, memory };
}

describe('ros/InProcessGraph actions (nav2_msgs/action/NavigateThroughPoses)', () => {
  it('accepts a goal, streams feedback through CDR and returns the result', async () => {
    const { nav2, node } = setup();
    const received: Goal[] = [];
    nav2.createActionServer<Goal, Feedback, Result>('navigate_through_poses', NTP, {
      onGoal: (g) => (g.poses.length > 0 ? { accept: true } : { accept: false, reason: 'no poses' }),
      async execute(h) {
        received.push(h.goal);
        for (let i = 3; i > 0; i--) h.publishFeedback(feedback(i, i));
        h.succeed(OK);
      },
    });
    const client = node.createActionClient<Goal, Feedback, Result>('navigate_through_poses', NTP);
    assert.equal(await client.waitForServer(100), true);
    const fb: Feedback[] = [];
    const goal = navigateThroughPosesGoal([pose(1, 2), pose(3, 4)], 'jazzy', '') as Goal;
    const handle = await client.sendGoal(goal, (f) => fb.push(f));
    assert.equal(handle.accepted, true);
    assert.match(handle.goalId, /^[0-9a-f]{32}$/);
    const outcome = await handle.result;
    assert.deepEqual(outcome, { status: 'succeeded', result: OK });
    assert.deepEqual(received, [goal]);
    assert.deepEqual(fb.map((f) => f.number_of_poses_remaining), [3, 2, 1]);
    assert.deepEqual(fb[0], feedback(3, 3));
  });

  it('rejects with a reason (logged by the server, given to the in-process client)', async () => {
    const { nav2, node, memory } = setup();
    let executed = 0;
    nav2.createActionServer<Goal, Feedback, Result>('navigate_through_poses', NTP, {
      onGoal: (g) => (g.poses.length > 0 ? { accept: true } : { accept: false, reason: 'goal has no poses' }),
      execute: () => {
        executed++;
      },
    });
    const client = node.createActionClient<Goal, Feedback, Result>('navigate_through_poses', NTP);
    const handle = await client.sendGoal({ poses: [], behavior_tree: '' });
    assert.equal(handle.accepted, false);
    assert.equal(handle.rejectReason, 'goal has no poses');
    assert.deepEqual(await handle.result, { status: 'rejected', reason: 'goal has no poses' });
    assert.equal(await handle.cancel(), false);
    assert.equal(executed, 0);
    assert.ok(memory.at('info').some((m) => m.includes('rejected goal') && m.includes('goal has no poses')));
  });

  it('a goal callback that throws rejects the goal and surfaces the error', async () => {
    const { nav2, node } = setup();
    nav2.createActionServer<Goal, Feedback, Result>('navigate_through_poses', NTP, {
      onGoal: () => {
        throw new Error('onGoal exploded');
      },
      execute: () => {},
    });
    const handle = await node.createActionClient<Goal, Feedback, Result>('navigate_through_poses', NTP).sendGoal({ poses: [pose(0, 0)], behavior_tree: '' });
    assert.equal(handle.accepted, false);
    assert.match(handle.rejectReason ?? '', /onGoal exploded/);
    await assert.rejects(nav2.flush(), /onGoal exploded/);
  });

  it('cancels a running goal: the signal fires with stopReason cancel, the goal ends canceled', async () => {
    const { nav2, node } = setup();
    let seenReason: string | undefined;
    nav2.createActionServer<Goal, Feedback, Result>('navigate_through_poses', NTP, {
      async execute(h) {
        h.publishFeedback(feedback(5, 2));
        await stopped(h.signal);
        seenReason = h.stopReason;
        assert.equal(h.isCancelRequested(), true);
        assert.equal(h.status, 'canceling');
        h.canceled({ error_code: 0, error_msg: 'cancelled by client' });
      },
    });
    const client = node.createActionClient<Goal, Feedback, Result>('navigate_through_poses', NTP);
    const fb: Feedback[] = [];
    const handle = await client.sendGoal({ poses: [pose(1, 1)], behavior_tree: '' }, (f) => fb.push(f));
    await node.spinUntil(() => fb.length === 1);
    assert.equal(await handle.cancel(), true);
    const outcome = await handle.result;
    if (outcome.status !== 'canceled') assert.fail(`expected canceled, got ${outcome.status}`);
    assert.equal(outcome.result.error_msg, 'cancelled by client');
    assert.equal(outcome.reason, 'cancel');
    assert.equal(seenReason, 'cancel');
    assert.equal(await handle.cancel(), false, 'a finished goal cannot be cancelled');
  });

  it('a server may refuse to cancel; the goal keeps running', async () => {
    const { nav2, node } = setup();
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    nav2.createActionServer<Goal, Feedback, Result>('navigate_through_poses', NTP, {
      onCancel: () => false,
      async execute(h) {
        await released;
        assert.equal(h.signal.aborted, false);
        h.succeed(OK);
      },
    });
    const handle = await node.createActionClient<Goal, Feedback, Result>('navigate_through_poses', NTP).sendGoal({ poses: [pose(1, 1)], behavior_tree: '' });
    assert.equal(await handle.cancel(), false);
    release();
    assert.equal((await handle.result).status, 'succeeded');
  });

  it('a newer goal preempts the running one: it is told, ends aborted, then the new goal runs', async () => {
    const { nav2, node } = setup();
    const events: string[] = [];
    nav2.createActionServer<Goal, Feedback, Result>('navigate_through_poses', NTP, {
      async execute(h: ServerGoalHandle<Goal, Feedback, Result>) {
        const name = `x=${h.goal.poses[0]?.pose.position.x}`;
        events.push(`start ${name}`);
        if (h.goal.poses[0]?.pose.position.x === 1) {
          await stopped(h.signal);
          events.push(`stopped ${name} (${h.stopReason})`);
          h.abort({ error_code: 9000, error_msg: 'preempted' }, 'preempted by a newer goal');
          return;
        }
        h.succeed(OK);
        events.push(`done ${name}`);
      },
    });
    const client = node.createActionClient<Goal, Feedback, Result>('navigate_through_poses', NTP);
    const first = await client.sendGoal({ poses: [pose(1, 0)], behavior_tree: '' });
    await node.spinUntil(() => events.length === 1);
    const second = await client.sendGoal({ poses: [pose(2, 0)], behavior_tree: '' });
    const [a, b] = await Promise.all([first.result, second.result]);
    assert.deepEqual(a, { status: 'aborted', result: { error_code: 9000, error_msg: 'preempted' }, reason: 'preempted by a newer goal' });
    assert.deepEqual(b, { status: 'succeeded', result: OK });
    assert.deepEqual(events, ['start x=1', 'stopped x=1 (preempted)', 'start x=2', 'done x=2']);
  });

  it('a preempted goal that calls canceled() ends ABORTED (rcl allows CANCELED only after a cancel request)', async () => {
    const { nav2, node } = setup();
    const seen: string[] = [];
    nav2.createActionServer<Goal, Feedback, Result>('navigate_through_poses', NTP, {
      async execute(h) {
        if (h.goal.poses.length === 1) {
          await stopped(h.signal);
          seen.push(`${h.status} ${String(h.isCancelRequested())} ${h.stopReason}`);
          h.canceled({ error_code: 0, error_msg: 'superseded' });
          return;
        }
        h.succeed(OK);
      },
    });
    const client = node.createActionClient<Goal, Feedback, Result>('navigate_through_poses', NTP);
    const first = await client.sendGoal({ poses: [pose(1, 0)], behavior_tree: '' });
    await node.spinUntil(() => true);
    const second = await client.sendGoal({ poses: [pose(1, 0), pose(2, 0)], behavior_tree: '' });
    assert.deepEqual(await first.result, { status: 'aborted', result: { error_code: 0, error_msg: 'superseded' }, reason: 'preempted' });
    assert.equal((await second.result).status, 'succeeded');
    assert.deepEqual(seen, ['executing true preempted']);
  });

  it('of goals queued behind a running one only the newest runs', async () => {
    const { nav2, node } = setup();
    const started: number[] = [];
    nav2.createActionServer<Goal, Feedback, Result>('navigate_through_poses', NTP, {
      async execute(h) {
        started.push(h.goal.poses.length);
        if (h.goal.poses.length === 1) await stopped(h.signal);
        h.succeed(OK);
      },
    });
    const client = node.createActionClient<Goal, Feedback, Result>('navigate_through_poses', NTP);
    const g1 = await client.sendGoal({ poses: [pose(0, 0)], behavior_tree: '' });
    const [g2, g3] = await Promise.all([
      client.sendGoal({ poses: [pose(0, 0), pose(1, 0)], behavior_tree: '' }),
      client.sendGoal({ poses: [pose(0, 0), pose(1, 0), pose(2, 0)], behavior_tree: '' }),
    ]);
    const outcomes: ActionOutcome<Result>[] = await Promise.all([g1.result, g2.result, g3.result]);
    assert.deepEqual(outcomes.map((o) => o.status), ['succeeded', 'aborted', 'succeeded']);
    assert.match(outcomes[1]?.reason ?? '', /preempted by a newer goal before it started/);
    assert.deepEqual(started, [1, 3]);
  });

  it('cancelling a goal that waits behind a running one ends it canceled without running it', async () => {
    const { nav2, node } = setup();
    const started: number[] = [];
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    nav2.createActionServer<Goal, Feedback, Result>('navigate_through_poses', NTP, {
      async execute(h) {
        started.push(h.goal.poses.length);
        await released;
        h.succeed(OK);
      },
    });
    const client = node.createActionClient<Goal, Feedback, Result>('navigate_through_poses', NTP);
    const g1 = await client.sendGoal({ poses: [pose(0, 0)], behavior_tree: '' });
    await node.spinUntil(() => started.length === 1);
    const g2 = await client.sendGoal({ poses: [pose(0, 0), pose(1, 1)], behavior_tree: '' });
    assert.equal(await g2.cancel(), true);
    release();
    const [o1, o2] = await Promise.all([g1.result, g2.result]);
    assert.equal(o1.status, 'succeeded', 'the running goal ignored its preemption signal and succeeded');
    assert.equal(o2.status, 'canceled');
    assert.deepEqual(started, [1]);
  });

  it('bad feedback or result fields throw MessageError in the server code', async () => {
    const { nav2, node } = setup();
    const errors: unknown[] = [];
    nav2.createActionServer<Goal, Feedback, Result>('navigate_through_poses', NTP, {
      execute(h) {
        try {
          h.publishFeedback({ ...feedback(1, 1), distance_remainig: 3 } as unknown as Feedback);
        } catch (e) {
          errors.push(e);
        }
        try {
          h.succeed({ error_code: 'none', error_msg: '' } as unknown as Result);
        } catch (e) {
          errors.push(e);
        }
        h.succeed(OK);
        assert.throws(() => h.abort(OK), /already ended \(succeeded\)/);
        assert.throws(() => h.publishFeedback(feedback(0, 0)), /after it ended/);
      },
    });
    const handle = await node.createActionClient<Goal, Feedback, Result>('navigate_through_poses', NTP).sendGoal({ poses: [pose(1, 1)], behavior_tree: '' });
    assert.equal((await handle.result).status, 'succeeded');
    assert.equal(errors.length, 2);
    assert.ok(errors.every((e) => e instanceof MessageError));
    assert.match((errors[0] as Error).message, /distance_remainig/);
    assert.match((errors[1] as Error).message, /error_code/);
  });

  it('execute that returns or throws without ending the goal aborts it with the default result', async () => {
    const { nav2, node, memory } = setup();
    nav2.createActionServer<Goal, Feedback, Result>('navigate_through_poses', NTP, {
      execute(h) {
        if (h.goal.behavior_tree === 'throw') throw new Error('planner crashed');
      },
    });
    const client = node.createActionClient<Goal, Feedback, Result>('navigate_through_poses', NTP);
    const quiet = await client.sendGoal({ poses: [pose(1, 1)], behavior_tree: '' });
    assert.deepEqual(await quiet.result, { status: 'aborted', result: { error_code: 0, error_msg: '' }, reason: 'execute returned without ending the goal' });
    const loud = await client.sendGoal({ poses: [pose(1, 1)], behavior_tree: 'throw' });
    assert.deepEqual(await loud.result, { status: 'aborted', result: { error_code: 0, error_msg: '' }, reason: 'execute failed: planner crashed' });
    assert.ok(memory.at('warn').some((m) => m.includes('returned without')));
    assert.ok(memory.at('error').some((m) => m.includes('planner crashed')));
  });

  it('a misspelt goal field fails sendGoal; no server means a rejection, not a hang', async () => {
    const { node } = setup();
    const client = node.createActionClient<Goal, Feedback, Result>('navigate_through_poses', NTP);
    await assert.rejects(client.sendGoal({ poses: [pose(1, 1)], behaviour_tree: '' } as unknown as Goal), (e: unknown) => e instanceof MessageError && /behaviour_tree/.test(e.message));
    assert.equal(await client.waitForServer(20), false);
    const h: ClientGoalHandle<Result> = await client.sendGoal({ poses: [pose(1, 1)], behavior_tree: '' });
    assert.equal(h.accepted, false);
    assert.match(h.rejectReason ?? '', /no action server '\/navigate_through_poses'/);
    client.destroy();
    await assert.rejects(client.sendGoal({ poses: [], behavior_tree: '' }), /destroyed/);
  });

  it('checks action types and duplicate servers', () => {
    const { nav2, node } = setup();
    assert.throws(() => nav2.createActionServer('x', 'nav2_msgs/action/NavigateThruPoses', { execute: () => {} }), /NavigateThruPoses/);
    assert.throws(() => node.createActionClient('x', 'nav2_msgs/msg/Path'), /unknown action type/);
    nav2.createActionServer<Goal, Feedback, Result>('navigate_through_poses', NTP, { execute: () => {} });
    assert.throws(() => node.createActionServer<Goal, Feedback, Result>('/navigate_through_poses', NTP, { execute: () => {} }), /already exists.*bt_navigator/);
    assert.throws(() => node.createActionServer('y', NTP, {} as never), (e: unknown) => e instanceof ParameterError && /execute must be a function/.test(e.message));
  });

  it('a client of another action type on the same name gets a rejection naming both types', async () => {
    const { nav2, node } = setup();
    nav2.createActionServer('~/navigate_to_object', 'video4spatial_nav/action/NavigateToObject', { execute: () => {} });
    const wrong = node.createActionClient<Goal, Feedback, Result>('/bt_navigator/navigate_to_object', NTP);
    assert.equal(await wrong.waitForServer(10), false);
    const h = await wrong.sendGoal({ poses: [], behavior_tree: '' });
    assert.match(h.rejectReason ?? '', /serves video4spatial_nav\/action\/NavigateToObject, not nav2_msgs\/action\/NavigateThroughPoses/);
  });

  it('destroying the server stops the running goal (shutdown) and aborts the waiting one', async () => {
    const { nav2, node } = setup();
    let reason: string | undefined;
    const server = nav2.createActionServer<Goal, Feedback, Result>('navigate_through_poses', NTP, {
      async execute(h) {
        await stopped(h.signal);
        reason = h.stopReason;
        h.abort({ error_code: 1, error_msg: 'shutting down' });
      },
    });
    const client = node.createActionClient<Goal, Feedback, Result>('navigate_through_poses', NTP);
    const g1 = await client.sendGoal({ poses: [pose(1, 1)], behavior_tree: '' });
    const g2 = await client.sendGoal({ poses: [pose(2, 2)], behavior_tree: '' });
    server.destroy();
    const [o1, o2] = await Promise.all([g1.result, g2.result]);
    assert.equal(o1.status, 'aborted');
    assert.equal(reason, 'preempted', 'g1 was first preempted by g2');
    assert.equal(o2.status, 'aborted');
    assert.equal(o2.reason, 'action server shut down');
    assert.equal(await client.waitForServer(5), false);
  });

  it('Kilted goals (nav_msgs/Goals) go through the kilted definitions', async () => {
    const { logger } = createMemoryLogger('k');
    const nav2 = new InProcessGraph({ name: 'bt_navigator', logger, busOptions: { logger, distro: 'kilted', clock: new SimClock() } });
    const node = nav2.createPeer({ name: 'video4spatial_nav' });
    const got: unknown[] = [];
    nav2.createActionServer<unknown, unknown, unknown>('navigate_through_poses', NTP, {
      execute(h) {
        got.push(h.goal);
        h.succeed({ error_code: 0, error_msg: '', waypoint_statuses: [] });
      },
    });
    const goal = navigateThroughPosesGoal([pose(1, 2)], 'kilted');
    const h = await node.createActionClient<unknown, unknown, unknown>('navigate_through_poses', NTP).sendGoal(goal);
    assert.equal((await h.result).status, 'succeeded');
    assert.deepEqual(got, [goal]);
    const jazzyShape = { poses: [pose(1, 2)], behavior_tree: '' };
    await assert.rejects(node.createActionClient('navigate_through_poses', NTP).sendGoal(jazzyShape), MessageError);
  });

  describe('shutdown (SIGINT, SIGTERM, a launch shutdown)', () => {
    /** A Nav2 stand-in holding each goal until it is stopped; records what happened in `events`. */
    function holdingServer(graph: InProcessGraph, events: string[]) {
      return graph.createActionServer<Goal, Feedback, Result>('navigate_through_poses', NTP, {
        onCancel: () => {
          events.push('nav2: cancel requested');
          return true;
        },
        async execute(h) {
          await stopped(h.signal);
          events.push(`nav2: stopped (${h.stopReason})`);
          h.canceled({ error_code: 0, error_msg: '' }, h.stopReason);
        },
      });
    }

    it("the running goal ends CANCELED with the reason (rcl's CANCEL_GOAL by the server itself), the goals the node sent are cancelled and acknowledged, then the node is destroyed", async () => {
      const { nav2, node, memory } = setup();
      const events: string[] = [];
      holdingServer(nav2, events);
      let refused: Promise<ClientGoalHandle<Result>> | undefined;
      const operator = nav2.createPeer({ name: 'operator' });
      node.createActionServer<Goal, Feedback, Result>('~/work', NTP, {
        async execute(h) {
          await stopped(h.signal);
          events.push(`node goal: stopped (${h.stopReason})`);
          refused = operator.createActionClient<Goal, Feedback, Result>('/video4spatial_nav/work', NTP).sendGoal({ poses: [pose(2, 2)], behavior_tree: '' });
          h.canceled(OK, h.stopReason);
        },
      });
      const leg = await node.createActionClient<Goal, Feedback, Result>('navigate_through_poses', NTP).sendGoal({ poses: [pose(1, 1)], behavior_tree: '' });
      const work = await operator.createActionClient<Goal, Feedback, Result>('/video4spatial_nav/work', NTP).sendGoal({ poses: [pose(3, 3)], behavior_tree: '' });
      await node.flush();
      const report = await node.shutdown({ reason: 'SIGINT' });
      assert.deepEqual(await work.result, { status: 'canceled', result: OK, reason: 'shutdown' });
      assert.deepEqual(await leg.result, { status: 'canceled', result: OK, reason: 'cancel' });
      assert.deepEqual(events, ['node goal: stopped (shutdown)', 'nav2: cancel requested', 'nav2: stopped (cancel)']);
      assert.deepEqual(report, { reason: 'SIGINT', goalsStopped: 1, goalsForced: 0, cancelsSent: 1, cancelsAcknowledged: 1, cancelsRefused: 0 });
      const late = await refused;
      assert.equal(late?.accepted, false);
      assert.equal(late?.rejectReason, 'the action server is shutting down (SIGINT)');
      assert.equal(nav2.bus.server('/video4spatial_nav/work'), undefined, 'destroyed');
      assert.equal(await node.shutdown({ reason: 'SIGTERM' }), report, 'idempotent');
      assert.ok(memory.at('info').some((m) => m.startsWith('shutdown (SIGINT): 1 goal(s) stopped, 1 sent goal(s) cancelled (1 acknowledged); node destroyed')), memory.at('info').join('\n'));
    });

    it('is bounded: a goal deaf to its stop signal is ended CANCELED after goalTimeoutMs (its own late ending is ignored); a waiting goal ends CANCELED without running', async () => {
      const { node } = setup();
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      let lateError: unknown;
      const ran: number[] = [];
      node.createActionServer<Goal, Feedback, Result>('~/work', NTP, {
        async execute(h) {
          ran.push(h.goal.poses.length);
          await released;
          try {
            h.abort({ error_code: 9, error_msg: 'late' });
          } catch (e) {
            lateError = e;
          }
        },
      });
      const client = node.createActionClient<Goal, Feedback, Result>('~/work', NTP);
      const deaf = await client.sendGoal({ poses: [pose(1, 1)], behavior_tree: '' });
      await node.flush();
      const waiting = await client.sendGoal({ poses: [pose(1, 1), pose(2, 2)], behavior_tree: '' });
      const report = await node.shutdown({ reason: 'SIGTERM', goalTimeoutMs: 30, cancelTimeoutMs: 30 });
      const d = await deaf.result;
      assert.equal(d.status, 'canceled');
      assert.equal(d.reason, 'SIGTERM: the goal did not stop within 30 ms');
      const w = await waiting.result;
      assert.equal(w.status, 'canceled');
      assert.equal(w.reason, 'SIGTERM: cancelled before it started');
      assert.deepEqual(ran, [1], 'the waiting goal never ran');
      assert.equal(report.goalsStopped, 2);
      assert.equal(report.goalsForced, 1);
      release();
      await new Promise((r) => setTimeout(r, 10));
      await node.flush();
      assert.equal(lateError, undefined);
    });

    it("destroy() cancels the goals the node's clients sent: a server does not cancel goals when their client goes away", async () => {
      const { nav2, node } = setup();
      const events: string[] = [];
      holdingServer(nav2, events);
      const leg = await node.createActionClient<Goal, Feedback, Result>('navigate_through_poses', NTP).sendGoal({ poses: [pose(1, 1)], behavior_tree: '' });
      await node.flush();
      node.destroy();
      assert.deepEqual(await leg.result, { status: 'canceled', result: OK, reason: 'cancel' });
      assert.deepEqual(events, ['nav2: cancel requested', 'nav2: stopped (cancel)']);
    });
  });
});

