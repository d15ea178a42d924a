/**
 * The rclnodejs adapter cannot run here (no ROS 2). What can be checked: it is the only module
 * that names rclnodejs, it loads it lazily, loading failures say what to do, and the distro
 * comes from $ROS_DISTRO; and, on a recorded fake of rclnodejs 2.2.0's calls
 * (test/ros/fakeRclnodejs.ts), the shutdown, the log level and the parameter service.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerGoalHandle } from '../../src/ros/Graph.js';
import { actionTypes, defaultMessage, navigateThroughPosesGoal } from '../../src/ros/messages/index.js';
import type { NavigateThroughPosesGoal, NavigateThroughPosesResult, NavigateToObjectFeedback, NavigateToObjectGoal, NavigateToObjectResult } from '../../src/ros/messages/types.js';
import { NodeParameters } from '../../src/ros/parameters.js';
import { createRclnodejsGraph, distroFromEnv, READ_ONLY_CONSTRAINT, type RclnodejsGraph } from '../../src/ros/rclnodejsGraph.js';
import { ACTION_TYPE, NAV2_TYPE } from '../../src/ros/Video4SpatialNode.js';
import { createFakeRclnodejs, GoalStatus, Parameter, ParameterType, type FakeOptions } from './fakeRclnodejs.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

const NAMES_RCLNODEJS = /(from\s+|import\s*\(\s*|require\s*\(\s*)['"]rclnodejs['"]/;

describe('ros/rclnodejsGraph', () => {
  it('is the only source file that imports rclnodejs, and only lazily', () => {
    const importers = tsFiles(join(REPO, 'src'))
      .filter((f) => /['"]rclnodejs['"]/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(REPO, f));
    assert.deepEqual(importers, ['src/ros/rclnodejsGraph.ts']);
    const text = readFileSync(join(REPO, 'src/ros/rclnodejsGraph.ts'), 'utf8');
    assert.doesNotMatch(text, /^import[^;]*['"]rclnodejs['"]/m, 'no static import');
    assert.match(text, /import\('rclnodejs' as string\)/);
    // The checker itself catches the forms it must catch.
    assert.ok(NAMES_RCLNODEJS.test(`import x from 'rclnodejs';`));
    assert.ok(NAMES_RCLNODEJS.test(`await import("rclnodejs")`));
  });

  it('no test imports rclnodejs', () => {
    const offenders = tsFiles(join(REPO, 'test')).filter((f) => NAMES_RCLNODEJS.test(readFileSync(f, 'utf8')) && !f.endsWith('rclnodejsGraph.test.ts'));
    assert.deepEqual(offenders.map((f) => relative(REPO, f)), []);
  });

  it('says what to do when rclnodejs cannot be loaded', async () => {
    await assert.rejects(
      createRclnodejsGraph({ load: () => Promise.reject(new Error("Cannot find package 'rclnodejs'")) }),
      (e: unknown) =>
        e instanceof Error &&
        e.message.includes("Cannot find package 'rclnodejs'") &&
        e.message.includes('source /opt/ros/<distro>/setup.bash') &&
        e.message.includes('npm install rclnodejs'),
    );
  });

  it('takes the message distro from $ROS_DISTRO when we have its definitions', () => {
    assert.equal(distroFromEnv({ ROS_DISTRO: 'humble' }), 'humble');
    assert.equal(distroFromEnv({ ROS_DISTRO: 'kilted' }), 'kilted');
    assert.equal(distroFromEnv({ ROS_DISTRO: 'foxy' }), undefined);
    assert.equal(distroFromEnv({}), undefined);
  });

  describe('on a recorded fake of rclnodejs 2.2.0', () => {
    const RESULT = defaultMessage<NavigateToObjectResult>(actionTypes(ACTION_TYPE).result);
    const GOAL: NavigateToObjectGoal = { object_name: 'chair', execute: true, time_budget_s: 0 };
    const POSE = { header: { stamp: { sec: 1, nanosec: 0 }, frame_id: 'map' }, pose: { position: { x: 1, y: 2, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } } };

    async function graphOn(options: FakeOptions = {}, argv = ['node', 'main.js', 'node']) {
      const fake = createFakeRclnodejs(options);
      const graph = await createRclnodejsGraph({ load: () => Promise.resolve(fake.module), argv });
      return { fake, graph };
    }

    /** The node's action server (its execute waits for the stop signal, then ends the goal canceled with the stop reason) and its Nav2 client with one goal out. */
    async function running(graph: RclnodejsGraph, fake: ReturnType<typeof createFakeRclnodejs>, execute?: (h: ServerGoalHandle<NavigateToObjectGoal, NavigateToObjectFeedback, NavigateToObjectResult>) => Promise<void>) {
      graph.createActionServer<NavigateToObjectGoal, NavigateToObjectFeedback, NavigateToObjectResult>('~/navigate_to_object', ACTION_TYPE, {
        execute:
          execute ??
          (async (h) => {
            await new Promise((resolve) => h.signal.addEventListener('abort', resolve, { once: true }));
            h.canceled(RESULT, h.stopReason);
          }),
      });
      const nav2 = graph.createActionClient<NavigateThroughPosesGoal, unknown, NavigateThroughPosesResult>('navigate_through_poses', NAV2_TYPE);
      const leg = await nav2.sendGoal(navigateThroughPosesGoal([POSE], 'jazzy') as NavigateThroughPosesGoal);
      assert.ok(leg.accepted);
      const server = fake.servers[0];
      assert.ok(server);
      const goal = server.requestGoal(GOAL);
      assert.ok(goal, 'accepted');
      await new Promise((r) => setImmediate(r));
      assert.equal(goal.statusName, 'EXECUTING');
      return { goal, server, nav2Goal: fake.clients[0]?.goals[0] };
    }

    it("removes rclnodejs' own SIGINT handler before init (it would destroy the node before any goal is cancelled)", async () => {
      const { fake } = await graphOn();
      assert.deepEqual(fake.calls.slice(0, 2), ['rcl.removeSignalHandlers', 'rcl.init']);
      const kept = createFakeRclnodejs();
      await createRclnodejsGraph({ load: () => Promise.resolve(kept.module), keepRclnodejsSignalHandler: true });
      assert.ok(!kept.calls.includes('rcl.removeSignalHandlers'));
    });

    it('shutdown(): the running goal ends CANCELED with the reason, the outstanding Nav2 goal is cancelled and the answer awaited, then servers, clients and the node are destroyed', async () => {
      const { fake, graph } = await graphOn();
      let refusedDuringShutdown: boolean | undefined;
      let stopReason: string | undefined;
      const { goal, server, nav2Goal } = await running(graph, fake, async (h) => {
        await new Promise((resolve) => h.signal.addEventListener('abort', resolve, { once: true }));
        stopReason = h.stopReason;
        refusedDuringShutdown = server.requestGoal(GOAL) === undefined;
        h.canceled(RESULT, h.stopReason);
      });
      const report = await graph.shutdown({ reason: 'SIGINT', goalTimeoutMs: 1000, cancelTimeoutMs: 1000 });
      assert.equal(stopReason, 'shutdown');
      assert.equal(refusedDuringShutdown, true, 'new goals are refused while shutting down');
      assert.deepEqual(goal.events, ['EXECUTE', 'CANCEL_GOAL', 'CANCELED']);
      assert.equal((await goal.settled).status, GoalStatus.CANCELED, 'the result reached the client');
      assert.equal(nav2Goal?.cancelRequests, 1);
      const at = (c: string) => {
        const i = fake.calls.indexOf(c);
        assert.ok(i >= 0, `${c} in ${fake.calls.join(' | ')}`);
        return i;
      };
      assert.ok(at('ServerGoalHandle CANCELED → CANCELED') < at('ClientGoalHandle.cancelGoal navigate_through_poses'));
      assert.ok(at('ClientGoalHandle.cancelGoal navigate_through_poses') < at('ActionServer.destroy ~/navigate_to_object'));
      assert.ok(at('ActionServer.destroy ~/navigate_to_object') < at('Node.destroy video4spatial_nav'));
      assert.ok(at('ActionClient.destroy navigate_through_poses') < at('Node.destroy video4spatial_nav'));
      assert.deepEqual(report, { reason: 'SIGINT', goalsStopped: 1, goalsForced: 0, cancelsSent: 1, cancelsAcknowledged: 1, cancelsRefused: 0 });
      assert.ok(fake.logs.some((l) => /goal [0-9a-f]{32} canceled: shutdown/.test(l.message)), JSON.stringify(fake.logs));
      // idempotent: the same promise, the node destroyed once
      assert.equal(await graph.shutdown({ reason: 'SIGTERM' }), report);
      graph.destroy();
      assert.equal(fake.calls.filter((c) => c.startsWith('Node.destroy')).length, 1);
      graph.shutdownRcl();
      graph.shutdownRcl();
      assert.equal(fake.calls.filter((c) => c === 'rcl.shutdown').length, 1);
    });

    it('destroy(): calls the action servers\' and clients\' destroy and cancels the outstanding Nav2 goal handle; the running goal ends CANCELED first', async () => {
      const { fake, graph } = await graphOn();
      const { goal, nav2Goal } = await running(graph, fake);
      graph.destroy();
      assert.deepEqual(goal.events, ['EXECUTE', 'CANCEL_GOAL', 'CANCELED']);
      assert.equal(nav2Goal?.cancelRequests, 1);
      const tail = fake.calls.slice(fake.calls.indexOf('ServerGoalHandle CANCEL_GOAL → CANCELING'));
      assert.deepEqual(tail, [
        'ServerGoalHandle CANCEL_GOAL → CANCELING',
        'ServerGoalHandle CANCELED → CANCELED',
        'ActionServer.destroy ~/navigate_to_object',
        'ClientGoalHandle.cancelGoal navigate_through_poses',
        'ActionClient.destroy navigate_through_poses',
        'Node.destroy video4spatial_nav',
      ]);
      graph.destroy();
      assert.equal(fake.calls.filter((c) => c.startsWith('Node.destroy')).length, 1, 'idempotent');
    });

    it('shutdown() is bounded: a goal that ignores its stop signal is ended CANCELED, a Nav2 that never answers the cancel is not waited for', async () => {
      const { fake, graph } = await graphOn({ cancelAnswer: 'silent' });
      let late: unknown;
      const { goal, nav2Goal } = await running(graph, fake, async (h) => {
        await new Promise((r) => setTimeout(r, 400)); // deaf to the signal
        try {
          h.abort(RESULT, 'too late');
        } catch (e) {
          late = e;
        }
      });
      const t0 = Date.now();
      const report = await graph.shutdown({ reason: 'SIGTERM', goalTimeoutMs: 50, cancelTimeoutMs: 50 });
      assert.ok(Date.now() - t0 < 350, `took ${Date.now() - t0} ms`);
      assert.deepEqual(report, { reason: 'SIGTERM', goalsStopped: 1, goalsForced: 1, cancelsSent: 1, cancelsAcknowledged: 0, cancelsRefused: 0 });
      assert.deepEqual(goal.events, ['EXECUTE', 'CANCEL_GOAL', 'CANCELED']);
      assert.equal((await goal.settled).status, GoalStatus.CANCELED, 'the result reached the client before the server was destroyed');
      assert.equal(nav2Goal?.cancelRequests, 1);
      assert.ok(fake.calls.includes('Node.destroy video4spatial_nav'));
      await new Promise((r) => setTimeout(r, 450));
      assert.equal(late, undefined, "the execute's own late ending is ignored, not thrown");
    });

    it("the node's logger takes its level from rcl (--ros-args --log-level), else from the arguments", async () => {
      const debug = await graphOn({ loggerEffectiveLevel: 10 });
      debug.graph.logger.debug('step 3/8');
      assert.deepEqual(debug.fake.logs.map((l) => `${l.level}:${l.message}`), ['debug:step 3/8']);
      const warn = await graphOn({ loggerEffectiveLevel: 30 });
      assert.equal(warn.graph.logger.winston.level, 'warn');
      // an rclnodejs that cannot tell: the arguments, as rcl reads them
      const older = await graphOn({}, ['node', 'main.js', 'node', '--ros-args', '--log-level', 'video4spatial_nav:=debug']);
      assert.equal(older.graph.logger.winston.level, 'debug');
      assert.deepEqual(older.fake.initArgv?.slice(-3), ['--ros-args', '--log-level', 'video4spatial_nav:=debug']);
      assert.equal((await graphOn({})).graph.logger.winston.level, 'info');
    });

    describe('parameters: `ros2 param set` gets the node\'s own messages, with the name and the value', () => {
      async function declared(options: FakeOptions = {}) {
        const { fake, graph } = await graphOn(options);
        const params = NodeParameters.declare(graph.parameters, graph.logger);
        const node = fake.nodes[0];
        assert.ok(node);
        return { fake, graph, params, node };
      }

      it('read-only parameters are refused by the node, not by rclnodejs ("Parameter image_topic is readonly")', async () => {
        const { node } = await declared();
        const [r] = node.setParameters([new Parameter('image_topic', ParameterType.PARAMETER_STRING, '/camera/image')]);
        assert.deepEqual(r, { successful: false, reason: 'parameter \'image_topic\' = "/camera/image": read-only at runtime (set it in the params file and restart)' });
        const d = node.descriptor('image_topic');
        assert.equal(d?.readOnly, false);
        assert.match(d?.additionalConstraints ?? '', new RegExp(`a ROS topic name; ${READ_ONLY_CONSTRAINT.replace(/[()]/g, '\\$&')}`));
        assert.equal(node.descriptor('steps')?.additionalConstraints, 'range [1, 1000]');
      });

      it('a value of another type is judged by the node ("Parameter steps does not  readonly" from rclnodejs before); an integer for a double is taken', async () => {
        const { node, params } = await declared();
        const [bad] = node.setParameters([new Parameter('steps', ParameterType.PARAMETER_STRING, 'eight')]);
        assert.deepEqual(bad, { successful: false, reason: 'parameter \'steps\' = "eight": expected an integer' });
        const [flag] = node.setParameters([new Parameter('candidates', ParameterType.PARAMETER_BOOL, true)]);
        assert.deepEqual(flag, { successful: false, reason: "parameter 'candidates' = true: expected an integer" });
        assert.equal(node.getParameter('steps').value, 8n, 'unchanged');
        const [ok] = node.setParameters([new Parameter('guidance_scale', ParameterType.PARAMETER_INTEGER, 4n)]);
        assert.deepEqual(ok, { successful: true, reason: '' });
        assert.equal(params.values.guidance_scale, 4);
        assert.equal(node.getParameter('guidance_scale').type, ParameterType.PARAMETER_DOUBLE);
        const [range] = node.setParameters([new Parameter('steps', ParameterType.PARAMETER_INTEGER, 0n)]);
        assert.deepEqual(range, { successful: false, reason: "parameter 'steps' = 0: below the minimum 1" });
        const [fine] = node.setParameters([new Parameter('steps', ParameterType.PARAMETER_INTEGER, 12n)]);
        assert.ok(fine?.successful);
        assert.equal(params.values.steps, 12);
      });

      it('start-up overrides of another type: an integer for a double is taken, anything else is replaced by the default with the node\'s warning; corrections of read-only parameters are written back', async () => {
        const { fake, params, node } = await declared({
          overrides: [
            new Parameter('guidance_scale', ParameterType.PARAMETER_INTEGER, 5n),
            new Parameter('steps', ParameterType.PARAMETER_STRING, 'eight'),
            new Parameter('robot_frame', ParameterType.PARAMETER_STRING, 'map'),
          ],
        });
        assert.equal(params.values.guidance_scale, 5);
        assert.equal(params.values.steps, 8);
        const warnings = fake.logs.filter((l) => l.level === 'warn').map((l) => l.message);
        assert.ok(warnings.includes('parameter \'steps\' = "eight": expected an integer; using the default 8'), warnings.join('\n'));
        assert.ok(!warnings.some((w) => /refused by rclnodejs|could not be written back/.test(w)), warnings.join('\n'));
        assert.equal(params.values.robot_frame, 'base_link');
        assert.equal(node.getParameter('robot_frame').value, 'base_link', '`ros2 param get` shows the corrected value');
      });

      it('an rclnodejs without pre-set callbacks keeps its own message for a type change', async () => {
        const { node } = await declared({ noPreSetCallbacks: true });
        const [bad] = node.setParameters([new Parameter('steps', ParameterType.PARAMETER_STRING, 'eight')]);
        assert.deepEqual(bad, { successful: false, reason: 'Parameter steps does not  readonly' });
      });
    });
  });
});
