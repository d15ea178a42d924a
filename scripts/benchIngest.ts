/**
 * Ingest benchmark (a script that prints numbers, not a test):
 *   node dist/scripts/benchIngest.js [--frames N] [--json]
 * Measures, on one thread, the cost per 640×480 frame of turning a camera message into a
 * 64×64 model frame (rgb8, bgr8 raw through each backend; JPEG), the keyframe gate, and the
 * ContextBuffer's add/evict and sampling cost at 1024 entries. Reports medians of per-frame times.
 * The measurements themselves live in src/vision/ingestCost.ts and src/core/context/contextCost.ts
 * (shared with `video4spatial-nav bench`).
 */
import { cpus } from 'node:os';
import { SAMPLING_POLICIES } from '../src/core/context/ContextBuffer.js';
import { measureContextCost } from '../src/core/context/contextCost.js';
import { measureIngestCost } from '../src/vision/ingestCost.js';

function main(argv: string[]): void {
  const nIdx = argv.indexOf('--frames');
  const n = nIdx >= 0 ? Number(argv[nIdx + 1]) : 300;
  const json = argv.includes('--json');
  const results: Record<string, number | string> = {};
  const ing = measureIngestCost(n);
  for (const backend of ['opencv', 'js'] as const) {
    for (const enc of ['rgb8', 'bgr8'] as const) {
      const v = ing.raw[enc][backend];
      if (v !== undefined) results[`raw_${enc}_${backend}_ms`] = v;
    }
  }
  if (ing.jpeg) {
    results.jpeg_bytes = ing.jpeg.bytes;
    results.jpeg_ms = ing.jpeg.ms;
    results.jpeg_full_decode_ms = ing.jpeg.fullDecodeMs;
    results.jpeg_thumbnail_ms = ing.jpeg.thumbnailMs;
  }
  results.opencv = ing.opencv;
  results.raw_thumbnail_ms = ing.rawThumbnailMs;
  const ctx = measureContextCost(n);
  results.gate_decision_ms = ctx.gateDecisionMs;
  results.buffer_add_evict_ms = ctx.addEvictMs;
  for (const p of SAMPLING_POLICIES) results[`sample_${p}_k${ctx.k}_ms`] = ctx.sampleMs[p];
  results.buffer_frames = ctx.bufferFrames;
  results.buffer_bytes = ctx.bufferBytes;
  results.node = process.version;
  results.cpu = cpus()[0]?.model ?? 'unknown';
  results.frames_per_measure = n;
  if (json) {
    process.stdout.write(JSON.stringify(results, null, 2) + '\n');
    return;
  }
  for (const [k, v] of Object.entries(results)) process.stdout.write(`${k.padEnd(28)} ${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(4) : v}\n`);
}

main(process.argv.slice(2));
