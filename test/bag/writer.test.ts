/**
 * BagWriter → BagReader: what we write reads back equal, carries what rosbag2 writes (profile,
 * ros2msg schemas, cdr, offered_qos_profiles, the rosbag2 metadata record), and re-writing a
 * real rosbag2 bag loses nothing.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IWritable } from '@mcap/core';
import { BagFormatError } from '../../src/core/errors.js';
import { BagReader } from '../../src/bag/BagReader.js';
import { BagWriter, BAG_WRITER_LIBRARY } from '../../src/bag/BagWriter.js';
import { createBag, openBag } from '../../src/bag/files.js';
import { offeredProfile, serializeOfferedQos } from '../../src/bag/qos.js';
import { parseBagMetadata } from '../../src/bag/rosbag2Metadata.js';
import { decodeMessage, encodeMessage, schemaText, TYPES, type Image, type Path, type TFMessage } from '../../src/ros/messages/index.js';
import { MessageError } from '../../src/core/errors.js';
import { cdrString, STRING_SCHEMA } from './craft.js';
import { collect, fixturesOrSkip, MemoryReadable, MemoryWritable, rejectsWith } from './helpers.js';

async function stringBag(options: Partial<Parameters<typeof BagWriter.create>[0]> = {}): Promise<{ w: BagWriter; out: MemoryWritable }> {
  const out = new MemoryWritable();
  const w = await BagWriter.create({ writable: out, relativeFilePath: 'test_0.mcap', ...options });
  await w.addTopic('/chatter', 'std_msgs/msg/String', { schemaText: STRING_SCHEMA });
  return { w, out };
}

const T0 = 1_700_000_000_123_456_789n;

function stamp(ns: bigint): { sec: number; nanosec: number } {
  return { sec: Number(ns / 1_000_000_000n), nanosec: Number(ns % 1_000_000_000n) };
}

/** A 640×480 rgb8 frame with a pattern that differs per frame. */
function image(i: number): Image {
  const width = 640;
  const height = 480;
  const data = new Uint8Array(width * height * 3);
  for (let k = 0; k < data.length; k++) data[k] = (k * 7 + i * 13 + (k >> 11)) & 255;
  return { header: { stamp: stamp(T0 + BigInt(i) * 33_000_000n), frame_id: 'camera_optical' }, height, width, encoding: 'rgb8', is_bigendian: 0, step: width * 3, data };
}

function tf(i: number): TFMessage {
  const t = (child: string, x: number) => ({
    header: { stamp: stamp(T0 + BigInt(i) * 10_000_000n), frame_id: 'odom' },
    child_frame_id: child,
    transform: { translation: { x, y: -0.25 * i, z: 0.1 }, rotation: { x: 0, y: 0, z: Math.sin(0.05 * i), w: Math.cos(0.05 * i) } },
  });
  return { transforms: [t('base_link', 0.5 * i), t('camera_link', 0.5 * i + 0.2)] };
}

function path(i: number): Path {
  const header = { stamp: stamp(T0 + BigInt(i) * 1_000_000_000n), frame_id: 'map' };
  return {
    header,
    poses: Array.from({ length: 40 }, (_, k) => ({ header, pose: { position: { x: 0.1 * k, y: 0.01 * k * k + i, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } } })),
  };
}

