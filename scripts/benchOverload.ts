/**
 * Overload benchmark (a script that prints numbers, not a test):
 *   node --expose-gc dist/scripts/benchOverload.js [--width 1920] [--height 1080] [--hz 60] [--seconds 60]
 *     [--steps 2] [--candidates 1] [--no-plan] [--every-frame] [--json FILE]
 * Streams a 60 Hz 1920×1080 rgb8 camera (real time, system clock) into the node on the
 * in-process graph while it plans back-to-back plan-only goals with the shipped model, and prints
 * frames published / received / dropped (transport, ingest queue), camera-to-buffer latency of
 * the admitted keyframes, RSS and heap at start / peak / end, plans answered (src/sim/overload.ts).
 * --every-frame sets keyframe_min_translation_m = 0 so every frame is decoded and fitted.
 * With --expose-gc the end RSS is measured after a full collection (what is retained, not garbage).
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { defaultModelDir, OnnxImaginationModel } from '../src/model/OnnxImaginationModel.js';
import { runOverload } from '../src/sim/overload.js';

async function main(argv: string[]): Promise<void> {
  const value = (name: string, def: number): number => {
    const i = argv.indexOf(`--${name}`);
    if (i < 0) return def;
    const v = Number(argv[i + 1]);
    if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number, got '${argv[i + 1]}'`);
    return v;
  };
  const known = ['--width', '--height', '--hz', '--seconds', '--steps', '--candidates', '--no-plan', '--every-frame', '--json'];
  for (const a of argv) if (a.startsWith('--') && !known.includes(a)) throw new Error(`unknown flag ${a} (known: ${known.join(', ')})`);
  const jsonAt = argv.indexOf('--json');
  const model = await OnnxImaginationModel.load(defaultModelDir());
  const log = (s: string) => process.stderr.write(`[overload] ${s}\n`);
  const report = await runOverload({
    width: value('width', 1920),
    height: value('height', 1080),
    hz: value('hz', 60),
    durationS: value('seconds', 60),
    clock: 'system',
    burst: 1,
    model,
    manifest: model.manifest,
    plan: !argv.includes('--no-plan'),
    parameters: { steps: value('steps', 2), candidates: value('candidates', 1), ...(argv.includes('--every-frame') ? { keyframe_min_translation_m: 0 } : {}) },
    onProgress: log,
  });
  await model.dispose();
  const out = { ...report, machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? '?', node: process.version } };
  const text = JSON.stringify(out, null, 2);
  process.stdout.write(`${text}\n`);
  if (jsonAt >= 0 && argv[jsonAt + 1]) writeFileSync(argv[jsonAt + 1] as string, `${text}\n`);
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`benchOverload: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
