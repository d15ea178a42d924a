/**
 * The Graph port on rclnodejs 2.x, for ROS 2 hosts (Humble … Rolling). The only module that
 * touches rclnodejs, and only through `await import('rclnodejs')` inside
 * `createRclnodejsGraph`: importing this file never loads rclnodejs (it cannot load without a
 * sourced ROS 2). rclnodejs is typed here by our own minimal interface of the calls we use
 * (checked against rclnodejs' types/*.d.ts and lib/action/*.js of the 2.x line), so no
 * rclnodejs typings are needed to compile.
 *
 * Behaviour kept equal to InProcessGraph:
 * - messages are validated against our registry (src/ros/messages) before rclnodejs sees them,
 *   so a misspelt field throws the same MessageError here as in tests;
 * - goal accept/reject, cancel, one goal executing at a time with preemption by a newer goal;
 *   ROS carries no rejection/abort reason: reasons are logged, and clients get `rejectReason`
 *   undefined (or 'no action server … is available' when none is up, instead of waiting forever);
 * - `canceled()` on a goal that was preempted (no cancel request) ends it ABORTED: rcl only
 *   allows CANCELED after a cancel request (InProcessGraph does the same);
 * - parameters: declared with description and constraints text. rclnodejs judges read-only
 *   status and type before the node's callback runs, with its own terse messages ("Parameter x is
 *   readonly"; a type change gets "Parameter x does not  readonly"), so: every descriptor is
 *   declared writable (the constraints text says "read-only at runtime" where it is) and the
 *   node's callback refuses read-only ones; a pre-set-parameters callback turns an integer given
 *   to a double parameter into a double and hands any other type change to the node's callback
 *   as received (rclnodejs sees the current value), so `ros2 param set` answers with the node's
 *   own messages, naming the parameter and the value;
 * - shutdown (`shutdown()`): goals end CANCELED with the reason, the goals this node sent (the
 *   Nav2 leg) are cancelled and the answers awaited, then the node is destroyed; `destroy()` is
 *   the same without the waits. rclnodejs installs a SIGINT handler at import that destroys
 *   every node at once (no goal would be cancelled): createRclnodejsGraph removes it, the caller
 *   handles SIGINT/SIGTERM (src/cli/commands/node.ts);
 * - the bridged logger's level is the node logger's effective rcl level, which rcl takes from
 *   `--ros-args --log-level …` (the launch files' `log_level`); rcl filters again on its side.
 *
 * Not run in this repository (no ROS 2 here; test/ros/fakeRclnodejs.ts is a recorded fake of the
 * calls above); see docs/ros.md "On a ROS 2 robot".
 */
import { MessageError } from '../core/errors.js';
import { secondsToNs } from './clock.js';
import {
  type ActionClient,
  type ActionOutcome,
  type ActionServer,
  type ActionServerOptions,
  type Clock,
  type ClientGoalHandle,
  type GoalStatus,
  type Graph,
  type GraphShutdownOptions,
  type Logger,
  type ParameterChange,
  type ParameterDeclaration,
  type ParameterKind,
  type ParameterPort,
  type ParameterValue,
  type Publisher,
  type QosLike,
  type ServerGoalHandle,
  type SetParametersResult,
  type ShutdownReport,
  type ShutdownableClient,
  type ShutdownableServer,
  type StopReason,
  type Subscription,
  type Timer,
  expandName,
  normalizeNamespace,
  resolveQos,
  settlesWithin,
  shutdownGraph,
  uuidToHex,
} from './Graph.js';
import { type LogLevel, type WinstonLogger, createRosBridgedLogger, logLevelFromRosArgs, logLevelFromSeverity, rosLoggerName } from './logger.js';
import { type RosDistro, DEFAULT_DISTRO, ROS_DISTROS, actionTypes, defaultMessage, knownActions, knownTypes, validateMessage } from './messages/index.js';

// ───────────────────────────── the rclnodejs calls we use ─────────────────────────────

/** rclnodejs.QoS (constructor and enums). */
interface RclQosClass {
  new (history: number, depth: number, reliability: number, durability: number): unknown;
  HistoryPolicy: { RMW_QOS_POLICY_HISTORY_KEEP_LAST: number; RMW_QOS_POLICY_HISTORY_KEEP_ALL: number };
  ReliabilityPolicy: { RMW_QOS_POLICY_RELIABILITY_RELIABLE: number; RMW_QOS_POLICY_RELIABILITY_BEST_EFFORT: number };
  DurabilityPolicy: { RMW_QOS_POLICY_DURABILITY_TRANSIENT_LOCAL: number; RMW_QOS_POLICY_DURABILITY_VOLATILE: number };
}

interface RclLogger {
  debug(message: string): unknown;
  info(message: string): unknown;
  warn(message: string): unknown;
  error(message: string): unknown;
  /** The rcl logger name (lib/logging.js `get name()`). */
  readonly name?: string;
  /** rcutils severity the logger writes at (DEBUG 10 … FATAL 50), from `--ros-args --log-level`. */
  readonly loggerEffectiveLevel?: number;
}

interface RclParameter {
  readonly name: string;
  readonly type: number;
  readonly value: unknown;
}

