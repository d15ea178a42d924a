/**
 * The ROS graph port: everything the node (and the simulator, the bag player, the CLI) needs
 * from ROS 2, as one small interface with two implementations that behave the same:
 * - `InProcessGraph` (src/ros/InProcessGraph.ts): a faithful in-process bus for tests, the
 *   simulator and machines without ROS; every message goes through CDR with the real
 *   definitions, so a wrong field fails here as it would on a robot;
 * - `RclnodejsGraph` (src/ros/rclnodejsGraph.ts): rclnodejs 2.x on a ROS 2 host.
 *
 * Names follow ROS 2: `/abs`, `rel` (→ `/<namespace>/rel`), `~/private` (→
 * `/<namespace>/<node>/private`); remapping rules are applied to the expanded name.
 * Times are nanoseconds (bigint) of the graph clock (ROS time: sim time when `use_sim_time`).
 * Message objects are plain objects with ROS field names (see src/ros/messages/types.ts).
 */
import { Observable } from 'rxjs';
import { ParameterError } from '../core/errors.js';

// ───────────────────────────── QoS ─────────────────────────────

export type QosHistory = 'keep_last' | 'keep_all';
export type QosReliability = 'reliable' | 'best_effort';
export type QosDurability = 'volatile' | 'transient_local';

/**
 * A QoS profile (the policies both implementations honour). `history` defaults to keep_last.
 * Structurally compatible with src/bag's `ReplayQos`.
 */
export interface QosProfile {
  history?: QosHistory;
  /** keep_last queue depth, messages (≥ 1). */
  depth: number;
  reliability: QosReliability;
  durability: QosDurability;
}

/** The named profiles (rclcpp/rclnodejs presets and tf2's). */
export const QOS = Object.freeze({
  /** rmw_qos_profile_default: KEEP_LAST 10, RELIABLE, VOLATILE. */
  default: Object.freeze<Required<QosProfile>>({ history: 'keep_last', depth: 10, reliability: 'reliable', durability: 'volatile' }),
  /** rmw_qos_profile_sensor_data: KEEP_LAST 5, BEST_EFFORT, VOLATILE (cameras). */
  sensorData: Object.freeze<Required<QosProfile>>({ history: 'keep_last', depth: 5, reliability: 'best_effort', durability: 'volatile' }),
  /** tf2_ros DynamicListenerQoS for /tf: KEEP_LAST 100, RELIABLE, VOLATILE. */
  tf: Object.freeze<Required<QosProfile>>({ history: 'keep_last', depth: 100, reliability: 'reliable', durability: 'volatile' }),
  /** tf2_ros StaticListenerQoS for /tf_static: KEEP_LAST 100, RELIABLE, TRANSIENT_LOCAL (latched). */
  tfStatic: Object.freeze<Required<QosProfile>>({ history: 'keep_last', depth: 100, reliability: 'reliable', durability: 'transient_local' }),
  /** rcl_action status topic: KEEP_LAST 1, RELIABLE, TRANSIENT_LOCAL. */
  actionStatus: Object.freeze<Required<QosProfile>>({ history: 'keep_last', depth: 1, reliability: 'reliable', durability: 'transient_local' }),
});

/** Preset names accepted wherever a QoS is expected (src/ros/ingestPipeline uses the snake_case ones). */
export type QosPresetName = 'default' | 'sensor_data' | 'tf' | 'tf_static' | 'action_status';
export type QosLike = QosPresetName | QosProfile;

const PRESETS: Record<QosPresetName, Required<QosProfile>> = {
  default: QOS.default,
  sensor_data: QOS.sensorData,
  tf: QOS.tf,
  tf_static: QOS.tfStatic,
  action_status: QOS.actionStatus,
};

