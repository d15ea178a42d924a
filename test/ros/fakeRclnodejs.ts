/**
 * A recorded fake of the part of rclnodejs 2.2.0 that src/ros/rclnodejsGraph.ts uses (test
 * double; rclnodejs itself cannot load without ROS 2). Each piece follows rclnodejs' own source,
 * named next to it, so the adapter meets the same rules here as on a robot:
 * - lib/node.js: parameter overrides, declareParameter(s), the set pipeline (pre-set callbacks →
 *   _validateParameters with rclnodejs' exact messages → on-set callbacks, newest first);
 * - lib/parameter.js: Parameter (integers as bigint), ParameterDescriptor.validateParameter;
 * - lib/action/server.js, server_goal_handle.js: goal/cancel callbacks, execute(), the rcl goal
 *   state machine (an invalid event throws), a destroyed handle ignores every call;
 * - lib/action/client.js, client_goal_handle.js: sendGoal, cancelGoal, getResult;
 * - lib/logging.js + the native Log: a record is written only at or above the logger's level;
 * - index.js: init(context, argv), shutdown(), isShutdown(), removeSignalHandlers().
 * Every call that matters is appended to `calls` (in order).
 */

export const ParameterType = {
  PARAMETER_NOT_SET: 0,
  PARAMETER_BOOL: 1,
  PARAMETER_INTEGER: 2,
  PARAMETER_DOUBLE: 3,
  PARAMETER_STRING: 4,
} as const;

/** action_msgs/GoalStatus. */
export const GoalStatus = { UNKNOWN: 0, ACCEPTED: 1, EXECUTING: 2, CANCELING: 3, SUCCEEDED: 4, CANCELED: 5, ABORTED: 6 } as const;
/** rcl_action_goal_event_t (lib/action/response.js GoalEvent). */
export const GoalEvent = { EXECUTE: 0, CANCEL_GOAL: 1, SUCCEED: 2, ABORT: 3, CANCELED: 4 } as const;
const GoalResponse = { REJECT: 1, ACCEPT: 2 } as const;
const CancelResponse = { REJECT: 1, ACCEPT: 2 } as const;

/** rcl_action/src/rcl_action/goal_state_machine.c: status → event → next status. */
const TRANSITIONS: Record<number, Partial<Record<number, number>>> = {
  [GoalStatus.ACCEPTED]: { [GoalEvent.EXECUTE]: GoalStatus.EXECUTING, [GoalEvent.CANCEL_GOAL]: GoalStatus.CANCELING },
  [GoalStatus.EXECUTING]: { [GoalEvent.CANCEL_GOAL]: GoalStatus.CANCELING, [GoalEvent.SUCCEED]: GoalStatus.SUCCEEDED, [GoalEvent.ABORT]: GoalStatus.ABORTED },
  [GoalStatus.CANCELING]: { [GoalEvent.CANCELED]: GoalStatus.CANCELED, [GoalEvent.SUCCEED]: GoalStatus.SUCCEEDED, [GoalEvent.ABORT]: GoalStatus.ABORTED },
};
const EVENT_NAMES = ['EXECUTE', 'CANCEL_GOAL', 'SUCCEED', 'ABORT', 'CANCELED'];
const STATUS_NAMES = ['UNKNOWN', 'ACCEPTED', 'EXECUTING', 'CANCELING', 'SUCCEEDED', 'CANCELED', 'ABORTED'];

function validValue(value: unknown, type: number): boolean {
  if (value == null) return type === ParameterType.PARAMETER_NOT_SET;
  switch (type) {
    case ParameterType.PARAMETER_NOT_SET:
      return !value;
    case ParameterType.PARAMETER_BOOL:
      return typeof value === 'boolean';
    case ParameterType.PARAMETER_STRING:
      return typeof value === 'string';
    case ParameterType.PARAMETER_DOUBLE:
      return typeof value === 'number';
    case ParameterType.PARAMETER_INTEGER:
      return typeof value === 'bigint';
    default:
      return false;
  }
}

/** lib/parameter.js Parameter. */
export class Parameter {
  readonly name: string;
  readonly type: number;
  readonly value: unknown;
  constructor(name: string, type: number, value: unknown) {
    this.name = name;
    this.type = type;
    this.value = type === ParameterType.PARAMETER_INTEGER ? BigInt(value as number | bigint) : value;
    this.validate();
  }
  validate(): void {
    if (!this.name || this.name.trim().length === 0) throw new TypeError('name must be a non-empty string');
    if (!validValue(this.value, this.type)) throw new TypeError(`Parameter ${this.name}: invalid value for type ${this.type}`);
  }
}

