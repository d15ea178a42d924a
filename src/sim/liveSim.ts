/**
 * A simulated robot that keeps running, with the node, on the in-process graph, for an operator to
 * drive and to ask (`sim --live`): no scripted request. The simulated clock follows the wall clock
 * (one EXPLORE_DT step per EXPLORE_DT / speed of wall time; it falls behind, never ahead, when
 * the CPU is busy planning). Each step, in priority order, as a twist mux would give it:
 * 1. teleop: a fresh, non-zero Twist on the teleop topic drives the base (TeleopBase; a zero
 *    Twist or none for TELEOP_TIMEOUT_S stops it); the node pauses its goal meanwhile
 *    (teleop_pause_s) and the simulated Nav2 holds its leg, then follows on from where the
 *    operator left the robot;
 * 2. the simulated Nav2 drives one step of its leg, when it has one;
 * 3. otherwise the robot stands; the camera streams either way.
 * Goals come from `~/goal_object` (std_msgs/String): each one's end is reported (GoalReport) with
 * the node's outcome and the simulator's ground truth (judge.ts: within reach and facing it?).
 * The world's floor plan (/map) and its objects (/sim/objects, ground truth for the operator) are
 * latched.
 */
import type { Pose2D } from '../core/geometry.js';
import { cameraOf, type ModelManifest } from '../core/model/manifest.js';
import type { ImaginationModel } from '../core/sampler/model.js';
import type { Extractor } from '../core/planner/extractCandidate.js';
import { SimClock } from '../ros/clock.js';
import type { Logger, QosProfile, ShutdownReport } from '../ros/Graph.js';
import { InProcessBus } from '../ros/InProcessGraph.js';
import type { MarkerArray, OccupancyGridMsg, StringMsg } from '../ros/messages/types.js';
import { timeFromNs } from '../ros/messages/index.js';
import { Video4SpatialNode } from '../ros/Video4SpatialNode.js';
import { SIM_CAMERA, SILENT_LOGGER } from './graphMission.js';
import { judge, type Judgement } from './judge.js';
import { SimNav2, SimRobot } from './rosSim.js';
import { EXPLORE_DT, type Scenario } from './scenario.js';
import { TeleopBase } from './teleop.js';
import type { WorldObject } from './world.js';
import { MAP_TOPIC, OBJECTS_TOPIC, objectMarkers, occupancyGridOf } from './worldTopics.js';

/** The node's name on the graph (its topics are /video4spatial_nav/…). */
export const LIVE_NODE_NAME = 'video4spatial_nav';
/** Where the operator asks for an object. */
export const GOAL_TOPIC = `/${LIVE_NODE_NAME}/goal_object`;
/** Where the operator drives (the node's teleop_cmd_vel_topic default, which pauses its goals). */
export const TELEOP_TOPIC = '/cmd_vel_teleop';
/** Replanning period of the node while driving, s (as the demo). */
const REPLAN_PERIOD_S = 8;
/** Latched, as a map server publishes its map. */
const LATCHED: QosProfile = { history: 'keep_last', depth: 1, reliability: 'reliable', durability: 'transient_local' };

export interface LiveSimOptions {
  scenario: Scenario;
  model: ImaginationModel;
  manifest: ModelManifest;
  /** The node's path extractor (an ExtractionPool's); default in the planning thread. */
  extractor?: Extractor;
  /** The node's and the bus's logger; default silent. */
  logger?: Logger;
  /** Simulated seconds per wall second, > 0 (default 1: real time; tests run faster). */
  speed?: number;
  /** Replay the scenario's scripted exploration into the node's memory before going live (default true). */
  explore?: boolean;
  /** Node parameter overrides (e.g. candidates, steps). */
  parameters?: Record<string, unknown>;
  /** Called once the bus exists, before anything is published (e.g. FoxgloveLive.attach). */
  tap?: (bus: InProcessBus) => void;
  /** Each goal as it starts and as it ends. */
  onGoalStart?: (number: number, object: string) => void;
  onGoalEnd?: (report: GoalReport) => void;
}

