import { strict as assert } from 'node:assert';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** src/core must stay pure: no I/O, no heavy native dependency. */
const FORBIDDEN = /from\s+['"](rclnodejs|onnxruntime-node|@u4\/opencv4nodejs|fs|node:fs|fs\/promises|node:fs\/promises|child_process|node:child_process|net|node:net)['"]|require\(|import\(\s*['"](rclnodejs|onnxruntime-node|@u4\/opencv4nodejs)/;

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('src/core purity', () => {
  it('imports none of rclnodejs, onnxruntime-node, opencv4nodejs, or the file system', () => {
    const root = fileURLToPath(new URL('../../../src/core', import.meta.url));
    const files = walk(root);
    assert.ok(files.length > 0, `no sources found under ${root}`);
    const offenders = files.filter((f) => FORBIDDEN.test(readFileSync(f, 'utf8')));
    assert.deepEqual(offenders, []);
  });

  it('the checker itself catches an offending import', () => {
    assert.ok(FORBIDDEN.test(`import * as ort from 'onnxruntime-node';`));
    assert.ok(FORBIDDEN.test(`import { readFileSync } from 'node:fs';`));
    assert.ok(!FORBIDDEN.test(`import { Rng } from './rng.js';`));
  });
});