/** lib/parameter.js ParameterDescriptor (no ranges: the adapter declares none). */
export class ParameterDescriptor {
  additionalConstraints = '';
  constructor(
    readonly name: string,
    readonly type: number = ParameterType.PARAMETER_NOT_SET,
    readonly description = 'no description',
    readonly readOnly = false,
  ) {}
  validate(): void {
    if (!this.name) throw new TypeError('descriptor name');
  }
  validateParameter(p: Parameter): void {
    p.validate();
    if (this.name !== p.name) throw new Error('Name mismatch');
    if (this.type !== p.type) throw new TypeError(`Parameter ${p.name}: type ${p.type}, expected ${this.type}`);
  }
}

type SetResult = { successful: boolean; reason: string | null };

export interface FakeOptions {
  /** Parameter overrides (--ros-args -p / params file), as rclnodejs keeps them. */
  overrides?: Parameter[];
  /** The node logger's effective rcl level (rcl set it from --log-level); undefined: not readable (older rclnodejs). */
  loggerEffectiveLevel?: number;
  /** rclnodejs without addPreSetParametersCallback (before 2.x). */
  noPreSetCallbacks?: boolean;
  /** How the fake Nav2 answers cancel requests: 'ack' (at once) or 'silent' (never). */
  cancelAnswer?: 'ack' | 'silent';
}

