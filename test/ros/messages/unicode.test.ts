/**
 * Strings are UTF-8 on the wire. @foxglove's MessageWriter sized strings by their JavaScript
 * length, so "椅子" went out as 2 of its 6 bytes; our CdrMessageWriter (cdrWriter.ts) writes the
 * bytes, and is otherwise byte-identical to MessageWriter on every registered type.
 */
import { strict as assert } from 'node:assert';
import { parse } from '@foxglove/rosmsg';
import { MessageWriter } from '@foxglove/rosmsg2-serialization';
import type { MessageDefinition, MessageDefinitionField } from '@foxglove/message-definition';
import { MessageError } from '../../../src/core/errors.js';
import { Rng } from '../../../src/core/rng.js';
import { BagReader } from '../../../src/bag/BagReader.js';
import { BagWriter } from '../../../src/bag/BagWriter.js';
import { CdrMessageWriter, utf8Length } from '../../../src/ros/messages/cdrWriter.js';
import { decodeMessage, encodeMessage, knownTypes, ROS_DISTROS, schemaText, type StringMsg } from '../../../src/ros/messages/index.js';
import { InProcessBus } from '../../../src/ros/InProcessGraph.js';
import { SimClock } from '../../../src/ros/clock.js';
import { MemoryReadable, MemoryWritable } from '../../bag/helpers.js';