/** How a goal ended, by the node and by the simulator's ground truth. */
export interface GoalReport {
  /** 1-based, in the order goals reached the node. */
  number: number;
  /** The name as asked (on ~/goal_object); '' when the goal came another way. */
  object: string;
  /** The node's outcome. */
  outcome: 'succeeded' | 'aborted' | 'canceled' | 'rejected';
  /** The node's code for an abort or a rejection (stats.abortedByReason / rejectedByReason). */
  code: string | undefined;
  /** The object of that category nearest the robot, or undefined when the world has none. */
  target: WorldObject | undefined;
  /** Ground truth at the robot's pose when the goal ended (undefined without a target). */
  judgement: Judgement | undefined;
  /** Where the robot was when the goal ended. */
  pose: Pose2D;
  /** Simulated seconds from the request to the end. */
  simSeconds: number;
}

type Counted = 'succeeded' | 'aborted' | 'canceled';

/** One line for people: "goal 2 'plant': node succeeded; ground truth: ARRIVED, 0.84 m from the plant (reach 1.05 m), bearing 3.1°, after 14.2 s". */
export function goalReportLine(r: GoalReport): string {
  const node = `node ${r.outcome}${r.code ? ` (${r.code})` : ''}`;
  const name = r.object === '' ? 'goal' : `'${r.object}'`;
  let truth: string;
  if (!r.target || !r.judgement) truth = r.object === '' ? 'no object name to judge by' : `this world has no ${r.object}`;
  else {
    const j = r.judgement;
    truth = `${j.success ? 'ARRIVED' : 'NOT ARRIVED'}, ${j.distanceM.toFixed(2)} m from the ${r.target.category} (reach ${j.reachM.toFixed(2)} m), bearing ${j.bearingDeg.toFixed(1)}°`;
  }
  return `goal ${r.number} ${name}: ${node}; ground truth: ${truth}; after ${r.simSeconds.toFixed(1)} s at (${r.pose.x.toFixed(2)}, ${r.pose.y.toFixed(2)})`;
}

export class LiveSim {
  readonly clock: SimClock;
  readonly bus: InProcessBus;
  readonly robot: SimRobot;
  readonly nav: SimNav2;
  readonly teleop: TeleopBase;
  readonly node: Video4SpatialNode;
  readonly speed: number;
  /** Goals that ended, oldest first. */
  readonly goals: GoalReport[] = [];
  /** Steps the teleop drove, Nav2 drove, the robot stood. */
  readonly steps = { teleop: 0, nav2: 0, idle: 0 };
  /** Callback exceptions the bus reported (each is logged when it happens). */
  callbackErrors = 0;
  readonly #opts: LiveSimOptions;
  readonly #logger: Logger;
  /** Names asked on ~/goal_object, not yet matched to a goal the node counted. */
  readonly #asked: string[] = [];
  /** Goals the node counted and that have not ended: number, name, start. */
  readonly #open: { number: number; object: string; startNs: bigint }[] = [];
  #seen = { goals: 0, rejected: 0, succeeded: 0, aborted: 0, canceled: 0, rejectedByReason: {} as Record<string, number>, abortedByReason: {} as Record<string, number> };
  #navWaiting: (() => void) | undefined;
  /** Set at shutdown: the Nav2 steps are no longer paced (it must see its cancel at once). */
  #unpaced = false;
  #shutdown: Promise<ShutdownReport> | undefined;