/** The fake module plus what the tests look at. */
export function createFakeRclnodejs(options: FakeOptions = {}) {
  const calls: string[] = [];
  const logs: { level: string; name: string; message: string }[] = [];
  const nodes: FakeNode[] = [];
  const servers: FakeActionServer[] = [];
  const clients: FakeActionClient[] = [];
  let shut = false;
  let initArgv: string[] | undefined;

  class FakeLogger {
    constructor(readonly name: string) {}
    get loggerEffectiveLevel(): number {
      if (options.loggerEffectiveLevel === undefined) throw new Error('getLoggerEffectiveLevel is not a function');
      return options.loggerEffectiveLevel;
    }
    #log(level: string, severity: number, message: string): boolean {
      const enabled = severity >= (options.loggerEffectiveLevel ?? 20);
      if (enabled) logs.push({ level, name: this.name, message });
      return enabled;
    }
    debug(m: string) {
      return this.#log('debug', 10, m);
    }
    info(m: string) {
      return this.#log('info', 20, m);
    }
    warn(m: string) {
      return this.#log('warn', 30, m);
    }
    error(m: string) {
      return this.#log('error', 40, m);
    }
  }

  class FakeNode {
    readonly #name: string;
    readonly #namespace: string;
    readonly #logger: FakeLogger;
    readonly #parameters = new Map<string, Parameter>();
    readonly #descriptors = new Map<string, ParameterDescriptor>();
    readonly #overrides = new Map<string, Parameter>();
    readonly #setCallbacks: ((ps: Parameter[]) => SetResult)[] = [];
    readonly #preSetCallbacks: ((ps: Parameter[]) => Parameter[])[] = [];
    readonly published: { topic: string; msg: unknown }[] = [];
    destroyed = false;
    addPreSetParametersCallback?: (cb: (ps: Parameter[]) => Parameter[]) => void;

    constructor(name: string, namespace = '') {
      this.#name = name;
      this.#namespace = namespace === '' ? '/' : namespace;
      const ns = this.#namespace.replace(/^\/+|\/+$/g, '');
      this.#logger = new FakeLogger(ns === '' ? name : `${ns.replace(/\//g, '.')}.${name}`);
      for (const p of options.overrides ?? []) this.#overrides.set(p.name, p);
      if (!options.noPreSetCallbacks) this.addPreSetParametersCallback = (cb) => void this.#preSetCallbacks.unshift(cb);
      nodes.push(this);
      calls.push(`Node ${name}`);
    }
    name() {
      return this.#name;
    }
    namespace() {
      return this.#namespace;
    }
    getLogger() {
      return this.#logger;
    }
    now() {
      return { nanoseconds: 1_000_000_000n };
    }
    createPublisher(_type: string, topic: string) {
      return { publish: (msg: unknown) => void this.published.push({ topic, msg }) };
    }
    createSubscription(_type: string, _topic: string, _options: unknown, _cb: (m: unknown) => void) {
      return {};
    }
    destroyPublisher() {}
    destroySubscription() {}
    createTimer(_period: bigint, _cb: () => void) {
      return { cancel: () => undefined };
    }
    getParameterOverrides(): Parameter[] {
      return [...this.#overrides.values()];
    }
    hasParameter(name: string) {
      return this.#parameters.has(name);
    }
    getParameter(name: string): Parameter {
      return this.#parameters.get(name) ?? new Parameter(name, ParameterType.PARAMETER_NOT_SET, undefined);
    }
    /** The descriptor rclnodejs keeps (what `ros2 param describe` shows). */
    descriptor(name: string): ParameterDescriptor | undefined {
      return this.#descriptors.get(name);
    }
    declareParameter(parameter: Parameter, descriptor?: ParameterDescriptor, ignoreOverride = false): Parameter {
      const p = !ignoreOverride && this.#overrides.has(parameter.name) ? (this.#overrides.get(parameter.name) as Parameter) : parameter;
      if (this.#parameters.has(p.name)) throw new Error(`Parameter(${p.name}) already declared.`);
      const d = descriptor ?? new ParameterDescriptor(p.name, p.type, 'Created from parameter.');
      d.validate();
      this.#descriptors.set(d.name, d);
      const r = this.#setParametersAtomically([p], true);
      if (!r.successful) {
        this.#descriptors.delete(d.name);
        throw new Error(r.reason ?? '');
      }
      return this.getParameter(p.name);
    }
    setParameter(p: Parameter): SetResult {
      return this.#setParametersAtomically([p]);
    }
    /** What the parameter service does for `ros2 param set` (lib/parameter_service.js → setParameters). */
    setParameters(ps: Parameter[]): SetResult[] {
      return ps.map((p) => this.#setParametersAtomically([p]));
    }
    addOnSetParametersCallback(cb: (ps: Parameter[]) => SetResult) {
      this.#setCallbacks.unshift(cb);
    }
    #setParametersAtomically(parameters: Parameter[], declareParameterMode = false): SetResult {
      for (const cb of this.#preSetCallbacks) {
        parameters = cb(parameters);
        if (parameters.length === 0) return { successful: false, reason: 'parameter list is empty after pre-set callback; set rejected' };
      }
      let result = this.#validateParameters(parameters, declareParameterMode);
      if (!result.successful) return result;
      for (const cb of this.#setCallbacks) {
        result = cb(parameters);
        if (!result.successful) return result;
      }
      for (const p of parameters) {
        if (p.type === ParameterType.PARAMETER_NOT_SET) {
          this.#parameters.delete(p.name);
          this.#descriptors.delete(p.name);
        } else this.#parameters.set(p.name, p);
      }
      return { successful: true, reason: '' };
    }
    /** lib/node.js _validateParameters, messages included (sic). */
    #validateParameters(parameters: Parameter[], declareParameterMode: boolean): SetResult {
      for (const p of parameters) {
        try {
          p.validate();
        } catch {
          return { successful: false, reason: `Invalid ${p.name}` };
        }
        const d = this.#descriptors.get(p.name);
        if (!d) return { successful: false, reason: `Parameter ${p.name} has not been declared` };
        if (!declareParameterMode && d.readOnly) return { successful: false, reason: `Parameter ${p.name} is readonly` };
        if (p.type !== ParameterType.PARAMETER_NOT_SET) {
          try {
            d.validateParameter(p);
          } catch {
            return { successful: false, reason: `Parameter ${p.name} does not  readonly` };
          }
        }
      }
      return { successful: true, reason: null };
    }
    spin() {
      calls.push('Node.spin');
    }
    destroy() {
      this.destroyed = true;
      calls.push(`Node.destroy ${this.#name}`);
    }
  }

  let nextUuid = 1;
  const uuid = () => {
    const u = new Uint8Array(16);
    u[15] = nextUuid++;
    return { uuid: u };
  };

  /** lib/action/server_goal_handle.js. */
  class FakeServerGoalHandle {
    #status: number = GoalStatus.ACCEPTED;
    #destroyed = false;
    readonly events: string[] = [];
    readonly feedback: unknown[] = [];
    readonly goalId = uuid();
    result: unknown;
    settled!: Promise<{ status: number; result: unknown }>;
    constructor(
      readonly server: FakeActionServer,
      readonly request: unknown,
    ) {}
    get status(): number {
      return this.#destroyed ? GoalStatus.UNKNOWN : this.#status;
    }
    get isActive(): boolean {
      if (this.#destroyed) return false;
      return this.#status === GoalStatus.ACCEPTED || this.#status === GoalStatus.EXECUTING || this.#status === GoalStatus.CANCELING;
    }
    get isCancelRequested(): boolean {
      return this.status === GoalStatus.CANCELING;
    }
    get statusName(): string {
      return STATUS_NAMES[this.status] ?? '?';
    }
    execute(): void {
      if (this.#destroyed || this.status === GoalStatus.EXECUTING || !this.isActive) return;
      if (!this.isCancelRequested) this._updateState(GoalEvent.EXECUTE);
      this.server.notifyExecute(this);
    }
    publishFeedback(f: unknown): void {
      if (this.#destroyed) return;
      if (this.status !== GoalStatus.EXECUTING) {
        logs.push({ level: 'warn', name: 'rclnodejs', message: `publishFeedback() called on goal in status ${this.status}, not executing; ignoring` });
        return;
      }
      this.feedback.push(f);
    }
    succeed() {
      this._updateState(GoalEvent.SUCCEED);
    }
    abort() {
      this._updateState(GoalEvent.ABORT);
    }
    canceled() {
      this._updateState(GoalEvent.CANCELED);
    }
    destroy() {
      this.#destroyed = true;
    }
    _updateState(event: number): void {
      if (this.#destroyed) return;
      const next = TRANSITIONS[this.#status]?.[event];
      if (next === undefined) throw new Error(`goal state machine: ${EVENT_NAMES[event]} is invalid in ${STATUS_NAMES[this.#status]}`);
      this.#status = next;
      this.events.push(EVENT_NAMES[event] as string);
      calls.push(`ServerGoalHandle ${EVENT_NAMES[event]} → ${STATUS_NAMES[next]}`);
    }
  }

  /** lib/action/server.js. */
  class FakeActionServer {
    readonly handles: FakeServerGoalHandle[] = [];
    destroyed = false;
    constructor(
      readonly node: FakeNode,
      readonly type: string,
      readonly name: string,
      readonly executeCallback: (gh: FakeServerGoalHandle) => Promise<unknown>,
      readonly goalCallback: (goal: unknown) => number,
      readonly handleAcceptedCallback: (gh: FakeServerGoalHandle) => void,
      readonly cancelCallback: (gh: FakeServerGoalHandle) => number,
    ) {
      servers.push(this);
      calls.push(`ActionServer ${name}`);
    }
    /** A client's goal request (_executeGoalRequest). */
    requestGoal(goal: unknown): FakeServerGoalHandle | undefined {
      if (this.destroyed) return undefined;
      if (this.goalCallback(goal) !== GoalResponse.ACCEPT) return undefined;
      const gh = new FakeServerGoalHandle(this, goal);
      let done!: (r: { status: number; result: unknown }) => void;
      gh.settled = new Promise((resolve) => (done = resolve));
      (gh as unknown as { done: typeof done }).done = done;
      this.handles.push(gh);
      this.handleAcceptedCallback(gh);
      return gh;
    }
    /** A client's cancel request (_executeCancelRequest): true when the goal is now canceling. */
    async requestCancel(gh: FakeServerGoalHandle): Promise<boolean> {
      if (this.destroyed || !gh.isActive) return false;
      const r = await this.cancelCallback(gh);
      if (r !== CancelResponse.ACCEPT) return false;
      gh._updateState(GoalEvent.CANCEL_GOAL);
      return true;
    }
    async notifyExecute(gh: FakeServerGoalHandle): Promise<void> {
      let result: unknown;
      try {
        result = await this.executeCallback(gh);
      } catch (e) {
        result = {};
        logs.push({ level: 'error', name: 'rclnodejs', message: `Error raised in execute callback: ${String(e)}` });
      }
      if (gh.isActive) {
        logs.push({ level: 'warn', name: 'rclnodejs', message: 'Goal state not set, assuming aborted.' });
        gh.abort();
      }
      gh.result = result;
      (gh as unknown as { done: (r: { status: number; result: unknown }) => void }).done({ status: gh.status, result });
    }
    destroy() {
      if (this.destroyed) return;
      this.destroyed = true;
      for (const gh of this.handles) gh.destroy();
      calls.push(`ActionServer.destroy ${this.name}`);
    }
  }

  /** lib/action/client_goal_handle.js, answered by the test. */
  class FakeClientGoalHandle {
    status: number = GoalStatus.ACCEPTED;
    readonly goalId = uuid();
    cancelRequests = 0;
    #resolveResult!: (r: unknown) => void;
    readonly #result = new Promise<unknown>((resolve) => (this.#resolveResult = resolve));
    constructor(
      readonly client: FakeActionClient,
      readonly goal: unknown,
      readonly accepted: boolean,
    ) {}
    isAccepted() {
      return this.accepted;
    }
    getResult(): Promise<unknown> {
      return this.#result;
    }
    cancelGoal(): Promise<{ return_code: number; goals_canceling: unknown[] }> {
      this.cancelRequests++;
      calls.push(`ClientGoalHandle.cancelGoal ${this.client.name}`);
      if (options.cancelAnswer === 'silent') return new Promise(() => undefined);
      const canceling = this.status < GoalStatus.SUCCEEDED;
      return Promise.resolve({ return_code: canceling ? 0 : 3, goals_canceling: canceling ? [{ goal_id: this.goalId }] : [] });
    }
    /** The server ends the goal (the result response arrives). */
    finish(status: number, result: unknown = {}): void {
      this.status = status;
      this.#resolveResult(result);
    }
  }

  /** lib/action/client.js. */
  class FakeActionClient {
    serverAvailable = true;
    acceptGoals = true;
    readonly goals: FakeClientGoalHandle[] = [];
    destroyed = false;
    constructor(
      readonly node: FakeNode,
      readonly type: string,
      readonly name: string,
    ) {
      clients.push(this);
      calls.push(`ActionClient ${name}`);
    }
    isActionServerAvailable() {
      return this.serverAvailable;
    }
    async waitForServer(_timeout?: number) {
      return this.serverAvailable;
    }
    async sendGoal(goal: unknown, _feedback?: (f: unknown) => void): Promise<FakeClientGoalHandle> {
      const gh = new FakeClientGoalHandle(this, goal, this.acceptGoals);
      this.goals.push(gh);
      calls.push(`ActionClient.sendGoal ${this.name}`);
      return gh;
    }
    destroy() {
      if (this.destroyed) return;
      this.destroyed = true;
      calls.push(`ActionClient.destroy ${this.name}`);
    }
  }

  class QoS {
    static HistoryPolicy = { RMW_QOS_POLICY_HISTORY_KEEP_LAST: 1, RMW_QOS_POLICY_HISTORY_KEEP_ALL: 2 };
    static ReliabilityPolicy = { RMW_QOS_POLICY_RELIABILITY_RELIABLE: 1, RMW_QOS_POLICY_RELIABILITY_BEST_EFFORT: 2 };
    static DurabilityPolicy = { RMW_QOS_POLICY_DURABILITY_TRANSIENT_LOCAL: 1, RMW_QOS_POLICY_DURABILITY_VOLATILE: 2 };
    constructor(
      readonly history: number,
      readonly depth: number,
      readonly reliability: number,
      readonly durability: number,
    ) {}
  }

  const module = {
    async init(_context?: unknown, argv: string[] = process.argv) {
      initArgv = argv;
      calls.push('rcl.init');
    },
    shutdown() {
      shut = true;
      calls.push('rcl.shutdown');
    },
    isShutdown() {
      return shut;
    },
    removeSignalHandlers() {
      calls.push('rcl.removeSignalHandlers');
    },
    Node: FakeNode,
    QoS,
    Parameter,
    ParameterDescriptor,
    ParameterType,
    ActionServer: FakeActionServer,
    ActionClient: FakeActionClient,
    GoalResponse,
    CancelResponse,
  };

  return {
    module,
    calls,
    logs,
    nodes,
    servers,
    clients,
    get initArgv() {
      return initArgv;
    },
  };
}

export type FakeRclnodejs = ReturnType<typeof createFakeRclnodejs>;