interface RclNode {
  name(): string;
  namespace(): string;
  getLogger(): RclLogger;
  now(): { nanoseconds: bigint | number };
  createPublisher(type: string, topic: string, options: { qos: unknown }): { publish(msg: unknown): void };
  createSubscription(type: string, topic: string, options: { qos: unknown; enableTypedArray: boolean }, callback: (msg: unknown) => void): unknown;
  destroyPublisher(publisher: unknown): void;
  destroySubscription(subscription: unknown): void;
  createTimer(periodNs: bigint, callback: () => void): { cancel(): void };
  declareParameter(parameter: RclParameter, descriptor?: unknown, ignoreOverride?: boolean): RclParameter;
  getParameter(name: string): RclParameter;
  hasParameter(name: string): boolean;
  /** Overrides from --ros-args -p / params files (2.x). */
  getParameterOverrides?(): RclParameter[];
  setParameter(parameter: RclParameter): { successful: boolean; reason: string };
  addOnSetParametersCallback(callback: (parameters: RclParameter[]) => { successful: boolean; reason: string }): void;
  /** Runs before rclnodejs validates a set (2.2.0): returns the parameters to go on with. */
  addPreSetParametersCallback?(callback: (parameters: RclParameter[]) => RclParameter[]): void;
  spin(): void;
  destroy(): void;
}

/** rclnodejs ServerGoalHandle (lib/action/server_goal_handle.js). */
interface RclServerGoalHandle {
  readonly goalId: { uuid: ArrayLike<number> };
  readonly request: unknown;
  readonly isCancelRequested: boolean;
  readonly isActive: boolean;
  execute(): void;
  publishFeedback(feedback: unknown): void;
  succeed(): void;
  abort(): void;
  canceled(): void;
  /**
   * rcl_action_update_goal_state + status publication (internal in rclnodejs 2.2.0; the action
   * server calls it with CANCEL_GOAL when it accepts a cancel request). We call it with
   * CANCEL_GOAL at shutdown, the transition rcl allows from ACCEPTED and EXECUTING.
   */
  _updateState?(event: number): void;
}

/** rclnodejs ClientGoalHandle (lib/action/client_goal_handle.js). */
interface RclClientGoalHandle {
  readonly goalId: { uuid: ArrayLike<number> };
  readonly status: number;
  isAccepted(): boolean;
  getResult(): Promise<unknown>;
  cancelGoal(): Promise<{ return_code?: number; goals_canceling?: unknown[] }>;
}

interface RclActionClient {
  isActionServerAvailable(): boolean;
  waitForServer(timeoutMs?: number): Promise<boolean>;
  sendGoal(goal: unknown, feedbackCallback?: (feedback: unknown) => void): Promise<RclClientGoalHandle>;
  destroy(): void;
}

/** The rclnodejs module, as far as we use it. */
export interface RclnodejsModule {
  /** init(context = default, argv = process.argv). */
  init(context?: unknown, argv?: string[]): Promise<void>;
  shutdown(): void;
  isShutdown?(): boolean;
  /** Removes the SIGINT handler rclnodejs installs at import (index.js `_sigHandler` → shutdownAll()). */
  removeSignalHandlers?(): void;
  Node: new (name: string, namespace?: string) => RclNode;
  QoS: RclQosClass;
  Parameter: new (name: string, type: number, value: unknown) => RclParameter;
  ParameterDescriptor: new (name: string, type: number, description?: string, readOnly?: boolean) => { additionalConstraints: string };
  ParameterType: { PARAMETER_NOT_SET: number; PARAMETER_BOOL: number; PARAMETER_INTEGER: number; PARAMETER_DOUBLE: number; PARAMETER_STRING: number };
  ActionServer: new (
    node: RclNode,
    type: string,
    name: string,
    execute: (goalHandle: RclServerGoalHandle) => Promise<unknown>,
    goalCallback: (goal: unknown) => number,
    handleAccepted: (goalHandle: RclServerGoalHandle) => void,
    cancelCallback: (goalHandle: RclServerGoalHandle) => number,
  ) => { destroy(): void };
  ActionClient: new (node: RclNode, type: string, name: string) => RclActionClient;
  GoalResponse: { ACCEPT: number; REJECT: number };
  CancelResponse: { ACCEPT: number; REJECT: number };
}

/** action_msgs/GoalStatus values. */
const STATUS_SUCCEEDED = 4;
const STATUS_CANCELED = 5;
const STATUS_ABORTED = 6;
/** rcl_action_goal_event_t GOAL_EVENT_CANCEL_GOAL (rclnodejs lib/action/response.js GoalEvent). */
const GOAL_EVENT_CANCEL_GOAL = 1;
/** action_msgs/srv/CancelGoal return codes meaning "nothing to cancel". */
const CANCEL_UNKNOWN_GOAL_ID = 2;
const CANCEL_GOAL_TERMINATED = 3;

// ───────────────────────────── helpers ─────────────────────────────

/** rclnodejs message objects have toPlainObject(); plain objects pass through. */
function plain<T>(msg: unknown): T {
  const m = msg as { toPlainObject?: (typedArray: boolean) => unknown };
  return (typeof m?.toPlainObject === 'function' ? m.toPlainObject(true) : msg) as T;
}

/** rclnodejs integer parameters are bigint (2.x); ours are numbers. */
function fromRclValue(value: unknown): unknown {
  return typeof value === 'bigint' ? Number(value) : value;
}

