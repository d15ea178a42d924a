/** A Foxglove WebSocket live view of the in-process ROS graph: every topic as CDR, goals and teleop from the client. */
import type { ChannelId, ClientChannel, FoxgloveServer as FoxgloveServerType, IWebSocket } from '@foxglove/ws-protocol';
// a CommonJS package whose named exports Node cannot detect: take them from the default export
import wsProtocol from '@foxglove/ws-protocol';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../ros/Graph.js';
import type { InProcessBus, InProcessGraph } from '../ros/InProcessGraph.js';
import { decodeMessage, normalizeType, schemaText } from '../ros/messages/index.js';

/** Default port, as Foxglove Studio's "Foxglove WebSocket" connection suggests. */
export const DEFAULT_LIVE_PORT = 8765;
/** The only address the server binds: the view is local (no authentication in the protocol). */
export const LIVE_HOST = '127.0.0.1';
/** Client messages accepted per connection per second (a goal or a teleop stream needs far fewer). */
export const MAX_CLIENT_MESSAGES_PER_S = 50;
/** Period of the topic scan that advertises topics seen only through their subscriptions, ms. */
const TOPIC_SCAN_MS = 500;
/** How long `stop()` waits for a client to answer the close handshake before the socket is cut, ms. */
const CLOSE_WAIT_MS = 1000;
/** Bytes of a rejected payload quoted (hex) in the error status. */
const QUOTED_BYTES = 16;
/** Client binary opcode of message data (ws-protocol spec). */
const CLIENT_MESSAGE_DATA = 0x01;
const { FoxgloveServer, StatusLevel } = wsProtocol;

/** A topic clients may publish on, with its one message type. */
export interface AcceptedTopic {
  topic: string;
  type: string;
}

/** The topics the node listens to from an operator: `~/goal_object` and the teleop Twist topic. */
export function nodeInputTopics(nodeName = 'video4spatial_nav', teleopTopic = '/cmd_vel_teleop'): AcceptedTopic[] {
  return [
    { topic: `/${nodeName}/goal_object`, type: 'std_msgs/msg/String' },
    { topic: teleopTopic, type: 'geometry_msgs/msg/Twist' },
  ];
}

export interface LiveOptions {
  /** TCP port on 127.0.0.1; 0 picks a free one (see `port` after listen). Default 8765. */
  port?: number;
  /** Topics clients may publish on; default `nodeInputTopics()`. */
  accepts?: readonly AcceptedTopic[];
  /** Per connection; default MAX_CLIENT_MESSAGES_PER_S. */
  maxClientMessagesPerS?: number;
  /** Server name shown by Foxglove; default 'video4spatial_nav'. */
  name?: string;
}

interface ClientState {
  /** Client channel id → the advertisement, or why it was refused. */
  channels: Map<number, { channel: ClientChannel; refused: string | undefined }>;
  windowStart: number;
  count: number;
  /** The rate error was already sent in this window. */
  warned: boolean;
}

const hex = (b: Uint8Array): string =>
  Array.from(b.subarray(0, QUOTED_BYTES), (x) => x.toString(16).padStart(2, '0')).join(' ') + (b.byteLength > QUOTED_BYTES ? ' …' : '');

/**
 * `FoxgloveLive.listen({ port })` binds a `ws` WebSocketServer on 127.0.0.1 (the foxglove.websocket.v1
 * subprotocol, served by @foxglove/ws-protocol's FoxgloveServer); `attach(bus)` then:
 * - advertises every topic of the bus (publishers or subscriptions) as a channel with encoding
 *   'cdr', schemaEncoding 'ros2msg' and the ROS 2 definition text (`schemaText`), and a topic the
 *   first time a message is seen on it (the bus's `onAnyMessage` tap, as the bag recorder uses);
 * - forwards every publication as the CDR bytes the bus carried, stamped with the bus clock (ns),
 *   to the clients subscribed to its channel; a client that subscribes to a latched topic
 *   (/tf_static, /map: transient-local publishers) is first sent what those publishers keep, as a
 *   late-joining transient-local subscription would be (the channel's other subscribers get it
 *   again too: the protocol sends a channel's message to all its subscribers);
 * - accepts client publishing (clientAdvertise) only on the topics in `accepts` (by default the
 *   node's `~/goal_object`, std_msgs/msg/String, and the teleop Twist topic); the client's CDR (or
 *   JSON) is decoded with the repository's message registry and published on the bus by a
 *   `foxglove_live` node. Bad client input (an unknown channel id, bytes that are not a message of
 *   the channel's type, a topic or type the node does not accept, more than
 *   `maxClientMessagesPerS` messages in a second, unparsable JSON) is answered with an ERROR status
 *   to that client, quoting the bad value; it never throws.
 * `stop()` closes every client socket and the server.
 */
