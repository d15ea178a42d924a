/**
 * The in-process graph behaves like a ROS 2 graph where our code can tell: CDR on every hop,
 * QoS matching, keep_last drops, transient-local latching, names, remapping, timers on the
 * graph clock, the tap used by the bag recorder, callback errors surfacing.
 */
import assert from 'node:assert/strict';
import { MessageError, ParameterError } from '../../src/core/errors.js';
import { SimClock, SystemClock, nextTimerDue, secondsToNs } from '../../src/ros/clock.js';
import { QOS, expandName, hexToUuid, observeTopic, qosIncompatibility, randomGoalId, resolveQos, resolveTopicName, uuidToHex } from '../../src/ros/Graph.js';
import { InProcessBus, InProcessGraph } from '../../src/ros/InProcessGraph.js';
import { createMemoryLogger } from '../../src/ros/logger.js';
import { decodeMessage } from '../../src/ros/messages/index.js';
import type { PoseStamped, TFMessage } from '../../src/ros/messages/types.js';

function quietGraph(name = 'video4spatial_nav', extra: { clock?: SimClock } = {}) {
  const { logger, memory } = createMemoryLogger('bus');
  const graph = new InProcessGraph({ name, busOptions: { logger, clock: extra.clock ?? new SimClock(1_000_000_000n) } });
  return { graph, memory };
}

function pose(x: number, frame = 'map'): PoseStamped {
  return {
    header: { stamp: { sec: 1, nanosec: 500 }, frame_id: frame },
    pose: { position: { x, y: -x, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } },
  };
}

describe('ros/Graph names and QoS', () => {
  it('expands ~, relative and absolute names like rcl', () => {
    assert.equal(expandName('~/image', 'nav', '/'), '/nav/image');
    assert.equal(expandName('~/image', 'nav', '/robot1'), '/robot1/nav/image');
    assert.equal(expandName('image', 'nav', '/robot1'), '/robot1/image');
    assert.equal(expandName('/tf', 'nav', '/robot1'), '/tf');
    assert.equal(expandName('~', 'nav', 'r'), '/r/nav');
  });

  it('rejects malformed names with the name in the message', () => {
    assert.throws(() => expandName('', 'nav', '/'), (e: unknown) => e instanceof ParameterError && e.message.includes("''"));
    assert.throws(() => expandName('a//b', 'nav', '/'), /a\/\/b/);
    assert.throws(() => expandName('/1abc', 'nav', '/'), /1abc/);
    assert.throws(() => expandName('cam-era', 'nav', '/'), /cam-era/);
  });

  it('applies the first matching remap rule to the expanded name', () => {
    const rules = { '~/image': '/camera/image_raw', image: '/other' };
    assert.equal(resolveTopicName('~/image', 'nav', '/', rules), '/camera/image_raw');
    assert.equal(resolveTopicName('/nav/image', 'nav', '/', rules), '/camera/image_raw');
    assert.equal(resolveTopicName('image', 'nav', '/', rules), '/other');
    assert.equal(resolveTopicName('~/plan', 'nav', '/', rules), '/nav/plan');
  });

  it('has the ROS QoS presets', () => {
    assert.deepEqual(resolveQos('sensor_data'), { history: 'keep_last', depth: 5, reliability: 'best_effort', durability: 'volatile' });
    assert.deepEqual(resolveQos('tf_static'), { history: 'keep_last', depth: 100, reliability: 'reliable', durability: 'transient_local' });
    assert.deepEqual(resolveQos('default'), { history: 'keep_last', depth: 10, reliability: 'reliable', durability: 'volatile' });
    assert.deepEqual(QOS.sensorData, resolveQos('sensor_data'));
  });

  it('rejects bad QoS values with the value', () => {
    assert.throws(() => resolveQos('fast' as never), /'fast'/);
    assert.throws(() => resolveQos({ depth: 0, reliability: 'reliable', durability: 'volatile' }), /got 0/);
    assert.throws(() => resolveQos({ depth: 1, reliability: 'sometimes' as never, durability: 'volatile' }), /'sometimes'/);
    assert.throws(() => resolveQos({ depth: 1, reliability: 'reliable', durability: 'forever' as never }), /'forever'/);
    assert.throws(() => resolveQos({ history: 'all' as never, depth: 1, reliability: 'reliable', durability: 'volatile' }), /'all'/);
    assert.doesNotThrow(() => resolveQos({ history: 'keep_all', depth: 0, reliability: 'reliable', durability: 'volatile' }));
  });

  it('matches requested against offered QoS like DDS', () => {
    assert.equal(qosIncompatibility(QOS.sensorData, QOS.sensorData), undefined);
    assert.equal(qosIncompatibility(QOS.default, QOS.sensorData), undefined);
    assert.match(qosIncompatibility(QOS.sensorData, QOS.default) ?? '', /RELIABLE/);
    assert.match(qosIncompatibility(QOS.default, QOS.tfStatic) ?? '', /TRANSIENT_LOCAL/);
    assert.equal(qosIncompatibility(QOS.tfStatic, QOS.tf), undefined);
  });

  it('goal ids are UUIDs and round trip through bytes', () => {
    const id = randomGoalId();
    assert.match(id, /^[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}$/);
    assert.equal(uuidToHex(hexToUuid(id)), id);
    assert.throws(() => hexToUuid('xyz'), /'xyz'/);
    assert.throws(() => uuidToHex([1, 2, 3]), /got 3/);
  });
});