/** The ROS distro from $ROS_DISTRO, if we have its definitions. */
export function distroFromEnv(env: NodeJS.ProcessEnv = process.env): RosDistro | undefined {
  const d = env['ROS_DISTRO'];
  return d !== undefined && (ROS_DISTROS as readonly string[]).includes(d) ? (d as RosDistro) : undefined;
}

export interface RclnodejsGraphOptions {
  /** Node name; default 'video4spatial_nav' (a launch file's `name=` overrides it through --ros-args). */
  name?: string;
  namespace?: string;
  /** Message definitions used for validation; default $ROS_DISTRO, else jazzy. */
  distro?: RosDistro;
  /** Level of the node's own logger; default the rcl level of the node's logger (`--ros-args --log-level`). */
  logLevel?: LogLevel;
  /** Command line given to rcl (its --ros-args); default process.argv. */
  argv?: string[];
  /**
   * Keep the SIGINT handler rclnodejs installs at import (it destroys every node at once, before
   * any goal is cancelled). Default false: it is removed and the caller handles SIGINT/SIGTERM
   * with `graph.shutdown()` (src/cli/commands/node.ts does).
   */
  keepRclnodejsSignalHandler?: boolean;
  /** How to load rclnodejs; default `import('rclnodejs')`. */
  load?: () => Promise<unknown>;
}

/**
 * Loads rclnodejs, initialises it (it reads --ros-args from process.argv) and creates the node.
 * @throws Error naming what to do when rclnodejs cannot be loaded (not installed, ROS not sourced).
 */
export async function createRclnodejsGraph(options: RclnodejsGraphOptions = {}): Promise<RclnodejsGraph> {
  const load = options.load ?? (() => import('rclnodejs' as string));
  let rcl: RclnodejsModule;
  try {
    const mod = (await load()) as { default?: RclnodejsModule } & Partial<RclnodejsModule>;
    rcl = (mod.default ?? mod) as RclnodejsModule;
  } catch (e) {
    throw new Error(
      `rclnodejs could not be loaded (${e instanceof Error ? e.message : String(e)}). On a ROS 2 host: ` +
        '`source /opt/ros/<distro>/setup.bash`, then `npm install rclnodejs@^2.2.0` in the package directory ' +
        '(see docs/ros.md, "On a ROS 2 robot"). Without ROS 2, use the in-process graph (npm run demo).',
    );
  }
  if (!options.keepRclnodejsSignalHandler) rcl.removeSignalHandlers?.();
  const argv = options.argv ?? process.argv;
  if (options.argv) await rcl.init(undefined, argv);
  else await rcl.init();
  const node = new rcl.Node(options.name ?? 'video4spatial_nav', options.namespace ?? '');
  return new RclnodejsGraph(rcl, node, options.distro ?? distroFromEnv() ?? DEFAULT_DISTRO, options.logLevel ?? nodeLogLevel(node, argv));
}

/**
 * The level of the node's own logger on a robot: the effective rcl level of the node's logger
 * (rcl configured it from `--ros-args --log-level …` at init), else what those arguments say,
 * else info.
 */
export function nodeLogLevel(node: Pick<RclNode, 'name' | 'namespace' | 'getLogger'>, argv: readonly string[] = process.argv): LogLevel {
  let ros: RclLogger | undefined;
  try {
    ros = node.getLogger();
    const level = logLevelFromSeverity(ros.loggerEffectiveLevel);
    if (level !== undefined) return level;
  } catch {
    // older rclnodejs: no loggerEffectiveLevel
  }
  const name = typeof ros?.name === 'string' && ros.name !== '' ? ros.name : rosLoggerName(node.name(), node.namespace());
  return logLevelFromRosArgs(argv, name) ?? 'info';
}

// ───────────────────────────── the adapter ─────────────────────────────

const KIND_TO_TYPE = (rcl: RclnodejsModule, kind: ParameterKind): number =>
  kind === 'bool'
    ? rcl.ParameterType.PARAMETER_BOOL
    : kind === 'integer'
      ? rcl.ParameterType.PARAMETER_INTEGER
      : kind === 'double'
        ? rcl.ParameterType.PARAMETER_DOUBLE
        : rcl.ParameterType.PARAMETER_STRING;

/** Graph on an rclnodejs node (see the module comment). Call `spin()` once everything is created. */
export class RclnodejsGraph implements Graph {
  readonly nodeName: string;
  readonly namespace: string;
  readonly clock: Clock;
  readonly logger: WinstonLogger;
  readonly parameters: ParameterPort;
  readonly distro: RosDistro;
  readonly #rcl: RclnodejsModule;
  readonly #node: RclNode;
  readonly #known: Set<string>;
  readonly #knownActions: Set<string>;
  readonly #servers = new Set<RclActionServerAdapter<unknown, unknown, unknown>>();
  readonly #clients = new Set<RclActionClientAdapter<unknown, unknown, unknown>>();
  #destroyed = false;
  #shutdown: Promise<ShutdownReport> | undefined;

  constructor(rcl: RclnodejsModule, node: RclNode, distro: RosDistro, logLevel: LogLevel) {
    this.#rcl = rcl;
    this.#node = node;
    this.distro = distro;
    this.nodeName = node.name();
    this.namespace = normalizeNamespace(node.namespace());
    this.clock = { now: () => BigInt(node.now().nanoseconds) };
    this.logger = createRosBridgedLogger(this.nodeName, node.getLogger(), logLevel);
    this.#known = new Set(knownTypes(distro));
    this.#knownActions = new Set(knownActions(distro));
    this.parameters = this.#parameterPort();
  }

