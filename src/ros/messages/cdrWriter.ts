/**
 * CDR serialisation of ROS 2 messages (XCDR1, little endian, with the 4-byte encapsulation
 * header `00 01 00 00`), from definitions parsed by @foxglove/rosmsg (`{ros2: true}`).
 *
 * It replaces @foxglove/rosmsg2-serialization's MessageWriter, whose CdrWriter sizes a string by
 * its JavaScript length (UTF-16 code units) and so cut every non-ASCII string short ("椅子" went
 * out as 2 of its 6 UTF-8 bytes). Here a string is its UTF-8 bytes: uint32 length (bytes + 1),
 * the bytes, a NUL. Everything else is byte for byte what MessageWriter writes (a test compares
 * the two on every registered type): alignment of each primitive to its size counted from the end
 * of the encapsulation header (8 for 64-bit values), time/duration as int32 + uint32, sequences
 * prefixed by a uint32 count, fixed arrays without, missing fields at their defaults, and an
 * empty message as one uint8.
 *
 * The message is validated before (`validateMessage`), so values here have the right types.
 */
import type { MessageDefinition, MessageDefinitionField } from '@foxglove/message-definition';
import { MessageError } from '../../core/errors.js';

const SIZES: Record<string, number> = {
  bool: 1, byte: 1, char: 1, int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4, int64: 8, uint64: 8, float32: 4, float64: 8,
};

const encoder = new TextEncoder();

/** The UTF-8 length of `s` in bytes (no allocation for ASCII). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4; // a surrogate pair: one code point above U+FFFF
      i++;
    } else n += 3; // the rest of the BMP (a lone surrogate becomes U+FFFD, also 3 bytes)
  }
  return n;
}

/**
 * Walks a message twice with the same code: once to measure (no buffer), once to write. The
 * offsets are absolute in the output; alignment counts from ORIGIN (after the encapsulation header).
 */
class Cursor {
  static readonly ORIGIN = 4;
  offset = Cursor.ORIGIN;
  constructor(
    readonly view: DataView | undefined,
    readonly bytes: Uint8Array | undefined,
  ) {}

  align(size: number): void {
    const r = (this.offset - Cursor.ORIGIN) % size;
    if (r === 0) return;
    const pad = size - r;
    if (this.bytes) this.bytes.fill(0, this.offset, this.offset + pad);
    this.offset += pad;
  }

  primitive(type: string, value: unknown): void {
    const size = SIZES[type];
    if (size === undefined) throw new MessageError(`CDR writer: unsupported primitive type '${type}'`, 'message_definition');
    this.align(size);
    const v = this.view;
    if (v) {
      const o = this.offset;
      switch (type) {
        case 'bool':
          v.setUint8(o, value === true ? 1 : 0);
          break;
        case 'int8':
          v.setInt8(o, Number(value ?? 0));
          break;
        case 'byte':
        case 'char':
        case 'uint8':
          v.setUint8(o, Number(value ?? 0));
          break;
        case 'int16':
          v.setInt16(o, Number(value ?? 0), true);
          break;
        case 'uint16':
          v.setUint16(o, Number(value ?? 0), true);
          break;
        case 'int32':
          v.setInt32(o, Number(value ?? 0), true);
          break;
        case 'uint32':
          v.setUint32(o, Number(value ?? 0), true);
          break;
        case 'int64':
          v.setBigInt64(o, BigInt((value as bigint | number | undefined) ?? 0), true);
          break;
        case 'uint64':
          v.setBigUint64(o, BigInt((value as bigint | number | undefined) ?? 0), true);
          break;
        case 'float32':
          v.setFloat32(o, Number(value ?? 0), true);
          break;
        case 'float64':
          v.setFloat64(o, Number(value ?? 0), true);
          break;
      }
    }
    this.offset += size;
  }

  string(s: string): void {
    const n = utf8Length(s);
    this.primitive('uint32', n + 1);
    if (this.bytes) {
      const { written } = encoder.encodeInto(s, this.bytes.subarray(this.offset, this.offset + n));
      if (written !== n) throw new MessageError(`CDR writer: string of ${s.length} characters encoded to ${written} bytes, expected ${n}`, 'message_invalid');
      this.bytes[this.offset + n] = 0;
    }
    this.offset += n + 1;
  }

  /** A run of bytes (uint8[] fields: images). */
  raw(data: ArrayLike<number>): void {
    if (this.bytes) this.bytes.set(data, this.offset);
    this.offset += data.length;
  }
}