describe('ros/clock', () => {
  it('SimClock moves only forward and tells listeners', () => {
    const c = new SimClock(10n);
    const seen: bigint[] = [];
    const stop = c.onChange((t) => seen.push(t));
    c.advance(5n);
    c.advanceSeconds(0.5);
    c.set(c.now());
    stop();
    c.advance(1n);
    assert.deepEqual(seen, [15n, 500_000_015n]);
    assert.throws(() => c.set(0n), /cannot go back/);
    assert.throws(() => c.advance(-1n), /-1 ns/);
    assert.throws(() => new SimClock(-5n), /-5/);
    assert.throws(() => secondsToNs(Number.NaN, 'x'), /x must be a finite/);
  });

  it('the system clock is epoch time in ns', () => {
    const before = BigInt(Date.now()) * 1_000_000n;
    const now = new SystemClock().now();
    assert.ok(now >= before - 5_000_000n && now <= before + 5_000_000_000n, `${now} vs ${before}`);
  });

  it('timer arithmetic skips missed periods like rcl', () => {
    assert.equal(nextTimerDue(0n, 10n, 5n), 10n);
    assert.equal(nextTimerDue(0n, 10n, 35n), 40n);
    assert.equal(nextTimerDue(0n, 10n, 40n), 50n);
    assert.throws(() => nextTimerDue(0n, 0n, 1n), /> 0 ns/);
  });
});