  private constructor(opts: LiveSimOptions) {
    this.#opts = opts;
    const speed = opts.speed ?? 1;
    if (!(Number.isFinite(speed) && speed > 0)) throw new RangeError(`live sim speed must be a finite number > 0 (simulated s per wall s), got ${speed}`);
    this.speed = speed;
    const logger = opts.logger ?? SILENT_LOGGER;
    this.#logger = logger;
    const sc = opts.scenario;
    this.clock = new SimClock(1_000_000_000n);
    this.bus = new InProcessBus({ clock: this.clock, logger });
    opts.tap?.(this.bus);
    const sim = this.bus.node({ name: 'simulator', logger });
    this.robot = new SimRobot(sim, sc.world, SIM_CAMERA, sc.exploration[0] ?? sc.start);
    this.nav = new SimNav2(sim, this.robot, this.clock, { dt: EXPLORE_DT, framesEvery: 1, gate: () => this.#navGate() });
    this.teleop = new TeleopBase(sim, { topic: TELEOP_TOPIC });
    const header = { stamp: timeFromNs(this.clock.now()), frame_id: 'map' };
    sim.createPublisher<OccupancyGridMsg>(MAP_TOPIC, 'nav_msgs/msg/OccupancyGrid', LATCHED).publish(occupancyGridOf(sc.world, header));
    sim.createPublisher<MarkerArray>(OBJECTS_TOPIC, 'visualization_msgs/msg/MarkerArray', LATCHED).publish(objectMarkers(sc.world, header));
    const m = opts.manifest;
    const nodeGraph = this.bus.node({
      name: LIVE_NODE_NAME,
      logger,
      remap: { '~/image': '/camera/image_raw', '~/camera_info': '/camera/camera_info' },
      parameters: {
        candidates: m.sampler.candidates,
        steps: m.sampler.steps,
        guidance_scale: m.sampler.guidance_scale,
        seed: sc.seed,
        replan_period_s: REPLAN_PERIOD_S,
        teleop_cmd_vel_topic: TELEOP_TOPIC,
        ...opts.parameters,
      },
    });
    this.node = new Video4SpatialNode(nodeGraph, opts.model, m, opts.extractor ? { extractor: opts.extractor } : {});
    // the referee: which names were asked (the node counts the goals they start)
    this.bus.node({ name: 'referee', logger }).createSubscription<StringMsg>(GOAL_TOPIC, 'std_msgs/msg/String', 'default', (s) => {
      if (s.data.trim() !== '') this.#asked.push(s.data.trim());
    });
  }

  /** Builds the world, the robot, Nav2, the teleop base and the node; with `explore`, fills the node's memory first. */
  static async start(opts: LiveSimOptions): Promise<LiveSim> {
    const live = new LiveSim(opts);
    if (opts.explore ?? true) await live.#explore();
    return live;
  }

  async #explore(): Promise<void> {
    for (const p of this.#opts.scenario.exploration) {
      this.robot.moveTo(p);
      this.clock.advance(BigInt(Math.round(EXPLORE_DT * 1e9)));
      this.robot.publishFrame();
      await this.#flush();
    }
    await this.node.ingest.idle();
  }

  /** SimNav2's gate: one step per tick that grants it (see tick), none while teleop drives; free at shutdown. */
  #navGate(): Promise<void> {
    if (this.#unpaced) return Promise.resolve();
    return new Promise<void>((resolve) => (this.#navWaiting = resolve));
  }

  async #flush(): Promise<void> {
    try {
      await this.bus.flush();
    } catch {
      // already logged by the bus when the callback threw; the simulation goes on
      this.callbackErrors++;
    }
  }

  /** One simulated step of EXPLORE_DT: teleop, else a Nav2 step, else stand (module comment); then the goals' bookkeeping. */
  async tick(): Promise<void> {
    const dtNs = BigInt(Math.round(EXPLORE_DT * 1e9));
    const cmd = this.teleop.command(this.clock.now());
    const nav = this.#navWaiting;
    if (cmd) {
      this.steps.teleop++;
      this.teleop.drive(this.robot, cmd, EXPLORE_DT);
      this.clock.advance(dtNs);
      this.robot.publishFrame();
    } else if (nav) {
      // SimNav2 moves the robot, advances the clock and publishes the frame and its feedback
      this.steps.nav2++;
      this.#navWaiting = undefined;
      nav();
    } else {
      this.steps.idle++;
      this.clock.advance(dtNs);
      this.robot.publishFrame();
    }
    await this.#flush();
    this.#watchGoals();
  }

  /**
   * Ticks in (scaled) real time until `signal` aborts or `durationS` wall seconds have passed
   * (0 or absent: no limit). A step that falls behind (a busy CPU) is not caught up in a burst.
   */
  async run(opts: { signal?: AbortSignal; durationS?: number } = {}): Promise<'signal' | 'duration'> {
    const periodMs = (EXPLORE_DT * 1000) / this.speed;
    const t0 = performance.now();
    const limitMs = opts.durationS !== undefined && opts.durationS > 0 ? opts.durationS * 1000 : Infinity;
    let next = t0;
    while (!opts.signal?.aborted) {
      if (performance.now() - t0 >= limitMs) return 'duration';
      await this.tick();
      next += periodMs;
      const now = performance.now();
      if (next < now - periodMs) next = now;
      await sleep(Math.min(next - now, t0 + limitMs - now), opts.signal);
    }
    return 'signal';
  }

  /** Matches the node's goal counters to the asked names; reports each goal that ended. */
  #watchGoals(): void {
    const st = this.node.stats;
    const seen = this.#seen;
    for (let n = seen.goals; n < st.goals; n++) {
      const g = { number: n + 1, object: this.#asked.shift() ?? '', startNs: this.clock.now() };
      this.#open.push(g);
      this.#opts.onGoalStart?.(g.number, g.object);
    }
    // a rejection is decided as the goal arrives: the newest open goals are the rejected ones
    const rejectedCodes = newCodes(seen.rejectedByReason, st.rejectedByReason);
    for (let n = seen.rejected; n < st.rejected; n++) {
      const g = this.#open.pop();
      if (g) this.#report(g, 'rejected', rejectedCodes.shift());
    }
    // one goal runs at a time: endings come in the order the goals started
    const abortedCodes = newCodes(seen.abortedByReason, st.abortedByReason);
    const endings: [Counted, string | undefined][] = [];
    for (const k of ['succeeded', 'canceled', 'aborted'] as const) for (let n = seen[k]; n < st[k]; n++) endings.push([k, k === 'aborted' ? abortedCodes.shift() : undefined]);
    for (const [k, code] of endings) {
      const g = this.#open.shift();
      if (g) this.#report(g, k, code);
    }
    this.#seen = { goals: st.goals, rejected: st.rejected, succeeded: st.succeeded, aborted: st.aborted, canceled: st.canceled, rejectedByReason: { ...st.rejectedByReason }, abortedByReason: { ...st.abortedByReason } };
  }

  #report(g: { number: number; object: string; startNs: bigint }, outcome: GoalReport['outcome'], code: string | undefined): void {
    const name = g.object.toLowerCase();
    const pose = this.robot.pose;
    const candidates = this.#opts.scenario.world.objects.filter((o) => o.category === name);
    const target = candidates.sort((a, b) => Math.hypot(a.x - pose.x, a.y - pose.y) - Math.hypot(b.x - pose.x, b.y - pose.y))[0];
    const report: GoalReport = {
      number: g.number,
      object: g.object,
      outcome,
      code,
      target,
      judgement: target ? judge(this.#opts.scenario.world, target, pose, cameraOf(this.#opts.manifest)) : undefined,
      pose,
      simSeconds: Number(this.clock.now() - g.startNs) / 1e9,
    };
    this.goals.push(report);
    this.#opts.onGoalEnd?.(report);
  }

  /**
   * Stops: the node's safe shutdown (the running goal ends CANCELED, its Nav2 leg is cancelled;
   * Nav2 is no longer paced so it sees the cancel at once), then the goals' last report. Idempotent.
   */
  shutdown(reason = 'shutdown'): Promise<ShutdownReport> {
    this.#shutdown ??= (async () => {
      this.#unpaced = true;
      const nav = this.#navWaiting;
      this.#navWaiting = undefined;
      nav?.();
      const report = await this.node.shutdown(reason);
      await this.#flush();
      this.#watchGoals();
      this.#logger.debug(`live sim stopped (${reason}): ${this.steps.teleop} teleop, ${this.steps.nav2} Nav2, ${this.steps.idle} standing steps`);
      return report;
    })();
    return this.#shutdown;
  }
}

/** The codes whose count grew from `before` to `after`, once per increment. */
function newCodes(before: Record<string, number>, after: Record<string, number>): string[] {
  return Object.entries(after).flatMap(([k, n]) => Array.from({ length: n - (before[k] ?? 0) }, () => k));
}

/** Waits `ms` (≤ 0: a macrotask turn), or less when `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener('abort', done, { once: true });
  });
}
