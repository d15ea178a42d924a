import { strict as assert } from 'node:assert';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelLoadError } from '../../src/core/errors.js';
import { parseManifest } from '../../src/core/model/manifest.js';
import { imagine } from '../../src/core/sampler/imagine.js';
import { defaultModelDir, OnnxImaginationModel, profileDenoiserGraph, readManifest, sha256File } from '../../src/model/OnnxImaginationModel.js';

interface GoldenTensor {
  shape: number[];
  dtype?: string;
  data: string | number[];
}
type Golden = Record<string, { inputs: Record<string, GoldenTensor>; outputs: Record<string, GoldenTensor> }>;

function f32(b64: string): Float32Array {
  const buf = Buffer.from(b64, 'base64');
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

const dir = defaultModelDir();

describe('model/OnnxImaginationModel (the shipped model)', function () {
  this.timeout(120000);
  let model: OnnxImaginationModel;
  before(async () => {
    model = await OnnxImaginationModel.load(dir, { executionProvider: 'cpu', intraOpThreads: 1 });
  });
  after(async () => model?.dispose());

  it('every file matches its sha256 in the manifest', () => {
    const m = readManifest(dir);
    for (const f of Object.values(m.files)) assert.equal(sha256File(join(dir, f.path)), f.sha256, f.path);
    if (m.golden && m.golden_sha256) assert.equal(sha256File(join(dir, m.golden)), m.golden_sha256);
  });

  it('onnxruntime-node reproduces the PyTorch golden outputs of all three graphs', async () => {
    const golden = JSON.parse(readFileSync(join(dir, 'golden.json'), 'utf8')) as Golden;
    const enc = golden['encoder'];
    const den = golden['denoiser'];
    const dec = golden['decoder'];
    assert.ok(enc && den && dec);
    const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - (b[i] as number))), 0);
    const fr = enc.inputs['frames'] as GoldenTensor;
    const e = await model.encode(f32(fr.data as string), fr.shape[0] as number);
    const l = den.inputs['latents'] as GoldenTensor;
    const o = den.inputs['object'] as GoldenTensor;
    const v = await model.denoise(
      f32(l.data as string),
      f32((den.inputs['t'] as GoldenTensor).data as string),
      f32((den.inputs['index'] as GoldenTensor).data as string),
      BigInt64Array.from((o.data as number[]).map((x) => BigInt(x))),
      l.shape[0] as number,
      l.shape[1] as number,
    );
    const dl = dec.inputs['latents'] as GoldenTensor;
    const d = await model.decode(f32(dl.data as string), dl.shape[0] as number);
    const diffs = [
      maxDiff(e, f32((enc.outputs['latents'] as GoldenTensor).data as string)),
      maxDiff(v, f32((den.outputs['velocity'] as GoldenTensor).data as string)),
      maxDiff(d, f32((dec.outputs['frames'] as GoldenTensor).data as string)),
    ];
    for (const x of diffs) assert.ok(x < 2e-3, `max abs diff ${diffs.join(', ')}`);
  });

  it('loads the grounder the manifest lists and reproduces its PyTorch golden output', async () => {
    const m = readManifest(dir);
    assert.ok(m.files.grounder && m.grounding?.golden, 'the shipped manifest lists a grounder with golden vectors');
    assert.equal(sha256File(join(dir, m.grounding.golden)), m.grounding.golden_sha256);
    assert.ok(model.ground, 'the model exposes ground()');
    assert.deepEqual(model.spec.grounding, { grid: m.grounding.token_grid, threshold: m.grounding.threshold });
    const g = JSON.parse(readFileSync(join(dir, m.grounding.golden), 'utf8')) as Golden[string];
    const l = g.inputs['latents'] as GoldenTensor;
    const o = g.inputs['object'] as GoldenTensor;
    const p = await model.ground(f32(l.data as string), BigInt64Array.from((o.data as number[]).map((x) => BigInt(x))), l.shape[0] as number);
    const want = f32((g.outputs['probability'] as GoldenTensor).data as string);
    assert.equal(p.length, want.length);
    const diff = p.reduce((mx, v, i) => Math.max(mx, Math.abs(v - (want[i] as number))), 0);
    assert.ok(diff < 1e-4, `max abs diff ${diff}`);
  });

  it('a manifest without files.grounder loads a model without ground()', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'v4s-nogrounder-'));
    try {
      const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Record<string, unknown> & { files: Record<string, unknown> };
      delete m.files['grounder'];
      delete m['grounding'];
      for (const f of ['encoder.onnx', 'denoiser.onnx', 'decoder.onnx']) copyFileSync(join(dir, f), join(tmp, f));
      writeFileSync(join(tmp, 'manifest.json'), JSON.stringify(m));
      const bare = await OnnxImaginationModel.load(tmp, { executionProvider: 'cpu', intraOpThreads: 1 });
      assert.equal(bare.ground, undefined);
      assert.equal(bare.spec.grounding, undefined);
      await bare.dispose();
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('runs one tiny end-to-end sample (1 candidate, 2 steps)', async () => {
    const s = model.spec;
    const K = s.contextFrames;
    const frames = new Float32Array(K * 3 * s.width * s.height).fill(0.5);
    const lat = await model.encode(frames, K);
    const r = await imagine(model, {
      contexts: [{ latents: lat, indices: Array.from({ length: K }, (_, i) => i - (K - 1)) }],
      object: 1,
      candidates: 1,
      steps: 2,
      shift: 1,
      guidance: 3,
      seed: 1,
    });
    assert.equal(r.frames.length, s.targetFrames * 3 * s.width * s.height);
    assert.ok(r.frames.every((x) => x >= 0 && x <= 1));
  });
});

