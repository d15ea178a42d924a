/**
 * Chunk compression codecs for MCAP bags.
 *
 * Reading: @mcap/support's `loadDecompressHandlers()` (WebAssembly zstd, lz4 and bz2; rosbag2
 * writes zstd chunks when asked to compress). Writing: zstd from @foxglove/wasm-zstd (the same
 * WebAssembly build @mcap/support decompresses with). Both load once per process.
 */
import type { DecompressHandlers } from '@mcap/core';
import { loadDecompressHandlers } from '@mcap/support';

/** Compresses one chunk's records; returns the compressed bytes. */
export type ChunkCompressor = (data: Uint8Array) => Uint8Array;

export interface BagCodecs {
  /** compression name (as written in Chunk records) → decompressor. */
  decompressHandlers: DecompressHandlers;
  /** zstd compressor at a given level (1 fastest … 19 smallest). */
  zstdCompress(data: Uint8Array, level: number): Uint8Array;
}

interface ZstdModule {
  isLoaded: Promise<boolean>;
  compress(buffer: Uint8Array, compressionLevel?: number): Uint8Array;
}

function unwrapDefault<T>(mod: unknown): T {
  if (mod !== null && typeof mod === 'object' && 'default' in mod && (mod as { default: unknown }).default != null) {
    return (mod as { default: T }).default;
  }
  return mod as T;
}

let codecsPromise: Promise<BagCodecs> | undefined;

/** Loads the WebAssembly codecs (cached: later calls return the same object). */
export function loadBagCodecs(): Promise<BagCodecs> {
  codecsPromise ??= (async () => {
    const [decompressHandlers, zstd] = await Promise.all([
      loadDecompressHandlers(),
      import('@foxglove/wasm-zstd').then(async (mod) => {
        const z = unwrapDefault<ZstdModule>(mod);
        await z.isLoaded;
        return z;
      }),
    ]);
    return {
      decompressHandlers,
      zstdCompress: (data, level) => {
        const out = zstd.compress(data, level);
        return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
      },
    };
  })();
  return codecsPromise;
}

/** Names of the chunk compressions a reader with `handlers` understands ('' = none). */
export function supportedCompressions(handlers: DecompressHandlers): string[] {
  return ['', ...Object.keys(handlers)];
}
