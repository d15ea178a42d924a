import { strict as assert } from 'node:assert';
import { ContextBuffer } from '../../../src/core/context/ContextBuffer.js';
import { KeyframeGate } from '../../../src/core/context/keyframeGate.js';
import { ParameterError } from '../../../src/core/errors.js';
import { planToObject, fromRgb8, timeIndices, MEMORY_CONTRADICT_FACTOR } from '../../../src/core/planner/planToObject.js';
import { inlineExtractor, type Extractor } from '../../../src/core/planner/extractCandidate.js';
import { evidenceTerms } from '../../../src/core/path/score.js';
import type { ImaginationModel, ModelSpec } from '../../../src/core/sampler/model.js';
import { MODEL_CAMERA_DEFAULT } from '../../../src/sim/camera.js';
import { drawBox, render } from '../../../src/sim/renderer.js';
import { EXPLORE_DT, groundTruthFor, makeScenario, posesAlongPath, type Scenario } from '../../../src/sim/scenario.js';
import { BOX_COLOR, CATEGORIES } from '../../../src/sim/vocabulary.js';
import { TrueGrounding } from '../../ros/harness.js';

const cam = MODEL_CAMERA_DEFAULT;
const SPEC: ModelSpec = { width: 64, height: 64, latentChannels: 1, latentHeight: 1, latentWidth: 1, contextFrames: 8, targetFrames: 6, vocabulary: ['<null>', ...CATEGORIES] };

/** Test double: "imagines" the ground-truth video (true renders along the oracle path, boxed). */
class OracleImagination implements ImaginationModel {
  readonly spec = SPEC;
  constructor(private readonly truth: Float32Array) {}
  async encode(_f: Float32Array, batch: number) {
    return new Float32Array(batch);
  }
  async denoise(lat: Float32Array) {
    return new Float32Array(lat.length);
  }
  async decode(_l: Float32Array, batch: number) {
    const out = new Float32Array(batch * this.truth.length / 6);
    for (let b = 0; b < batch; b++) out.set(this.truth.subarray((b % 6) * 3 * 4096, ((b % 6) + 1) * 3 * 4096), b * 3 * 4096);
    return out;
  }
}

function bufferOf(sc: Scenario): ContextBuffer {
  const buffer = new ContextBuffer({ width: 64, height: 64 });
  const gate = new KeyframeGate();
  sc.exploration.forEach((p, i) => {
    const stampNs = BigInt(Math.round(i * EXPLORE_DT * 1e9));
    if (gate.consider({ stampNs, pose: p }).admit) buffer.add({ index: i, stampNs, pose: p, pixels: render(sc.world, p, cam, { supersample: 2 }).rgb });
  });
  return buffer;
}

/** The scenario with its target (and oracle path) replaced by another object. */
function makeScenarioTo(sc: Scenario, target: Scenario['target']): Scenario {
  const gt = groundTruthFor(sc.world, sc.start, target);
  assert.ok(gt, 'the other object is reachable');
  return { ...sc, ...gt };
}

function truthVideo(sc: Scenario): Float32Array {
  const out = new Float32Array(6 * 3 * 4096);
  posesAlongPath(sc, 6).forEach((p, f) => {
    const r = render(sc.world, p, cam, { supersample: 2 });
    const b = r.objects.get(sc.target.id);
    if (b) drawBox(r.rgb, 64, 64, b, BOX_COLOR);
    fromRgb8(r.rgb, 64, 64, out, f * 3 * 4096);
  });
  return out;
}

