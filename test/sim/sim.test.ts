import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { projectBodyPoint, cameraFromFov } from '../../src/core/camera.js';
import { relativePose2D } from '../../src/core/geometry.js';
import { MODEL_CAMERA_DEFAULT } from '../../src/sim/camera.js';
import { buildClips, DEFAULT_CLIP_OPTIONS } from '../../src/sim/dataset.js';
import { driveTo } from '../../src/sim/driver.js';
import { aStar, OccupancyGrid, pathLength } from '../../src/sim/grid.js';
import { judge } from '../../src/sim/judge.js';
import { encodeNpy } from '../../src/sim/npy.js';
import { drawBox, render } from '../../src/sim/renderer.js';
import { makeScenario, posesAlongPath, visibilityTable, VISIBILITY_CAMERA } from '../../src/sim/scenario.js';
import { CATEGORIES, PALETTE, vocabularyIndex } from '../../src/sim/vocabulary.js';
import { findFreeNear, generateWorld, standoffCandidates } from '../../src/sim/world.js';

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

describe('sim/world', () => {
  it('same seed → identical world; different seeds → different worlds', () => {
    const a = generateWorld(7);
    const b = generateWorld(7);
    const c = generateWorld(8);
    assert.deepEqual(a.objects, b.objects);
    assert.deepEqual(a.rooms, b.rooms);
    assert.notDeepEqual(a.objects, c.objects);
  });

  it('1–3 rooms, 4–8 objects, one per category, colours from the palette (never red), all reachable', () => {
    for (let s = 0; s < 30; s++) {
      const w = generateWorld(s);
      assert.ok(w.rooms.length >= 1 && w.rooms.length <= 3, `seed ${s}: ${w.rooms.length} rooms`);
      assert.ok(w.objects.length >= 4 && w.objects.length <= 8);
      assert.equal(new Set(w.objects.map((o) => o.category)).size, w.objects.length);
      for (const o of w.objects) {
        assert.ok(PALETTE.includes(o.color));
        assert.ok(!(o.color[0] > 200 && o.color[1] < 80 && o.color[2] < 80), 'no red objects');
      }
      const r0 = w.rooms[0];
      assert.ok(r0);
      const c = findFreeNear(w.free, (r0.x0 + r0.x1) / 2, (r0.y0 + r0.y1) / 2);
      assert.ok(c, `seed ${s}: no free cell near the centre of room 0`);
      const reach = w.free.reachableFrom(c[0], c[1]);
      for (const o of w.objects) assert.ok(standoffCandidates(w.free, w.grid, reach, o).length > 0, `seed ${s}: ${o.category} unreachable`);
    }
  });

  it('rejects a bad seed', () => {
    assert.throws(() => generateWorld(-1), /non-negative integer, got -1/);
    assert.throws(() => generateWorld(1.5), /non-negative integer, got 1.5/);
  });

  it('vocabulary indices are 1-based with 0 = null', () => {
    assert.equal(vocabularyIndex(CATEGORIES[0]), 1);
    assert.equal(vocabularyIndex('unicorn'), -1);
  });
});

describe('sim/renderer', () => {
  const world = generateWorld(3);
  const o = world.objects[0];
  assert.ok(o);

  it('is deterministic: same pose → byte-identical render', () => {
    const p = { x: 1, y: 1, yaw: 0.3 };
    assert.equal(md5(render(world, p, MODEL_CAMERA_DEFAULT).rgb), md5(render(world, p, MODEL_CAMERA_DEFAULT).rgb));
  });

  it('an object projects where the pinhole model says, and its box matches the id mask', () => {
    const cam = cameraFromFov(160, 120, Math.PI / 3, 0.5, 0);
    // stand 2 m in front of the object looking at it
    const cands = standoffCandidates(world.free, world.grid, world.free.reachableFrom(o.x + 1.5, o.y), o);
    const c = cands[0] ?? [o.x + 1.5, o.y];
    const pose = { x: c[0], y: c[1], yaw: Math.atan2(o.y - c[1], o.x - c[0]) };
    const r = render(world, pose, cam);
    const b = r.objects.get(o.id);
    assert.ok(b, 'object visible');
    const rel = relativePose2D(pose, { x: o.x, y: o.y, yaw: 0 });
    const pr = projectBodyPoint(cam, rel.x, rel.y, 0.3);
    assert.ok(pr);
    assert.ok(Math.abs(pr.u - cam.cx) < 1e-6, 'centre column');
    assert.ok(b.x0 <= pr.u && pr.u <= b.x1 + 1, `u ${pr.u} within box ${b.x0}..${b.x1}`);
    // box equals the bounds of the id mask
    let x0 = Infinity, x1 = -1, n = 0;
    for (let v = 0; v < r.height; v++) for (let u = 0; u < r.width; u++) if (r.ids[v * r.width + u] === o.id) { x0 = Math.min(x0, u); x1 = Math.max(x1, u); n++; }
    assert.equal(b.x0, x0);
    assert.equal(b.x1, x1);
    assert.equal(b.pixels, n);
    // depth of the centre pixel of the box is about the distance to the object's near face
    const dv = r.depth[Math.round((b.y0 + b.y1) / 2) * r.width + Math.round((b.x0 + b.x1) / 2)] as number;
    assert.ok(dv > 0 && dv < Math.hypot(rel.x, rel.y) + 0.1, `depth ${dv}`);
  });

  it('draws a red box outline', () => {
    const rgb = new Uint8Array(8 * 8 * 3);
    drawBox(rgb, 8, 8, { x0: 2, y0: 2, x1: 5, y1: 5 }, [255, 0, 0]);
    assert.equal(rgb[(2 * 8 + 3) * 3], 255);
    assert.equal(rgb[(3 * 8 + 3) * 3], 0, 'inside stays empty');
  });
});

