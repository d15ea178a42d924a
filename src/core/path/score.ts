/**
 * Scoring imagined candidates for best-of-M (DESIGN §2, §4b). Pure.
 *
 * A candidate is worth driving when its last frame shows the target (a box), centred (SD small),
 * its goal is anchored to real keyframes, its odometry is confident, and its path is plausible
 * (finite, not absurdly long). Each term is in [0, 1]; the score is the weighted mean of the
 * terms, times the plausibility gate (an implausible path scores 0).
 */
import { NoValidPathError, ParameterError } from '../errors.js';
import type { Pose2D } from '../geometry.js';
import { sd, type BoxDetection } from './box.js';
import type { GoalEstimate } from './anchor.js';
import type { OdometryChain } from './vo.js';

/** What is known about one candidate. */
export interface CandidateEvidence {
  /** Image width (px) of the frames. */
  width: number;
  /** Box of the last imagined frame, if any. */
  lastBox: BoxDetection | undefined;
  /** Goal estimate (anchorGoal), if computed. */
  goal?: GoalEstimate;
  /** Odometry over the imagined frames, if computed. */
  chain?: OdometryChain;
  /** Map poses of the imagined frames (e.g. goal.poses), for the plausibility checks. */
  poses?: readonly Pose2D[];
}

export interface ScoreWeights {
  /** Box present in the last frame. */
  box: number;
  /** Box centred: 1 − SD / maxSd, clamped. */
  centred: number;
  /** Goal anchoring score. */
  anchor: number;
  /** Mean odometry link confidence. */
  vo: number;
}

export interface ScoreParams {
  weights: ScoreWeights;
  /** SD at which the centring term reaches 0 (the paper's success threshold). Default 0.2. */
  maxSd: number;
  /** Longest plausible imagined path (m, sum of steps). Default 15. */
  maxPathM: number;
  /** Longest plausible single step between consecutive frames (m). Default 3. */
  maxStepM: number;
}

export const DEFAULT_SCORE_PARAMS: Readonly<ScoreParams> = Object.freeze({
  weights: Object.freeze({ box: 0.25, centred: 0.25, anchor: 0.3, vo: 0.2 }),
  maxSd: 0.2,
  maxPathM: 15,
  maxStepM: 3,
});

export interface CandidateScore {
  /** In [0, 1]. */
  score: number;
  breakdown: { box: number; centred: number; anchor: number; vo: number; plausible: number };
  /** Human-readable reasons for every term below 1. */
  reasons: string[];
  /** SD of the last frame's box (undefined without one). */
  sd: number | undefined;
  /** Length (m) of the imagined path, when poses were given. */
  pathLengthM: number | undefined;
}

function checkParams(p: ScoreParams): void {
  const w = p.weights;
  for (const k of ['box', 'centred', 'anchor', 'vo'] as const) {
    if (!(Number.isFinite(w[k]) && w[k] >= 0)) throw new ParameterError(`candidate score: weight ${k} must be ≥ 0, got ${w[k]}`);
  }
  if (!(w.box + w.centred + w.anchor + w.vo > 0)) throw new ParameterError('candidate score: the weights sum to 0');
  if (!(p.maxSd > 0 && p.maxSd <= 0.5)) throw new ParameterError(`candidate score: maxSd must be in (0, 0.5], got ${p.maxSd}`);
  if (!(p.maxPathM > 0)) throw new ParameterError(`candidate score: maxPathM must be positive, got ${p.maxPathM}`);
  if (!(p.maxStepM > 0)) throw new ParameterError(`candidate score: maxStepM must be positive, got ${p.maxStepM}`);
}

const clamp01 = (x: number) => (x < 0 ? 0 : x > 1 ? 1 : x);

/**
 * Scores one candidate (see the module comment). Missing evidence scores 0 for its term (no
 * anchoring → anchor 0; no chain → vo 0).
 * @throws ParameterError for invalid weights or limits.
 */
