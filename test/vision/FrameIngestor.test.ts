import { strict as assert } from 'node:assert';
import { PNG } from 'pngjs';
import { intrinsicsFromHfov, modelCameraFromFov } from '../../src/core/context/cameraFit.js';
import { BadFrameError, ParameterError } from '../../src/core/errors.js';
import { FrameIngestor, decodeCompressedImage, decodeImage, fitToModel, isCompressed, jpegReduction } from '../../src/vision/FrameIngestor.js';
import type { CompressedImageLike } from '../../src/vision/imageFormat.js';
import { OpenCvUnavailableError, isOpenCvAvailable, loadOpenCv, requireOpenCv } from '../../src/vision/opencv.js';
import { ENCODINGS, makeImage, maxAbsDiff, meanAbsDiff, patternImage, skipWithoutOpenCv } from './images.js';

const DEG = Math.PI / 180;
const MODEL = modelCameraFromFov(64, 64, 60 * DEG, 0.5, 0);
const TOPIC = '/camera/image_raw';
const bad = (code: string, re?: RegExp) => (e: unknown) => e instanceof BadFrameError && e.code === code && (re === undefined || re.test(e.message));

function jpegOf(w: number, h: number, quality = 95): Uint8Array {
  const cv = loadOpenCv();
  const img = makeImage('bgr8', w, h);
  const m = new cv.Mat(h, w, cv.CV_8UC3, Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), img.step);
  return new Uint8Array(cv.imencode('.jpg', m, [cv.IMWRITE_JPEG_QUALITY, quality]));
}

function pngOf(w: number, h: number): Uint8Array {
  const png = new PNG({ width: w, height: h });
  const rgb = patternImage(w, h);
  for (let i = 0; i < w * h; i++) {
    png.data[4 * i] = rgb[3 * i] as number;
    png.data[4 * i + 1] = rgb[3 * i + 1] as number;
    png.data[4 * i + 2] = rgb[3 * i + 2] as number;
    png.data[4 * i + 3] = 255;
  }
  return new Uint8Array(PNG.sync.write(png));
}