export class FoxgloveLive {
  readonly server: FoxgloveServerType;
  readonly accepts: readonly AcceptedTopic[];
  readonly maxClientMessagesPerS: number;
  /** Errors sent to clients, newest last (for tests and logs). */
  readonly clientErrors: string[] = [];
  readonly #wss: WebSocketServer;
  readonly #channels = new Map<string, ChannelId>();
  readonly #topicOf = new Map<ChannelId, string>();
  readonly #subscribed = new Set<ChannelId>();
  readonly #clients = new Map<IWebSocket, ClientState>();
  #bus: InProcessBus | undefined;
  #node: InProcessGraph | undefined;
  #untap: (() => void) | undefined;
  #scan: ReturnType<typeof setInterval> | undefined;
  #logger: Logger | undefined;
  readonly #publishers = new Map<string, { publish(msg: unknown): void }>();
  #stopped: Promise<void> | undefined;

  private constructor(wss: WebSocketServer, options: LiveOptions) {
    this.#wss = wss;
    this.accepts = options.accepts ?? nodeInputTopics();
    this.maxClientMessagesPerS = options.maxClientMessagesPerS ?? MAX_CLIENT_MESSAGES_PER_S;
    this.server = new FoxgloveServer({ name: options.name ?? 'video4spatial_nav', capabilities: ['clientPublish'], supportedEncodings: ['cdr', 'json'] });
    this.server.on('subscribe', (id) => this.#subscribed.add(id));
    this.server.on('unsubscribe', (id) => this.#subscribed.delete(id));
    this.server.on('advertise', (ch) => this.#onAdvertise(ch.client.connection, ch));
    this.server.on('unadvertise', ({ client, channelId }) => this.#clients.get(client.connection)?.channels.delete(channelId));
    this.server.on('message', ({ client, channel, data }) => this.#onClientMessage(client.connection, channel, new Uint8Array(data.buffer, data.byteOffset, data.byteLength)));
    this.server.on('error', (e) => this.#logger?.warn(`foxglove live: ${e.message}`));
    wss.on('connection', (ws, req) => this.#onConnection(ws, `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`));
  }

  /**
   * Binds the WebSocket server on 127.0.0.1:`port`.
   * @throws when the port cannot be bound (in use: the message names it).
   */
  static async listen(options: LiveOptions = {}): Promise<FoxgloveLive> {
    const port = options.port ?? DEFAULT_LIVE_PORT;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`foxglove live: port ${String(port)} is not an integer in 0-65535`);
    let live: FoxgloveLive | undefined;
    const wss = new WebSocketServer({ host: LIVE_HOST, port, handleProtocols: (protocols) => live?.server.handleProtocols(protocols) ?? false });
    live = new FoxgloveLive(wss, options);
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve);
      wss.once('error', (e: NodeJS.ErrnoException) =>
        reject(new Error(`foxglove live: cannot listen on ${LIVE_HOST}:${port}: ${e.code === 'EADDRINUSE' ? 'the port is in use (pick another with --port)' : e.message}`)),
      );
    });
    const made = live;
    wss.on('error', (e) => made.#logger?.warn(`foxglove live: ${e.message}`));
    return live;
  }

  /** The bound port (the real one when 0 was asked). */
  get port(): number {
    const a = this.#wss.address();
    return typeof a === 'object' && a !== null ? a.port : 0;
  }

  /** `ws://127.0.0.1:PORT`, the address to open in Foxglove Studio. */
  get url(): string {
    return `ws://${LIVE_HOST}:${this.port}`;
  }

  /** Serves `bus`: advertises its topics now and as they appear, forwards its messages, publishes clients' goals on it. */
  attach(bus: InProcessBus): void {
    if (this.#bus) throw new Error('foxglove live: already attached to a bus');
    this.#bus = bus;
    this.#logger = bus.logger;
    this.#node = bus.node({ name: 'foxglove_live' });
    this.#untap = bus.onAnyMessage((topic, type, bytes, stampNs) => this.#forward(topic, type, bytes, stampNs));
    this.#scanTopics();
    this.#scan = setInterval(() => this.#scanTopics(), TOPIC_SCAN_MS);
    this.#scan.unref();
  }

  /** Channel id of a topic, once advertised. */
  channelOf(topic: string): ChannelId | undefined {
    return this.#channels.get(topic);
  }

  #scanTopics(): void {
    if (!this.#bus) return;
    for (const [topic, info] of this.#bus.topics()) this.#advertise(topic, info.type);
  }

  #advertise(topic: string, type: string): ChannelId | undefined {
    const known = this.#channels.get(topic);
    if (known !== undefined) return known;
    let schema: string;
    try {
      schema = schemaText(type, this.#bus?.distro);
    } catch (e) {
      this.#logger?.warn(`foxglove live: no schema for '${topic}' (${type}): ${(e as Error).message}`);
      this.#channels.set(topic, -1);
      return undefined;
    }
    const id = this.server.addChannel({ topic, encoding: 'cdr', schemaName: normalizeType(type), schema, schemaEncoding: 'ros2msg' });
    this.#channels.set(topic, id);
    this.#topicOf.set(id, topic);
    return id;
  }

  #forward(topic: string, type: string, bytes: Uint8Array, stampNs: bigint): void {
    const id = this.#advertise(topic, type);
    if (id === undefined || id < 0 || !this.#subscribed.has(id)) return;
    // the socket sends later; copy, since the bus owns its buffer
    this.server.sendMessage(id, stampNs < 0n ? 0n : stampNs, bytes.slice());
  }

  #onConnection(ws: WebSocket, name: string): void {
    const state: ClientState = { channels: new Map(), windowStart: Date.now(), count: 0, warned: false };
    const conn = ws as unknown as IWebSocket;
    this.#clients.set(conn, state);
    ws.on('close', () => this.#clients.delete(conn));
    ws.on('error', (e) => this.#logger?.warn(`foxglove live: client ${name}: ${e.message}`));
    this.server.handleConnection(conn, name);
    // Check what FoxgloveServer would throw away silently (or only log) before it sees it.
    const inner = ws.onmessage;
    ws.onmessage = (event) => {
      try {
        if (!this.#screen(conn, state, event.data)) return;
        inner?.call(ws, event);
        if (typeof event.data === 'string') this.#replayLatched(event.data);
      } catch (e) {
        this.#error(conn, `could not handle the message: ${(e as Error).message}`);
      }
    };
  }

  /** True when the raw client message may go on to FoxgloveServer; otherwise the client got an error status. */
  #screen(conn: IWebSocket, state: ClientState, data: unknown): boolean {
    if (typeof data === 'string') {
      try {
        JSON.parse(data);
      } catch {
        this.#error(conn, `not JSON: '${data.slice(0, 80)}'`);
        return false;
      }
      return true;
    }
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : undefined;
    if (!bytes || bytes.byteLength < 1) {
      this.#error(conn, 'empty binary message');
      return false;
    }
    if (bytes[0] !== CLIENT_MESSAGE_DATA) return true;
    if (bytes.byteLength < 5) {
      this.#error(conn, `message data of ${bytes.byteLength} bytes has no channel id (${hex(bytes)})`);
      return false;
    }
    const now = Date.now();
    if (now - state.windowStart >= 1000) {
      state.windowStart = now;
      state.count = 0;
      state.warned = false;
    }
    if (++state.count > this.maxClientMessagesPerS) {
      if (!state.warned) this.#error(conn, `too many messages: more than ${this.maxClientMessagesPerS} per second; the rest of this second is dropped`);
      state.warned = true;
      return false;
    }
    const channelId = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(1, true);
    const adv = state.channels.get(channelId);
    if (!adv) {
      this.#error(conn, `message data for unknown channel id ${channelId} (advertise the channel first)`);
      return false;
    }
    if (adv.refused !== undefined) {
      this.#error(conn, `message data on channel ${channelId} ('${adv.channel.topic}') refused: ${adv.refused}`);
      return false;
    }
    return true;
  }

  /** After a client's `subscribe` went through: sends each subscribed channel's latched messages (see the class comment). */
  #replayLatched(text: string): void {
    const bus = this.#bus;
    if (!bus) return;
    const msg = JSON.parse(text) as { op?: unknown; subscriptions?: unknown };
    if (msg.op !== 'subscribe' || !Array.isArray(msg.subscriptions)) return;
    for (const sub of msg.subscriptions as { channelId?: unknown }[]) {
      const id = typeof sub.channelId === 'number' ? sub.channelId : undefined;
      const topic = id === undefined ? undefined : this.#topicOf.get(id);
      if (id === undefined || topic === undefined) continue;
      const stamp = bus.clock.now();
      for (const bytes of bus.latched(topic)) this.server.sendMessage(id, stamp < 0n ? 0n : stamp, bytes.slice());
    }
  }

  #onAdvertise(conn: IWebSocket, channel: ClientChannel): void {
    const state = this.#clients.get(conn);
    if (!state) return;
    const accepted = this.accepts.find((a) => a.topic === channel.topic);
    let refused: string | undefined;
    let type = '';
    try {
      type = normalizeType(channel.schemaName);
    } catch {
      type = channel.schemaName;
    }
    if (!accepted) {
      refused = `topic '${channel.topic}' is not accepted; clients may publish on ${this.accepts.map((a) => `'${a.topic}' (${a.type})`).join(', ')}`;
    } else if (type !== accepted.type) {
      refused = `topic '${channel.topic}' carries ${accepted.type}, not '${channel.schemaName}'`;
    } else if (channel.encoding !== 'cdr' && channel.encoding !== 'json') {
      refused = `encoding '${channel.encoding}' is not supported (cdr or json)`;
    }
    state.channels.set(channel.id, { channel, refused });
    if (refused !== undefined) this.#error(conn, `advertise of channel ${channel.id} refused: ${refused}`);
  }

  #onClientMessage(conn: IWebSocket, channel: ClientChannel, data: Uint8Array): void {
    const bus = this.#bus;
    const node = this.#node;
    const accepted = this.accepts.find((a) => a.topic === channel.topic);
    if (!bus || !node || !accepted) {
      this.#error(conn, `message on '${channel.topic}' dropped: ${bus ? 'the topic is not accepted' : 'no graph attached yet'}`);
      return;
    }
    let msg: unknown;
    try {
      msg = channel.encoding === 'json' ? JSON.parse(new TextDecoder().decode(data)) : decodeMessage(accepted.type, data, bus.distro);
    } catch (e) {
      this.#error(conn, `channel ${channel.id} ('${channel.topic}'): ${data.byteLength} bytes (${hex(data)}) are not a ${channel.encoding} ${accepted.type}: ${(e as Error).message}`);
      return;
    }
    try {
      let pub = this.#publishers.get(accepted.topic);
      if (!pub) {
        pub = node.createPublisher(accepted.topic, accepted.type, 'default');
        this.#publishers.set(accepted.topic, pub);
      }
      pub.publish(msg);
    } catch (e) {
      this.#error(conn, `channel ${channel.id} ('${channel.topic}'): not a valid ${accepted.type}: ${(e as Error).message}`);
    }
  }

  #error(conn: IWebSocket, message: string): void {
    this.clientErrors.push(message);
    this.#logger?.warn(`foxglove live: ${message}`);
    try {
      this.server.sendStatus({ level: StatusLevel.ERROR, message }, conn);
    } catch {
      // the client went away; nothing to tell
    }
  }

  /** Stops forwarding, closes every client (close handshake, then cut after 1 s) and the server. Idempotent. */
  stop(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<void> {
    this.#untap?.();
    if (this.#scan) clearInterval(this.#scan);
    this.#node?.destroy();
    const sockets = [...this.#wss.clients];
    await Promise.all(
      sockets.map(
        (ws) =>
          new Promise<void>((resolve) => {
            if (ws.readyState === ws.CLOSED) return resolve();
            const cut = setTimeout(() => {
              ws.terminate();
              resolve();
            }, CLOSE_WAIT_MS);
            ws.once('close', () => {
              clearTimeout(cut);
              resolve();
            });
            ws.close(1001, 'server stopping');
          }),
      ),
    );
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }
}
