/**
 * Progress of a long command (eval, dataset, bench) on stderr: done / total, elapsed time and an
 * estimate of the time left, one line per finished item (or per stage), with a note such as the
 * world's result. stdout is never touched (scripts parse it).
 *
 * It is on when stderr is a terminal, or with --progress; --quiet turns it off everywhere; without
 * a terminal and without --progress it is silent.
 */
import { flagBool, UsageError, type ParsedArgs } from './args.js';
import type { FlagSpec } from './command.js';

/** The flags of a command that reports progress (add them to its FlagSpecs). */
export const PROGRESS_FLAGS: readonly FlagSpec[] = [
  { name: 'progress', help: 'print progress (done/total, elapsed, time left) to stderr even when it is not a terminal' },
  { name: 'quiet', help: 'print no progress to stderr, even on a terminal' },
];

/** Whether progress is printed: --quiet never, --progress always, otherwise only on a terminal. */
export function progressEnabled(flags: { progress?: boolean; quiet?: boolean }, isTTY: boolean | undefined): boolean {
  if (flags.quiet === true) return false;
  if (flags.progress === true) return true;
  return isTTY === true;
}

/** 42 s, 3 min 05 s, 1 h 02 min (whole seconds; negative or not finite: '?'). */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** Seconds left at the mean pace so far; undefined before the first item is done. */
export function etaSeconds(done: number, total: number, elapsedS: number): number | undefined {
  if (done <= 0 || total <= 0) return undefined;
  return (elapsedS / done) * Math.max(0, total - done);
}

/**
 * One progress line, without the newline:
 * `[eval open loop] 3/50 (6%) | elapsed 1 min 02 s | ~16 min 04 s left | seed 102 plant: …`.
 * Nothing done yet: no estimate; all done: no estimate either.
 */
export function formatProgress(label: string, done: number, total: number, elapsedS: number, note?: string): string {
  const pct = total > 0 ? Math.floor((100 * done) / total) : 100;
  const parts = [`[${label}] ${done}/${total} (${pct}%)`, `elapsed ${formatDuration(elapsedS)}`];
  const eta = done < total ? etaSeconds(done, total, elapsedS) : undefined;
  if (eta !== undefined) parts.push(`~${formatDuration(eta)} left`);
  if (note !== undefined && note !== '') parts.push(note);
  return parts.join(' | ');
}

export interface ProgressOptions {
  /** Print at all (progressEnabled). */
  enabled: boolean;
  /** Where lines go (default: process.stderr). */
  write?: (text: string) => void;
  /** Milliseconds clock (default: performance.now). */
  now?: () => number;
}

/** Counts items (or stages) of one long job and prints a line for each; silent when not enabled. */
export class Progress {
  private count = 0;
  private current: string | undefined;
  private readonly t0: number;
  private readonly write: (text: string) => void;
  private readonly now: () => number;

  constructor(
    readonly label: string,
    readonly total: number,
    readonly opts: ProgressOptions,
  ) {
    this.write = opts.write ?? ((t) => void process.stderr.write(t));
    this.now = opts.now ?? (() => performance.now());
    this.t0 = this.now();
  }

  get done(): number {
    return this.count;
  }

  get elapsedS(): number {
    return (this.now() - this.t0) / 1000;
  }

  /** One more item done; prints its line with `note` (the item's result). */
  tick(note?: string): void {
    this.count = Math.min(this.total, this.count + 1);
    this.line(note);
  }

  /** The start of the next stage: the running stage (if any) counts as done; prints `name …`. */
  stage(name: string): void {
    if (this.current !== undefined) this.count = Math.min(this.total, this.count + 1);
    this.current = name;
    this.line(`${name} …`);
  }

  /** The last stage ended: prints the final line. */
  finish(note = 'done'): void {
    if (this.current !== undefined) this.count = Math.min(this.total, this.count + 1);
    this.current = undefined;
    this.line(note);
  }

  private line(note?: string): void {
    if (this.opts.enabled) this.write(formatProgress(this.label, this.count, this.total, this.elapsedS, note) + '\n');
  }
}

/**
 * Whether a command prints progress, from its --progress / --quiet and whether stderr is a
 * terminal; both flags at once is a usage error. Call it before the long work starts.
 */
export function progressFromArgs(args: ParsedArgs, isTTY: boolean | undefined = process.stderr.isTTY): boolean {
  const progress = flagBool(args, 'progress');
  const quiet = flagBool(args, 'quiet');
  if (progress && quiet) throw new UsageError('--progress and --quiet contradict each other; give one');
  return progressEnabled({ progress, quiet }, isTTY);
}
