/**
 * docs/foxglove/video4spatial_nav.layout.json cannot go stale silently: every panel is in the
 * layout tree and every panel in the tree has a config; every topic a panel names is one the live
 * server of `sim --live` advertises (with the type the panel expects; the Teleop and Publish panels'
 * topics are ones the server accepts from clients); every frame it names is on /tf or /tf_static;
 * the Teleop panel publishes faster than the base's timeout within its limits, and the Publish
 * panel asks for a name the shipped model knows. A panel type the checker does not know fails it.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Channel, IWebSocket, MessageData } from '@foxglove/ws-protocol';
import wsProtocol from '@foxglove/ws-protocol';
import { WebSocket } from 'ws';
import { LAYOUT_FILE } from '../../src/cli/commands/sim.js';
import { FoxgloveLive } from '../../src/live/foxgloveLive.js';
import { defaultModelDir, readManifest } from '../../src/model/OnnxImaginationModel.js';
import { decodeMessage } from '../../src/ros/messages/index.js';
import type { TFMessage } from '../../src/ros/messages/types.js';
import { LiveSim, TELEOP_TOPIC } from '../../src/sim/liveSim.js';
import { makeScenario } from '../../src/sim/scenario.js';
import { TELEOP_MAX_ANGULAR, TELEOP_MAX_LINEAR, TELEOP_TIMEOUT_S } from '../../src/sim/teleop.js';
import { GreyImagination, lineLogger, MANIFEST } from '../ros/harness.js';

const { FoxgloveClient } = wsProtocol;
const LAYOUT = fileURLToPath(new URL(`../../../${LAYOUT_FILE}`, import.meta.url));

type Json = Record<string, unknown>;
interface Layout {
  configById: Record<string, Json>;
  layout: unknown;
}
/** A topic a panel names, and the type it must carry (undefined: any served type). */
interface Named {
  panel: string;
  topic: string;
  type: string | undefined;
  /** The panel publishes on it: the server must accept it from clients. */
  publishes: boolean;
}

/** Panel ids in the mosaic tree (leaves are ids, nodes have first/second). */
function leaves(node: unknown): string[] {
  if (typeof node === 'string') return [node];
  const n = node as { first?: unknown; second?: unknown; direction?: unknown };
  assert.ok(n && n.first !== undefined && n.second !== undefined && (n.direction === 'row' || n.direction === 'column'), `not a layout node: ${JSON.stringify(node)}`);
  return [...leaves(n.first), ...leaves(n.second)];
}

/** What each known panel type names: topics (with types) and frames. */
function named(layout: Layout): { topics: Named[]; frames: { panel: string; frame: string }[] } {
  const topics: Named[] = [];
  const frames: { panel: string; frame: string }[] = [];
  const add = (panel: string, topic: unknown, type: string | undefined, publishes = false) => {
    assert.equal(typeof topic, 'string', `${panel}: a topic that is not a string (${JSON.stringify(topic)})`);
    topics.push({ panel, topic: topic as string, type, publishes });
  };
  for (const [id, c] of Object.entries(layout.configById)) {
    const kind = id.split('!')[0];
    if (kind === 'Image') {
      const m = c['imageMode'] as Json;
      add(id, m['imageTopic'], 'sensor_msgs/msg/Image');
      if (m['calibrationTopic'] !== undefined) add(id, m['calibrationTopic'], 'sensor_msgs/msg/CameraInfo');
    } else if (kind === '3D') {
      for (const t of Object.keys(c['topics'] as Json)) add(id, t, undefined);
      if (c['followTf'] !== undefined) frames.push({ panel: id, frame: c['followTf'] as string });
      for (const k of Object.keys((c['transforms'] as Json | undefined) ?? {})) frames.push({ panel: id, frame: k.replace(/^frame:/, '') });
      for (const l of Object.values((c['layers'] as Record<string, Json> | undefined) ?? {})) if (l['frameId'] !== undefined) frames.push({ panel: id, frame: l['frameId'] as string });
      assert.equal(c['publish'], undefined, `${id}: a click-to-publish config names topics the server does not accept`);
    } else if (kind === 'Teleop') add(id, c['topic'], 'geometry_msgs/msg/Twist', true);
    else if (kind === 'Publish') add(id, c['topicName'], c['datatype'] as string, true);
    else if (kind === 'DiagnosticSummary') add(id, c['topicToRender'], 'diagnostic_msgs/msg/DiagnosticArray');
    else if (kind === 'Plot') for (const p of c['paths'] as { value: string }[]) add(id, p.value.split('.')[0], undefined);
    else assert.fail(`panel '${id}': type '${kind}' is unknown to this checker; teach named() which topics it names`);
  }
  return { topics, frames };
}

