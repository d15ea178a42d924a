import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { FACING_TOLERANCE_RAD } from '../../src/sim/judge.js';

const run = promisify(execFile);
const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/**
 * The whole mission with the SHIPPED model (onnxruntime-node, the real node on the in-process
 * graph, SimRobot, SimNav2), at a small sampler setting so CI stays short. What the model achieves
 * is measured by `eval`; this checks the product path end to end and that success is the
 * simulator's judgement, consistent with the distances it reports.
 */
describe('cli/demo with the shipped model', function () {
  this.timeout(300000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'v4s-demo-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('explores, plans, drives and writes summary, pictures and a rosbag2 bag', async () => {
    const out = join(dir, 'out');
    const r = await run(process.execPath, [cli, 'demo', '--seed', '103', '--candidates', '2', '--steps', '3', '--time-budget', '60', '--out', out], { maxBuffer: 64 * 1024 * 1024 });
    assert.match(r.stdout, /explored \d+ frames; \d+ keyframes in memory/);
    assert.match(r.stdout, /plan 1: \d+ waypoint\(s\)/);
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Record<string, unknown>;
    for (const k of ['success', 'final_distance_m', 'final_bearing_deg', 'plans', 'plan_s']) assert.ok(k in s, `summary.json lacks ${k}`);
    assert.equal(typeof s['success'], 'boolean');
    assert.ok((s['plans'] as number) >= 1);
    assert.ok((s['plan_s'] as number) > 0 && Number.isFinite(s['plan_s']));
    const d = s['final_distance_m'] as number;
    const reach = s['reach_m'] as number;
    const bearing = Math.abs(s['final_bearing_deg'] as number);
    const maxBearing = (FACING_TOLERANCE_RAD * 180) / Math.PI;
    // summary.json rounds (mm, 0.1°): only a value on the boundary itself could disagree
    if (Math.abs(d - reach) > 0.002 && Math.abs(bearing - maxBearing) > 0.1) assert.equal(s['success'], d <= reach && bearing <= maxBearing, JSON.stringify(s));
    assert.match(r.stdout, s['success'] ? /SUCCESS: ended/ : /FAILED: ended/);
    for (const f of ['imagined.gif', 'imagined.png', 'candidates.gif', 'map.png', join('session', 'metadata.yaml')]) assert.ok(existsSync(join(out, f)), f);
    const info = await run(process.execPath, [cli, 'bag', 'info', join(out, 'session'), '--json'], { maxBuffer: 64 * 1024 * 1024 });
    const topics = (JSON.parse(info.stdout) as { topics: { name: string; count: number }[] }).topics;
    const count = (n: string) => topics.find((t) => t.name === n)?.count ?? 0;
    assert.ok(count('/camera/image_raw') > 50, 'camera frames recorded');
    assert.ok(count('/tf') > 50, 'tf recorded');
    assert.ok(count('/video4spatial_nav/plan') >= 1 && count('/video4spatial_nav/imagined_trajectory') >= 1, JSON.stringify(topics.map((t) => t.name)));
  });
});