function arrayLength(value: unknown): number {
  const n = (value as { length?: unknown } | undefined)?.length;
  return typeof n === 'number' ? n : 0;
}

/** Serialises messages of one type (root definition first, then its dependencies, as `parse` returns them). */
export class CdrMessageWriter {
  readonly #root: MessageDefinitionField[];
  readonly #byName: Map<string, MessageDefinitionField[]>;

  constructor(definitions: readonly MessageDefinition[]) {
    const root = definitions.find((d) => !(d.definitions.length > 0 && d.definitions.every((f) => f.isConstant === true)));
    if (!root) throw new MessageError('CDR writer: no root message definition', 'message_definition');
    this.#root = root.definitions;
    this.#byName = new Map(definitions.map((d) => [d.name ?? '', d.definitions]));
  }

  /** The CDR bytes of `message`, encapsulation header included. */
  writeMessage(message: unknown): Uint8Array {
    const measure = new Cursor(undefined, undefined);
    this.#struct(this.#root, message, measure);
    const buffer = new ArrayBuffer(measure.offset);
    const bytes = new Uint8Array(buffer);
    const out = new Cursor(new DataView(buffer), bytes);
    bytes[0] = 0;
    bytes[1] = 1; // CDR_LE
    bytes[2] = 0;
    bytes[3] = 0;
    this.#struct(this.#root, message, out);
    if (out.offset !== measure.offset) throw new MessageError(`CDR writer: wrote ${out.offset} bytes, measured ${measure.offset}`, 'message_invalid');
    return bytes;
  }

  #definition(type: string): MessageDefinitionField[] {
    const d = this.#byName.get(type);
    if (!d) throw new MessageError(`CDR writer: no definition of ${type}`, 'message_definition');
    return d;
  }

  #struct(fields: readonly MessageDefinitionField[], message: unknown, c: Cursor): void {
    const data = fields.filter((f) => f.isConstant !== true);
    if (data.length === 0) {
      // ROS 2 gives an empty message one uint8 member (structure_needs_at_least_one_member)
      c.primitive('uint8', 0);
      return;
    }
    const obj = (message ?? {}) as Record<string, unknown>;
    for (const f of data) {
      const v = obj[f.name];
      if (f.isArray === true) this.#array(f, v, c);
      else this.#single(f, v, f.defaultValue, c);
    }
  }

  #single(f: MessageDefinitionField, v: unknown, dflt: unknown, c: Cursor): void {
    if (f.isComplex === true) {
      this.#struct(this.#definition(f.type), v ?? {}, c);
      return;
    }
    switch (f.type) {
      case 'string':
      case 'wstring':
        if (f.type === 'wstring') throw new MessageError(`CDR writer: field '${f.name}': wstring is implementation-defined and not supported`, 'message_definition');
        c.string(typeof v === 'string' ? v : typeof dflt === 'string' ? dflt : '');
        return;
      case 'time':
      case 'duration': {
        const t = (v ?? {}) as { sec?: number; nanosec?: number; nsec?: number };
        c.primitive('int32', t.sec ?? 0);
        c.primitive('uint32', t.nsec ?? t.nanosec ?? 0);
        return;
      }
      case 'bool':
        c.primitive('bool', typeof v === 'boolean' ? v : dflt === true);
        return;
      default:
        c.primitive(f.type, v ?? dflt ?? 0);
    }
  }

  #array(f: MessageDefinitionField, v: unknown, c: Cursor): void {
    const given = Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView));
    if (f.arrayLength !== undefined && given && arrayLength(v) !== f.arrayLength) {
      throw new MessageError(`CDR writer: field '${f.name}' must have exactly ${f.arrayLength} items, got ${arrayLength(v)}`, 'message_invalid');
    }
    let items: ArrayLike<unknown>;
    if (given) items = v as ArrayLike<unknown>;
    else if (Array.isArray(f.defaultValue) && !f.isComplex) items = f.defaultValue as unknown[];
    else items = { length: f.arrayLength ?? 0 };
    if (f.arrayLength === undefined) c.primitive('uint32', items.length);
    if ((f.type === 'uint8' || f.type === 'byte' || f.type === 'char') && f.isComplex !== true) {
      c.raw(items as ArrayLike<number>);
      return;
    }
    for (let i = 0; i < items.length; i++) this.#single(f, items[i], undefined, c);
  }
}
