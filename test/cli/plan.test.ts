import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createBag } from '../../src/bag/files.js';
import { timeFromNs } from '../../src/ros/messages/index.js';
import { yawToQuaternion } from '../../src/core/geometry.js';
import { SIM_CAMERA } from '../../src/sim/graphMission.js';
import { render } from '../../src/sim/renderer.js';
import { makeScenario } from '../../src/sim/scenario.js';

const run = promisify(execFile);
const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

describe('cli/plan --bag', function () {
  this.timeout(120000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'v4s-plan-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('plans from a recorded camera + tf bag and writes the outputs and a bag of them', async () => {
    const sc = makeScenario(100);
    const bag = await createBag(join(dir, 'input'));
    await bag.writer.addTopic('/cam/image_raw', 'sensor_msgs/msg/Image');
    await bag.writer.addTopic('/tf', 'tf2_msgs/msg/TFMessage');
    await bag.writer.addTopic('/tf_static', 'tf2_msgs/msg/TFMessage');
    await bag.writer.writeMessage('/tf_static', { transforms: [{ header: { stamp: timeFromNs(0n), frame_id: 'base_link' }, child_frame_id: 'cam', transform: { translation: { x: 0, y: 0, z: 0.5 }, rotation: { x: -0.5, y: 0.5, z: -0.5, w: 0.5 } } }] }, 1n);
    for (const [i, p] of sc.exploration.entries()) {
      const ns = BigInt(1e9) + BigInt(i) * 200_000_000n;
      const stamp = timeFromNs(ns);
      await bag.writer.writeMessage('/tf', { transforms: [{ header: { stamp, frame_id: 'map' }, child_frame_id: 'base_link', transform: { translation: { x: p.x, y: p.y, z: 0 }, rotation: yawToQuaternion(p.yaw) } }] }, ns);
      const img = render(sc.world, p, SIM_CAMERA).rgb;
      await bag.writer.writeMessage('/cam/image_raw', { header: { stamp, frame_id: 'cam' }, height: SIM_CAMERA.height, width: SIM_CAMERA.width, encoding: 'rgb8', is_bigendian: 0, step: SIM_CAMERA.width * 3, data: img }, ns);
    }
    await bag.close();
    const out = join(dir, 'out');
    const r = await run(process.execPath, [cli, 'plan', '--bag', join(dir, 'input'), '--object', sc.target.category, '--out', out, '--candidates', '1', '--steps', '2']);
    assert.match(r.stdout, /replayed \d+ messages .* camera \/cam\/image_raw/);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    assert.equal(summary.camera_topic, '/cam/image_raw');
    assert.ok(summary.keyframes > 5);
    assert.match(summary.outcome, /^succeeded: planned/);
    for (const f of ['imagined.gif', 'imagined.png', 'candidates.gif', join('plan', 'metadata.yaml')]) assert.ok(existsSync(join(out, f)), f);
    const info = await run(process.execPath, [cli, 'bag', 'info', join(out, 'plan'), '--json']);
    const topics = (JSON.parse(info.stdout) as { topics: { name: string }[] }).topics.map((t) => t.name);
    assert.ok(topics.includes('/video4spatial_nav/plan') && topics.includes('/video4spatial_nav/imagined_trajectory'), topics.join(','));
  });

  it('refuses a bag without a camera topic, naming what it has', async () => {
    const bag = await createBag(join(dir, 'nocam'));
    await bag.writer.addTopic('/tf', 'tf2_msgs/msg/TFMessage');
    await bag.writer.writeMessage('/tf', { transforms: [] }, 1n);
    await bag.close();
    await assert.rejects(run(process.execPath, [cli, 'plan', '--bag', join(dir, 'nocam'), '--object', 'chair']), (e: { stderr: string; code: number }) => e.code === 2 && /no camera topic .* \(topics: \/tf \[tf2_msgs\/msg\/TFMessage\]\)/.test(e.stderr));
  });
});
