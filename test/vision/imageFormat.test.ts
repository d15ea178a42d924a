import { strict as assert } from 'node:assert';
import { PNG } from 'pngjs';
import { BadFrameError } from '../../src/core/errors.js';
import { decodeImage } from '../../src/vision/FrameIngestor.js';
import { checkRawImage, codecFromFormat, MAX_FRAME_SIDE, probeCompressed, rawLayout } from '../../src/vision/imageFormat.js';
import { ENCODINGS, makeImage, maxAbsDiff, patternImage } from './images.js';

const TOPIC = '/camera/image_raw';
const bad = (code: string, re?: RegExp) => (e: unknown) => e instanceof BadFrameError && e.code === code && (re === undefined || re.test(e.message)) && e.message.includes('[topic=');

/** A minimal JPEG header: SOI, APP0, SOF0 (w×h, 3 components), then EOI. */
export function fakeJpeg(w: number, h: number, opts: { eoi?: boolean } = {}): Uint8Array {
  const app0 = [0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00];
  const sof = [0xff, 0xc0, 0x00, 0x11, 0x08, h >> 8, h & 255, w >> 8, w & 255, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01];
  return Uint8Array.from([0xff, 0xd8, ...app0, ...sof, ...(opts.eoi === false ? [0x00, 0x00] : [0xff, 0xd9])]);
}

