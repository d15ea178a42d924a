import { strict as assert } from 'node:assert';
import { BadFrameError, ParameterError } from '../../../src/core/errors.js';
import { composePose2D } from '../../../src/core/geometry.js';
import { DEFAULT_BOX_DETECTOR_PARAMS, detectBox, objectPixelsColor, redMask, sd } from '../../../src/core/path/box.js';
import { MODEL_CAMERA_DEFAULT } from '../../../src/sim/camera.js';
import { drawBox } from '../../../src/sim/renderer.js';
import { makeScenario, type Scenario } from '../../../src/sim/scenario.js';
import { PALETTE, type Rgb } from '../../../src/sim/vocabulary.js';
import { boxBlur, boxedView, view } from './fixtures.js';

const cam = MODEL_CAMERA_DEFAULT;
const W = cam.width;
const H = cam.height;

/** Views of each scenario's target from its standoff pose and from 0.5 m and 1 m further back. */
interface Case {
  sc: Scenario;
  back: number;
  rgb: Uint8Array;
  box: { x0: number; y0: number; x1: number; y1: number };
}
const scenarios = [1, 2, 4, 5, 6].map((s) => makeScenario(s));
const cases: Case[] = [];
for (const sc of scenarios) {
  for (const back of [0, 0.5, 1.0]) {
    const p = composePose2D(sc.standoff, { x: -back, y: 0, yaw: 0 });
    if (sc.world.free.occupiedAt(p.x, p.y)) continue;
    const { rgb, box } = boxedView(sc.world, p, cam, sc.target);
    if (box) cases.push({ sc, back, rgb, box });
  }
}

/** Largest edge error (px) of a detection against the drawn box (inclusive bounds → continuous). */
function edgeError(d: { x0: number; y0: number; x1: number; y1: number }, b: Case['box']): number {
  return Math.max(Math.abs(d.x0 - b.x0), Math.abs(d.y0 - b.y0), Math.abs(d.x1 - (b.x1 + 1)), Math.abs(d.y1 - (b.y1 + 1)));
}

