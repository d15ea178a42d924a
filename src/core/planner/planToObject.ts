/**
 * One plan, end to end, as numbered steps (pure: the model, the buffer and the clock are given):
 *   1. check the request (object in the vocabulary, enough context);
 *   2. sample one context per candidate from the buffer (candidate 0 pose-diverse, the others
 *      uniform with their own seeds, so best-of-M also varies the memory it looks at); with a
 *      grounder (name-aware context, grounding.ts), every candidate's context first takes
 *      NAME_AWARE_FRAMES of the keyframes where the grounder sees the named object, each
 *      candidate different ones;
 *   3. encode the frames not yet encoded (latents cached in the buffer per model id);
 *   4. imagine M candidates (flow sampler, joint CFG, one batch per step);
 *   5. per candidate: rgb8 frames → red box → odometry chain → anchoring against ALL pose-tagged
 *      keyframes → goal pose and object position → score (extractCandidate; PlanDeps.extractor may
 *      run the candidates in parallel, e.g. src/planner/ExtractionPool.ts);
 *   6. when asked, the name evidence of each candidate (nameEvidence.ts: does the named object
 *      explain its imagined video better than the other objects do?);
 *   7. choose the best candidate; its goal pose faces the object estimate. With a grounder, the
 *      keyframes that show the object also locate it (locate.ts, step 2): a candidate whose object
 *      estimate contradicts that place loses, and the goal is taken from memory — the place the
 *      keyframes agree on is the object estimate, and the goal looks at it from lookDistanceM on
 *      the side of the chosen candidate's goal (when that agrees) or of the keyframe that saw it.
 * Frames: all poses are in the global (map) frame; the goal is the robot base pose to reach.
 */
import { fromRgb8, toRgb8 } from './frames.js';
import { CancelledError, InferenceError, NoValidPathError, ParameterError } from '../errors.js';
import { normalizeAngle, type Pose2D } from '../geometry.js';
import type { PinholeCamera } from '../camera.js';
import type { SamplerDefaults } from '../model/manifest.js';
import type { ContextBuffer, ContextEntry, ContextSample, SamplingPolicy } from '../context/ContextBuffer.js';
import type { GoalEstimate } from '../path/anchor.js';
import { detectBox } from '../path/box.js';
import type { OdometryChain } from '../path/vo.js';
import { chooseCandidate, consensus, withConsensus, withNameEvidence, type CandidateScore } from '../path/score.js';
import { inlineExtractor, type Extractor } from './extractCandidate.js';
import { imagine, type CandidateContext } from '../sampler/imagine.js';
import { nameEvidence, type NameEvidence } from '../sampler/nameEvidence.js';
import { latentSize, type ImaginationModel } from '../sampler/model.js';
import { encodeMissing, groundBuffer, nameAwareIncludes } from './grounding.js';
import { isExcluded, type ExcludedPlace } from './arrival.js';
import { locateObject, lookPose, type ObjectLocation } from './locate.js';

/** Keyframes that show the named object put into each candidate's context (name-aware context). */
export const NAME_AWARE_FRAMES = 2;

/** A candidate whose object estimate (else goal) lies farther than this (m) from memory's estimate contradicts it. */
export const MEMORY_AGREE_M = 1.5;
/** Its choice score is multiplied by this. */
export const MEMORY_CONTRADICT_FACTOR = 0.25;
/** Default distance (m) from memory's object estimate to the goal that looks at it. */
export const DEFAULT_LOOK_DISTANCE_M = 1.5;

/** Candidates whose object estimates (else goals) lie within this many metres agree (best-of-M consensus). */
export const CONSENSUS_RADIUS_M = 1.0;
/** Default weight of that agreement in the choice of a candidate. */
export const DEFAULT_CONSENSUS_WEIGHT = 0.3;

/**
 * Step 2's draw, one context per candidate: candidate 0 by `policy`, the others 'uniform' (all
 * 'contiguous' when `policy` is), candidate m with seed `seed + m` and its name-aware includes
 * `includes[m]` (none when missing). The training episodes (sim/episodes.ts) draw through it too.
 */
export function sampleContexts(buffer: ContextBuffer, k: number, candidates: number, policy: SamplingPolicy, seed: number, includes: readonly (readonly number[])[]): ContextSample[] {
  return Array.from({ length: candidates }, (_, m) => {
    const p: SamplingPolicy = policy === 'contiguous' ? 'contiguous' : m === 0 ? policy : 'uniform';
    return buffer.sample(k, p, { seed: seed + m, include: includes[m] ?? [] });
  });
}