export function pngOf(w: number, h: number): Uint8Array {
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

describe('vision/imageFormat: raw sensor_msgs/Image', () => {
  for (const enc of ENCODINGS) {
    for (const pad of [0, 7]) {
      it(`${enc}${pad ? ' with 7 bytes of row padding' : ''} decodes to the pattern`, () => {
        const img = makeImage(enc, 37, 23, { pad });
        const rgb = decodeImage(img, TOPIC);
        assert.equal(rgb.width, 37);
        assert.equal(rgb.height, 23);
        const mono = enc === 'mono8' || enc === '8UC1' || enc === 'mono16';
        assert.equal(maxAbsDiff(rgb.data, patternImage(37, 23, mono)), 0);
      });
    }
  }

  it('big-endian mono16 (is_bigendian = 1 or true) decodes like little-endian', () => {
    const le = decodeImage(makeImage('mono16', 16, 9), TOPIC);
    const be = makeImage('mono16', 16, 9, { bigEndian: true, pad: 2 });
    assert.deepEqual(decodeImage(be, TOPIC).data, le.data);
    assert.deepEqual(decodeImage({ ...be, is_bigendian: true }, TOPIC).data, le.data);
    // read as little-endian, the same bytes give a different picture: the flag matters
    assert.notDeepEqual(decodeImage({ ...be, is_bigendian: 0 }, TOPIC).data, le.data);
  });

  it('accepts plain number arrays from bindings without typed arrays', () => {
    const img = makeImage('rgb8', 5, 3);
    const asArray = { ...img, data: Array.from(img.data) as unknown as Uint8Array };
    assert.deepEqual(decodeImage(asArray, TOPIC).data, decodeImage(img, TOPIC).data);
    assert.deepEqual(probeCompressed({ format: 'png', data: Array.from(pngOf(3, 2)) as unknown as Uint8Array }, TOPIC), { codec: 'png', width: 3, height: 2 });
  });

  it('accepts data that ends right after the last row’s pixels (no final padding)', () => {
    const img = makeImage('rgb8', 10, 4, { pad: 6 });
    const cut = { ...img, data: img.data.subarray(0, img.data.length - 6) };
    assert.equal(rawLayout(cut, TOPIC).height, 4);
  });

  it('step smaller than a row: quotes step, width, channels, encoding and topic', () => {
    const img = makeImage('rgb8', 640, 2);
    assert.throws(() => rawLayout({ ...img, step: 1900 }, TOPIC), (e: unknown) => e instanceof BadFrameError && e.code === 'step_too_small' && e.message === 'expected step >= 1920 (640 px × 3 ch, rgb8), found 1900 [topic=/camera/image_raw]');
    assert.throws(() => rawLayout({ ...makeImage('mono16', 640, 2), step: 1000 }, TOPIC), bad('step_too_small', /^expected step >= 1280 \(640 px × 1 ch × 2 B, mono16\), found 1000 /));
    assert.throws(() => rawLayout({ ...img, step: 1920.5 }, TOPIC), bad('step_too_small'));
  });

  it('truncated data', () => {
    const img = makeImage('bgr8', 640, 480);
    assert.throws(() => rawLayout({ ...img, data: img.data.subarray(0, 1000) }, TOPIC), bad('truncated', /^expected data >= 921600 bytes \(480 rows of step 1920, the last without padding; 640x480 bgr8\), found 1000 /));
    assert.throws(() => rawLayout({ ...img, data: undefined as unknown as Uint8Array }, TOPIC), bad('truncated', /found 0 /));
  });

  it('0x0, absurd and non-integer dimensions', () => {
    const img = makeImage('rgb8', 4, 4);
    assert.throws(() => rawLayout({ ...img, width: 0, height: 0 }, TOPIC), bad('zero_size', /size 0x0 is empty/));
    assert.throws(() => rawLayout({ ...img, width: 100_000, height: 100_000, step: 300_000 }, TOPIC), bad('too_large', /100000x100000 exceeds the limit/));
    assert.throws(() => rawLayout({ ...img, width: MAX_FRAME_SIDE, height: MAX_FRAME_SIDE, step: MAX_FRAME_SIDE * 3 }, TOPIC), bad('too_large'));
    assert.throws(() => rawLayout({ ...img, width: 4.5 }, TOPIC), bad('bad_dimensions', /4\.5x4 are not non-negative integers/));
    assert.throws(() => rawLayout({ ...img, height: -2 }, TOPIC), bad('bad_dimensions'));
  });

  it('unknown and refused encodings', () => {
    const img = makeImage('rgb8', 4, 4);
    assert.throws(() => rawLayout({ ...img, encoding: 'bayer_rggb8' }, TOPIC), bad('unknown_encoding', /unknown encoding 'bayer_rggb8' \(supported: rgb8, bgr8, rgba8, bgra8, mono8, 8UC1, mono16\)/));
    assert.throws(() => rawLayout({ ...img, encoding: '16UC1' }, TOPIC), bad('unsupported_encoding', /'16UC1' is not supported: a depth image/));
    assert.throws(() => rawLayout({ ...img, encoding: 'RGB8' }, TOPIC), bad('unknown_encoding'));
    for (const inherited of ['constructor', '__proto__', 'toString']) assert.throws(() => rawLayout({ ...img, encoding: inherited }, TOPIC), bad('unknown_encoding'), inherited);
  });

  it('checkRawImage (the check every frame gets before the gate) reads only header fields and the data length', () => {
    const img = makeImage('bgr8', 640, 480, { pad: 8 });
    // bytes that throw when a pixel is read: the check must get by on `length`
    const untouchable = new Proxy(img.data, {
      get(target, key) {
        if (typeof key === 'string' && /^\d+$/.test(key)) throw new Error(`pixel byte ${key} read`);
        const v = Reflect.get(target, key, target);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    assert.equal(checkRawImage({ ...img, data: untouchable }, TOPIC).bytesPerPixel, 3);
    assert.throws(() => checkRawImage({ ...img, step: 1000, data: untouchable }, TOPIC), bad('step_too_small', /expected step >= 1920 \(640 px × 3 ch, bgr8\), found 1000/));
    assert.throws(() => checkRawImage({ ...img, data: untouchable.subarray(0, 10) }, TOPIC), bad('truncated'));
    assert.throws(() => checkRawImage({ ...img, encoding: 'yuv422' }, TOPIC), bad('unsupported_encoding', /YUV/));
    assert.throws(() => checkRawImage({ ...img, width: 100_000, height: 100_000, step: 300_000 }, TOPIC), bad('too_large'));
  });
});

describe('vision/imageFormat: sensor_msgs/CompressedImage headers', () => {
  it('reads JPEG size from SOF whatever the format string says', () => {
    for (const format of ['jpeg', 'rgb8; jpeg compressed bgr8', 'JPG', '']) {
      assert.deepEqual(probeCompressed({ format, data: fakeJpeg(640, 480) }, TOPIC), { codec: 'jpeg', width: 640, height: 480 });
    }
  });

  it('reads PNG size from IHDR', () => {
    assert.deepEqual(probeCompressed({ format: 'bgr8; png compressed bgr8', data: pngOf(20, 10) }, TOPIC), { codec: 'png', width: 20, height: 10 });
    assert.deepEqual(probeCompressed({ format: '', data: pngOf(3, 2) }, TOPIC), { codec: 'png', width: 3, height: 2 });
  });

  it('format strings that name no usable codec', () => {
    assert.throws(() => codecFromFormat('theora', TOPIC), bad('unknown_encoding', /unknown compressed format 'theora'/));
    assert.throws(() => probeCompressed({ format: '16UC1; compressedDepth png', data: pngOf(2, 2) }, TOPIC), bad('unsupported_encoding', /compressed depth/));
    assert.equal(codecFromFormat(' '), undefined);
  });

  it('truncated JPEG and PNG', () => {
    assert.throws(() => probeCompressed({ format: 'jpeg', data: fakeJpeg(64, 48, { eoi: false }) }, TOPIC), bad('truncated', /no JPEG end-of-image marker/));
    assert.throws(() => probeCompressed({ format: 'jpeg', data: fakeJpeg(64, 48).subarray(0, 25) }, TOPIC), bad('truncated', /before the JPEG start-of-frame header/));
    assert.throws(() => probeCompressed({ format: 'jpeg', data: Uint8Array.from([0xff, 0xd8]) }, TOPIC), bad('truncated', /too short/));
    const png = pngOf(8, 8);
    assert.throws(() => probeCompressed({ format: 'png', data: png.subarray(0, png.length - 20) }, TOPIC), bad('truncated', /no PNG IEND/));
    assert.throws(() => probeCompressed({ format: 'png', data: png.subarray(0, 30) }, TOPIC), bad('truncated', /too short for a PNG header/));
  });

  it('corrupt JPEG and PNG headers', () => {
    const j = fakeJpeg(64, 48);
    const noMarker = j.slice();
    noMarker[2] = 0x12;
    assert.throws(() => probeCompressed({ format: 'jpeg', data: noMarker }, TOPIC), bad('corrupt_jpeg', /expected a JPEG marker \(FF xx\) at byte 2, found 12 E0/));
    const zeroLen = j.slice();
    zeroLen[4] = 0;
    zeroLen[5] = 1;
    assert.throws(() => probeCompressed({ format: 'jpeg', data: zeroLen }, TOPIC), bad('corrupt_jpeg', /has length 1/));
    const sosFirst = Uint8Array.from([0xff, 0xd8, 0xff, 0xda, 0x00, 0x02, 0xff, 0xd9]);
    assert.throws(() => probeCompressed({ format: 'jpeg', data: sosFirst }, TOPIC), bad('corrupt_jpeg', /before any start-of-frame header/));
    assert.throws(() => probeCompressed({ format: 'jpeg', data: Uint8Array.from([1, 2, 3, 4, 5]) }, TOPIC), bad('corrupt_jpeg', /starts with 01 02 03 04, neither a JPEG/));
    assert.throws(() => probeCompressed({ format: 'png', data: Uint8Array.from([1, 2, 3, 4, 5]) }, TOPIC), bad('corrupt_png'));
    assert.throws(() => probeCompressed({ format: '', data: Uint8Array.from([1, 2, 3, 4, 5]) }, TOPIC), bad('unknown_encoding'));
    const png = pngOf(4, 4);
    png[12] = 0x58; // 'XHDR'
    assert.throws(() => probeCompressed({ format: 'png', data: png }, TOPIC), bad('corrupt_png', /first PNG chunk is 'XHDR'/));
  });

  it('0x0 and absurd sizes in the header are refused before decoding', () => {
    assert.throws(() => probeCompressed({ format: 'jpeg', data: fakeJpeg(640, 0) }, TOPIC), bad('zero_size', /jpeg header: size 640x0 is empty/));
    assert.throws(() => probeCompressed({ format: 'jpeg', data: fakeJpeg(65000, 65000) }, TOPIC), bad('too_large', /65000x65000/));
  });
});
