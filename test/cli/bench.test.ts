import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { architectureOf, denoiserFlops } from '../../src/cli/bench/flops.js';
import { medianStages, stagesOf } from '../../src/cli/bench/stages.js';
import { DEFAULT_PYTHON, runTorchBench } from '../../src/cli/bench/torch.js';
import { growthAfterWarmup, pingPongPose, RSS_TARGET_MB } from '../../src/cli/bench/rss.js';
import { samplerText, TORCH_HINT, type BenchReport } from '../../src/cli/bench/report.js';
import { readManifest, defaultModelDir } from '../../src/model/OnnxImaginationModel.js';
import { isOpenCvAvailable } from '../../src/vision/opencv.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

describe('cli/bench: pieces', () => {
  it('denoiser FLOPs at batch 8 × 14 frames, counted by hand (width 128, 6 blocks)', () => {
    const arch = { dim: 128, depth: 6, heads: 4, patch: 2, latent_ch: 8, adaln: 'token' as const };
    // 224 tokens of width 128; per token: patch 32·128, 6 blocks × (adaLN 128·768 + QKV 128·384 +
    // QKᵀ, AV 2·224·128 + proj 128² + MLP 2·128·512), final adaLN 128·256 + out 128·32; per frame
    // the time MLP 2·128² → 2 FLOPs per multiply-add × 8 samples
    const perToken = 32 * 128 + 6 * (128 * 768 + 128 * 384 + 2 * 224 * 128 + 128 * 128 + 2 * 128 * 512) + 128 * 256 + 128 * 32;
    const expected = 2 * 8 * (224 * perToken + 14 * 2 * 128 * 128);
    assert.equal(expected, 7_729_053_696);
    assert.equal(denoiserFlops(arch, { latentHeight: 8, latentWidth: 8 }, 8, 14), expected);
    assert.equal(denoiserFlops(arch, { latentHeight: 8, latentWidth: 8 }, 2, 14), expected / 4);
    // adaLN once per frame (14 frames instead of 224 tokens): 6 × 128·768 + 128·256 moves from per token to per frame
    const ada = 6 * 128 * 768 + 128 * 256;
    const perFrameAda = 2 * 8 * (224 * (perToken - ada) + 14 * (2 * 128 * 128 + ada));
    assert.equal(perFrameAda, 5_637_144_576);
    assert.equal(denoiserFlops({ ...arch, adaln: 'frame' }, { latentHeight: 8, latentWidth: 8 }, 8, 14), perFrameAda);
  });

  it('denoiser FLOPs of the shipped model (width 160, 7 blocks, adaLN per frame), counted by hand', () => {
    const m = readManifest(defaultModelDir());
    const arch = architectureOf(m);
    assert.ok(typeof arch !== 'string', String(arch));
    assert.deepEqual({ dim: arch.dim, depth: arch.depth, heads: arch.heads, adaln: arch.adaln }, { dim: 160, depth: 7, heads: 4, adaln: 'frame' });
    // per token: patch 32·160 + 7 × (QKV 160·480 + QKᵀ, AV 2·224·160 + proj 160² + MLP 2·160·640) +
    // out 160·32 = 2,662,400; per frame: time MLP 2·160² + adaLN 7·160·960 + 160·320 = 1,177,600
    assert.equal(denoiserFlops(arch, { latentHeight: 8, latentWidth: 8 }, 8, 14), 2 * 8 * (224 * 2_662_400 + 14 * 1_177_600));
    assert.equal(2 * 8 * (224 * 2_662_400 + 14 * 1_177_600), 9_805_824_000);
  });

  it('architectureOf says why a manifest without training.architecture cannot be counted', () => {
    const m = readManifest(defaultModelDir());
    assert.match(String(architectureOf({ ...m, training: undefined })), /has no training\.architecture/);
    assert.match(String(architectureOf({ ...m, training: { architecture: { dim: 128, depth: 0, heads: 4, patch: 2, latent_ch: 8 } } })), /depth .* got 0/);
  });

  it('samplerText names steps, shift, guidance and its interval (none when every step is guided)', () => {
    assert.equal(samplerText({ steps: 8, shift: 3, guidance: 3, guidance_min_t: 0.7 }), '8 steps, shift 3, guidance 3 at t >= 0.7');
    assert.equal(samplerText({ steps: 4, shift: 1, guidance: 1.5, guidance_min_t: 0 }), '4 steps, shift 1, guidance 1.5');
  });

  it('stage timings: ms → s, mean per step; per-stage median over repetitions', () => {
    const t = { sampleMs: 1, encodeMs: 50, denoiseMs: 400, perStepMs: [100, 100, 100, 100], decodeMs: 60, extractMs: 700, evidenceMs: 0, boxMs: 10, voMs: 500, waypointsMs: 190, totalMs: 1300 };
    const s = stagesOf(t);
    assert.deepEqual(s, { total: 1.3, sample: 0.001, encode: 0.05, step: 0.1, denoise: 0.4, decode: 0.06, extract: 0.7, box: 0.01, vo: 0.5, waypoints: 0.19, evidence: 0 });
    const slow = stagesOf({ ...t, totalMs: 9000, voMs: 8000 });
    const fast = stagesOf({ ...t, totalMs: 1000, voMs: 100 });
    const med = medianStages([slow, s, fast]);
    assert.equal(med.total, 1.3);
    assert.equal(med.vo, 0.5);
    assert.throws(() => medianStages([]), /no runs/);
  });

  it('pingPongPose drives the path forward, then back, interpolating', () => {
    const path = [
      { x: 0, y: 0, yaw: 0 },
      { x: 1, y: 0, yaw: Math.PI / 2 },
      { x: 1, y: 1, yaw: Math.PI },
    ];
    assert.deepEqual(pingPongPose(path, 0.2, 0), path[0]);
    const mid = pingPongPose(path, 0.2, 0.1);
    assert.ok(Math.abs(mid.x - 0.5) < 1e-12 && Math.abs(mid.yaw - Math.PI / 4) < 1e-12);
    const end = pingPongPose(path, 0.2, 0.4);
    assert.ok(Math.abs(end.x - 1) < 1e-12 && Math.abs(end.y - 1) < 1e-12);
    const back = pingPongPose(path, 0.2, 0.6); // 0.2 s after the end: back at sample 1
    assert.ok(Math.abs(back.x - 1) < 1e-9 && Math.abs(back.y) < 1e-9, JSON.stringify(back));
    const again = pingPongPose(path, 0.2, 0.8); // a full period: the start again
    assert.ok(Math.abs(again.x) < 1e-9 && Math.abs(again.y) < 1e-9);
    assert.throws(() => pingPongPose([], 0.2, 0), /empty path/);
  });

  it('growth after warm-up: ~0 for a plateau, the increase for a leak', () => {
    const flat: [number, number][] = Array.from({ length: 600 }, (_, i) => [i + 1, i < 100 ? 200 + i : 300 + (i % 3)]);
    assert.ok(Math.abs(growthAfterWarmup(flat, 150, 600).growth) <= 2);
    const leak: [number, number][] = Array.from({ length: 600 }, (_, i) => [i + 1, 300 + i * 0.5]);
    const g = growthAfterWarmup(leak, 100, 600);
    assert.ok(g.growth > 200 && g.growth < 260, `growth ${g.growth}`);
  });

  it('a missing Python is reported as a reason, not a crash', async () => {
    const r = await runTorchBench({ python: '/nonexistent/python3', modelDir: defaultModelDir(), batch: 2, frames: 14, threads: 1, reps: 1, matmulN: 0, matmulReps: 1, timeoutMs: 5000 });
    assert.ok('error' in r);
    assert.match(r.error, /\/nonexistent\/python3 not found/);
  });
});

