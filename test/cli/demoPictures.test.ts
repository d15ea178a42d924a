/**
 * The demo's and plan's pictures, from a synthetic ImaginedTrajectory and mission (no model):
 * imagined.png (a legend row per candidate above its frames ×4, the chosen one framed green),
 * imagined.gif and candidates.gif frames with their legends, and map.png at a legible size.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import {
  candidateLegend,
  candidatesGifFrames,
  CHOSEN_COLOR,
  IMAGINED_SCALE,
  imaginedGifFrames,
  imaginedStrip,
  missionMap,
  OTHER_COLOR,
  scoreText,
  writeImaginedPictures,
} from '../../src/cli/commands/demo.js';
import type { ImaginedTrajectory } from '../../src/ros/messages/types.js';
import type { GraphMissionResult } from '../../src/sim/graphMission.js';
import { MAP_MIN_WIDTH_PX } from '../../src/sim/map.js';
import type { RgbImage } from '../../src/sim/pictures.js';
import { makeScenario } from '../../src/sim/scenario.js';

const BG = [128, 128, 128];
const M = 3;
const N = 6;
const S = 64;

function trajectory(chosen = 1): ImaginedTrajectory {
  // every frame mid grey, so anything else in a picture is a border or a legend
  const frames = new Uint8Array(M * N * S * S * 3).fill(128);
  return {
    header: { stamp: { sec: 0, nanosec: 0 }, frame_id: 'map' },
    object_name: 'plant',
    num_candidates: M,
    chosen,
    scores: Float32Array.from([0.61, 0.834, -1]),
    frames_per_candidate: N,
    width: S,
    height: S,
    encoding: 'rgb8',
    frames,
    candidate_paths: [],
    boxes: new Float32Array(4 * M).fill(-1),
    sd: new Float32Array(M),
    timings: [],
  } as unknown as ImaginedTrajectory;
}

const at = (img: RgbImage, u: number, v: number): number[] => Array.from(img.data.subarray((v * img.width + u) * 3, (v * img.width + u) * 3 + 3));
/** Rows [v0, v1) of img that hold a pixel other than white and other than the frames' grey. */
function inked(img: RgbImage, v0: number, v1: number): number {
  let n = 0;
  for (let v = v0; v < v1; v++) {
    for (let u = 0; u < img.width; u++) {
      const p = at(img, u, v);
      if (!(p.every((c) => c === 255) || p.every((c, i) => c === BG[i]))) n++;
    }
  }
  return n;
}
function countColor(img: RgbImage, c: readonly number[], v0 = 0, v1 = img.height): number {
  let n = 0;
  for (let v = v0; v < v1; v++) for (let u = 0; u < img.width; u++) if (at(img, u, v).every((x, i) => x === c[i])) n++;
  return n;
}
/** First row at or after v0 whose pixel at column u is the frames' grey. */
function firstGreyRow(img: RgbImage, u: number, v0 = 0): number {
  for (let v = v0; v < img.height; v++) if (at(img, u, v).every((x, i) => x === BG[i])) return v;
  return -1;
}

