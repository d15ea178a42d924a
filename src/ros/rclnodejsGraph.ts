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
 * - parameters: declared with description, read-only flag and constraints text; the range check
 *   is ours (so a bad start-up value is corrected with a warning instead of rclnodejs throwing).
 *
 * Not run in this repository (no ROS 2 here); see docs/ros.md "On a ROS 2 robot".
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
  type StopReason,
  type Subscription,
  type Timer,
  expandName,
  normalizeNamespace,
  resolveQos,
  uuidToHex,
} from './Graph.js';
import { type LogLevel, type WinstonLogger, createRosBridgedLogger } from './logger.js';
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
  setParameter(parameter: RclParameter): { successful: boolean; reason: string };
  addOnSetParametersCallback(callback: (parameters: RclParameter[]) => { successful: boolean; reason: string }): void;
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
  init(): Promise<void>;
  shutdown(): void;
  Node: new (name: string, namespace?: string) => RclNode;
  QoS: RclQosClass;
  Parameter: new (name: string, type: number, value: unknown) => RclParameter;
  ParameterDescriptor: new (name: string, type: number, description?: string, readOnly?: boolean) => { additionalConstraints: string };
  ParameterType: { PARAMETER_BOOL: number; PARAMETER_INTEGER: number; PARAMETER_DOUBLE: number; PARAMETER_STRING: number };
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
  logLevel?: LogLevel;
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
  await rcl.init();
  const node = new rcl.Node(options.name ?? 'video4spatial_nav', options.namespace ?? '');
  return new RclnodejsGraph(rcl, node, options.distro ?? distroFromEnv() ?? DEFAULT_DISTRO, options.logLevel ?? 'info');
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
    const rcl = this.#rcl;
    const logger = this.logger;
    const types = this.#knownActions.has(type) ? actionTypes(type, this.distro) : undefined;
    const defaultResult = (): R => (types ? defaultMessage<R>(types.result, this.distro) : ({} as R));
    interface Running {
      handle: OurServerHandle<G, F, R>;
      done: Promise<void>;
    }
    let running: Running | undefined;
    let waiting: RclServerGoalHandle | undefined;
    const handles = new Map<RclServerGoalHandle, OurServerHandle<G, F, R>>();

    const startNext = (gh: RclServerGoalHandle): void => {
      let finished!: () => void;
      const done = new Promise<void>((resolve) => (finished = resolve));
      running = { handle: handleOf(gh), done };
      void done.then(() => {
        running = undefined;
        const next = waiting;
        waiting = undefined;
        if (next) startNext(next);
      });
      handleOf(gh).finished = finished;
      gh.execute();
    };
    const handleOf = (gh: RclServerGoalHandle): OurServerHandle<G, F, R> => {
      let h = handles.get(gh);
      if (!h) {
        h = new OurServerHandle<G, F, R>(gh, plain<G>(gh.request), types, this.distro, logger, name);
        handles.set(gh, h);
      }
      return h;
    };

    const server = new rcl.ActionServer(
      this.#node,
      type,
      name,
      async (gh) => {
        const h = handleOf(gh);
        if (h.skipReason !== undefined) {
          // Preempted while it waited: rcl cannot abort an ACCEPTED goal, so it "executes" and aborts at once.
          h.abort(defaultResult(), h.skipReason);
          handles.delete(gh);
          return h.result;
        }
        try {
          await options.execute(h);
        } catch (e) {
          logger.error(`${name}: goal ${h.goalId} execute failed: ${e instanceof Error ? e.message : String(e)}`);
        }
        if (!h.ended) {
          logger.warn(`${name}: goal ${h.goalId} returned without succeed/abort/canceled; aborting it`);
          h.abort(defaultResult());
        }
        handles.delete(gh);
        h.finished?.();
        return h.result;
      },
      (goal) => {
        let d;
        try {
          d = options.onGoal ? options.onGoal(plain<G>(goal)) : { accept: true as const };
        } catch (e) {
          d = { accept: false as const, reason: `goal callback failed: ${e instanceof Error ? e.message : String(e)}` };
        }
        if (!d.accept) logger.info(`${name}: rejected goal: ${d.reason}`);
        return d.accept ? rcl.GoalResponse.ACCEPT : rcl.GoalResponse.REJECT;
      },
      (gh) => {
        if (!running) {
          startNext(gh);
          return;
        }
        if (waiting) {
          handleOf(waiting).skip('preempted by a newer goal before it started');
          waiting.execute();
        }
        waiting = gh;
        running.handle.stop('preempted');
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
    return {
      name: this.resolveName(name),
      type,
      destroy: () => {
        running?.handle.stop('shutdown');
        server.destroy();
      },
    };
  }

  createActionClient<G, F, R>(name: string, type: string): ActionClient<G, F, R> {
    const client = new this.#rcl.ActionClient(this.#node, type, name);
    const types = this.#knownActions.has(type) ? actionTypes(type, this.distro) : undefined;
    const resolved = this.resolveName(name);
    return {
      name: resolved,
      type,
      waitForServer: (timeoutMs: number) => client.waitForServer(timeoutMs),
      sendGoal: async (goal: G, onFeedback?: (feedback: F) => void): Promise<ClientGoalHandle<R>> => {
        if (types) validateMessage(types.goal, goal, this.distro);
        if (!client.isActionServerAvailable()) return rejectedHandle<R>('', `no action server '${resolved}' is available`);
        const gh = await client.sendGoal(goal, onFeedback ? (f) => onFeedback(plain<F>(f)) : undefined);
        const id = uuidToHex(gh.goalId.uuid);
        if (!gh.isAccepted()) return rejectedHandle<R>(id, undefined);
        const result = gh.getResult().then((r): ActionOutcome<R> => {
          const value = plain<R>(r);
          if (gh.status === STATUS_SUCCEEDED) return { status: 'succeeded', result: value };
          if (gh.status === STATUS_CANCELED) return { status: 'canceled', result: value };
          if (gh.status === STATUS_ABORTED) return { status: 'aborted', result: value };
          return { status: 'aborted', result: value, reason: `unexpected goal status ${gh.status}` };
        });
        return {
          goalId: id,
          accepted: true,
          rejectReason: undefined,
          result,
          cancel: async () => ((await gh.cancelGoal()).goals_canceling?.length ?? 0) > 0,
        };
      },
      destroy: () => client.destroy(),
    };
  }

  #parameterPort(): ParameterPort {
    const rcl = this.#rcl;
    const node = this.#node;
    const logger = this.logger;
    const kinds = new Map<string, ParameterKind>();
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
    return {
      declare: (d: ParameterDeclaration): unknown => {
        kinds.set(d.name, d.kind);
        const descriptor = new rcl.ParameterDescriptor(d.name, KIND_TO_TYPE(rcl, d.kind), d.description, d.readOnly);
        descriptor.additionalConstraints = d.constraints;
        const param = toRcl(d.name, d.kind, d.default);
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
        node.addOnSetParametersCallback((params) => callback(params.map((p) => ({ name: p.name, value: fromRclValue(p.value) }))));
      },
    };
  }

  /** Processes ROS events until shutdown. */
  spin(): void {
    this.#node.spin();
  }

  destroy(): void {
    this.#node.destroy();
  }

  /** Destroys the node and shuts rclnodejs down. */
  shutdown(): void {
    this.#node.destroy();
    this.#rcl.shutdown();
  }
}

function rejectedHandle<R>(goalId: string, reason: string | undefined): ClientGoalHandle<R> {
  return {
    goalId,
    accepted: false,
    rejectReason: reason,
    result: Promise.resolve({ status: 'rejected', ...(reason === undefined ? {} : { reason }) }),
    cancel: () => Promise.resolve(false),
  };
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
  finished: (() => void) | undefined;

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
    if (this.ended) throw new MessageError(`${this.#name}: feedback for goal ${this.goalId} after it ended (${this.#status})`, 'goal_terminal');
    if (this.#types) validateMessage(this.#types.feedback, feedback, this.#distro);
    this.#gh.publishFeedback(feedback);
  }

  #end(status: 'succeeded' | 'aborted' | 'canceled', result: R, reason: string | undefined): void {
    if (this.ended) throw new MessageError(`${this.#name}: goal ${this.goalId} already ended (${this.#status}); cannot mark it ${status}`, 'goal_terminal');
    if (this.#types) validateMessage(this.#types.result, result, this.#distro);
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

  /** Marks a goal that waited behind a running one and was superseded: it will abort without running. */
  skip(reason: string): void {
    this.skipReason = reason;
    this.stop('preempted');
  }
}
