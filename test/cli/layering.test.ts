/**
 * src/cli layering: main.ts is the registry and dispatch and imports the commands; the commands
 * take what they need (CliCommand, flags, help) from command.ts and args.ts, never from main.ts,
 * so there is no import cycle. command.ts and args.ts import neither main.ts nor a command.
 */
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../../src/cli', import.meta.url));
/** A static, type-only, re-export or dynamic import of main.js (a `new URL('../main.js', …)` path is not an import). */
const MAIN_IMPORT = /(\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)['"](\.\.?\/)+(cli\/)?main\.js['"]/m;
const COMMAND_IMPORT = /(\bfrom\s+|\bimport\s*\(\s*)['"]\.\/commands\//;

describe('src/cli layering', () => {
  it('no command imports main.ts', () => {
    const dir = join(CLI, 'commands');
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
    assert.ok(files.length >= 10, `found ${files.join(', ')}`);
    assert.deepEqual(
      files.filter((f) => MAIN_IMPORT.test(readFileSync(join(dir, f), 'utf8'))),
      [],
    );
  });

  it('command.ts and args.ts import neither main.ts nor a command', () => {
    for (const f of ['command.ts', 'args.ts']) {
      const text = readFileSync(join(CLI, f), 'utf8');
      assert.ok(!MAIN_IMPORT.test(text), f);
      assert.ok(!COMMAND_IMPORT.test(text), f);
    }
  });

  it('the checker itself catches an offending import', () => {
    assert.ok(MAIN_IMPORT.test(`import type { CliCommand } from '../main.js';`));
    assert.ok(MAIN_IMPORT.test(`import { main } from "../main.js";`));
    assert.ok(MAIN_IMPORT.test(`const m = await import('../main.js');`));
    assert.ok(MAIN_IMPORT.test(`export { type CliCommand } from '../main.js';`));
    assert.ok(MAIN_IMPORT.test(`import '../main.js';`));
    assert.ok(!MAIN_IMPORT.test(`import type { CliCommand } from '../command.js';`));
    assert.ok(!MAIN_IMPORT.test(`return fileURLToPath(new URL('../main.js', import.meta.url));`));
    assert.ok(COMMAND_IMPORT.test(`bag: () => import('./commands/bag.js'),`));
  });
});
