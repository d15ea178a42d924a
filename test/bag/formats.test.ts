/**
 * The text formats around bags: offered_qos_profiles YAML, rosbag2 metadata (metadata.yaml and
 * serialized_metadata), and the JSON conventions of `bag echo`.
 */
import assert from 'node:assert/strict';
import { BagFormatError } from '../../src/core/errors.js';
import { offeredProfile, parseOfferedQos, serializeOfferedQos } from '../../src/bag/qos.js';
import { loadYamlExact, metadataYaml, parseBagMetadata, serializeBagMetadata, type Rosbag2Metadata } from '../../src/bag/rosbag2Metadata.js';
import { nsToIso, nsToJson, nsToSeconds, toJsonValue } from '../../src/bag/json.js';
import { fixturesOrSkip } from './helpers.js';

const isBagError =
  (re: RegExp) =>
  (e: unknown): boolean =>
    e instanceof BagFormatError && re.test(e.message);

describe('bag text formats', function () {
  describe('offered_qos_profiles', function () {
    it('serialises byte for byte like rosbag2 did in the cdr_test fixture', function () {
      const f = fixturesOrSkip(this);
      const recorded = f.cdrTest.metadata.topics.find((t) => t.name === '/test_topic')?.offeredQosProfiles;
      assert.equal(serializeOfferedQos([offeredProfile('reliable', 'transient_local', { depth: 3 })]), recorded);
    });

    it('round-trips numeric and string (metadata v9) forms', () => {
      const p = offeredProfile('best_effort', 'volatile', { history: 'keep_last', depth: 5, lifespan: { sec: 10, nsec: 0 } });
      assert.deepEqual(parseOfferedQos(serializeOfferedQos([p, p]), 'x'), [p, p]);
      const v9 =
        '- history: keep_last\n  depth: 5\n  reliability: best_effort\n  durability: volatile\n  deadline:\n    sec: 0\n    nsec: 0\n' +
        '  lifespan:\n    sec: 10\n    nsec: 0\n  liveliness: automatic\n  liveliness_lease_duration:\n    sec: 0\n    nsec: 0\n' +
        '  avoid_ros_namespace_conventions: false';
      assert.deepEqual(parseOfferedQos(v9, 'x'), [p]);
      assert.deepEqual(parseOfferedQos('', 'x'), []);
      assert.equal(serializeOfferedQos([]), '');
    });

    it('rejects malformed profiles naming the field and value', () => {
      assert.throws(() => parseOfferedQos('- [unclosed', "topic '/a'"), isBagError(/^offered_qos_profiles of topic '\/a' is not YAML: /));
      assert.throws(() => parseOfferedQos('history: 1', "topic '/a'"), isBagError(/is not a YAML list/));
      const good = serializeOfferedQos([offeredProfile('reliable', 'volatile')]);
      assert.throws(() => parseOfferedQos(good.replace('depth: 0', 'depth: -2'), 't'), isBagError(/depth is -2; expected an integer ≥ 0/));
      assert.throws(() => parseOfferedQos(good.replace('reliability: 1', 'reliability: 9'), 't'), isBagError(/reliability is 9; expected 0…4 or one of system_default, reliable/));
      assert.throws(() => parseOfferedQos(good.replace('durability: 2', 'durability: sticky'), 't'), isBagError(/durability is "sticky"/));
      assert.throws(() => parseOfferedQos(good.replace('  deadline:\n    sec: 0\n    nsec: 0', '  deadline: 5'), 't'), isBagError(/deadline is 5; expected \{sec, nsec\}/));
    });
  });

  describe('rosbag2 metadata', function () {
    const meta: Rosbag2Metadata = {
      version: 8,
      storageIdentifier: 'mcap',
      durationNs: 4531096768n,
      startingTimeNs: 1585866235112411371n,
      messageCount: 20,
      topics: [
        {
          name: '/topic',
          type: 'std_msgs/msg/String',
          serializationFormat: 'cdr',
          offeredQosProfiles: serializeOfferedQos([offeredProfile('reliable', 'volatile')]),
          typeDescriptionHash: '',
          messageCount: 20,
        },
      ],
      compressionFormat: '',
      compressionMode: '',
      relativeFilePaths: ['bag_0.mcap'],
      files: [{ path: 'bag_0.mcap', startingTimeNs: 1585866235112411371n, durationNs: 4531096768n, messageCount: 20 }],
      customData: { 'key "1"': 'value\nwith newline' },
      rosDistro: 'jazzy',
    };

    it('metadata.yaml and serialized_metadata round-trip exactly (64-bit ns included)', () => {
      assert.deepEqual(parseBagMetadata(metadataYaml(meta), 'm'), meta);
      assert.deepEqual(parseBagMetadata(serializeBagMetadata(meta), 'm'), meta);
      assert.match(metadataYaml(meta), /^rosbag2_bagfile_information:\n {2}version: 8\n/);
      assert.match(metadataYaml(meta), /\n {4}nanoseconds_since_epoch: 1585866235112411371\n/);
      const empty = { ...meta, topics: [], relativeFilePaths: [], files: [], customData: {} };
      assert.deepEqual(parseBagMetadata(metadataYaml(empty), 'm'), empty);
    });

    it('reads both fixtures rosbag2 wrote (versions 4 and 7)', function () {
      const f = fixturesOrSkip(this);
      assert.equal(f.talker.metadata.version, 4);
      assert.equal(f.talker.metadata.startingTimeNs, 1585866235112411371n);
      assert.deepEqual(
        f.talker.metadata.topics.map((t) => [t.name, t.messageCount]),
        [
          ['/topic', 10],
          ['/rosout', 10],
          ['/parameter_events', 0],
        ],
      );
      assert.equal(f.cdrTest.metadata.version, 7);
      assert.equal(f.cdrTest.metadata.files[0]?.durationNs, 151137181n);
    });

    it('loadYamlExact keeps integers beyond 2^53 exact and small ones as numbers', () => {
      assert.deepEqual(loadYamlExact('a: 18446744073709551615\nb: -9007199254740993\nc: 42\nd: 1.5'), {
        a: 18446744073709551615n,
        b: -9007199254740993n,
        c: 42,
        d: 1.5,
      });
    });

    it('rejects malformed metadata naming the file and field', () => {
      assert.throws(() => parseBagMetadata('a: [', 'f.yaml'), isBagError(/^f\.yaml: not valid YAML: /));
      assert.throws(() => parseBagMetadata('- 1', 'f.yaml'), isBagError(/^f\.yaml is a list; expected a mapping/));
      const text = metadataYaml(meta);
      assert.throws(() => parseBagMetadata(text.replace('  version: 8\n', ''), 'f.yaml'), isBagError(/^f\.yaml: missing 'version'/));
      assert.throws(() => parseBagMetadata(text.replace('message_count: 20\n  topics', 'message_count: -1\n  topics'), 'f.yaml'), isBagError(/message_count is -1; expected a count ≥ 0/));
      assert.throws(
        () => parseBagMetadata(text.replace('nanoseconds: 4531096768\n  starting', 'nanoseconds: soon\n  starting'), 'f.yaml'),
        isBagError(/duration\.nanoseconds is "soon"; expected an integer/),
      );
    });
  });

  describe('JSON conventions', function () {
    it('ns: numbers when safe, decimal strings beyond 2^53', () => {
      assert.equal(nsToJson(123n), 123);
      assert.equal(nsToJson(9007199254740991n), 9007199254740991);
      assert.equal(nsToJson(9007199254740992n), '9007199254740992');
      assert.equal(nsToJson(1585866235112411371n), '1585866235112411371');
      assert.equal(nsToJson(-9007199254740992n), '-9007199254740992');
    });

    it('typed arrays become arrays; long primitive arrays are truncated with their length', () => {
      const data = new Uint8Array(1000).map((_, i) => i % 256);
      assert.deepEqual(toJsonValue({ data, k: new Float64Array([1, 2]) }, { maxArrayLength: 4 }), {
        data: { truncated: true, length: 1000, head: [0, 1, 2, 3] },
        k: [1, 2],
      });
      assert.deepEqual(toJsonValue({ data: [...data] }, { maxArrayLength: 3 }), { data: { truncated: true, length: 1000, head: [0, 1, 2] } });
      assert.equal((toJsonValue({ data }, { maxArrayLength: Infinity }) as { data: number[] }).data.length, 1000);
    });

    it('arrays of messages are never truncated; bigint and non-finite values are safe', () => {
      const poses = Array.from({ length: 10 }, (_, i) => ({ x: i, id: BigInt(i) }));
      assert.deepEqual(
        toJsonValue({ poses, big: new BigUint64Array([18446744073709551615n]), f: [NaN, Infinity, -Infinity, 0.5] }, { maxArrayLength: 2 }),
        {
          poses: poses.map((p) => ({ x: p.x, id: Number(p.id) })),
          big: ['18446744073709551615'],
          f: { truncated: true, length: 4, head: ['NaN', 'Infinity'] },
        },
      );
      assert.equal(JSON.stringify(toJsonValue({ a: undefined, b: null, s: 'x' })), '{"b":null,"s":"x"}');
    });

    it('time formatting keeps all nine digits', () => {
      assert.equal(nsToIso(1585866235112411371n), '2020-04-02T22:23:55.112411371Z');
      assert.equal(nsToIso(5n), '1970-01-01T00:00:00.000000005Z');
      assert.equal(nsToSeconds(4531096768n), '4.531096768');
      assert.equal(nsToSeconds(-5n), '-0.000000005');
    });
  });
});
