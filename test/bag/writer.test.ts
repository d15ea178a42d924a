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
import { cdrString, STRING_SCHEMA } from './craft.js';
import { collect, fixturesOrSkip, MemoryReadable, MemoryWritable, rejectsWith } from './helpers.js';

async function stringBag(options: Partial<Parameters<typeof BagWriter.create>[0]> = {}): Promise<{ w: BagWriter; out: MemoryWritable }> {
  const out = new MemoryWritable();
  const w = await BagWriter.create({ writable: out, relativeFilePath: 'test_0.mcap', ...options });
  await w.addTopic('/chatter', 'std_msgs/msg/String', { schemaText: STRING_SCHEMA });
  return { w, out };
}

describe('bag writer', function () {
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
