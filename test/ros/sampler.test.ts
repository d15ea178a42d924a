/**
 * The sampler the node runs: every plan request carries the sampler parameters (steps, shift,
 * guidance and its interval, candidates) as they are now, a runtime update reaches the next plan,
 * the start-up log names the sampler and what differs from the model's, and the shipped fallbacks
 * are the shipped model's own sampler.
 */
import { strict as assert } from 'node:assert';
import { defaultModelDir, readManifest } from '../../src/model/OnnxImaginationModel.js';
import { NODE_PARAMETERS, type NodeParameterValues } from '../../src/ros/parameters.js';
import { samplerLine, type Planner } from '../../src/ros/Video4SpatialNode.js';
import type { PlanRequest } from '../../src/core/planner/planToObject.js';
import { explore, planAhead, setup } from './harness.js';

describe('the sampler the node runs', function () {
  this.timeout(60000);

  it('passes steps, shift, guidance, guidance_min_t and candidates to every plan; ros2 param set reaches the next', async () => {
    const asked: PlanRequest[] = [];
    const ahead: Planner = async (deps, req, hooks) => {
      asked.push(req);
      return planAhead(deps, req, hooks);
    };
    const s = setup(112, { nav2: 'none', planner: ahead, parameters: { shift: 2.5, guidance_min_t: 0.6, guidance_scale: 4.0 } });
    // the harness's manifest: 2 steps, shift 1, guidance 3 at every step, 1 candidate
    assert.ok(s.lines.some((l) => l.includes('sampler: steps 2, shift 2.5 (the model\'s: 1), guidance 4 (the model\'s: 3) at t >= 0.6 (the model\'s: 0), candidates 1')), s.lines.join('\n'));
    await explore(s, 3);
    const goal = async () => (await (await s.client.sendGoal({ object_name: s.sc.target.category, execute: false, time_budget_s: 0 })).result).status;
    assert.equal(await goal(), 'succeeded');
    const first = asked.at(-1);
    assert.ok(first);
    assert.deepEqual([first.steps, first.shift, first.guidance, first.guidanceMinT, first.candidates], [2, 2.5, 4, 0.6, 1]);
    const set = s.nodeGraph.setParameters([{ name: 'guidance_min_t', value: 0.0 }, { name: 'shift', value: 1.0 }]);
    assert.ok(set.successful, set.reason);
    assert.equal(await goal(), 'succeeded');
    const second = asked.at(-1);
    assert.ok(second && second !== first);
    assert.deepEqual([second.shift, second.guidanceMinT], [1, 0]);
    const bad = s.nodeGraph.setParameters([{ name: 'guidance_min_t', value: 1.5 }]);
    assert.equal(bad.successful, false);
    assert.match(bad.reason, /parameter 'guidance_min_t' = 1.5: above the maximum 1/);
    s.node.close();
  });

  it('names what differs from the model in its start-up line', () => {
    const model = { steps: 8, shift: 3, guidance_scale: 3, guidance_min_t: 0.7, candidates: 4 };
    const v = (o: Partial<NodeParameterValues>) => ({ steps: 8, shift: 3, guidance_scale: 3, guidance_min_t: 0.7, candidates: 4, ...o }) as NodeParameterValues;
    assert.equal(samplerLine(v({}), model), 'sampler: steps 8, shift 3, guidance 3 at t >= 0.7, candidates 4');
    assert.equal(samplerLine(v({ shift: 1, guidance_min_t: 0 }), model), "sampler: steps 8, shift 1 (the model's: 3), guidance 3 at every step (the model's: t >= 0.7), candidates 4");
    assert.equal(samplerLine(v({ steps: 4, guidance_min_t: 0 }), { ...model, guidance_min_t: undefined }), "sampler: steps 4 (the model's: 8), shift 3, guidance 3, candidates 4");
  });

  it("falls back to the shipped model's own sampler when no manifest is given", () => {
    const shipped = readManifest(defaultModelDir()).sampler;
    for (const spec of NODE_PARAMETERS) {
      if (!('fromModel' in spec)) continue;
      const key = spec.fromModel as keyof typeof shipped;
      assert.equal(spec.default, shipped[key] ?? (spec as { ifModelLacks?: number }).ifModelLacks, `${spec.name}: the fallback is models/v4s-small's sampler.${key}`);
    }
  });
});
