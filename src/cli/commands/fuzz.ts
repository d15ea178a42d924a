/**
 * `video4spatial-nav fuzz [--count N] [--seed S] [--json FILE] [--model DIR] [--steps N]
 *  [--candidates M] [--goal-every K] [--verbose]` — feeds two running nodes (raw and compressed
 * camera) on the in-process graph N seeded hostile and malformed messages interleaved with valid
 * camera/TF traffic and valid plan-only goals planned by the shipped model (src/sim/fuzz.ts), and
 * prints the report as JSON: `{sent, crashes, refused_by_transport, rejected_by_reason, goals_ok,
 * goals_rejected, …}`. Exits 1 when anything crashed or a hostile goal was accepted.
 */
import { writeFileSync } from 'node:fs';
import { checkFlags, flagBool, flagNumber, flagString, parseArgs } from '../args.js';
import { booleanFlags, commandHelp, flagNames, type CliCommand } from '../command.js';
import { defaultModelDir, OnnxImaginationModel } from '../../model/OnnxImaginationModel.js';
import { createLogger } from '../../ros/logger.js';
import { DEFAULT_FUZZ_OPTIONS, runFuzz } from '../../sim/fuzz.js';

const HELP = commandHelp({
  name: 'fuzz',
  summary: 'feed the running node seeded hostile messages and goals between valid traffic; report crashes and rejections',
  description:
    'Two nodes (raw and compressed camera) on the in-process graph get N seeded hostile and malformed messages interleaved with valid camera/TF traffic and valid plan-only goals planned by the shipped model. ' +
    'Prints the report as JSON; exits 1 when anything crashed or a hostile goal was accepted.',
  flags: [
    { name: 'count', value: 'N', default: '1000', help: 'messages to send' },
    { name: 'seed', value: 'S', default: '1', help: 'fuzz seed' },
    { name: 'json', value: 'FILE', help: 'also write the report to FILE' },
    { name: 'model', value: 'DIR', default: 'the shipped model', help: 'model directory' },
    { name: 'steps', value: 'N', default: String(DEFAULT_FUZZ_OPTIONS.steps), help: 'denoising steps of the valid goals, 1-1000' },
    { name: 'candidates', value: 'M', default: String(DEFAULT_FUZZ_OPTIONS.candidates), help: 'candidates of the valid goals, 1-64' },
    { name: 'goal-every', value: 'K', default: String(DEFAULT_FUZZ_OPTIONS.goalEvery), help: 'send a valid goal every K messages' },
    { name: 'verbose', help: "log the nodes' messages" },
  ],
  examples: ['fuzz --count 10000 --seed 1 --json fuzz.json'],
});

export const command: CliCommand = {
  ...HELP,
  async run(argv) {
    const args = parseArgs(argv, booleanFlags(HELP.flags));
    checkFlags(args, flagNames(HELP.flags), 'fuzz');
    const count = flagNumber(args, 'count', 1000, { integer: true, min: 1 });
    const seed = flagNumber(args, 'seed', 1, { integer: true, min: 0 });
    const steps = flagNumber(args, 'steps', DEFAULT_FUZZ_OPTIONS.steps, { integer: true, min: 1, max: 1000 });
    const candidates = flagNumber(args, 'candidates', DEFAULT_FUZZ_OPTIONS.candidates, { integer: true, min: 1, max: 64 });
    const goalEvery = flagNumber(args, 'goal-every', DEFAULT_FUZZ_OPTIONS.goalEvery, { integer: true, min: 1 });
    const json = flagString(args, 'json');
    const log = (s: string) => process.stderr.write(`[fuzz] ${s}\n`);
    const model = await OnnxImaginationModel.load(flagString(args, 'model') ?? defaultModelDir(), { log: (_l, m) => log(m) });
    log(`seed ${seed}: ${count} messages, a valid goal every ${goalEvery} (steps ${steps}, candidates ${candidates})`);
    const report = await runFuzz({
      count,
      seed,
      model,
      manifest: model.manifest,
      steps,
      candidates,
      goalEvery,
      answerTimeoutMs: DEFAULT_FUZZ_OPTIONS.answerTimeoutMs,
      ...(flagBool(args, 'verbose') ? { logger: createLogger({ name: 'fuzz' }) } : {}),
      onProgress: log,
    });
    await model.dispose();
    const text = JSON.stringify(report, null, 2);
    process.stdout.write(`${text}\n`);
    if (json) writeFileSync(json, `${text}\n`);
    return report.crashes === 0 && report.hostile_goals_accepted === 0 ? 0 : 1;
  },
};