export interface NameEvidenceOptions {
  /** Noise levels in (0, 1) at which every candidate is scored. */
  tLevels: readonly number[];
  /** Weight in [0, 1] of the evidence term in the choice. */
  weight: number;
}
/** Noise levels of the name evidence when a request asks for it without naming them. */
export const DEFAULT_NAME_EVIDENCE_LEVELS: readonly number[] = Object.freeze([0.5, 0.8]);

/** A model's own sampler (its manifest's `sampler`) as the sampler fields of a PlanRequest. */
export function samplerRequest(s: SamplerDefaults): Pick<PlanRequest, 'candidates' | 'steps' | 'shift' | 'guidance' | 'guidanceMinT'> {
  return { candidates: s.candidates, steps: s.steps, shift: s.shift, guidance: s.guidance_scale, guidanceMinT: s.guidance_min_t ?? 0 };
}

export interface PlanRequest {
  object: string;
  candidates: number;
  steps: number;
  shift: number;
  guidance: number;
  /** Guidance only at the steps whose time t ≥ this (imagine's guidanceMinT); omitted: every step. */
  guidanceMinT?: number;
  seed: number;
  /** Policy of candidate 0; the others use 'uniform' with seed + m (or all 'contiguous'). */
  policy: SamplingPolicy;
  /** Weight in [0, 1] of the agreement between candidates when choosing one (default DEFAULT_CONSENSUS_WEIGHT). */
  consensusWeight?: number;
  /** Context frames per candidate (1 … model K); omitted or 0 = the model's K. */
  contextFrames?: number;
  /**
   * Name evidence (step 6): the noise levels to score every candidate at, and the weight in [0, 1]
   * of its term in the choice (0: computed and reported, not used). Omitted: not computed (the
   * default: on day 6's validation worlds it did not pick better candidates; README). Plans of one
   * candidate never compute it (there is nothing to choose).
   */
  nameEvidence?: NameEvidenceOptions;
  /**
   * Name-aware context (step 2): with a model that has a grounder, put keyframes that show the
   * named object into every candidate's context. Default true; false (an ablation) samples by the
   * policy alone. Ignored by a model without a grounder and by the 'contiguous' policy.
   */
  nameAware?: boolean;
  /**
   * Places where earlier goals were found wrong (arrival.ts): a candidate whose object estimate
   * (else goal) lies in one is marked `excluded` and is chosen only when every candidate with a
   * goal is (the caller then imagines again rather than drive back there).
   */
  excluded?: readonly ExcludedPlace[];
  /**
   * Goal from grounded memory (step 7): with a model that has a grounder, the keyframes showing the
   * object locate it, candidates that contradict the place lose, and the goal looks at it. Default
   * true; false (an ablation) takes the chosen candidate's imagined goal and object estimate.
   */
  memoryGoal?: boolean;
  /** Distance (m) from memory's object estimate to the goal (default DEFAULT_LOOK_DISTANCE_M). */
  lookDistanceM?: number;
  /**
   * Which side a goal from memory looks from: 'candidate' (default: the chosen candidate's goal
   * side when it agrees with memory, else the viewpoint's), 'viewpoint' (the side of the keyframe
   * that saw the object), 'at_viewpoint' (that keyframe's own place: the robot has stood there).
   */
  lookFrom?: 'candidate' | 'viewpoint' | 'at_viewpoint';
}

export interface PlanDeps {
  model: ImaginationModel;
  /** Stable id of the model (cache key for latents). */
  modelId: string;
  camera: PinholeCamera;
  /** Seconds per model time-index unit (manifest frame_dt_s). */
  frameDtS: number;
  buffer: ContextBuffer;
  /** Runs step 5 per candidate (default inlineExtractor: in this thread, one after the other). */
  extractor?: Extractor;
}

export interface PlanHooks {
  onStage?: (stage: 'sample' | 'encode' | 'denoise' | 'decode' | 'extract', detail?: string) => void;
  onStep?: (step: number, steps: number) => void;
  isCancelled?: () => boolean;
  now?: () => number;
}

export interface CandidatePlan {
  /** N rgb8 frames, H×W×3 each. */
  frames: Uint8Array[];
  contextIndices: number[];
  chain: OdometryChain;
  /** Goal estimate over [current view, ...frames]: boxes/anchors/poses index 0 is the current view. */
  goal: GoalEstimate;
  score: CandidateScore;
  /** Its object estimate (else goal) lies where an earlier goal was found wrong (PlanRequest.excluded). */
  excluded?: boolean;
}

