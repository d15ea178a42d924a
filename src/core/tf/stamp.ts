/**
 * ROS time stamps as exact integer nanoseconds (`bigint`). builtin_interfaces/Time is
 * {sec: int32, nanosec: uint32}; a float of nanoseconds since 1970 would lose ~256 ns, so stamps
 * stay `bigint` and only differences become floating-point seconds.
 */

/** Structural builtin_interfaces/Time. */
export interface TimeLike {
  sec: number;
  nanosec: number;
}

export const NS_PER_S = 1_000_000_000n;

/** {sec, nanosec} → integer nanoseconds. */
export function timeToNs(t: TimeLike): bigint {
  return BigInt(Math.trunc(t.sec)) * NS_PER_S + BigInt(Math.trunc(t.nanosec));
}

/** Integer nanoseconds → {sec, nanosec} with 0 ≤ nanosec < 1e9. */
export function nsToTime(ns: bigint): TimeLike {
  let sec = ns / NS_PER_S;
  let nanosec = ns % NS_PER_S;
  if (nanosec < 0n) {
    nanosec += NS_PER_S;
    sec -= 1n;
  }
  return { sec: Number(sec), nanosec: Number(nanosec) };
}

/** Seconds (float) → integer nanoseconds. */
export function secondsToNs(s: number): bigint {
  return BigInt(Math.round(s * 1e9));
}

/** Integer nanoseconds → seconds (float; exact enough for differences). */
export function nsToSeconds(ns: bigint): number {
  return Number(ns) / 1e9;
}

/** Formats a stamp as seconds with millisecond precision, for error messages. */
export function formatStamp(ns: bigint): string {
  const t = nsToTime(ns < 0n ? -ns : ns);
  return `${ns < 0n ? '-' : ''}${t.sec}.${String(Math.floor(t.nanosec / 1e6)).padStart(3, '0')} s`;
}
