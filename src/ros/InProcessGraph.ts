/**
 * The in-process ROS graph: nodes on one `InProcessBus` talk as they would over DDS, without ROS.
 *
 * Faithful to the wire where it matters:
 * - every published message is serialised with `encodeMessage` (the real ROS 2 definitions) and
 *   every subscriber receives `decodeMessage` of those bytes (its own copy), so an unknown field
 *   or a wrong primitive type throws MessageError at `publish`, as it would on a robot; action
 *   goals, feedback and results go through CDR the same way;
 * - QoS: request/offer matching (a RELIABLE subscription gets nothing from a BEST_EFFORT
 *   publisher; TRANSIENT_LOCAL needs a TRANSIENT_LOCAL publisher; each mismatch is warned once),
 *   keep_last queues drop the oldest undelivered message, transient-local publishers replay
 *   their last `depth` messages to late-joining transient-local subscriptions (/tf_static);
 * - actions: goal accept/reject (with a reason, which in-process clients also get), feedback,
 *   cancel, one goal executing at a time with preemption by a newer goal; `shutdown()` (the
 *   safe shutdown of Graph.shutdown: goals end CANCELED, the goals this node sent are cancelled
 *   and the answers awaited, then destroy) and `destroy()` (a destroyed client still cancels
 *   what it sent: a server does not cancel goals when their client goes away).
 *
 * Delivery is asynchronous and deterministic: `publish` encodes at once, then each delivery is
 * queued; the queue is drained in FIFO order in a microtask (callbacks never run inside
 * `publish`). `flush()` waits until the queue is empty; `spinUntil(cond)` waits for a condition.
 * An exception thrown by a callback is logged and re-thrown by the next `flush`/`spinUntil`.
 *
 * Timers follow the bus clock: with a `SimClock` they fire (once per advance, missed periods
 * skipped as rcl does) when the clock moves; with the system clock they use setInterval.
 * `onAnyMessage` taps every publication (topic, type, CDR bytes, clock stamp) for bag recording.
 */