describe('model/OnnxImaginationModel load errors', function () {
  this.timeout(60000);
  let tmp: string;
  beforeEach(() => {
    tmp = mkdtempSync(join(tmpdir(), 'v4s-model-'));
    for (const f of ['manifest.json', 'encoder.onnx', 'decoder.onnx', 'denoiser.onnx', 'grounder.onnx']) copyFileSync(join(dir, f), join(tmp, f));
  });
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  it('missing manifest', async () => {
    rmSync(join(tmp, 'manifest.json'));
    await assert.rejects(OnnxImaginationModel.load(tmp), (e: unknown) => e instanceof ModelLoadError && e.code === 'manifest_missing' && e.message.includes(tmp));
  });
  it('manifest that is not JSON', async () => {
    writeFileSync(join(tmp, 'manifest.json'), '{ nope');
    await assert.rejects(OnnxImaginationModel.load(tmp), /manifest.json: not valid JSON/);
  });
  it('missing grounder file the manifest lists', async () => {
    rmSync(join(tmp, 'grounder.onnx'));
    await assert.rejects(OnnxImaginationModel.load(tmp), (e: unknown) => e instanceof ModelLoadError && e.code === 'file_missing' && /grounder graph not found/.test(e.message));
  });
  it('missing graph file', async () => {
    rmSync(join(tmp, 'denoiser.onnx'));
    await assert.rejects(OnnxImaginationModel.load(tmp), (e: unknown) => e instanceof ModelLoadError && e.code === 'file_missing' && /denoiser graph not found/.test(e.message));
  });
  it('corrupt graph: sha256 mismatch names the file and both hashes', async () => {
    const p = join(tmp, 'decoder.onnx');
    const b = readFileSync(p);
    b[b.length - 10] = (b[b.length - 10] as number) ^ 0xff;
    writeFileSync(p, b);
    await assert.rejects(OnnxImaginationModel.load(tmp), (e: unknown) => e instanceof ModelLoadError && e.code === 'sha_mismatch' && /decoder.onnx: sha256 [0-9a-f]{64} does not match the manifest's [0-9a-f]{64}/.test(e.message));
  });
  it('corrupt graph with sha checks off: ONNX Runtime refuses it with the path', async () => {
    writeFileSync(join(tmp, 'encoder.onnx'), Buffer.from('not an onnx model'));
    await assert.rejects(OnnxImaginationModel.load(tmp, { verifySha256: false }), (e: unknown) => e instanceof ModelLoadError && e.code === 'session_create' && e.message.includes('encoder.onnx'));
  });
  it('manifest tensor name not in the graph', async () => {
    const m = JSON.parse(readFileSync(join(tmp, 'manifest.json'), 'utf8'));
    m.files.denoiser.inputs.push({ name: 'camera_pose', type: 'float32', shape: ['batch', 3] });
    writeFileSync(join(tmp, 'manifest.json'), JSON.stringify(m));
    await assert.rejects(OnnxImaginationModel.load(tmp), /input "camera_pose" from the manifest is not in the graph/);
  });
  it('bad execution provider option', async () => {
    await assert.rejects(OnnxImaginationModel.load(tmp, { executionProvider: 'tpu' as never }), /execution_provider must be auto, cpu or cuda, got 'tpu'/);
  });
});

describe('core/model/manifest validation', () => {
  const good = () => JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  const bad = (mut: (m: Record<string, any>) => void, re: RegExp) => {
    const m = good();
    mut(m);
    assert.throws(() => parseManifest(m, 'x/manifest.json'), (e: unknown) => e instanceof ModelLoadError && re.test(e.message));
  };
  it('accepts the shipped manifest', () => assert.equal(parseManifest(good(), 'm').name, 'v4s-small'));
  it('reads the optional sampler.guidance_min_t', () => {
    const m = good();
    m['sampler'].guidance_min_t = 0.5;
    assert.equal(parseManifest(m, 'm').sampler.guidance_min_t, 0.5);
  });
  it('rejects each bad field with the field and the value', () => {
    bad((m) => (m['frame'].width = 0), /x\/manifest.json: frame.width must be a positive integer, got 0/);
    bad((m) => (m['format_version'] = 2), /format_version must be format version 1, got 2/);
    bad((m) => (m['camera'].width = 32), /camera size 32x64 differs from frame size 64x64/);
    bad((m) => (m['camera'].pitch_rad = 3), /camera.pitch_rad must be in/);
    bad((m) => (m['vocabulary'] = ['<null>']), /vocabulary must list the null class/);
    bad((m) => (m['vocabulary'] = ['<null>', 'a', 'a']), /duplicate names/);
    bad((m) => (m['box_color'] = [300, 0, 0]), /box_color must be \[r, g, b\]/);
    bad((m) => (m['sampler'].steps = 1.5), /sampler.steps must be a positive integer, got 1.5/);
    bad((m) => (m['sampler'].guidance_min_t = 1.5), /sampler.guidance_min_t must be a number in \[0, 1\], got 1.5/);
    bad((m) => (m['sampler'].guidance_min_t = '0.5'), /sampler.guidance_min_t must be a number in \[0, 1\], got "0.5"/);
    bad((m) => (m['files'].encoder.sha256 = 'abc'), /files.encoder.sha256 must be 64 lowercase hex digits, got "abc"/);
    bad((m) => (m['files'].encoder.path = '../x.onnx'), /must be a relative path inside the model directory/);
    bad((m) => (m['files'].decoder.outputs = [{ name: 'y', type: 'float32', shape: [1] }]), /files.decoder.outputs lacks the tensor "frames"/);
    bad((m) => (m['files'].decoder.inputs = [{ name: 'latents', type: 'float16', shape: [1] }]), /inputs\[0\].type must be "float32" or "int64"/);
    bad((m) => (m['files'].decoder.inputs = [{ name: 'latents', type: 'float32', shape: [0] }]), /inputs\[0\].shape must be an array/);
    bad((m) => (m['files'].decoder.inputs = []), /files.decoder.inputs must be a non-empty array/);
    bad((m) => (m['files'] = null), /files must be an object, got null/);
    bad((m) => (m['name'] = ''), /name must be a non-empty string/);
    bad((m) => (m['files'].grounder.outputs = [{ name: 'logit', type: 'float32', shape: ['batch', 16] }]), /files.grounder.outputs lacks the tensor "probability"/);
    bad((m) => (m['grounding'].threshold = 1.5), /grounding.threshold must be a probability in \(0, 1\), got 1.5/);
    bad((m) => (m['grounding'].token_grid = 0), /grounding.token_grid must be a positive integer, got 0/);
    bad((m) => delete m['grounding'], /grounding must be an object, got undefined/);
    bad((m) => delete m['files'].grounder, /grounding is given without files.grounder/);
  });
});

describe('model/profileDenoiserGraph', () => {
  it('times the shipped denoiser and sums ONNX Runtime kernel time by operator (MatMul among them)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'v4s-profile-test-'));
    try {
      const p = await profileDenoiserGraph(join(defaultModelDir(), 'denoiser.onnx'), { batch: 1, frames: 2, latent: [8, 8, 8], threads: 1, runs: 2, profileDir: dir });
      assert.ok(p.medianMs > 0 && p.minMs > 0 && p.minMs <= p.medianMs, JSON.stringify(p));
      assert.ok(p.profile && p.kernelsPerRun > 10, `profile ${p.profile}, ${p.kernelsPerRun} kernels`);
      assert.ok((p.kernelMsByOp['MatMul'] ?? 0) > 0, JSON.stringify(p.kernelMsByOp));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
