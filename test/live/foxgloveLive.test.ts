/**
 * The Foxglove live view over a real socket on 127.0.0.1, with the real @foxglove/ws-protocol
 * FoxgloveClient: the simulated robot and the node's topics are advertised with their ROS 2
 * schemas, a latched topic (/tf_static) is replayed to a client that subscribes late, camera frames arrive as CDR, a goal name published from the client starts a goal, and
 * bad client input gets an ERROR status (never a crash); stop() closes the socket.
 */
import { strict as assert } from 'node:assert';
import type { Channel, IWebSocket, MessageData, StatusMessage } from '@foxglove/ws-protocol';
import wsProtocol from '@foxglove/ws-protocol';
import { WebSocket } from 'ws';
import { FoxgloveLive, nodeInputTopics } from '../../src/live/foxgloveLive.js';
import { decodeMessage, encodeMessage } from '../../src/ros/messages/index.js';
import type { Image, TFMessage } from '../../src/ros/messages/types.js';
import { explore, setup } from '../ros/harness.js';

const { FoxgloveClient, StatusLevel } = wsProtocol;

/** Polls `cond` every 5 ms of real time (the socket runs on the event loop). */
async function waitFor(cond: () => boolean, what: string, timeoutMs = 20000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function connect(url: string) {
  const ws = new WebSocket(url, [FoxgloveClient.SUPPORTED_SUBPROTOCOL]);
  const client = new FoxgloveClient({ ws: ws as unknown as IWebSocket });
  const channels = new Map<string, Channel>();
  const statuses: StatusMessage[] = [];
  const messages: MessageData[] = [];
  let open = false;
  let closed = false;
  client.on('open', () => (open = true));
  client.on('close', () => (closed = true));
  client.on('advertise', (cs) => cs.forEach((c) => channels.set(c.topic, c)));
  client.on('status', (s) => statuses.push(s));
  client.on('message', (m) => messages.push(m));
  return { client, channels, statuses, messages, isOpen: () => open, isClosed: () => closed };
}

describe('foxglove live view (real FoxgloveClient over 127.0.0.1)', function () {
  this.timeout(120000);

  it('advertises the graph with ROS 2 schemas, streams camera CDR, takes a goal from the client, answers bad input with an error status', async () => {
    const s = setup(103);
    assert.ok(s.nodeGraph.setParameters([{ name: 'execute_default', value: false }]).successful);
    const live = await FoxgloveLive.listen({ port: 0 });
    live.attach(s.bus);
    assert.match(live.url, /^ws:\/\/127\.0\.0\.1:\d+$/);
    const c = connect(live.url);
    try {
      await waitFor(c.isOpen, 'the connection');
      const wanted = ['/camera/image_raw', '/tf', '/tf_static', '/video4spatial_nav/plan', '/video4spatial_nav/imagined', '/video4spatial_nav/goal_object'];
      await waitFor(() => wanted.every((t) => c.channels.has(t)), `channels ${wanted.join(', ')}`);
      const cam = c.channels.get('/camera/image_raw') as Channel;
      assert.equal(cam.encoding, 'cdr');
      assert.equal(cam.schemaEncoding, 'ros2msg');
      assert.equal(cam.schemaName, 'sensor_msgs/msg/Image');
      assert.match(cam.schema, /^uint32 height$/m);
      assert.match(cam.schema, /^MSG: std_msgs\/Header$/m);
      assert.equal(c.channels.get('/tf')?.schemaName, 'tf2_msgs/msg/TFMessage');
      assert.equal(c.channels.get('/video4spatial_nav/plan')?.schemaName, 'nav_msgs/msg/Path');
      assert.match(c.channels.get('/video4spatial_nav/imagined')?.schema ?? '', /\S/);

      // /tf_static was published before the client came: the server replays what its latched publisher keeps
      const staticSub = c.client.subscribe((c.channels.get('/tf_static') as Channel).id);
      await waitFor(() => c.messages.some((m) => m.subscriptionId === staticSub), 'the latched /tf_static');
      const st = c.messages.find((m) => m.subscriptionId === staticSub) as MessageData;
      const tfs = decodeMessage<TFMessage>('tf2_msgs/msg/TFMessage', new Uint8Array(st.data.buffer, st.data.byteOffset, st.data.byteLength));
      assert.equal(tfs.transforms[0]?.child_frame_id, 'camera_optical_frame');

      // camera frames as CDR
      const camSub = c.client.subscribe(cam.id);
      const planSub = c.client.subscribe((c.channels.get('/video4spatial_nav/plan') as Channel).id);
      await new Promise((r) => setTimeout(r, 50)); // the subscribe reaches the server
      await explore(s);
      await waitFor(() => c.messages.some((m) => m.subscriptionId === camSub), 'a camera frame');
      const frame = c.messages.find((m) => m.subscriptionId === camSub) as MessageData;
      const img = decodeMessage<Image>('sensor_msgs/msg/Image', new Uint8Array(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength));
      assert.equal(img.width, 128);
      assert.equal(img.encoding, 'rgb8');
      assert.ok(frame.timestamp > 0n, 'stamped with the bus clock');

      // bad input: each gets an ERROR status quoting the bad value, the server goes on
      const [goalTopic, teleopTopic] = nodeInputTopics();
      const errorMatching = (re: RegExp) => () => c.statuses.some((st) => st.level === StatusLevel.ERROR && re.test(st.message));
      c.client.sendMessage(999, new Uint8Array([0, 1, 0, 0]));
      await waitFor(errorMatching(/unknown channel id 999/), 'the unknown-channel error');
      c.client.advertise({ topic: '/cmd_vel', encoding: 'cdr', schemaName: 'geometry_msgs/msg/Twist' });
      await waitFor(errorMatching(/topic '\/cmd_vel' is not accepted/), 'the refused-topic error');
      const goalCh = c.client.advertise({ topic: goalTopic!.topic, encoding: 'cdr', schemaName: 'std_msgs/msg/String' });
      c.client.sendMessage(goalCh, new Uint8Array([0xde, 0xad, 0xbe]));
      await waitFor(errorMatching(/3 bytes \(de ad be\) are not a cdr std_msgs\/msg\/String/), 'the malformed-CDR error');
      c.client.sendMessage(goalCh, new Uint8Array([0, 1, 0, 0, 0xff, 0xff, 0xff, 0x7f, 0x41]));
      await waitFor(errorMatching(/9 bytes \(00 01 00 00 ff ff ff 7f 41\) are not a cdr/), 'the bad-length error');
      const jsonCh = c.client.advertise({ topic: goalTopic!.topic, encoding: 'json', schemaName: 'std_msgs/String' });
      c.client.sendMessage(jsonCh, new TextEncoder().encode('{"data": '));
      await waitFor(errorMatching(/9 bytes \(7b 22 64 61 74 61 22 3a 20\) are not a json std_msgs\/msg\/String/), 'the malformed-JSON error');
      c.client.sendMessage(jsonCh, new TextEncoder().encode('{"name": "chair"}'));
      await waitFor(errorMatching(/not a valid std_msgs\/msg\/String: .*name/), 'the wrong-field error');
      const teleopCh = c.client.advertise({ topic: teleopTopic!.topic, encoding: 'cdr', schemaName: 'geometry_msgs/msg/Twist' });
      const still = encodeMessage('geometry_msgs/msg/Twist', { linear: { x: 0, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } });
      for (let i = 0; i < 2 * live.maxClientMessagesPerS + 20; i++) c.client.sendMessage(teleopCh, still);
      await waitFor(errorMatching(/too many messages: more than 50 per second/), 'the rate error');
      assert.equal(s.node.stats.goals, 0);

      // a goal from the client: the node starts it and its ~/plan reaches the client
      await new Promise((r) => setTimeout(r, 1000)); // a fresh rate window
      c.client.sendMessage(goalCh, encodeMessage('std_msgs/msg/String', { data: s.sc.target.category }));
      await s.bus.spinUntil(() => s.node.stats.goals > 0, { timeoutMs: 20000, what: 'the goal from the client' });
      await waitFor(() => c.messages.some((m) => m.subscriptionId === planSub), 'the plan on the client', 60000);
      assert.equal(s.node.stats.goals, 1);
      // stop() closes the client's socket from the server side
      await live.stop();
      await waitFor(c.isClosed, 'the server closing the socket');
    } finally {
      c.client.close();
      await live.stop();
    }
    await live.stop(); // idempotent
    // the port is closed
    const again = connect(live.url);
    await waitFor(again.isClosed, 'the refused connection');
    assert.equal(again.isOpen(), false);
  });

  it('listen reports a port in use by name', async () => {
    const a = await FoxgloveLive.listen({ port: 0 });
    try {
      await assert.rejects(FoxgloveLive.listen({ port: a.port }), new RegExp(`cannot listen on 127\\.0\\.0\\.1:${a.port}: the port is in use`));
    } finally {
      await a.stop();
    }
  });
});