/** The full profile of a preset name or a partial profile; throws on a bad one. */
export function resolveQos(qos: QosLike): Required<QosProfile> {
  if (typeof qos === 'string') {
    const p = PRESETS[qos];
    if (!p) throw new ParameterError(`unknown QoS preset '${String(qos)}' (known: ${Object.keys(PRESETS).join(', ')})`, 'qos');
    return p;
  }
  const history = qos.history ?? 'keep_last';
  if (history !== 'keep_last' && history !== 'keep_all') throw new ParameterError(`QoS history must be keep_last or keep_all, got '${String(history)}'`, 'qos');
  if (history === 'keep_last' && (!Number.isInteger(qos.depth) || qos.depth < 1)) {
    throw new ParameterError(`QoS keep_last depth must be an integer ≥ 1, got ${qos.depth}`, 'qos');
  }
  if (qos.reliability !== 'reliable' && qos.reliability !== 'best_effort') {
    throw new ParameterError(`QoS reliability must be reliable or best_effort, got '${String(qos.reliability)}'`, 'qos');
  }
  if (qos.durability !== 'volatile' && qos.durability !== 'transient_local') {
    throw new ParameterError(`QoS durability must be volatile or transient_local, got '${String(qos.durability)}'`, 'qos');
  }
  return { history, depth: qos.depth, reliability: qos.reliability, durability: qos.durability };
}

/**
 * DDS request/offer matching: a subscription connects to a publisher unless it asks for more
 * than is offered (RELIABLE from a BEST_EFFORT publisher, TRANSIENT_LOCAL from a VOLATILE one).
 * Returns undefined when compatible, else why not.
 */
export function qosIncompatibility(offered: QosProfile, requested: QosProfile): string | undefined {
  if (requested.reliability === 'reliable' && offered.reliability === 'best_effort') {
    return 'the subscription requests RELIABLE but the publisher offers BEST_EFFORT';
  }
  if (requested.durability === 'transient_local' && offered.durability === 'volatile') {
    return 'the subscription requests TRANSIENT_LOCAL but the publisher offers VOLATILE';
  }
  return undefined;
}

// ───────────────────────────── names ─────────────────────────────

const NAME_TOKEN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Validates a node name (ROS: letters, digits, underscores; not starting with a digit). */
export function checkNodeName(name: string): void {
  if (!NAME_TOKEN.test(name)) throw new ParameterError(`invalid node name '${name}' (letters, digits and _; not starting with a digit)`, 'name');
}

/** Normalises a namespace: '' or '/' → '/', 'a/b' → '/a/b', no trailing slash. */
export function normalizeNamespace(ns: string): string {
  const t = ns.replace(/^\/+|\/+$/g, '');
  if (t === '') return '/';
  for (const part of t.split('/')) {
    if (!NAME_TOKEN.test(part)) throw new ParameterError(`invalid namespace '${ns}': token '${part}'`, 'name');
  }
  return `/${t}`;
}

/**
 * Expands a topic/action name like rcl: `~` → `/<ns>/<node>`, relative → under the namespace.
 * @throws ParameterError for an empty or malformed name (empty token, bad characters, `~` not first).
 */
export function expandName(name: string, nodeName: string, namespace: string): string {
  const ns = normalizeNamespace(namespace);
  const base = ns === '/' ? '' : ns;
  let full: string;
  if (name === '~') full = `${base}/${nodeName}`;
  else if (name.startsWith('~/')) full = `${base}/${nodeName}/${name.slice(2)}`;
  else if (name.startsWith('/')) full = name;
  else full = `${base}/${name}`;
  const tokens = full.slice(1).split('/');
  if (name === '' || tokens.some((t) => !NAME_TOKEN.test(t))) {
    throw new ParameterError(`invalid ROS name '${name}' (expanded '${full}'): tokens must be letters, digits and _, not starting with a digit`, 'name');
  }
  return full;
}

/** Remapping rules `from → to` (both expanded like names); the first matching rule wins. */
export type RemapRules = Readonly<Record<string, string>>;

