/**
 * ExtractionPool: step 5 in worker threads gives exactly what the inline extractor gives, keeps
 * error classes and codes, and fails cleanly when closed or misconfigured.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BadFrameError, InferenceError, ParameterError } from '../../src/core/errors.js';
import { inlineExtractor, type CandidateExtraction, type ExtractionContext } from '../../src/core/planner/extractCandidate.js';
import { ExtractionPool } from '../../src/planner/ExtractionPool.js';
import { extractionFixture } from '../../src/sim/extractionFixture.js';

const withoutTimes = (r: CandidateExtraction) => ({ chain: r.chain, goal: r.goal, score: r.score });

describe('planner/ExtractionPool', function () {
  this.timeout(120000);
  const { ctx, candidates } = extractionFixture(11, 3);

  it('gives the inline extractor\'s results, in candidate order, with 1, 2 and 3 threads', async () => {
    const inline = await inlineExtractor()(ctx, candidates);
    assert.ok(inline.some((r) => r.goal.goal !== undefined), 'the fixture yields at least one goal');
    for (const threads of [1, 2, 3]) {
      const pool = new ExtractionPool(threads);
      try {
        const a = await pool.extract(ctx, candidates);
        const b = await pool.extract(ctx, candidates.slice().reverse()); // a second plan on warm workers
        assert.deepEqual(a.map(withoutTimes), inline.map(withoutTimes), `${threads} thread(s)`);
        assert.deepEqual(b.map(withoutTimes), inline.slice().reverse().map(withoutTimes), `${threads} thread(s), second plan`);
        for (const r of a) assert.ok(r.boxMs >= 0 && r.voMs > 0 && r.anchorMs > 0, JSON.stringify([r.boxMs, r.voMs, r.anchorMs]));
      } finally {
        await pool.close();
      }
    }
  });

  it('splits each candidate into its chain and its anchoring: one candidate keeps two workers busy', async () => {
    const pool = new ExtractionPool(2);
    try {
      const [one] = await pool.extract(ctx, candidates.slice(0, 1));
      assert.deepEqual(pool.jobsAnswered(), [1, 1], 'each worker ran one half');
      const [inline] = await inlineExtractor()(ctx, candidates.slice(0, 1));
      assert.deepEqual(withoutTimes(one as CandidateExtraction), withoutTimes(inline as CandidateExtraction));
      await pool.extract(ctx, candidates);
      assert.deepEqual(pool.jobsAnswered().reduce((a, b) => a + b, 0), 2 + 2 * candidates.length);
    } finally {
      await pool.close();
    }
  });

  it('sends each keyframe to a worker once and still matches the inline results as memory changes, or is another buffer\'s', async () => {
    const n = ctx.keyframes.length;
    // the next plans: the oldest keyframes evicted, then a new one added
    const evicted: ExtractionContext = { ...ctx, keyframes: ctx.keyframes.slice(3) };
    const grown: ExtractionContext = { ...ctx, keyframes: [...ctx.keyframes.slice(3), { rgb: ctx.newest, pose: ctx.startPose }] };
    // another buffer (another world, or after clear()): other images at the same positions and poses
    const other: ExtractionContext = { ...ctx, keyframes: ctx.keyframes.map((k, i) => ({ rgb: (ctx.keyframes[n - 1 - i] as typeof k).rgb.slice(), pose: k.pose })) };
    const pool = new ExtractionPool(2);
    try {
      for (const c of [ctx, evicted, grown, other, ctx]) {
        const inline = await inlineExtractor()(c, candidates);
        const pooled = await pool.extract(c, candidates);
        assert.deepEqual(pooled.map(withoutTimes), inline.map(withoutTimes), `${c.keyframes.length} keyframes`);
      }
    } finally {
      await pool.close();
    }
  });

  it('rebuilds a worker\'s error as the same class with its code', async () => {
    const pool = new ExtractionPool(2);
    try {
      const bad = [candidates[0] as Uint8Array[], [new Uint8Array(10)]];
      await assert.rejects(pool.extract(ctx, bad), (e: unknown) => e instanceof BadFrameError && e.code === 'bad_frame' && /10 bytes|10/.test(e.message));
      // the pool still works afterwards
      const ok = await pool.extract(ctx, [candidates[0] as Uint8Array[]]);
      assert.equal(ok.length, 1);
    } finally {
      await pool.close();
    }
  });

  it('fails a job whose worker dies and replaces the worker; breaks cleanly when workers cannot start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'v4s-pool-'));
    try {
      const dying = join(dir, 'dying.mjs');
      writeFileSync(dying, "import { parentPort } from 'node:worker_threads';\nparentPort.on('message', () => process.exit(3));\nparentPort.postMessage({ ready: true });\n");
      const pool = new ExtractionPool(1, pathToFileURL(dying));
      try {
        await assert.rejects(pool.extract(ctx, [candidates[0] as Uint8Array[]]), (e: unknown) => e instanceof InferenceError && e.code === 'extraction_worker' && /exited with code 3/.test(e.message));
        // the replacement dies the same way: each job fails on its own, the pool keeps answering
        await assert.rejects(pool.extract(ctx, [candidates[0] as Uint8Array[]]), /exited with code 3/);
      } finally {
        await pool.close();
      }
      // a worker that loads, then exits while idle, is replaced; workers that keep doing so break the pool, no job hangs
      const quitting = join(dir, 'quitting.mjs');
      writeFileSync(quitting, "import { parentPort } from 'node:worker_threads';\nparentPort.postMessage({ ready: true });\nsetTimeout(() => process.exit(0), 20);\n");
      const idleDeaths = new ExtractionPool(1, pathToFileURL(quitting));
      try {
        await new Promise((r) => setTimeout(r, 400));
        const outcome = await Promise.race([
          idleDeaths.extract(ctx, [candidates[0] as Uint8Array[]]).then(() => 'resolved', (e: unknown) => (e instanceof InferenceError ? e.message : String(e))),
          new Promise<string>((r) => setTimeout(() => r('hung'), 5000)),
        ]);
        assert.match(outcome, /keep failing|exited with code 0/);
      } finally {
        await idleDeaths.close();
      }
      const missing = new ExtractionPool(2, pathToFileURL(join(dir, 'no-such-worker.mjs')));
      try {
        await assert.rejects(missing.extract(ctx, candidates), (e: unknown) => e instanceof InferenceError && /could not start/.test(e.message));
        await assert.rejects(missing.extract(ctx, candidates), /could not start/);
      } finally {
        await missing.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('its workers optimise on their own thread, so tearing one down leaves no compile job behind (Node 20 aborts on one)', () => {
    // a child process traces V8's optimising compiles while a pool's worker runs hot code: each compile of the
    // worker's function must be synchronous (a concurrent one is what aborted CI when a pool closed)
    const dir = mkdtempSync(join(tmpdir(), 'v4s-pool-'));
    try {
      const hot = join(dir, 'hot.mjs');
      writeFileSync(
        hot,
        "import { parentPort } from 'node:worker_threads';\n" +
          'function hotLoopInPoolWorker(a) { let s = 0; for (let i = 0; i < a.length; i++) s += a[i] * 1.5; return s; }\n' +
          "parentPort.on('message', (req) => { const a = new Float64Array(1000).fill(1); let t = 0; for (let k = 0; k < 20000; k++) t += hotLoopInPoolWorker(a);\n" +
          "  parentPort.postMessage({ id: req.id, done: { part: 'whole', result: { t } } }); });\n" +
          'parentPort.postMessage({ ready: true });\n',
      );
      const main = join(dir, 'main.mjs');
      const poolModule = new URL('../../src/planner/ExtractionPool.js', import.meta.url).href;
      writeFileSync(
        main,
        `import { ExtractionPool } from ${JSON.stringify(poolModule)};\n` +
          `const pool = new ExtractionPool(1, new URL(${JSON.stringify(pathToFileURL(hot).href)}));\n` +
          "const [r] = await pool.extract({ keyframes: [] }, [[]]);\nawait pool.close();\nconsole.log('result', r.t);\n",
      );
      const run = spawnSync(process.execPath, ['--trace-opt', main], { encoding: 'utf8', timeout: 60000 });
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stdout, /result 3000000/);
      const compiles = run.stdout.split('\n').filter((l) => l.startsWith('[compiling method') && l.includes('hotLoopInPoolWorker'));
      assert.ok(compiles.length > 0, `expected the worker's hot function to be optimised, found no compile in:\n${run.stdout.slice(0, 2000)}`);
      for (const l of compiles) assert.match(l, /ConcurrencyMode::kSynchronous/, `expected a compile on the worker's thread, found: ${l}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects a bad thread count quoting it, and work after close', async () => {
    for (const n of [0, -1, 1.5, 17, NaN]) assert.throws(() => new ExtractionPool(n), (e: unknown) => e instanceof ParameterError && e.message.includes(String(n)));
    const pool = new ExtractionPool(1);
    await pool.close();
    await assert.rejects(pool.extract(ctx, candidates), (e: unknown) => e instanceof InferenceError && e.code === 'extraction_worker');
  });
});