describe('ros/InProcessGraph topics', () => {
  it('delivers after publish returns, decoded from CDR, one copy per subscriber', async () => {
    const { graph } = quietGraph();
    const a: PoseStamped[] = [];
    const b: PoseStamped[] = [];
    graph.createSubscription<PoseStamped>('~/object_pose', 'geometry_msgs/msg/PoseStamped', 'default', (m) => a.push(m));
    graph.createSubscription<PoseStamped>('/video4spatial_nav/object_pose', 'geometry_msgs/msg/PoseStamped', 'default', (m) => b.push(m));
    const pub = graph.createPublisher<PoseStamped>('~/object_pose', 'geometry_msgs/msg/PoseStamped', 'default');
    assert.equal(pub.topic, '/video4spatial_nav/object_pose');
    pub.publish(pose(1.5));
    assert.equal(a.length, 0, 'no callback runs inside publish');
    await graph.flush();
    assert.deepEqual(a, [pose(1.5)]);
    assert.deepEqual(b, [pose(1.5)]);
    assert.notEqual(a[0], b[0], 'each subscriber decodes its own copy');
  });

  it('a misspelt field fails at publish with MessageError naming type and field', () => {
    const { graph } = quietGraph();
    const pub = graph.createPublisher('~/plan', 'nav_msgs/msg/Path', 'default');
    assert.throws(
      () => pub.publish({ header: { stamp: { sec: 0, nanosec: 0 }, frame_id: 'map' }, posses: [] }),
      (e: unknown) => e instanceof MessageError && e.message.includes('nav_msgs/msg/Path') && e.message.includes('posses'),
    );
    assert.throws(
      () => pub.publish({ header: { stamp: { sec: 0, nanosec: 0 }, frame_id: 'map' }, poses: [{ header: { stamp: { sec: 0, nanosec: 0 }, frame_id: 'map' }, pose: { position: { x: '1', y: 0, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } } }] }),
      (e: unknown) => e instanceof MessageError && e.message.includes('position.x'),
    );
  });

  it('unknown types and mismatched topic types fail at creation', () => {
    const { graph } = quietGraph();
    assert.throws(() => graph.createPublisher('/x', 'std_msgs/msg/Strin', 'default'), (e: unknown) => e instanceof MessageError && /Strin/.test(e.message));
    graph.createPublisher('/x', 'std_msgs/msg/String', 'default');
    assert.throws(() => graph.createSubscription('/x', 'nav_msgs/msg/Path', 'default', () => {}), /already carries std_msgs\/msg\/String/);
  });

  it('a RELIABLE subscription gets nothing from a BEST_EFFORT publisher, with one warning', async () => {
    const { graph, memory } = quietGraph();
    const got: unknown[] = [];
    const sensorGot: unknown[] = [];
    graph.createSubscription('/camera/info', 'std_msgs/msg/String', 'default', (m) => got.push(m));
    graph.createSubscription('/camera/info', 'std_msgs/msg/String', 'sensor_data', (m) => sensorGot.push(m));
    const pub = graph.createPublisher('/camera/info', 'std_msgs/msg/String', 'sensor_data');
    pub.publish({ data: 'a' });
    pub.publish({ data: 'b' });
    await graph.flush();
    assert.equal(got.length, 0);
    assert.equal(sensorGot.length, 2);
    const warnings = memory.at('warn').filter((w) => w.includes('incompatible QoS'));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? '', /\/camera\/info.*BEST_EFFORT/);
  });

  it('keep_last drops the oldest undelivered messages', async () => {
    const { graph } = quietGraph();
    const got: string[] = [];
    const sub = graph.createSubscription<{ data: string }>('/img', 'std_msgs/msg/String', 'sensor_data', (m) => got.push(m.data));
    const pub = graph.createPublisher('/img', 'std_msgs/msg/String', 'sensor_data');
    for (let i = 0; i < 8; i++) pub.publish({ data: `f${i}` });
    await graph.flush();
    assert.deepEqual(got, ['f3', 'f4', 'f5', 'f6', 'f7']);
    assert.equal(graph.bus.droppedCount(sub), 3);
  });

  it('transient-local publishers latch for late transient-local subscribers only (/tf_static)', async () => {
    const { graph } = quietGraph();
    const sim = graph.createPeer({ name: 'robot_state_publisher' });
    const tfStatic = sim.createPublisher<TFMessage>('/tf_static', 'tf2_msgs/msg/TFMessage', 'tf_static');
    const msg: TFMessage = {
      transforms: [
        {
          header: { stamp: { sec: 3, nanosec: 0 }, frame_id: 'base_link' },
          child_frame_id: 'camera_optical',
          transform: { translation: { x: 0.1, y: 0, z: 0.5 }, rotation: { x: -0.5, y: 0.5, z: -0.5, w: 0.5 } },
        },
      ],
    };
    tfStatic.publish(msg);
    await graph.flush();
    const late: TFMessage[] = [];
    const volatileLate: TFMessage[] = [];
    graph.createSubscription<TFMessage>('/tf_static', 'tf2_msgs/msg/TFMessage', 'tf_static', (m) => late.push(m));
    graph.createSubscription<TFMessage>('/tf_static', 'tf2_msgs/msg/TFMessage', 'tf', (m) => volatileLate.push(m));
    await graph.flush();
    assert.deepEqual(late, [msg]);
    assert.deepEqual(volatileLate, []);
    // what a bridge would replay to its late clients: the transient-local publisher's kept messages only
    graph.createPublisher<TFMessage>('/tf_static', 'tf2_msgs/msg/TFMessage', 'tf').publish({ transforms: [] });
    const kept = graph.bus.latched('/tf_static');
    assert.equal(kept.length, 1);
    assert.deepEqual(decodeMessage('tf2_msgs/msg/TFMessage', kept[0] as Uint8Array), msg);
    assert.deepEqual(graph.bus.latched('/no_such_topic'), []);
  });

  it('a volatile publisher does not serve a transient-local subscription', async () => {
    const { graph, memory } = quietGraph();
    const got: unknown[] = [];
    graph.createSubscription('/tf_static', 'tf2_msgs/msg/TFMessage', 'tf_static', (m) => got.push(m));
    graph.createPublisher('/tf_static', 'tf2_msgs/msg/TFMessage', 'tf').publish({ transforms: [] });
    await graph.flush();
    assert.equal(got.length, 0);
    assert.ok(memory.at('warn').some((w) => w.includes('TRANSIENT_LOCAL')));
  });

  it('remaps and namespaces per node', async () => {
    const { graph } = quietGraph();
    const node = graph.createPeer({ name: 'nav', namespace: 'robot1', remap: { '~/image': '/camera/image_raw' } });
    assert.equal(node.resolveName('~/image'), '/camera/image_raw');
    assert.equal(node.resolveName('~/plan'), '/robot1/nav/plan');
    const got: string[] = [];
    node.createSubscription<{ data: string }>('~/image', 'std_msgs/msg/String', 'default', (m) => got.push(m.data));
    graph.createPublisher('/camera/image_raw', 'std_msgs/msg/String', 'default').publish({ data: 'frame' });
    await graph.flush();
    assert.deepEqual(got, ['frame']);
    assert.throws(() => graph.createPeer({ name: 'bad', remap: { 'a b': '/x' } }), /a b/);
    assert.throws(() => graph.createPeer({ name: '9lives' }), /9lives/);
    assert.throws(() => graph.createPeer({ name: 'n', namespace: '/a/-' }), /'-'/);
  });

  it('unsubscribe and destroy stop delivery; publish after destroy fails', async () => {
    const { graph } = quietGraph();
    const got: unknown[] = [];
    const sub = graph.createSubscription('/t', 'std_msgs/msg/String', 'default', (m) => got.push(m));
    const pub = graph.createPublisher('/t', 'std_msgs/msg/String', 'default');
    pub.publish({ data: 'x' });
    sub.unsubscribe();
    await graph.flush();
    assert.equal(got.length, 0, 'a queued message is not delivered after unsubscribe');
    pub.destroy();
    assert.throws(() => pub.publish({ data: 'y' }), (e: unknown) => e instanceof MessageError && e.message.includes('/t'));
    assert.equal(graph.bus.topics().has('/t'), false);
  });

  it('the tap sees every publication as CDR with the clock stamp; it stops when asked', async () => {
    const clock = new SimClock(42_000_000_000n);
    const { graph } = quietGraph('n', { clock });
    const seen: { topic: string; type: string; bytes: Uint8Array; stamp: bigint }[] = [];
    const stop = graph.onAnyMessage((topic, type, bytes, stamp) => seen.push({ topic, type, bytes, stamp }));
    graph.createPublisher('/chatter', 'std_msgs/msg/String', 'default').publish({ data: 'hello' });
    clock.advance(1n);
    stop();
    graph.createPublisher('/other', 'std_msgs/msg/String', 'default').publish({ data: 'unseen' });
    assert.equal(seen.length, 1);
    const [s] = seen;
    assert.equal(s?.topic, '/chatter');
    assert.equal(s?.type, 'std_msgs/msg/String');
    assert.equal(s?.stamp, 42_000_000_000n);
    assert.deepEqual([...(s?.bytes.subarray(0, 4) ?? [])], [0, 1, 0, 0]);
    assert.deepEqual(decodeMessage('std_msgs/msg/String', s?.bytes ?? new Uint8Array()), { data: 'hello' });
  });

  it('a callback exception is logged and re-thrown by flush', async () => {
    const { graph, memory } = quietGraph();
    graph.createSubscription('/t', 'std_msgs/msg/String', 'default', () => {
      throw new Error('boom in callback');
    });
    graph.createPublisher('/t', 'std_msgs/msg/String', 'default').publish({ data: 'x' });
    await assert.rejects(graph.flush(), /boom in callback/);
    assert.ok(memory.at('error').some((e) => e.includes('boom in callback')));
    await graph.flush();
  });

  it('spinUntil waits for a condition and times out with its name', async () => {
    const { graph } = quietGraph();
    const got: unknown[] = [];
    graph.createSubscription('/t', 'std_msgs/msg/String', 'default', (m) => got.push(m));
    const pub = graph.createPublisher('/t', 'std_msgs/msg/String', 'default');
    setTimeout(() => pub.publish({ data: 'late' }), 20);
    await graph.spinUntil(() => got.length === 1, { timeoutMs: 2000 });
    await assert.rejects(graph.spinUntil(() => false, { timeoutMs: 30, what: 'a second message' }), /a second message not met within 30 ms/);
  });

  it('observeTopic gives an rxjs stream that unsubscribes on teardown', async () => {
    const { graph } = quietGraph();
    const got: string[] = [];
    const s = observeTopic<{ data: string }>(graph, '/t', 'std_msgs/msg/String', 'default').subscribe((m) => got.push(m.data));
    const pub = graph.createPublisher('/t', 'std_msgs/msg/String', 'default');
    pub.publish({ data: 'a' });
    await graph.flush();
    s.unsubscribe();
    pub.publish({ data: 'b' });
    await graph.flush();
    assert.deepEqual(got, ['a']);
    assert.equal(graph.bus.topics().get('/t')?.subscriptions, 0);
  });
});