  /** Expanded name; remapping rules given with --ros-args are applied by rcl itself and are not reflected here. */
  resolveName(name: string): string {
    return expandName(name, this.nodeName, this.namespace);
  }

  #qos(qos: QosLike): unknown {
    const q = resolveQos(qos);
    const Q = this.#rcl.QoS;
    return new Q(
      q.history === 'keep_all' ? Q.HistoryPolicy.RMW_QOS_POLICY_HISTORY_KEEP_ALL : Q.HistoryPolicy.RMW_QOS_POLICY_HISTORY_KEEP_LAST,
      q.depth,
      q.reliability === 'reliable' ? Q.ReliabilityPolicy.RMW_QOS_POLICY_RELIABILITY_RELIABLE : Q.ReliabilityPolicy.RMW_QOS_POLICY_RELIABILITY_BEST_EFFORT,
      q.durability === 'transient_local' ? Q.DurabilityPolicy.RMW_QOS_POLICY_DURABILITY_TRANSIENT_LOCAL : Q.DurabilityPolicy.RMW_QOS_POLICY_DURABILITY_VOLATILE,
    );
  }

  /** Validates like the in-process graph when we know the type (types we do not know pass to rclnodejs as they are). */
  #validate(type: string, msg: unknown): void {
    if (this.#known.has(type)) validateMessage(type, msg, this.distro);
  }

  createSubscription<T = unknown>(topic: string, type: string, qos: QosLike, callback: (msg: T) => void): Subscription {
    const name = this.resolveName(topic);
    const sub = this.#node.createSubscription(type, topic, { qos: this.#qos(qos), enableTypedArray: true }, (msg) => callback(plain<T>(msg)));
    let open = true;
    return {
      topic: name,
      type,
      unsubscribe: () => {
        if (!open) return;
        open = false;
        this.#node.destroySubscription(sub);
      },
    };
  }

  createPublisher<T = unknown>(topic: string, type: string, qos: QosLike): Publisher<T> {
    const pub = this.#node.createPublisher(type, topic, { qos: this.#qos(qos) });
    let open = true;
    return {
      topic: this.resolveName(topic),
      type,
      publish: (msg: T) => {
        if (!open) throw new MessageError(`publish on '${topic}' after the publisher was destroyed`, 'publisher_destroyed');
        this.#validate(type, msg);
        pub.publish(msg);
      },
      destroy: () => {
        if (!open) return;
        open = false;
        this.#node.destroyPublisher(pub);
      },
    };
  }

  createTimer(periodS: number, callback: () => void): Timer {
    const t = this.#node.createTimer(secondsToNs(periodS, 'timer period'), callback);
    return { cancel: () => t.cancel() };
  }

  createActionServer<G, F, R>(name: string, type: string, options: ActionServerOptions<G, F, R>): ActionServer {
    const types = this.#knownActions.has(type) ? actionTypes(type, this.distro) : undefined;
    const server = new RclActionServerAdapter<G, F, R>(this.#rcl, this.#node, name, this.resolveName(name), type, options, types, this.distro, this.logger);
    this.#servers.add(server as RclActionServerAdapter<unknown, unknown, unknown>);
    return server;
  }

  createActionClient<G, F, R>(name: string, type: string): ActionClient<G, F, R> {
    const types = this.#knownActions.has(type) ? actionTypes(type, this.distro) : undefined;
    const client = new RclActionClientAdapter<G, F, R>(new this.#rcl.ActionClient(this.#node, type, name), this.resolveName(name), type, types, this.distro, this.logger);
    this.#clients.add(client as RclActionClientAdapter<unknown, unknown, unknown>);
    return client;
  }

  #parameterPort(): ParameterPort {
    const rcl = this.#rcl;
    const node = this.#node;
    const logger = this.logger;
    const kinds = new Map<string, ParameterKind>();
    /** Type changes the pre-set callback kept from rclnodejs, for the node's callback to judge: name → value as received. */
    const typeChanges = new Map<string, unknown>();
    const toRcl = (name: string, kind: ParameterKind, value: unknown): RclParameter => {
      const type = KIND_TO_TYPE(rcl, kind);
      if (kind === 'integer' && typeof value === 'number' && Number.isInteger(value)) {
        try {
          return new rcl.Parameter(name, type, BigInt(value));
        } catch {
          // Older rclnodejs versions take integers as numbers.
        }
      }
      return new rcl.Parameter(name, type, value);
    };
    // Before rclnodejs validates a `ros2 param set` of one of ours: an integer for a double
    // parameter becomes a double; any other type change is noted and replaced by the current
    // value, so rclnodejs' type check passes and the node's callback judges the value as received.
    node.addPreSetParametersCallback?.((params) => {
      typeChanges.clear();
      return params.map((p) => {
        const kind = kinds.get(p.name);
        if (kind === undefined || !node.hasParameter(p.name)) return p; // not ours, or being declared
        const want = KIND_TO_TYPE(rcl, kind);
        if (p.type === want) return p;
        if (kind === 'double' && p.type === rcl.ParameterType.PARAMETER_INTEGER) return new rcl.Parameter(p.name, want, Number(p.value));
        typeChanges.set(p.name, p.type === rcl.ParameterType.PARAMETER_NOT_SET ? undefined : fromRclValue(p.value));
        return node.getParameter(p.name);
      });
    });
    const overrideOf = (name: string): RclParameter | undefined => {
      try {
        return node.getParameterOverrides?.().find((p) => p.name === name);
      } catch {
        return undefined;
      }
    };
    return {
      declare: (d: ParameterDeclaration): unknown => {
        kinds.set(d.name, d.kind);
        const type = KIND_TO_TYPE(rcl, d.kind);
        // Writable for rclnodejs: the node's own callback refuses read-only parameters, with its message.
        const descriptor = new rcl.ParameterDescriptor(d.name, type, d.description, false);
        descriptor.additionalConstraints = [d.constraints, d.readOnly ? READ_ONLY_CONSTRAINT : ''].filter((t) => t !== '').join('; ');
        const param = toRcl(d.name, d.kind, d.default);
        const override = overrideOf(d.name);
        if (override !== undefined && override.type !== type) {
          // rclnodejs would refuse the override with its own message: an integer for a double is
          // taken as a double; any other type goes to the caller as written (NodeParameters then
          // warns with the name and the value and keeps the default).
          const promoted = d.kind === 'double' && override.type === rcl.ParameterType.PARAMETER_INTEGER;
          node.declareParameter(promoted ? new rcl.Parameter(d.name, type, Number(override.value)) : param, descriptor, true);
          return promoted ? Number(override.value) : fromRclValue(override.value);
        }
        try {
          node.declareParameter(param, descriptor);
        } catch (e) {
          logger.warn(`parameter '${d.name}': the override was refused by rclnodejs (${e instanceof Error ? e.message : String(e)}); using the default ${JSON.stringify(d.default)}`);
          node.declareParameter(param, descriptor, true);
        }
        return fromRclValue(node.getParameter(d.name).value);
      },
      set: (name: string, value: ParameterValue): void => {
        const r = node.setParameter(toRcl(name, kinds.get(name) ?? 'string', value));
        if (!r.successful) logger.warn(`parameter '${name}': the corrected value ${JSON.stringify(value)} could not be written back (${r.reason}); the node uses it, \`ros2 param get\` shows the original`);
      },
      onSetParameters: (callback: (changes: readonly ParameterChange[]) => SetParametersResult): void => {
        node.addOnSetParametersCallback((params) => {
          const changed = new Map(typeChanges);
          typeChanges.clear();
          const changes = params.map((p) => ({ name: p.name, value: changed.has(p.name) ? changed.get(p.name) : fromRclValue(p.value) }));
          const r = callback(changes);
          if (!r.successful || changed.size === 0) return r;
          // The callback took a value of another type: rclnodejs would store the current one, so refuse.
          const [name, value] = [...changed][0] as [string, unknown];
          return { successful: false, reason: `parameter '${name}' = ${JSON.stringify(value) ?? String(value)}: expected a ${kinds.get(name) ?? 'value of the declared type'}` };
        });
      },
    };
  }

  /** Processes ROS events until shutdown. */
  spin(): void {
    this.#node.spin();
  }

  /**
   * Destroys the node at once: running goals end CANCELED (reason 'shutdown'), goals this node
   * sent get a cancel request (not awaited), then the action servers, clients and the node are
   * destroyed. Idempotent. `shutdown()` is the graceful way.
   */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    for (const s of this.#servers) {
      try {
        s.destroy();
      } catch (e) {
        this.logger.error(`destroying action server '${s.name}': ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    for (const c of this.#clients) {
      try {
        c.destroy();
      } catch (e) {
        this.logger.error(`destroying action client '${c.name}': ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    this.#node.destroy();
  }

  /**
   * Safe shutdown (SIGINT, SIGTERM, a launch shutdown): running goals end CANCELED with the
   * reason, the goals this node sent (the Nav2 leg) are cancelled and the answers awaited
   * (bounded), then the node is destroyed (see Graph.shutdown). Idempotent.
   */
  shutdown(options: GraphShutdownOptions = {}): Promise<ShutdownReport> {
    this.#shutdown ??= shutdownGraph({ servers: [...this.#servers], clients: [...this.#clients], logger: this.logger, destroy: () => this.destroy() }, options);
    return this.#shutdown;
  }

  /** Shuts the rclnodejs context down (after `shutdown()` or `destroy()`; destroys the node too if it was not). */
  shutdownRcl(): void {
    this.destroy();
    if (this.#rcl.isShutdown?.() !== true) this.#rcl.shutdown();
  }
}

/** Added to the constraints text of a parameter that cannot change at runtime. */
export const READ_ONLY_CONSTRAINT = 'read-only at runtime (set it in the params file and restart)';

function rejectedHandle<R>(goalId: string, reason: string | undefined): ClientGoalHandle<R> {
  return {
    goalId,
    accepted: false,
    rejectReason: reason,
    result: Promise.resolve({ status: 'rejected', ...(reason === undefined ? {} : { reason }) }),
    cancel: () => Promise.resolve(false),
  };
}

type ActionTypes = { goal: string; result: string; feedback: string } | undefined;

/**
 * Our action server over an rclnodejs ActionServer: one goal executes at a time, a newer accepted
 * goal preempts it, and the shutdown steps of Graph.shutdown.
 */
class RclActionServerAdapter<G, F, R> implements ActionServer, ShutdownableServer {
  readonly name: string;
  readonly type: string;
  readonly #server: { destroy(): void };
  readonly #logger: Logger;
  readonly #defaultResult: () => R;
  readonly #handles = new Map<RclServerGoalHandle, OurServerHandle<G, F, R>>();
  /** Executions in progress (our execute callbacks that have not returned). */
  readonly #executions = new Set<Promise<unknown>>();
  #running: OurServerHandle<G, F, R> | undefined;
  #waiting: RclServerGoalHandle | undefined;
  #closing: string | undefined;
  #destroyed = false;

  constructor(
    rcl: RclnodejsModule,
    node: RclNode,
    rosName: string,
    name: string,
    type: string,
    options: ActionServerOptions<G, F, R>,
    types: ActionTypes,
    distro: RosDistro,
    logger: Logger,
  ) {
    this.name = name;
    this.type = type;
    this.#logger = logger;
    this.#defaultResult = () => (types ? defaultMessage<R>(types.result, distro) : ({} as R));
    const handleOf = (gh: RclServerGoalHandle): OurServerHandle<G, F, R> => {
      let h = this.#handles.get(gh);
      if (!h) {
        h = new OurServerHandle<G, F, R>(gh, plain<G>(gh.request), types, distro, logger, name);
        this.#handles.set(gh, h);
      }
      return h;
    };
    const startNext = (gh: RclServerGoalHandle): void => {
      this.#running = handleOf(gh);
      gh.execute();
    };
    const execute = async (gh: RclServerGoalHandle): Promise<R | undefined> => {
      const h = handleOf(gh);
      if (h.skipReason !== undefined) {
        // Preempted (or shut down) while it waited: rcl cannot end an ACCEPTED goal without
        // executing it, so it "executes" and ends at once.
        if (h.stopReason === 'shutdown') h.canceled(this.#defaultResult(), h.skipReason);
        else h.abort(this.#defaultResult(), h.skipReason);
        this.#handles.delete(gh);
        return h.result;
      }
      try {
        // A goal ended by forceEnd at shutdown returns at once (its result reaches the client).
        await Promise.race([options.execute(h), h.forced]);
      } catch (e) {
        logger.error(`${name}: goal ${h.goalId} execute failed: ${e instanceof Error ? e.message : String(e)}`);
      }
      if (!h.ended) {
        logger.warn(`${name}: goal ${h.goalId} returned without succeed/abort/canceled; aborting it`);
        h.abort(this.#defaultResult());
      }
      this.#handles.delete(gh);
      if (this.#running === h) this.#running = undefined;
      const next = this.#waiting;
      this.#waiting = undefined;
      if (next && this.#closing === undefined && !this.#destroyed) startNext(next);
      return h.result;
    };
    this.#server = new rcl.ActionServer(
      node,
      type,
      rosName,
      (gh) => {
        const p = execute(gh);
        this.#executions.add(p);
        void p.finally(() => this.#executions.delete(p));
        return p;
      },
      (goal) => {
        let d;
        try {
          if (this.#closing !== undefined) d = { accept: false as const, reason: `the action server is shutting down (${this.#closing})` };
          else d = options.onGoal ? options.onGoal(plain<G>(goal)) : { accept: true as const };
        } catch (e) {
          d = { accept: false as const, reason: `goal callback failed: ${e instanceof Error ? e.message : String(e)}` };
        }
        if (!d.accept) logger.info(`${name}: rejected goal: ${d.reason}`);
        return d.accept ? rcl.GoalResponse.ACCEPT : rcl.GoalResponse.REJECT;
      },
      (gh) => {
        if (!this.#running) {
          startNext(gh);
          return;
        }
        if (this.#waiting) {
          handleOf(this.#waiting).skip('preempted by a newer goal before it started', 'preempted');
          this.#waiting.execute();
        }
        this.#waiting = gh;
        this.#running.stop('preempted');
      },
      (gh) => {
        const h = handleOf(gh);
        let ok = true;
        try {
          ok = options.onCancel ? options.onCancel(h) : true;
        } catch (e) {
          logger.error(`${name}: cancel callback failed: ${e instanceof Error ? e.message : String(e)}`);
          ok = false;
        }
        if (ok) h.stop('cancel');
        return ok ? rcl.CancelResponse.ACCEPT : rcl.CancelResponse.REJECT;
      },
    );
    this.#handleOf = handleOf;
  }

  readonly #handleOf: (gh: RclServerGoalHandle) => OurServerHandle<G, F, R>;

  beginShutdown(reason: string): number {
    if (this.#closing !== undefined || this.#destroyed) return 0;
    this.#closing = reason;
    let n = 0;
    const waiting = this.#waiting;
    this.#waiting = undefined;
    if (waiting) {
      this.#handleOf(waiting).skip(`${reason}: cancelled before it started`, 'shutdown');
      waiting.execute();
      n++;
    }
    if (this.#running && !this.#running.ended) {
      this.#running.stop('shutdown');
      n++;
    }
    return n;
  }

  async idle(): Promise<void> {
    while (this.#executions.size > 0) await Promise.all([...this.#executions]);
  }

  forceEnd(reason: string): number {
    let n = 0;
    for (const h of this.#handles.values()) {
      if (h.ended) continue;
      this.#logger.warn(`${this.name}: goal ${h.goalId} did not end after its stop signal; ending it CANCELED (${reason})`);
      h.forceCanceled(this.#defaultResult(), reason);
      n++;
    }
    return n;
  }

  /**
   * Stops serving at once: goals still active end CANCELED ('shutdown') so their status reaches
   * the clients, then the rclnodejs server is destroyed (which drops its goal handles). Idempotent.
   */
  destroy(): void {
    if (this.#destroyed) return;
    this.beginShutdown('shutdown');
    this.#destroyed = true;
    for (const h of this.#handles.values()) {
      if (!h.ended) h.forceCanceled(this.#defaultResult(), 'shutdown: the action server was destroyed', false);
    }
    this.#server.destroy();
  }
}

/** Our action client over an rclnodejs ActionClient; it keeps the goals it sent until they end. */
class RclActionClientAdapter<G, F, R> implements ActionClient<G, F, R>, ShutdownableClient {
  readonly name: string;
  readonly type: string;
  readonly #client: RclActionClient;
  readonly #types: ActionTypes;
  readonly #distro: RosDistro;
  readonly #logger: Logger;
  /** Accepted goals whose result has not arrived. */
  readonly #outstanding = new Set<RclClientGoalHandle>();
  #destroyed = false;

  constructor(client: RclActionClient, name: string, type: string, types: ActionTypes, distro: RosDistro, logger: Logger) {
    this.#client = client;
    this.name = name;
    this.type = type;
    this.#types = types;
    this.#distro = distro;
    this.#logger = logger;
  }

  waitForServer(timeoutMs: number): Promise<boolean> {
    return this.#client.waitForServer(timeoutMs);
  }

  async sendGoal(goal: G, onFeedback?: (feedback: F) => void): Promise<ClientGoalHandle<R>> {
    if (this.#destroyed) throw new MessageError(`action client '${this.name}' was destroyed`, 'action_client_destroyed');
    if (this.#types) validateMessage(this.#types.goal, goal, this.#distro);
    if (!this.#client.isActionServerAvailable()) return rejectedHandle<R>('', `no action server '${this.name}' is available`);
    const gh = await this.#client.sendGoal(goal, onFeedback ? (f) => onFeedback(plain<F>(f)) : undefined);
    const id = uuidToHex(gh.goalId.uuid);
    if (!gh.isAccepted()) return rejectedHandle<R>(id, undefined);
    this.#outstanding.add(gh);
    const result = gh.getResult().then((r): ActionOutcome<R> => {
      const value = plain<R>(r);
      if (gh.status === STATUS_SUCCEEDED) return { status: 'succeeded', result: value };
      if (gh.status === STATUS_CANCELED) return { status: 'canceled', result: value };
      if (gh.status === STATUS_ABORTED) return { status: 'aborted', result: value };
      return { status: 'aborted', result: value, reason: `unexpected goal status ${gh.status}` };
    });
    void result.finally(() => this.#outstanding.delete(gh)).catch(() => undefined);
    if (this.#destroyed) void this.#cancel(gh); // destroyed while the goal request was in flight
    return {
      goalId: id,
      accepted: true,
      rejectReason: undefined,
      result,
      cancel: async () => ((await gh.cancelGoal()).goals_canceling?.length ?? 0) > 0,
    };
  }

  /**
   * Sends a cancel request; resolves with the answer: 'accepted' (the goal is canceling),
   * 'refused' (action_msgs/CancelGoal return_code REJECTED, or no goal canceling), 'ended'
   * (UNKNOWN_GOAL_ID / GOAL_TERMINATED: nothing left to cancel), or undefined when it could not
   * be sent or failed.
   */
  #cancel(gh: RclClientGoalHandle): Promise<'accepted' | 'refused' | 'ended' | undefined> {
    const id = () => uuidToHex(gh.goalId.uuid);
    try {
      return gh.cancelGoal().then(
        (r) => {
          if ((r.goals_canceling?.length ?? 0) > 0) return 'accepted';
          return r.return_code === CANCEL_UNKNOWN_GOAL_ID || r.return_code === CANCEL_GOAL_TERMINATED ? 'ended' : 'refused';
        },
        (e: unknown) => {
          this.#logger.warn(`${this.name}: cancel of goal ${id()} failed: ${e instanceof Error ? e.message : String(e)}`);
          return undefined;
        },
      );
    } catch (e) {
      this.#logger.warn(`${this.name}: cancel of goal ${id()} could not be sent: ${e instanceof Error ? e.message : String(e)}`);
      return Promise.resolve(undefined);
    }
  }

  async cancelOutstanding(timeoutMs: number): Promise<{ sent: number; acknowledged: number; refused: number }> {
    const pending = [...this.#outstanding];
    this.#outstanding.clear(); // cancelled once: destroy() does not ask again
    if (pending.length > 0) this.#logger.info(`${this.name}: cancelling ${pending.length} goal(s) this node sent`);
    const answers = await Promise.all(
      pending.map(async (gh) => {
        let answer: 'accepted' | 'refused' | 'ended' | undefined;
        await settlesWithin(this.#cancel(gh).then((a) => (answer = a)), timeoutMs);
        return answer;
      }),
    );
    return { sent: pending.length, acknowledged: answers.filter((a) => a !== undefined).length, refused: answers.filter((a) => a === 'refused').length };
  }

  /** Cancels the goals it sent that have not ended (without waiting for the answers), then destroys the client. Idempotent. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    for (const gh of this.#outstanding) void this.#cancel(gh);
    this.#outstanding.clear();
    this.#client.destroy();
  }
}

/** Our goal handle over an rclnodejs ServerGoalHandle. */
class OurServerHandle<G, F, R> implements ServerGoalHandle<G, F, R> {
  readonly goalId: string;
  readonly goal: G;
  readonly #gh: RclServerGoalHandle;
  readonly #controller = new AbortController();
  readonly #types: { goal: string; result: string; feedback: string } | undefined;
  readonly #distro: RosDistro;
  readonly #logger: Logger;
  readonly #name: string;
  #stopReason: StopReason | undefined;
  #status: GoalStatus = 'accepted';
  result: R | undefined;
  ended = false;
  skipReason: string | undefined;
  /** Ended by the graph at shutdown (forceCanceled): the execute's own terminal call is ignored. */
  #forced = false;
  #release!: () => void;
  /** Resolves when the goal was ended by forceCanceled (our execute wrapper stops waiting then). */
  readonly forced = new Promise<void>((resolve) => (this.#release = resolve));

  constructor(gh: RclServerGoalHandle, goal: G, types: { goal: string; result: string; feedback: string } | undefined, distro: RosDistro, logger: Logger, name: string) {
    this.#gh = gh;
    this.goal = goal;
    this.goalId = uuidToHex(gh.goalId.uuid);
    this.#types = types;
    this.#distro = distro;
    this.#logger = logger;
    this.#name = name;
  }

  get status(): GoalStatus {
    if (this.ended) return this.#status;
    return this.#gh.isCancelRequested ? 'canceling' : this.#gh.isActive ? 'executing' : this.#status;
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get stopReason(): StopReason | undefined {
    return this.#stopReason;
  }

  isCancelRequested(): boolean {
    return this.#stopReason !== undefined || this.#gh.isCancelRequested;
  }

  stop(reason: StopReason): void {
    if (this.ended) return;
    this.#stopReason ??= reason;
    if (!this.#controller.signal.aborted) this.#controller.abort(reason);
  }

  publishFeedback(feedback: F): void {
    if (this.#forced) return;
    if (this.ended) throw new MessageError(`${this.#name}: feedback for goal ${this.goalId} after it ended (${this.#status})`, 'goal_terminal');
    if (this.#types) validateMessage(this.#types.feedback, feedback, this.#distro);
    // rclnodejs 2.2.0 drops feedback of a CANCELING goal with a warning each time: drop it quietly.
    if (this.#gh.isCancelRequested) return;
    this.#gh.publishFeedback(feedback);
  }

  /**
   * At shutdown the server itself requests the cancel: rcl's CANCEL_GOAL event (what rclnodejs
   * does when it accepts a client's cancel request), so that the goal may end CANCELED.
   */
  #requestCancelForShutdown(): void {
    if (this.#gh.isCancelRequested || typeof this.#gh._updateState !== 'function') return;
    try {
      this.#gh._updateState(GOAL_EVENT_CANCEL_GOAL);
    } catch (e) {
      this.#logger.warn(`${this.#name}: goal ${this.goalId}: rcl refused the shutdown cancel (${e instanceof Error ? e.message : String(e)}); it ends ABORTED`);
    }
  }

  #end(status: 'succeeded' | 'aborted' | 'canceled', result: R, reason: string | undefined): void {
    if (this.#forced) {
      this.#logger.debug(`${this.#name}: goal ${this.goalId} was already ended at shutdown; ignoring ${status}`);
      return;
    }
    if (this.ended) throw new MessageError(`${this.#name}: goal ${this.goalId} already ended (${this.#status}); cannot mark it ${status}`, 'goal_terminal');
    if (this.#types) validateMessage(this.#types.result, result, this.#distro);
    if (status === 'canceled' && this.#stopReason === 'shutdown') this.#requestCancelForShutdown();
    // rcl allows CANCELED only after a cancel request: a preempted goal ends ABORTED.
    const wire = status === 'canceled' && !this.#gh.isCancelRequested ? 'aborted' : status;
    this.ended = true;
    this.#status = wire;
    this.result = result;
    const why = reason ?? (wire !== status ? this.#stopReason : undefined);
    if (why) this.#logger.info(`${this.#name}: goal ${this.goalId} ${wire}: ${why}`);
    if (wire === 'succeeded') this.#gh.succeed();
    else if (wire === 'canceled') this.#gh.canceled();
    else this.#gh.abort();
  }

  succeed(result: R): void {
    this.#end('succeeded', result, undefined);
  }

  abort(result: R, reason?: string): void {
    this.#end('aborted', result, reason);
  }

  canceled(result: R, reason?: string): void {
    this.#end('canceled', result, reason);
  }

  /**
   * Ends the goal CANCELED with `reason` for the graph (at shutdown, when its execute did not end
   * it in time); later terminal calls and feedback from its execute are ignored. With `release`
   * our execute wrapper returns at once, so rclnodejs sends the result to the client.
   */
  forceCanceled(result: R, reason: string, release = true): void {
    if (this.ended) return;
    this.stop('shutdown');
    this.#requestCancelForShutdown();
    this.#end('canceled', result, reason);
    this.#forced = true;
    if (release) this.#release();
  }

  /** Marks a goal that waited behind a running one and was superseded (or shut down): it ends without running. */
  skip(reason: string, why: StopReason): void {
    this.skipReason = reason;
    this.stop(why);
  }
}