describe('cli/demo pictures: legends people can read', () => {
  const FRAME = S * IMAGINED_SCALE + 2 * 4; // enlarged frame and its 4 px border

  it('scores as printed and the legend text: candidates from 1, the chosen one said so', () => {
    const t = trajectory();
    assert.equal(scoreText(t, 0), '0.61');
    assert.equal(scoreText(t, 1), '0.83');
    assert.equal(scoreText(t, 2), 'n/a', 'the node sends -1 for a non-finite score');
    assert.equal(candidateLegend(t, 0), 'candidate 1 of 3  score 0.61');
    assert.equal(candidateLegend(t, 1), 'candidate 2 of 3  score 0.83  chosen');
  });

  it('imagined.png: frames ×4, a title, and per candidate a legend row above its strip; the chosen one green', () => {
    const t = trajectory(1);
    const img = imaginedStrip(t);
    assert.ok(IMAGINED_SCALE >= 4);
    assert.equal(img.width, N * FRAME + (N - 1) * 4);
    // the strips: where the grey frames start in the first column, one per candidate
    const u = 4 + 10;
    const tops: number[] = [];
    let v = 0;
    for (let m = 0; m < M; m++) {
      const top = firstGreyRow(img, u, v);
      assert.ok(top > 0, `strip ${m}`);
      tops.push(top);
      assert.equal(firstGreyRow(img, u, top) === top && at(img, u, top + S * IMAGINED_SCALE - 1).every((x, i) => x === BG[i]), true, `strip ${m} is ${S * IMAGINED_SCALE} px tall`);
      v = top + S * IMAGINED_SCALE;
    }
    assert.ok(inked(img, 0, 30) > 200, 'the title');
    // each candidate's legend row (between the previous strip and its own) holds text
    for (let m = 0; m < M; m++) {
      const from = m === 0 ? 0 : (tops[m - 1] as number) + S * IMAGINED_SCALE + 4;
      const to = (tops[m] as number) - 4;
      assert.ok(inked(img, from, to) > 200, `candidate ${m + 1}: legend row inked (${inked(img, from, to)} px)`);
    }
    // the chosen candidate's strip is framed green, the others grey; its legend is green too
    const borderRow = (m: number) => (tops[m] as number) - 2;
    assert.deepEqual(at(img, u, borderRow(1)), [...CHOSEN_COLOR]);
    assert.deepEqual(at(img, u, borderRow(0)), [...OTHER_COLOR]);
    assert.deepEqual(at(img, u, borderRow(2)), [...OTHER_COLOR]);
    const legend1 = [(tops[0] as number) + S * IMAGINED_SCALE + 4, (tops[1] as number) - 4] as const;
    const legend0 = [0, (tops[0] as number) - 4] as const;
    assert.ok(countColor(img, CHOSEN_COLOR, ...legend1) > 100, 'the chosen legend is green');
    assert.equal(countColor(img, CHOSEN_COLOR, legend0[1] - 20, legend0[1]), 0, 'an unchosen legend is not');
  });

  it('imagined.gif: the chosen candidate ×4 with a legend below (candidate, score, chosen, frame i of N) that changes per frame', () => {
    const frames = imaginedGifFrames(trajectory(2));
    assert.equal(frames.length, N);
    const f0 = frames[0] as RgbImage;
    assert.equal(f0.width, FRAME);
    assert.ok(f0.height > FRAME + 3 * 15, `${f0.height}`);
    assert.ok(inked(f0, FRAME, f0.height) > 300, 'legend inked');
    assert.ok(countColor(f0, CHOSEN_COLOR, FRAME, f0.height) > 50, "'chosen' in green");
    for (const f of frames) assert.deepEqual([f.width, f.height], [f0.width, f0.height], 'one size for the GIF');
    assert.notDeepEqual(Buffer.from((frames[1] as RgbImage).data.subarray(FRAME * f0.width * 3)), Buffer.from(f0.data.subarray(FRAME * f0.width * 3)), 'the frame counter moves');
  });

  it('candidates.gif: every candidate ×4 side by side with its legend, the chosen one framed green', () => {
    const frames = candidatesGifFrames(trajectory(0));
    assert.equal(frames.length, N);
    const f0 = frames[0] as RgbImage;
    assert.equal(f0.width, M * FRAME + (M - 1) * 8);
    const top = firstGreyRow(f0, 10);
    assert.ok(top > 0);
    assert.deepEqual(at(f0, 10, top - 2), [...CHOSEN_COLOR]);
    assert.deepEqual(at(f0, FRAME + 8 + 10, top - 2), [...OTHER_COLOR]);
    const below = top + S * IMAGINED_SCALE + 4;
    for (let m = 0; m < M; m++) {
      const sub: RgbImage = { width: FRAME, height: f0.height - below, data: new Uint8Array(FRAME * (f0.height - below) * 3) };
      for (let v = 0; v < sub.height; v++) sub.data.set(f0.data.subarray(((below + v) * f0.width + m * (FRAME + 8)) * 3, ((below + v) * f0.width + m * (FRAME + 8) + FRAME) * 3), v * FRAME * 3);
      assert.ok(inked(sub, 0, sub.height) > 150, `candidate ${m + 1}: legend inked`);
    }
    assert.ok(inked(f0, 0, top - 4) > 200, 'title: the object and the frame number');
  });

  it('the files: PNG and GIFs of those sizes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'v4s-pictures-'));
    try {
      writeImaginedPictures(dir, trajectory());
      const png = PNG.sync.read(readFileSync(join(dir, 'imagined.png')));
      assert.equal(png.width, N * FRAME + (N - 1) * 4);
      const gif = readFileSync(join(dir, 'imagined.gif'));
      assert.equal(gif.subarray(0, 6).toString('latin1'), 'GIF89a');
      assert.equal(gif.readUInt16LE(6), FRAME, 'imagined.gif width');
      const cg = readFileSync(join(dir, 'candidates.gif'));
      assert.equal(cg.readUInt16LE(6), M * FRAME + (M - 1) * 8, 'candidates.gif width');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('map.png: at least 800 px across with a title and a colour key', () => {
    const sc = makeScenario(100);
    const r = {
      outcome: 'arrived',
      result: undefined,
      judgement: { success: true, distanceM: 1.06, reachM: 1.72, bearingDeg: 10.6, visiblePixels: 100, sd: 0.05 },
      plans: [],
      exploration: sc.exploration,
      executed: [sc.start, sc.standoff],
      finalPose: sc.standoff,
      pathLengthM: 1,
      planSeconds: 1,
      simSeconds: 10,
      keyframes: 10,
    } as unknown as GraphMissionResult;
    const img = missionMap(sc, r);
    assert.ok(img.width >= MAP_MIN_WIDTH_PX, `${img.width} px`);
    assert.ok(countColor(img, CHOSEN_COLOR, 0, 40) > 100, 'the title, green for arrived');
    assert.ok(inked(img, img.height - 30, img.height) > 300, 'the key');
  });
});
