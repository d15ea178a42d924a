/**
 * What a subcommand is to the CLI: its help (summary, usage text, the flags it accepts) and run().
 * The commands import this module; main.ts imports the commands (the registry and dispatch), so
 * no command imports main.ts.
 *
 * A command's flags are declared once, as FlagSpecs: its `--help` text is rendered from them, and
 * its parseArgs booleans and checkFlags list are taken from them (booleanFlags, flagNames).
 */

export const PROGRAM = 'video4spatial-nav';

/** One flag a command accepts. */
export interface FlagSpec {
  /** Without the dashes: 'seed' for --seed. */
  name: string;
  /** The value's placeholder ('S', 'DIR'); absent for a boolean flag, given alone. */
  value?: string;
  /** What it does. */
  help: string;
  /** The value when the flag is not given, as text; absent: no default (required, or off). */
  default?: string;
}

/** The help of a command or of one of its subcommands. */
export interface CommandHelp {
  /** One line for the command list. */
  summary: string;
  /** The whole `--help` text: synopsis, summary, flags with their defaults, an example. */
  usage: string;
  /** Every flag it accepts (the list its checkFlags takes). */
  flags: readonly FlagSpec[];
}

export interface CliCommand extends CommandHelp {
  /** Subcommands with their own `--help` (`bag info --help`); the command's usage covers them all. */
  subcommands?: Readonly<Record<string, CommandHelp>>;
  /** Runs the command; resolves to the process exit code. */
  run(argv: string[]): Promise<number>;
}

/** What commandHelp renders. */
export interface HelpSpec {
  /** The command as typed after the program name: 'demo', 'bag info'. */
  name: string;
  summary: string;
  /** Synopsis lines, each after the program name (default: the name, then every flag in brackets). */
  synopsis?: readonly string[];
  /** Paragraphs after the summary. */
  description?: string;
  flags: readonly FlagSpec[];
  /** Further flag lists under their own titles (a command with subcommands shows each one's). */
  groups?: readonly { title: string; flags: readonly FlagSpec[] }[];
  /** Command lines after the program name; at least one. */
  examples: readonly [string, ...string[]];
}

/** Flag names, for checkFlags. */
export function flagNames(flags: readonly FlagSpec[]): string[] {
  return flags.map((f) => f.name);
}

/** Names of the flags that take no value, for parseArgs. */
export function booleanFlags(flags: readonly FlagSpec[]): string[] {
  return flags.filter((f) => f.value === undefined).map((f) => f.name);
}

const WIDTH = 100;

function wrap(text: string, indent: number, first: number): string[] {
  const lines: string[] = [];
  let line = '';
  let room = WIDTH - first;
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    if (line !== '' && line.length + 1 + word.length > room) {
      lines.push(line);
      line = word;
      room = WIDTH - indent;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  lines.push(line);
  return lines;
}

function flagLines(flags: readonly FlagSpec[]): string[] {
  const heads = flags.map((f) => `  --${f.name}${f.value === undefined ? '' : ` ${f.value}`}`);
  const col = Math.min(30, Math.max(...heads.map((h) => h.length)) + 2);
  const pad = ' '.repeat(col);
  return flags.flatMap((f, i) => {
    const head = heads[i] as string;
    const body = wrap(f.default === undefined ? f.help : `${f.help} (default: ${f.default})`, col, col);
    if (head.length + 2 <= col) return [head.padEnd(col) + body[0], ...body.slice(1).map((l) => pad + l)];
    return [head, ...body.map((l) => pad + l)];
  });
}

/** Renders a command's `--help` text. */
export function renderUsage(spec: HelpSpec): string {
  const synopsis = spec.synopsis ?? [[spec.name, ...spec.flags.map((f) => `[--${f.name}${f.value === undefined ? '' : ` ${f.value}`}]`)].join(' ')];
  const lines = synopsis.map((s, i) => `${i === 0 ? 'usage: ' : '       '}${PROGRAM} ${s}`);
  lines.push('', ...wrap(spec.summary, 0, 0));
  if (spec.description) for (const para of spec.description.split(/\n\s*\n/)) lines.push('', ...wrap(para, 0, 0));
  if (spec.flags.length > 0) lines.push('', 'flags:', ...flagLines(spec.flags));
  for (const g of spec.groups ?? []) lines.push('', `${g.title}:`, ...flagLines(g.flags));
  lines.push('', spec.examples.length === 1 ? 'example:' : 'examples:', ...spec.examples.map((e) => `  ${PROGRAM} ${e}`));
  return lines.join('\n') + '\n';
}

/** A command's help from its spec. */
export function commandHelp(spec: HelpSpec): CommandHelp {
  return { summary: spec.summary, usage: renderUsage(spec), flags: spec.flags };
}

/** The arguments that ask for help. */
export const HELP_ARGS: readonly string[] = ['--help', '-h'];

/**
 * Whether argv asks for help: `--help` or `-h` anywhere before `--ros-args` (what follows is
 * rcl's), except as the value of one of the command's flags that takes one (`--object -h` names
 * an object '-h'; after an unknown flag, `-h` asks for help).
 */
export function asksForHelp(argv: readonly string[], flags: readonly FlagSpec[]): boolean {
  const takesValue = flags.filter((f) => f.value !== undefined).map((f) => f.name);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--ros-args') return false;
    if (HELP_ARGS.includes(a)) return true;
    if (a.startsWith('--') && !a.includes('=') && takesValue.includes(a.slice(2))) {
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith('--')) i++; // the flag's value
    }
  }
  return false;
}

/**
 * The help text argv asks for, or undefined: a subcommand's when argv starts with one
 * (`info --help` to bag), else the command's.
 */
export function helpFor(command: CliCommand, argv: readonly string[]): string | undefined {
  const [first, ...rest] = argv;
  const sub = first !== undefined && command.subcommands && Object.hasOwn(command.subcommands, first) ? command.subcommands[first] : undefined;
  if (sub) return asksForHelp(rest, sub.flags) ? sub.usage : undefined;
  return asksForHelp(argv, command.flags) ? command.usage : undefined;
}
