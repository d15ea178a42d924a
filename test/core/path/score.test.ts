import { strict as assert } from 'node:assert';
import { NoValidPathError, ParameterError } from '../../../src/core/errors.js';
import type { Pose2D } from '../../../src/core/geometry.js';
import type { GoalEstimate } from '../../../src/core/path/anchor.js';
import type { BoxDetection } from '../../../src/core/path/box.js';
import { chooseCandidate, consensus, evidenceTerms, scoreCandidate, withConsensus, withNameEvidence, type CandidateEvidence, type CandidateScore } from '../../../src/core/path/score.js';
import type { OdometryChain, PlanarMotion } from '../../../src/core/path/vo.js';

const box = (cx: number): BoxDetection => ({ x0: cx - 5, x1: cx + 5, y0: 20, y1: 40, cx, cy: 30, score: 1, pixels: 60, clipped: { left: false, top: false, right: false, bottom: false } });
const motion = (confidence: number): PlanarMotion => ({ dx: 0.5, dy: 0, dyaw: 0, confidence, inliers: 10, samples: 10, residual: 1 });
const straightPoses = (n: number, step: number): Pose2D[] => Array.from({ length: n }, (_, i) => ({ x: i * step, y: 0, yaw: 0 }));
function chain(confs: number[]): OdometryChain {
  const poses = straightPoses(confs.length + 1, 0.5);
  return { poses, links: confs.map((c, i) => ({ from: i, to: i + 1, motion: motion(c) })), minConfidence: Math.min(...confs) };
}
function goal(score: number, poses: Pose2D[] | undefined, source: GoalEstimate['source'] = 'anchor'): GoalEstimate {
  return { goal: poses?.[poses.length - 1] ?? { x: 0, y: 0, yaw: 0 }, source, goalScore: score, anchors: [], boxes: [], sdLast: undefined, object: undefined, poses, confidence: score };
}
const perfect = (): CandidateEvidence => ({ width: 64, lastBox: box(32), goal: goal(1, straightPoses(6, 0.5)), chain: chain([1, 1, 1, 1, 1]) });

