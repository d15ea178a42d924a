/** Minimal typings for gifenc 1.0.3 (CommonJS; used through its default import). */
declare module 'gifenc' {
  interface Encoder {
    writeFrame(index: Uint8Array, width: number, height: number, opts?: { palette?: number[][]; delay?: number; repeat?: number }): void;
    finish(): void;
    bytes(): Uint8Array;
  }
  interface GifencModule {
    GIFEncoder(): Encoder;
    quantize(rgba: Uint8Array, maxColors: number, opts?: Record<string, unknown>): number[][];
    applyPalette(rgba: Uint8Array, palette: number[][], format?: string): Uint8Array;
  }
  const gifenc: GifencModule;
  export default gifenc;
}