/** Expands `name`, then applies the first remap rule whose expanded `from` equals it. */
export function resolveTopicName(name: string, nodeName: string, namespace: string, remap: RemapRules = {}): string {
  const full = expandName(name, nodeName, namespace);
  for (const [from, to] of Object.entries(remap)) {
    if (expandName(from, nodeName, namespace) === full) return expandName(to, nodeName, namespace);
  }
  return full;
}

// ───────────────────────────── clock, logger ─────────────────────────────

/** The graph's time source, ns since the epoch (ROS time; sim time in simulation). */
export interface Clock {
  now(): bigint;
}

/** Severity-levelled text logger (winston here, the ROS logger on a robot: src/ros/logger.ts). */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

// ───────────────────────────── topics, timers ─────────────────────────────

export interface Subscription {
  /** The resolved topic name. */
  readonly topic: string;
  readonly type: string;
  /** Stops delivery; idempotent. (Same shape as an rxjs Subscription.) */
  unsubscribe(): void;
}

export interface Publisher<T = unknown> {
  readonly topic: string;
  readonly type: string;
  /**
   * Publishes `msg`. Encoding errors (unknown field, wrong primitive type) throw MessageError
   * here, synchronously, in both implementations.
   */
  publish(msg: T): void;
  /** Stops publishing; idempotent. */
  destroy(): void;
}

export interface Timer {
  /** Stops the timer; idempotent. */
  cancel(): void;
}

// ───────────────────────────── parameters ─────────────────────────────

export type ParameterKind = 'bool' | 'integer' | 'double' | 'string';
export type ParameterValue = boolean | number | string;

/** What the graph needs to declare one parameter (see src/ros/parameters.ts for the node's list). */
export interface ParameterDeclaration {
  name: string;
  kind: ParameterKind;
  default: ParameterValue;
  description: string;
  /** Read-only parameters cannot be changed after start-up (ROS rejects the set). */
  readOnly: boolean;
  /** Human-readable range/allowed values (ParameterDescriptor.additional_constraints). */
  constraints: string;
}

export interface ParameterChange {
  name: string;
  /** As received: a wrong type is the handler's to reject. */
  value: unknown;
}

export interface SetParametersResult {
  successful: boolean;
  /** Why not (empty when successful). */
  reason: string;
}

/** The node's parameter service, as the parameter handler sees it. */
export interface ParameterPort {
  /**
   * Declares a parameter and returns its start-up value: the override (params file, launch
   * argument, in-process `parameters` option) when there is one, else the default. Not validated.
   */
  declare(declaration: ParameterDeclaration): unknown;
  /** Replaces a declared parameter's value without calling the set callback (start-up corrections). */
  set(name: string, value: ParameterValue): void;
  /** Registers the callback that accepts or rejects runtime updates (`ros2 param set`). */
  onSetParameters(callback: (changes: readonly ParameterChange[]) => SetParametersResult): void;
}

// ───────────────────────────── actions ─────────────────────────────

/** The answer to a goal request: ROS only carries `accepted`; the reason is logged (and given to in-process clients). */
export type GoalDecision = { accept: true } | { accept: false; reason: string };

export type GoalStatus = 'accepted' | 'executing' | 'canceling' | 'succeeded' | 'canceled' | 'aborted';

/** Why a running goal was asked to stop. */
export type StopReason = 'cancel' | 'preempted' | 'shutdown';

export interface ServerGoalHandle<G, F, R> {
  /** UUID, 32 lowercase hex digits. */
  readonly goalId: string;
  readonly goal: G;
  readonly status: GoalStatus;
  /** Fires when the goal must stop: a client cancel, preemption by a newer goal, or shutdown. */
  readonly signal: AbortSignal;
  /** Set with the signal. */
  readonly stopReason: StopReason | undefined;
  /** True once a cancel was accepted or the goal was preempted (the goal should end soon). */
  isCancelRequested(): boolean;
  publishFeedback(feedback: F): void;
  /** Terminal states; the first call wins, later ones throw. `reason` is logged (and reaches in-process clients). */
  succeed(result: R): void;
  abort(result: R, reason?: string): void;
  canceled(result: R, reason?: string): void;
}

