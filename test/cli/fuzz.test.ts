/**
 * `video4spatial-nav fuzz` with the shipped model, and the model-file faults the command (like
 * the node) refuses to start with: a missing manifest, a missing graph, a corrupt graph (sha256).
 */
import { strict as assert } from 'node:assert';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { ModelLoadError } from '../../src/core/errors.js';
import { defaultModelDir } from '../../src/model/OnnxImaginationModel.js';
import type { FuzzReport } from '../../src/sim/fuzz.js';

describe('cli/fuzz', function () {
  this.timeout(120000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'v4s-fuzz-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('runs the shipped model under hostile traffic: exit 0, a JSON report with no crash', async () => {
    const json = join(dir, 'report.json');
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    const err = process.stderr.write.bind(process.stderr);
    process.stdout.write = ((s: string) => (out.push(String(s)), true)) as typeof process.stdout.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    let code: number;
    try {
      code = await main(['fuzz', '--count', '200', '--seed', '5', '--goal-every', '80', '--json', json]);
    } finally {
      process.stdout.write = write;
      process.stderr.write = err;
    }
    assert.equal(code, 0, out.join(''));
    const r = JSON.parse(readFileSync(json, 'utf8')) as FuzzReport;
    assert.deepEqual(JSON.parse(out.join('')), r);
    assert.equal(r.crashes, 0);
    assert.ok(r.sent >= 200 && r.goals_ok >= 1 && r.goals_rejected > 0 && r.refused_by_transport > 0, JSON.stringify(r));
    for (const node of ['raw', 'compressed']) assert.ok(['succeeded', 'aborted'].includes(r.final_goals[node] ?? ''), JSON.stringify(r.final_goals));
  });

  it('refuses to start on a broken model with a typed error naming the file: missing manifest, missing graph, sha256 mismatch', async () => {
    const rejects = (args: string[], code: string, re: RegExp) =>
      assert.rejects(main(['fuzz', '--count', '1', ...args]), (e: unknown) => e instanceof ModelLoadError && e.code === code && re.test(e.message));
    await rejects(['--model', join(dir, 'nowhere')], 'manifest_missing', /model manifest not found: .*nowhere\/manifest\.json/);
    const broken = mkdtempSync(join(dir, 'broken-'));
    copyFileSync(join(defaultModelDir(), 'manifest.json'), join(broken, 'manifest.json'));
    await rejects(['--model', broken], 'file_missing', /encoder graph not found: .*encoder\.onnx \(named in .*manifest\.json\)/);
    writeFileSync(join(broken, 'encoder.onnx'), 'not an onnx graph');
    await rejects(['--model', broken], 'sha_mismatch', /encoder\.onnx: sha256 [0-9a-f]{64} does not match the manifest's [0-9a-f]{64}/);
  });

  it('refuses bad flags with exit 2', async () => {
    const err = process.stderr.write.bind(process.stderr);
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      assert.equal(await main(['fuzz', '--count', 'many']), 2);
      assert.equal(await main(['fuzz', '--cuont', '5']), 2);
    } finally {
      process.stderr.write = err;
    }
  });
});
