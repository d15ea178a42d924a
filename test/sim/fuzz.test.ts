/**
 * The fuzz engine (src/sim/fuzz.ts) with a test-double model: hostile messages are refused at
 * the transport or rejected by the nodes with a reason, nothing crashes, valid goals are answered.
 * The shipped model runs through the `fuzz` command in test/cli/fuzz.test.ts.
 */
import { strict as assert } from 'node:assert';
import { runFuzz } from '../../src/sim/fuzz.js';
import { GreyImagination, MANIFEST } from '../ros/harness.js';

describe('sim/fuzz', function () {
  this.timeout(60000);

  it('800 hostile and valid messages: no crash, every unrepresentable message refused at publish, every hostile goal rejected, valid goals answered', async () => {
    const r = await runFuzz({ count: 800, seed: 3, model: new GreyImagination(), manifest: MANIFEST, steps: 1, candidates: 1, goalEvery: 100, answerTimeoutMs: 30000 });
    assert.equal(r.crashes, 0, r.crash_details.join('\n'));
    assert.ok(r.sent >= 800);
    assert.equal(r.hostile_goals_accepted, 0);
    const transportSent = Object.entries(r.sent_by_kind).filter(([k]) => k.startsWith('transport.')).reduce((n, [, v]) => n + v, 0);
    assert.ok(transportSent > 0);
    assert.equal(r.refused_by_transport, transportSent, 'exactly the unrepresentable messages are refused at publish');
    const hostileGoals = Object.entries(r.sent_by_kind).filter(([k]) => k.startsWith('goal.')).reduce((n, [, v]) => n + v, 0);
    assert.equal(r.goals_rejected, hostileGoals);
    for (const prefix of ['frame.', 'pose_input.', 'goal.']) assert.ok(Object.keys(r.rejected_by_reason).some((k) => k.startsWith(prefix)), `${prefix}: ${JSON.stringify(r.rejected_by_reason)}`);
    for (const code of ['frame.truncated', 'frame.unknown_encoding', 'frame.zero_size', 'pose_input.invalid_transform', 'goal.unknown_object']) assert.ok((r.rejected_by_reason[code] ?? 0) > 0, code);
    assert.ok(r.goals_ok >= 4, JSON.stringify(r.goals_by_outcome));
    assert.ok(['succeeded', 'aborted'].includes(r.final_goals['raw'] ?? ''), JSON.stringify(r.final_goals));
    assert.ok(['succeeded', 'aborted'].includes(r.final_goals['compressed'] ?? ''), JSON.stringify(r.final_goals));
    assert.equal(r.internal_errors, 0);
  });
});