describe('sim/scenario and dataset', function () {
  this.timeout(60000);
  it('the target is out of view at the request and was seen during exploration', () => {
    for (const seed of [100, 101, 102, 103]) {
      const sc = makeScenario(seed);
      const vis = visibilityTable(sc.world, [sc.start]);
      assert.equal(vis[0]?.[sc.target.id] ?? 0, 0, `seed ${seed}: target visible at request`);
      assert.ok(sc.visibility.some((v) => (v[sc.target.id] as number) >= 8));
      assert.ok(sc.oracleLength > 0);
      // the ground truth passes its own test: facing the target at the standoff, centred
      const j = judge(sc.world, sc.target, sc.standoff, VISIBILITY_CAMERA);
      assert.ok(j.success, `seed ${seed}: GT standoff fails the judge: ${JSON.stringify(j)}`);
      assert.ok(j.sd >= 0 && j.sd < 0.2, `seed ${seed}: GT SD ${j.sd}`);
      const along = posesAlongPath(sc, 6);
      assert.deepEqual(along[5], sc.standoff);
    }
  });

  it('clips are byte-identical per seed, with original indices sorted and targets after the newest', () => {
    const a = buildClips(10001, { ...DEFAULT_CLIP_OPTIONS, clipsPerWorld: 2 });
    const b = buildClips(10001, { ...DEFAULT_CLIP_OPTIONS, clipsPerWorld: 2 });
    assert.equal(a.length, 2);
    assert.equal(md5((a[0] as { frames: Uint8Array }).frames), md5((b[0] as { frames: Uint8Array }).frames));
    for (const c of a) {
      const idx = Array.from(c.indices);
      const K = DEFAULT_CLIP_OPTIONS.k;
      for (let i = 1; i < idx.length; i++) assert.ok((idx[i] as number) > (idx[i - 1] as number));
      assert.equal(idx[K], (idx[K - 1] as number) + 1);
      // at least one context frame shows the target
      let seen = false;
      for (let f = 0; f < K; f++) if ((c.boxes[f * 4] as number) >= 0) seen = true;
      assert.ok(seen);
    }
  });

  it('npy encoding has the numpy header and 64-byte alignment', () => {
    const b = encodeNpy({ dtype: '<i4', shape: [2, 3], data: new Int32Array([1, 2, 3, 4, 5, 6]) });
    assert.equal(Buffer.from(b.subarray(1, 6)).toString('latin1'), 'NUMPY');
    const hlen = (b[8] as number) + ((b[9] as number) << 8);
    assert.equal((10 + hlen) % 64, 0);
    assert.match(Buffer.from(b.subarray(10, 10 + hlen)).toString('latin1'), /'shape': \(2, 3\)/);
    assert.throws(() => encodeNpy({ dtype: '<f4', shape: [2], data: new Float32Array(3) }), /holds 2 values, data has 3/);
  });
});

describe('sim/grid and driver', () => {
  it('A* goes around an obstacle and fails when walled off', () => {
    const g = new OccupancyGrid(0, 0, 40, 40, 0.1);
    g.fillRect(1.95, 0, 2.05, 3.0, 1);
    const p = aStar(g, 0.5, 0.5, 3.5, 0.5);
    assert.ok(p);
    assert.ok(pathLength(p) > 5.5, `went around: ${pathLength(p)}`);
    g.fillRect(1.95, 0, 2.05, 4.0, 1);
    assert.equal(aStar(g, 0.5, 0.5, 3.5, 0.5), undefined);
  });

  it('the driver never enters an occupied cell and ends at the goal heading', () => {
    const sc = makeScenario(104);
    const r = driveTo(sc.world, sc.start, sc.standoff);
    assert.equal(r.status, 'reached');
    for (const p of r.poses) assert.ok(!sc.world.free.occupiedAt(p.x, p.y), `collision at ${p.x},${p.y}`);
    const end = r.poses[r.poses.length - 1];
    assert.ok(end);
    assert.ok(Math.hypot(end.x - sc.standoff.x, end.y - sc.standoff.y) < 0.1);
    assert.ok(judge(sc.world, sc.target, end, MODEL_CAMERA_DEFAULT).success);
  });
});