describe('core/path/box', () => {
  it('has enough rendered cases', () => {
    assert.ok(cases.length >= 12, `only ${cases.length} cases`);
  });

  it('finds the drawn box on clean frames within 1 px, in continuous coordinates', () => {
    for (const c of cases) {
      const d = detectBox(c.rgb, W, H);
      assert.ok(d, `no box found (seed ${c.sc.seed}, back ${c.back})`);
      assert.ok(edgeError(d, c.box) <= 1, `edges off by ${edgeError(d, c.box)} px (seed ${c.sc.seed})`);
      assert.ok(Math.abs(d.cx - (d.x0 + d.x1) / 2) < 1e-9 && Math.abs(d.cy - (d.y0 + d.y1) / 2) < 1e-9);
      assert.ok(d.score >= DEFAULT_BOX_DETECTOR_PARAMS.minScore && d.score <= 1);
    }
  });

  it('finds it on box-filtered (blurry) frames within 1.5 px', () => {
    for (const c of cases) {
      const d = detectBox(boxBlur(c.rgb, W, H), W, H);
      assert.ok(d, `no box on the blurred frame (seed ${c.sc.seed}, back ${c.back})`);
      assert.ok(edgeError(d, c.box) <= 1.5, `edges off by ${edgeError(d, c.box)} px (seed ${c.sc.seed})`);
    }
  });

  it('finds a washed-out outline (200, 40, 40)', () => {
    for (const c of cases) {
      const p = composePose2D(c.sc.standoff, { x: -c.back, y: 0, yaw: 0 });
      const v = view(c.sc.world, p, cam);
      drawBox(v.rgb, W, H, c.box, [200, 40, 40]);
      const d = detectBox(v.rgb, W, H);
      assert.ok(d && edgeError(d, c.box) <= 1, `washed-out box missed or off (seed ${c.sc.seed})`);
    }
  });

  it('returns undefined on frames without a box (exploration views of several worlds)', () => {
    let n = 0;
    for (const sc of scenarios) {
      for (let i = 0; i < sc.exploration.length; i += Math.ceil(sc.exploration.length / 8)) {
        const r = view(sc.world, sc.exploration[i] as never, cam);
        assert.equal(detectBox(r.rgb, W, H), undefined, `false box in seed ${sc.seed} frame ${i}`);
        n++;
      }
    }
    assert.ok(n >= 30);
  });

  it('rejects tiny red specks and filled red blobs', () => {
    const rgb = new Uint8Array(W * H * 3).fill(128);
    const put = (u: number, v: number) => rgb.set([255, 0, 0], (v * W + u) * 3);
    put(10, 10);
    put(11, 10);
    put(10, 11);
    assert.equal(detectBox(rgb, W, H), undefined, 'a 3-pixel speck is not a box');
    for (let v = 30; v < 40; v++) for (let u = 30; u < 40; u++) put(u, v);
    assert.equal(detectBox(rgb, W, H), undefined, 'a filled square is not an outline');
    drawBox(rgb, W, H, { x0: 5, y0: 45, x1: 20, y1: 60 }, [255, 0, 0]);
    const d = detectBox(rgb, W, H);
    assert.ok(d && Math.abs(d.x0 - 5) <= 0.5 && Math.abs(d.x1 - 21) <= 0.5, JSON.stringify(d));
  });

  it('finds the outline as a small model draws it: 3 px thick, top side cut off by the frame, bottom line overshooting', () => {
    const rgb = new Uint8Array(W * H * 3).fill(150);
    const put = (u: number, v: number) => rgb.set([230, 30, 30], (v * W + u) * 3);
    // a tall narrow object (lamp) whose top leaves the image: sides at u = 22…24 and 39…41, bottom at v = 48…50
    for (let v = 0; v <= 50; v++) for (const u of [22, 23, 24, 39, 40, 41]) put(u, v);
    for (let u = 20; u <= 43; u++) for (const v of [48, 49, 50]) put(u, v);
    const d = detectBox(rgb, W, H);
    assert.ok(d, 'thick clipped outline found');
    assert.ok(Math.abs(d.x0 - 22) <= 1.5 && Math.abs(d.x1 - 42) <= 1.5, `sides ${d.x0}, ${d.x1}`);
    assert.ok(Math.abs(d.y1 - 51) <= 1.5, `bottom ${d.y1}`);
    assert.equal(d.clipped.top, true);
    assert.ok(Math.abs(d.cx - 32) <= 1, `centre ${d.cx}`);
    // the same strokes filled in are a blob, not a box, even with their top on the border
    for (let v = 0; v <= 50; v++) for (let u = 22; u <= 41; u++) put(u, v);
    assert.equal(detectBox(rgb, W, H), undefined, 'a filled rectangle on the border is not an outline');
  });

  it('reports clipped sides at the image border', () => {
    const rgb = new Uint8Array(W * H * 3).fill(100);
    drawBox(rgb, W, H, { x0: 0, y0: 20, x1: 30, y1: 63 }, [255, 0, 0]);
    const d = detectBox(rgb, W, H);
    assert.deepEqual(d?.clipped, { left: true, top: false, right: false, bottom: true });
  });

  it('SD ≈ 0 (< 0.05) when the robot faces the object from the ground-truth standoff', () => {
    for (const c of cases) {
      const d = detectBox(c.rgb, W, H);
      assert.ok(d);
      assert.ok(sd(d, W) < 0.05, `SD ${sd(d, W)} (seed ${c.sc.seed}, back ${c.back})`);
    }
    // and it is large when the robot looks 20° away
    const c = cases[0] as Case;
    const { rgb } = boxedView(c.sc.world, composePose2D(c.sc.standoff, { x: -c.back, y: 0, yaw: (20 * Math.PI) / 180 }), cam, c.sc.target);
    const d = detectBox(rgb, W, H);
    assert.ok(d && sd(d, W) > 0.2, `SD ${d ? sd(d, W) : 'no box'} when looking 20° away`);
    assert.equal(sd({ cx: 0 }, W), 0.5);
    assert.equal(sd({ cx: 32 }, W), 0);
  });

  it('objectPixelsColor returns the object colour (nearest palette entry) in most views', () => {
    const nearest = (c: readonly number[]) => {
      let best = -1;
      let bd = Infinity;
      PALETTE.forEach((p: Rgb, i) => {
        // shading scales colours: compare at the best brightness
        const k = (p[0] * (c[0] as number) + p[1] * (c[1] as number) + p[2] * (c[2] as number)) / (p[0] ** 2 + p[1] ** 2 + p[2] ** 2);
        const d = Math.hypot(k * p[0] - (c[0] as number), k * p[1] - (c[1] as number), k * p[2] - (c[2] as number)) + 40 * Math.abs(Math.log(Math.max(0.05, k)));
        if (d < bd) {
          bd = d;
          best = i;
        }
      });
      return best;
    };
    let right = 0;
    for (const c of cases) {
      const d = detectBox(c.rgb, W, H);
      assert.ok(d);
      const col = objectPixelsColor(c.rgb, W, H, d);
      assert.ok(col && col.share > 0 && col.share <= 1 && col.pixels > 0);
      if (nearest(col.rgb) === c.sc.target.colorIndex) right++;
    }
    assert.ok(right >= Math.ceil(0.75 * cases.length), `right colour in ${right}/${cases.length} views`);
  });

  it('objectPixelsColor is undefined for a box with no interior', () => {
    const rgb = new Uint8Array(W * H * 3).fill(90);
    drawBox(rgb, W, H, { x0: 10, y0: 10, x1: 11, y1: 11 }, [255, 0, 0]);
    assert.equal(objectPixelsColor(rgb, W, H, { x0: 10, y0: 10, x1: 12, y1: 12 }), undefined);
  });

  it('redMask marks the outline only', () => {
    const rgb = new Uint8Array(W * H * 3).fill(120);
    drawBox(rgb, W, H, { x0: 10, y0: 10, x1: 30, y1: 30 }, [255, 0, 0]);
    const m = redMask(rgb, W, H);
    assert.equal(m.reduce((s, x) => s + x, 0), 4 * 20);
  });

  it('throws BadFrameError for a buffer of the wrong size and for a bad size', () => {
    assert.throws(() => detectBox(new Uint8Array(10), W, H), (e: unknown) => e instanceof BadFrameError && /12288 bytes, got 10/.test(e.message));
    assert.throws(() => detectBox(new Uint8Array(0), 0, 4), (e: unknown) => e instanceof BadFrameError && /0x4/.test(e.message));
    assert.throws(() => objectPixelsColor(new Uint8Array(3), W, H, { x0: 0, y0: 0, x1: 1, y1: 1 }), BadFrameError);
  });

  it('throws ParameterError for bad detector parameters and a bad width', () => {
    const rgb = new Uint8Array(W * H * 3);
    assert.throws(() => detectBox(rgb, W, H, { ridgeThreshold: -1 }), (e: unknown) => e instanceof ParameterError && /ridgeThreshold.*-1/.test(e.message));
    assert.throws(() => detectBox(rgb, W, H, { mergeGapPx: 1.5 }), (e: unknown) => e instanceof ParameterError && /mergeGapPx.*1.5/.test(e.message));
    assert.throws(() => detectBox(rgb, W, H, { minScore: 2 }), (e: unknown) => e instanceof ParameterError && /minScore.*2/.test(e.message));
    assert.throws(() => sd({ cx: 1 }, 0), (e: unknown) => e instanceof ParameterError && /width.*0/.test(e.message));
  });
});
