/**
 * Denoiser graphs side by side: wall time of one forward and ONNX Runtime's kernel time by
 * operator type, the graphs alternated round by round (a shared VM's speed drifts).
 *   node dist/scripts/profileDenoiser.js GRAPH.onnx [GRAPH.onnx ...] [--batch B] [--threads N] [--runs R] [--rounds K]
 * Defaults: batch 8 (M = 4 with the CFG pair), 2 threads, 20 runs, 2 rounds; the frames (K + N)
 * and the latent shape are the shipped model's (its manifest). Prints per round and graph the median and fastest forward (ms), then per graph the
 * kernel ms per forward of its last round by operator type.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { specOf } from '../src/core/model/manifest.js';
import { defaultModelDir, profileDenoiserGraph, readManifest, type DenoiserGraphProfile } from '../src/model/OnnxImaginationModel.js';

const argv = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(argv[i + 1]);
  if (!(Number.isInteger(v) && v >= 1)) throw new Error(`--${name}: expected a positive integer, found '${argv[i + 1]}'`);
  argv.splice(i, 2);
  return v;
};
const batch = flag('batch', 8);
const threads = flag('threads', 2);
const runs = flag('runs', 20);
const rounds = flag('rounds', 2);
if (argv.length === 0) throw new Error('expected one or more denoiser .onnx files, found none');
const spec = specOf(readManifest(defaultModelDir()));
const frames = spec.contextFrames + spec.targetFrames;
const latent: [number, number, number] = [spec.latentChannels, spec.latentHeight, spec.latentWidth];
const last = new Map<string, DenoiserGraphProfile>();
for (let r = 1; r <= rounds; r++) {
  for (const file of argv) {
    const dir = mkdtempSync(join(tmpdir(), 'v4s-profile-'));
    try {
      const p = await profileDenoiserGraph(file, { batch, frames, latent, threads, runs, profileDir: dir });
      last.set(file, p);
      process.stdout.write(`round ${r}  ${file}: median ${p.medianMs.toFixed(1)} ms, fastest ${p.minMs.toFixed(1)} ms (batch ${batch}, ${threads} threads, ${runs} runs)\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
for (const [file, p] of last) {
  const total = Object.values(p.kernelMsByOp).reduce((a, b) => a + b, 0);
  process.stdout.write(`\n${file}: ${total.toFixed(1)} ms of kernels per forward (profiled), ${p.kernelsPerRun} kernels\n`);
  for (const [op, ms] of Object.entries(p.kernelMsByOp).sort((a, b) => b[1] - a[1]).slice(0, 12)) {
    process.stdout.write(`  ${op.padEnd(20)} ${ms.toFixed(2).padStart(7)} ms  ${((100 * ms) / total).toFixed(0).padStart(3)} %\n`);
  }
}
