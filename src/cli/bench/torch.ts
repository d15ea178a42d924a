/** The PyTorch side of `bench`: models/training/bench_torch.py in a child process. */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const DEFAULT_PYTHON = '/usr/bin/python3';

const MB = 1024 * 1024;

/** The repository's models/training/bench_torch.py (from dist/src/cli/bench/). */
export function torchScriptPath(): string {
  return fileURLToPath(new URL('../../../../models/training/bench_torch.py', import.meta.url));
}

/** What models/training/bench_torch.py prints. */
export interface TorchBench {
  torch_version: string;
  python: string;
  threads: number;
  batch: number;
  frames: number;
  reps: number;
  denoiser_ms: number;
  golden_max_abs_diff: number | null;
  initializers_loaded: number;
  flops_counted: number;
  /** The same forward with torch.set_num_threads(1) (with alsoOneThread). */
  denoiser_ms_1_thread?: number;
  matmul?: { n: number; ms: number; gflops: number };
}

export interface TorchBenchOptions {
  python?: string;
  script?: string;
  modelDir: string;
  batch: number;
  frames: number;
  threads: number;
  reps: number;
  matmulN: number;
  matmulReps: number;
  /** Also time the forward on one thread. */
  alsoOneThread?: boolean;
  timeoutMs: number;
}

/**
 * Runs bench_torch.py in a child process. Never throws: a missing interpreter, a missing torch or
 * a failed run come back as `{ error }` quoting the cause. The child gets OMP_WAIT_POLICY=PASSIVE
 * (GNU OpenMP's spin-waiting made the same forward 7–14× slower on a shared 2-core machine) and
 * OMP/OpenBLAS thread counts equal to `threads`.
 */
export function runTorchBench(o: TorchBenchOptions): Promise<TorchBench | { error: string }> {
  const python = o.python ?? DEFAULT_PYTHON;
  const script = o.script ?? torchScriptPath();
  if (!existsSync(python)) return Promise.resolve({ error: `${python} not found (PyTorch is measured with Debian's python3-torch)` });
  if (!existsSync(script)) return Promise.resolve({ error: `${script} not found` });
  const args = [script, '--model', o.modelDir, '--batch', `${o.batch}`, '--frames', `${o.frames}`, '--threads', `${o.threads}`, '--reps', `${o.reps}`, '--matmul', `${o.matmulN}`, '--matmul-reps', `${o.matmulReps}`, ...(o.alsoOneThread ? ['--also-1-thread'] : [])];
  const env = { ...process.env, OMP_WAIT_POLICY: 'PASSIVE', OMP_NUM_THREADS: `${o.threads}`, OPENBLAS_NUM_THREADS: `${o.threads}` };
  return new Promise((resolve) => {
    execFile(python, args, { env, timeout: o.timeoutMs, maxBuffer: 16 * MB }, (err, stdout, stderr) => {
      const last = stdout.trim().split('\n').pop() ?? '';
      let parsed: unknown;
      try {
        parsed = last ? JSON.parse(last) : undefined;
      } catch {
        parsed = undefined;
      }
      if (parsed && typeof parsed === 'object' && 'error' in parsed) return resolve({ error: String((parsed as { error: unknown }).error) });
      if (err) {
        const why = (err as NodeJS.ErrnoException & { killed?: boolean }).killed ? `timed out after ${o.timeoutMs} ms` : err.message;
        return resolve({ error: `${python} ${script} failed: ${why}${stderr ? ` (${stderr.trim().split('\n').slice(-3).join(' | ')})` : ''}` });
      }
      if (!parsed || typeof (parsed as TorchBench).denoiser_ms !== 'number') return resolve({ error: `${script} printed no result JSON (last line: '${last.slice(0, 200)}')` });
      resolve(parsed as TorchBench);
    });
  });
}
