import { strict as assert } from 'node:assert';
import { type RawLayout, rawLayout } from '../../src/vision/imageFormat.js';
import { isOpenCvAvailable, loadOpenCv } from '../../src/vision/opencv.js';
import { axisTaps, rawThumbnail, resampleRawToRgb, rgbThumbnail } from '../../src/vision/resample.js';
import { makeImage, maxAbsDiff, skipWithoutOpenCv } from './images.js';

function rgbLayout(w: number, h: number, f: (x: number, y: number) => [number, number, number]): RawLayout {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set(f(x, y), (y * w + x) * 3);
  return rawLayout({ width: w, height: h, encoding: 'rgb8', is_bigendian: 0, step: w * 3, data });
}

describe('vision/resample', () => {
  it('tap weights of every output sum to 1 (area down, bilinear up)', () => {
    for (const [src, out] of [
      [480, 64],
      [640, 64],
      [3, 2],
      [64, 64],
      [10, 64],
      [1, 5],
    ] as const) {
      const t = axisTaps(src, out);
      for (let o = 0; o < out; o++) {
        let s = 0;
        for (let k = t.start[o] as number; k < (t.start[o + 1] as number); k++) s += t.w[k] as number;
        assert.ok(Math.abs(s - 1) < 1e-5, `${src}→${out} output ${o}: ${s}`);
      }
    }
  });

  it('a uniform colour stays exactly that colour, down and up', () => {
    const l = rgbLayout(640, 480, () => [12, 200, 77]);
    for (const [crop, w, h] of [
      [{ x: 80, y: 0, width: 480, height: 480 }, 64, 64],
      [{ x: 5, y: 5, width: 10, height: 7 }, 64, 48],
    ] as const) {
      const out = resampleRawToRgb(l, crop, w, h);
      for (let i = 0; i < out.length; i += 3) assert.deepEqual([out[i], out[i + 1], out[i + 2]], [12, 200, 77]);
    }
  });

  it('area averaging: 2x2 blocks at factor 2, overlap weights at 3→2', () => {
    const l = rgbLayout(4, 2, (x, y) => [x * 10 + y * 40, 0, 0]);
    assert.deepEqual([...resampleRawToRgb(l, { x: 0, y: 0, width: 4, height: 2 }, 2, 1)].filter((_, i) => i % 3 === 0), [25, 45]);
    const r = rgbLayout(3, 1, (x) => [x * 90, 0, 0]);
    // out0 = (0·1 + 90·0.5)/1.5 = 30, out1 = (90·0.5 + 180·1)/1.5 = 150
    assert.deepEqual([...resampleRawToRgb(r, { x: 0, y: 0, width: 3, height: 1 }, 2, 1)].filter((_, i) => i % 3 === 0), [30, 150]);
  });

  it('bilinear when growing, clamped at the edges', () => {
    const l = rgbLayout(2, 1, (x) => [x * 100, 0, 0]);
    assert.deepEqual([...resampleRawToRgb(l, { x: 0, y: 0, width: 2, height: 1 }, 4, 1)].filter((_, i) => i % 3 === 0), [0, 25, 75, 100]);
  });

  it('reads only the crop', () => {
    const l = rgbLayout(50, 40, (x, y) => (x >= 10 && x < 30 && y >= 5 && y < 25 ? [10, 20, 30] : [255, 255, 255]));
    const out = resampleRawToRgb(l, { x: 10, y: 5, width: 20, height: 20 }, 7, 7);
    for (let i = 0; i < out.length; i += 3) assert.deepEqual([out[i], out[i + 1], out[i + 2]], [10, 20, 30]);
  });

  it('thumbnails: uniform in, uniform out; the pattern keeps its left-right gradient', () => {
    const u = rawThumbnail(rgbLayout(64, 48, () => [100, 100, 100]), { x: 0, y: 0, width: 64, height: 48 }, 8);
    assert.ok(u.data.every((v) => v === 99 || v === 100), [...u.data].join(','));
    const img = rawLayout(makeImage('rgb8', 160, 120));
    const t = rawThumbnail(img, { x: 20, y: 0, width: 120, height: 120 }, 16);
    assert.equal(t.data.length, 256);
    const be = rawThumbnail(rawLayout(makeImage('mono16', 160, 120, { bigEndian: true })), { x: 20, y: 0, width: 120, height: 120 }, 16);
    const le = rawThumbnail(rawLayout(makeImage('mono16', 160, 120)), { x: 20, y: 0, width: 120, height: 120 }, 16);
    assert.deepEqual(be.data, le.data);
    const g = rgbThumbnail(new Uint8Array(16 * 16 * 3).fill(50), 16, 16, 4);
    assert.ok(g.data.every((v) => v === 49 || v === 50));
  });

  it('matches OpenCV INTER_AREA within 1 grey level', function () {
    skipWithoutOpenCv(this, isOpenCvAvailable());
    const cv = loadOpenCv();
    const img = makeImage('rgb8', 640, 480);
    const crop = { x: 80, y: 0, width: 480, height: 480 };
    const js = resampleRawToRgb(rawLayout(img), crop, 64, 64);
    const m = new cv.Mat(480, 640, cv.CV_8UC3, Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), img.step);
    const ref = m.getRegion(new cv.Rect(crop.x, crop.y, crop.width, crop.height)).resize(64, 64, 0, 0, cv.INTER_AREA).getData();
    assert.ok(maxAbsDiff(js, new Uint8Array(ref)) <= 1);
  });
});
