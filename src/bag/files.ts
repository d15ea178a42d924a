/**
 * The file-system side of bags (the reader and writer themselves do no I/O):
 * - `openBag(path)`: a `.mcap` file, or a rosbag2 bag directory (its metadata.yaml names the
 *   file; without one, the single `*.mcap` inside);
 * - `createBag(path)`: `path/<name>_0.mcap` + `path/metadata.yaml` like `ros2 bag record -o path`,
 *   or, when `path` ends in `.mcap`, that file with `metadata.yaml` beside it.
 */
import { constants as fsConstants } from 'node:fs';
import { mkdir, open, readdir, readFile, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { IReadable, IWritable } from '@mcap/core';
import { BagFormatError } from '../core/errors.js';
import { BagReader, type BagReaderOptions } from './BagReader.js';
import { BagWriter, type BagWriterOptions } from './BagWriter.js';
import { metadataYaml, parseBagMetadata, type Rosbag2Metadata } from './rosbag2Metadata.js';

export const METADATA_FILE = 'metadata.yaml';

/** Random-access reads from a file (positions and sizes in bytes, as bigint). */
export class FileReadable implements IReadable {
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    private readonly bytes: bigint,
  ) {}

  static async open(path: string): Promise<FileReadable> {
    const handle = await open(path, 'r');
    const s = await handle.stat();
    return new FileReadable(path, handle, BigInt(s.size));
  }

  async size(): Promise<bigint> {
    return this.bytes;
  }

  async read(offset: bigint, size: bigint): Promise<Uint8Array> {
    if (offset < 0n || size < 0n || offset + size > this.bytes) {
      throw new BagFormatError(`Read of ${size} bytes at offset ${offset} is outside '${this.path}' (${this.bytes} bytes)`, 'bag_truncated');
    }
    const out = new Uint8Array(Number(size));
    let done = 0;
    while (done < out.byteLength) {
      const { bytesRead } = await this.handle.read(out, done, out.byteLength - done, Number(offset) + done);
      if (bytesRead === 0) {
        throw new BagFormatError(`'${this.path}' ended at offset ${Number(offset) + done} while reading (it shrank while open?)`, 'bag_truncated');
      }
      done += bytesRead;
    }
    return out;
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

/** Sequential writes to a new file. */
export class FileWritable implements IWritable {
  #position = 0n;
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  /** Creates the file; fails if it exists unless `overwrite`. */
  static async create(path: string, overwrite: boolean): Promise<FileWritable> {
    const flags = overwrite ? 'w' : fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL;
    try {
      return new FileWritable(path, await open(path, flags));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new BagFormatError(`'${path}' already exists; refusing to overwrite it (pass overwrite to replace it)`, 'bag_exists');
      }
      throw e;
    }
  }

  async write(buffer: Uint8Array): Promise<void> {
    let done = 0;
    while (done < buffer.byteLength) {
      const { bytesWritten } = await this.handle.write(buffer, done, buffer.byteLength - done);
      done += bytesWritten;
    }
    this.#position += BigInt(buffer.byteLength);
  }

  position(): bigint {
    return this.#position;
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

export interface OpenedBag {
  reader: BagReader;
  /** The .mcap file that was opened. */
  mcapPath: string;
  /** metadata.yaml beside it, parsed, when there is one. */
  metadata: Rosbag2Metadata | undefined;
  close(): Promise<void>;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new BagFormatError(`No bag at '${path}': no such file or directory`, 'bag_not_found');
    throw e;
  }
}

async function readMetadataIfAny(path: string): Promise<Rosbag2Metadata | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  return parseBagMetadata(text, path);
}

/** Finds the .mcap file of a bag path (file or rosbag2 directory). */
export async function resolveBagFile(path: string): Promise<{ mcapPath: string; metadata: Rosbag2Metadata | undefined }> {
  if (!(await isDirectory(path))) {
    // A metadata.yaml beside the file counts only if it names this file.
    const beside = await readMetadataIfAny(join(dirname(path), METADATA_FILE)).catch(() => undefined);
    return { mcapPath: path, metadata: beside?.relativeFilePaths.includes(basename(path)) ? beside : undefined };
  }
  const metadata = await readMetadataIfAny(join(path, METADATA_FILE));
  if (metadata) {
    if (metadata.storageIdentifier !== 'mcap') {
      throw new BagFormatError(
        `Bag '${path}' uses storage '${metadata.storageIdentifier}' (from ${METADATA_FILE}); only 'mcap' is supported`,
        'bag_storage',
      );
    }
    if (metadata.relativeFilePaths.length !== 1) {
      throw new BagFormatError(
        `Bag '${path}' is split into ${metadata.relativeFilePaths.length} files (${metadata.relativeFilePaths.join(', ') || 'none'}); ` +
          `open one .mcap file at a time`,
        'bag_split',
      );
    }
    return { mcapPath: join(path, metadata.relativeFilePaths[0] as string), metadata };
  }
  const mcaps = (await readdir(path)).filter((f) => f.endsWith('.mcap')).sort();
  if (mcaps.length !== 1) {
    throw new BagFormatError(
      `Bag directory '${path}' has no ${METADATA_FILE} and ${mcaps.length} .mcap files (${mcaps.join(', ') || 'none'}); name the file to open`,
      'bag_not_found',
    );
  }
  return { mcapPath: join(path, mcaps[0] as string), metadata: undefined };
}

/** Opens a bag for reading. Close it when done. */
export async function openBag(path: string, options: BagReaderOptions = {}): Promise<OpenedBag> {
  const { mcapPath, metadata } = await resolveBagFile(path);
  const readable = await FileReadable.open(mcapPath);
  try {
    const reader = await BagReader.open(readable, options);
    return { reader, mcapPath, metadata, close: () => readable.close() };
  } catch (e) {
    await readable.close();
    if (e instanceof BagFormatError) throw new BagFormatError(`${mcapPath}: ${e.message}`, e.code);
    throw e;
  }
}

export interface CreateBagOptions extends Omit<BagWriterOptions, 'writable' | 'relativeFilePath'> {
  /** Replace existing files instead of failing. */
  overwrite?: boolean;
}

export interface BagFileWriter {
  writer: BagWriter;
  mcapPath: string;
  metadataPath: string;
  /** Closes the bag and writes metadata.yaml; resolves to the metadata written. */
  close(): Promise<Rosbag2Metadata>;
}

/** Creates a bag for writing (see the module comment for the layout). */
export async function createBag(path: string, options: CreateBagOptions = {}): Promise<BagFileWriter> {
  const overwrite = options.overwrite ?? false;
  let dir: string;
  let mcapPath: string;
  if (path.endsWith('.mcap')) {
    dir = dirname(path);
    mcapPath = path;
  } else {
    dir = path;
    mcapPath = join(path, `${basename(path)}_0.mcap`);
  }
  await mkdir(dir, { recursive: true });
  const metadataPath = join(dir, METADATA_FILE);
  if (!overwrite) {
    const exists = await stat(metadataPath).then(
      () => true,
      () => false,
    );
    if (exists) throw new BagFormatError(`'${metadataPath}' already exists; refusing to overwrite it (pass overwrite to replace it)`, 'bag_exists');
  }
  const writable = await FileWritable.create(mcapPath, overwrite);
  let writer: BagWriter;
  try {
    writer = await BagWriter.create({ ...options, writable, relativeFilePath: basename(mcapPath) });
  } catch (e) {
    await writable.close();
    await unlink(mcapPath).catch(() => undefined); // nothing useful was written
    throw e;
  }
  let fileOpen = true;
  return {
    writer,
    mcapPath,
    metadataPath,
    async close() {
      try {
        const meta = await writer.close();
        await writeFile(metadataPath, metadataYaml(meta));
        return meta;
      } finally {
        if (fileOpen) {
          fileOpen = false;
          await writable.close();
        }
      }
    },
  };
}
