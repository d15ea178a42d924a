/**
 * Pictures for people: the bitmap font's metrics, the layout helpers (border, stacking, text
 * bands), and maps at a legible scale (at least MAP_MIN_WIDTH_PX across, 3× labels on white, a
 * colour key).
 */
import { strict as assert } from 'node:assert';
import { drawText, textHeight, textWidth } from '../../src/sim/font.js';
import { drawWorldMap, labelScale, legiblePxPerM, MAP_COLORS, MAP_MAX_HEIGHT_PX, MAP_MIN_WIDTH_PX, mapKey } from '../../src/sim/map.js';
import { beside, bordered, fitText, newImage, stack, textBand, type RgbImage } from '../../src/sim/pictures.js';
import { generateWorld } from '../../src/sim/world.js';

const px = (img: RgbImage, u: number, v: number): number[] => Array.from(img.data.subarray((v * img.width + u) * 3, (v * img.width + u) * 3 + 3));
/** Pixels in rows [v0, v1) that differ from `bg`. */
function inkIn(img: RgbImage, v0: number, v1: number, bg: readonly number[] = [255, 255, 255]): number {
  let n = 0;
  for (let v = v0; v < v1; v++) for (let u = 0; u < img.width; u++) if (px(img, u, v).some((c, i) => c !== bg[i])) n++;
  return n;
}
/** Pixels anywhere of exactly colour `c`. */
function count(img: RgbImage, c: readonly number[]): number {
  let n = 0;
  for (let p = 0; p < img.width * img.height; p++) if (img.data[p * 3] === c[0] && img.data[p * 3 + 1] === c[1] && img.data[p * 3 + 2] === c[2]) n++;
  return n;
}

describe('sim/font', () => {
  it('text is 4 font pixels a character (less the last gap), 5 tall, times the scale', () => {
    assert.equal(textWidth('', 3), 0);
    assert.equal(textWidth('a', 1), 3);
    assert.equal(textWidth('plant', 3), 57);
    assert.equal(textHeight(3), 15);
  });

  it('the signs legends use are glyphs, not blanks', () => {
    for (const ch of ['/', '(', ')', '=', ',', '%', '#', '+', '_', "'", '<', '>']) {
      const img = newImage(8, 8);
      drawText(img, ch, 1, 1, [0, 0, 0], 1);
      assert.ok(inkIn(img, 0, 8) > 0, `'${ch}' draws nothing`);
    }
  });
});

describe('sim/pictures: layout', () => {
  it('bordered, stack and beside give the sizes they promise and keep the pixels', () => {
    const a = newImage(10, 6, [255, 0, 0]);
    const b = newImage(4, 9, [0, 0, 255]);
    const f = bordered(a, 3, [0, 150, 0]);
    assert.deepEqual([f.width, f.height], [16, 12]);
    assert.deepEqual(px(f, 0, 0), [0, 150, 0]);
    assert.deepEqual(px(f, 3, 3), [255, 0, 0]);
    const s = stack([a, b], 2);
    assert.deepEqual([s.width, s.height], [10, 17]);
    assert.deepEqual(px(s, 0, 8), [0, 0, 255]);
    assert.deepEqual(px(s, 9, 8), [255, 255, 255], 'narrower images are padded');
    const h = beside([a, b], 2);
    assert.deepEqual([h.width, h.height], [16, 9]);
    assert.deepEqual(px(h, 12, 8), [0, 0, 255]);
  });

  it('a text band is as wide as asked, inks each line, and cuts a line that does not fit', () => {
    const band = textBand(300, [{ text: 'candidate 1 of 4' }, { text: 'score 0.83  chosen', color: [0, 150, 0] }], { scale: 3, pad: 6 });
    assert.equal(band.width, 300);
    assert.equal(band.height, 6 + 15 + 8 + 15 + 6);
    assert.ok(inkIn(band, 6, 21) > 50, 'first line inked');
    assert.ok(count(band, [0, 150, 0]) > 50, 'second line in its colour');
    assert.equal(fitText('short', 100, 2), 'short');
    const cut = fitText('a much longer line than the band holds', 100, 2);
    assert.ok(cut.endsWith('..') && textWidth(cut, 2) <= 100, cut);
  });
});

describe('sim/map: legible maps', () => {
  it('the default scale makes every map at least 800 px across (or 1600 tall), never under 40 px/m', () => {
    for (let seed = 0; seed < 40; seed++) {
      const w = generateWorld(seed);
      const ppm = legiblePxPerM(w);
      assert.ok(ppm >= 40);
      const W = Math.ceil((w.bounds.x1 - w.bounds.x0) * ppm);
      const H = Math.ceil((w.bounds.y1 - w.bounds.y0) * ppm);
      assert.ok(W >= MAP_MIN_WIDTH_PX || H >= MAP_MAX_HEIGHT_PX - ppm, `seed ${seed}: ${W}x${H} at ${ppm} px/m`);
      assert.ok(H <= MAP_MAX_HEIGHT_PX || ppm === 40, `seed ${seed}: ${W}x${H}`);
    }
  });

  it('a map at the default scale is ≥ 800 px wide, labels 3× on white patches, the target labelled red', () => {
    const w = generateWorld(100);
    const target = w.objects[0];
    assert.ok(target);
    const view = drawWorldMap(w, undefined, target.id);
    assert.ok(view.image.width >= MAP_MIN_WIDTH_PX, `${view.image.width} px`);
    assert.equal(labelScale(view.pxPerM), 3);
    assert.ok(view.stroke >= 2, `stroke ${view.stroke} at ${view.pxPerM} px/m`);
    // the target's label and ring are red; every other label is black text
    assert.ok(count(view.image, MAP_COLORS.target) > 15 * 9, 'red ring and label');
    const small = drawWorldMap(w, 40, target.id);
    assert.equal(labelScale(small.pxPerM), 2);
    assert.equal(small.stroke, 1);
    assert.ok(small.image.width < 400, 'an explicit scale is kept');
  });

  it('a colour key below the map: taller, as wide, each swatch colour present in the key band', () => {
    const map = drawWorldMap(generateWorld(7)).image;
    const entries = [
      { color: MAP_COLORS.explored, text: 'explored' },
      { color: MAP_COLORS.executed, text: 'driven' },
      { color: MAP_COLORS.estimate, text: 'object estimate' },
    ];
    const keyed = mapKey(map, entries);
    assert.equal(keyed.width, map.width);
    assert.ok(keyed.height > map.height + 15);
    const band: RgbImage = { width: keyed.width, height: keyed.height - map.height, data: keyed.data.subarray(map.height * keyed.width * 3) };
    for (const e of entries) assert.ok(count(band, e.color) >= 15 * 30, `swatch ${e.text}`);
    assert.ok(inkIn(band, 0, band.height) > 3 * 15 * 30, 'names inked');
    // a key longer than the map wraps onto more rows
    const narrow = mapKey(newImage(200, 50), entries);
    assert.equal(narrow.width, 200);
    assert.ok(narrow.height - 50 > keyed.height - map.height, 'wrapped');
  });
});
