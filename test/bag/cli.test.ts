/**
 * The compiled CLI (`node dist/src/cli/main.js bag …`), run as a user would, on the real
 * rosbag2 fixtures; `bag info --json` must agree with the metadata.yaml rosbag2 wrote.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import yaml from 'js-yaml';
import { createBag } from '../../src/bag/files.js';
import { cdrString, STRING_SCHEMA } from './craft.js';
import { fixturesOrSkip, REPO_ROOT, type Fixture } from './helpers.js';

const CLI = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('video4spatial-nav bag (compiled CLI)', function () {
  this.timeout(60_000);
  let talker: Fixture;
  let cdrTest: Fixture;
  before(function () {
    ({ talker, cdrTest } = fixturesOrSkip(this));
  });

  for (const which of ['talker', 'cdr_test'] as const) {
    it(`bag info ${which} --json equals metadata.yaml`, async () => {
      const f = which === 'talker' ? talker : cdrTest;
      for (const path of [f.dir, f.mcapPath]) {
        const { code, stdout, stderr } = await run(['bag', 'info', path, '--json']);
        assert.equal(code, 0, stderr);
        const got = JSON.parse(stdout) as { topics: { name: string; type: string; count: number }[]; message_count: number; start_ns: string; end_ns: string };
        assert.deepEqual(
          got.topics,
          f.metadata.topics.map((t) => ({ name: t.name, type: t.type, count: t.messageCount })).sort((a, b) => a.name.localeCompare(b.name)),
        );
        assert.equal(got.message_count, f.metadata.messageCount);
        // Epoch nanoseconds exceed 2^53, so they come as exact decimal strings.
        assert.equal(got.start_ns, f.metadata.startingTimeNs.toString());
        assert.equal(got.end_ns, (f.metadata.startingTimeNs + f.metadata.durationNs).toString());
      }
    });
  }

  it('bag info prints a table with every topic, its type and count', async () => {
    const { code, stdout } = await run(['bag', 'info', talker.dir]);
    assert.equal(code, 0);
    assert.match(stdout, /^Duration: +4\.531096768 s$/m);
    assert.match(stdout, /^Start: +2020-04-02T22:23:55\.112411371Z \(1585866235112411371 ns\)$/m);
    assert.match(stdout, /^Messages: +20$/m);
    assert.match(stdout, /^Chunks: +zstd; read via the summary index$/m);
    for (const t of talker.metadata.topics) {
      assert.match(stdout, new RegExp(`^${t.name} +${t.type} +${t.messageCount}  cdr$`, 'm'));
    }
  });

  it('bag echo --json prints decoded messages as JSON lines, up to --limit', async () => {
    const { code, stdout } = await run(['bag', 'echo', talker.dir, '--topic', '/topic', '--json', '--limit', '3']);
    assert.equal(code, 0);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      lines.map((l) => l.message),
      [{ data: 'Hello, world! 0' }, { data: 'Hello, world! 1' }, { data: 'Hello, world! 2' }],
    );
    assert.equal(lines[0]?.type, 'std_msgs/msg/String');
    assert.equal(lines[0]?.log_time_ns, '1585866235112609068');
  });

  it('bag echo of test_msgs/Arrays: 64-bit extremes as strings, --max-array truncation, --full', async () => {
    const full = await run(['bag', 'echo', cdrTest.mcapPath, '--topic', '/array_topic', '--json', '--limit', '1', '--full']);
    const m = (JSON.parse(full.stdout) as { message: Record<string, unknown> }).message;
    assert.deepEqual(m.int64_values_default, [0, '9223372036854775807', '-9223372036854775808']);
    assert.deepEqual(m.uint64_values_default, [0, 1, '18446744073709551615']);
    const cut = await run(['bag', 'echo', cdrTest.mcapPath, '--topic', '/array_topic', '--json', '--limit', '1', '--max-array', '2']);
    const c = (JSON.parse(cut.stdout) as { message: Record<string, unknown> }).message;
    assert.deepEqual(c.uint8_values_default, { truncated: true, length: 3, head: [0, 1] });
    assert.equal((c.basic_types_values as unknown[]).length, 3); // arrays of messages are kept whole
  });

  it('bag echo without --json prints YAML documents', async () => {
    const { code, stdout } = await run(['bag', 'echo', talker.mcapPath, '--topic', '/rosout', '--limit', '1']);
    assert.equal(code, 0);
    assert.match(stdout, /^# \/rosout \(rcl_interfaces\/msg\/Log\) log time 2020-04-02T22:23:55\.112411371Z/);
    assert.ok(stdout.endsWith('\n---\n'));
    const doc = yaml.load(stdout.slice(0, -'---\n'.length)) as Record<string, unknown>; // the '#' line is a YAML comment
    assert.equal(doc.msg, "Publishing: 'Hello, world! 0'");
    assert.deepEqual(doc.stamp, { sec: 1585866235, nanosec: 112130688 });
  });

  it('a reader that stops early (`| head -1`) ends echo quietly with exit 0', async () => {
    // Megabytes of output, far more than a pipe buffers, so the writer does hit the closed pipe.
    const dir = mkdtempSync(join(tmpdir(), 'v4s-bagcli-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const bag = await createBag(join(dir, 'many'));
    await bag.writer.addTopic('/chatter', 'std_msgs/msg/String', { schemaText: STRING_SCHEMA });
    for (let i = 0; i < 20_000; i++) await bag.writer.write('/chatter', cdrString(`message number ${i} `.repeat(8)), BigInt(i));
    await bag.close();
    const child = spawn(process.execPath, [CLI, 'bag', 'echo', join(dir, 'many'), '--topic', '/chatter', '--json'], { cwd: REPO_ROOT });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, stderr);
    assert.equal(stderr, '');
  });

  it('errors: bad file and unknown topic exit 1 with the reason; usage errors exit 2', async () => {
    const missing = await run(['bag', 'info', join(talker.dir, 'nope.mcap')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^video4spatial-nav bag info: No bag at '.*nope\.mcap'/);
    const topic = await run(['bag', 'echo', talker.dir, '--topic', '/nope']);
    assert.equal(topic.code, 1);
    assert.match(topic.stderr, /Topic '\/nope' is not in the bag \(topics: \/parameter_events, \/rosout, \/topic\)/);
    for (const args of [['bag'], ['bag', 'play'], ['bag', 'echo', talker.dir], ['bag', 'info'], ['bag', 'info', talker.dir, '--yaml'], ['bag', 'echo', talker.dir, '--topic', '/topic', '--full', '--max-array', '3']]) {
      const r = await run(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^video4spatial-nav bag: /);
    }
  });
});