describe('core/path/score', () => {
  it('a centred, anchored, confident, plausible candidate scores 1', () => {
    const s = scoreCandidate(perfect());
    assert.equal(s.score, 1);
    assert.deepEqual(s.breakdown, { box: 1, centred: 1, anchor: 1, vo: 1, plausible: 1 });
    assert.deepEqual(s.reasons, []);
    assert.equal(s.sd, 0);
    assert.ok(Math.abs((s.pathLengthM as number) - 2.5) < 1e-12);
  });

  it('each missing or weak term lowers the score by its weight, with a reason', () => {
    const noBox = scoreCandidate({ ...perfect(), lastBox: undefined });
    assert.ok(Math.abs(noBox.score - 0.5) < 1e-12, String(noBox.score)); // box 0.25 + centred 0.25 lost
    assert.ok(noBox.reasons.includes('no box in the last frame'));
    const off = scoreCandidate({ ...perfect(), lastBox: box(32 + 6.4) }); // SD 0.1 → centred 0.5
    assert.ok(Math.abs(off.breakdown.centred - 0.5) < 1e-9 && Math.abs(off.score - 0.875) < 1e-9, JSON.stringify(off));
    const weakAnchor = scoreCandidate({ ...perfect(), goal: goal(0.5, straightPoses(6, 0.5)) });
    assert.ok(Math.abs(weakAnchor.score - 0.85) < 1e-12);
    const chainGoal = scoreCandidate({ ...perfect(), goal: goal(0.2, straightPoses(6, 0.5), 'chain') });
    assert.ok(chainGoal.reasons.some((r) => /goal from chain/.test(r)));
    const weakVo = scoreCandidate({ ...perfect(), chain: chain([1, 0, 1, 0, 0.5]) });
    assert.ok(Math.abs(weakVo.breakdown.vo - 0.5) < 1e-12 && Math.abs(weakVo.score - 0.9) < 1e-12);
    const nothing = scoreCandidate({ width: 64, lastBox: undefined });
    assert.equal(nothing.score, 0);
    assert.ok(nothing.reasons.includes('no odometry') && nothing.reasons.some((r) => /not anchored/.test(r)));
  });

  it('an implausible path scores 0: NaN, too long, a jump, a non-finite goal or chain', () => {
    const nan = straightPoses(6, 0.5);
    nan[3] = { x: Number.NaN, y: 0, yaw: 0 };
    assert.equal(scoreCandidate({ ...perfect(), poses: nan }).score, 0);
    assert.equal(scoreCandidate({ ...perfect(), poses: straightPoses(6, 4) }).breakdown.plausible, 0);
    const long = scoreCandidate({ ...perfect(), poses: straightPoses(11, 2) });
    assert.ok(long.score === 0 && long.reasons.some((r) => /longer than 15 m/.test(r)), JSON.stringify(long.reasons));
    const jump = straightPoses(6, 0.5);
    jump[5] = { x: 6, y: 0, yaw: 0 };
    assert.ok(scoreCandidate({ ...perfect(), poses: jump }).reasons.some((r) => /step of 4.00 m/.test(r)));
    const badGoal = perfect();
    badGoal.goal = { ...(badGoal.goal as GoalEstimate), goal: { x: Number.POSITIVE_INFINITY, y: 0, yaw: 0 } };
    assert.equal(scoreCandidate(badGoal).score, 0);
    const badChain = perfect();
    (badChain.chain as OdometryChain).poses[2] = { x: 0, y: Number.NaN, yaw: 0 };
    assert.equal(scoreCandidate(badChain).score, 0);
  });

  it('chooseCandidate picks the best; throws NoValidPathError listing the scores when none is valid', () => {
    const a = scoreCandidate({ ...perfect(), lastBox: undefined });
    const b = scoreCandidate(perfect());
    const c = scoreCandidate({ width: 64, lastBox: undefined });
    assert.equal(chooseCandidate([a, b, c]), 1);
    assert.equal(chooseCandidate([a, c]), 0);
    assert.throws(() => chooseCandidate([c, c]), (e: unknown) => e instanceof NoValidPathError && /#0: 0.000 \(no box in the last frame\); #1/.test(e.message));
    assert.throws(() => chooseCandidate([]), (e: unknown) => e instanceof NoValidPathError && /no candidates/.test(e.message));
    assert.throws(() => chooseCandidate([a], 0.6), (e: unknown) => e instanceof NoValidPathError && /above 0.6/.test(e.message));
  });

  it('throws ParameterError for bad weights and limits', () => {
    const isParam = (re: RegExp) => (e: unknown) => e instanceof ParameterError && re.test(e.message);
    assert.throws(() => scoreCandidate(perfect(), { weights: { box: -1, centred: 1, anchor: 1, vo: 1 } }), isParam(/weight box.*-1/));
    assert.throws(() => scoreCandidate(perfect(), { weights: { box: 0, centred: 0, anchor: 0, vo: 0 } }), isParam(/sum to 0/));
    assert.throws(() => scoreCandidate(perfect(), { maxSd: 0 }), isParam(/maxSd.*0/));
    assert.throws(() => scoreCandidate(perfect(), { maxPathM: -2 }), isParam(/maxPathM.*-2/));
    assert.throws(() => scoreCandidate(perfect(), { maxStepM: 0 }), isParam(/maxStepM.*0/));
  });
});

describe('core/path/score: consensus between candidates', () => {
  const s = (score: number): CandidateScore => ({ score, breakdown: { box: 1, centred: 1, anchor: 1, vo: 1, plausible: 1 }, reasons: [], sd: 0, pathLengthM: 1 });

  it('is the share of the other candidates within the radius; 0 without a point or with one point', () => {
    const pts = [{ x: 0, y: 0 }, { x: 0.5, y: 0 }, { x: 5, y: 5 }, undefined];
    assert.deepEqual(consensus(pts, 1), [0.5, 0.5, 0, 0]);
    assert.deepEqual(consensus([{ x: 0, y: 0 }, undefined], 1), [0, 0]);
    assert.deepEqual(consensus([{ x: 0, y: 0 }, { x: NaN, y: 0 }], 1), [0, 0]);
    assert.throws(() => consensus(pts, 0), (e: unknown) => e instanceof ParameterError && /got 0/.test(e.message));
  });

  it('lets two agreeing candidates beat a lone, slightly better one; weight 0 changes nothing; implausible stays 0', () => {
    const scores = [s(0.6), s(0.55), s(0.65), s(0)];
    const agree = consensus([{ x: 0, y: 0 }, { x: 0.3, y: 0 }, { x: 4, y: 0 }, { x: 0, y: 0 }], 1);
    assert.equal(chooseCandidate(scores), 2);
    assert.equal(chooseCandidate(withConsensus(scores, agree, 0.3)), 0);
    assert.deepEqual(withConsensus(scores, agree, 0), scores);
    assert.equal(withConsensus(scores, agree, 0.3)[3]?.score, 0);
    assert.throws(() => withConsensus(scores, agree, 1.5), (e: unknown) => e instanceof ParameterError && /got 1.5/.test(e.message));
  });

  it('name evidence: margins placed between the plan\'s smallest (0) and largest (1); blended by weight; implausible stays 0', () => {
    assert.deepEqual(evidenceTerms([0.25, 0.75, 0.5]), [0, 1, 0.5]);
    assert.deepEqual(evidenceTerms([0.03, 0.03]), [0.5, 0.5], 'equal margins carry no evidence');
    assert.deepEqual(evidenceTerms([0.03, NaN]), [0.5, 0.5], 'fewer than two finite margins carry none either');
    assert.deepEqual(evidenceTerms([0.01, NaN, 0.05]), [0, 0, 1]);
    const scores = [s(0.6), s(0.5), s(0)];
    const blended = withNameEvidence(scores, [0.01, 0.09, 0.2], 0.5);
    assert.ok(Math.abs((blended[0]?.score as number) - 0.3) < 1e-12);
    assert.ok(Math.abs((blended[1]?.score as number) - (0.25 + 0.5 * (0.08 / 0.19))) < 1e-12);
    assert.equal(blended[2]?.score, 0);
    assert.equal(chooseCandidate(blended), 1);
    assert.deepEqual(withNameEvidence(scores, [0.01, 0.09, 0.2], 0), scores);
    assert.throws(() => withNameEvidence(scores, [0.1, 0.2, 0.3], -0.1), (e: unknown) => e instanceof ParameterError && /got -0.1/.test(e.message));
    assert.throws(() => withNameEvidence(scores, [0.1], 0.5), (e: unknown) => e instanceof ParameterError && /1 margins for 3 candidates/.test(e.message));
  });
});
