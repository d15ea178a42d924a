/**
 * Broken and unusual MCAP files, in the style of foxglove/mcap's reader tests: every magic byte
 * flipped, truncation at many offsets, trailing garbage, any byte flipped — each must end in a
 * specific BagFormatError (never another exception, never a hang) — plus files that are unusual
 * but valid (no index, no chunks, out-of-order log times).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BagFormatError } from '../../src/core/errors.js';
import { BagReader, type BagMessage } from '../../src/bag/BagReader.js';
import { MCAP_MAGIC } from '../../src/bag/mcapScan.js';
import { collect, fixturesOrSkip, MemoryReadable, rejectsWith } from './helpers.js';
import { cdrString, craftBag, headerThen, NO_INDEX, u32le, u64le } from './craft.js';

const MAGIC_HEX = '89 4d 43 41 50 30 0d 0a';

function open(bytes: Uint8Array): Promise<BagReader> {
  return BagReader.open(new MemoryReadable(bytes));
}

/** Opens, reads and decodes everything. */
async function readEverything(bytes: Uint8Array): Promise<number> {
  const r = await open(bytes);
  let n = 0;
  for await (const m of r.messages()) {
    r.decode(m);
    n++;
  }
  return n;
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');
}

/** Top-level records by simple framing (test-side, independent of the reader). */
function records(bytes: Uint8Array): { offset: number; opcode: number; length: number }[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: { offset: number; opcode: number; length: number }[] = [];
  let o = 8;
  while (o + 9 <= bytes.byteLength - 8) {
    const opcode = bytes[o] as number;
    const length = Number(view.getBigUint64(o + 1, true));
    out.push({ offset: o, opcode, length });
    o += 9 + length;
    if (opcode === 2) break;
  }
  return out;
}

function setU64(bytes: Uint8Array, at: number, v: bigint): void {
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setBigUint64(at, v, true);
}

