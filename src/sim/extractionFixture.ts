/**
 * A path-extraction input rendered from a scenario, for tests and scripts of the extractors: the
 * exploration's keyframes and candidate "imagined" videos that are real renders along known paths.
 */
import type { Pose2D } from '../core/geometry.js';
import type { ExtractionContext } from '../core/planner/extractCandidate.js';
import { MODEL_CAMERA_DEFAULT } from './camera.js';
import { drawBox, render } from './renderer.js';
import { makeScenario, posesAlongPath } from './scenario.js';
import { BOX_COLOR } from './vocabulary.js';

/**
 * Seed `seed`'s scenario at the model's default camera (supersampled renders, rgb8): every 6th
 * exploration pose as a keyframe, and up to 4 candidates of frames every 6 steps along the oracle
 * path, target boxed in red where visible — in this order: the true way, the same turned +0.4 rad,
 * the way reversed, the same turned −0.4 rad.
 * @param m candidates, 1 … 4.
 */
export function extractionFixture(seed: number, m: number): { ctx: ExtractionContext; candidates: Uint8Array[][] } {
  if (!(Number.isInteger(m) && m >= 1 && m <= 4)) throw new Error(`expected 1 to 4 candidates, found ${m}`);
  const cam = MODEL_CAMERA_DEFAULT;
  const sc = makeScenario(seed);
  const keyframes = sc.exploration.filter((_, i) => i % 6 === 0).map((p) => ({ rgb: render(sc.world, p, cam, { supersample: 2 }).rgb, pose: p }));
  const framesAlong = (poses: Pose2D[]) =>
    poses.map((p) => {
      const r = render(sc.world, p, cam, { supersample: 2 });
      const b = r.objects.get(sc.target.id);
      if (b) drawBox(r.rgb, cam.width, cam.height, b, BOX_COLOR);
      return r.rgb;
    });
  const way = posesAlongPath(sc, 6);
  const turned = (d: number) => way.map((p) => ({ ...p, yaw: p.yaw + d }));
  const paths = [way, turned(0.4), way.slice().reverse(), turned(-0.4)];
  const ctx: ExtractionContext = { camera: cam, newest: render(sc.world, sc.start, cam, { supersample: 2 }).rgb, newestBox: undefined, startPose: sc.start, keyframes };
  return { ctx, candidates: paths.slice(0, m).map(framesAlong) };
}