export interface ActionServerOptions<G, F, R> {
  /**
   * Accept or reject a new goal (synchronously: rclnodejs calls the goal callback synchronously).
   * Default: accept.
   */
  onGoal?(goal: G): GoalDecision;
  /**
   * Runs an accepted goal. It must end the goal with succeed/abort/canceled; returning (or
   * throwing) without doing so aborts it with the default result. Only one goal executes at a
   * time: a newer accepted goal preempts the running one (its signal fires with
   * stopReason 'preempted'; it should end with canceled() or abort()), and starts when it ended.
   */
  execute(handle: ServerGoalHandle<G, F, R>): Promise<void> | void;
  /** Accept (true, default) or reject a cancel request. */
  onCancel?(handle: ServerGoalHandle<G, F, R>): boolean;
}

export interface ActionServer {
  readonly name: string;
  readonly type: string;
  /**
   * Stops serving at once; the running goal gets stopReason 'shutdown' (`Graph.shutdown` is the
   * graceful way: it waits for the goal to end first). Idempotent.
   */
  destroy(): void;
}

export type ActionOutcome<R> =
  | { status: 'succeeded' | 'canceled' | 'aborted'; result: R; reason?: string }
  | { status: 'rejected'; reason?: string };

export interface ClientGoalHandle<R> {
  readonly goalId: string;
  readonly accepted: boolean;
  /** In-process only (ROS carries no rejection reason). */
  readonly rejectReason: string | undefined;
  /** Settles when the goal ends; a rejected goal resolves at once with status 'rejected'. */
  readonly result: Promise<ActionOutcome<R>>;
  /** Requests cancellation; resolves true when the server accepted the request. */
  cancel(): Promise<boolean>;
}

export interface ActionClient<G, F, R> {
  readonly name: string;
  readonly type: string;
  /** Resolves true once a server is available, false after `timeoutMs`. */
  waitForServer(timeoutMs: number): Promise<boolean>;
  /** Sends a goal; resolves when the server accepted or rejected it. */
  sendGoal(goal: G, onFeedback?: (feedback: F) => void): Promise<ClientGoalHandle<R>>;
  /**
   * Stops the client. An action server does not cancel goals when their client goes away, so
   * every goal this client sent that has not ended gets a cancel request first (without waiting
   * for the answer: `Graph.shutdown` waits for it). Idempotent.
   */
  destroy(): void;
}

// ───────────────────────────── shutdown ─────────────────────────────

/** How long each step of `Graph.shutdown` may wait. */
export interface GraphShutdownOptions {
  /** Why (logged; the reason given to goals forced to end): 'SIGINT', 'SIGTERM', … Default 'shutdown'. */
  reason?: string;
  /** How long running goals may take to end after their stop signal, ms (default SHUTDOWN_GOAL_TIMEOUT_MS). */
  goalTimeoutMs?: number;
  /** How long to wait for the servers to answer the cancel requests of the goals this node sent, ms (default SHUTDOWN_CANCEL_TIMEOUT_MS). */
  cancelTimeoutMs?: number;
}

/** What `Graph.shutdown` did. */
export interface ShutdownReport {
  reason: string;
  /** Goals of this node's action servers that were stopped (running or waiting). */
  goalsStopped: number;
  /** Of those, goals that did not end within goalTimeoutMs and were ended CANCELED by the graph. */
  goalsForced: number;
  /** Cancel requests sent for goals this node sent that had not ended (e.g. the Nav2 leg). */
  cancelsSent: number;
  /** Of those, the ones the server answered within cancelTimeoutMs. */
  cancelsAcknowledged: number;
  /** Of the answered ones, those the server refused (that goal may go on: the robot may keep driving). */
  cancelsRefused: number;
}

