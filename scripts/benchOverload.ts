/**
 * Overload benchmark (a script that prints numbers, not a test):
 *   node --expose-gc dist/scripts/benchOverload.js [--width 1920] [--height 1080] [--hz 60] [--seconds 60]
 *     [--steps 2] [--candidates 1] [--no-plan] [--every-frame] [--extraction-threads N] [--json FILE]
 * Streams a 60 Hz 1920×1080 rgb8 camera (real time, system clock) into the node on the
 * in-process graph while it plans back-to-back plan-only goals with the shipped model, and prints
 * frames published / received / dropped (transport, ingest queue), camera-to-buffer latency of
 * the admitted keyframes, RSS and heap at start / peak / end, plans answered (src/sim/overload.ts).
 * --every-frame sets keyframe_min_translation_m = 0 so every frame is decoded and fitted.
 * --extraction-threads N: path extraction workers as the node's extraction_threads (default 1:
 * in the planning thread, as day 2 measured; 0 = the node's default, the cores up to 4).
 * With --expose-gc the end RSS is measured after a full collection (what is retained, not garbage).
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { defaultModelDir, OnnxImaginationModel } from '../src/model/OnnxImaginationModel.js';
import { runOverload } from '../src/sim/overload.js';
import { createExtractor } from '../src/planner/ExtractionPool.js';

async function main(argv: string[]): Promise<void> {
  const value = (name: string, def: number): number => {
    const i = argv.indexOf(`--${name}`);
    if (i < 0) return def;
    const v = Number(argv[i + 1]);
    if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number, got '${argv[i + 1]}'`);
    return v;
  };
  const known = ['--width', '--height', '--hz', '--seconds', '--steps', '--candidates', '--no-plan', '--every-frame', '--extraction-threads', '--json'];
  for (const a of argv) if (a.startsWith('--') && !known.includes(a)) throw new Error(`unknown flag ${a} (known: ${known.join(', ')})`);
  const jsonAt = argv.indexOf('--json');
  const et = argv.indexOf('--extraction-threads');
  const extraction = createExtractor(et < 0 ? 1 : Number(argv[et + 1]));
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
    ...(extraction.extractor ? { extractor: extraction.extractor } : {}),
  });
  await extraction.close();
  await model.dispose();
  const out = { ...report, extraction_threads: extraction.threads, machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? '?', node: process.version } };
  const text = JSON.stringify(out, null, 2);
  process.stdout.write(`${text}\n`);
  if (jsonAt >= 0 && argv[jsonAt + 1]) writeFileSync(argv[jsonAt + 1] as string, `${text}\n`);
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`benchOverload: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
