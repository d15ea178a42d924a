/**
 * Record from the in-process graph → bag → replay into a fresh graph: the bytes on the wire are
 * the same, in the same order; pacing follows the log times scaled by the rate; the real
 * rosbag2 talker bag replays into our graph.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BagFormatError, CancelledError, MessageError } from '../../src/core/errors.js';
import { BagReader } from '../../src/bag/BagReader.js';
import { BagWriter } from '../../src/bag/BagWriter.js';
import { playBag, replayQos } from '../../src/bag/player.js';
import { BagRecorder } from '../../src/bag/recorder.js';
import { offeredProfile, parseOfferedQos } from '../../src/bag/qos.js';
import { InProcessBus } from '../../src/ros/InProcessGraph.js';
import { QOS } from '../../src/ros/Graph.js';
import { SimClock } from '../../src/ros/clock.js';
import { createMemoryLogger } from '../../src/ros/logger.js';
import { decodeMessage, TYPES, type Image, type Path, type TFMessage } from '../../src/ros/messages/index.js';
import { cdrString, STRING_SCHEMA } from './craft.js';
import { collect, fixturesOrSkip, MemoryReadable, MemoryWritable, rejectsWith } from './helpers.js';

const T0 = 1_700_000_000_000_000_000n;
const MS = 1_000_000n;

interface Seen {
  topic: string;
  type: string;
  bytes: Uint8Array;
  stampNs: bigint;
}

function quietBus(clock?: SimClock): InProcessBus {
  return new InProcessBus({ ...(clock ? { clock } : {}), logger: createMemoryLogger('bag-test').logger });
}

function stamp(ns: bigint): { sec: number; nanosec: number } {
  return { sec: Number(ns / 1_000_000_000n), nanosec: Number(ns % 1_000_000_000n) };
}

function image(i: number, ns: bigint): Image {
  const data = new Uint8Array(320 * 240 * 3).map((_, k) => (k + 31 * i) & 255);
  return { header: { stamp: stamp(ns), frame_id: 'camera_optical' }, height: 240, width: 320, encoding: 'rgb8', is_bigendian: 0, step: 960, data };
}

function tf(i: number, ns: bigint, child = 'base_link'): TFMessage {
  return {
    transforms: [
      {
        header: { stamp: stamp(ns), frame_id: 'odom' },
        child_frame_id: child,
        transform: { translation: { x: 0.1 * i, y: 0, z: 0 }, rotation: { x: 0, y: 0, z: Math.sin(i / 10), w: Math.cos(i / 10) } },
      },
    ],
  };
}

function path(i: number, ns: bigint): Path {
  const header = { stamp: stamp(ns), frame_id: 'map' };
  return { header, poses: Array.from({ length: 5 + i }, (_, k) => ({ header, pose: { position: { x: k, y: i, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } } })) };
}

/** A one-topic String bag with messages at the given log times (ns). */
async function stringBag(times: bigint[]): Promise<BagReader> {
  const out = new MemoryWritable();
  const w = await BagWriter.create({ writable: out, relativeFilePath: 's_0.mcap' });
  await w.addTopic('/chatter', TYPES.String, { schemaText: STRING_SCHEMA });
  for (const [i, t] of times.entries()) await w.write('/chatter', cdrString(`m${i}`), t);
  await w.close();
  return BagReader.open(new MemoryReadable(out.bytes()));
}

