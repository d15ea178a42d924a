/**
 * The reader against real rosbag2 MCAP files written by `ros2 bag record` (test/fixtures/rosbag2):
 * what it lists must equal the metadata.yaml rosbag2 wrote beside each file, and messages must
 * decode with the schema embedded in the file (types we have no definitions for).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { openBag, type OpenedBag } from '../../src/bag/files.js';
import type { BagMessage } from '../../src/bag/BagReader.js';
import { parseOfferedQos } from '../../src/bag/qos.js';
import { collect, FIXTURES_DIR, fixtures, REPO_ROOT, type Fixture } from './helpers.js';

function expectedTopics(f: Fixture): { name: string; type: string; count: number }[] {
  return f.metadata.topics
    .map((t) => ({ name: t.name, type: t.type, count: t.messageCount }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function assertLogTimeOrder(msgs: BagMessage[]): void {
  for (let i = 1; i < msgs.length; i++) {
    assert.ok((msgs[i] as BagMessage).logTimeNs >= (msgs[i - 1] as BagMessage).logTimeNs, `message ${i} is earlier than message ${i - 1}`);
  }
}

describe('bag reader on real rosbag2 fixtures', function () {
  it('reads them from inside the repository (a bare clone has them; nothing is skipped)', function () {
    const rel = relative(REPO_ROOT, FIXTURES_DIR);
    assert.equal(rel, ['test', 'fixtures', 'rosbag2'].join(sep));
    for (const f of ['talker/metadata.yaml', 'talker/talker.mcap', 'cdr_test/metadata.yaml', 'cdr_test/cdr_test_0.mcap']) {
      assert.ok(existsSync(join(FIXTURES_DIR, f)), `${f} is in test/fixtures/rosbag2`);
    }
    const f = fixtures();
    assert.ok(existsSync(f.talker.mcapPath) && existsSync(f.cdrTest.mcapPath));
    // Not ignored by git, so they are committed and cloned with the tests.
    let ignored = '';
    try {
      ignored = execFileSync('git', ['check-ignore', '--no-index', join(FIXTURES_DIR, 'talker', 'talker.mcap')], { cwd: REPO_ROOT, encoding: 'utf8' });
    } catch {
      // exit 1: not ignored (or no git here)
    }
    assert.equal(ignored.trim(), '', 'test/fixtures/rosbag2 is not git-ignored');
  });

  for (const name of ['talker', 'cdr_test'] as const) {
    describe(name, function () {
      let fixture: Fixture;
      let bag: OpenedBag;
      before(async function () {
        const f = fixtures();
        fixture = name === 'talker' ? f.talker : f.cdrTest;
        bag = await openBag(fixture.dir); // the bag directory, resolved through its metadata.yaml
      });
      after(async () => bag?.close());

      it('opens the file metadata.yaml names', () => {
        assert.equal(bag.mcapPath, fixture.mcapPath);
        assert.ok(bag.metadata, 'metadata.yaml parsed');
      });

      it('lists topics, types and counts exactly as metadata.yaml', () => {
        const info = bag.reader.info();
        assert.deepEqual(
          info.topics.map((t) => ({ name: t.name, type: t.type, count: t.count })),
          expectedTopics(fixture),
        );
        assert.equal(info.messageCount, fixture.metadata.messageCount);
        assert.ok(info.topics.every((t) => t.serializationFormat === 'cdr'));
        assert.equal(info.profile, 'ros2');
      });

      it('agrees with metadata.yaml on start, end and duration (ns, exact)', () => {
        const info = bag.reader.info();
        assert.equal(info.startNs, fixture.metadata.startingTimeNs);
        assert.equal(info.durationNs, fixture.metadata.durationNs);
        assert.equal(info.endNs, fixture.metadata.startingTimeNs + fixture.metadata.durationNs);
      });

      it('reads every message in log-time order, first and last at start and end', async () => {
        const msgs = await collect(bag.reader.messages());
        const info = bag.reader.info();
        assert.equal(msgs.length, info.messageCount);
        assertLogTimeOrder(msgs);
        assert.equal(msgs[0]?.logTimeNs, info.startNs);
        assert.equal(msgs.at(-1)?.logTimeNs, info.endNs);
        for (const t of info.topics) assert.equal(msgs.filter((m) => m.topic === t.name).length, t.count, t.name);
        // Every payload is CDR little endian with the 4-byte encapsulation header.
        for (const m of msgs) assert.deepEqual([...m.data.subarray(0, 4)], [0, 1, 0, 0]);
      });

      it('parses the offered QoS profiles recorded in the channel metadata', () => {
        for (const t of bag.reader.info().topics) {
          const profiles = parseOfferedQos(t.offeredQosProfiles, `topic '${t.name}'`);
          assert.equal(profiles.length, 1, t.name);
          assert.equal(profiles[0]?.reliability, 'reliable', t.name);
        }
      });
    });
  }

  describe('talker (zstd chunks): decoded with the embedded schemas', function () {
    let bag: OpenedBag;
    before(async function () {
      bag = await openBag(fixtures().talker.mcapPath);
    });
    after(async () => bag?.close());

    it('reports zstd chunks and an index', () => {
      const info = bag.reader.info();
      assert.deepEqual(info.chunkCompressions, ['zstd']);
      assert.equal(info.indexed, true);
    });

    it('std_msgs/String on /topic: "Hello, world! 0" … "Hello, world! 9" in order', async () => {
      const msgs = await collect(bag.reader.decodedMessages<{ data: string }>({ topics: ['/topic'] }));
      assert.deepEqual(
        msgs.map((m) => m.message),
        Array.from({ length: 10 }, (_, i) => ({ data: `Hello, world! ${i}` })),
      );
      assert.ok(msgs.every((m) => m.type === 'std_msgs/msg/String'));
    });

    it('rcl_interfaces/Log on /rosout: level, logger, text, and a stamp within 10 ms of the log time', async () => {
      type Log = { stamp: { sec: number; nanosec: number }; level: number; name: string; msg: string; function: string; line: number };
      const msgs = await collect(bag.reader.decodedMessages<Log>({ topics: ['/rosout'] }));
      assert.equal(msgs.length, 10);
      msgs.forEach((m, i) => {
        assert.equal(m.message.level, 20); // INFO
        assert.equal(m.message.name, 'minimal_publisher');
        assert.equal(m.message.msg, `Publishing: 'Hello, world! ${i}'`);
        const stampNs = BigInt(m.message.stamp.sec) * 1_000_000_000n + BigInt(m.message.stamp.nanosec);
        const lag = m.logTimeNs - stampNs;
        assert.ok(lag >= 0n && lag < 10_000_000n, `stamp ${stampNs} vs log time ${m.logTimeNs}`);
      });
    });

    it('filters by time (inclusive bounds)', async () => {
      const all = await collect(bag.reader.messages());
      const from = (all[5] as BagMessage).logTimeNs;
      const to = (all[9] as BagMessage).logTimeNs;
      const some = await collect(bag.reader.messages({ startNs: from, endNs: to }));
      assert.deepEqual(
        some.map((m) => m.logTimeNs),
        all.slice(5, 10).map((m) => m.logTimeNs),
      );
    });

    it('has the schema text rosbag2 embedded', () => {
      assert.match(bag.reader.schemaText('std_msgs/msg/String') ?? '', /^string data$/m);
      assert.equal(bag.reader.schemaText('nav_msgs/msg/Path'), undefined);
    });
  });

  describe('cdr_test (test_msgs, uncompressed chunks): every field type decodes', function () {
    let bag: OpenedBag;
    before(async function () {
      bag = await openBag(fixtures().cdrTest.mcapPath);
    });
    after(async () => bag?.close());

    it('test_msgs/BasicTypes: int32_value 123, the rest zero/false, 64-bit fields as bigint', async () => {
      const msgs = await collect(bag.reader.decodedMessages<Record<string, unknown>>({ topics: ['/test_topic'] }));
      assert.equal(msgs.length, 3);
      for (const { message } of msgs) {
        assert.equal(message.int32_value, 123);
        assert.equal(message.bool_value, false);
        assert.equal(message.float64_value, 0);
        assert.equal(message.int64_value, 0n);
        assert.equal(message.uint64_value, 0n);
      }
    });

    it('test_msgs/Arrays: strings, nested messages, and the extreme values of every integer width', async () => {
      const msgs = await collect(bag.reader.decodedMessages<Record<string, unknown>>({ topics: ['/array_topic'] }));
      assert.equal(msgs.length, 4);
      const m = (msgs[0] as { message: Record<string, unknown> }).message;
      assert.deepEqual(m.bool_values, [true, false, true]);
      assert.deepEqual(m.string_values, ['Complex Hello1', 'Complex Hello2', 'Complex Hello3']);
      assert.deepEqual([...(m.int8_values_default as Int8Array)], [0, 127, -128]);
      assert.deepEqual([...(m.uint16_values_default as Uint16Array)], [0, 1, 65535]);
      assert.deepEqual([...(m.int32_values_default as Int32Array)], [0, 2147483647, -2147483648]);
      assert.deepEqual([...(m.uint32_values_default as Uint32Array)], [0, 1, 4294967295]);
      assert.deepEqual([...(m.int64_values_default as BigInt64Array)], [0n, 9223372036854775807n, -9223372036854775808n]);
      assert.deepEqual([...(m.uint64_values_default as BigUint64Array)], [0n, 1n, 18446744073709551615n]);
      assert.deepEqual([...(m.float64_values_default as Float64Array)], [3.1415, 0, -3.1415]);
      assert.deepEqual(m.string_values_default, ['', 'max value', 'min value']);
      const defaults = m.defaults_values as Record<string, unknown>[];
      assert.equal(defaults.length, 3);
      assert.equal(defaults[0]?.int16_value, -1000);
      assert.equal(defaults[0]?.uint64_value, 50000000n);
      assert.equal((m.basic_types_values as unknown[]).length, 3);
    });

    it('interleaves the two topics by log time', async () => {
      const topics = (await collect(bag.reader.messages())).map((m) => m.topic);
      assert.deepEqual(topics, ['/test_topic', '/array_topic', '/test_topic', '/array_topic', '/test_topic', '/array_topic', '/array_topic']);
    });
  });
});
