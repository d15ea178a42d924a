/**
 * Decodes CDR messages of ANY type with the ros2msg schema embedded in the bag (parsed with
 * @foxglove/rosmsg, read with @foxglove/rosmsg2-serialization), so `bag echo` works for types
 * this project has never heard of.
 */
import { parse } from '@foxglove/rosmsg';
import { MessageReader } from '@foxglove/rosmsg2-serialization';
import { BagFormatError } from '../core/errors.js';

/** What a decoder needs to know about one schema record. */
export interface SchemaRecord {
  id: number;
  /** e.g. `sensor_msgs/msg/Image`. */
  name: string;
  /** Must be `ros2msg` (rosbag2 may also write `ros2idl`, which is not supported here). */
  encoding: string;
  /** UTF-8 schema text: the root definition, then `====…` + `MSG: pkg/Type` per dependency. */
  data: Uint8Array;
}

/** Parses a schema record into a CDR reader, with specific errors. */
export function readerForSchema(schema: SchemaRecord, topic: string): MessageReader {
  if (schema.encoding !== 'ros2msg') {
    throw new BagFormatError(
      `Schema ${schema.id} ('${schema.name}') used by topic '${topic}' has encoding '${schema.encoding}'; ` +
        `this reader decodes only 'ros2msg' schemas` +
        (schema.encoding === 'ros2idl' ? ' (IDL-defined types are not supported)' : ''),
      'bag_schema_encoding',
    );
  }
  const text = new TextDecoder().decode(schema.data);
  if (text.trim() === '') {
    throw new BagFormatError(
      `Schema ${schema.id} ('${schema.name}') used by topic '${topic}' is empty; cannot decode its messages`,
      'bag_schema_invalid',
    );
  }
  try {
    return new MessageReader(parse(text, { ros2: true }));
  } catch (e) {
    throw new BagFormatError(
      `Schema ${schema.id} ('${schema.name}') used by topic '${topic}' does not parse as ros2msg: ${(e as Error).message}`,
      'bag_schema_invalid',
    );
  }
}

/** Largest CDR encapsulation kind (second header byte) defined by DDS-XTypes 1.3. */
const MAX_ENCAPSULATION_KIND = 0x15;

/** Caches one reader per schema id. */
export class SchemaDecoderCache {
  readonly #readers = new Map<number, MessageReader>();

  /**
   * Decodes one CDR payload (with its 4-byte encapsulation header).
   * @param where human description for errors, e.g. `topic '/tf' at log time 123 ns`.
   * @throws BagFormatError when the schema is unusable or the bytes do not match it.
   */
  decode<T = unknown>(schema: SchemaRecord, topic: string, data: Uint8Array, where: string): T {
    let reader = this.#readers.get(schema.id);
    if (!reader) {
      reader = readerForSchema(schema, topic);
      this.#readers.set(schema.id, reader);
    }
    if (data.byteLength < 4 || data[0] !== 0 || (data[1] as number) > MAX_ENCAPSULATION_KIND) {
      throw new BagFormatError(
        `Message on ${where} (type ${schema.name}, ${data.byteLength} bytes) does not start with a CDR encapsulation header ` +
          `(expected 00 <kind 00…15> <options>, e.g. 00 01 00 00; found ${Array.from(data.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ') || 'nothing'})`,
        'bag_message_decode',
      );
    }
    try {
      return reader.readMessage<T>(data);
    } catch (e) {
      throw new BagFormatError(
        `Message on ${where} (type ${schema.name}, ${data.byteLength} bytes) does not match the schema embedded in the file: ${(e as Error).message}`,
        'bag_message_decode',
      );
    }
  }
}
