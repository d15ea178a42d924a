/** Training episodes with node-chosen contexts (sim/episodes.ts) and their shard writer. */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ContextBuffer } from '../../src/core/context/ContextBuffer.js';
import { sampleContexts } from '../../src/core/planner/planToObject.js';
import { episodeMeta, writeEpisodeShard } from '../../src/cli/commands/dataset.js';
import { buildEpisodes, DEFAULT_EPISODE_OPTIONS, drawsPerEpisode, episodePlanSeed, NODE_CONTEXT_POLICY, type EpisodeWorld } from '../../src/sim/episodes.js';
import { explorationStampNs } from '../../src/sim/scenario.js';

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

/** The shape a .npy file's header declares. */
function npyShape(path: string): number[] {
  const b = readFileSync(path);
  const hlen = (b[8] as number) + ((b[9] as number) << 8);
  const m = /'shape': \(([^)]*)\)/.exec(b.subarray(10, 10 + hlen).toString('latin1'));
  assert.ok(m, `no shape in ${path}`);
  return (m[1] as string).split(',').filter((x) => x.trim() !== '').map((x) => Number(x));
}

describe('sim/episodes', function () {
  this.timeout(60000);
  const opts = { ...DEFAULT_EPISODE_OPTIONS, episodesPerWorld: 3, plans: 2 };
  const K = opts.k;
  const D = drawsPerEpisode(opts);
  let w: EpisodeWorld;
  before(() => {
    w = buildEpisodes(20001, opts);
  });

  it('is byte-identical per seed and options', () => {
    const b = buildEpisodes(20001, opts);
    assert.equal(md5(b.poolFrames), md5(w.poolFrames));
    assert.equal(b.episodes.length, w.episodes.length);
    w.episodes.forEach((e, i) => {
      assert.deepEqual(Array.from(e.contexts), Array.from((b.episodes[i] as typeof e).contexts));
      assert.equal(md5(e.targetFrames), md5((b.episodes[i] as typeof e).targetFrames));
    });
  });

  it('every context: K distinct pool slots ascending in time, ending with the request; targets follow it', () => {
    assert.equal(w.episodes.length, 3);
    for (let s = 1; s < w.poolSize; s++) assert.ok((w.poolIndices[s] as number) > (w.poolIndices[s - 1] as number));
    for (const e of w.episodes) {
      assert.equal(e.contexts.length, D * K);
      assert.equal(w.poolIndices[e.requestSlot], e.requestIndex);
      for (let d = 0; d < D; d++) {
        const row = Array.from(e.contexts.subarray(d * K, (d + 1) * K));
        for (let c = 1; c < K; c++) assert.ok((row[c] as number) > (row[c - 1] as number), `draw ${d}: ${row.join(',')}`);
        assert.equal(row[K - 1], e.requestSlot);
      }
      assert.deepEqual(Array.from(e.targetIndices), Array.from({ length: opts.n }, (_, i) => e.requestIndex + 1 + i));
      // the target is out of view at the request (the newest frame) and in view at the goal
      assert.equal(e.contextBoxes[(K - 1) * 4], -1);
      assert.ok((e.targetBoxes[(opts.n - 1) * 4] as number) >= 0);
    }
  });

  it("the draws are the node's: planToObject's sampleContexts on the same buffer with no includes", () => {
    const none = buildEpisodes(20001, { ...opts, grounderRecall: 0 });
    const e = none.episodes[0] as EpisodeWorld['episodes'][number];
    const frameBytes = opts.camera.width * opts.camera.height * 3;
    const buffer = new ContextBuffer({ width: opts.camera.width, height: opts.camera.height });
    for (let s = 0; s <= e.requestSlot; s++) {
      const index = none.poolIndices[s] as number;
      const p = none.poolPoses;
      buffer.add({ index, stampNs: explorationStampNs(index), pose: { x: p[s * 3] as number, y: p[s * 3 + 1] as number, yaw: p[s * 3 + 2] as number }, pixels: none.poolFrames.subarray(s * frameBytes, (s + 1) * frameBytes) });
    }
    const slots = (d: number) => Array.from(e.contexts.subarray(d * K, (d + 1) * K)).map((s) => none.poolIndices[s] as number);
    for (let j = 0; j < opts.plans; j++) {
      const samples = sampleContexts(buffer, K, opts.candidates, NODE_CONTEXT_POLICY, episodePlanSeed(20001, 0, j), []);
      samples.forEach((s, m) => assert.deepEqual(s.indices, slots(j * opts.candidates + m), `plan ${j}, candidate ${m}`));
    }
    // candidate 0 (pose-diverse) and candidate 1 (uniform) of a plan draw different contexts
    assert.notDeepEqual(slots(0), slots(1));
  });

  it('name-aware includes: with recall 1 every draw holds a keyframe showing the object', () => {
    const all = buildEpisodes(20001, { ...opts, grounderRecall: 1 });
    for (const e of all.episodes) {
      for (let d = 0; d < D; d++) {
        let shows = false;
        for (let c = 0; c < K - 1; c++) if ((e.contextBoxes[(d * K + c) * 4] as number) >= 0) shows = true;
        assert.ok(shows, `episode at ${e.requestIndex}, draw ${d}`);
      }
    }
  });

  it('rejects bad options, quoting the value', () => {
    assert.throws(() => buildEpisodes(1, { ...opts, plans: 0 }), /plans must be a positive integer, found 0/);
    assert.throws(() => buildEpisodes(1, { ...opts, grounderRecall: 1.5 }), /grounderRecall must lie in \[0, 1\], found 1.5/);
  });

  it('the shard: pool rows, contexts as shard rows, standoff.npy written last', () => {
    const dir = mkdtempSync(join(tmpdir(), 'v4s-episodes-'));
    try {
      const other = buildEpisodes(20002, opts);
      writeEpisodeShard(dir, [w, other], opts);
      const P = w.poolSize + other.poolSize;
      const E = w.episodes.length + other.episodes.length;
      assert.deepEqual(npyShape(join(dir, 'pool_frames.npy')), [P, 64, 64, 3]);
      assert.deepEqual(npyShape(join(dir, 'contexts.npy')), [E, D, K]);
      assert.deepEqual(npyShape(join(dir, 'context_boxes.npy')), [E, D, K, 4]);
      assert.deepEqual(npyShape(join(dir, 'target_frames.npy')), [E, opts.n, 64, 64, 3]);
      // the second world's contexts point past the first world's pool
      const b = readFileSync(join(dir, 'contexts.npy'));
      const hlen = (b[8] as number) + ((b[9] as number) << 8);
      const rows = new Int32Array(b.buffer.slice(b.byteOffset + 10 + hlen, b.byteOffset + b.length));
      const firstOfSecond = rows[w.episodes.length * D * K] as number;
      assert.equal(firstOfSecond, w.poolSize + ((other.episodes[0] as EpisodeWorld['episodes'][number]).contexts[0] as number));
      const times = readdirSync(dir).map((f) => ({ f, t: statSync(join(dir, f)).mtimeMs }));
      const last = Math.max(...times.map((x) => x.t));
      assert.ok(times.find((x) => x.f === 'standoff.npy')?.t === last);
      const meta = episodeMeta(opts, [20001, 20002]);
      assert.equal(meta.format, 'video4spatial_nav episodes v1');
      assert.equal(meta.draws, D);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('dataset --episodes writes meta.json and a finished shard; a bad flag is refused with its value', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'v4s-episodes-cli-'));
    try {
      const ok = await runCli(['dataset', '--episodes', '--seeds', '20001', '--episodes-per-world', '2', '--plans', '1', '--out', dir]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /^shard_20001-20001: 2 episodes, \d+ keyframes so far/);
      const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { format: string; draws: number; k: number };
      assert.equal(meta.format, 'video4spatial_nav episodes v1');
      assert.equal(meta.draws, 4);
      assert.deepEqual(npyShape(join(dir, 'shard_20001-20001', 'contexts.npy')), [2, 4, meta.k]);
      const bad = await runCli(['dataset', '--episodes', '--seeds', '20001', '--grounder-recall', '1.5', '--out', dir]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--grounder-recall must be <= 1, got 1.5/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
