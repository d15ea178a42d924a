/**
 * Shared test helpers for bags: where the real rosbag2 fixtures live (../shared/fixtures/rosbag2
 * beside the repository, never copied into it), and in-memory IReadable/IWritable.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IReadable, IWritable } from '@mcap/core';
import { parseBagMetadata, type Rosbag2Metadata } from '../../src/bag/rosbag2Metadata.js';

/** Repository root (this file runs from dist/test/bag/). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** The real rosbag2 bags, resolved relative to the repository root. */
export const FIXTURES_DIR = resolve(REPO_ROOT, '..', 'shared', 'fixtures', 'rosbag2');

export interface Fixture {
  name: string;
  dir: string;
  mcapPath: string;
  metadata: Rosbag2Metadata;
}

/** The fixtures, or skips the calling test/hook with a message saying where they were looked for. */
export function fixturesOrSkip(ctx: Mocha.Context): { talker: Fixture; cdrTest: Fixture } {
  if (!existsSync(FIXTURES_DIR)) {
    console.log(`      (skipped: rosbag2 fixtures not found at ${FIXTURES_DIR}; they live in ../shared/fixtures/rosbag2 beside the repository)`);
    ctx.skip();
  }
  const load = (name: string): Fixture => {
    const dir = join(FIXTURES_DIR, name);
    const metaPath = join(dir, 'metadata.yaml');
    const metadata = parseBagMetadata(readFileSync(metaPath, 'utf8'), metaPath);
    return { name, dir, mcapPath: join(dir, metadata.relativeFilePaths[0] as string), metadata };
  };
  return { talker: load('talker'), cdrTest: load('cdr_test') };
}

/** IReadable over bytes in memory. */
export class MemoryReadable implements IReadable {
  constructor(readonly bytes: Uint8Array) {}
  async size(): Promise<bigint> {
    return BigInt(this.bytes.byteLength);
  }
  async read(offset: bigint, size: bigint): Promise<Uint8Array> {
    if (offset + size > BigInt(this.bytes.byteLength)) throw new RangeError(`read past end: ${offset}+${size} > ${this.bytes.byteLength}`);
    return this.bytes.slice(Number(offset), Number(offset + size));
  }
}

/** IWritable collecting bytes in memory. */
export class MemoryWritable implements IWritable {
  #parts: Uint8Array[] = [];
  #length = 0;
  async write(buffer: Uint8Array): Promise<void> {
    this.#parts.push(buffer.slice());
    this.#length += buffer.byteLength;
  }
  position(): bigint {
    return BigInt(this.#length);
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.#length);
    let o = 0;
    for (const p of this.#parts) {
      out.set(p, o);
      o += p.byteLength;
    }
    return out;
  }
}

/** Rejects unless `p` rejects with an error whose class is `cls` and whose message matches `re`. */
export async function rejectsWith(p: Promise<unknown> | (() => Promise<unknown>), cls: new (...a: never[]) => Error, re: RegExp): Promise<Error> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    if (!(e instanceof cls)) throw new Error(`expected ${cls.name}, got ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
    if (!re.test(e.message)) throw new Error(`error message ${JSON.stringify(e.message)} does not match ${re}`);
    return e;
  }
  throw new Error(`expected a ${cls.name} matching ${re}, but it resolved`);
}

/** Collects an async iterable. */
export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