describe('bag record and replay through the in-process graph', function () {
  this.timeout(30_000);

  it('record → bag → replay: same topics, types, bytes and order on the wire', async () => {
    const clock = new SimClock(T0);
    const busA = quietBus(clock);
    const robot = busA.node({ name: 'robot' });
    const pubImage = robot.createPublisher('/camera/image_raw', TYPES.Image, 'sensor_data');
    const pubTf = robot.createPublisher('/tf', TYPES.TFMessage, 'tf');
    const pubStatic = robot.createPublisher('/tf_static', TYPES.TFMessage, 'tf_static');
    const pubPlan = robot.createPublisher('/plan', TYPES.Path, 'default');
    const pubChatter = robot.createPublisher('/chatter', TYPES.String, 'default');

    const out = new MemoryWritable();
    const writer = await BagWriter.create({ writable: out, relativeFilePath: 'rec_0.mcap' });
    const recorder = BagRecorder.start(robot, writer, { topics: ['/camera/image_raw', '/tf', '/tf_static', '/plan'] });
    const sentA: Seen[] = [];
    const stopTap = robot.onAnyMessage((topic, type, bytes, stampNs) => {
      if (topic !== '/chatter') sentA.push({ topic, type, bytes: bytes.slice(), stampNs });
    });

    pubStatic.publish(tf(0, clock.now(), 'camera_link'));
    for (let i = 0; i < 8; i++) {
      clock.advance(33n * MS);
      pubImage.publish(image(i, clock.now()));
      clock.advance(1n * MS);
      pubTf.publish(tf(i, clock.now()));
      pubChatter.publish({ data: `not recorded ${i}` });
      if (i % 3 === 0) {
        clock.advance(1n * MS);
        pubPlan.publish(path(i, clock.now()));
      }
    }
    await busA.flush();
    stopTap();
    await recorder.stop();
    assert.deepEqual(Object.fromEntries(recorder.counts), { '/tf_static': 1, '/camera/image_raw': 8, '/tf': 8, '/plan': 3 });
    await writer.close();

    const reader = await BagReader.open(new MemoryReadable(out.bytes()));
    const info = reader.info();
    assert.deepEqual(
      info.topics.map((t) => [t.name, t.type, t.count]),
      [
        ['/camera/image_raw', TYPES.Image, 8],
        ['/plan', TYPES.Path, 3],
        ['/tf', TYPES.TFMessage, 8],
        ['/tf_static', TYPES.TFMessage, 1],
      ],
    );
    assert.equal(info.startNs, T0);
    assert.equal(parseOfferedQos(info.topics[3]?.offeredQosProfiles ?? '', '/tf_static')[0]?.durability, 'transient_local');
    assert.deepEqual(
      (await collect(reader.messages())).map((m) => [m.topic, m.logTimeNs]),
      sentA.map((s) => [s.topic, s.stampNs]),
    );

    // Replay into a fresh bus, as fast as possible.
    const busB = quietBus();
    const player = busB.node({ name: 'player' });
    const listener = busB.node({ name: 'listener' });
    const plans: Path[] = [];
    listener.createSubscription<Path>('/plan', TYPES.Path, 'default', (m) => plans.push(m));
    const statics: TFMessage[] = [];
    const sentB: Seen[] = [];
    player.onAnyMessage((topic, type, bytes, stampNs) => sentB.push({ topic, type, bytes: bytes.slice(), stampNs }));
    const result = await playBag(reader, player);
    await busB.flush();
    assert.equal(result.published, 20);
    assert.deepEqual(Object.fromEntries(result.perTopic), { '/tf_static': 1, '/camera/image_raw': 8, '/tf': 8, '/plan': 3 });
    assert.deepEqual(
      sentB.map((s) => [s.topic, s.type, s.bytes]),
      sentA.map((s) => [s.topic, s.type, s.bytes]),
    );
    assert.deepEqual(
      plans,
      sentA.filter((s) => s.topic === '/plan').map((s) => decodeMessage(TYPES.Path, s.bytes)),
    );
    // /tf_static was replayed transient-local: a late subscriber still gets it.
    listener.createSubscription<TFMessage>('/tf_static', TYPES.TFMessage, 'tf_static', (m) => statics.push(m));
    await busB.flush();
    assert.equal(statics[0]?.transforms[0]?.child_frame_id, 'camera_link');
  });

  it('real time scaled by the rate; as fast as possible without one', async () => {
    const reader = await stringBag([T0, T0 + 100n * MS, T0 + 200n * MS]);
    const bus = quietBus();
    const slow = await playBag(reader, bus.node({ name: 'p1' }), { rate: 2 }); // 200 ms of bag → 100 ms
    assert.ok(slow.wallMs >= 95 && slow.wallMs < 1000, `rate 2 took ${slow.wallMs.toFixed(1)} ms, expected ~100`);
    const fast = await playBag(reader, bus.node({ name: 'p2' }));
    assert.ok(fast.wallMs < 90, `as fast as possible took ${fast.wallMs.toFixed(1)} ms`);
    assert.equal(fast.published, 3);
  });

  it('stops when aborted, and refuses bad options', async () => {
    const reader = await stringBag([T0, T0 + 10_000n * MS, T0 + 20_000n * MS]);
    const bus = quietBus();
    const ac = new AbortController();
    const started = performance.now();
    setTimeout(() => ac.abort(), 50);
    await rejectsWith(playBag(reader, bus.node({ name: 'p' }), { rate: 1, signal: ac.signal }), CancelledError, /bag replay cancelled/);
    assert.ok(performance.now() - started < 5000);
    await rejectsWith(playBag(reader, bus.node({ name: 'q' }), { signal: ac.signal }), CancelledError, /bag replay cancelled/);
    await rejectsWith(playBag(reader, bus.node({ name: 'r' }), { rate: -1 }), BagFormatError, /replay rate must be a finite number ≥ 0 \(0 = as fast as possible\), got -1/);
    await rejectsWith(playBag(reader, bus.node({ name: 's' }), { topics: ['/nope'] }), BagFormatError, /^Topic '\/nope' is not in the bag \(topics: \/chatter\)/);
  });

  it('replays the real rosbag2 talker bag into the graph (types our registry knows)', async function () {
    const { talker, cdrTest } = fixturesOrSkip(this);
    const reader = await BagReader.open(new MemoryReadable(new Uint8Array(readFileSync(talker.mcapPath))));
    const bus = quietBus();
    const got: Seen[] = [];
    const node = bus.node({ name: 'player' });
    node.onAnyMessage((topic, type, bytes, stampNs) => got.push({ topic, type, bytes: bytes.slice(), stampNs }));
    const result = await playBag(reader, node);
    assert.equal(result.published, 20);
    const original = await collect(reader.messages());
    // std_msgs/String re-encodes to the very bytes rosbag2 recorded; Log decodes to the same message.
    assert.deepEqual(
      got.filter((s) => s.topic === '/topic').map((s) => s.bytes),
      original.filter((m) => m.topic === '/topic').map((m) => m.data),
    );
    assert.deepEqual(
      got.filter((s) => s.topic === '/rosout').map((s) => decodeMessage(s.type, s.bytes)),
      original.filter((m) => m.topic === '/rosout').map((m) => reader.decode(m)),
    );
    // test_msgs are not in our registry: the graph refuses them before anything is published.
    const foreign = await BagReader.open(new MemoryReadable(new Uint8Array(readFileSync(cdrTest.mcapPath))));
    const before = got.length;
    await rejectsWith(playBag(foreign, node), MessageError, /unknown message type 'test_msgs\/msg\/Arrays'/);
    assert.equal(got.length, before);
  });

  it('replay QoS follows the recorded offers', () => {
    const reliableLatched = offeredProfile('reliable', 'transient_local');
    assert.deepEqual(replayQos([reliableLatched]), { reliability: 'reliable', durability: 'transient_local', depth: 10 });
    assert.deepEqual(replayQos([reliableLatched, offeredProfile('best_effort', 'volatile')]), { reliability: 'best_effort', durability: 'volatile', depth: 10 });
    assert.deepEqual(replayQos([offeredProfile('reliable', 'volatile', { history: 'keep_last', depth: 3 })]), { reliability: 'reliable', durability: 'volatile', depth: 3 });
    assert.deepEqual(replayQos([]), { reliability: 'reliable', durability: 'volatile', depth: 10 });
    // Structurally a graph QoS profile.
    assert.deepEqual(Object.keys(QOS.default).filter((k) => k !== 'history').sort(), Object.keys(replayQos([])).sort());
  });

  it('recorder: a topic that changes type, or a closed writer, is reported by stop()', async () => {
    const bus = quietBus();
    const node = bus.node({ name: 'n' });
    const out = new MemoryWritable();
    const writer = await BagWriter.create({ writable: out, relativeFilePath: 'r_0.mcap' });
    // An rxjs-style tap (an object with unsubscribe) works too.
    const recorder = BagRecorder.start({ onAnyMessage: (cb) => ({ unsubscribe: node.onAnyMessage(cb) }) }, writer);
    const a = node.createPublisher('/x', TYPES.String, 'default');
    a.publish({ data: 'first' });
    a.destroy();
    node.createPublisher('/x', TYPES.Path, 'default').publish(path(0, T0));
    await rejectsWith(recorder.stop(), BagFormatError, /^Topic '\/x' carried nav_msgs\/msg\/Path after std_msgs\/msg\/String; a bag topic has one type/);
    await writer.close();
    assert.deepEqual(
      (await BagReader.open(new MemoryReadable(out.bytes()))).info().topics.map((t) => [t.name, t.count]),
      [['/x', 1]],
    );

    const w2 = await BagWriter.create({ writable: new MemoryWritable(), relativeFilePath: 'c_0.mcap' });
    const r2 = BagRecorder.start(node, w2);
    await w2.close();
    node.createPublisher('/y', TYPES.String, 'default').publish({ data: 'late' });
    await rejectsWith(r2.stop(), BagFormatError, /^Cannot add topic '\/y': the bag 'c_0\.mcap' is already closed/);
  });
});
