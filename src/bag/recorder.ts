/**
 * Records topics of the in-process graph into a bag: every message published on a selected
 * topic is written as the CDR bytes the graph carried, with the graph's stamp as log and
 * publish time. Topics are added to the bag the first time a message is seen on them.
 *
 * The graph is reached through the one call this needs (`onAnyMessage`), so the bag core has
 * no dependency on src/ros.
 */
import { BagFormatError } from '../core/errors.js';
import type { BagWriter } from './BagWriter.js';
import { offeredProfile, type OfferedQosProfile } from './qos.js';

/** What the recorder needs from a graph: a tap on every published message. */
export interface RecordableGraph {
  /**
   * Calls `cb` for every message published on the graph. `bytes` are CDR with the
   * encapsulation header; `stampNs` is the graph clock at publication, ns.
   * Returns something that stops the tap.
   */
  onAnyMessage(cb: (topic: string, type: string, bytes: Uint8Array, stampNs: bigint) => void): Unsubscribe;
}

/** A function, or an object with `unsubscribe()` (rxjs Subscription), that stops a tap. */
export type Unsubscribe = (() => void) | { unsubscribe(): void };

export interface RecorderOptions {
  /** Topics to record; default every topic seen. */
  topics?: readonly string[];
  /**
   * QoS profiles to store as `offered_qos_profiles` for a topic. Default: reliable + volatile,
   * transient_local for `/tf_static` (history unknown, as rosbag2 records graph offers).
   */
  qosFor?: (topic: string, type: string) => OfferedQosProfile[];
}

/** Default offered QoS per topic. */
export function defaultRecordedQos(topic: string): OfferedQosProfile[] {
  return [offeredProfile('reliable', topic === '/tf_static' ? 'transient_local' : 'volatile')];
}

export class BagRecorder {
  readonly #writer: BagWriter;
  readonly #wanted: Set<string> | undefined;
  readonly #qosFor: (topic: string, type: string) => OfferedQosProfile[];
  readonly #counts = new Map<string, number>();
  readonly #pending = new Set<Promise<void>>();
  #stop: Unsubscribe | undefined;
  #error: Error | undefined;

  private constructor(writer: BagWriter, options: RecorderOptions) {
    this.#writer = writer;
    this.#wanted = options.topics ? new Set(options.topics) : undefined;
    this.#qosFor = options.qosFor ?? ((topic) => defaultRecordedQos(topic));
  }

  /** Starts recording `graph` into `writer` (the caller closes the writer after `stop()`). */
  static start(graph: RecordableGraph, writer: BagWriter, options: RecorderOptions = {}): BagRecorder {
    const r = new BagRecorder(writer, options);
    r.#stop = graph.onAnyMessage((topic, type, bytes, stampNs) => r.#onMessage(topic, type, bytes, stampNs));
    return r;
  }

  #onMessage(topic: string, type: string, bytes: Uint8Array, stampNs: bigint): void {
    if (this.#error || (this.#wanted && !this.#wanted.has(topic))) return;
    const known = this.#writer.topics.get(topic);
    if (known !== undefined && known !== type) {
      this.#error ??= new BagFormatError(`Topic '${topic}' carried ${type} after ${known}; a bag topic has one type`, 'bag_topic_type');
      return;
    }
    // The writer queues calls in order; copy the bytes since the graph may reuse its buffer.
    const data = bytes.slice();
    const p = (known === undefined ? this.#writer.addTopic(topic, type, { qos: this.#qosFor(topic, type) }) : Promise.resolve())
      .then(() => this.#writer.write(topic, data, stampNs))
      .then(() => {
        this.#counts.set(topic, (this.#counts.get(topic) ?? 0) + 1);
      })
      .catch((e: unknown) => {
        this.#error ??= e as Error;
      })
      .finally(() => this.#pending.delete(p));
    this.#pending.add(p);
  }

  /** Messages written so far per topic. */
  get counts(): ReadonlyMap<string, number> {
    return this.#counts;
  }

  /**
   * Stops the tap and waits for queued writes.
   * @throws the first write error met while recording (e.g. a topic changing type).
   */
  async stop(): Promise<void> {
    const s = this.#stop;
    this.#stop = undefined;
    if (typeof s === 'function') s();
    else s?.unsubscribe();
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
    if (this.#error) throw this.#error;
  }
}