/**
 * Default wait for running goals at shutdown, ms. With SHUTDOWN_CANCEL_TIMEOUT_MS it stays
 * below the 5 s ros2 launch waits after its SIGINT before it sends SIGTERM (sigterm_timeout).
 */
export const SHUTDOWN_GOAL_TIMEOUT_MS = 2000;
/** Default wait for the answers to the cancel requests at shutdown, ms. */
export const SHUTDOWN_CANCEL_TIMEOUT_MS = 1000;

/** The shutdown side of an action server implementation (used by `shutdownGraph`). */
export interface ShutdownableServer {
  /** Refuses new goals, ends waiting goals CANCELED and signals the running one ('shutdown'); returns how many goals it stopped. */
  beginShutdown(reason: string): number;
  /** Resolves when no goal of this server is executing any more. */
  idle(): Promise<void>;
  /** Ends every goal still running CANCELED with `reason` (later terminal calls from its execute are ignored); returns how many. */
  forceEnd(reason: string): number;
}

/** The shutdown side of an action client implementation (used by `shutdownGraph`). */
export interface ShutdownableClient {
  /**
   * Sends a cancel request for every goal this client sent that has not ended; waits up to
   * `timeoutMs` for the answers (`refused`: answered, but the server would not cancel).
   */
  cancelOutstanding(timeoutMs: number): Promise<{ sent: number; acknowledged: number; refused: number }>;
}