describe('bag writer', function () {
  it('our types (Image with 921 600 data bytes, TFMessage, Path): write → read → equal', async function () {
    this.timeout(60_000);
    const out = new MemoryWritable();
    const w = await BagWriter.create({ writable: out, relativeFilePath: 'ours_0.mcap' });
    const topics = [
      ['/camera/image_raw', TYPES.Image, image],
      ['/tf', TYPES.TFMessage, tf],
      ['/video4spatial_nav/plan', TYPES.Path, path],
    ] as const;
    const written = new Map<string, unknown[]>();
    for (const [topic, type] of topics) await w.addTopic(topic, type);
    for (let i = 0; i < 6; i++) {
      for (const [topic, , make] of topics) {
        const msg = make(i);
        written.set(topic, [...(written.get(topic) ?? []), msg]);
        await w.writeMessage(topic, msg, T0 + BigInt(i) * 40_000_000n + BigInt(topic.length));
      }
    }
    await w.close();
    const r = await BagReader.open(new MemoryReadable(out.bytes()));
    assert.deepEqual(
      r.info().topics.map((t) => [t.name, t.type, t.count]),
      [
        ['/camera/image_raw', TYPES.Image, 6],
        ['/tf', TYPES.TFMessage, 6],
        ['/video4spatial_nav/plan', TYPES.Path, 6],
      ],
    );
    for (const [topic, type] of topics) {
      assert.equal(r.schemaText(type), schemaText(type), `${type}: the embedded schema is the registry's`);
      const got = await collect(r.decodedMessages({ topics: [topic] }));
      const sent = written.get(topic) as unknown[];
      assert.equal(got.length, sent.length);
      got.forEach((m, i) => {
        // Bytes are exactly what the registry encodes; decoding with the embedded schema gives the message back.
        assert.deepEqual(m.data, encodeMessage(type, sent[i]));
        assert.deepEqual(m.message, decodeMessage(type, encodeMessage(type, sent[i])));
      });
    }
    const [first] = await collect(r.decodedMessages<Image>({ topics: ['/camera/image_raw'] }));
    assert.deepEqual(first?.message.data, image(0).data);
    assert.equal(first?.message.header.frame_id, 'camera_optical');
    const plans = await collect(r.decodedMessages<Path>({ topics: ['/video4spatial_nav/plan'] }));
    assert.equal(plans[5]?.message.poses[39]?.pose.position.y, path(5).poses[39]?.pose.position.y);
    const tfs = await collect(r.decodedMessages<TFMessage>({ topics: ['/tf'] }));
    assert.deepEqual(tfs[3]?.message.transforms[1]?.transform.rotation, tf(3).transforms[1]?.transform.rotation);
  });

  it('a misspelt field or an unknown type fails that call only; the bag goes on', async () => {
    const out = new MemoryWritable();
    const w = await BagWriter.create({ writable: out, relativeFilePath: 'x_0.mcap' });
    await w.addTopic('/plan', TYPES.Path);
    await rejectsWith(w.addTopic('/weird', 'no_such_pkg/msg/Thing'), MessageError, /Unknown message type 'no_such_pkg\/msg\/Thing'/);
    await rejectsWith(w.writeMessage('/weird', {}, 1n), BagFormatError, /^Topic '\/weird' was not added to the bag/);
    await rejectsWith(w.writeMessage('/plan', { header: { stamp: { sec: 1, nanosec: 0 }, frame_id: 'map' }, posses: [] }, 1n), MessageError, /posses/);
    await w.writeMessage('/plan', path(1), 2n);
    // A write queued behind an addTopic that then fails is dropped with a reason.
    const adding = w.addTopic('/late', 'no_such_pkg/msg/Other');
    const writing = w.write('/late', cdrString('x'), 3n);
    await rejectsWith(adding, MessageError, /Unknown message type/);
    await rejectsWith(writing, BagFormatError, /^Topic '\/late' could not be added to the bag; message dropped/);
    await w.close();
    const r = await BagReader.open(new MemoryReadable(out.bytes()));
    assert.deepEqual(
      r.info().topics.map((t) => [t.name, t.count]),
      [['/plan', 1]],
    );
  });

  it('re-writing a real rosbag2 bag (foreign types, embedded schemas) reads back identical', async function () {
    const { talker, cdrTest } = fixturesOrSkip(this);
    for (const f of [talker, cdrTest]) {
      const src = await BagReader.open(new MemoryReadable(new Uint8Array(readFileSync(f.mcapPath))));
      const out = new MemoryWritable();
      const w = await BagWriter.create({ writable: out, relativeFilePath: 'copy_0.mcap' });
      for (const t of src.info().topics) {
        await w.addTopic(t.name, t.type, { schemaText: src.schemaText(t.type) as string, qos: [offeredProfile('reliable', 'volatile')] });
      }
      for await (const m of src.messages()) await w.write(m.topic, m.data, m.logTimeNs, m.publishTimeNs);
      const meta = await w.close();
      const copy = await BagReader.open(new MemoryReadable(out.bytes()));
      const a = src.info();
      const b = copy.info();
      assert.deepEqual(
        b.topics.map((t) => [t.name, t.type, t.count]),
        a.topics.map((t) => [t.name, t.type, t.count]),
      );
      assert.deepEqual([b.messageCount, b.startNs, b.endNs], [a.messageCount, a.startNs, a.endNs]);
      assert.equal(b.profile, 'ros2');
      assert.equal(b.library, BAG_WRITER_LIBRARY);
      const am = await collect(src.decodedMessages());
      const bm = await collect(copy.decodedMessages());
      assert.deepEqual(
        bm.map((m) => [m.topic, m.logTimeNs, m.publishTimeNs, m.data, m.message]),
        am.map((m) => [m.topic, m.logTimeNs, m.publishTimeNs, m.data, m.message]),
      );
      // The metadata we return and store agree with rosbag2's own metadata.yaml for the source.
      assert.equal(meta.startingTimeNs, f.metadata.startingTimeNs);
      assert.equal(meta.durationNs, f.metadata.durationNs);
      assert.equal(meta.messageCount, f.metadata.messageCount);
      assert.deepEqual(parseBagMetadata(b.serializedMetadata as string, 'serialized_metadata'), meta);
    }
  });

  it('writes what rosbag2 readers look for: ros2 profile, ros2msg schema, cdr, offered_qos_profiles', async () => {
    const out = new MemoryWritable();
    const w = await BagWriter.create({ writable: out, relativeFilePath: 'x_0.mcap', rosDistro: 'jazzy' });
    const qos = [offeredProfile('best_effort', 'volatile', { history: 'keep_last', depth: 5 })];
    await w.addTopic('/camera/image_raw', 'std_msgs/msg/String', { schemaText: STRING_SCHEMA, qos });
    await w.write('/camera/image_raw', cdrString('a'), 5n, 4n);
    const meta = await w.close();
    const r = await BagReader.open(new MemoryReadable(out.bytes()));
    const t = r.info().topics[0];
    assert.equal(t?.serializationFormat, 'cdr');
    assert.equal(t?.offeredQosProfiles, serializeOfferedQos(qos));
    assert.equal(t?.typeHash, undefined);
    assert.equal(r.schemaText('std_msgs/msg/String'), STRING_SCHEMA);
    const [m] = await collect(r.messages());
    assert.equal(m?.publishTimeNs, 4n);
    assert.equal(meta.version, 8);
    assert.equal(meta.rosDistro, 'jazzy');
    assert.equal(meta.topics[0]?.offeredQosProfiles, serializeOfferedQos(qos));
  });

  it('zstd chunks by default, uncompressed on request; many chunks read back in order', async () => {
    const sizes: number[] = [];
    for (const [compression, expected] of [
      ['zstd', ['zstd']],
      ['none', ['']],
    ] as const) {
      const { w, out } = await stringBag({ compression, chunkSizeBytes: 256 });
      const text = 'the same words again and again '.repeat(20);
      for (let i = 0; i < 50; i++) await w.write('/chatter', cdrString(`${i} ${text}`), BigInt(1000 + i));
      await w.close();
      const r = await BagReader.open(new MemoryReadable(out.bytes()));
      assert.deepEqual(r.info().chunkCompressions, expected);
      const got = await collect(r.decodedMessages<{ data: string }>());
      assert.deepEqual(
        got.map((m) => m.message.data.split(' ')[0]),
        Array.from({ length: 50 }, (_, i) => String(i)),
      );
      sizes.push(out.bytes().byteLength);
    }
    assert.ok((sizes[0] as number) < 0.6 * (sizes[1] as number), `zstd ${sizes[0]} bytes vs uncompressed ${sizes[1]} bytes`);
  });

  it('queues overlapping calls in call order', async () => {
    const { w, out } = await stringBag();
    await Promise.all(Array.from({ length: 100 }, (_, i) => w.write('/chatter', cdrString(String(i)), BigInt(i))));
    await w.close();
    const got = await collect((await BagReader.open(new MemoryReadable(out.bytes()))).decodedMessages<{ data: string }>());
    assert.deepEqual(
      got.map((m) => m.message.data),
      Array.from({ length: 100 }, (_, i) => String(i)),
    );
  });

  it('createBag: a rosbag2 directory (name_0.mcap + metadata.yaml) that openBag reads; never overwrites', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'v4s-bagw-'));
    try {
      const bagDir = join(dir, 'run1');
      const b = await createBag(bagDir);
      await b.writer.addTopic('/chatter', 'std_msgs/msg/String', { schemaText: STRING_SCHEMA });
      await b.writer.write('/chatter', cdrString('hi'), 1_700_000_000_000_000_000n);
      await b.writer.write('/chatter', cdrString('ho'), 1_700_000_000_500_000_000n);
      const meta = await b.close();
      assert.equal(b.mcapPath, join(bagDir, 'run1_0.mcap'));
      const yamlMeta = parseBagMetadata(readFileSync(join(bagDir, 'metadata.yaml'), 'utf8'), 'metadata.yaml');
      assert.deepEqual(yamlMeta, meta);
      assert.equal(yamlMeta.durationNs, 500_000_000n);
      assert.deepEqual(yamlMeta.relativeFilePaths, ['run1_0.mcap']);
      const opened = await openBag(bagDir);
      assert.equal(opened.reader.info().messageCount, 2);
      assert.deepEqual(opened.metadata, meta);
      await opened.close();
      await rejectsWith(createBag(bagDir), BagFormatError, /metadata\.yaml' already exists; refusing to overwrite it/);
      const single = await createBag(join(dir, 'one.mcap'));
      await single.close();
      assert.ok(existsSync(join(dir, 'one.mcap')) && existsSync(join(dir, 'metadata.yaml')));
      await rejectsWith(createBag(join(dir, 'one.mcap')), BagFormatError, /already exists/);
      const again = await createBag(join(dir, 'one.mcap'), { overwrite: true });
      await again.close();
      await rejectsWith(again.close(), BagFormatError, /^Cannot close: the bag 'one\.mcap' is already closed/);
      await rejectsWith(createBag(join(dir, 'sub', 'bad.mcap'), { zstdLevel: 0 }), BagFormatError, /zstdLevel must be an integer 1…19, got 0/);
      assert.ok(!existsSync(join(dir, 'sub', 'bad.mcap')), 'no empty file left behind');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses bad options and bad calls, quoting the values', async () => {
    const out = new MemoryWritable();
    await rejectsWith(BagWriter.create({ writable: out, relativeFilePath: 'x', zstdLevel: 20 }), BagFormatError, /zstdLevel must be an integer 1…19, got 20/);
    await rejectsWith(BagWriter.create({ writable: out, relativeFilePath: 'x', chunkSizeBytes: 0 }), BagFormatError, /chunkSizeBytes must be a positive integer, got 0/);
    await rejectsWith(BagWriter.create({ writable: out, relativeFilePath: 'x', compression: 'lz4' as never }), BagFormatError, /compression must be 'zstd' or 'none', got 'lz4'/);
    const { w } = await stringBag();
    await w.addTopic('/chatter', 'std_msgs/msg/String'); // same type again: no-op
    await rejectsWith(w.addTopic('/chatter', 'std_msgs/msg/Bool'), BagFormatError, /^Topic '\/chatter' is already in the bag with type std_msgs\/msg\/String; cannot add it again as std_msgs\/msg\/Bool/);
    await rejectsWith(w.write('/other', cdrString('x'), 1n), BagFormatError, /^Topic '\/other' was not added to the bag \(added: \/chatter\); call addTopic first/);
    await rejectsWith(w.writeMessage('/other', { data: 'x' }, 1n), BagFormatError, /was not added to the bag/);
    await rejectsWith(w.write('/chatter', cdrString('x'), -1n), BagFormatError, /^logTimeNs for '\/chatter' must be a bigint in \[0, 2\^64\) ns, got -1/);
    await rejectsWith(w.write('/chatter', cdrString('x'), 1n, 1n << 64n), BagFormatError, /^publishTimeNs for '\/chatter' must be a bigint in \[0, 2\^64\) ns, got 18446744073709551616/);
    await rejectsWith(w.write('/chatter', Uint8Array.of(1, 2, 3, 4), 1n), BagFormatError, /^Data for '\/chatter' \(4 bytes\) is not CDR with an encapsulation header/);
    await w.close();
    await rejectsWith(w.write('/chatter', cdrString('x'), 1n), BagFormatError, /^Cannot write to '\/chatter': the bag 'test_0\.mcap' is already closed/);
    await rejectsWith(w.addTopic('/b', 'std_msgs/msg/String'), BagFormatError, /^Cannot add topic '\/b': the bag 'test_0\.mcap' is already closed/);
  });

  it('after a failed write every later call rejects with that first error', async () => {
    let fail = false;
    const inner = new MemoryWritable();
    const flaky: IWritable = {
      write: async (b) => {
        if (fail) throw new Error('disk full (ENOSPC)');
        return inner.write(b);
      },
      position: () => inner.position(),
    };
    const w = await BagWriter.create({ writable: flaky, relativeFilePath: 'f_0.mcap', chunkSizeBytes: 1 });
    await w.addTopic('/chatter', 'std_msgs/msg/String', { schemaText: STRING_SCHEMA });
    await w.write('/chatter', cdrString('ok'), 1n);
    fail = true;
    await assert.rejects(w.write('/chatter', cdrString('lost'), 2n), /disk full \(ENOSPC\)/);
    fail = false;
    await assert.rejects(w.write('/chatter', cdrString('after'), 3n), /disk full \(ENOSPC\)/);
    await assert.rejects(w.close(), /disk full \(ENOSPC\)/);
  });
});
