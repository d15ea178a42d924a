/**
 * `sim --live` end to end over a real socket on 127.0.0.1, with the real @foxglove/ws-protocol
 * FoxgloveClient and the live simulator (LiveSim, 4× real time, a test-double imagination): the
 * latched /map reaches a late client; a Twist from the client moves the simulated robot (seen in
 * /tf on the client), a zero Twist stops it, a Twist that is not repeated stops it after the
 * timeout; a name on ~/goal_object starts a goal whose plan and markers reach the client, the
 * operator's Twists take the base from the Nav2 leg meanwhile, an unknown name and a cancel ('')
 * end goals with their reports (the node's outcome and the ground
 * truth). The command itself: --help, bad flags, and SIGINT (exit 0, server closed).
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Channel, IWebSocket, MessageData } from '@foxglove/ws-protocol';
import wsProtocol from '@foxglove/ws-protocol';
import { WebSocket } from 'ws';
import type { Pose2D } from '../../src/core/geometry.js';
import { angleDiff, quaternionToYaw } from '../../src/core/geometry.js';
import { FoxgloveLive } from '../../src/live/foxgloveLive.js';
import { decodeMessage, encodeMessage } from '../../src/ros/messages/index.js';
import type { OccupancyGridMsg, TFMessage, Twist } from '../../src/ros/messages/types.js';
import { GOAL_TOPIC, goalReportLine, LiveSim, TELEOP_TOPIC } from '../../src/sim/liveSim.js';
import { makeScenario } from '../../src/sim/scenario.js';
import { GroundTruthImagination, lineLogger, MANIFEST } from '../ros/harness.js';

const { FoxgloveClient } = wsProtocol;
const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

async function waitFor(cond: () => boolean, what: string, timeoutMs = 20000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const bytesOf = (m: MessageData) => new Uint8Array(m.data.buffer, m.data.byteOffset, m.data.byteLength);
const twist = (v: number, w: number) => encodeMessage('geometry_msgs/msg/Twist', { linear: { x: v, y: 0, z: 0 }, angular: { x: 0, y: 0, z: w } } satisfies Twist);

function connect(url: string) {
  const ws = new WebSocket(url, [FoxgloveClient.SUPPORTED_SUBPROTOCOL]);
  const client = new FoxgloveClient({ ws: ws as unknown as IWebSocket });
  const channels = new Map<string, Channel>();
  const byTopic = new Map<number, string>();
  const messages: { topic: string; data: MessageData }[] = [];
  let open = false;
  client.on('open', () => (open = true));
  client.on('advertise', (cs) => cs.forEach((c) => channels.set(c.topic, c)));
  client.on('message', (m) => messages.push({ topic: byTopic.get(m.subscriptionId) ?? '?', data: m }));
  const subscribe = (topic: string) => byTopic.set(client.subscribe((channels.get(topic) as Channel).id), topic);
  const on = (topic: string) => messages.filter((m) => m.topic === topic);
  return { client, channels, subscribe, on, isOpen: () => open };
}

/** The robot's pose in the newest /tf the client received (odom→base_link; map→odom is identity). */
function tfPose(msgs: { data: MessageData }[]): Pose2D | undefined {
  const last = msgs.at(-1);
  if (!last) return undefined;
  const t = decodeMessage<TFMessage>('tf2_msgs/msg/TFMessage', bytesOf(last.data)).transforms.find((x) => x.child_frame_id === 'base_link');
  return t ? { x: t.transform.translation.x, y: t.transform.translation.y, yaw: quaternionToYaw(t.transform.rotation) } : undefined;
}