describe('core/planner/planToObject', function () {
  this.timeout(60000);
  const sc = makeScenario(101);
  const buffer = bufferOf(sc);

  it('with a perfect imagination, the goal lands at the true standoff and the object where it is', async () => {
    const model = new OracleImagination(truthVideo(sc));
    const stages: string[] = [];
    const r = await planToObject(
      { model, modelId: 'oracle', camera: cam, frameDtS: EXPLORE_DT, buffer },
      { object: sc.target.category, candidates: 2, steps: 2, shift: 1, guidance: 3, seed: 0, policy: 'pose_diverse' },
      { onStage: (s) => stages.push(s) },
    );
    assert.deepEqual(stages, ['sample', 'encode', 'denoise', 'decode', 'extract']);
    const dGoal = Math.hypot(r.goalPose.x - sc.standoff.x, r.goalPose.y - sc.standoff.y);
    assert.ok(dGoal < 0.6, `goal ${JSON.stringify(r.goalPose)} is ${dGoal.toFixed(2)} m from the standoff ${JSON.stringify(sc.standoff)}`);
    assert.ok(r.objectXY, 'object estimate');
    const dObj = Math.hypot(r.objectXY.x - sc.target.x, r.objectXY.y - sc.target.y);
    assert.ok(dObj < 0.8, `object estimate ${dObj.toFixed(2)} m off`);
    assert.equal(r.candidates.length, 2);
    // the published ranking agrees with the choice: the chosen candidate has the best choice score
    assert.equal(r.choiceScores?.length, 2);
    assert.equal(Math.max(...(r.choiceScores as number[])), (r.choiceScores as number[])[r.chosen]);
    assert.ok(r.timings.totalMs > 0);
    const t = r.timings;
    for (const k of ['boxMs', 'voMs', 'waypointsMs'] as const) assert.ok(t[k] >= 0 && Number.isFinite(t[k]), `${k} = ${t[k]}`);
    // inline extraction: the parts are timed inside step 5's wall time and make up most of it (the rest: frame conversion)
    const parts = t.boxMs + t.voMs + t.waypointsMs;
    assert.ok(parts <= t.extractMs + 1e-6 && parts > 0.9 * t.extractMs, `box ${t.boxMs} + vo ${t.voMs} + waypoints ${t.waypointsMs} vs extract ${t.extractMs}`);
    assert.ok(t.voMs > 0 && t.waypointsMs > 0, 'odometry and anchoring take measurable time');
  });

  it('goal from memory: the keyframes locate the object, the goal looks at it; memoryGoal false keeps the imagined goal', async () => {
    const model = new TrueGrounding(new OracleImagination(truthVideo(sc)), sc, () => sc.start, () => buffer);
    const deps = { model, modelId: 'grounded-oracle', camera: cam, frameDtS: EXPLORE_DT, buffer };
    const req = { object: sc.target.category, candidates: 2, steps: 2, shift: 1, guidance: 3, seed: 0, policy: 'pose_diverse' as const, lookDistanceM: 1.2 };
    const r = await planToObject(deps, req);
    const est = r.grounding?.estimate;
    assert.equal(r.grounding?.goalFrom, 'memory');
    assert.ok(est && Math.hypot(est.x - sc.target.x, est.y - sc.target.y) < 1.0, `estimate ${JSON.stringify(est)} vs (${sc.target.x}, ${sc.target.y})`);
    assert.deepEqual(r.objectXY, { x: est.x, y: est.y });
    assert.ok(Math.abs(Math.hypot(r.goalPose.x - est.x, r.goalPose.y - est.y) - 1.2) < 1e-6, `goal ${JSON.stringify(r.goalPose)}`);
    assert.ok(Math.abs(r.goalPose.yaw - Math.atan2(est.y - r.goalPose.y, est.x - r.goalPose.x)) < 1e-9, 'the goal faces the estimate');
    assert.ok(est.support >= 2 && est.support <= est.showing && est.showing === r.grounding?.showing);
    // from the keyframe's own place: the goal is that keyframe's position, facing the estimate
    const at = await planToObject(deps, { ...req, lookFrom: 'at_viewpoint' });
    assert.deepEqual({ x: at.goalPose.x, y: at.goalPose.y }, { x: est.viewpoint.x, y: est.viewpoint.y });
    const off = await planToObject(deps, { ...req, memoryGoal: false });
    assert.equal(off.grounding?.goalFrom, 'imagined');
    assert.equal(off.grounding?.estimate, undefined);
    assert.ok(Math.hypot(off.goalPose.x - sc.standoff.x, off.goalPose.y - sc.standoff.y) < 0.6, 'the imagined (perfect) goal');
  });

  it('a candidate whose imagined object contradicts memory loses: its choice score × MEMORY_CONTRADICT_FACTOR', async () => {
    // an imagination of the way to another object of the world
    const other = sc.world.objects.find((o) => o.id !== sc.target.id && Math.hypot(o.x - sc.target.x, o.y - sc.target.y) > 3);
    assert.ok(other, 'another object far from the target');
    const wrong = makeScenarioTo(sc, other);
    const model = new TrueGrounding(new OracleImagination(truthVideo(wrong)), sc, () => sc.start, () => buffer);
    const deps = { model, modelId: 'grounded-wrong', camera: cam, frameDtS: EXPLORE_DT, buffer };
    const req = { object: sc.target.category, candidates: 2, steps: 2, shift: 1, guidance: 3, seed: 0, policy: 'pose_diverse' as const };
    const withMemory = await planToObject(deps, req);
    const without = await planToObject(deps, { ...req, memoryGoal: false });
    const a = withMemory.choiceScores as number[];
    const b = without.choiceScores as number[];
    for (let m = 0; m < 2; m++) assert.ok(b[m]! > 0 && Math.abs(a[m]! - MEMORY_CONTRADICT_FACTOR * b[m]!) < 1e-9, `candidate ${m}: ${a[m]} vs ${b[m]}`);
    // the goal still looks at memory's place, not at the imagined other object
    const est = withMemory.grounding?.estimate;
    assert.ok(est && Math.hypot(est.x - sc.target.x, est.y - sc.target.y) < 1.0);
  });

  it('runs step 5 through the injected extractor, and refuses one that loses candidates', async () => {
    const model = new OracleImagination(truthVideo(sc));
    const req = { object: sc.target.category, candidates: 2, steps: 2, shift: 1, guidance: 3, seed: 5, policy: 'pose_diverse' as const };
    const deps = { model, modelId: 'oracle', camera: cam, frameDtS: EXPLORE_DT, buffer };
    const plain = await planToObject(deps, req);
    let calls = 0;
    const counted: Extractor = async (ctx, cands) => {
      calls++;
      assert.equal(cands.length, 2);
      assert.equal(ctx.keyframes.length, buffer.size);
      return inlineExtractor()(ctx, cands);
    };
    const viaHook = await planToObject({ ...deps, extractor: counted }, req);
    assert.equal(calls, 1);
    assert.deepEqual(viaHook.goalPose, plain.goalPose);
    assert.equal(viaHook.chosen, plain.chosen);
    const lossy: Extractor = async (ctx, cands) => (await inlineExtractor()(ctx, cands)).slice(1);
    await assert.rejects(planToObject({ ...deps, extractor: lossy }, req), /extractor returned 1 results for 2 candidates/);
  });

  it('rejects an unknown object, listing the vocabulary', async () => {
    const model = new OracleImagination(new Float32Array(6 * 3 * 4096));
    await assert.rejects(
      planToObject({ model, modelId: 'x', camera: cam, frameDtS: EXPLORE_DT, buffer }, { object: 'unicorn', candidates: 1, steps: 1, shift: 1, guidance: 1, seed: 0, policy: 'uniform' }),
      (e: unknown) => e instanceof ParameterError && e.code === 'unknown_object' && /unknown object 'unicorn' \(the model knows: chair, table/.test(e.message),
    );
  });

  it('rejects planning without context', async () => {
    const model = new OracleImagination(new Float32Array(6 * 3 * 4096));
    await assert.rejects(
      planToObject({ model, modelId: 'x', camera: cam, frameDtS: EXPLORE_DT, buffer: new ContextBuffer({ width: 64, height: 64 }) }, { object: 'chair', candidates: 1, steps: 1, shift: 1, guidance: 1, seed: 0, policy: 'uniform' }),
      (e: unknown) => e instanceof ParameterError && e.code === 'no_context',
    );
  });

  it('contextFrames limits the frames each candidate sees (1 = the current view only); 0 = the model K; bad values are refused', async () => {
    const model = new OracleImagination(truthVideo(sc));
    const deps = { model, modelId: 'oracle-k', camera: cam, frameDtS: EXPLORE_DT, buffer };
    const base = { object: sc.target.category, candidates: 2, steps: 1, shift: 1, guidance: 1, seed: 0, policy: 'pose_diverse' as const };
    const newest = buffer.entries().at(-1)?.index;
    const one = await planToObject(deps, { ...base, contextFrames: 1 });
    assert.deepEqual(one.candidates.map((c) => c.contextIndices), [[newest], [newest]]);
    const all = await planToObject(deps, { ...base, contextFrames: 0 });
    assert.ok(all.candidates.every((c) => c.contextIndices.length === 8 && c.contextIndices.at(-1) === newest));
    const capped = await planToObject(deps, { ...base, contextFrames: 50 });
    assert.ok(capped.candidates.every((c) => c.contextIndices.length === 8));
    await assert.rejects(planToObject(deps, { ...base, contextFrames: 1.5 }), (e: unknown) => e instanceof ParameterError && e.code === 'context_frames' && /got 1.5/.test(e.message));
  });

  it('name evidence (step 6): off by default, computing nothing; weight 0 reports it without changing the choice; weight 1 chooses by it', async () => {
    /** The oracle video for every candidate, and a denoiser whose velocity depends on the object named. */
    class NamedOracle extends OracleImagination {
      calls = 0;
      override async denoise(lat: Float32Array, _t?: Float32Array, _i?: Float32Array, obj?: BigInt64Array, batch = 1) {
        this.calls++;
        const v = new Float32Array(lat.length);
        const per = lat.length / batch;
        for (let b = 0; b < batch; b++) for (let k = 0; k < per; k++) v[b * per + k] = (lat[b * per + k] as number) * (1 + 0.1 * Number(obj?.[b] ?? 0n));
        return v;
      }
    }
    const deps = (model: ImaginationModel) => ({ model, modelId: 'oracle-ne', camera: cam, frameDtS: EXPLORE_DT, buffer });
    const base = { object: sc.target.category, candidates: 3, steps: 2, shift: 1, guidance: 3, seed: 9, policy: 'pose_diverse' as const };
    const offModel = new NamedOracle(truthVideo(sc));
    const off = await planToObject(deps(offModel), base);
    assert.equal(offModel.calls, 2, 'only the denoising steps');
    assert.equal(off.nameEvidence, undefined);
    assert.equal(off.timings.evidenceMs >= 0 && off.timings.evidenceMs < 5, true);
    const zeroModel = new NamedOracle(truthVideo(sc));
    const zero = await planToObject(deps(zeroModel), { ...base, nameEvidence: { tLevels: [0.5, 0.8], weight: 0 } });
    assert.ok(zero.nameEvidence, 'reported');
    assert.equal(zero.nameEvidence.rows, 3 * SPEC.vocabulary.length * 2);
    assert.equal(zeroModel.calls, 2 + Math.ceil(zero.nameEvidence.rows / 36));
    assert.equal(zero.chosen, off.chosen);
    const one = await planToObject(deps(new NamedOracle(truthVideo(sc))), { ...base, nameEvidence: { tLevels: [0.5, 0.8], weight: 1 } });
    const terms = evidenceTerms(one.nameEvidence?.margin ?? []);
    const plausible = one.candidates.map((c) => c.goal.goal !== undefined && c.score.score > 0);
    const best = terms.reduce((bi, v, i) => (plausible[i] && (bi < 0 || v > (terms[bi] as number)) ? i : bi), -1);
    assert.equal(one.chosen, best, `margins ${one.nameEvidence?.margin.join(', ')}`);
    await assert.rejects(planToObject(deps(new NamedOracle(truthVideo(sc))), { ...base, nameEvidence: { tLevels: [0.5], weight: 2 } }), /name evidence weight must be in \[0, 1\], got 2/);
  });

  it('time indices are seconds from the newest frame in model units', () => {
    const e = (s: number) => ({ index: s, stampNs: BigInt(s * 1e9), pose: { x: 0, y: 0, yaw: 0 }, pixels: new Uint8Array(0) });
    assert.deepEqual(timeIndices([e(0), e(1), e(3)], 0.5), [-6, -4, 0]);
  });
});
