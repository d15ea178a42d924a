/**
 * `video4spatial-nav <command> --help` for every registered command (taken from the registry):
 * exit 0, the usage on stdout naming every flag the command accepts, an example; `-h` the same;
 * help before any other argument check; unknown flags keep their error, whose list of allowed
 * flags is the one the help shows (one source for both).
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { asksForHelp, flagNames, PROGRAM, type CliCommand, type CommandHelp } from '../../src/cli/command.js';
import { COMMANDS, main } from '../../src/cli/main.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** Runs main in-process, capturing stdout and stderr. */
async function capture(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  const ewrite = process.stderr.write.bind(process.stderr);
  const stdoutErrorListeners = process.stdout.listeners('error');
  process.stdout.write = ((s: string) => (out.push(String(s)), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => (err.push(String(s)), true)) as typeof process.stderr.write;
  try {
    const code = await main(argv);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = write;
    process.stderr.write = ewrite;
    // `bag` listens for EPIPE on stdout (and exits); leave the test process as it was
    for (const l of process.stdout.listeners('error')) if (!stdoutErrorListeners.includes(l)) process.stdout.removeListener('error', l as (...a: unknown[]) => void);
  }
}

function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], (e, stdout, stderr) => resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

/** Every flag of a command and of its subcommands. */
function allFlags(c: CliCommand): string[] {
  return [...flagNames(c.flags), ...Object.values(c.subcommands ?? {}).flatMap((s) => flagNames(s.flags))];
}

function assertNamesFlags(text: string, flags: readonly string[], what: string): void {
  for (const f of flags) assert.match(text, new RegExp(`(^|[\\s\\[])--${f}(?![\\w-])`, 'm'), `${what}: --help does not name --${f}`);
}