describe('ros/InProcessGraph timers', () => {
  it('fire on the sim clock, once per advance, missed periods skipped', async () => {
    const clock = new SimClock(0n);
    const { graph } = quietGraph('n', { clock });
    const fired: bigint[] = [];
    const t = graph.createTimer(0.5, () => fired.push(clock.now()));
    clock.advanceSeconds(0.4);
    await graph.flush();
    assert.deepEqual(fired, []);
    clock.advanceSeconds(0.1);
    await graph.flush();
    assert.deepEqual(fired, [500_000_000n]);
    clock.advanceSeconds(2.2); // t = 2.7 s: due at 1.0 … 2.5 → one call, next due 3.0
    await graph.flush();
    assert.deepEqual(fired, [500_000_000n, 2_700_000_000n]);
    clock.advanceSeconds(0.3);
    await graph.flush();
    assert.equal(fired.length, 3);
    t.cancel();
    clock.advanceSeconds(5);
    await graph.flush();
    assert.equal(fired.length, 3);
    assert.throws(() => graph.createTimer(0, () => {}), /got 0/);
  });

  it('fire on the system clock with setInterval', async () => {
    const { logger } = createMemoryLogger('bus');
    const graph = new InProcessGraph({ name: 'n', busOptions: { logger } });
    let n = 0;
    graph.createTimer(0.005, () => n++);
    await graph.spinUntil(() => n >= 2, { timeoutMs: 2000 });
    graph.destroy();
    const after = n;
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(n, after, 'destroy cancels the node timers');
  });

  it('a bus can be shared explicitly and shut down', async () => {
    const { logger } = createMemoryLogger('bus');
    const clock = new SimClock();
    const bus = new InProcessBus({ logger, clock, distro: 'humble' });
    const a = bus.node({ name: 'a' });
    let n = 0;
    a.createTimer(1, () => n++);
    bus.shutdown();
    clock.advanceSeconds(3);
    await a.flush();
    assert.equal(n, 0);
    assert.equal(bus.distro, 'humble');
  });
});