describe('vision/FrameIngestor (pure-JS paths)', () => {
  it('fits every raw encoding to the model frame, padded or not, and matches fitToModel on the decoded image', () => {
    const ing = new FrameIngestor({ model: MODEL, topic: TOPIC, rawBackend: 'js' });
    const ref = fitToModel({ width: 160, height: 120, data: patternImage(160, 120) }, intrinsicsFromHfov(160, 120, 60 * DEG), MODEL);
    const refMono = fitToModel({ width: 160, height: 120, data: patternImage(160, 120, true) }, intrinsicsFromHfov(160, 120, 60 * DEG), MODEL);
    for (const enc of ENCODINGS) {
      const out = ing.fitImage(makeImage(enc, 160, 120, { pad: 5 }));
      assert.equal(out.pixels.length, 64 * 64 * 3);
      assert.deepEqual(out.plan.crop, { x: 20, y: 0, width: 120, height: 120 });
      const mono = enc === 'mono8' || enc === '8UC1' || enc === 'mono16';
      assert.ok(maxAbsDiff(out.pixels, mono ? refMono.pixels : ref.pixels) <= 1, enc);
    }
    assert.deepEqual(decodeImage(makeImage('bgr8', 5, 4)).data, patternImage(5, 4));
  });

  it('warns once that a 4:3 camera is narrower than the square 60° model, and once about a CameraInfo size mismatch', () => {
    const warnings: string[] = [];
    const ing = new FrameIngestor({ model: MODEL, topic: TOPIC, rawBackend: 'js', onWarning: (m) => warnings.push(m) });
    for (let i = 0; i < 5; i++) ing.fitImage(makeImage('rgb8', 160, 120));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] as string, /narrower than the model's; using the largest crop, the model sees 75% .*crop 120x120\+20\+0 → model 64x64 .*\[topic=\/camera\/image_raw\]/);
    // a wide camera calibrated at twice the stream's resolution: crop shrinks, no FOV warning
    const f = 160 / Math.tan(50 * DEG); // 100° at 320x240 → 160 px half-width
    ing.setCameraInfo({ width: 320, height: 240, k: [f, 0, 159.5, 0, f, 119.5, 0, 0, 1] });
    const out = ing.fitImage(makeImage('rgb8', 160, 120));
    assert.ok(out.plan.crop.width < 120 && !out.plan.fovDeficient, JSON.stringify(out.plan.crop));
    ing.fitImage(makeImage('rgb8', 160, 120));
    assert.equal(warnings.length, 2);
    assert.match(warnings[1] as string, /CameraInfo is for 320x240 but frames are 160x120; intrinsics scaled/);
    assert.throws(() => ing.setCameraInfo({ width: 320, height: 240, k: [0, 0, 0, 0, 0, 0, 0, 0, 1] }), bad('bad_camera_info'));
  });

  it('rejects a bad fallback FOV and mismatched intrinsics', () => {
    assert.throws(() => new FrameIngestor({ model: MODEL, fallbackHfovRad: 0 }), ParameterError);
    assert.throws(
      () => fitToModel({ width: 10, height: 10, data: new Uint8Array(300) }, intrinsicsFromHfov(20, 10, 1), MODEL, '/x'),
      bad('intrinsics_mismatch', /intrinsics are for 20x10 but the image is 10x10 \[topic=\/x\]/),
    );
  });

  it('raw validation errors come through with the topic', () => {
    const ing = new FrameIngestor({ model: MODEL, topic: TOPIC, rawBackend: 'js' });
    assert.throws(() => ing.fit({ ...makeImage('rgb8', 640, 2), step: 1900 }), bad('step_too_small', /\[topic=\/camera\/image_raw\]/));
    assert.throws(() => ing.thumbnail({ ...makeImage('rgb8', 4, 4), width: 0, height: 0 }), bad('zero_size'));
  });

  it('check(): the cheap checks, raw and compressed, without decoding', () => {
    const ing = new FrameIngestor({ model: MODEL, topic: TOPIC, rawBackend: 'js' });
    const img = makeImage('rgba8', 640, 480, { pad: 4 });
    ing.check(img);
    assert.throws(() => ing.check({ ...img, step: 1000 }), bad('step_too_small', /^expected step >= 2560 \(640 px × 4 ch, rgba8\), found 1000 \[topic=\/camera\/image_raw\]$/));
    assert.throws(() => ing.check({ ...img, data: img.data.subarray(0, 5) }), bad('truncated', /found 5 \[topic=/));
    assert.throws(() => ing.check({ ...img, encoding: 'bayer_grbg8' }), bad('unknown_encoding'));
    assert.throws(() => ing.check({ ...img, width: 0, height: 0, step: 0, data: new Uint8Array(0) }), bad('zero_size'));
    assert.throws(() => ing.check({ ...img, width: 100_000, height: 100_000 }), bad('too_large', /100000x100000/));
    // compressed: the header says 32x32 and the ends are right; the pixel data need not decode
    const png = pngOf(32, 32);
    ing.check({ format: 'png', data: png });
    const idat = png.findIndex((v, i) => v === 0x49 && png[i + 1] === 0x44 && png[i + 2] === 0x41 && png[i + 3] === 0x54);
    const garbled = png.slice();
    for (let i = idat + 4; i < idat + 24; i++) garbled[i] = 0x5a;
    ing.check({ format: 'png', data: garbled });
    assert.throws(() => ing.check({ format: 'jpeg', data: Uint8Array.from([0x00, 0x25, 0x4a, 0x6f, 0x11]) }), bad('corrupt_jpeg', /starts with 00 25 4A 6F/));
    assert.throws(() => ing.check({ format: 'png', data: Uint8Array.from([0x00, 0x25, 0x4a, 0x6f, 0x11]) }), bad('corrupt_png'));
    assert.throws(() => ing.check({ format: 'theora', data: png }), bad('unknown_encoding', /unknown compressed format 'theora'/));
    assert.throws(() => ing.check({ format: 'jpeg', data: new Uint8Array(0) }), bad('truncated', /0 bytes\): too short/));
    assert.throws(() => ing.check({ format: 'png', data: png.subarray(0, 40) }), bad('truncated', /no PNG IEND/));
  });

  it('reports a missing OpenCV addon clearly', () => {
    const missing = (e: unknown) => e instanceof OpenCvUnavailableError && e.code === 'opencv_unavailable' && /compressed images need it/.test(e.message);
    assert.throws(() => requireOpenCv('@u4/no-such-opencv-binding'), missing);
    assert.throws(() => loadOpenCv('@u4/no-such-opencv-binding'), missing);
    assert.throws(() => loadOpenCv('@u4/no-such-opencv-binding'), missing, 'the failure is remembered');
    assert.equal(isOpenCvAvailable('@u4/no-such-opencv-binding'), false);
  });
});

