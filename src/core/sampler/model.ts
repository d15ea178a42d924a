/**
 * The imagination model as the pure core sees it: a port with three batched calls. The ONNX
 * implementation lives in src/model/; tests use closed-form doubles.
 *
 * Tensor layouts (float32, row-major):
 * - frames: [B, 3, H, W] in [0, 1];
 * - latents: [B, C, h, w] per frame; clips: [B, F, C, h, w] with F = K context + N target;
 * - t, index: [B, F]; object: [B] (int64 vocabulary index, 0 = null).
 */
export interface ModelSpec {
  /** Model frame size (pixels). */
  width: number;
  height: number;
  /** Latent channels and size per frame. */
  latentChannels: number;
  latentHeight: number;
  latentWidth: number;
  /** Context frames K and target frames N the model was trained with. */
  contextFrames: number;
  targetFrames: number;
  /** Vocabulary: index 0 is the null class. */
  vocabulary: readonly string[];
  /** With a grounder: its token grid (grid×grid cells over the frame, row-major y, x) and the probability a token must reach. */
  grounding?: { grid: number; threshold: number };
}

export interface ImaginationModel {
  readonly spec: ModelSpec;
  /** frames [B, 3, H, W] → latents [B, C, h, w]. */
  encode(frames: Float32Array, batch: number): Promise<Float32Array>;
  /** latents [B, F, C, h, w], t [B, F], index [B, F], object [B] → velocity [B, F, C, h, w]. */
  denoise(latents: Float32Array, t: Float32Array, index: Float32Array, object: BigInt64Array, batch: number, frames: number): Promise<Float32Array>;
  /** latents [B, C, h, w] → frames [B, 3, H, W] in [0, 1]. */
  decode(latents: Float32Array, batch: number): Promise<Float32Array>;
  /**
   * Only with spec.grounding: one keyframe per batch item, latents [B, C, h, w] and object [B]
   * (vocabulary index) → probability [B, grid·grid] that each token shows the named object.
   */
  ground?(latents: Float32Array, object: BigInt64Array, batch: number): Promise<Float32Array>;
}

export function latentSize(spec: ModelSpec): number {
  return spec.latentChannels * spec.latentHeight * spec.latentWidth;
}

export function frameSize(spec: ModelSpec): number {
  return 3 * spec.width * spec.height;
}
