/**
 * Stress for closing extraction pools: prints how many child processes aborted while pools were closed.
 *   node dist/scripts/stressPoolTeardown.js [runs] [closes]   (default 8 runs of 40 closes)
 *   node dist/scripts/stressPoolTeardown.js --first-plans [pools]   (default 5)
 * Each run is a child process that builds a two-worker ExtractionPool, starts a plan of two
 * candidates and closes the pool, `closes` times: half at a random moment within the plan (workers
 * busy, optimising compiles likely in flight), half right after it (as the tests and a node's
 * shutdown do). Before workerIsolatesOptimiseInline, Node 20 aborted such a process now and then
 * (exit 134, `NodePlatform::ForIsolate … Assertion failed`); the script counts those aborts.
 * `--first-plans` times instead what optimising on the workers' own threads could cost: the first
 * six plans (four candidates each) of `pools` fresh two-worker pools, median ms per plan.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { median } from '../src/core/context/contextCost.js';
import { ExtractionPool } from '../src/planner/ExtractionPool.js';
import { extractionFixture } from '../src/sim/extractionFixture.js';

function positiveInt(arg: string | undefined, fallback: number, what: string): number {
  if (arg === undefined) return fallback;
  const n = Number(arg);
  if (!(Number.isInteger(n) && n >= 1)) throw new Error(`expected ${what} to be an integer ≥ 1, found '${arg}'`);
  return n;
}

/** One child: `closes` pools, each closed during or right after a plan of two candidates. */
async function child(closes: number): Promise<void> {
  const { ctx, candidates } = extractionFixture(11, 2);
  for (let i = 0; i < closes; i++) {
    const pool = new ExtractionPool(2);
    const plan = pool.extract(ctx, candidates).catch(() => undefined); // a plan cut by close() fails: expected
    if (i % 2 === 0) await new Promise((r) => setTimeout(r, 100 + Math.random() * 700));
    else await plan;
    await pool.close();
  }
}

/** Median ms of each of the first six plans of `pools` fresh pools. */
async function firstPlans(pools: number): Promise<void> {
  const { ctx, candidates } = extractionFixture(11, 4);
  const rows: number[][] = [];
  for (let i = 0; i < pools; i++) {
    const pool = new ExtractionPool(2);
    const ms: number[] = [];
    for (let k = 0; k < 6; k++) {
      const t0 = performance.now();
      await pool.extract(ctx, candidates);
      ms.push(performance.now() - t0);
    }
    await pool.close();
    rows.push(ms);
  }
  const cols = [0, 1, 2, 3, 4, 5].map((k) => median(rows.map((r) => r[k] as number)).toFixed(0));
  console.log(`median ms per plan (M = 4, 2 workers, ${pools} fresh pools), plans 1-6: ${cols.join(' ')}`);
}

if (process.argv[2] === '--first-plans') {
  await firstPlans(positiveInt(process.argv[3], 5, 'pools'));
} else if (process.argv[2] === '--child') {
  await child(positiveInt(process.argv[3], 40, 'closes'));
} else {
  const runs = positiveInt(process.argv[2], 8, 'runs');
  const closes = positiveInt(process.argv[3], 40, 'closes');
  const script = fileURLToPath(import.meta.url);
  let aborted = 0;
  let asserted = 0;
  const t0 = Date.now();
  for (let r = 0; r < runs; r++) {
    const run = spawnSync(process.execPath, [script, '--child', String(closes)], { encoding: 'utf8' });
    const assertion = /Assertion failed/.test(run.stderr + run.stdout);
    if (run.status !== 0) aborted++;
    if (assertion) asserted++;
    console.log(`run ${r + 1}: exit ${run.status ?? run.signal}${assertion ? ' (V8 platform assertion)' : ''}`);
  }
  console.log(`${runs} runs × ${closes} pool closes (half mid-plan): ${aborted} runs aborted, ${asserted} with the platform assertion; ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}