import { MessageError, ParameterError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { SimClock, SystemClock, nextTimerDue, secondsToNs } from './clock.js';
import {
  type ActionClient,
  type ActionOutcome,
  type ActionServer,
  type ActionServerOptions,
  type Clock,
  type ClientGoalHandle,
  type GoalDecision,
  type GoalStatus,
  type Graph,
  type GraphShutdownOptions,
  type Logger,
  type ParameterChange,
  type ParameterDeclaration,
  type ParameterPort,
  type ParameterValue,
  type Publisher,
  type QosLike,
  type QosProfile,
  type RemapRules,
  type ServerGoalHandle,
  type SetParametersResult,
  type ShutdownReport,
  type ShutdownableClient,
  type ShutdownableServer,
  type StopReason,
  type Subscription,
  type Timer,
  checkNodeName,
  normalizeNamespace,
  qosIncompatibility,
  randomGoalId,
  resolveQos,
  resolveTopicName,
  settlesWithin,
  shutdownGraph,
} from './Graph.js';
import { createLogger } from './logger.js';
import { type RosDistro, DEFAULT_DISTRO, actionTypes, decodeMessage, defaultMessage, encodeMessage, knownActions, knownTypes } from './messages/index.js';

/** Callback of `onAnyMessage`: CDR bytes (with encapsulation header) and the bus clock at publication, ns. */
export type MessageTap = (topic: string, type: string, bytes: Uint8Array, stampNs: bigint) => void;

/** Most tasks run per microtask before yielding to the event loop (a callback that republishes forever cannot starve I/O). */
const TASKS_PER_DRAIN = 10_000;
/** Polling step of `spinUntil` and `waitForServer`, ms. */
const POLL_MS = 1;

interface Task {
  run: () => void | Promise<void>;
  dropped: boolean;
}

interface PubState {
  id: number;
  topic: string;
  type: string;
  qos: Required<QosProfile>;
  /** Last `depth` messages, for transient-local publishers. */
  history: Uint8Array[];
  node: string;
  closed: boolean;
}

interface SubState {
  id: number;
  topic: string;
  type: string;
  qos: Required<QosProfile>;
  callback: (msg: unknown) => void;
  /** Undelivered tasks, oldest first (keep_last drops from the front). */
  pending: Task[];
  dropped: number;
  node: string;
  closed: boolean;
}

interface TopicState {
  type: string;
  pubs: Set<PubState>;
  subs: Set<SubState>;
}

interface TimerState {
  id: number;
  periodNs: bigint;
  dueNs: bigint;
  callback: () => void;
  cancelled: boolean;
  interval: ReturnType<typeof setInterval> | undefined;
}

export interface InProcessBusOptions {
  /** Graph time; default the system clock. Pass a `SimClock` for simulation and deterministic timers. */
  clock?: Clock;
  /** Message definitions to use (default jazzy). */
  distro?: RosDistro;
  /** Where the bus reports QoS mismatches and callback errors; default a winston console logger. */
  logger?: Logger;
  /** Seed for goal ids (deterministic runs); default 0. */
  seed?: number;
}

/** Stats of one topic, for tests and diagnostics. */
export interface TopicInfo {
  type: string;
  publishers: number;
  subscriptions: number;
}

/** The shared medium of in-process nodes (see the module comment). */
export class InProcessBus {
  readonly clock: Clock;
  readonly distro: RosDistro;
  readonly logger: Logger;
  readonly #topics = new Map<string, TopicState>();
  readonly #servers = new Map<string, ServerState>();
  readonly #taps = new Set<MessageTap>();
  readonly #queue: Task[] = [];
  readonly #errors: unknown[] = [];
  readonly #warned = new Set<string>();
  readonly #timers = new Set<TimerState>();
  readonly #knownTypes: Set<string>;
  readonly #knownActions: Set<string>;
  readonly rng: Rng;
  #scheduled = false;
  #draining = false;
  #nextId = 1;
  #stopClock: (() => void) | undefined;

  constructor(options: InProcessBusOptions = {}) {
    this.clock = options.clock ?? new SystemClock();
    this.distro = options.distro ?? DEFAULT_DISTRO;
    this.logger = options.logger ?? createLogger({ name: 'in_process_bus' });
    this.rng = new Rng(options.seed ?? 0);
    this.#knownTypes = new Set(knownTypes(this.distro));
    this.#knownActions = new Set(knownActions(this.distro));
    if (this.clock instanceof SimClock) this.#stopClock = this.clock.onChange((now) => this.#fireTimers(now));
  }

  /** A node on this bus. */
  node(options: Omit<InProcessGraphOptions, 'bus'>): InProcessGraph {
    return new InProcessGraph({ ...options, bus: this });
  }

  nextId(): number {
    return this.#nextId++;
  }

  // ── tap, queue ──

  /** Calls `tap` for every publication on the bus (all topics); returns the function that stops it. */
  onAnyMessage(tap: MessageTap): () => void {
    this.#taps.add(tap);
    return () => {
      this.#taps.delete(tap);
    };
  }

  /** Queues `run` for delivery (FIFO). */
  enqueue(run: () => void | Promise<void>): Task {
    const task: Task = { run, dropped: false };
    this.#queue.push(task);
    this.#schedule();
    return task;
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => this.#drain());
  }

  #drain(): void {
    this.#scheduled = false;
    this.#draining = true;
    try {
      let n = 0;
      while (this.#queue.length > 0) {
        if (n++ >= TASKS_PER_DRAIN) {
          this.#scheduled = true;
          setImmediate(() => this.#drain());
          return;
        }
        const task = this.#queue.shift();
        if (!task || task.dropped) continue;
        try {
          const r = task.run();
          if (r instanceof Promise) r.catch((e: unknown) => this.reportError(e));
        } catch (e) {
          this.reportError(e);
        }
      }
    } finally {
      this.#draining = false;
    }
  }

  /** Records an exception thrown by a callback: logged now, re-thrown by the next flush/spinUntil. */
  reportError(e: unknown): void {
    this.#errors.push(e);
    this.logger.error(`callback failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  }

  #throwPendingError(): void {
    if (this.#errors.length === 0) return;
    const [first] = this.#errors.splice(0, this.#errors.length);
    throw first;
  }

  /** True when nothing is queued. */
  get idle(): boolean {
    return this.#queue.length === 0 && !this.#scheduled && !this.#draining;
  }

  /**
   * Waits until every queued delivery (and what those callbacks published) has run.
   * @throws the first exception a callback threw since the last flush.
   */
  async flush(): Promise<void> {
    do {
      await new Promise<void>((resolve) => setImmediate(resolve));
    } while (!this.idle);
    this.#throwPendingError();
  }

  /**
   * Runs the bus until `condition()` is true (checked after each flush).
   * @throws Error when it is still false after `timeoutMs` of wall time; a callback's exception.
   */
  async spinUntil(condition: () => boolean, options: { timeoutMs?: number; what?: string } = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 5000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.flush();
      if (condition()) return;
      if (Date.now() >= deadline) {
        throw new Error(`spinUntil: ${options.what ?? 'condition'} not met within ${timeoutMs} ms`);
      }
      await new Promise<void>((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  /** Logs `message` once per `key`. */
  warnOnce(key: string, message: string): void {
    if (this.#warned.has(key)) return;
    this.#warned.add(key);
    this.logger.warn(message);
  }

  // ── topics ──

  #checkType(type: string, where: string): void {
    if (!this.#knownTypes.has(type)) {
      throw new MessageError(`${where}: unknown message type '${type}' (${this.distro}); see knownTypes()`, 'message_unknown_type');
    }
  }

  #topic(name: string, type: string, where: string): TopicState {
    this.#checkType(type, where);
    let t = this.#topics.get(name);
    if (!t) {
      t = { type, pubs: new Set(), subs: new Set() };
      this.#topics.set(name, t);
    } else if (t.type !== type && (t.pubs.size > 0 || t.subs.size > 0)) {
      throw new MessageError(`${where}: topic '${name}' already carries ${t.type}, not ${type}`, 'topic_type');
    } else {
      t.type = type;
    }
    return t;
  }

  /** Publishers and subscriptions per topic name. */
  topics(): Map<string, TopicInfo> {
    const out = new Map<string, TopicInfo>();
    for (const [name, t] of this.#topics) {
      if (t.pubs.size + t.subs.size > 0) out.set(name, { type: t.type, publishers: t.pubs.size, subscriptions: t.subs.size });
    }
    return out;
  }

  /**
   * What a late-joining transient-local subscription on `topic` would be replayed: the kept
   * messages of its transient-local publishers (CDR bytes, each publisher's oldest first), e.g.
   * /tf_static or a map, for a bridge that forwards the graph to clients that connect later.
   */
  latched(topic: string): Uint8Array[] {
    const t = this.#topics.get(topic);
    if (!t) return [];
    return [...t.pubs].flatMap((p) => (p.closed || p.qos.durability !== 'transient_local' ? [] : p.history.slice()));
  }

  #match(pub: PubState, sub: SubState): boolean {
    const why = qosIncompatibility(pub.qos, sub.qos);
    if (why !== undefined) {
      this.warnOnce(
        `qos:${pub.id}:${sub.id}`,
        `incompatible QoS on '${pub.topic}' between publisher of node '${pub.node}' and subscription of node '${sub.node}': ${why}; no messages will be delivered`,
      );
      return false;
    }
    return true;
  }

  #deliver(sub: SubState, bytes: Uint8Array): void {
    const task = this.enqueue(() => {
      sub.pending.shift();
      if (sub.closed) return;
      sub.callback(decodeMessage(sub.type, bytes, this.distro));
    });
    sub.pending.push(task);
    if (sub.qos.history === 'keep_last' && sub.pending.length > sub.qos.depth) {
      const oldest = sub.pending.shift();
      if (oldest) {
        oldest.dropped = true;
        sub.dropped++;
      }
    }
  }

  addPublisher(node: string, topic: string, type: string, qos: Required<QosProfile>): PubState {
    const t = this.#topic(topic, type, `publisher on '${topic}'`);
    const pub: PubState = { id: this.nextId(), topic, type, qos, history: [], node, closed: false };
    t.pubs.add(pub);
    for (const sub of t.subs) this.#match(pub, sub);
    return pub;
  }

  removePublisher(pub: PubState): void {
    pub.closed = true;
    this.#topics.get(pub.topic)?.pubs.delete(pub);
  }

  publish(pub: PubState, msg: unknown): void {
    if (pub.closed) throw new MessageError(`publish on '${pub.topic}' after the publisher was destroyed`, 'publisher_destroyed');
    const bytes = encodeMessage(pub.type, msg, this.distro);
    const stamp = this.clock.now();
    for (const tap of [...this.#taps]) {
      try {
        tap(pub.topic, pub.type, bytes, stamp);
      } catch (e) {
        this.reportError(e);
      }
    }
    if (pub.qos.durability === 'transient_local') {
      pub.history.push(bytes);
      if (pub.qos.history === 'keep_last' && pub.history.length > pub.qos.depth) pub.history.shift();
    }
    const t = this.#topics.get(pub.topic);
    if (!t) return;
    for (const sub of t.subs) {
      if (!sub.closed && qosIncompatibility(pub.qos, sub.qos) === undefined) this.#deliver(sub, bytes);
    }
  }

  addSubscription(node: string, topic: string, type: string, qos: Required<QosProfile>, callback: (msg: unknown) => void): SubState {
    const t = this.#topic(topic, type, `subscription on '${topic}'`);
    const sub: SubState = { id: this.nextId(), topic, type, qos, callback, pending: [], dropped: 0, node, closed: false };
    t.subs.add(sub);
    for (const pub of t.pubs) {
      if (this.#match(pub, sub) && sub.qos.durability === 'transient_local') {
        for (const bytes of pub.history) this.#deliver(sub, bytes);
      }
    }
    return sub;
  }

  removeSubscription(sub: SubState): void {
    sub.closed = true;
    this.#topics.get(sub.topic)?.subs.delete(sub);
  }

  /** Messages a subscription dropped because its keep_last queue overflowed. */
  droppedCount(subscription: Subscription): number {
    for (const t of this.#topics.values()) {
      for (const s of t.subs) if (s.id === (subscription as InProcessSubscription).id) return s.dropped;
    }
    return 0;
  }

  // ── timers ──

  addTimer(periodS: number, callback: () => void): TimerState {
    if (!(periodS > 0) || !Number.isFinite(periodS)) throw new ParameterError(`timer period must be a finite number of seconds > 0, got ${periodS}`, 'timer');
    const periodNs = secondsToNs(periodS, 'timer period');
    const timer: TimerState = { id: this.nextId(), periodNs, dueNs: this.clock.now() + periodNs, callback, cancelled: false, interval: undefined };
    if (this.clock instanceof SimClock) {
      this.#timers.add(timer);
    } else {
      timer.interval = setInterval(() => this.enqueue(() => {
        if (!timer.cancelled) timer.callback();
      }), Number(periodNs / 1_000_000n) || 1);
    }
    return timer;
  }

  cancelTimer(timer: TimerState): void {
    timer.cancelled = true;
    if (timer.interval !== undefined) clearInterval(timer.interval);
    this.#timers.delete(timer);
  }

  #fireTimers(now: bigint): void {
    const due = [...this.#timers].filter((t) => t.dueNs <= now).sort((a, b) => (a.dueNs < b.dueNs ? -1 : a.dueNs > b.dueNs ? 1 : a.id - b.id));
    for (const t of due) {
      t.dueNs = nextTimerDue(t.dueNs, t.periodNs, now);
      this.enqueue(() => {
        if (!t.cancelled) t.callback();
      });
    }
  }

  // ── actions ──

  checkAction(type: string, where: string): void {
    if (!this.#knownActions.has(type)) {
      throw new MessageError(`${where}: unknown action type '${type}' (${this.distro}); known: ${[...this.#knownActions].join(', ')}`, 'message_unknown_type');
    }
  }

  server(name: string): ServerState | undefined {
    return this.#servers.get(name);
  }

  addServer(state: ServerState): void {
    if (this.#servers.has(state.name)) {
      throw new MessageError(`an action server '${state.name}' already exists on this bus (node '${this.#servers.get(state.name)?.node}')`, 'action_server_exists');
    }
    this.#servers.set(state.name, state);
  }

  removeServer(state: ServerState): void {
    if (this.#servers.get(state.name) === state) this.#servers.delete(state.name);
  }

  /** Stops the clock listener and every timer (the bus can no longer run timers). */
  shutdown(): void {
    this.#stopClock?.();
    for (const t of [...this.#timers]) this.cancelTimer(t);
  }
}

interface InProcessSubscription extends Subscription {
  readonly id: number;
}

// ───────────────────────────── actions ─────────────────────────────

interface GoalState<G, F, R> {
  id: string;
  goal: G;
  status: GoalStatus;
  controller: AbortController;
  stopReason: StopReason | undefined;
  cancelRequested: boolean;
  /** The client's listeners (feedback, outcome), decoupled by the queue. */
  onFeedback: ((bytes: Uint8Array) => void) | undefined;
  resolveOutcome: (o: ActionOutcome<R>) => void;
  handle: ServerGoalHandle<G, F, R>;
  terminal: boolean;
  /** Ended by the server at shutdown (forceEnd): the execute's own terminal call is ignored. */
  forced: boolean;
}

interface ServerState {
  name: string;
  type: string;
  node: string;
  closed: boolean;
  request(goalBytes: Uint8Array, onFeedback: ((bytes: Uint8Array) => void) | undefined): { decision: GoalDecision; id: string; outcome: Promise<ActionOutcome<unknown>> };
  /** A cancel request: 'accepted', 'refused' (by onCancel), or 'ended' (unknown or already terminal goal). */
  cancel(goalId: string): CancelAnswer;
}

type CancelAnswer = 'accepted' | 'refused' | 'ended';

const TERMINAL: ReadonlySet<GoalStatus> = new Set(['succeeded', 'canceled', 'aborted']);

class InProcessActionServer<G, F, R> implements ActionServer, ShutdownableServer {
  readonly name: string;
  readonly type: string;
  readonly #bus: InProcessBus;
  readonly #logger: Logger;
  readonly #options: ActionServerOptions<G, F, R>;
  readonly #types: { goal: string; result: string; feedback: string };
  readonly #goals = new Map<string, GoalState<G, F, R>>();
  /** The goal whose execute is running, and goals accepted while it runs (only the newest will run). */
  #running: GoalState<G, F, R> | undefined;
  #waiting: GoalState<G, F, R>[] = [];
  readonly #state: ServerState;
  /** Set by beginShutdown: new goals are refused. */
  #closing: string | undefined;
  #idleWaiters: (() => void)[] = [];

  constructor(bus: InProcessBus, node: string, logger: Logger, name: string, type: string, options: ActionServerOptions<G, F, R>) {
    bus.checkAction(type, `action server '${name}'`);
    if (typeof options.execute !== 'function') throw new ParameterError(`action server '${name}': execute must be a function`, 'action_server');
    this.#bus = bus;
    this.#logger = logger;
    this.name = name;
    this.type = type;
    this.#options = options;
    this.#types = actionTypes(type, bus.distro);
    this.#state = {
      name,
      type,
      node,
      closed: false,
      request: (bytes, onFeedback) => this.#request(bytes, onFeedback),
      cancel: (id) => this.#cancel(id),
    };
    bus.addServer(this.#state);
  }

  #request(goalBytes: Uint8Array, onFeedback: ((bytes: Uint8Array) => void) | undefined): { decision: GoalDecision; id: string; outcome: Promise<ActionOutcome<unknown>> } {
    const id = randomGoalId(() => this.#bus.rng.next());
    const goal = decodeMessage<G>(this.#types.goal, goalBytes, this.#bus.distro);
    let decision: GoalDecision;
    try {
      if (this.#closing !== undefined) decision = { accept: false, reason: `the action server is shutting down (${this.#closing})` };
      else decision = this.#options.onGoal ? this.#options.onGoal(goal) : { accept: true };
    } catch (e) {
      decision = { accept: false, reason: `goal callback failed: ${e instanceof Error ? e.message : String(e)}` };
      this.#bus.reportError(e);
    }
    if (!decision.accept) {
      this.#logger.info(`${this.name}: rejected goal ${id}: ${decision.reason}`);
      return { decision, id, outcome: Promise.resolve({ status: 'rejected', reason: decision.reason }) };
    }
    let resolveOutcome!: (o: ActionOutcome<R>) => void;
    const outcome = new Promise<ActionOutcome<R>>((resolve) => {
      resolveOutcome = resolve;
    });
    const state = this.#newGoal(id, goal, onFeedback, resolveOutcome);
    this.#goals.set(id, state);
    this.#logger.debug(`${this.name}: accepted goal ${id}`);
    if (this.#running) {
      for (const w of this.#waiting) this.#finish(w, 'aborted', defaultMessage<R>(this.#types.result, this.#bus.distro), 'preempted by a newer goal before it started');
      this.#waiting = [state];
      this.#stop(this.#running, 'preempted');
    } else {
      this.#start(state);
    }
    return { decision, id, outcome: outcome as Promise<ActionOutcome<unknown>> };
  }

  #newGoal(id: string, goal: G, onFeedback: ((bytes: Uint8Array) => void) | undefined, resolveOutcome: (o: ActionOutcome<R>) => void): GoalState<G, F, R> {
    const controller = new AbortController();
    const server = this;
    const state: GoalState<G, F, R> = {
      id,
      goal,
      status: 'accepted',
      controller,
      stopReason: undefined,
      cancelRequested: false,
      onFeedback,
      resolveOutcome,
      terminal: false,
      forced: false,
      handle: {
        goalId: id,
        goal,
        get status() {
          return state.status;
        },
        signal: controller.signal,
        get stopReason() {
          return state.stopReason;
        },
        isCancelRequested: () => state.cancelRequested,
        publishFeedback(feedback: F) {
          if (state.forced) return; // ended at shutdown while its execute still runs
          if (state.terminal) throw new MessageError(`${server.name}: feedback for goal ${id} after it ended (${state.status})`, 'goal_terminal');
          const bytes = encodeMessage(server.#types.feedback, feedback, server.#bus.distro);
          const listener = state.onFeedback;
          if (listener) server.#bus.enqueue(() => listener(bytes));
        },
        succeed: (result: R) => server.#end(state, 'succeeded', result, undefined),
        abort: (result: R, reason?: string) => server.#end(state, 'aborted', result, reason),
        canceled: (result: R, reason?: string) => server.#end(state, 'canceled', result, reason),
      },
    };
    return state;
  }

  #start(state: GoalState<G, F, R>): void {
    this.#running = state;
    state.status = 'executing';
    this.#bus.enqueue(async () => {
      try {
        // A goal stopped before it ran still executes once: it sees the fired signal and ends itself.
        await this.#options.execute(state.handle);
        if (!state.terminal) {
          this.#logger.warn(`${this.name}: goal ${state.id} returned without succeed/abort/canceled; aborting it`);
          this.#finish(state, 'aborted', defaultMessage<R>(this.#types.result, this.#bus.distro), 'execute returned without ending the goal');
        }
      } catch (e) {
        this.#logger.error(`${this.name}: goal ${state.id} execute failed: ${e instanceof Error ? e.message : String(e)}`);
        if (!state.terminal) {
          this.#finish(state, 'aborted', defaultMessage<R>(this.#types.result, this.#bus.distro), `execute failed: ${e instanceof Error ? e.message : String(e)}`);
        }
      } finally {
        if (this.#running === state) this.#running = undefined;
        const next = this.#waiting.pop();
        this.#waiting = [];
        if (next && !this.#state.closed && this.#closing === undefined) this.#start(next);
        else if (next) this.#finish(next, 'aborted', defaultMessage<R>(this.#types.result, this.#bus.distro), 'action server shut down');
        this.#notifyIdle();
      }
    });
  }

  #notifyIdle(): void {
    if (this.#running) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }

  #stop(state: GoalState<G, F, R>, reason: StopReason): void {
    if (state.terminal) return;
    state.stopReason ??= reason;
    state.cancelRequested = true;
    // Only a client's cancel request moves a goal to CANCELING (rcl's state machine).
    if (reason === 'cancel' && (state.status === 'executing' || state.status === 'accepted')) state.status = 'canceling';
    if (!state.controller.signal.aborted) state.controller.abort(reason);
  }

  /** A terminal call from the server's code: validates the result now (MessageError here, like a robot). */
  #end(state: GoalState<G, F, R>, status: 'succeeded' | 'aborted' | 'canceled', result: R, reason: string | undefined): void {
    if (state.forced) {
      this.#logger.debug(`${this.name}: goal ${state.id} was already ended at shutdown; ignoring ${status}`);
      return;
    }
    if (state.terminal) {
      throw new MessageError(`${this.name}: goal ${state.id} already ended (${state.status}); cannot mark it ${status}`, 'goal_terminal');
    }
    if (status === 'canceled' && state.status !== 'canceling' && state.stopReason !== 'shutdown') {
      // rcl allows CANCELED only after a cancel request: a preempted (or self-cancelled) goal ends
      // ABORTED. At shutdown the server itself requests the cancel (rcl's CANCEL_GOAL event), so
      // a goal stopped for shutdown ends CANCELED.
      this.#finish(state, 'aborted', result, reason ?? state.stopReason ?? 'canceled without a cancel request');
      return;
    }
    this.#finish(state, status, result, reason);
  }

  #finish(state: GoalState<G, F, R>, status: 'succeeded' | 'aborted' | 'canceled', result: R, reason: string | undefined): void {
    const bytes = encodeMessage(this.#types.result, result, this.#bus.distro);
    state.terminal = true;
    state.status = status;
    const why = reason ?? (status === 'canceled' && state.stopReason ? state.stopReason : undefined);
    this.#logger.debug(`${this.name}: goal ${state.id} ${status}${why ? ` (${why})` : ''}`);
    this.#bus.enqueue(() => {
      const decoded = decodeMessage<R>(this.#types.result, bytes, this.#bus.distro);
      state.resolveOutcome(why === undefined ? { status, result: decoded } : { status, result: decoded, reason: why });
    });
  }

  #cancel(goalId: string): CancelAnswer {
    const state = this.#goals.get(goalId);
    if (!state || state.terminal) return 'ended';
    let ok = true;
    try {
      ok = this.#options.onCancel ? this.#options.onCancel(state.handle) : true;
    } catch (e) {
      this.#bus.reportError(e);
      ok = false;
    }
    if (!ok) {
      this.#logger.info(`${this.name}: cancel of goal ${goalId} rejected`);
      return 'refused';
    }
    if (this.#waiting.includes(state)) {
      this.#waiting = this.#waiting.filter((w) => w !== state);
      this.#finish(state, 'canceled', defaultMessage<R>(this.#types.result, this.#bus.distro), 'cancelled before it started');
      return 'accepted';
    }
    this.#stop(state, 'cancel');
    return 'accepted';
  }

  beginShutdown(reason: string): number {
    if (this.#closing !== undefined || this.#state.closed) return 0;
    this.#closing = reason;
    let n = 0;
    for (const w of this.#waiting) {
      w.stopReason = 'shutdown';
      this.#finish(w, 'canceled', defaultMessage<R>(this.#types.result, this.#bus.distro), `${reason}: cancelled before it started`);
      n++;
    }
    this.#waiting = [];
    if (this.#running && !this.#running.terminal) {
      this.#stop(this.#running, 'shutdown');
      n++;
    }
    return n;
  }

  idle(): Promise<void> {
    if (!this.#running) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  forceEnd(reason: string): number {
    const state = this.#running;
    if (!state || state.terminal) return 0;
    this.#logger.warn(`${this.name}: goal ${state.id} did not end after its stop signal; ending it CANCELED (${reason})`);
    state.stopReason ??= 'shutdown';
    this.#finish(state, 'canceled', defaultMessage<R>(this.#types.result, this.#bus.distro), reason);
    state.forced = true;
    this.#running = undefined;
    this.#notifyIdle();
    return 1;
  }

  destroy(): void {
    if (this.#state.closed) return;
    this.#state.closed = true;
    this.#bus.removeServer(this.#state);
    for (const w of this.#waiting) this.#finish(w, 'aborted', defaultMessage<R>(this.#types.result, this.#bus.distro), 'action server shut down');
    this.#waiting = [];
    if (this.#running) this.#stop(this.#running, 'shutdown');
  }
}

class InProcessActionClient<G, F, R> implements ActionClient<G, F, R>, ShutdownableClient {
  readonly name: string;
  readonly type: string;
  readonly #bus: InProcessBus;
  readonly #types: { goal: string; result: string; feedback: string };
  #closed = false;
  /** Accepted goals whose result has not arrived, with their cancel request as the server answers it. */
  readonly #outstanding = new Map<ClientGoalHandle<R>, () => Promise<CancelAnswer>>();

  constructor(bus: InProcessBus, name: string, type: string) {
    bus.checkAction(type, `action client '${name}'`);
    this.#bus = bus;
    this.name = name;
    this.type = type;
    this.#types = actionTypes(type, bus.distro);
  }

  async waitForServer(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + Math.max(0, timeoutMs);
    for (;;) {
      const s = this.#bus.server(this.name);
      if (s && s.type === this.type) return true;
      if (Date.now() >= deadline) return false;
      await new Promise<void>((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  sendGoal(goal: G, onFeedback?: (feedback: F) => void): Promise<ClientGoalHandle<R>> {
    if (this.#closed) return Promise.reject(new MessageError(`action client '${this.name}' was destroyed`, 'action_client_destroyed'));
    let bytes: Uint8Array;
    try {
      bytes = encodeMessage(this.#types.goal, goal, this.#bus.distro);
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise<ClientGoalHandle<R>>((resolve) => {
      this.#bus.enqueue(() => {
        const server = this.#bus.server(this.name);
        if (!server || server.type !== this.type) {
          const reason = server
            ? `the action server '${this.name}' serves ${server.type}, not ${this.type}`
            : `no action server '${this.name}' is available`;
          resolve(rejected<R>(randomGoalId(() => this.#bus.rng.next()), reason));
          return;
        }
        const feedbackListener =
          onFeedback === undefined
            ? undefined
            : (fb: Uint8Array): void => {
                if (!this.#closed) onFeedback(decodeMessage<F>(this.#types.feedback, fb, this.#bus.distro));
              };
        const { decision, id, outcome } = server.request(bytes, feedbackListener);
        this.#bus.enqueue(() => {
          if (!decision.accept) {
            resolve(rejected<R>(id, decision.reason));
            return;
          }
          const cancel = () =>
            new Promise<CancelAnswer>((res) => {
              this.#bus.enqueue(() => {
                const answer: CancelAnswer = server.closed ? 'ended' : server.cancel(id);
                this.#bus.enqueue(() => res(answer));
              });
            });
          const handle: ClientGoalHandle<R> = {
            goalId: id,
            accepted: true,
            rejectReason: undefined,
            result: outcome as Promise<ActionOutcome<R>>,
            cancel: async () => (await cancel()) === 'accepted',
          };
          this.#outstanding.set(handle, cancel);
          void handle.result.finally(() => this.#outstanding.delete(handle));
          resolve(handle);
        });
      });
    });
  }

  async cancelOutstanding(timeoutMs: number): Promise<{ sent: number; acknowledged: number; refused: number }> {
    const pending = [...this.#outstanding.values()];
    this.#outstanding.clear(); // cancelled once: destroy() does not ask again
    const answers = await Promise.all(
      pending.map(async (cancel) => {
        let answer: CancelAnswer | undefined;
        await settlesWithin(cancel().then((a) => (answer = a)), timeoutMs);
        return answer;
      }),
    );
    return { sent: pending.length, acknowledged: answers.filter((a) => a !== undefined).length, refused: answers.filter((a) => a === 'refused').length };
  }

  destroy(): void {
    if (this.#closed) return;
    // A server does not cancel goals when their client goes away: cancel what this client sent.
    for (const cancel of this.#outstanding.values()) void cancel();
    this.#outstanding.clear();
    this.#closed = true;
  }
}

function rejected<R>(goalId: string, reason: string): ClientGoalHandle<R> {
  return {
    goalId,
    accepted: false,
    rejectReason: reason,
    result: Promise.resolve({ status: 'rejected', reason }),
    cancel: () => Promise.resolve(false),
  };
}

// ───────────────────────────── parameters ─────────────────────────────

const KIND_CHECK: Record<ParameterDeclaration['kind'], (v: unknown) => boolean> = {
  bool: (v) => typeof v === 'boolean',
  integer: (v) => typeof v === 'number' && Number.isInteger(v),
  double: (v) => typeof v === 'number',
  string: (v) => typeof v === 'string',
};

/** The parameter service of an in-process node: overrides as a params file would give them. */
export class InProcessParameters implements ParameterPort {
  readonly #overrides: Readonly<Record<string, unknown>>;
  readonly #declared = new Map<string, { decl: ParameterDeclaration; value: unknown }>();
  readonly #callbacks: ((changes: readonly ParameterChange[]) => SetParametersResult)[] = [];

  constructor(overrides: Readonly<Record<string, unknown>> = {}) {
    this.#overrides = overrides;
  }

  declare(declaration: ParameterDeclaration): unknown {
    if (this.#declared.has(declaration.name)) {
      throw new ParameterError(`parameter '${declaration.name}' is already declared`, 'parameter_declared');
    }
    const value = Object.hasOwn(this.#overrides, declaration.name) ? this.#overrides[declaration.name] : declaration.default;
    this.#declared.set(declaration.name, { decl: declaration, value });
    return value;
  }

  set(name: string, value: ParameterValue): void {
    const d = this.#declared.get(name);
    if (!d) throw new ParameterError(`parameter '${name}' is not declared`, 'parameter_undeclared');
    d.value = value;
  }

  onSetParameters(callback: (changes: readonly ParameterChange[]) => SetParametersResult): void {
    this.#callbacks.push(callback);
  }

  /** The current value of a declared parameter. */
  get(name: string): unknown {
    const d = this.#declared.get(name);
    if (!d) throw new ParameterError(`parameter '${name}' is not declared`, 'parameter_undeclared');
    return d.value;
  }

  /** Declared names, in declaration order. */
  names(): string[] {
    return [...this.#declared.keys()];
  }

  /** Overrides that name no declared parameter (typos in a params file), sorted. */
  unusedOverrides(): string[] {
    return Object.keys(this.#overrides)
      .filter((n) => !this.#declared.has(n))
      .sort();
  }

  /**
   * What `ros2 param set` does: undeclared names, read-only parameters and type changes are
   * refused by ROS itself; then every callback must accept; then all values are stored at once.
   */
  setParameters(changes: readonly ParameterChange[]): SetParametersResult {
    for (const c of changes) {
      const d = this.#declared.get(c.name);
      if (!d) return { successful: false, reason: `parameter '${c.name}' is not declared` };
      if (d.decl.readOnly) return { successful: false, reason: `parameter '${c.name}' is read-only (set it in the params file and restart)` };
      if (!KIND_CHECK[d.decl.kind](c.value)) {
        return { successful: false, reason: `wrong parameter type: '${c.name}' is ${d.decl.kind}, got ${JSON.stringify(c.value)}` };
      }
    }
    for (const cb of this.#callbacks) {
      const r = cb(changes);
      if (!r.successful) return r;
    }
    for (const c of changes) {
      const d = this.#declared.get(c.name);
      if (d) d.value = c.value;
    }
    return { successful: true, reason: '' };
  }
}

// ───────────────────────────── the node ─────────────────────────────

export interface InProcessGraphOptions {
  /** Node name (`~` expands to `/<namespace>/<name>`). */
  name: string;
  namespace?: string;
  /** Remapping rules, like `--ros-args -r from:=to`. */
  remap?: RemapRules;
  /** Parameter overrides, like a params file's `ros__parameters`. */
  parameters?: Readonly<Record<string, unknown>>;
  /** Node logger; default the bus logger. */
  logger?: Logger;
  /** Join this bus; default a new bus made from `busOptions`. */
  bus?: InProcessBus;
  busOptions?: InProcessBusOptions;
}

/** One node on an in-process bus (see the module comment). */
export class InProcessGraph implements Graph {
  readonly nodeName: string;
  readonly namespace: string;
  readonly bus: InProcessBus;
  readonly logger: Logger;
  readonly parameters: InProcessParameters;
  readonly #remap: RemapRules;
  readonly #subs = new Set<SubState>();
  readonly #pubs = new Set<PubState>();
  readonly #timers = new Set<TimerState>();
  readonly #servers = new Set<InProcessActionServer<unknown, unknown, unknown>>();
  readonly #clients = new Set<InProcessActionClient<unknown, unknown, unknown>>();
  #shutdown: Promise<ShutdownReport> | undefined;

  constructor(options: InProcessGraphOptions) {
    checkNodeName(options.name);
    this.nodeName = options.name;
    this.namespace = normalizeNamespace(options.namespace ?? '/');
    this.bus = options.bus ?? new InProcessBus(options.busOptions);
    this.logger = options.logger ?? this.bus.logger;
    this.parameters = new InProcessParameters(options.parameters);
    this.#remap = options.remap ?? {};
    for (const [from, to] of Object.entries(this.#remap)) {
      // Fail early on a malformed rule.
      resolveTopicName(from, this.nodeName, this.namespace);
      resolveTopicName(to, this.nodeName, this.namespace);
    }
  }

  get clock(): Clock {
    return this.bus.clock;
  }

  /** Another node on the same bus. */
  createPeer(options: Omit<InProcessGraphOptions, 'bus' | 'busOptions'>): InProcessGraph {
    return new InProcessGraph({ ...options, bus: this.bus });
  }

  resolveName(name: string): string {
    return resolveTopicName(name, this.nodeName, this.namespace, this.#remap);
  }

  createSubscription<T = unknown>(topic: string, type: string, qos: QosLike, callback: (msg: T) => void): Subscription {
    const name = this.resolveName(topic);
    const state = this.bus.addSubscription(this.nodeName, name, type, resolveQos(qos), callback as (msg: unknown) => void);
    this.#subs.add(state);
    const bus = this.bus;
    const subs = this.#subs;
    const sub: InProcessSubscription = {
      id: state.id,
      topic: name,
      type,
      unsubscribe() {
        bus.removeSubscription(state);
        subs.delete(state);
      },
    };
    return sub;
  }

  createPublisher<T = unknown>(topic: string, type: string, qos: QosLike): Publisher<T> {
    const name = this.resolveName(topic);
    const state = this.bus.addPublisher(this.nodeName, name, type, resolveQos(qos));
    this.#pubs.add(state);
    const bus = this.bus;
    const pubs = this.#pubs;
    return {
      topic: name,
      type,
      publish: (msg: T) => bus.publish(state, msg),
      destroy() {
        bus.removePublisher(state);
        pubs.delete(state);
      },
    };
  }

  createTimer(periodS: number, callback: () => void): Timer {
    const state = this.bus.addTimer(periodS, callback);
    this.#timers.add(state);
    return {
      cancel: () => {
        this.bus.cancelTimer(state);
        this.#timers.delete(state);
      },
    };
  }

  createActionServer<G, F, R>(name: string, type: string, options: ActionServerOptions<G, F, R>): ActionServer {
    const server = new InProcessActionServer<G, F, R>(this.bus, this.nodeName, this.logger, this.resolveName(name), type, options);
    this.#servers.add(server as InProcessActionServer<unknown, unknown, unknown>);
    return server;
  }

  createActionClient<G, F, R>(name: string, type: string): ActionClient<G, F, R> {
    const client = new InProcessActionClient<G, F, R>(this.bus, this.resolveName(name), type);
    this.#clients.add(client as InProcessActionClient<unknown, unknown, unknown>);
    return client;
  }

  /** Simulates `ros2 param set` on this node. */
  setParameters(changes: readonly ParameterChange[]): SetParametersResult {
    return this.parameters.setParameters(changes);
  }

  onAnyMessage(tap: MessageTap): () => void {
    return this.bus.onAnyMessage(tap);
  }

  flush(): Promise<void> {
    return this.bus.flush();
  }

  spinUntil(condition: () => boolean, options?: { timeoutMs?: number; what?: string }): Promise<void> {
    return this.bus.spinUntil(condition, options);
  }

  shutdown(options: GraphShutdownOptions = {}): Promise<ShutdownReport> {
    this.#shutdown ??= shutdownGraph({ servers: [...this.#servers], clients: [...this.#clients], logger: this.logger, destroy: () => this.destroy() }, options);
    return this.#shutdown;
  }

  destroy(): void {
    for (const s of this.#subs) this.bus.removeSubscription(s);
    for (const p of this.#pubs) this.bus.removePublisher(p);
    for (const t of this.#timers) this.bus.cancelTimer(t);
    for (const s of this.#servers) s.destroy();
    for (const c of this.#clients) c.destroy();
    this.#subs.clear();
    this.#pubs.clear();
    this.#timers.clear();
    this.#servers.clear();
    this.#clients.clear();
  }
}
