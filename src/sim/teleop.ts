/**
 * The simulated base driven by teleop: geometry_msgs/Twist on the teleop topic (the one the node
 * watches, `teleop_cmd_vel_topic`, default /cmd_vel_teleop) moves SimRobot as a unicycle, as a
 * diff-drive controller behind a twist mux would. Safety as on a real base: every command is
 * clamped to the base's limits, a command older than TELEOP_TIMEOUT_S (graph time) or a zero
 * Twist stops it, a Twist with a non-finite field is ignored (and counted), and a step that would
 * end in an obstacle turns in place only (the robot stops at the wall).
 */
import { normalizeAngle, type Pose2D } from '../core/geometry.js';
import type { Graph } from '../ros/Graph.js';
import type { Twist } from '../ros/messages/types.js';
import { DRIVE_SPEED, DRIVE_TURN_RATE } from './driver.js';
import type { SimRobot } from './rosSim.js';

/** A command is obeyed for this long after it arrived (graph time), s: a teleop that stops sending stops the robot. */
export const TELEOP_TIMEOUT_S = 0.5;
/** Forward speed limit, m/s (the simulated Nav2's, driver.ts). */
export const TELEOP_MAX_LINEAR = DRIVE_SPEED;
/** Turn rate limit, rad/s (the simulated Nav2's, driver.ts). */
export const TELEOP_MAX_ANGULAR = DRIVE_TURN_RATE;
/** Speeds below these count as zero (a stop), m/s and rad/s. */
const ZERO_LINEAR = 1e-3;
const ZERO_ANGULAR = 1e-3;

/** A velocity command: forward speed (m/s, + ahead) and turn rate (rad/s, + left). */
export interface VelocityCommand {
  v: number;
  w: number;
}

/**
 * The pose after driving `dt` seconds at forward speed `v` (m/s) and turn rate `w` (rad/s) from
 * `p` (map frame): the exact unicycle arc (a straight line when w is 0).
 */
export function integrateUnicycle(p: Pose2D, v: number, w: number, dt: number): Pose2D {
  const yaw = p.yaw + w * dt;
  if (Math.abs(w) < 1e-9) return { x: p.x + v * dt * Math.cos(p.yaw), y: p.y + v * dt * Math.sin(p.yaw), yaw: normalizeAngle(yaw) };
  const r = v / w;
  return { x: p.x + r * (Math.sin(yaw) - Math.sin(p.yaw)), y: p.y - r * (Math.cos(yaw) - Math.cos(p.yaw)), yaw: normalizeAngle(yaw) };
}

/** `x` clamped to [−limit, limit]. */
const clamp = (x: number, limit: number) => Math.max(-limit, Math.min(limit, x));

export interface TeleopBaseOptions {
  /** Default /cmd_vel_teleop. */
  topic?: string;
  /** Default TELEOP_TIMEOUT_S. */
  timeoutS?: number;
  /** Default TELEOP_MAX_LINEAR. */
  maxLinear?: number;
  /** Default TELEOP_MAX_ANGULAR. */
  maxAngular?: number;
}

/** What the base has seen and done, for logs and tests. */
export interface TeleopStats {
  /** Twists received. */
  received: number;
  /** Twists ignored because a field was not finite. */
  ignored: number;
  /** Twists whose linear.x or angular.z was beyond a limit (clamped). */
  clamped: number;
  /** Steps driven under a command. */
  steps: number;
  /** Steps that would have ended in an obstacle (turned in place only). */
  blocked: number;
}

export class TeleopBase {
  readonly topic: string;
  readonly timeoutNs: bigint;
  readonly maxLinear: number;
  readonly maxAngular: number;
  readonly stats: TeleopStats = { received: 0, ignored: 0, clamped: 0, steps: 0, blocked: 0 };
  #last: (VelocityCommand & { atNs: bigint }) | undefined;

  /** Subscribes the teleop topic on `graph` (the simulator's node). */
  constructor(
    readonly graph: Graph,
    options: TeleopBaseOptions = {},
  ) {
    this.topic = options.topic ?? '/cmd_vel_teleop';
    const timeoutS = options.timeoutS ?? TELEOP_TIMEOUT_S;
    this.maxLinear = options.maxLinear ?? TELEOP_MAX_LINEAR;
    this.maxAngular = options.maxAngular ?? TELEOP_MAX_ANGULAR;
    if (!(Number.isFinite(timeoutS) && timeoutS > 0)) throw new RangeError(`teleop timeout must be a finite number of seconds > 0, got ${timeoutS}`);
    if (!(Number.isFinite(this.maxLinear) && this.maxLinear > 0)) throw new RangeError(`teleop maxLinear must be a finite speed > 0 m/s, got ${this.maxLinear}`);
    if (!(Number.isFinite(this.maxAngular) && this.maxAngular > 0)) throw new RangeError(`teleop maxAngular must be a finite rate > 0 rad/s, got ${this.maxAngular}`);
    this.timeoutNs = BigInt(Math.round(timeoutS * 1e9));
    graph.createSubscription<Twist>(this.topic, 'geometry_msgs/msg/Twist', 'default', (t) => this.onTwist(t));
  }

  /** Takes a Twist (linear.x and angular.z; a diff-drive base ignores the rest). */
  onTwist(t: Twist): void {
    this.stats.received++;
    const v = t.linear.x;
    const w = t.angular.z;
    if (!Number.isFinite(v) || !Number.isFinite(w)) {
      this.stats.ignored++;
      this.graph.logger.warn(`teleop: ignoring a Twist with linear.x ${v}, angular.z ${w} on ${this.topic} (not finite)`);
      return;
    }
    if (Math.abs(v) > this.maxLinear || Math.abs(w) > this.maxAngular) this.stats.clamped++;
    this.#last = { v: clamp(v, this.maxLinear), w: clamp(w, this.maxAngular), atNs: this.graph.clock.now() };
  }

  /** The command to obey at graph time `nowNs`: undefined (stand still) when none came, it timed out, or it is a stop. */
  command(nowNs: bigint): VelocityCommand | undefined {
    const c = this.#last;
    if (!c || nowNs - c.atNs > this.timeoutNs) return undefined;
    if (Math.abs(c.v) < ZERO_LINEAR && Math.abs(c.w) < ZERO_ANGULAR) return undefined;
    return { v: c.v, w: c.w };
  }

  /**
   * Drives `robot` for `dt` seconds under `cmd`; a pose in collision is refused, then the turn
   * alone is tried. Returns whether the robot moved.
   */
  drive(robot: SimRobot, cmd: VelocityCommand, dt: number): boolean {
    this.stats.steps++;
    const next = integrateUnicycle(robot.pose, cmd.v, cmd.w, dt);
    if (robot.moveTo(next)) return true;
    this.stats.blocked++;
    return cmd.w !== 0 && robot.moveTo({ ...robot.pose, yaw: next.yaw });
  }
}