describe('vision/FrameIngestor (OpenCV paths)', function () {
  before(function () {
    skipWithoutOpenCv(this, isOpenCvAvailable());
  });

  it('the OpenCV raw path matches the JS path for every 8-bit encoding, padded', () => {
    const js = new FrameIngestor({ model: MODEL, rawBackend: 'js' });
    const cvi = new FrameIngestor({ model: MODEL, rawBackend: 'opencv' });
    assert.equal(cvi.rawBackend, 'opencv');
    assert.equal(new FrameIngestor({ model: MODEL }).rawBackend, 'opencv');
    for (const enc of ENCODINGS) {
      const img = makeImage(enc, 320, 240, { pad: 13, bigEndian: enc === 'mono16' });
      const a = js.fitImage(img).pixels;
      const b = cvi.fitImage(img).pixels;
      assert.ok(maxAbsDiff(a, b) <= 1, `${enc}: ${maxAbsDiff(a, b)}`);
    }
  });

  it('JPEG: decoded at reduced scale, close to the raw frame; async equals sync', async () => {
    const ing = new FrameIngestor({ model: MODEL, topic: '/camera/image_raw/compressed' });
    const msg: CompressedImageLike = { format: 'rgb8; jpeg compressed bgr8', data: jpegOf(640, 480) };
    assert.equal(isCompressed(msg), true);
    const out = ing.fit(msg);
    assert.equal(jpegReduction(out.plan), 4);
    assert.deepEqual([out.sourceWidth, out.sourceHeight], [640, 480]);
    const raw = ing.fitImage(makeImage('rgb8', 640, 480)).pixels;
    const d = meanAbsDiff(out.pixels, raw);
    assert.ok(d < 3, `mean abs diff to the raw fit ${d}`);
    const asyncOut = await ing.fitCompressedAsync(msg);
    assert.deepEqual(asyncOut.pixels, out.pixels);
    const full = decodeCompressedImage(msg);
    assert.deepEqual([full.width, full.height], [640, 480]);
    assert.ok(meanAbsDiff(full.data, patternImage(640, 480)) < 3);
  });

  it('PNG: lossless, equal to the raw fit within 1', () => {
    const ing = new FrameIngestor({ model: MODEL });
    const out = ing.fitCompressed({ format: 'png', data: pngOf(160, 120) });
    const raw = ing.fitImage(makeImage('rgb8', 160, 120)).pixels;
    assert.ok(maxAbsDiff(out.pixels, raw) <= 1);
    // a binding that delivers number[] instead of a typed array
    const fromArray = ing.fitCompressed({ format: 'png', data: Array.from(pngOf(160, 120)) as unknown as Uint8Array });
    assert.deepEqual(fromArray.pixels, out.pixels);
  });

  it('corrupt JPEG / PNG data is a BadFrameError, not a crash', async () => {
    const ing = new FrameIngestor({ model: MODEL, topic: '/c' });
    const j = jpegOf(64, 48);
    const p = j.findIndex((v, i) => v === 0xff && j[i + 1] === 0xc0);
    const badPrecision = j.slice();
    badPrecision[p + 4] = 13; // 13-bit samples: libjpeg refuses
    assert.throws(() => ing.fitCompressed({ format: 'jpeg', data: badPrecision }), bad('corrupt_jpeg', /jpeg data \(\d+ bytes, header says 64x48\) did not decode \[topic=\/c\]/));
    await assert.rejects(ing.fitCompressedAsync({ format: 'jpeg', data: badPrecision }), bad('corrupt_jpeg'));
    assert.throws(() => ing.thumbnail({ format: 'jpeg', data: badPrecision }), bad('corrupt_jpeg'));
    assert.throws(() => decodeCompressedImage({ format: 'jpeg', data: badPrecision }), bad('corrupt_jpeg'));
    const png = pngOf(32, 32);
    const idat = png.findIndex((v, i) => v === 0x49 && png[i + 1] === 0x44 && png[i + 2] === 0x41 && png[i + 3] === 0x54);
    const garbled = png.slice();
    for (let i = idat + 4; i < idat + 24; i++) garbled[i] = 0x5a;
    assert.throws(() => ing.fitCompressed({ format: 'png', data: garbled }), bad('corrupt_png'));
  });

  it('truncated JPEG is caught before decoding', () => {
    const ing = new FrameIngestor({ model: MODEL });
    const j = jpegOf(320, 240);
    assert.throws(() => ing.fitCompressed({ format: 'jpeg', data: j.subarray(0, j.length >> 1) }), bad('truncated'));
  });

  it('thumbnails of the raw and the JPEG frame agree', () => {
    const ing = new FrameIngestor({ model: MODEL, thumbnailSide: 16 });
    const a = ing.thumbnail(makeImage('rgb8', 640, 480));
    const b = ing.thumbnail({ format: 'jpeg', data: jpegOf(640, 480) });
    assert.equal(b.data.length, 256);
    assert.ok(meanAbsDiff(a.data, b.data) < 8, `thumbnail difference ${meanAbsDiff(a.data, b.data)}`);
    const pngThumb = ing.thumbnail({ format: 'png', data: pngOf(160, 120) });
    assert.equal(pngThumb.side, 16);
  });
});