export function scoreCandidate(e: CandidateEvidence, params: Partial<ScoreParams> = {}): CandidateScore {
  const prm: ScoreParams = { ...DEFAULT_SCORE_PARAMS, ...params, weights: { ...DEFAULT_SCORE_PARAMS.weights, ...(params.weights ?? {}) } };
  checkParams(prm);
  const reasons: string[] = [];
  const box = e.lastBox ? 1 : 0;
  if (!e.lastBox) reasons.push('no box in the last frame');
  const sdv = e.lastBox ? sd(e.lastBox, e.width) : undefined;
  const centred = sdv === undefined ? 0 : clamp01(1 - sdv / prm.maxSd);
  if (sdv !== undefined && centred < 1) reasons.push(`box off centre: SD ${sdv.toFixed(3)}`);
  const anchor = e.goal ? clamp01(e.goal.goalScore) : 0;
  if (!e.goal) reasons.push('goal not anchored (no estimate)');
  else if (e.goal.source !== 'anchor') reasons.push(`goal from ${e.goal.source}, not anchored`);
  else if (anchor < 1) reasons.push(`anchoring score ${anchor.toFixed(2)}`);
  let vo = 0;
  if (e.chain && e.chain.links.length > 0) {
    vo = clamp01(e.chain.links.reduce((s, l) => s + (Number.isFinite(l.motion.confidence) ? l.motion.confidence : 0), 0) / e.chain.links.length);
    if (vo < 1) reasons.push(`odometry confidence ${vo.toFixed(2)}`);
  } else reasons.push('no odometry');
  // plausibility: finite everything, bounded path and steps
  let plausible = 1;
  let pathLengthM: number | undefined;
  const poses = e.poses ?? e.goal?.poses;
  const finitePose = (p: Pose2D) => Number.isFinite(p.x) && Number.isFinite(p.y) && Number.isFinite(p.yaw);
  if (e.goal?.goal && !finitePose(e.goal.goal)) {
    plausible = 0;
    reasons.push('goal pose is not finite');
  }
  if (poses) {
    if (!poses.every(finitePose)) {
      plausible = 0;
      reasons.push('a path pose is not finite');
    } else {
      let len = 0;
      let maxStep = 0;
      for (let i = 1; i < poses.length; i++) {
        const a = poses[i - 1] as Pose2D;
        const b = poses[i] as Pose2D;
        const step = Math.hypot(b.x - a.x, b.y - a.y);
        len += step;
        maxStep = Math.max(maxStep, step);
      }
      pathLengthM = len;
      if (len > prm.maxPathM) {
        plausible = 0;
        reasons.push(`path ${len.toFixed(2)} m longer than ${prm.maxPathM} m`);
      }
      if (maxStep > prm.maxStepM) {
        plausible = 0;
        reasons.push(`a step of ${maxStep.toFixed(2)} m exceeds ${prm.maxStepM} m`);
      }
    }
  }
  if (e.chain && !e.chain.poses.every(finitePose)) {
    plausible = 0;
    reasons.push('odometry produced a non-finite pose');
  }
  const w = prm.weights;
  const mean = (w.box * box + w.centred * centred + w.anchor * anchor + w.vo * vo) / (w.box + w.centred + w.anchor + w.vo);
  return { score: plausible * mean, breakdown: { box, centred, anchor, vo, plausible }, reasons, sd: sdv, pathLengthM };
}

/**
 * Index of the best-scoring candidate.
 * @throws NoValidPathError when there is no candidate or none scores above `minScore`; the
 * message lists every candidate's score and its first reason.
 */
export function chooseCandidate(scores: readonly CandidateScore[], minScore = 0): number {
  let best = -1;
  for (let i = 0; i < scores.length; i++) {
    const s = (scores[i] as CandidateScore).score;
    if (Number.isFinite(s) && s > minScore && (best < 0 || s > (scores[best] as CandidateScore).score)) best = i;
  }
  if (best < 0) {
    const detail = scores.map((s, i) => `#${i}: ${s.score.toFixed(3)}${s.reasons[0] ? ` (${s.reasons[0]})` : ''}`).join('; ');
    throw new NoValidPathError(`no imagined candidate scores above ${minScore}: ${scores.length === 0 ? 'no candidates' : detail}`);
  }
  return best;
}