describe('cli --help', function () {
  this.timeout(120000);
  const names = Object.keys(COMMANDS);
  const commands = new Map<string, CliCommand>();
  before(async () => {
    for (const name of names) commands.set(name, (await (COMMANDS[name] as () => Promise<{ command: CliCommand }>)()).command);
  });

  it('the registry has the commands (the walk below is not empty)', () => {
    assert.ok(names.length >= 10, names.join(', '));
    assert.ok(names.includes('bag') && names.includes('demo'));
  });

  it('every command answers --help and -h: exit 0, its usage on stdout, each flag it accepts, an example', async () => {
    for (const name of names) {
      const c = commands.get(name) as CliCommand;
      for (const h of ['--help', '-h']) {
        const r = await capture([name, h]);
        assert.equal(r.code, 0, `${name} ${h}: ${r.stderr}`);
        assert.equal(r.stderr, '', `${name} ${h}`);
        assert.equal(r.stdout, c.usage, `${name} ${h}`);
      }
      assert.ok(c.usage.startsWith(`usage: ${PROGRAM} ${name}`), `${name}: ${c.usage.split('\n')[0]}`);
      assert.ok(c.usage.replace(/\s+/g, ' ').includes(c.summary), `${name}: the usage repeats the summary`);
      assert.match(c.usage, new RegExp(`\\nexamples?:\\n  ${PROGRAM} ${name}( |\\n)`), `${name}: an example`);
      assertNamesFlags(c.usage, allFlags(c), name);
      for (const f of c.flags) assert.ok(f.help.trim() !== '', `${name} --${f.name}: no help`);
    }
  });

  it('every subcommand answers --help and -h with its own usage (bag info, bag echo)', async () => {
    let n = 0;
    for (const name of names) {
      for (const [sub, help] of Object.entries(commands.get(name)?.subcommands ?? {}) as [string, CommandHelp][]) {
        for (const h of ['--help', '-h']) {
          const r = await capture([name, sub, h]);
          assert.equal(r.code, 0, `${name} ${sub} ${h}: ${r.stderr}`);
          assert.equal(r.stdout, help.usage);
        }
        assert.ok(help.usage.startsWith(`usage: ${PROGRAM} ${name} ${sub}`), help.usage);
        assert.match(help.usage, new RegExp(`\\nexamples?:\\n  ${PROGRAM} ${name} ${sub} `));
        assertNamesFlags(help.usage, flagNames(help.flags), `${name} ${sub}`);
        n++;
      }
    }
    assert.ok(n >= 2, 'bag info and bag echo');
  });

  it('help comes before any other argument check', async () => {
    for (const argv of [
      ['demo', '--seed', 'x', '--help'],
      ['eval', '--nope', '-h'],
      ['dataset', '--help', '--seeds'],
      ['bag', 'play', '--help'],
      ['bag', 'info', '--yaml', '--help'],
      ['bag', 'echo', 'missing.mcap', '--topic', '/t', '--full', '--max-array', '3', '-h'],
      ['bench', '--quick', '-h'],
      ['node', '--help', '--ros-args', '-p', 'x:=1'],
    ]) {
      const r = await capture(argv);
      assert.equal(r.code, 0, `${argv.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout, /^usage: /, argv.join(' '));
    }
    assert.equal((await capture(['bag', 'echo', '-h'])).stdout, commands.get('bag')?.subcommands?.['echo']?.usage);
    assert.equal((await capture(['bag', 'play', '-h'])).stdout, commands.get('bag')?.usage);
  });

  it('-h as the value of a flag, or after --ros-args, is not a request for help', () => {
    const flags = [{ name: 'object', value: 'NAME', help: 'x' }, { name: 'quick', help: 'y' }];
    assert.equal(asksForHelp(['--object', '-h'], flags), false);
    assert.equal(asksForHelp(['--object=-h'], flags), false);
    assert.equal(asksForHelp(['--quick', '-h'], flags), true);
    assert.equal(asksForHelp(['--object', 'cup', '--help'], flags), true);
    assert.equal(asksForHelp(['--ros-args', '-h'], []), false);
    assert.equal(asksForHelp(['-h', '--ros-args'], []), true);
    assert.equal(asksForHelp(['--unknown', '-h'], flags), true);
  });

  it('unknown flags keep their error, and it lists the flags the help shows', async () => {
    for (const name of names) {
      const c = commands.get(name) as CliCommand;
      const targets: [string[], string, readonly string[]][] = Object.entries(c.subcommands ?? {}).map(([sub, h]) => [[name, sub], `${name} ${sub}`, flagNames(h.flags)]);
      if (c.flags.length > 0) targets.push([[name], name, flagNames(c.flags)]);
      for (const [argv, label, flags] of targets) {
        const r = await capture([...argv, '--zz-not-a-flag=1']);
        assert.equal(r.code, 2, `${label}: ${r.stderr}`);
        const m = new RegExp(`^${PROGRAM} ${name}: unknown flag --zz-not-a-flag for '${label}' \\(allowed: (.*)\\)`).exec(r.stderr);
        assert.ok(m, `${label}: ${r.stderr}`);
        assert.deepEqual((m[1] as string).split(', '), flags.map((f) => `--${f}`), label);
      }
    }
    const r = await capture(['demo', '--help-me']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /flag --help-me needs a value/);
  });

  it('the program --help lists every registered command; help <command> is <command> --help', async () => {
    for (const argv of [['--help'], ['-h'], ['help']]) {
      const r = await capture(argv);
      assert.equal(r.code, 0, argv.join(' '));
      for (const name of names) assert.match(r.stdout, new RegExp(`^  ${name} +\\S`, 'm'), `${argv.join(' ')} lists ${name}`);
    }
    assert.equal((await capture(['help', 'world'])).stdout, commands.get('world')?.usage);
    const unknown = await capture(['nope', '--help']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command 'nope'/);
  });

  it('the built CLI: `demo --help` and `bag --help` exit 0 with the usage on stdout', async () => {
    for (const name of ['demo', 'bag']) {
      const r = await runCli([name, '--help']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      assert.equal(r.stdout, commands.get(name)?.usage);
    }
  });
});
