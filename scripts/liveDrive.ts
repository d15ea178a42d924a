/**
 * A scripted operator for `sim --live`: a Foxglove WebSocket client that does what a person does in
 * Foxglove Studio's Teleop and Publish panels (turn, drive, stop; ask for an object by name) and
 * prints what it sees: the robot's pose from /tf, the map, each plan, object estimate, imagined
 * frames and markers, the node's goal counters from /diagnostics, the server's status messages.
 * Stops when the node's goal ends (its counters on /diagnostics) or after SECONDS.
 *   node dist/scripts/liveDrive.js [PORT] [NAME] [SECONDS]   (default 8765, plant, 180)
 */
import type { Channel, IWebSocket, MessageData } from '@foxglove/ws-protocol';
import wsProtocol from '@foxglove/ws-protocol';
import { WebSocket } from 'ws';
import { quaternionToYaw } from '../src/core/geometry.js';
import { decodeMessage, encodeMessage } from '../src/ros/messages/index.js';
import type { DiagnosticArray, Image, MarkerArray, OccupancyGridMsg, Path, PoseStamped, TFMessage, Twist } from '../src/ros/messages/types.js';

const { FoxgloveClient } = wsProtocol;
const port = Number(process.argv[2] ?? 8765);
const name = process.argv[3] ?? 'plant';
const seconds = Number(process.argv[4] ?? 180);
const url = `ws://127.0.0.1:${port}`;
const TELEOP = '/cmd_vel_teleop';
const GOAL = '/video4spatial_nav/goal_object';
/** The Teleop panel of the shipped layout publishes at 5 Hz. */
const TELEOP_PERIOD_MS = 200;
const t0 = performance.now();
const say = (s: string) => console.log(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${s}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const channels = new Map<string, Channel>();
const topicOf = new Map<number, string>();
const state = { pose: undefined as { x: number; y: number; yaw: number } | undefined, plans: 0, imagined: 0, markers: 0, frames: 0, counters: new Map<string, string>(), ended: false };
const GOAL_COUNTERS = ['goals', 'goals_rejected', 'goals_succeeded', 'goals_aborted', 'goals_canceled', 'plans', 'false_arrivals_caught'];
const poseText = () => (state.pose ? `(${state.pose.x.toFixed(2)}, ${state.pose.y.toFixed(2)}, yaw ${((state.pose.yaw * 180) / Math.PI).toFixed(0)}°)` : '(no /tf yet)');

function onMessage(topic: string, m: MessageData): void {
  const bytes = new Uint8Array(m.data.buffer, m.data.byteOffset, m.data.byteLength);
  if (topic === '/tf') {
    const t = decodeMessage<TFMessage>('tf2_msgs/msg/TFMessage', bytes).transforms.find((x) => x.child_frame_id === 'base_link');
    if (t) state.pose = { x: t.transform.translation.x, y: t.transform.translation.y, yaw: quaternionToYaw(t.transform.rotation) };
  } else if (topic === '/map') {
    const g = decodeMessage<OccupancyGridMsg>('nav_msgs/msg/OccupancyGrid', bytes);
    say(`/map: ${g.info.width}×${g.info.height} cells of ${g.info.resolution.toFixed(3)} m, ${Array.from(g.data).filter((v) => v === 100).length} occupied`);
  } else if (topic === '/camera/image_raw') state.frames++;
  else if (topic === '/video4spatial_nav/plan') {
    const p = decodeMessage<Path>('nav_msgs/msg/Path', bytes);
    const g = p.poses.at(-1)?.pose.position;
    say(`plan ${++state.plans}: ${p.poses.length} pose(s) in '${p.header.frame_id}', goal (${g?.x.toFixed(2)}, ${g?.y.toFixed(2)}); robot at ${poseText()}`);
  } else if (topic === '/video4spatial_nav/object_pose') {
    const o = decodeMessage<PoseStamped>('geometry_msgs/msg/PoseStamped', bytes).pose.position;
    say(`object estimate: (${o.x.toFixed(2)}, ${o.y.toFixed(2)})`);
  } else if (topic === '/video4spatial_nav/imagined') {
    const i = decodeMessage<Image>('sensor_msgs/msg/Image', bytes);
    if (++state.imagined % 6 === 1) say(`imagined frames: ${i.width}×${i.height} ${i.encoding} (${state.imagined} so far)`);
  } else if (topic === '/video4spatial_nav/markers') {
    const a = decodeMessage<MarkerArray>('visualization_msgs/msg/MarkerArray', bytes);
    state.markers++;
    say(`markers: ${a.markers.map((k) => k.ns || 'DELETEALL').join(', ')}`);
  } else if (topic === '/diagnostics') {
    const node = decodeMessage<DiagnosticArray>('diagnostic_msgs/msg/DiagnosticArray', bytes).status.find((s) => s.name === 'video4spatial_nav: node');
    if (!node) return;
    const changed: string[] = [];
    for (const kv of node.values) {
      if (!GOAL_COUNTERS.includes(kv.key) && !kv.key.startsWith('aborted.') && !kv.key.startsWith('rejected.')) continue;
      const before = state.counters.get(kv.key);
      if (before !== kv.value) changed.push(`${kv.key} ${before ?? '-'}→${kv.value}`);
      state.counters.set(kv.key, kv.value);
    }
    if (changed.length > 0) say(`/diagnostics node: ${changed.join(', ')}`);
    const ended = ['goals_succeeded', 'goals_aborted', 'goals_canceled'].reduce((n, k) => n + Number(state.counters.get(k) ?? 0), 0);
    if (ended > 0) state.ended = true;
  }
}

async function connect(): Promise<InstanceType<typeof FoxgloveClient>> {
  for (let tries = 0; ; tries++) {
    try {
      return await new Promise((resolve, reject) => {
        const ws = new WebSocket(url, [FoxgloveClient.SUPPORTED_SUBPROTOCOL]);
        ws.once('error', reject);
        const client = new FoxgloveClient({ ws: ws as unknown as IWebSocket });
        let opened = false;
        client.on('open', () => {
          opened = true;
          resolve(client);
        });
        client.on('advertise', (cs) => cs.forEach((c) => channels.set(c.topic, c)));
        client.on('message', (m) => onMessage(topicOf.get(m.subscriptionId) ?? '', m));
        client.on('status', (s) => say(`server status ${s.level}: ${s.message}`));
        // a refused attempt closes too: the server is not up yet, try again
        client.on('close', () => (opened ? say('the server closed the connection') : reject(new Error(`no server on ${url}`))));
      });
    } catch (e) {
      if (tries > 600) throw e;
      await sleep(100);
    }
  }
}

const client = await connect();
say(`connected to ${url}`);
const watch = ['/tf', '/map', '/camera/image_raw', '/video4spatial_nav/plan', '/video4spatial_nav/object_pose', '/video4spatial_nav/imagined', '/video4spatial_nav/markers', '/diagnostics'];
const tWait = performance.now();
while (!watch.every((t) => channels.has(t)) && performance.now() - tWait < 10000) await sleep(50);
say(`${channels.size} channels: ${[...channels.keys()].sort().join(', ')}`);
for (const t of watch) {
  const ch = channels.get(t);
  if (ch) topicOf.set(client.subscribe(ch.id), t);
  else say(`not served: ${t}`);
}
await sleep(1500);
say(`robot at ${poseText()}; ${state.frames} camera frame(s) so far`);

const twistCh = client.advertise({ topic: TELEOP, encoding: 'cdr', schemaName: 'geometry_msgs/msg/Twist' });
const drive = async (what: string, v: number, w: number, ms: number) => {
  say(`teleop: ${what} (linear.x ${v}, angular.z ${w}) for ${ms / 1000} s at 5 Hz`);
  const msg = encodeMessage('geometry_msgs/msg/Twist', { linear: { x: v, y: 0, z: 0 }, angular: { x: 0, y: 0, z: w } } satisfies Twist);
  for (let t = 0; t < ms; t += TELEOP_PERIOD_MS) {
    client.sendMessage(twistCh, msg);
    await sleep(TELEOP_PERIOD_MS);
  }
  await sleep(300);
  say(`robot at ${poseText()}`);
};
await drive('turn left', 0, 0.8, 2000);
await drive('forward', 0.3, 0, 2000);
say('teleop: stop (a zero Twist)');
client.sendMessage(twistCh, encodeMessage('geometry_msgs/msg/Twist', { linear: { x: 0, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } } satisfies Twist));
await sleep(400);
const stoppedAt = poseText();
await sleep(1500);
say(`robot at ${stoppedAt}, 1.5 s later ${poseText()}`);

const goalCh = client.advertise({ topic: GOAL, encoding: 'cdr', schemaName: 'std_msgs/msg/String' });
client.sendMessage(goalCh, encodeMessage('std_msgs/msg/String', { data: name }));
say(`asked for '${name}' on ${GOAL}`);
const tGoal = performance.now();
let lastPose = '';
let lastPrint = 0;
while (!state.ended && performance.now() - tGoal < seconds * 1000) {
  await sleep(100);
  const p = poseText();
  if (p !== lastPose && performance.now() - lastPrint > 3000) {
    say(`robot at ${p}`);
    lastPrint = performance.now();
  }
  lastPose = p;
}
say(state.ended ? `the goal ended; robot at ${poseText()}` : `no end of the goal within ${seconds} s; robot at ${poseText()}`);
say(`seen: ${state.frames} camera frames, ${state.plans} plan(s), ${state.imagined} imagined frames, ${state.markers} marker arrays`);
client.close();
process.exit(0);
