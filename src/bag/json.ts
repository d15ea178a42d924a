/**
 * Turning decoded messages into JSON that loses nothing silently:
 * - `bigint` (int64/uint64 fields, nanosecond stamps) → a number when it is a safe integer
 *   (|x| ≤ 2^53 − 1), else its decimal string;
 * - non-finite floats → the strings `"NaN"`, `"Infinity"`, `"-Infinity"` (JSON has no such numbers);
 * - typed arrays → plain arrays;
 * - arrays of numbers/booleans/strings longer than `maxArrayLength` (image `data`, point clouds)
 *   → `{"truncated": true, "length": N, "head": [first maxArrayLength elements]}`. Arrays of
 *   messages (path poses, transforms) are never truncated.
 */

/** Default number of elements printed from a long primitive array. */
export const DEFAULT_MAX_ARRAY_LENGTH = 64;

export interface JsonOptions {
  /** Truncate primitive arrays longer than this; `Infinity` never truncates. Default 64. */
  maxArrayLength?: number;
}

/** A nanosecond value as JSON: number when safe, else decimal string. */
export function nsToJson(ns: bigint): number | string {
  return ns >= BigInt(Number.MIN_SAFE_INTEGER) && ns <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(ns) : ns.toString();
}

function scalar(v: unknown): unknown {
  if (typeof v === 'bigint') return nsToJson(v);
  if (typeof v === 'number' && !Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
  return v;
}

function isPrimitive(v: unknown): boolean {
  return v === null || typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean' || typeof v === 'string';
}

function array(items: ArrayLike<unknown>, primitive: boolean, max: number, options: JsonOptions): unknown {
  const n = items.length;
  if (primitive && n > max) {
    const head: unknown[] = [];
    for (let i = 0; i < max; i++) head.push(scalar(items[i]));
    return { truncated: true, length: n, head };
  }
  const out: unknown[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = primitive ? scalar(items[i]) : toJsonValue(items[i], options);
  return out;
}

/** Converts a decoded message (or any value) into a JSON-safe value (see the module comment). */
export function toJsonValue(value: unknown, options: JsonOptions = {}): unknown {
  const max = options.maxArrayLength ?? DEFAULT_MAX_ARRAY_LENGTH;
  if (isPrimitive(value) || value === undefined) return scalar(value);
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return array(value as unknown as ArrayLike<unknown>, true, max, options);
  }
  if (Array.isArray(value)) return array(value, value.every(isPrimitive), max, options);
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = toJsonValue(v, options);
    return out;
  }
  return String(value);
}

/** Unix ns → ISO 8601 UTC with all nine fraction digits, e.g. `2020-04-02T22:23:55.112411371Z`. */
export function nsToIso(ns: bigint): string {
  const sec = ns / 1_000_000_000n;
  const frac = ns % 1_000_000_000n;
  if (ns < 0n) return `${ns} ns`;
  return `${new Date(Number(sec) * 1000).toISOString().slice(0, 19)}.${frac.toString().padStart(9, '0')}Z`;
}

/** ns → seconds with nine decimals, e.g. `4.531096768`. */
export function nsToSeconds(ns: bigint): string {
  const neg = ns < 0n;
  const a = neg ? -ns : ns;
  return `${neg ? '-' : ''}${a / 1_000_000_000n}.${(a % 1_000_000_000n).toString().padStart(9, '0')}`;
}
