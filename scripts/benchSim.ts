/**
 * Renderer speed: frames per second at 64×64 (model size, with and without 2× supersampling),
 * 160×120 and 640×480, and clips per second of the dataset builder, on one core.
 * Usage: node dist/scripts/benchSim.js [--json]
 */
import { cameraFromFov } from '../src/core/camera.js';
import { MODEL_CAMERA_DEFAULT } from '../src/sim/camera.js';
import { buildClips, DEFAULT_CLIP_OPTIONS } from '../src/sim/dataset.js';
import { render } from '../src/sim/renderer.js';
import { generateWorld } from '../src/sim/world.js';

function fps(w: ReturnType<typeof generateWorld>, cam: ReturnType<typeof cameraFromFov>, ss: number, n: number): number {
  const r0 = w.rooms[0];
  if (!r0) throw new Error('world without rooms');
  const poses = Array.from({ length: n }, (_, i) => ({ x: (r0.x0 + r0.x1) / 2, y: (r0.y0 + r0.y1) / 2, yaw: (i / n) * 2 * Math.PI }));
  render(w, poses[0] as { x: number; y: number; yaw: number }, cam, { supersample: ss });
  const t = performance.now();
  for (const p of poses) render(w, p, cam, { supersample: ss });
  return (n * 1000) / (performance.now() - t);
}

const worlds = [1, 2, 3, 4].map((s) => generateWorld(s));
const avg = (f: (w: ReturnType<typeof generateWorld>) => number) => worlds.map(f).reduce((a, b) => a + b, 0) / worlds.length;
const res = {
  fps_64x64: avg((w) => fps(w, MODEL_CAMERA_DEFAULT, 1, 200)),
  fps_64x64_ss2: avg((w) => fps(w, MODEL_CAMERA_DEFAULT, 2, 100)),
  fps_160x120: avg((w) => fps(w, cameraFromFov(160, 120, 1.4, 0.5), 1, 40)),
  fps_640x480: avg((w) => fps(w, cameraFromFov(640, 480, 1.4, 0.5), 1, 8)),
  ms_per_clip: 0,
};
const t = performance.now();
let n = 0;
for (let s = 20000; s < 20008; s++) n += buildClips(s, DEFAULT_CLIP_OPTIONS).length;
res.ms_per_clip = (performance.now() - t) / n;
if (process.argv.includes('--json')) process.stdout.write(JSON.stringify(res) + '\n');
else {
  for (const [k, v] of Object.entries(res)) process.stdout.write(`${k.padEnd(16)} ${v.toFixed(1)}\n`);
  process.stdout.write(`→ a 10 000-clip dataset (K=8, N=6, 64×64, ss2) takes ≈ ${((res.ms_per_clip * 10000) / 60000).toFixed(1)} min on one core\n`);
}
