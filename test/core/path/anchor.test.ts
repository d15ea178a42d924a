import { strict as assert } from 'node:assert';
import { BadFrameError, ParameterError } from '../../../src/core/errors.js';
import { angleDiff, composePose2D, type Pose2D } from '../../../src/core/geometry.js';
import { anchorFrame, anchorGoal, anchorLastFrames, DEFAULT_ANCHOR_PARAMS, KeyframeIndex, layoutDescriptor, layoutSimilarity, type Keyframe } from '../../../src/core/path/anchor.js';
import { chainOdometry } from '../../../src/core/path/vo.js';
import { MODEL_CAMERA_DEFAULT } from '../../../src/sim/camera.js';
import { makeScenario, posesAlongPath, type Scenario } from '../../../src/sim/scenario.js';
import { boxedView, view } from './fixtures.js';

const cam = MODEL_CAMERA_DEFAULT;
const DEG = Math.PI / 180;
/** Shifts of the imagined view from its keyframe (within ±0.3 m, ±10°). */
const OFFSETS: Pose2D[] = [
  { x: 0.3, y: -0.2, yaw: 10 * DEG },
  { x: -0.25, y: 0.3, yaw: -10 * DEG },
  { x: 0.2, y: 0.25, yaw: -8 * DEG },
  { x: -0.3, y: -0.3, yaw: 10 * DEG },
];

/** About 25 keyframes spread over the scenario's exploration. */
function keyframesOf(sc: Scenario): Keyframe[] {
  const step = Math.max(1, Math.floor(sc.exploration.length / 24));
  return sc.exploration.filter((_, i) => i % step === 0).map((pose) => ({ pose, rgb: view(sc.world, pose, cam).rgb }));
}

