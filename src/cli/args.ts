/**
 * Minimal, strict command-line argument parsing shared by the subcommands.
 * Unknown flags are errors that quote the flag (nothing a user asked for is silently dropped).
 */

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface ParsedArgs {
  positional: string[];
  flags: Map<string, string | true>;
}

/** Parses `--name value`, `--name=value` and boolean `--name` (when listed in `booleans`). */
export function parseArgs(argv: readonly string[], booleans: readonly string[] = []): ParsedArgs {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      if (eq >= 0) flags.set(name, a.slice(eq + 1));
      else if (booleans.includes(name)) flags.set(name, true);
      else {
        const v = argv[i + 1];
        if (v === undefined || v.startsWith('--')) throw new UsageError(`flag --${name} needs a value`);
        flags.set(name, v);
        i++;
      }
    } else positional.push(a);
  }
  return { positional, flags };
}

/** Throws when a flag outside `allowed` was given. */
export function checkFlags(args: ParsedArgs, allowed: readonly string[], command: string): void {
  for (const k of args.flags.keys()) {
    if (!allowed.includes(k)) {
      throw new UsageError(`unknown flag --${k} for '${command}' (allowed: ${allowed.map((a) => '--' + a).join(', ')})`);
    }
  }
}

export function flagString(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags.get(name);
  if (v === true) throw new UsageError(`flag --${name} needs a value`);
  return v;
}

export function flagNumber(args: ParsedArgs, name: string, def: number, opts: { integer?: boolean; min?: number; max?: number } = {}): number {
  const v = flagString(args, name);
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n) || (opts.integer && !Number.isInteger(n))) {
    throw new UsageError(`--${name} must be ${opts.integer ? 'an integer' : 'a number'}, got '${v}'`);
  }
  if (opts.min !== undefined && n < opts.min) throw new UsageError(`--${name} must be >= ${opts.min}, got ${n}`);
  if (opts.max !== undefined && n > opts.max) throw new UsageError(`--${name} must be <= ${opts.max}, got ${n}`);
  return n;
}

export function flagBool(args: ParsedArgs, name: string): boolean {
  return args.flags.get(name) === true;
}

/** Parses a seed range like `100-119` or a single seed `7` into an inclusive list. */
export function parseSeedRange(text: string, flag = 'seeds'): number[] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text.trim());
  if (!m) throw new UsageError(`--${flag} must look like A-B or A (non-negative integers), got '${text}'`);
  const a = Number(m[1]);
  const b = m[2] === undefined ? a : Number(m[2]);
  if (b < a) throw new UsageError(`--${flag} range ${text} is empty (end ${b} < start ${a})`);
  const out: number[] = [];
  for (let s = a; s <= b; s++) out.push(s);
  return out;
}
