/** Frame layout conversions between rgb8 images (H×W×3) and the model's float tensors ([3, H, W] in [0, 1]). Pure. */

/** Converts [B, 3, H, W] floats in [0, 1] to B rgb8 H×W×3 images. */
export function toRgb8(frames: Float32Array, batch: number, W: number, H: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  const plane = W * H;
  for (let b = 0; b < batch; b++) {
    const img = new Uint8Array(plane * 3);
    const o = b * 3 * plane;
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) {
        const v = (frames[o + c * plane + p] as number) * 255;
        img[p * 3 + c] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
      }
    }
    out.push(img);
  }
  return out;
}

/** rgb8 H×W×3 → [3, H, W] floats in [0, 1], written at `offset` of `out`. */
export function fromRgb8(rgb: Uint8Array, W: number, H: number, out: Float32Array, offset: number): void {
  const plane = W * H;
  for (let p = 0; p < plane; p++) {
    out[offset + p] = (rgb[p * 3] as number) / 255;
    out[offset + plane + p] = (rgb[p * 3 + 1] as number) / 255;
    out[offset + 2 * plane + p] = (rgb[p * 3 + 2] as number) / 255;
  }
}