/** Footer summary CRC := 0 (not checked), so a patched summary is still read. */
function zeroSummaryCrc(bytes: Uint8Array): void {
  bytes.fill(0, bytes.byteLength - 8 - 4, bytes.byteLength - 8);
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

describe('bag reader: corrupt and unusual files', function () {
  describe('on the real fixtures', function () {
    let talker: Uint8Array;
    let cdrTest: Uint8Array;
    before(function () {
      const f = fixturesOrSkip(this);
      talker = new Uint8Array(readFileSync(f.talker.mcapPath));
      cdrTest = new Uint8Array(readFileSync(f.cdrTest.mcapPath));
    });

    it('each opening magic byte flipped: names the offset, expected and found bytes', async () => {
      for (let i = 0; i < 8; i++) {
        const b = talker.slice();
        b[i] = (b[i] as number) ^ 0xff;
        const e = await rejectsWith(open(b), BagFormatError, /./);
        assert.equal(e.message, `Expected MCAP magic ${MAGIC_HEX} at offset 0 (opening magic), found ${hex(b.subarray(0, 8))}`);
        assert.equal((e as BagFormatError).code, 'bag_bad_magic');
      }
    });

    it('each closing magic byte flipped: names the closing offset', async () => {
      const at = talker.byteLength - 8;
      for (let i = at; i < talker.byteLength; i++) {
        const b = talker.slice();
        b[i] = (b[i] as number) ^ 0xff;
        const e = await rejectsWith(open(b), BagFormatError, /./);
        assert.equal(e.message, `Expected MCAP magic ${MAGIC_HEX} at offset ${at} (closing magic after the Footer), found ${hex(b.subarray(at))}`);
      }
    });

    it('truncated at many offsets: always a truncation error quoting an offset', async () => {
      const size = talker.byteLength;
      const cuts = new Set<number>();
      for (let n = 0; n <= 40; n++) cuts.add(n);
      for (let n = 41; n < size - 40; n += 97) cuts.add(n);
      for (let n = size - 40; n < size; n++) cuts.add(n);
      for (const n of cuts) {
        const e = await rejectsWith(open(talker.subarray(0, n)), BagFormatError, /Truncated MCAP file/);
        assert.equal((e as BagFormatError).code, 'bag_truncated', `cut at ${n}: ${e.message}`);
        assert.match(e.message, /offset \d+/, `cut at ${n}`);
      }
    });

    it('truncation messages say exactly where', async () => {
      const size = talker.byteLength;
      await rejectsWith(open(talker.subarray(0, 5)), BagFormatError, /^Truncated MCAP file: it is 5 bytes, shorter than the 8-byte MCAP magic/);
      await rejectsWith(
        open(talker.subarray(0, 8)),
        BagFormatError,
        /^Truncated MCAP file: it ends at offset 8 after the opening magic at offset 0, without a Footer record/,
      );
      await rejectsWith(open(talker.subarray(0, 12)), BagFormatError, /^Truncated MCAP file at offset 8: 4 byte\(s\) left after the opening magic at offset 0, a record header needs 9/);
      const chunk = records(talker).find((r) => r.opcode === 6);
      assert.ok(chunk);
      const cut = chunk.offset + 100;
      await rejectsWith(
        open(talker.subarray(0, cut)),
        BagFormatError,
        new RegExp(`^Truncated MCAP file at offset ${chunk.offset}: Chunk \\(0x06\\) record declares ${chunk.length} content bytes but only ${cut - chunk.offset - 9} remain`),
      );
      await rejectsWith(
        open(talker.subarray(0, size - 3)),
        BagFormatError,
        new RegExp(`^Truncated MCAP file at offset ${size - 8}: 5 byte\\(s\\) after the Footer, the closing magic needs 8`),
      );
    });

    it('trailing garbage after the closing magic is refused with its size and offset', async () => {
      const size = talker.byteLength;
      const tails = [Uint8Array.of(0), new Uint8Array(100).fill(0xff), Uint8Array.from(MCAP_MAGIC), talker];
      for (const tail of tails) {
        const b = new Uint8Array(size + tail.byteLength);
        b.set(talker, 0);
        b.set(tail, size);
        const e = await rejectsWith(open(b), BagFormatError, /^Trailing garbage: /);
        assert.equal(e.message, `Trailing garbage: ${tail.byteLength} byte(s) after the closing MCAP magic at offset ${size - 8} (file size ${b.byteLength})`);
        assert.equal((e as BagFormatError).code, 'bag_trailing_data');
      }
    });

    it('a corrupt zstd chunk in an indexed file fails when messages are read, naming the problem', async () => {
      const chunk = records(talker).find((r) => r.opcode === 6);
      assert.ok(chunk);
      const b = talker.slice();
      const mid = chunk.offset + 9 + Math.floor(chunk.length / 2);
      b[mid] = (b[mid] as number) ^ 0x55;
      const r = await open(b); // the summary is intact
      assert.equal(r.info().indexed, true);
      await rejectsWith(collect(r.messages()), BagFormatError, /^Cannot read messages: /);
    });

    for (const name of ['cdr_test', 'talker'] as const) {
      it(`${name}: any single byte flipped → reads, or a BagFormatError (never another error, never a hang)`, async function () {
        const original = name === 'talker' ? talker : cdrTest;
        const stride = 7;
        let failed = 0;
        let read = 0;
        for (let i = 0; i < original.byteLength; i += stride) {
          const b = original.slice();
          b[i] = (b[i] as number) ^ 0xff;
          try {
            await readEverything(b);
            read++;
          } catch (e) {
            if (!(e instanceof BagFormatError)) assert.fail(`byte ${i} flipped: ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
            failed++;
          }
        }
        assert.ok(failed > 0 && read + failed === Math.ceil(original.byteLength / stride));
      });
    }
  });

  describe('unusual but valid files', function () {
    it('no summary index: scanned, same topics, counts, times and messages', async () => {
      const indexed = await open(await craftBag());
      const scanned = await open(await craftBag({ writer: NO_INDEX }));
      assert.equal(indexed.info().indexed, true);
      assert.equal(scanned.info().indexed, false);
      for (const key of ['topics', 'messageCount', 'startNs', 'endNs', 'durationNs'] as const) {
        assert.deepEqual(scanned.info()[key], indexed.info()[key], key);
      }
      const a = await collect(indexed.decodedMessages());
      const b = await collect(scanned.decodedMessages());
      assert.deepEqual(
        b.map((m) => [m.logTimeNs, m.message]),
        a.map((m) => [m.logTimeNs, m.message]),
      );
      assert.deepEqual(
        a.map((m) => m.message),
        [{ data: 'msg 0' }, { data: 'msg 1' }, { data: 'msg 2' }],
      );
    });

    it('no chunks (rosbag2 "fastwrite"): scanned, messages read', async () => {
      const r = await open(await craftBag({ writer: { useChunks: false } }));
      assert.equal(r.info().indexed, false);
      assert.deepEqual(r.info().chunkCompressions, []);
      assert.equal((await collect(r.messages())).length, 3);
    });

    it('log times out of file order: messages come sorted, with or without an index', async () => {
      for (const writer of [{}, NO_INDEX]) {
        const r = await open(await craftBag({ writer, times: [30n, 10n, 20n] }));
        const got = await collect(r.decodedMessages<{ data: string }>());
        assert.deepEqual(
          got.map((m) => [m.logTimeNs, m.message.data]),
          [
            [10n, 'msg 1'],
            [20n, 'msg 2'],
            [30n, 'msg 0'],
          ],
        );
        assert.equal(r.info().startNs, 10n);
        assert.equal(r.info().endNs, 30n);
      }
    });

    it('an empty bag: topics with count 0, no start or end', async () => {
      for (const writer of [{}, NO_INDEX]) {
        const r = await open(await craftBag({ writer: { ...writer, repeatChannels: true, repeatSchemas: true }, times: [] }));
        const info = r.info();
        assert.equal(info.messageCount, 0);
        assert.equal(info.startNs, undefined);
        assert.equal(info.endNs, undefined);
        assert.equal(info.durationNs, 0n);
        assert.deepEqual(
          info.topics.map((t) => [t.name, t.count]),
          [['/chatter', 0]],
        );
        assert.deepEqual(await collect(r.messages()), []);
      }
    });

    it("the 'rosbag2' metadata record is found with and without an index", async () => {
      const metadata = [{ name: 'rosbag2', metadata: new Map([['serialized_metadata', 'version: 8\n']]) }];
      for (const writer of [{}, NO_INDEX]) {
        const r = await open(await craftBag({ writer, metadata }));
        assert.equal(r.info().serializedMetadata, 'version: 8\n');
      }
    });

    it('time and topic filters on a scanned file', async () => {
      const r = await open(await craftBag({ writer: NO_INDEX, times: [10n, 20n, 30n, 40n] }));
      assert.deepEqual(
        (await collect(r.messages({ topics: ['/chatter'], startNs: 20n, endNs: 30n }))).map((m) => m.logTimeNs),
        [20n, 30n],
      );
    });
  });

  describe('specific errors', function () {
    it('unsupported chunk compression, from the index and from a scan', async () => {
      const compressChunk = (d: Uint8Array): { compression: string; compressedData: Uint8Array } => ({ compression: 'brotli', compressedData: d });
      for (const writer of [{ compressChunk }, { ...NO_INDEX, compressChunk }]) {
        const bytes = await craftBag({ writer });
        const e = await rejectsWith(open(bytes), BagFormatError, /^Unsupported chunk compression 'brotli' in the chunk at offset (\d+) \(this reader handles: '', .*'zstd'/);
        assert.equal((e as BagFormatError).code, 'bag_unsupported_compression');
        const offset = Number(/at offset (\d+)/.exec(e.message)?.[1]);
        assert.equal(bytes[offset], 0x06, 'the quoted offset is a Chunk record');
      }
    });

    it('a chunk that declares more than 1 GiB uncompressed, from a scan and from the index', async () => {
      const scanned = await craftBag({ writer: NO_INDEX });
      const chunk = records(scanned).find((r) => r.opcode === 6);
      assert.ok(chunk);
      setU64(scanned, chunk.offset + 9 + 16, 1n << 31n);
      await rejectsWith(open(scanned), BagFormatError, new RegExp(`^Chunk at offset ${chunk.offset} declares 2147483648 uncompressed bytes, more than the 1073741824`));

      const indexed = await craftBag();
      const ci = records(indexed).find((r) => r.opcode === 8);
      assert.ok(ci);
      setU64(indexed, ci.offset + 9 + ci.length - 8, 1n << 31n); // ChunkIndex.uncompressed_size is its last field
      zeroSummaryCrc(indexed);
      await rejectsWith(open(indexed), BagFormatError, /declares 2147483648 uncompressed bytes/);
    });

    it('a chunk record too short for its fields, or with an oversized compression name', async () => {
      await rejectsWith(open(headerThen([6, ...u64le(10n), ...new Array(10).fill(0)])), BagFormatError, /^Chunk record at offset \d+ is 10 bytes long, shorter than its 32-byte fixed fields/);
      const fields = [...u64le(0n), ...u64le(0n), ...u64le(0n), ...u32le(0), ...u32le(1000), 0, 0, 0, 0, 0, 0, 0, 0];
      await rejectsWith(open(headerThen([6, ...u64le(BigInt(fields.length)), ...fields])), BagFormatError, /compression name length 1000 exceeds the record \(40 bytes\)/);
    });

    it('a record @mcap/core cannot parse: names the record type and offset', async () => {
      const bytes = headerThen([4, ...u64le(3n), 1, 2, 3]);
      const at = bytes.byteLength - 12;
      await rejectsWith(open(bytes), BagFormatError, new RegExp(`^Cannot parse the Channel \\(0x04\\) record at offset ${at}: `));
    });

    it('a channel whose schema id the file does not define', async () => {
      await rejectsWith(
        open(await craftBag({ channelSchemaId: 7, times: [] })),
        BagFormatError,
        /^Channel 0 \(topic '\/chatter'\) refers to schema id 7, which the file does not define \(schema ids in the file: 1\)/,
      );
      await rejectsWith(
        open(await craftBag({ writer: { ...NO_INDEX, repeatChannels: true }, channelSchemaId: 7, times: [] })),
        BagFormatError,
        /refers to schema id 7, which the file does not define \(schema ids in the file: none\)/,
      );
      await rejectsWith(open(await craftBag({ channelSchemaId: 0, times: [] })), BagFormatError, /^Channel 0 \(topic '\/chatter'\) has no schema \(schema id 0\)/);
    });

    it('schema encodings other than ros2msg: listed by info, refused when decoding', async () => {
      for (const [encoding, extra] of [
        ['protobuf', ''],
        ['ros2idl', ' (IDL-defined types are not supported)'],
      ] as const) {
        const r = await open(await craftBag({ schemaEncoding: encoding }));
        assert.equal(r.info().topics[0]?.type, 'std_msgs/msg/String');
        const [m] = await collect(r.messages());
        assert.throws(
          () => r.decode(m as BagMessage),
          (e: unknown) =>
            e instanceof BagFormatError &&
            e.code === 'bag_schema_encoding' &&
            e.message === `Schema 1 ('std_msgs/msg/String') used by topic '/chatter' has encoding '${encoding}'; this reader decodes only 'ros2msg' schemas${extra}`,
        );
      }
    });

    it('message encodings other than cdr are refused when decoding', async () => {
      const r = await open(await craftBag({ messageEncoding: 'json' }));
      const [m] = await collect(r.messages());
      assert.throws(() => r.decode(m as BagMessage), /Topic '\/chatter' \(channel 0\) uses message encoding 'json'; rosbag2 bags use 'cdr'/);
    });

    it('a schema that is empty or does not parse', async () => {
      for (const [text, re] of [
        ['', /is empty; cannot decode its messages/],
        ['string\n', /does not parse as ros2msg: /],
      ] as const) {
        const r = await open(await craftBag({ schemaText: text }));
        const [m] = await collect(r.messages());
        assert.throws(() => r.decode(m as BagMessage), (e: unknown) => e instanceof BagFormatError && e.code === 'bag_schema_invalid' && re.test(e.message));
      }
    });

    it('message bytes that do not match the schema, or lack the CDR header', async () => {
      const short = await open(await craftBag({ payload: () => Uint8Array.of(0, 1, 0, 0, 50, 0, 0, 0) }));
      const [a] = await collect(short.messages());
      assert.throws(
        () => short.decode(a as BagMessage),
        /^BagFormatError: Message on topic '\/chatter' at log time 10 ns \(type std_msgs\/msg\/String, 8 bytes\) does not match the schema embedded in the file: /,
      );
      const noHeader = await open(await craftBag({ payload: () => Uint8Array.of(7, 7) }));
      const [b] = await collect(noHeader.messages());
      assert.throws(() => noHeader.decode(b as BagMessage), /does not start with a CDR encapsulation header \(expected .*found 07 07\)/);
      assert.deepEqual(noHeader.decode({ ...(b as BagMessage), data: cdrString('ok') }), { data: 'ok' });
    });

    it('an unknown topic in the filter, and a message on an unknown channel', async () => {
      const r = await open(await craftBag());
      await rejectsWith(collect(r.messages({ topics: ['/nope'] })), BagFormatError, /^Topic '\/nope' is not in the bag \(topics: \/chatter\)/);
      const [m] = await collect(r.messages());
      assert.throws(() => r.decode({ ...(m as BagMessage), channelId: 99 }), /Message refers to channel 99, which the file does not define/);
    });

    it('a message whose channel id is not in the summary (indexed read)', async () => {
      const bytes = await craftBag({ writer: { compressChunk: undefined } });
      const payload = cdrString('msg 0');
      const at = indexOf(bytes, payload);
      assert.ok(at > 0);
      bytes[at - 22] = 9; // Message record: channel_id u16, sequence u32, log_time u64, publish_time u64, data
      const chunk = records(bytes).find((r) => r.opcode === 6);
      assert.ok(chunk);
      bytes.fill(0, chunk.offset + 9 + 24, chunk.offset + 9 + 28); // chunk CRC := 0 (unchecked)
      const r = await open(bytes);
      await rejectsWith(collect(r.messages()), BagFormatError, /^Message at log time 10 ns refers to channel 9, which the file does not define/);
    });

    it("a 'rosbag2' metadata index that points at the wrong record", async () => {
      const bytes = await craftBag({ metadata: [{ name: 'rosbag2', metadata: new Map([['serialized_metadata', 'x']]) }] });
      const mi = records(bytes).find((r) => r.opcode === 13);
      assert.ok(mi);
      setU64(bytes, mi.offset + 9, 8n); // MetadataIndex.offset → the Header record
      zeroSummaryCrc(bytes);
      await rejectsWith(open(bytes), BagFormatError, /^Cannot read the 'rosbag2' metadata record: .*found Header/);
    });
  });
});
