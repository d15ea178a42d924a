import { strict as assert } from 'node:assert';
import { UsageError } from '../../src/cli/args.js';
import { command } from '../../src/cli/commands/pathAccuracy.js';

describe('cli/path-accuracy', function () {
  this.timeout(120000);

  it('rejects unknown parts and flags, naming them', async () => {
    await assert.rejects(command.run(['--parts', 'box,nope']), (e: unknown) => e instanceof UsageError && /unknown part 'nope'/.test(e.message));
    await assert.rejects(command.run(['--frobnicate', '1']), (e: unknown) => e instanceof UsageError && /--frobnicate/.test(e.message));
    await assert.rejects(command.run(['--clearance', '0.1']), (e: unknown) => e instanceof UsageError && /clearance/.test(e.message));
  });

  it('measures the box part of one world and prints JSON', async () => {
    const chunks: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    const writeErr = process.stderr.write.bind(process.stderr);
    process.stdout.write = ((s: string) => (chunks.push(String(s)), true)) as typeof process.stdout.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      assert.equal(await command.run(['--seeds', '300', '--parts', 'box']), 0);
    } finally {
      process.stdout.write = write;
      process.stderr.write = writeErr;
    }
    const report = JSON.parse(chunks.join('')) as { box: { clean: { found: number; missed: number } } };
    assert.ok(report.box.clean.found > 0);
    assert.equal(report.box.clean.missed, 0);
  });
});