describe('cli/bench --quick (the whole command)', function () {
  this.timeout(120000);
  let dir = '';
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('prints the table and writes JSON of the agreed shape with finite, positive numbers', () => {
    dir = mkdtempSync(join(tmpdir(), 'v4s-bench-'));
    const json = join(dir, 'bench.json');
    const t0 = Date.now();
    const p = spawnSync(process.execPath, [MAIN, 'bench', '--quick', '--json', json], { encoding: 'utf8', timeout: 110000 });
    assert.equal(p.status, 0, `bench exited ${p.status}: ${p.stderr.slice(-2000)}`);
    assert.ok(Date.now() - t0 < 100000, `--quick took ${Date.now() - t0} ms`);
    for (const s of ['ingest, 640×480', 'plan latency by stage', 'denoiser forward', 'FLOPs', 'memory: the node']) assert.ok(p.stdout.includes(s), `table lacks '${s}':\n${p.stdout}`);
    const r = JSON.parse(readFileSync(json, 'utf8')) as BenchReport;
    const pos = (v: unknown, what: string) => assert.ok(typeof v === 'number' && Number.isFinite(v) && v > 0, `${what} = ${JSON.stringify(v)}`);

    assert.equal(typeof r.machine['cpu'], 'string');
    pos(r.machine['cores'], 'machine.cores');
    assert.match(String(r.machine['node']), /^v\d+\./);
    assert.equal(r.config['quick'], true);
    // the config names the whole sampler the plans ran with: the shipped manifest's
    const sampler = readManifest(defaultModelDir()).sampler;
    assert.deepEqual([r.config['steps'], r.config['shift'], r.config['guidance'], r.config['guidance_min_t']], [sampler.steps, sampler.shift, sampler.guidance_scale, sampler.guidance_min_t ?? 0]);
    assert.ok(p.stdout.includes(`, ${samplerText(r.config)};`), `the table's model line names the sampler:\n${p.stdout}`);

    pos(r.ingest_ms.rgb8_640x480, 'ingest_ms.rgb8_640x480');
    pos(r.ingest_ms.bgr8_640x480, 'ingest_ms.bgr8_640x480');
    if (isOpenCvAvailable()) pos(r.ingest_ms.jpeg_640x480, 'ingest_ms.jpeg_640x480');
    else assert.equal(r.ingest_ms.jpeg_640x480, null);
    pos(r.buffer_sample_ms, 'buffer_sample_ms');

    for (const m of ['m1', 'm4'] as const) {
      const s = r.plan_s[m];
      for (const k of ['total', 'encode', 'step', 'decode', 'box', 'vo', 'waypoints'] as const) pos(s[k], `plan_s.${m}.${k}`);
      const parts = s.sample + s.encode + s.denoise + s.decode + s.box + s.vo + s.waypoints;
      assert.ok(parts <= s.total * 1.001 && parts > 0.9 * s.total, `plan_s.${m}: stages sum to ${parts} s of ${s.total} s`);
      assert.ok(s.step < s.denoise, `plan_s.${m}: a step ${s.step} s is less than all steps ${s.denoise} s`);
    }
    // with extraction workers, the stage parts are summed over threads; the wall time still adds up
    for (const k of ['total', 'extract', 'box', 'vo', 'waypoints'] as const) pos(r.plan_s.m1_pool[k], `plan_s.m1_pool.${k}`);
    const pooled = r.plan_s.m4_pool;
    for (const k of ['total', 'extract', 'box', 'vo', 'waypoints'] as const) pos(pooled[k], `plan_s.m4_pool.${k}`);
    const wall = pooled.sample + pooled.encode + pooled.denoise + pooled.decode + pooled.extract;
    assert.ok(wall <= pooled.total * 1.001 && wall > 0.9 * pooled.total, `plan_s.m4_pool: stages sum to ${wall} s of ${pooled.total} s`);
    assert.ok((r.plan_detail['extraction_threads'] as number) >= 2);

    const o = r.ort_vs_torch;
    pos(o.ort_ms, 'ort_vs_torch.ort_ms');
    assert.equal(o.batch, 2 * 4);
    assert.equal(o.frames, 14);
    const torchHere = existsSync(DEFAULT_PYTHON) && spawnSync(DEFAULT_PYTHON, ['-c', 'import torch, onnx'], { timeout: 60000 }).status === 0;
    if (torchHere) {
      pos(o.torch_ms, 'ort_vs_torch.torch_ms');
      pos(o.ratio, 'ort_vs_torch.ratio');
      assert.ok(o.golden_max_abs_diff !== undefined && o.golden_max_abs_diff !== null && o.golden_max_abs_diff < 1e-3, `torch is not the shipped model: max |Δ| ${o.golden_max_abs_diff}`);
      pos(r.flops.torch_peak_gflops, 'flops.torch_peak_gflops');
      pos(r.flops.denoiser_gflop_counted, 'flops.denoiser_gflop_counted');
      assert.ok(Math.abs((r.flops.denoiser_gflop_counted as number) / (r.flops.denoiser_gflop as number) - 1) < 0.01, 'analytic and counted FLOPs agree within 1 %');
    } else {
      assert.equal(o.torch_ms, null);
      assert.equal(o.ratio, null);
      assert.ok(typeof o.reason === 'string' && o.reason.length > 0);
      assert.equal(r.flops.torch_peak_gflops, null);
      assert.ok(p.stdout.includes(TORCH_HINT), `a machine without torch is told how to get the PyTorch rows:\n${p.stdout}`);
    }
    assert.ok(p.stdout.includes('denoiser (onnxruntime-node) share of that peak'), p.stdout);
    // the peak needs no PyTorch: an ONNX MatMul in onnxruntime-node
    pos(r.flops.peak_gflops, 'flops.peak_gflops');
    assert.match(r.flops.peak_how, /^ORT float32 \d+² MatMul, \d+ threads, fastest of \d+$/);
    pos(r.flops.ort_fraction_of_peak, 'flops.ort_fraction_of_peak');
    pos(r.flops.denoiser_gflop, 'flops.denoiser_gflop');
    pos(r.flops.achieved_gflops, 'flops.achieved_gflops');

    pos(r.rss_mb.start, 'rss_mb.start');
    pos(r.rss_mb.peak, 'rss_mb.peak');
    pos(r.rss_mb.end, 'rss_mb.end');
    assert.ok(r.rss_mb.peak >= r.rss_mb.start && r.rss_mb.peak >= r.rss_mb.end - 1e-9, JSON.stringify(r.rss_mb));
    assert.ok(r.rss_mb.peak <= RSS_TARGET_MB, `peak RSS ${r.rss_mb.peak} MB above the ${RSS_TARGET_MB} MB target`);
    assert.equal(typeof r.memory.grew_after_warmup, 'boolean');
    assert.equal(r.memory.frames, 60 * 30);
    assert.equal(r.memory.ingest.received, 60 * 30);
    assert.ok(r.memory.plans.succeeded >= 1, JSON.stringify(r.memory.plans));
  });
});
