/**
 * Shared test helpers for bags: where the real rosbag2 fixtures live (test/fixtures/rosbag2, part
 * of the repository, so a bare clone runs every bag test), and in-memory IReadable/IWritable.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IReadable, IWritable } from '@mcap/core';
import { parseBagMetadata, type Rosbag2Metadata } from '../../src/bag/rosbag2Metadata.js';

/** Repository root (this file runs from dist/test/bag/). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** The real rosbag2 bags, inside the repository (test/fixtures/rosbag2). */
export const FIXTURES_DIR = resolve(REPO_ROOT, 'test', 'fixtures', 'rosbag2');

export interface Fixture {
  name: string;
  dir: string;
  mcapPath: string;
  metadata: Rosbag2Metadata;
}

/**
 * The fixtures. They are committed with the repository, so a missing directory is a broken
 * checkout: this throws (the test fails) instead of leaving the bag tests pending.
 */
export function fixtures(): { talker: Fixture; cdrTest: Fixture } {
  if (!existsSync(FIXTURES_DIR)) {
    throw new Error(`rosbag2 fixtures not found at ${FIXTURES_DIR}: they are part of the repository (test/fixtures/rosbag2); restore them with git`);
  }
  const load = (name: string): Fixture => {
    const dir = join(FIXTURES_DIR, name);
    const metaPath = join(dir, 'metadata.yaml');
    const metadata = parseBagMetadata(readFileSync(metaPath, 'utf8'), metaPath);
    return { name, dir, mcapPath: join(dir, metadata.relativeFilePaths[0] as string), metadata };
  };
  return { talker: load('talker'), cdrTest: load('cdr_test') };
}

/**
 * The fixtures, for tests written when they lived outside the repository. The name is kept for
 * those callers; it no longer skips (see `fixtures()`).
 */
export function fixturesOrSkip(_ctx?: Mocha.Context): { talker: Fixture; cdrTest: Fixture } {
  return fixtures();
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