/** Resolves true when `p` settles within `ms`, false otherwise (the timer does not keep the process alive). */
export async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms));
    timer.unref?.();
  });
  try {
    return await Promise.race([p.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The safe shutdown both graphs share: (1) every action server refuses new goals and stops its
 * goals (stopReason 'shutdown'; a goal that then ends with canceled() ends CANCELED), (2) waits
 * up to goalTimeoutMs for them to end, ending the stragglers CANCELED itself, (3) sends a cancel
 * request for every goal the node's clients sent that has not ended (the Nav2 leg: a server does
 * not cancel goals when their client dies) and waits up to cancelTimeoutMs for the answers,
 * (4) calls `destroy`.
 */
export async function shutdownGraph(
  parts: { servers: readonly ShutdownableServer[]; clients: readonly ShutdownableClient[]; logger: Logger; destroy: () => void },
  options: GraphShutdownOptions = {},
): Promise<ShutdownReport> {
  const reason = options.reason ?? 'shutdown';
  const goalTimeoutMs = options.goalTimeoutMs ?? SHUTDOWN_GOAL_TIMEOUT_MS;
  const cancelTimeoutMs = options.cancelTimeoutMs ?? SHUTDOWN_CANCEL_TIMEOUT_MS;
  const report: ShutdownReport = { reason, goalsStopped: 0, goalsForced: 0, cancelsSent: 0, cancelsAcknowledged: 0, cancelsRefused: 0 };
  try {
    for (const s of parts.servers) report.goalsStopped += s.beginShutdown(reason);
    const idle = () => Promise.all(parts.servers.map((s) => s.idle()));
    if (!(await settlesWithin(idle(), goalTimeoutMs))) {
      for (const s of parts.servers) report.goalsForced += s.forceEnd(`${reason}: the goal did not stop within ${goalTimeoutMs} ms`);
      parts.logger.warn(`shutdown (${reason}): ${report.goalsForced} goal(s) did not stop within ${goalTimeoutMs} ms; ended CANCELED`);
      await settlesWithin(idle(), 50);
    }
    const cancels = await Promise.all(parts.clients.map((c) => c.cancelOutstanding(cancelTimeoutMs)));
    for (const c of cancels) {
      report.cancelsSent += c.sent;
      report.cancelsAcknowledged += c.acknowledged;
      report.cancelsRefused += c.refused;
    }
    if (report.cancelsSent > report.cancelsAcknowledged) {
      parts.logger.warn(`shutdown (${reason}): ${report.cancelsSent - report.cancelsAcknowledged} of ${report.cancelsSent} cancel request(s) not answered within ${cancelTimeoutMs} ms`);
    }
    if (report.cancelsRefused > 0) {
      parts.logger.warn(`shutdown (${reason}): ${report.cancelsRefused} goal(s) this node sent were not cancelled (the server refused): the robot may keep driving`);
    }
  } finally {
    parts.destroy();
  }
  parts.logger.info(
    `shutdown (${reason}): ${report.goalsStopped} goal(s) stopped${report.goalsForced ? ` (${report.goalsForced} forced)` : ''}, ` +
      `${report.cancelsSent} sent goal(s) cancelled (${report.cancelsAcknowledged} acknowledged); node destroyed`,
  );
  return report;
}

// ───────────────────────────── the graph ─────────────────────────────

export interface Graph {
  readonly nodeName: string;
  /** Normalised namespace ('/' or '/a/b'). */
  readonly namespace: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly parameters: ParameterPort;
  /** A topic/action name as this node sees it (expanded + remapped). */
  resolveName(name: string): string;
  createSubscription<T = unknown>(topic: string, type: string, qos: QosLike, callback: (msg: T) => void): Subscription;
  createPublisher<T = unknown>(topic: string, type: string, qos: QosLike): Publisher<T>;
  /** Calls `callback` every `periodS` seconds of the graph clock. */
  createTimer(periodS: number, callback: () => void): Timer;
  createActionServer<G, F, R>(name: string, type: string, options: ActionServerOptions<G, F, R>): ActionServer;
  createActionClient<G, F, R>(name: string, type: string): ActionClient<G, F, R>;
  /**
   * Destroys every entity of this node at once: running goals get their stop signal, goals this
   * node sent get a cancel request (not awaited). Idempotent. On SIGINT/SIGTERM use `shutdown`.
   */
  destroy(): void;
  /**
   * Safe shutdown (SIGINT, SIGTERM, a launch shutdown): new goals are refused; running goals are
   * stopped (stopReason 'shutdown') and end CANCELED; goals this node sent (the Nav2 leg) are
   * cancelled and the answers awaited; then `destroy()`. Each wait is bounded (see
   * GraphShutdownOptions). Idempotent: later calls return the first call's promise.
   */
  shutdown(options?: GraphShutdownOptions): Promise<ShutdownReport>;
}

/** A topic as an rxjs stream: subscribes on subscribe, unsubscribes on teardown. */
export function observeTopic<T>(graph: Graph, topic: string, type: string, qos: QosLike): Observable<T> {
  return new Observable<T>((subscriber) => {
    const sub = graph.createSubscription<T>(topic, type, qos, (msg) => subscriber.next(msg));
    return () => sub.unsubscribe();
  });
}

/** 16 random bytes as 32 hex digits (a goal UUID, RFC 4122 version 4). */
export function randomGoalId(random: () => number = Math.random): string {
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 16; i++) bytes[i] = Math.floor(random() * 256) & 0xff;
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  return uuidToHex(bytes);
}

/** UUID bytes (unique_identifier_msgs/UUID.uuid) → 32 hex digits. */
export function uuidToHex(bytes: ArrayLike<number>): string {
  if (bytes.length !== 16) throw new ParameterError(`a UUID has 16 bytes, got ${bytes.length}`, 'uuid');
  let s = '';
  for (let i = 0; i < 16; i++) s += ((bytes[i] ?? 0) & 0xff).toString(16).padStart(2, '0');
  return s;
}

/** 32 hex digits (dashes allowed) → UUID bytes. */
export function hexToUuid(hex: string): Uint8Array {
  const h = hex.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(h)) throw new ParameterError(`a goal id is 32 hex digits, got '${hex}'`, 'uuid');
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}
