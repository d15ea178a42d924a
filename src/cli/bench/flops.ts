/** The denoiser's FLOPs per forward, from the manifest's recorded architecture (analytic). */
import { type ModelManifest } from '../../core/model/manifest.js';
import type { ModelSpec } from '../../core/sampler/model.js';

/** The denoiser's architecture as the manifest records it (`training.architecture`). */
export interface DenoiserArchitecture {
  dim: number;
  depth: number;
  heads: number;
  patch: number;
  latent_ch: number;
  /** Where adaLN runs: once per token (older exports) or once per frame, broadcast to its tokens. */
  adaln: 'token' | 'frame';
}

/** `training.architecture` of a manifest, or a reason why it is unusable. */
export function architectureOf(m: ModelManifest): DenoiserArchitecture | string {
  const a = (m.training?.['architecture'] ?? undefined) as Record<string, unknown> | undefined;
  if (!a || typeof a !== 'object') return `manifest of ${m.name} has no training.architecture`;
  const out: Record<string, number> = {};
  for (const k of ['dim', 'depth', 'heads', 'patch', 'latent_ch'] as const) {
    const v = a[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) return `training.architecture.${k} of ${m.name} must be a positive integer, got ${JSON.stringify(v)}`;
    out[k] = v;
  }
  const adaln = a['adaln'] ?? 'token';
  if (adaln !== 'token' && adaln !== 'frame') return `training.architecture.adaln of ${m.name} must be 'token' or 'frame', got ${JSON.stringify(adaln)}`;
  return { ...(out as unknown as Omit<DenoiserArchitecture, 'adaln'>), adaln };
}

/**
 * FLOPs (2 × multiply-adds) of one denoiser forward at `batch` × `frames`, counted analytically
 * for models/training/v4s_model.py's Denoiser: T = frames · (latentH/patch)·(latentW/patch) tokens
 * of width D; per token the patch embedding (C·p²·D), per block QKV (D·3D), QKᵀ and AV (2·T·D),
 * projection (D²), MLP (2·D·4D), then the output (D·C·p²); per frame the time MLP (2·D²). adaLN
 * (D·6D per block, D·2D before the output) counts per token or per frame, as the exported graph
 * computes it (`architecture.adaln`). Linear layers and matmuls only: element-wise ops, softmax,
 * norms and RoPE are not counted.
 */
export function denoiserFlops(arch: DenoiserArchitecture, spec: Pick<ModelSpec, 'latentHeight' | 'latentWidth'>, batch: number, frames: number): number {
  const { dim: D, depth, patch: p, latent_ch: C } = arch;
  const tokensPerFrame = Math.floor(spec.latentHeight / p) * Math.floor(spec.latentWidth / p);
  const T = frames * tokensPerFrame;
  const pdim = C * p * p;
  // adaLN: depth × D·6D in the blocks + D·2D before the output, per token or per frame
  const adaln = depth * D * 6 * D + D * 2 * D;
  const perBlockPerToken = D * 3 * D + 2 * T * D + D * D + 2 * D * 4 * D;
  const perToken = pdim * D + depth * perBlockPerToken + D * pdim + (arch.adaln === 'token' ? adaln : 0);
  const perFrame = 2 * D * D + (arch.adaln === 'frame' ? adaln : 0);
  const macs = T * perToken + frames * perFrame;
  return 2 * batch * macs;
}
