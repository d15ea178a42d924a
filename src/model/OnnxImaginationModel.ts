/**
 * The imagination model on ONNX Runtime (the ONLY importer of onnxruntime-node).
 *
 * Loads `manifest.json` and the three graphs it names, checks each file's sha256 and tensor names
 * against the manifest, picks the execution provider (`auto` = CUDA when it can be created, else
 * CPU, logged), and implements the core's ImaginationModel port.
 */
import { createHash } from 'node:crypto';
import { readFileSync, existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { InferenceError, ModelLoadError } from '../core/errors.js';
import { parseManifest, specOf, type ModelFileSpec, type ModelManifest } from '../core/model/manifest.js';
import type { ImaginationModel, ModelSpec } from '../core/sampler/model.js';
import { matmulFlops, matmulModel, type MatmulGraphOp } from './matmulGraph.js';

export type ExecutionProviderChoice = 'auto' | 'cpu' | 'cuda';

export interface ModelLoadOptions {
  executionProvider?: ExecutionProviderChoice;
  deviceId?: number;
  /** Threads per operator; 0 = ONNX Runtime's default (all cores). */
  intraOpThreads?: number;
  /**
   * Whether idle intra-op threads spin-wait for work (ONNX Runtime's default: true). On a CPU
   * shared with other busy processes, false can be much faster (docs/bench.md).
   */
  allowSpinning?: boolean;
  /** Check each file's sha256 against the manifest (default true). */
  verifySha256?: boolean;
  /** Run one tiny batch through each graph after loading (default false). */
  warmUp?: boolean;
  log?: (level: 'info' | 'warn', message: string) => void;
}

/** The shipped default model directory (models/v4s-small in the package). */
export function defaultModelDir(): string {
  return fileURLToPath(new URL('../../../models/v4s-small', import.meta.url));
}

/** Version of the onnxruntime-node package in use (e.g. "1.30.0"). */
export function onnxRuntimeVersion(): string {
  return ort.env.versions.node ?? ort.env.versions.common;
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Reads and validates `<dir>/manifest.json`. */
export function readManifest(dir: string): ModelManifest {
  const path = join(resolve(dir), 'manifest.json');
  if (!existsSync(path)) throw new ModelLoadError(`model manifest not found: ${path}`, 'manifest_missing');
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ModelLoadError(`${path}: not valid JSON (${(e as Error).message})`, 'bad_manifest');
  }
  return parseManifest(json, path);
}

/** One onnxruntime-node float32 matrix product timed on the CPU (see measureOrtMatmul). */
export interface OrtMatmulTiming {
  n: number;
  threads: number;
  /** Median wall time of one product (ms). */
  ms: number;
  /** The fastest of the timed products (ms). */
  bestMs: number;
  /** 2n³ / bestMs, in GFLOP/s: the peak (on a shared VM the median wanders with the neighbours). */
  gflops: number;
}

/**
 * The machine's float32 matrix-product rate in onnxruntime-node: a one-node MatMul graph
 * (src/model/matmulGraph.ts) on the CPU execution provider with `threads` intra-op threads, n×n
 * by n×n random inputs, two warm-up runs and a check of three entries of the product, then
 * `reps` timed runs, the fastest giving the rate (`op` other than MatMul only for the check's test: it throws InferenceError
 * 'matmul_check'). The same kernels (MLAS) the
 * denoiser's products use, so its share of this rate says how close the model runs to the peak.
 */
export async function measureOrtMatmul(o: { n: number; threads: number; reps: number; op?: MatmulGraphOp }): Promise<OrtMatmulTiming> {
  if (!(Number.isInteger(o.reps) && o.reps >= 1)) throw new RangeError(`measureOrtMatmul: expected reps ≥ 1, found ${o.reps}`);
  const session = await ort.InferenceSession.create(matmulModel(o.n, o.op), { executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: o.threads });
  try {
    const feeds = {
      A: new ort.Tensor('float32', Float32Array.from({ length: o.n * o.n }, () => Math.random() - 0.5), [o.n, o.n]),
      B: new ort.Tensor('float32', Float32Array.from({ length: o.n * o.n }, () => Math.random() - 0.5), [o.n, o.n]),
    };
    for (let i = 0; i < 2; i++) await session.run(feeds);
    // the graph must compute the product: three entries against a plain dot product
    const c = (await session.run(feeds)).C?.data as Float32Array | undefined;
    const a = feeds.A.data as Float32Array;
    const b = feeds.B.data as Float32Array;
    for (const [r, col] of [[0, 0], [o.n - 1, o.n - 1], [o.n >> 1, o.n >> 2]] as const) {
      let dot = 0;
      for (let k = 0; k < o.n; k++) dot += (a[r * o.n + k] as number) * (b[k * o.n + col] as number);
      const got = c?.[r * o.n + col];
      if (got === undefined || !(Math.abs(got - dot) <= 1e-3 * Math.sqrt(o.n))) throw new InferenceError(`matmul graph: expected C[${r},${col}] = ${dot}, found ${got}`, 'matmul_check');
    }
    const ms: number[] = [];
    for (let i = 0; i < o.reps; i++) {
      const t0 = performance.now();
      await session.run(feeds);
      ms.push(performance.now() - t0);
    }
    ms.sort((a, b) => a - b);
    const best = ms[0] as number;
    return { n: o.n, threads: o.threads, ms: ms[Math.floor(ms.length / 2)] as number, bestMs: best, gflops: matmulFlops(o.n) / (best / 1000) / 1e9 };
  } finally {
    await session.release();
  }
}

function cudaAvailable(): boolean {
  return existsSync('/proc/driver/nvidia/version');
}

/** One denoiser graph timed and profiled by ONNX Runtime (see profileDenoiserGraph). */
export interface DenoiserGraphProfile {
  /** Wall ms of one forward: median and fastest of the timed runs (profiling off). */
  medianMs: number;
  minMs: number;
  /** ONNX Runtime's kernel time per forward by operator type (ms), from a second, profiled session. */
  kernelMsByOp: Record<string, number>;
  /** Kernels run per forward. */
  kernelsPerRun: number;
  /** The profile file read (undefined: none or several in profileDir; kernelMsByOp is then empty). */
  profile: string | undefined;
}

/**
 * Times one denoiser graph FILE at batch × frames on the CPU execution provider (`threads`
 * intra-op threads; 3 warm-up runs, then `runs` timed ones) with latents of latent = [C, H, W],
 * t = 0.5, index = the frame number, object 1; then runs it `runs` times again in a session with
 * ONNX Runtime's profiler on and sums its kernel events by operator type. `profileDir`: an empty
 * directory for the profile file.
 */
export async function profileDenoiserGraph(file: string, o: { batch: number; frames: number; latent: [number, number, number]; threads: number; runs: number; profileDir: string }): Promise<DenoiserGraphProfile> {
  const L = o.latent[0] * o.latent[1] * o.latent[2];
  const feeds = {
    latents: new ort.Tensor('float32', Float32Array.from({ length: o.batch * o.frames * L }, () => Math.random() - 0.5), [o.batch, o.frames, ...o.latent]),
    t: new ort.Tensor('float32', new Float32Array(o.batch * o.frames).fill(0.5), [o.batch, o.frames]),
    index: new ort.Tensor('float32', Float32Array.from({ length: o.batch * o.frames }, (_, i) => i % o.frames), [o.batch, o.frames]),
    object: new ort.Tensor('int64', new BigInt64Array(o.batch).fill(1n), [o.batch]),
  };
  const options = { executionProviders: ['cpu'], graphOptimizationLevel: 'all' as const, intraOpNumThreads: o.threads };
  const timed = await ort.InferenceSession.create(file, options);
  const ms: number[] = [];
  try {
    for (let i = 0; i < 3; i++) await timed.run(feeds);
    for (let i = 0; i < o.runs; i++) {
      const t0 = performance.now();
      await timed.run(feeds);
      ms.push(performance.now() - t0);
    }
  } finally {
    await timed.release();
  }
  ms.sort((a, b) => a - b);
  const profiled = await ort.InferenceSession.create(file, { ...options, enableProfiling: true, profileFilePrefix: join(o.profileDir, 'denoiser') });
  try {
    for (let i = 0; i < o.runs; i++) await profiled.run(feeds);
  } finally {
    profiled.endProfiling();
    await profiled.release();
  }
  // ONNX Runtime names the file PROFILEDIR/denoiser_<date and time>.json
  const written = readdirSync(o.profileDir).filter((f) => f.startsWith('denoiser_') && f.endsWith('.json'));
  const byOp: Record<string, number> = {};
  let kernels = 0;
  const profile = written.length === 1 ? join(o.profileDir, written[0] as string) : undefined;
  if (profile) {
    const events = JSON.parse(readFileSync(profile, 'utf8')) as { cat: string; name: string; dur: number; args?: { op_name?: string } }[];
    for (const e of events) {
      if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
      const op = e.args?.op_name ?? '?';
      byOp[op] = (byOp[op] ?? 0) + e.dur / 1000 / o.runs;
      kernels++;
    }
  }
  return { medianMs: ms[Math.floor(ms.length / 2)] as number, minMs: ms[0] as number, kernelMsByOp: byOp, kernelsPerRun: kernels / o.runs, profile };
}

export class OnnxImaginationModel implements ImaginationModel {
  readonly spec: ModelSpec;

  private constructor(
    readonly manifest: ModelManifest,
    readonly dir: string,
    readonly executionProvider: 'cpu' | 'cuda',
    private readonly encoder: ort.InferenceSession,
    private readonly denoiser: ort.InferenceSession,
    private readonly decoder: ort.InferenceSession,
    private readonly grounder: ort.InferenceSession | undefined,
  ) {
    this.spec = specOf(manifest);
    // the port's optional call exists only when the manifest lists a grounder
    if (!grounder) this.ground = undefined;
  }

  /** Loads a model directory. Throws ModelLoadError naming the file and the mismatch. */
  static async load(dir: string = defaultModelDir(), opts: ModelLoadOptions = {}): Promise<OnnxImaginationModel> {
    const log = opts.log ?? (() => undefined);
    const manifest = readManifest(dir);
    const choice = opts.executionProvider ?? 'auto';
    if (!['auto', 'cpu', 'cuda'].includes(choice)) throw new ModelLoadError(`execution_provider must be auto, cpu or cuda, got '${choice}'`, 'bad_option');
    const files = manifest.files;
    const keys = files.grounder ? (['encoder', 'denoiser', 'decoder', 'grounder'] as const) : (['encoder', 'denoiser', 'decoder'] as const);
    for (const key of keys) {
      const f = files[key] as ModelFileSpec;
      const p = join(dir, f.path);
      if (!existsSync(p)) throw new ModelLoadError(`${key} graph not found: ${p} (named in ${join(dir, 'manifest.json')})`, 'file_missing');
      if (opts.verifySha256 !== false) {
        const got = sha256File(p);
        if (got !== f.sha256) throw new ModelLoadError(`${p}: sha256 ${got} does not match the manifest's ${f.sha256}`, 'sha_mismatch');
      }
    }
    let ep: 'cpu' | 'cuda' = choice === 'cuda' ? 'cuda' : 'cpu';
    if (choice === 'auto') ep = cudaAvailable() ? 'cuda' : 'cpu';
    const make = async (f: ModelFileSpec, provider: 'cpu' | 'cuda') => {
      const so: ort.InferenceSession.SessionOptions = {
        executionProviders: provider === 'cuda' ? [{ name: 'cuda', deviceId: opts.deviceId ?? 0 } as unknown as ort.InferenceSession.ExecutionProviderConfig, 'cpu'] : ['cpu'],
        graphOptimizationLevel: 'all',
      };
      if (opts.intraOpThreads && opts.intraOpThreads > 0) so.intraOpNumThreads = opts.intraOpThreads;
      if (opts.allowSpinning !== undefined) so.extra = { session: { intra_op: { allow_spinning: opts.allowSpinning ? '1' : '0' } } };
      try {
        return await ort.InferenceSession.create(join(dir, f.path), so);
      } catch (e) {
        throw new ModelLoadError(`${join(dir, f.path)}: ONNX Runtime could not load it on ${provider} (${(e as Error).message})`, 'session_create');
      }
    };
    let sessions: ort.InferenceSession[];
    const makeAll = (provider: 'cpu' | 'cuda') => Promise.all(keys.map((k) => make(files[k] as ModelFileSpec, provider)));
    try {
      sessions = await makeAll(ep);
    } catch (e) {
      if (ep === 'cuda' && choice === 'auto') {
        log('warn', `CUDA execution provider unavailable (${(e as Error).message}); falling back to CPU`);
        ep = 'cpu';
        sessions = await makeAll(ep);
      } else throw e;
    }
    const [enc, den, dec, grd] = sessions as [ort.InferenceSession, ort.InferenceSession, ort.InferenceSession, ort.InferenceSession | undefined];
    for (const [i, key] of keys.entries()) {
      const f = files[key] as ModelFileSpec;
      const s = sessions[i] as ort.InferenceSession;
      for (const t of f.inputs) if (!s.inputNames.includes(t.name)) throw new ModelLoadError(`${join(dir, f.path)}: input "${t.name}" from the manifest is not in the graph (graph inputs: ${s.inputNames.join(', ')})`, 'tensor_mismatch');
      for (const t of f.outputs) if (!s.outputNames.includes(t.name)) throw new ModelLoadError(`${join(dir, f.path)}: output "${t.name}" from the manifest is not in the graph (graph outputs: ${s.outputNames.join(', ')})`, 'tensor_mismatch');
    }
    log('info', `model ${manifest.name} loaded from ${dir} on ${ep.toUpperCase()} execution provider${grd ? ', with its grounder' : ', without a grounder'}`);
    const model = new OnnxImaginationModel(manifest, dir, ep, enc, den, dec, grd);
    if (opts.warmUp) await model.warmUp();
    return model;
  }

  async warmUp(): Promise<void> {
    const s = this.spec;
    const L = s.latentChannels * s.latentHeight * s.latentWidth;
    const F = s.contextFrames + s.targetFrames;
    await this.encode(new Float32Array(3 * s.width * s.height), 1);
    await this.denoise(new Float32Array(F * L), new Float32Array(F), new Float32Array(F), new BigInt64Array([1n]), 1, F);
    await this.decode(new Float32Array(L), 1);
  }

  private async run(session: ort.InferenceSession, what: string, feeds: Record<string, ort.Tensor>, output: string): Promise<Float32Array> {
    let out: ort.InferenceSession.OnnxValueMapType;
    try {
      out = await session.run(feeds);
    } catch (e) {
      throw new InferenceError(`${what} failed in ONNX Runtime: ${(e as Error).message}`, 'session_run');
    }
    const t = out[output];
    if (!t || !(t.data instanceof Float32Array)) throw new InferenceError(`${what} produced no float32 output "${output}"`, 'bad_output');
    return t.data;
  }

  async encode(frames: Float32Array, batch: number): Promise<Float32Array> {
    const s = this.spec;
    return this.run(this.encoder, 'encoder', { frames: new ort.Tensor('float32', frames, [batch, 3, s.height, s.width]) }, 'latents');
  }

  async denoise(latents: Float32Array, t: Float32Array, index: Float32Array, object: BigInt64Array, batch: number, frames: number): Promise<Float32Array> {
    const s = this.spec;
    return this.run(
      this.denoiser,
      'denoiser',
      {
        latents: new ort.Tensor('float32', latents, [batch, frames, s.latentChannels, s.latentHeight, s.latentWidth]),
        t: new ort.Tensor('float32', t, [batch, frames]),
        index: new ort.Tensor('float32', index, [batch, frames]),
        object: new ort.Tensor('int64', object, [batch]),
      },
      'velocity',
    );
  }

  async decode(latents: Float32Array, batch: number): Promise<Float32Array> {
    const s = this.spec;
    return this.run(this.decoder, 'decoder', { latents: new ort.Tensor('float32', latents, [batch, s.latentChannels, s.latentHeight, s.latentWidth]) }, 'frames');
  }

  /** See ImaginationModel.ground; undefined on a model without a grounder. */
  ground?: (latents: Float32Array, object: BigInt64Array, batch: number) => Promise<Float32Array> = async (latents, object, batch) => {
    const s = this.spec;
    if (!this.grounder) throw new InferenceError(`model ${this.manifest.name} has no grounder`, 'no_grounder');
    return this.run(
      this.grounder,
      'grounder',
      { latents: new ort.Tensor('float32', latents, [batch, s.latentChannels, s.latentHeight, s.latentWidth]), object: new ort.Tensor('int64', object, [batch]) },
      'probability',
    );
  };

  async dispose(): Promise<void> {
    await Promise.all([this.encoder.release(), this.denoiser.release(), this.decoder.release(), ...(this.grounder ? [this.grounder.release()] : [])]);
  }
}
