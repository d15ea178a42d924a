/**
 * The bag core stays I/O-free and graph-free: only files.ts touches the file system, and
 * nothing in src/bag imports the graph (src/ros) — BagWriter only the message registry.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './helpers.js';

const FS_IMPORT = /from\s+['"](node:)?fs(\/promises)?['"]/;
const ROS_IMPORT = /(from\s+|import\()\s*['"]\.\.\/ros\/(?!messages\/index\.js['"])/;

describe('src/bag layering', () => {
  const dir = join(REPO_ROOT, 'src', 'bag');
  let files: string[] = [];
  before(() => {
    files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
  });

  it('only files.ts imports the file system', () => {
    assert.ok(files.length >= 10, `found ${files.join(', ')}`);
    assert.deepEqual(
      files.filter((f) => FS_IMPORT.test(readFileSync(join(dir, f), 'utf8'))),
      ['files.ts'],
    );
  });

  it('nothing imports the graph; only BagWriter imports the message registry', () => {
    assert.deepEqual(
      files.filter((f) => ROS_IMPORT.test(readFileSync(join(dir, f), 'utf8'))),
      [],
    );
    assert.deepEqual(
      files.filter((f) => readFileSync(join(dir, f), 'utf8').includes('../ros/')),
      ['BagWriter.ts'],
    );
    // The checkers themselves catch offenders.
    assert.ok(FS_IMPORT.test(`import { open } from 'node:fs/promises';`));
    assert.ok(ROS_IMPORT.test(`import { InProcessGraph } from '../ros/InProcessGraph.js';`));
    assert.ok(!ROS_IMPORT.test(`registry ??= import('../ros/messages/index.js');`));
  });
});