describe('sim --live (real FoxgloveClient over 127.0.0.1)', function () {
  this.timeout(120000);

  it('teleop from the client drives the robot and a stop stops it; a goal name starts a goal; each end is reported with the ground truth', async () => {
    const sc = makeScenario(103);
    const log = lineLogger();
    const live = await FoxgloveLive.listen({ port: 0 });
    let sim: LiveSim | undefined;
    const model = new GroundTruthImagination(sc, () => sim?.node.ingest.buffer.entries().at(-1)?.pose ?? sc.start);
    const started: string[] = [];
    sim = await LiveSim.start({ scenario: sc, model, manifest: MANIFEST, logger: log.logger, speed: 4, parameters: { candidates: 1, steps: 2 }, tap: (bus) => live.attach(bus), onGoalStart: (n, o) => started.push(`${n}:${o}`) });
    const s = sim;
    const stop = new AbortController();
    const running = s.run({ signal: stop.signal });
    const c = connect(live.url);
    try {
      await waitFor(c.isOpen, 'the connection');
      const wanted = ['/tf', '/map', '/sim/objects', '/camera/image_raw', TELEOP_TOPIC, GOAL_TOPIC, '/video4spatial_nav/plan', '/video4spatial_nav/markers'];
      await waitFor(() => wanted.every((t) => c.channels.has(t)), `channels ${wanted.join(', ')}`);
      for (const t of ['/tf', '/map', '/video4spatial_nav/plan', '/video4spatial_nav/markers']) c.subscribe(t);
      // the map was latched before the client came
      await waitFor(() => c.on('/map').length > 0, 'the latched /map');
      const map = decodeMessage<OccupancyGridMsg>('nav_msgs/msg/OccupancyGrid', bytesOf((c.on('/map')[0] as { data: MessageData }).data));
      assert.deepEqual([map.info.width, map.info.height], [sc.world.grid.width, sc.world.grid.height]);
      await waitFor(() => c.on('/tf').length > 2, 'the robot standing on /tf');
      const before = tfPose(c.on('/tf')) as Pose2D;

      // drive: forward and left at 5 Hz of simulated time (every 50 ms at 4×), for about 2 simulated s
      const teleopCh = c.client.advertise({ topic: TELEOP_TOPIC, encoding: 'cdr', schemaName: 'geometry_msgs/msg/Twist' });
      for (let i = 0; i < 10; i++) {
        c.client.sendMessage(teleopCh, twist(0.4, 0.5));
        await sleep(50);
      }
      await waitFor(() => s.teleop.stats.received >= 10, 'the twists at the simulator');
      const driven = s.robot.pose;
      assert.ok(s.steps.teleop >= 5, `teleop steps ${s.steps.teleop}`);
      assert.ok(Math.abs(angleDiff(driven.yaw, before.yaw)) > 0.3, `turned: yaw ${before.yaw} → ${driven.yaw}`);
      await waitFor(() => {
        const p = tfPose(c.on('/tf'));
        return p !== undefined && Math.hypot(p.x - before.x, p.y - before.y) + Math.abs(angleDiff(p.yaw, before.yaw)) > 0.3;
      }, 'the move on the client’s /tf');

      // a zero Twist: stopped at once, and it stays stopped
      c.client.sendMessage(teleopCh, twist(0, 0));
      await waitFor(() => s.teleop.stats.received >= 11, 'the zero twist');
      await sleep(60); // a tick to apply it
      const stopped = s.robot.pose;
      await sleep(500); // 2 simulated s
      assert.deepEqual(s.robot.pose, stopped, 'a zero Twist stops the robot');

      // one Twist and no more: at most TELEOP_TIMEOUT_S of driving (3 steps), then it stands
      const teleopSteps = s.steps.teleop;
      c.client.sendMessage(teleopCh, twist(0, 1));
      await sleep(600);
      const ran = s.steps.teleop - teleopSteps;
      assert.ok(ran >= 1 && ran <= 3, `${ran} steps on one Twist`);
      const after = s.robot.pose;
      await sleep(300);
      assert.deepEqual(s.robot.pose, after, 'no Twist for the timeout: it stands');

      // an unknown name: the node rejects the goal; the report says so
      const goalCh = c.client.advertise({ topic: GOAL_TOPIC, encoding: 'cdr', schemaName: 'std_msgs/msg/String' });
      c.client.sendMessage(goalCh, encodeMessage('std_msgs/msg/String', { data: 'unicorn' }));
      await waitFor(() => s.goals.length === 1, 'the rejected goal’s report');
      assert.deepEqual([s.goals[0]?.outcome, s.goals[0]?.code, s.goals[0]?.object], ['rejected', 'unknown_object', 'unicorn']);
      assert.match(goalReportLine(s.goals[0]!), /^goal 1 'unicorn': node rejected \(unknown_object\); ground truth: this world has no unicorn;/);

      // a real name: the goal starts, its plan and markers reach the client; '' cancels it
      c.client.sendMessage(goalCh, encodeMessage('std_msgs/msg/String', { data: sc.target.category }));
      await waitFor(() => c.on('/video4spatial_nav/plan').length > 0, 'the plan on the client', 60000);
      await waitFor(() => c.on('/video4spatial_nav/markers').length > 0, 'the markers on the client');
      assert.deepEqual(started, ['1:unicorn', `2:${sc.target.category}`]);
      // the operator takes over during the goal: teleop has the base, the Nav2 leg holds (no step of it)
      const received = s.teleop.stats.received;
      c.client.sendMessage(teleopCh, twist(0, 0.5));
      await waitFor(() => s.teleop.stats.received > received, 'the takeover twist');
      const [nav2Steps, takeoverSteps] = [s.steps.nav2, s.steps.teleop];
      assert.ok(s.nav.executing, 'a Nav2 leg runs when the operator takes over');
      for (let i = 0; i < 6; i++) {
        await sleep(50);
        c.client.sendMessage(teleopCh, twist(0, 0.5));
      }
      await waitFor(() => s.teleop.stats.received >= received + 7, 'the takeover twists');
      assert.equal(s.steps.nav2, nav2Steps, 'no Nav2 step while the operator drives');
      assert.ok(s.steps.teleop - takeoverSteps >= 3, `${s.steps.teleop - takeoverSteps} teleop steps during the takeover`);
      c.client.sendMessage(teleopCh, twist(0, 0));
      c.client.sendMessage(goalCh, encodeMessage('std_msgs/msg/String', { data: '' }));
      await waitFor(() => s.goals.length === 2, 'the second goal’s report', 60000);
      const r = s.goals[1]!;
      assert.equal(r.object, sc.target.category);
      // cancelled, unless it was faster than the cancel (the double imagines the truth)
      assert.ok(r.outcome === 'canceled' || r.outcome === 'succeeded', goalReportLine(r));
      assert.equal(r.target?.category, sc.target.category);
      assert.ok(r.judgement && Number.isFinite(r.judgement.distanceM));
      assert.match(goalReportLine(r), new RegExp(`^goal 2 '${sc.target.category}': node (canceled|succeeded); ground truth: (NOT )?ARRIVED, \\d+\\.\\d\\d m from the ${sc.target.category}`));
    } finally {
      stop.abort();
      assert.equal(await running, 'signal');
      await s.shutdown('test');
      c.client.close();
      await live.stop();
    }
    assert.equal(s.callbackErrors, 0, log.lines.filter((l) => l.startsWith('error')).join('\n'));
  });

  it('the command: refuses without --live and quotes bad values; SIGINT stops it cleanly (exit 0, server closed)', async () => {
    const runCli = (args: string[], onErr?: (text: string, kill: () => void) => void) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const p = spawn(process.execPath, [CLI, ...args]);
        let stderr = '';
        p.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
          onErr?.(stderr, () => p.kill('SIGINT'));
        });
        p.on('close', (code) => resolve({ code, stderr }));
      });
    const none = await runCli(['sim']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /sim needs --live/);
    const port = await runCli(['sim', '--live', '--port', '70000']);
    assert.match(port.stderr, /--port must be <= 65535, got 70000/);
    const dur = await runCli(['sim', '--live', '--duration', 'soon']);
    assert.match(dur.stderr, /--duration must be a number, got 'soon'/);
    const extra = await runCli(['sim', '--live', 'chair']);
    assert.match(extra.stderr, /sim takes no positional arguments, got 'chair'/);
    let url = '';
    let sent = false;
    const r = await runCli(['sim', '--live', '--port', '0', '--seed', '103', '--extraction-threads', '1'], (text, kill) => {
      const m = /live view: (ws:\/\/127\.0\.0\.1:\d+)/.exec(text);
      if (m && !sent) {
        sent = true;
        url = m[1] as string;
        kill();
      }
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /stopped \(SIGINT\): 0 goal\(s\) ended/);
    // the server is closed
    const again = connect(url);
    let closed = false;
    again.client.on('close', () => (closed = true));
    await waitFor(() => closed, 'the refused connection');
    assert.equal(again.isOpen(), false);
  });
});
