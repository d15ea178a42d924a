/**
 * The file-system side: finding the .mcap file of a bag path, file reads and writes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, truncateSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BagFormatError } from '../../src/core/errors.js';
import { FileReadable, FileWritable, openBag, resolveBagFile } from '../../src/bag/files.js';
import { metadataYaml, type Rosbag2Metadata } from '../../src/bag/rosbag2Metadata.js';
import { craftBag } from './craft.js';
import { rejectsWith } from './helpers.js';

function meta(paths: string[], storage = 'mcap'): Rosbag2Metadata {
  return {
    version: 8,
    storageIdentifier: storage,
    durationNs: 20n,
    startingTimeNs: 10n,
    messageCount: 3,
    topics: [],
    compressionFormat: '',
    compressionMode: '',
    relativeFilePaths: paths,
    files: [],
    customData: {},
    rosDistro: '',
  };
}

describe('bag files', function () {
  let dir: string;
  let bag: Uint8Array;
  before(async () => {
    bag = await craftBag();
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'v4s-bag-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('opens a .mcap file, a bag directory through metadata.yaml, or its only .mcap', async () => {
    writeFileSync(join(dir, 'x_0.mcap'), bag);
    for (const path of [join(dir, 'x_0.mcap'), dir]) {
      const b = await openBag(path);
      assert.equal(b.mcapPath, join(dir, 'x_0.mcap'));
      assert.equal(b.metadata, undefined);
      assert.equal(b.reader.info().messageCount, 3);
      await b.close();
    }
    writeFileSync(join(dir, 'metadata.yaml'), metadataYaml(meta(['x_0.mcap'])));
    for (const path of [join(dir, 'x_0.mcap'), dir]) {
      const b = await openBag(path);
      assert.equal(b.metadata?.relativeFilePaths[0], 'x_0.mcap');
      await b.close();
    }
  });

  it('ignores a metadata.yaml beside a file when it names other files', async () => {
    writeFileSync(join(dir, 'a.mcap'), bag);
    writeFileSync(join(dir, 'metadata.yaml'), metadataYaml(meta(['b.mcap'])));
    const r = await resolveBagFile(join(dir, 'a.mcap'));
    assert.equal(r.metadata, undefined);
  });

  it('refuses what it cannot open, saying why', async () => {
    await rejectsWith(openBag(join(dir, 'nope.mcap')), BagFormatError, /^No bag at '.*nope\.mcap': no such file or directory/);
    await rejectsWith(openBag(dir), BagFormatError, /has no metadata\.yaml and 0 \.mcap files \(none\)/);
    writeFileSync(join(dir, 'a.mcap'), bag);
    writeFileSync(join(dir, 'b.mcap'), bag);
    await rejectsWith(openBag(dir), BagFormatError, /has no metadata\.yaml and 2 \.mcap files \(a\.mcap, b\.mcap\); name the file to open/);
    writeFileSync(join(dir, 'metadata.yaml'), metadataYaml(meta(['a.mcap', 'b.mcap'])));
    await rejectsWith(openBag(dir), BagFormatError, /is split into 2 files \(a\.mcap, b\.mcap\); open one \.mcap file at a time/);
    writeFileSync(join(dir, 'metadata.yaml'), metadataYaml(meta(['a.db3'], 'sqlite3')));
    await rejectsWith(openBag(dir), BagFormatError, /uses storage 'sqlite3' \(from metadata\.yaml\); only 'mcap' is supported/);
    writeFileSync(join(dir, 'junk.mcap'), 'hello, not a bag');
    const e = await rejectsWith(openBag(join(dir, 'junk.mcap')), BagFormatError, /junk\.mcap: Expected MCAP magic 89 4d 43 41 50 30 0d 0a at offset 0 \(opening magic\), found 68 65 6c 6c 6f 2c 20 6e$/);
    assert.equal((e as BagFormatError).code, 'bag_bad_magic');
  });

  it('passes on file-system errors other than "not found"', async () => {
    writeFileSync(join(dir, 'f.mcap'), bag);
    await assert.rejects(openBag(join(dir, 'f.mcap', 'inner.mcap')), (e: NodeJS.ErrnoException) => e.code === 'ENOTDIR');
    mkdirSync(join(dir, 'metadata.yaml'));
    await assert.rejects(openBag(dir), (e: NodeJS.ErrnoException) => e.code === 'EISDIR');
  });

  it('FileReadable refuses reads outside the file and notices a file that shrank', async () => {
    const path = join(dir, 'f.mcap');
    writeFileSync(path, bag);
    const r = await FileReadable.open(path);
    try {
      assert.deepEqual(await r.read(0n, 4n), bag.subarray(0, 4));
      await rejectsWith(r.read(BigInt(bag.byteLength) - 2n, 4n), BagFormatError, new RegExp(`^Read of 4 bytes at offset ${bag.byteLength - 2} is outside '.*f\\.mcap' \\(${bag.byteLength} bytes\\)`));
      truncateSync(path, 10);
      await rejectsWith(r.read(8n, 8n), BagFormatError, /ended at offset 10 while reading \(it shrank while open\?\)/);
    } finally {
      await r.close();
    }
  });

  it('FileWritable never overwrites unless asked', async () => {
    const path = join(dir, 'out.mcap');
    const w = await FileWritable.create(path, false);
    await w.write(Uint8Array.of(1, 2, 3));
    assert.equal(w.position(), 3n);
    await w.close();
    await rejectsWith(FileWritable.create(path, false), BagFormatError, /out\.mcap' already exists; refusing to overwrite it/);
    const again = await FileWritable.create(path, true);
    await again.close();
    mkdirSync(join(dir, 'sub'));
    await assert.rejects(FileWritable.create(join(dir, 'sub'), true), (e: NodeJS.ErrnoException) => e.code === 'EISDIR');
  });
});
