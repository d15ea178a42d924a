#!/usr/bin/env node
/**
 * `video4spatial-nav <command> …` — one entry point, one module per subcommand.
 * Subcommands are imported lazily so `bag info` never loads onnxruntime or OpenCV.
 * This file is the registry and the dispatch (`--help`/`-h` included); what a command is
 * (CliCommand, its flags and help text) lives in command.ts, which the commands import.
 */
import { UsageError } from './args.js';
import { type CliCommand, helpFor, HELP_ARGS, PROGRAM } from './command.js';

/** name → lazy loader. Add one line per subcommand. */
export const COMMANDS: Readonly<Record<string, () => Promise<{ command: CliCommand }>>> = {
  bag: () => import('./commands/bag.js'),
  demo: () => import('./commands/demo.js'),
  sim: () => import('./commands/sim.js'),
  node: () => import('./commands/node.js'),
  plan: () => import('./commands/plan.js'),
  eval: () => import('./commands/eval.js'),
  dataset: () => import('./commands/dataset.js'),
  world: () => import('./commands/world.js'),
  ingest: () => import('./commands/ingest.js'),
  'path-accuracy': () => import('./commands/pathAccuracy.js'),
  fuzz: () => import('./commands/fuzz.js'),
  bench: () => import('./commands/bench.js'),
};

async function help(): Promise<void> {
  const lines = [`usage: ${PROGRAM} <command> [flags]`, `       ${PROGRAM} <command> --help`, '', 'commands:'];
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length)) + 2;
  for (const [name, load] of Object.entries(COMMANDS)) {
    const { command } = await load();
    lines.push(`  ${name.padEnd(width)} ${command.summary}`);
  }
  lines.push('', `'${PROGRAM} <command> --help' (or -h) shows a command's flags, their defaults and an example.`);
  process.stdout.write(lines.join('\n') + '\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === 'help' && rest[0] !== undefined && Object.hasOwn(COMMANDS, rest[0])) return main([...rest, '--help']);
  if (name === undefined || HELP_ARGS.includes(name) || name === 'help') {
    await help();
    return name === undefined ? 1 : 0;
  }
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!load) {
    process.stderr.write(`${PROGRAM}: unknown command '${name}' (known: ${Object.keys(COMMANDS).join(', ')}; see ${PROGRAM} --help)\n`);
    return 2;
  }
  try {
    const { command } = await load();
    const usage = helpFor(command, rest);
    if (usage !== undefined) {
      process.stdout.write(usage);
      return 0;
    }
    return await command.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`${PROGRAM} ${name}: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

const isEntry = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isEntry || process.argv[1]?.endsWith('/cli/main.js')) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      const detail = e instanceof Error ? (process.env['V4S_DEBUG'] ? (e.stack ?? e.message) : e.message) : String(e);
      process.stderr.write(`${PROGRAM}: ${detail}\n`);
      process.exit(1);
    },
  );
}
