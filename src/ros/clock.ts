/**
 * Clocks for the graph: the system clock (wall time, ns since the epoch) and a settable
 * simulation clock (what `/clock` + `use_sim_time` gives a ROS node), which drives the
 * in-process graph's timers deterministically.
 */
import { ParameterError } from '../core/errors.js';
import type { Clock } from './Graph.js';

export const NS_PER_S = 1_000_000_000n;
const NS_PER_MS = 1_000_000n;

/** Seconds (finite) → ns, rounded to the nearest ns. */
export function secondsToNs(seconds: number, what = 'duration'): bigint {
  if (!Number.isFinite(seconds)) throw new ParameterError(`${what} must be a finite number of seconds, got ${seconds}`, 'duration');
  return BigInt(Math.round(seconds * 1e9));
}

/** ns → seconds (float). */
export function nsToSeconds(ns: bigint): number {
  return Number(ns) / 1e9;
}

/** Wall-clock time with sub-millisecond resolution (performance.timeOrigin + performance.now()). */
export class SystemClock implements Clock {
  now(): bigint {
    const ms = performance.timeOrigin + performance.now();
    const whole = Math.floor(ms);
    return BigInt(whole) * NS_PER_MS + BigInt(Math.round((ms - whole) * 1e6));
  }
}

/**
 * A clock that only moves when told to (simulation time). Listeners (the in-process graph's
 * timers) are told after every change, in registration order.
 */
export class SimClock implements Clock {
  #now: bigint;
  readonly #listeners = new Set<(nowNs: bigint) => void>();

  /** @param startNs initial time, ns (default 0: the start of simulated time). */
  constructor(startNs = 0n) {
    if (startNs < 0n) throw new ParameterError(`SimClock start must be ≥ 0 ns, got ${startNs}`, 'clock');
    this.#now = startNs;
  }

  now(): bigint {
    return this.#now;
  }

  /** Moves to `ns`; time never runs backwards here (a ROS clock jump back resets timers, which we do not model). */
  set(ns: bigint): void {
    if (ns < this.#now) throw new ParameterError(`SimClock cannot go back from ${this.#now} ns to ${ns} ns`, 'clock');
    if (ns === this.#now) return;
    this.#now = ns;
    for (const l of [...this.#listeners]) l(ns);
  }

  /** Moves forward by `ns` (≥ 0). */
  advance(ns: bigint): void {
    if (ns < 0n) throw new ParameterError(`SimClock.advance needs a duration ≥ 0 ns, got ${ns} ns`, 'clock');
    this.set(this.#now + ns);
  }

  /** Moves forward by `seconds` (≥ 0). */
  advanceSeconds(seconds: number): void {
    this.advance(secondsToNs(seconds, 'SimClock.advanceSeconds'));
  }

  /** Calls `listener(nowNs)` after every change; returns the unsubscribe function. */
  onChange(listener: (nowNs: bigint) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/**
 * rcl timer arithmetic: the next call time after a call at `nowNs` for a timer whose previous
 * call was due at `dueNs` — one period later, or, when periods were missed (a clock jump), the
 * first period boundary after now (missed calls are skipped, not replayed).
 */
export function nextTimerDue(dueNs: bigint, periodNs: bigint, nowNs: bigint): bigint {
  if (periodNs <= 0n) throw new ParameterError(`timer period must be > 0 ns, got ${periodNs}`, 'timer');
  const next = dueNs + periodNs;
  if (next > nowNs) return next;
  return nowNs + periodNs - ((nowNs - dueNs) % periodNs);
}