export interface PlanResult {
  object: string;
  objectIndex: number;
  candidates: CandidatePlan[];
  chosen: number;
  /** Where the robot should go (map frame), facing the object estimate. */
  goalPose: Pose2D;
  /** Object position estimate (map frame), when a box was seen. */
  objectXY: { x: number; y: number } | undefined;
  /** Robot pose at the newest context frame (map frame). */
  startPose: Pose2D;
  /** Imagined intermediate poses of the chosen candidate (advisory), map frame. */
  imaginedPoses: Pose2D[];
  /** Step 6's evidence per candidate, when the request asked for it. */
  nameEvidence?: NameEvidence;
  /**
   * Per candidate, the score the choice was made on: its own score blended with the agreement
   * between candidates (and the name evidence when asked); 0 for an excluded candidate unless
   * every candidate scoring above 0 is excluded.
   */
  choiceScores?: number[];
  /**
   * The goal leads only where an earlier goal was found wrong (PlanRequest.excluded): memory's
   * estimate lies in an excluded place, or (goal from imagination) every candidate with a goal is
   * excluded. The caller imagines again rather than drive there.
   */
  revisits?: boolean;
  /**
   * With a grounder: how many of the buffer's keyframes it saw the named object in, whether the
   * contexts were name-aware, memory's object estimate (excluded places left out), and where the
   * goal came from ('memory': it looks at that estimate; 'imagined': the chosen candidate's).
   */
  grounding?: { keyframes: number; showing: number; nameAware: boolean; estimate?: ObjectLocation; goalFrom: 'memory' | 'imagined' };
  /**
   * Stage timings in ms (the `now` hook's clock). denoiseMs is the sum of perStepMs (one entry per
   * denoising step, all M candidates and both CFG branches in one batch) plus bookkeeping;
   * extractMs is step 5's wall time. boxMs (red box in every frame), voMs (odometry chains) and
   * waypointsMs (keyframe index, anchoring, goal and object estimates, scoring) are step 5's parts
   * summed over the candidates, each timed in the thread that extracted it: with the inline
   * extractor they add up to about extractMs; with a pool they run in parallel and may exceed it.
   * encodeMs covers only keyframes whose latents were not cached yet; sampleMs includes
   * grounding (and encoding) the keyframes not grounded for this name yet.
   */
  timings: {
    sampleMs: number;
    encodeMs: number;
    denoiseMs: number;
    perStepMs: number[];
    decodeMs: number;
    extractMs: number;
    /** Step 6 (name evidence; 0 when not asked for). */
    evidenceMs: number;
    boxMs: number;
    voMs: number;
    waypointsMs: number;
    totalMs: number;
  };
}

/** Model time indices of sampled entries: (stamp − newest stamp) / frameDt; newest = 0. */
export function timeIndices(entries: readonly ContextEntry[], frameDtS: number): number[] {
  const newest = (entries[entries.length - 1] as ContextEntry).stampNs;
  return entries.map((e) => Number(e.stampNs - newest) / 1e9 / frameDtS);
}

export { fromRgb8, toRgb8 };

