/**
 * The shipped model in onnxruntime-node: max |ORT − PyTorch| on the golden vectors of each graph,
 * and the latency of one denoiser forward at batch 2·M (M candidates × the CFG pair) and of the
 * encoder/decoder, on the CPU execution provider.
 * Usage: node dist/scripts/benchModel.js [--model DIR] [--threads N] [--json]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultModelDir, OnnxImaginationModel } from '../src/model/OnnxImaginationModel.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const dir = arg('model') ?? defaultModelDir();
const threads = Number(arg('threads') ?? 0);
const model = await OnnxImaginationModel.load(dir, { executionProvider: 'cpu', intraOpThreads: threads });
type G = Record<string, { inputs: Record<string, { shape: number[]; data: string | number[] }>; outputs: Record<string, { data: string }> }>;
const golden = JSON.parse(readFileSync(join(dir, 'golden.json'), 'utf8')) as G;
const f32 = (b: string) => {
  const buf = Buffer.from(b, 'base64');
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
};
const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - (b[i] as number))), 0);
const g = (k: string) => golden[k] as G[string];
const e = g('encoder');
const d = g('decoder');
const n = g('denoiser');
const diffs = {
  encoder: maxDiff(await model.encode(f32(e.inputs['frames']?.data as string), e.inputs['frames']?.shape[0] as number), f32(e.outputs['latents']?.data as string)),
  decoder: maxDiff(await model.decode(f32(d.inputs['latents']?.data as string), d.inputs['latents']?.shape[0] as number), f32(d.outputs['frames']?.data as string)),
  denoiser: maxDiff(
    await model.denoise(
      f32(n.inputs['latents']?.data as string),
      f32(n.inputs['t']?.data as string),
      f32(n.inputs['index']?.data as string),
      BigInt64Array.from((n.inputs['object']?.data as number[]).map((x) => BigInt(x))),
      n.inputs['latents']?.shape[0] as number,
      n.inputs['latents']?.shape[1] as number,
    ),
    f32(n.outputs['velocity']?.data as string),
  ),
};
const s = model.spec;
const F = s.contextFrames + s.targetFrames;
const L = s.latentChannels * s.latentHeight * s.latentWidth;
async function time(fn: () => Promise<unknown>, reps: number): Promise<number> {
  await fn();
  const t = performance.now();
  for (let i = 0; i < reps; i++) await fn();
  return (performance.now() - t) / reps;
}
const lat = (b: number) => new Float32Array(b * F * L).map(() => Math.random() - 0.5);
const den = async (b: number) => {
  const x = lat(b);
  return time(() => model.denoise(x, new Float32Array(b * F).fill(0.5), new Float32Array(b * F).map((_, i) => (i % F) - s.contextFrames + 1), new BigInt64Array(b).fill(1n), b, F), 10);
};
const res = {
  max_abs_diff: diffs,
  denoiser_ms: { batch2_m1: await den(2), batch8_m4: await den(8) },
  encoder_ms_per_frame: (await time(() => model.encode(new Float32Array(8 * 3 * s.width * s.height).fill(0.5), 8), 10)) / 8,
  decoder_ms_24_frames: await time(() => model.decode(new Float32Array(24 * L), 24), 5),
  threads: threads || 'ort default',
};
if (process.argv.includes('--json')) process.stdout.write(JSON.stringify(res) + '\n');
else {
  process.stdout.write(`max |ORT − PyTorch|: encoder ${diffs.encoder.toExponential(2)}, decoder ${diffs.decoder.toExponential(2)}, denoiser ${diffs.denoiser.toExponential(2)}\n`);
  process.stdout.write(`denoiser forward: batch 2 (M=1) ${res.denoiser_ms.batch2_m1.toFixed(1)} ms, batch 8 (M=4) ${res.denoiser_ms.batch8_m4.toFixed(1)} ms\n`);
  process.stdout.write(`encoder ${res.encoder_ms_per_frame.toFixed(2)} ms/frame, decoder ${res.decoder_ms_24_frames.toFixed(1)} ms for 24 frames (threads: ${res.threads})\n`);
}
await model.dispose();
