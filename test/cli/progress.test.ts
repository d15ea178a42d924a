/**
 * Progress on long commands (src/cli/progress.ts): the line format, the enable rules, the
 * reporter's counting, and that `eval` / `dataset` write nothing to stderr without a terminal
 * unless asked (--progress), while stdout is unchanged.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, UsageError } from '../../src/cli/args.js';
import { etaSeconds, formatDuration, formatProgress, Progress, PROGRESS_FLAGS, progressEnabled, progressFromArgs } from '../../src/cli/progress.js';
import { openLoopNote } from '../../src/cli/commands/eval.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { maxBuffer: 16 * 1024 * 1024 }, (e, stdout, stderr) =>
      resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('cli/progress: formatting', () => {
  it('durations: seconds, minutes with padded seconds, hours with padded minutes; ? when unknown', () => {
    assert.equal(formatDuration(0), '0 s');
    assert.equal(formatDuration(41.6), '42 s');
    assert.equal(formatDuration(59.4), '59 s');
    assert.equal(formatDuration(60), '1 min 00 s');
    assert.equal(formatDuration(185), '3 min 05 s');
    assert.equal(formatDuration(3599), '59 min 59 s');
    assert.equal(formatDuration(3720), '1 h 02 min');
    assert.equal(formatDuration(-1), '?');
    assert.equal(formatDuration(Number.NaN), '?');
    assert.equal(formatDuration(Infinity), '?');
  });

  it('time left at the mean pace so far; none before the first item', () => {
    assert.equal(etaSeconds(0, 10, 5), undefined);
    assert.equal(etaSeconds(2, 10, 20), 80);
    assert.equal(etaSeconds(10, 10, 20), 0);
    assert.equal(etaSeconds(3, 0, 20), undefined);
  });

  it('one line: label, done/total, percent, elapsed, time left, note', () => {
    assert.equal(formatProgress('eval open loop', 3, 50, 62, 'seed 102 plant: SD 0.050'), '[eval open loop] 3/50 (6%) | elapsed 1 min 02 s | ~16 min 11 s left | seed 102 plant: SD 0.050');
    assert.equal(formatProgress('bench', 0, 4, 0.2, 'ingest …'), '[bench] 0/4 (0%) | elapsed 0 s | ingest …', 'nothing done: no estimate');
    assert.equal(formatProgress('dataset', 5, 5, 12), '[dataset] 5/5 (100%) | elapsed 12 s', 'all done: no estimate, no note');
    assert.equal(formatProgress('x', 0, 0, 1), '[x] 0/0 (100%) | elapsed 1 s');
  });

  it("an open-loop world's note: its result, or the plan's failure", () => {
    assert.equal(
      openLoopNote({ seed: 7, object: 'plant', sd: 0.0512, followed: true, planS: 3.21, candidates: 4, candidatesIfSd: 2 }),
      'seed 7 plant: SD 0.051, IF yes, 2/4 candidates IF(SD<0.2), plan 3.2 s',
    );
    assert.equal(openLoopNote({ seed: 8, object: 'tv', sd: undefined, followed: false, planS: 1, candidates: 1, candidatesIfSd: 0 }), 'seed 8 tv: no box, IF no, 0/1 candidates IF(SD<0.2), plan 1.0 s');
    assert.equal(openLoopNote({ seed: 9, object: 'bed', sd: undefined, followed: false, planS: 1, error: 'no valid path' }), 'seed 9 bed: plan failed (no valid path)');
  });
});

describe('cli/progress: when it prints', () => {
  it('--quiet never, --progress always, otherwise only when stderr is a terminal', () => {
    for (const tty of [true, false, undefined]) {
      assert.equal(progressEnabled({ quiet: true }, tty), false, `quiet, tty ${tty}`);
      assert.equal(progressEnabled({ progress: true }, tty), true, `progress, tty ${tty}`);
      assert.equal(progressEnabled({}, tty), tty === true, `no flag, tty ${tty}`);
    }
  });

  it('from the flags; both at once is a usage error', () => {
    const b = PROGRESS_FLAGS.map((f) => f.name);
    assert.deepEqual(b, ['progress', 'quiet']);
    assert.equal(progressFromArgs(parseArgs([], b), false), false);
    assert.equal(progressFromArgs(parseArgs([], b), true), true);
    assert.equal(progressFromArgs(parseArgs(['--progress'], b), false), true);
    assert.equal(progressFromArgs(parseArgs(['--quiet'], b), true), false);
    assert.throws(() => progressFromArgs(parseArgs(['--progress', '--quiet'], b), true), (e: unknown) => e instanceof UsageError && /contradict/.test(e.message));
  });

  it('the reporter counts items and stages, one line each, and writes nothing when disabled', () => {
    let t = 0;
    const lines: string[] = [];
    const p = new Progress('eval closed loop', 2, { enabled: true, write: (s) => void lines.push(s), now: () => t });
    t = 30_000;
    p.tick('seed 100 plant: success');
    t = 50_000;
    p.tick('seed 101 tv: fail');
    assert.deepEqual(lines, ['[eval closed loop] 1/2 (50%) | elapsed 30 s | ~30 s left | seed 100 plant: success\n', '[eval closed loop] 2/2 (100%) | elapsed 50 s | seed 101 tv: fail\n']);
    p.tick('one too many');
    assert.equal(p.done, 2, 'never past the total');

    t = 0;
    const s: string[] = [];
    const st = new Progress('bench', 3, { enabled: true, write: (x) => void s.push(x), now: () => t });
    st.stage('ingest');
    t = 1000;
    st.stage('plans');
    t = 4000;
    st.stage('memory run');
    t = 9000;
    st.finish();
    assert.deepEqual(s, [
      '[bench] 0/3 (0%) | elapsed 0 s | ingest …\n',
      '[bench] 1/3 (33%) | elapsed 1 s | ~2 s left | plans …\n',
      '[bench] 2/3 (66%) | elapsed 4 s | ~2 s left | memory run …\n',
      '[bench] 3/3 (100%) | elapsed 9 s | done\n',
    ]);

    const quiet: string[] = [];
    const q = new Progress('dataset', 2, { enabled: false, write: (x) => void quiet.push(x) });
    q.tick('a');
    q.stage('b');
    q.finish();
    assert.deepEqual(quiet, []);
    assert.equal(q.done, 2);
  });
});

describe('cli/progress: the commands', function () {
  this.timeout(180000);
  let dir = '';
  before(() => (dir = mkdtempSync(join(tmpdir(), 'v4s-progress-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const EVAL = ['eval', '--seeds', '100-100', '--open-loop', '--candidates', '1', '--steps', '1'];

  it('eval without a terminal and without --progress writes nothing to stderr; with --progress one line per world; stdout the same', async () => {
    const silent = await runCli(EVAL);
    assert.equal(silent.code, 0, silent.stderr);
    assert.equal(silent.stderr, '');
    assert.match(silent.stdout, /^eval seeds 100-100, /);
    assert.match(silent.stdout, /open loop {3}n=1 /);
    const loud = await runCli([...EVAL, '--progress']);
    assert.equal(loud.code, 0, loud.stderr);
    assert.match(loud.stderr, /^\[eval open loop\] 1\/1 \(100%\) \| elapsed \d+ s \| seed 100 plant: (SD \d\.\d{3}|no box), IF (yes|no), [01]\/1 candidates IF\(SD<0\.2\), plan \d+\.\d s\n$/);
    const strip = (s: string) => s.replace(/plan \d+\.\d+ s/g, 'plan T s').replace(/elapsed \d+(\.\d+)? s/g, 'elapsed T s');
    assert.equal(strip(loud.stdout), strip(silent.stdout), 'stdout does not depend on --progress');
    const both = await runCli([...EVAL, '--progress', '--quiet']);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--progress and --quiet contradict/);
  });

  it('dataset: silent stderr without a terminal, a line per world with --progress; stdout unchanged', async () => {
    const args = ['dataset', '--seeds', '0-1', '--clips-per-world', '1', '--shard-size', '1'];
    const silent = await runCli([...args, '--out', join(dir, 'a')]);
    assert.equal(silent.code, 0, silent.stderr);
    assert.equal(silent.stderr, '');
    const loud = await runCli([...args, '--out', join(dir, 'b'), '--progress']);
    assert.equal(loud.code, 0, loud.stderr);
    const lines = loud.stderr.trim().split('\n');
    assert.equal(lines.length, 2, loud.stderr);
    assert.match(lines[0] as string, /^\[dataset\] 1\/2 \(50%\) \| elapsed \d+ s \| ~\d+ s left \| seed 0: 1 clips$/);
    assert.match(lines[1] as string, /^\[dataset\] 2\/2 \(100%\) \| elapsed \d+ s \| seed 1: 1 clips$/);
    assert.equal(loud.stdout.split('\n').length, silent.stdout.split('\n').length);
    assert.match(loud.stdout, /^shard_0-0: 1 clips/);
  });
});