/**
 * Agreement between candidates (self-consistency for best-of-M): for each candidate with a point
 * (its object estimate, else its goal; map frame, metres), the share of the OTHER candidates with
 * a point whose point lies within `radiusM` of it. In [0, 1]; 0 without a point or with fewer than
 * two points. Independent imagined videos that agree on where the object is are more likely right
 * than one that disagrees with the rest.
 * @throws ParameterError for a radius that is not a positive finite number.
 */
export function consensus(points: readonly ({ x: number; y: number } | undefined)[], radiusM: number): number[] {
  if (!(Number.isFinite(radiusM) && radiusM > 0)) throw new ParameterError(`consensus radius must be a positive number of metres, got ${radiusM}`);
  const ok = (p: { x: number; y: number } | undefined): p is { x: number; y: number } => p !== undefined && Number.isFinite(p.x) && Number.isFinite(p.y);
  const n = points.filter(ok).length;
  return points.map((p, i) => {
    if (!ok(p) || n < 2) return 0;
    let agree = 0;
    points.forEach((q, j) => {
      if (j !== i && ok(q) && Math.hypot(q.x - p.x, q.y - p.y) <= radiusM) agree++;
    });
    return agree / (n - 1);
  });
}

/** Blends each candidate's score with its consensus: (1 − w)·score + w·consensus, for plausible candidates (score > 0). */
export function withConsensus(scores: readonly CandidateScore[], agreement: readonly number[], weight: number): CandidateScore[] {
  if (!(Number.isFinite(weight) && weight >= 0 && weight <= 1)) throw new ParameterError(`consensus weight must be in [0, 1], got ${weight}`);
  return scores.map((s, i) => {
    const c = agreement[i] ?? 0;
    if (!(s.score > 0) || weight === 0) return s;
    const reasons = c < 1 ? [...s.reasons, `consensus ${c.toFixed(2)}`] : s.reasons;
    return { ...s, score: (1 - weight) * s.score + weight * c, reasons };
  });
}

/**
 * Name evidence as a score term in [0, 1] per candidate (sampler/nameEvidence.ts): each margin
 * (how much better the named object explains the candidate's video than any other object) placed
 * between the plan's smallest (0) and largest (1) margin; 0.5 for all when they are equal or when
 * fewer than two are finite. Scale-free, so no loss unit leaks into the choice.
 */
export function evidenceTerms(margins: readonly number[]): number[] {
  const fin = margins.filter((m) => Number.isFinite(m));
  if (fin.length < 2) return margins.map(() => 0.5);
  const lo = Math.min(...fin);
  const hi = Math.max(...fin);
  if (!(hi > lo)) return margins.map(() => 0.5);
  return margins.map((m) => (Number.isFinite(m) ? (m - lo) / (hi - lo) : 0));
}

/** Blends each plausible candidate's score (score > 0) with its name-evidence term: (1 − w)·score + w·term. */
export function withNameEvidence(scores: readonly CandidateScore[], margins: readonly number[], weight: number): CandidateScore[] {
  if (!(Number.isFinite(weight) && weight >= 0 && weight <= 1)) throw new ParameterError(`name evidence weight must be in [0, 1], got ${weight}`);
  if (margins.length !== scores.length) throw new ParameterError(`name evidence: ${margins.length} margins for ${scores.length} candidates`);
  const terms = evidenceTerms(margins);
  return scores.map((s, i) => {
    const e = terms[i] as number;
    if (!(s.score > 0) || weight === 0) return s;
    const reasons = e < 1 ? [...s.reasons, `name evidence ${e.toFixed(2)}`] : s.reasons;
    return { ...s, score: (1 - weight) * s.score + weight * e, reasons };
  });
}