export async function planToObject(deps: PlanDeps, req: PlanRequest, hooks: PlanHooks = {}): Promise<PlanResult> {
  const now = hooks.now ?? (() => performance.now());
  const t0 = now();
  const { model, buffer, camera } = deps;
  const spec = model.spec;
  // 1. check
  const name = req.object.trim().toLowerCase();
  const objectIndex = spec.vocabulary.findIndex((v, i) => i > 0 && v === name);
  if (objectIndex < 1) {
    throw new ParameterError(`unknown object '${req.object}' (the model knows: ${spec.vocabulary.slice(1).join(', ')})`, 'unknown_object');
  }
  const ne = req.nameEvidence;
  if (ne && !(Number.isFinite(ne.weight) && ne.weight >= 0 && ne.weight <= 1)) throw new ParameterError(`name evidence weight must be in [0, 1], got ${ne.weight}`, 'name_evidence');
  if (ne && (ne.tLevels.length === 0 || ne.tLevels.some((t) => !(t > 0 && t < 1)))) throw new ParameterError(`name evidence noise levels must be in (0, 1), got [${ne.tLevels.join(', ')}]`, 'name_evidence');
  const all = buffer.entries();
  if (all.length === 0) throw new ParameterError('no context yet: the camera buffer is empty', 'no_context');
  const kWanted = req.contextFrames ? Math.min(req.contextFrames, spec.contextFrames) : spec.contextFrames;
  if (!Number.isInteger(kWanted) || kWanted < 1) throw new ParameterError(`context frames must be a positive integer, got ${req.contextFrames}`, 'context_frames');
  const K = Math.min(kWanted, all.length);
  if (K < kWanted) {
    // the model was trained with K frames; with fewer we repeat nothing and simply pass fewer
    hooks.onStage?.('sample', `only ${all.length} keyframes (model K = ${spec.contextFrames})`);
  }
  // 2. sample
  hooks.onStage?.('sample');
  let grounding: PlanResult['grounding'];
  let includes: number[][] = [];
  if (spec.grounding && model.ground && req.policy !== 'contiguous') {
    const g = await groundBuffer(model, buffer, deps.modelId, objectIndex, camera);
    const showing = g.filter((k) => k.shows);
    const nameAware = req.nameAware !== false;
    const estimate = req.memoryGoal === false ? undefined : locateObject(showing, spec.grounding.grid, spec.grounding.threshold, camera, { excluded: req.excluded ?? [] });
    grounding = { keyframes: g.length, showing: showing.length, nameAware, ...(estimate ? { estimate } : {}), goalFrom: 'imagined' };
    if (nameAware) includes = nameAwareIncludes(showing, req.candidates, Math.min(NAME_AWARE_FRAMES, K - 1));
  }
  const samples = sampleContexts(buffer, K, req.candidates, req.policy, req.seed, includes);
  const tSample = now();
  // 3. encode (once per frame per model)
  hooks.onStage?.('encode');
  const L = latentSize(spec);
  await encodeMissing(model, buffer, deps.modelId, samples.flatMap((s) => s.entries));
  const tEncode = now();
  const contexts: CandidateContext[] = samples.map((s) => {
    const latents = new Float32Array(s.entries.length * L);
    s.entries.forEach((e, i) => {
      const z = buffer.getLatent(e.index, deps.modelId);
      if (!z) throw new ParameterError(`latent of keyframe ${e.index} vanished from the buffer during planning`, 'buffer_race');
      latents.set(z, i * L);
    });
    return { latents, indices: timeIndices(s.entries, deps.frameDtS) };
  });
  if (hooks.isCancelled?.()) throw new CancelledError('cancelled before denoising');
  // 4. imagine
  hooks.onStage?.('denoise');
  const im = await imagine(
    model,
    { contexts, object: objectIndex, candidates: req.candidates, steps: req.steps, shift: req.shift, guidance: req.guidance, guidanceMinT: req.guidanceMinT ?? 0, seed: req.seed },
    { ...(hooks.onStep ? { onStep: hooks.onStep } : {}), ...(hooks.isCancelled ? { isCancelled: hooks.isCancelled } : {}), now },
  );
  hooks.onStage?.('decode');
  const tImagine = now();
  // 5. extract
  hooks.onStage?.('extract');
  const newest = all[all.length - 1] as ContextEntry;
  const N = spec.targetFrames;
  const frames = toRgb8(im.frames, req.candidates * N, spec.width, spec.height);
  // the current view's box is the same for every candidate: detect it once
  const tb = now();
  const newestBox = detectBox(newest.pixels, spec.width, spec.height);
  let boxMs = now() - tb;
  const perCandidate = Array.from({ length: req.candidates }, (_, m) => frames.slice(m * N, (m + 1) * N));
  const extractor = deps.extractor ?? inlineExtractor(now);
  const extracted = await extractor(
    { camera, newest: newest.pixels, newestBox, startPose: newest.pose, keyframes: all.map((e) => ({ rgb: e.pixels, pose: e.pose })) },
    perCandidate,
  );
  if (extracted.length !== req.candidates) throw new InferenceError(`extractor returned ${extracted.length} results for ${req.candidates} candidates`, 'extraction_worker');
  let voMs = 0;
  let anchorMs = 0;
  const candidates: CandidatePlan[] = extracted.map((x, m) => {
    boxMs += x.boxMs;
    voMs += x.voMs;
    anchorMs += x.anchorMs;
    return { frames: perCandidate[m] as Uint8Array[], contextIndices: (samples[m] as { indices: number[] }).indices, chain: x.chain, goal: x.goal, score: x.score };
  });
  const tExtract = now();
  // 6. name evidence
  let evidence: NameEvidence | undefined;
  if (ne && req.candidates > 1) {
    if (hooks.isCancelled?.()) throw new CancelledError('cancelled before the name evidence');
    evidence = await nameEvidence(model, { contexts, latents: im.latents, candidates: req.candidates, object: objectIndex, tLevels: ne.tLevels, seed: req.seed });
  }
  const tEvidence = now();
  // 7. choose
  const excluded = req.excluded ?? [];
  for (const c of candidates) {
    const at = c.goal.object ?? c.goal.goal;
    if (at && excluded.length > 0 && isExcluded(at, excluded)) c.excluded = true;
  }
  const withGoal = candidates.map((c) => (c.goal.goal ? c.score : { ...c.score, score: 0 }));
  const agreement = consensus(
    candidates.map((c) => (c.goal.goal ? (c.goal.object ?? c.goal.goal) : undefined)),
    CONSENSUS_RADIUS_M,
  );
  const blended = withConsensus(withGoal, agreement, req.consensusWeight ?? DEFAULT_CONSENSUS_WEIGHT);
  const named = evidence && ne && ne.weight > 0 ? withNameEvidence(blended, evidence.margin, ne.weight) : blended;
  // a candidate that contradicts where memory puts the object loses
  const memory = grounding?.estimate;
  const agreesWithMemory = (c: CandidatePlan): boolean => {
    const at = c.goal.object ?? c.goal.goal;
    return !memory || (at !== undefined && Math.hypot(at.x - memory.x, at.y - memory.y) <= MEMORY_AGREE_M);
  };
  const ranked = memory ? named.map((c, m) => (agreesWithMemory(candidates[m] as CandidatePlan) ? c : { ...c, score: c.score * MEMORY_CONTRADICT_FACTOR })) : named;
  // an excluded candidate is chosen only when every candidate with a goal is excluded (it stays
  // marked, and the caller decides: the node imagines again)
  const allowed = ranked.map((c, m) => ((candidates[m] as CandidatePlan).excluded ? { ...c, score: 0 } : c));
  const useAllowed = allowed.some((c) => c.score > 0);
  const chosen = chooseCandidate(useAllowed ? allowed : ranked);
  const best = candidates[chosen] as CandidatePlan;
  const g = best.goal.goal;
  if (!g && !memory) throw new NoValidPathError('the chosen candidate has no goal pose');
  let obj: { x: number; y: number } | undefined = best.goal.object;
  let goalPose: Pose2D;
  if (memory && grounding) {
    // the goal from memory: look at its estimate from the chosen candidate's side when that agrees
    // (and stands off it), else from the keyframe that saw the object
    const D = req.lookDistanceM ?? DEFAULT_LOOK_DISTANCE_M;
    const from = req.lookFrom ?? 'candidate';
    const side = from === 'candidate' && g && agreesWithMemory(best) && Math.hypot(g.x - memory.x, g.y - memory.y) >= 0.5 * D ? g : memory.viewpoint;
    goalPose = lookPose(memory, side, from === 'at_viewpoint' ? Infinity : D);
    obj = { x: memory.x, y: memory.y };
    grounding.goalFrom = 'memory';
  } else {
    const gg = g as Pose2D;
    goalPose = obj && Math.hypot(obj.x - gg.x, obj.y - gg.y) > 0.2 ? { x: gg.x, y: gg.y, yaw: normalizeAngle(Math.atan2(obj.y - gg.y, obj.x - gg.x)) } : { ...gg };
  }
  const revisits = memory ? isExcluded(memory, excluded) : best.excluded === true;
  return {
    object: name,
    objectIndex,
    ...(revisits ? { revisits } : {}),
    candidates,
    chosen,
    goalPose,
    objectXY: obj ? { x: obj.x, y: obj.y } : undefined,
    startPose: newest.pose,
    imaginedPoses: (best.goal.poses ?? []).slice(1),
    ...(evidence ? { nameEvidence: evidence } : {}),
    ...(grounding ? { grounding } : {}),
    choiceScores: (useAllowed ? allowed : ranked).map((c) => c.score),
    timings: {
      sampleMs: tSample - t0,
      encodeMs: tEncode - tSample,
      denoiseMs: im.timings.denoiseMs,
      perStepMs: im.timings.perStepMs,
      decodeMs: im.timings.decodeMs,
      extractMs: tExtract - tImagine,
      evidenceMs: tEvidence - tExtract,
      boxMs,
      voMs,
      waypointsMs: anchorMs,
      totalMs: now() - t0,
    },
  };
}