describe('core/path/anchor', function () {
  this.timeout(120000);

  it('anchors a shifted view of a keyframe to that keyframe (or its twin) among ≥ 20, pose < 0.4 m, object < 0.5 m', () => {
    let trials = 0;
    for (const seed of [1, 4, 6, 8]) {
      const sc = makeScenario(seed);
      const kfs = keyframesOf(sc);
      assert.ok(kfs.length >= 20, `seed ${seed}: ${kfs.length} keyframes`);
      const index = new KeyframeIndex(kfs, cam);
      let n = 0;
      for (let ki = 0; ki < kfs.length && n < 3; ki++) {
        for (const off of OFFSETS) {
          if (n >= 3) break;
          const src = (kfs[ki] as Keyframe).pose;
          const truth = composePose2D(src, off);
          if (sc.world.free.occupiedAt(truth.x, truth.y)) continue;
          const { rgb, box } = boxedView(sc.world, truth, cam, sc.target);
          // a view that shows the whole target standing on the visible floor
          if (!box || box.x0 === 0 || box.x1 === cam.width - 1 || box.y1 >= cam.height - 1 || box.y1 <= cam.cy || box.x1 - box.x0 < 4) continue;
          n++;
          trials++;
          const g = anchorGoal([rgb], index, cam);
          const a = g.anchors[0]?.anchor;
          const where = `seed ${seed}, keyframe ${ki}, offset ${JSON.stringify(off)}`;
          assert.ok(a, `${where}: not anchored`);
          const got = (kfs[a.keyframeIndex] as Keyframe).pose;
          // exploration revisits places: a keyframe taken at (nearly) the same spot and heading is as right
          assert.ok(a.keyframeIndex === ki || (Math.hypot(got.x - src.x, got.y - src.y) < 0.5 && Math.abs(angleDiff(got.yaw, src.yaw)) < 20 * DEG), `${where}: anchored to keyframe ${a.keyframeIndex}`);
          assert.equal(g.source, 'anchor');
          assert.ok(g.goal);
          const err = Math.hypot(g.goal.x - truth.x, g.goal.y - truth.y);
          assert.ok(err < 0.4, `${where}: pose error ${err.toFixed(3)} m`);
          assert.ok(Math.abs(angleDiff(g.goal.yaw, truth.yaw)) < 20 * DEG, `${where}: yaw error ${(angleDiff(g.goal.yaw, truth.yaw) / DEG).toFixed(1)}°`);
          assert.ok(g.object, `${where}: no object estimate`);
          const oerr = Math.hypot(g.object.x - sc.target.x, g.object.y - sc.target.y);
          assert.ok(oerr < 0.5, `${where}: object ${oerr.toFixed(2)} m from the truth`);
          assert.ok(g.confidence > 0 && g.confidence <= 1 && g.object.confidence <= g.confidence + 1e-12);
        }
      }
    }
    assert.ok(trials >= 10, `only ${trials} trials`);
  });

  it('anchorGoal on an imagined video: the last frames anchor the goal, the chain is bent to end there', () => {
    const sc = makeScenario(1);
    const kfs = keyframesOf(sc);
    // the current view (newest context frame, pose known) followed by 6 "imagined" frames
    const truth = [sc.start, ...posesAlongPath(sc, 6)];
    const frames = truth.map((p) => boxedView(sc.world, p, cam, sc.target).rgb);
    const chain = chainOdometry(frames, cam);
    const g = anchorGoal(frames, kfs, cam, { chain, startPose: sc.start });
    const last = truth[6] as Pose2D;
    assert.equal(g.source, 'anchor');
    assert.ok(g.goal && Math.hypot(g.goal.x - last.x, g.goal.y - last.y) < 0.4, `goal ${JSON.stringify(g.goal)} vs ${JSON.stringify(last)}`);
    assert.ok(g.sdLast !== undefined && g.sdLast < 0.1, `SD ${g.sdLast}`);
    assert.ok(g.object && Math.hypot(g.object.x - sc.target.x, g.object.y - sc.target.y) < 0.5, `object ${JSON.stringify(g.object)}`);
    assert.ok(g.poses && g.poses.length === 7);
    const end = g.poses[6] as Pose2D;
    assert.ok(Math.hypot(end.x - g.goal.x, end.y - g.goal.y) < 1e-9 && Math.abs(angleDiff(end.yaw, g.goal.yaw)) < 1e-9);
    assert.equal(g.anchors.length, 2);
    assert.equal(g.boxes.length, 7);
    const first = g.poses[0] as Pose2D;
    assert.ok(Math.hypot(first.x - sc.start.x, first.y - sc.start.y) < 1e-9, 'the bent chain still starts at the start pose');
    // boxes detected beforehand (as planToObject does, to time them) give the same estimate
    const pre = anchorGoal(frames, kfs, cam, { chain, startPose: sc.start, boxes: g.boxes });
    assert.deepEqual(pre.goal, g.goal);
    assert.deepEqual(pre.object, g.object);
    // anchors computed beforehand (as an extraction worker does) give the same estimate, without comparing keyframes again
    const index = new KeyframeIndex(kfs, cam);
    const anchors = anchorLastFrames(frames, index, 2);
    assert.deepEqual(anchors.map((a) => a.frame), [5, 6]);
    const given = anchorGoal(frames, [], cam, { chain, startPose: sc.start, anchors });
    assert.deepEqual(given.goal, g.goal);
    assert.deepEqual(given.object, g.object);
    assert.deepEqual(given.anchors, g.anchors);
    assert.throws(
      () => anchorGoal(frames, kfs, cam, { chain, startPose: sc.start, anchors: anchors.slice(1) }),
      (e: unknown) => e instanceof ParameterError && /expected the anchors of frames 5\.\.6, found frames \[6\]/.test(e.message),
    );
  });

  it('a new index takes over the layouts of the keyframes it shares with the last one (not their pyramids)', () => {
    const sc = makeScenario(4);
    const kfs = keyframesOf(sc);
    const first = new KeyframeIndex(kfs.slice(0, 12), cam);
    const built = first.preparedAt(3);
    // the next plan: two keyframes evicted, three new ones
    const next = new KeyframeIndex([...kfs.slice(2, 12), ...kfs.slice(12, 15)], cam, undefined, first);
    assert.equal(next.layouts[0], first.layouts[2], 'layout reused by pixel array');
    assert.notEqual(next.preparedAt(1), built, 'a pyramid is built again, not kept across plans');
    assert.deepEqual(next.preparedAt(1).levels.map((l) => l.img), built.levels.map((l) => l.img));
    assert.deepEqual(next.layouts[10], layoutDescriptor((kfs[12] as Keyframe).rgb, cam.width, cam.height), 'a new keyframe gets its own layout');
    // the same pixels as another array are not taken for the same keyframe, nor is another setup
    const copy = new KeyframeIndex([{ ...(kfs[2] as Keyframe), rgb: (kfs[2] as Keyframe).rgb.slice() }], cam, undefined, first);
    assert.notEqual(copy.layouts[0], first.layouts[2]);
    const other = new KeyframeIndex(kfs.slice(2, 4), cam, { ...DEFAULT_ANCHOR_PARAMS, descriptorWidth: 8 }, first);
    assert.equal(other.layouts[0]?.w, 8);
    // reuse gives the same anchoring as a fresh index
    const imagined = view(sc.world, composePose2D((kfs[5] as Keyframe).pose, { x: 0.2, y: 0.1, yaw: 5 * DEG }), cam).rgb;
    const fresh = new KeyframeIndex([...kfs.slice(2, 12), ...kfs.slice(12, 15)], cam);
    assert.deepEqual(anchorFrame(imagined, next).best, anchorFrame(imagined, fresh).best);
  });

  it('falls back to the chain when no keyframe is alike, and to none without a start pose', () => {
    const sc = makeScenario(1);
    const frames = posesAlongPath(sc, 3).map((p) => view(sc.world, p, cam).rgb);
    // a single blank keyframe: nothing registers
    const blank = { pose: { x: 0, y: 0, yaw: 0 }, rgb: new Uint8Array(cam.width * cam.height * 3).fill(128) };
    const chain = { poses: [{ x: 0, y: 0, yaw: 0 }, { x: 0.5, y: 0, yaw: 0 }, { x: 1, y: 0, yaw: 0.1 }], links: [], minConfidence: 0.6 };
    const start = { x: 1, y: 2, yaw: Math.PI / 2 };
    const g = anchorGoal(frames, [blank], cam, { chain, startPose: start });
    assert.equal(g.source, 'chain');
    assert.ok(g.goal && Math.abs(g.goal.x - 1) < 1e-9 && Math.abs(g.goal.y - 3) < 1e-9);
    assert.ok(Math.abs(g.goalScore - 0.3) < 1e-12);
    const none = anchorGoal(frames, [blank], cam);
    assert.equal(none.source, 'none');
    assert.equal(none.goal, undefined);
    assert.equal(none.confidence, 0);
  });

  it('layout similarity: 1 for the same view, tolerant to a sideways shift, lower for another room', () => {
    const sc = makeScenario(4);
    const p = sc.exploration[10] as Pose2D;
    const a = layoutDescriptor(view(sc.world, p, cam).rgb, cam.width, cam.height);
    assert.ok(Math.abs(layoutSimilarity(a, a).similarity - 1) < 1e-9);
    const turned = layoutDescriptor(view(sc.world, composePose2D(p, { x: 0, y: 0, yaw: 10 * DEG }), cam).rgb, cam.width, cam.height);
    const s = layoutSimilarity(a, turned);
    assert.ok(s.similarity > 0.8 && s.shift > 0, JSON.stringify(s));
    const away = layoutDescriptor(view(sc.world, composePose2D(p, { x: 0, y: 0, yaw: Math.PI }), cam).rgb, cam.width, cam.height);
    assert.ok(layoutSimilarity(a, away).similarity < s.similarity);
  });

  it('anchorFrame ranks every keyframe and reports what it tried', () => {
    const sc = makeScenario(4);
    const kfs = keyframesOf(sc);
    const index = new KeyframeIndex(kfs, cam, { candidates: 2, descriptorWidth: 16, maxShiftFrac: 0.25, minScore: 0.3, anchorFrames: 2, align: {} });
    const r = anchorFrame((kfs[5] as Keyframe).rgb, index);
    assert.equal(r.ranked.length, kfs.length);
    assert.equal(r.tried.length, 2);
    assert.equal(r.ranked[0]?.keyframeIndex, 5);
    assert.ok(r.best && r.best.keyframeIndex === 5 && Math.hypot(r.best.motion.dx, r.best.motion.dy) < 0.02);
  });

  it('throws on bad inputs and parameters, quoting the value', () => {
    const f = new Uint8Array(cam.width * cam.height * 3);
    const kf = { pose: { x: 0, y: 0, yaw: 0 }, rgb: f };
    const isParam = (re: RegExp) => (e: unknown) => e instanceof ParameterError && re.test(e.message);
    assert.throws(() => anchorGoal([], [kf], cam), isParam(/at least one imagined frame, got 0/));
    assert.throws(() => anchorGoal([f], [kf], cam, { chain: { poses: [], links: [], minConfidence: 0 } }), isParam(/chain has 0 poses for 1 frames/));
    assert.throws(() => anchorGoal([f], [kf], cam, { boxes: [undefined, undefined] }), isParam(/2 boxes given for 1 frames/));
    assert.throws(() => new KeyframeIndex([], cam), isParam(/at least one keyframe, got 0/));
    assert.throws(() => new KeyframeIndex([{ pose: { x: Number.NaN, y: 0, yaw: 0 }, rgb: f }], cam), isParam(/keyframe 0 has a non-finite pose \(NaN/));
    assert.throws(() => new KeyframeIndex([{ pose: kf.pose, rgb: new Uint8Array(7) }], cam), (e: unknown) => e instanceof BadFrameError && /keyframe 0 has 7 bytes/.test(e.message));
    assert.throws(() => anchorGoal([f], [kf], cam, { params: { descriptorWidth: 2 } }), isParam(/descriptorWidth.*2/));
    assert.throws(() => anchorGoal([f], [kf], cam, { params: { maxShiftFrac: 1 } }), isParam(/maxShiftFrac.*1/));
    assert.throws(() => anchorGoal([f], [kf], cam, { params: { candidates: 0 } }), isParam(/candidates.*0/));
    assert.throws(() => anchorGoal([f], [kf], cam, { params: { minScore: -0.1 } }), isParam(/minScore.*-0.1/));
    assert.throws(() => anchorGoal([f], [kf], cam, { params: { anchorFrames: 0 } }), isParam(/anchorFrames.*0/));
    assert.throws(() => anchorGoal([new Uint8Array(3)], [kf], cam), (e: unknown) => e instanceof BadFrameError && /frame 0/.test(e.message));
    assert.throws(() => anchorFrame(new Uint8Array(3), new KeyframeIndex([kf], cam)), BadFrameError);
    assert.throws(() => layoutDescriptor(new Uint8Array(3), 64, 64), BadFrameError);
    const a = layoutDescriptor(f, 64, 64, 16);
    const b = layoutDescriptor(f, 64, 64, 8);
    assert.throws(() => layoutSimilarity(a, b), isParam(/16x16 vs 8x8/));
  });
});
