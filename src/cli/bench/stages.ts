/** A plan's latency by stage (seconds), and the median over repeated plans. */
import { median } from '../../core/context/contextCost.js';
import type { PlanResult } from '../../core/planner/planToObject.js';

/** Stage times of one plan in seconds; `step` is the mean time per denoising step. */
export interface PlanStages {
  total: number;
  sample: number;
  encode: number;
  step: number;
  denoise: number;
  decode: number;
  /** Step 5's wall time (box + vo + waypoints when inline; less with an extraction pool). */
  extract: number;
  box: number;
  vo: number;
  waypoints: number;
  /** Step 6: the name evidence (0 when the plan did not compute it). */
  evidence: number;
}

/** planToObject's timings (ms) → PlanStages (s). */
export function stagesOf(t: PlanResult['timings']): PlanStages {
  const s = (ms: number) => ms / 1000;
  const steps = t.perStepMs.length;
  return {
    total: s(t.totalMs),
    sample: s(t.sampleMs),
    encode: s(t.encodeMs),
    step: steps > 0 ? s(t.perStepMs.reduce((a, b) => a + b, 0) / steps) : 0,
    denoise: s(t.denoiseMs),
    decode: s(t.decodeMs),
    extract: s(t.extractMs),
    box: s(t.boxMs),
    vo: s(t.voMs),
    waypoints: s(t.waypointsMs),
    evidence: s(t.evidenceMs),
  };
}

/** Per-stage median over repetitions. */
export function medianStages(runs: readonly PlanStages[]): PlanStages {
  if (runs.length === 0) throw new RangeError('medianStages: no runs');
  const keys = Object.keys(runs[0] as PlanStages) as (keyof PlanStages)[];
  return Object.fromEntries(keys.map((k) => [k, median(runs.map((r) => r[k]))])) as unknown as PlanStages;
}
