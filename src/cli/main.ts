#!/usr/bin/env node
/**
 * `video4spatial-nav <command> …` — one entry point, one module per subcommand.
 * Subcommands are imported lazily so `bag info` never loads onnxruntime or OpenCV.
 */
import { UsageError } from './args.js';

export interface CliCommand {
  /** One line for the help text. */
  summary: string;
  /** Runs the command; resolves to the process exit code. */
  run(argv: string[]): Promise<number>;
}

/** name → lazy loader. Add one line per subcommand. */
const COMMANDS: Record<string, () => Promise<{ command: CliCommand }>> = {
  bag: () => import('./commands/bag.js'),
  demo: () => import('./commands/demo.js'),
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
  const lines = ['usage: video4spatial-nav <command> [options]', '', 'commands:'];
  for (const [name, load] of Object.entries(COMMANDS)) {
    const { command } = await load();
    lines.push(`  ${name.padEnd(10)} ${command.summary}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    await help();
    return name === undefined ? 1 : 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`video4spatial-nav: unknown command '${name}' (known: ${Object.keys(COMMANDS).join(', ')})\n`);
    return 2;
  }
  try {
    const { command } = await load();
    return await command.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`video4spatial-nav ${name}: ${e.message}\n`);
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
      process.stderr.write(`video4spatial-nav: ${detail}\n`);
      process.exit(1);
    },
  );
}