const UNICODE = ['椅子', 'chaise é', 'Stuhl für 🪑', 'ÆØÅ ñ ü — “quoted”', '\u00ff\u0100\u07ff\u0800\uffff', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢'];
const SILENT = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/** A random message of a parsed definition: ASCII strings only (the old writer's domain). */
function randomMessage(defs: readonly MessageDefinition[], fields: readonly MessageDefinitionField[], rng: Rng, depth = 0): Record<string, unknown> {
  const byName = new Map(defs.map((d) => [d.name ?? '', d.definitions]));
  const out: Record<string, unknown> = {};
  const scalar = (f: MessageDefinitionField, inArray: boolean): unknown => {
    if (f.isComplex) return randomMessage(defs, byName.get(f.type) ?? [], rng, depth + 1);
    const r = rng.next();
    switch (f.type) {
      case 'bool':
        return r < 0.5;
      case 'string':
        return Array.from({ length: Math.floor(r * 7) }, (_, i) => String.fromCharCode(97 + ((i * 7 + Math.floor(r * 100)) % 26))).join('');
      case 'time':
      case 'duration':
        return { sec: Math.floor(r * 1e6), nanosec: Math.floor(r * 999_999_999) };
      case 'float32':
        return Math.fround(r * 100 - 50);
      case 'float64':
        return r * 1e6 - 5e5;
      case 'int64':
        return inArray ? BigInt(Math.floor(r * 1e12) - 5e11) : BigInt(Math.floor(r * 1e12) - 5e11);
      case 'uint64':
        return BigInt(Math.floor(r * 1e12));
      case 'int8':
        return Math.floor(r * 256) - 128;
      case 'int16':
        return Math.floor(r * 65536) - 32768;
      case 'int32':
        return Math.floor(r * 2 ** 32) - 2 ** 31;
      case 'uint16':
        return Math.floor(r * 65536);
      case 'uint32':
        return Math.floor(r * 2 ** 32);
      default:
        return Math.floor(r * 256); // uint8, byte, char
    }
  };
  for (const f of fields) {
    if (f.isConstant) continue;
    if (rng.next() < 0.15) continue; // sometimes missing: the default is written
    if (f.isArray) {
      const n = f.arrayLength ?? (depth > 2 ? 0 : Math.floor(rng.next() * 4));
      const items = Array.from({ length: n }, () => scalar(f, true));
      out[f.name] = f.type === 'int64' ? BigInt64Array.from(items as bigint[]) : f.type === 'uint64' ? BigUint64Array.from(items as bigint[]) : f.type === 'uint8' ? Uint8Array.from(items as number[]) : items;
    } else out[f.name] = scalar(f, false);
  }
  return out;
}

describe('ros/messages: UTF-8 strings (CdrMessageWriter)', () => {
  it('writes exactly what @foxglove MessageWriter writes for every registered type (ASCII strings, random values, missing fields)', () => {
    let compared = 0;
    for (const distro of ROS_DISTROS) {
      for (const type of knownTypes(distro)) {
        const defs = parse(schemaText(type, distro), { ros2: true });
        const ours = new CdrMessageWriter(defs);
        const theirs = new MessageWriter(defs);
        const rng = new Rng(type.length * 31 + distro.length);
        const root = defs[0] as MessageDefinition;
        for (const msg of [{}, ...Array.from({ length: 6 }, () => randomMessage(defs, root.definitions, rng))]) {
          assert.deepEqual(ours.writeMessage(msg), theirs.writeMessage(msg), `${distro} ${type}: ${JSON.stringify(msg, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))}`);
          compared++;
        }
      }
    }
    assert.ok(compared > 300, `compared ${compared} messages`);
  });

  it('round-trips non-ASCII strings through encode/decode (the old writer cut them short)', () => {
    const old = new MessageWriter(parse(schemaText('std_msgs/msg/String'), { ros2: true }));
    for (const s of UNICODE) {
      const bytes = encodeMessage('std_msgs/msg/String', { data: s });
      assert.equal(bytes.byteLength, 4 + 4 + utf8Length(s) + 1);
      assert.equal(utf8Length(s), new TextEncoder().encode(s).length);
      assert.equal(decodeMessage<StringMsg>('std_msgs/msg/String', bytes).data, s);
      assert.notEqual(decodeMessage<StringMsg>('std_msgs/msg/String', old.writeMessage({ data: s })).data, s, 'the bug this writer fixes');
    }
    const goal = { object_name: '椅子', execute: true, time_budget_s: 1.5 };
    assert.deepEqual(decodeMessage('video4spatial_nav/action/NavigateToObject_Goal', encodeMessage('video4spatial_nav/action/NavigateToObject_Goal', goal)), goal);
    const status = { header: { stamp: { sec: 1, nanosec: 2 }, frame_id: 'carte_é' }, status: [{ level: 1, name: 'caméra', message: '😴 stale', hardware_id: '', values: [{ key: 'ключ', value: '値' }] }] };
    assert.deepEqual(decodeMessage('diagnostic_msgs/msg/DiagnosticArray', encodeMessage('diagnostic_msgs/msg/DiagnosticArray', status)), status);
  });

  it('refuses strings ROS cannot carry: an embedded NUL, a lone surrogate', () => {
    assert.throws(() => encodeMessage('std_msgs/msg/String', { data: 'chair\0sofa' }), (e: unknown) => e instanceof MessageError && e.code === 'message_invalid' && /field 'data' must not contain NUL characters .* at index 5/.test(e.message));
    assert.throws(() => encodeMessage('std_msgs/msg/String', { data: 'a\ud800b' }), (e: unknown) => e instanceof MessageError && e.code === 'message_invalid' && /not valid Unicode/.test(e.message));
    assert.doesNotThrow(() => encodeMessage('std_msgs/msg/String', { data: '\ud83e\ude91' })); // a pair is fine (🪑)
  });

  it('goes through the in-process graph and an action goal whole; the node-facing reason quotes it', async () => {
    const bus = new InProcessBus({ clock: new SimClock(1n), logger: SILENT });
    const a = bus.node({ name: 'a' });
    const got: string[] = [];
    a.createSubscription<StringMsg>('/t', 'std_msgs/msg/String', 'default', (m) => got.push(m.data));
    const pub = a.createPublisher<StringMsg>('/t', 'std_msgs/msg/String', 'default');
    for (const s of UNICODE) pub.publish({ data: s });
    await bus.flush();
    assert.deepEqual(got, UNICODE);
    const names: string[] = [];
    a.createActionServer<{ object_name: string }, unknown, unknown>('/find', 'video4spatial_nav/action/NavigateToObject', {
      onGoal: (g) => {
        names.push(g.object_name);
        return { accept: false, reason: `unknown object '${g.object_name}'` };
      },
      execute: async () => {},
    });
    const client = bus.node({ name: 'b' }).createActionClient<{ object_name: string; execute: boolean; time_budget_s: number }, unknown, unknown>('/find', 'video4spatial_nav/action/NavigateToObject');
    const h = await client.sendGoal({ object_name: 'chaise é', execute: false, time_budget_s: 0 });
    assert.deepEqual(names, ['chaise é']);
    assert.equal(h.rejectReason, "unknown object 'chaise é'");
  });

  it('goes through a rosbag2 MCAP bag whole', async () => {
    const out = new MemoryWritable();
    const w = await BagWriter.create({ writable: out, relativeFilePath: 'u_0.mcap' });
    await w.addTopic('/goal_object', 'std_msgs/msg/String');
    for (const [i, s] of UNICODE.entries()) await w.writeMessage('/goal_object', { data: s }, BigInt(i + 1) * 1000n);
    await w.close();
    const r = await BagReader.open(new MemoryReadable(out.bytes()));
    const back: string[] = [];
    for await (const m of r.decodedMessages<StringMsg>()) back.push(m.message.data);
    assert.deepEqual(back, UNICODE);
  });
});