describe(`the Foxglove layout (${LAYOUT_FILE})`, function () {
  this.timeout(60000);
  const layout = JSON.parse(readFileSync(LAYOUT, 'utf8')) as Layout;

  it('every panel has a config and a place in the layout tree, once', () => {
    const ids = leaves(layout.layout);
    assert.deepEqual([...ids].sort(), Object.keys(layout.configById).sort());
    assert.equal(new Set(ids).size, ids.length);
    for (const id of ids) assert.match(id, /^[A-Za-z0-9]+![\w-]+$/, 'panel ids are Type!suffix');
    const kinds = new Set(ids.map((id) => id.split('!')[0]));
    for (const k of ['Image', '3D', 'Teleop', 'Publish', 'DiagnosticSummary']) assert.ok(kinds.has(k), `a ${k} panel`);
  });

  it('the Teleop panel outruns the base timeout within its limits; the Publish panel asks for a name the model knows', () => {
    const teleop = Object.entries(layout.configById).filter(([id]) => id.startsWith('Teleop!'));
    assert.equal(teleop.length, 1);
    const t = teleop[0]![1];
    assert.equal(t['topic'], TELEOP_TOPIC);
    assert.ok((t['publishRate'] as number) > 1 / TELEOP_TIMEOUT_S, `publishRate ${String(t['publishRate'])} Hz: the robot would stop between commands (timeout ${TELEOP_TIMEOUT_S} s)`);
    const limits: Record<string, number> = { 'linear-x': TELEOP_MAX_LINEAR, 'angular-z': TELEOP_MAX_ANGULAR };
    for (const b of ['upButton', 'downButton', 'leftButton', 'rightButton']) {
      const { field, value } = t[b] as { field: string; value: number };
      assert.ok(field in limits, `${b}: field '${field}' (a diff-drive base reads linear-x and angular-z only)`);
      assert.ok(value !== 0 && Math.abs(value) <= (limits[field] as number), `${b}: ${field} ${value} beyond the base's limit ${limits[field]}`);
    }
    const known = readManifest(defaultModelDir()).vocabulary.slice(1);
    const names = Object.entries(layout.configById)
      .filter(([id]) => id.startsWith('Publish!'))
      .map(([id, c]) => {
        const v = JSON.parse(c['value'] as string) as { data?: unknown };
        assert.deepEqual(Object.keys(v), ['data'], `${id}: a std_msgs/String has one field, data`);
        assert.equal(typeof v.data, 'string', id);
        return v.data as string;
      });
    assert.ok(names.includes(''), 'a Publish panel that cancels (an empty name)');
    for (const n of names.filter((x) => x !== '')) assert.ok(known.includes(n), `'${n}' is not in the model's vocabulary (${known.join(', ')})`);
  });

  it('every topic it names is served by the live server (with the expected type), every frame is on /tf or /tf_static', async () => {
    const { topics, frames } = named(layout);
    assert.ok(topics.length >= 10, `${topics.length} topics found`);
    const live = await FoxgloveLive.listen({ port: 0 });
    const sim = await LiveSim.start({ scenario: makeScenario(103), model: new GreyImagination(), manifest: MANIFEST, logger: lineLogger().logger, explore: false, tap: (bus) => live.attach(bus) });
    const ws = new WebSocket(live.url, [FoxgloveClient.SUPPORTED_SUBPROTOCOL]);
    const client = new FoxgloveClient({ ws: ws as unknown as IWebSocket });
    const channels = new Map<string, Channel>();
    const tf: MessageData[] = [];
    client.on('advertise', (cs) => cs.forEach((c) => channels.set(c.topic, c)));
    client.on('message', (m) => tf.push(m));
    try {
      const wanted = [...new Set(topics.map((t) => t.topic))];
      const t0 = Date.now();
      // topics appear on the server's periodic scan (500 ms)
      while (!wanted.every((t) => channels.has(t)) && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
      const missing = topics.filter((t) => !channels.has(t.topic)).map((t) => `${t.panel}: ${t.topic}`);
      assert.deepEqual(missing, [], `topics the layout names that the live server does not serve (served: ${[...channels.keys()].sort().join(', ')})`);
      for (const t of topics) {
        const ch = channels.get(t.topic) as Channel;
        if (t.type) assert.equal(ch.schemaName, t.type, `${t.panel}: ${t.topic}`);
        if (t.publishes) assert.ok(live.accepts.some((a) => a.topic === t.topic && a.type === ch.schemaName), `${t.panel} publishes on ${t.topic}, which the server does not accept from clients`);
      }
      // frames: subscribe to /tf and /tf_static (latched: replayed), step the robot
      client.subscribe((channels.get('/tf') as Channel).id);
      client.subscribe((channels.get('/tf_static') as Channel).id);
      await new Promise((r) => setTimeout(r, 50));
      for (let i = 0; i < 3; i++) await sim.tick();
      const t1 = Date.now();
      while (tf.length < 4 && Date.now() - t1 < 5000) await new Promise((r) => setTimeout(r, 20));
      const published = new Set(['map']);
      for (const m of tf) for (const x of decodeMessage<TFMessage>('tf2_msgs/msg/TFMessage', new Uint8Array(m.data.buffer, m.data.byteOffset, m.data.byteLength)).transforms) published.add(x.child_frame_id);
      assert.deepEqual(
        frames.filter((f) => !published.has(f.frame)).map((f) => `${f.panel}: ${f.frame}`),
        [],
        `frames on /tf and /tf_static: ${[...published].join(', ')}`,
      );
    } finally {
      client.close();
      await sim.shutdown('test');
      await live.stop();
    }
  });
});
