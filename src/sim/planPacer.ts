/**
 * Plans take simulated time. The in-process graph's clock moves only while the simulated Nav2
 * drives, so without this a plan made while a leg drives (plan_while_driving) would let the robot
 * drive as far as the CPU allows meanwhile. The pacer gates SimNav2's control steps: none while
 * the node's planner runs, then `planSteps` granted before the plan is handed to the node (the
 * robot drove on the old leg for that long), whatever the CPU. Deterministic, and 0 steps
 * reproduces a robot that stands while it plans.
 */
import type { Planner } from '../ros/Video4SpatialNode.js';

export class PlanPacer {
  private planning = 0;
  private grants = 0;
  private waiters: (() => void)[] = [];

  /** @param planSteps control steps the robot drives per plan (modelled plan time / step dt). */
  constructor(readonly planSteps: number) {
    if (!(Number.isInteger(planSteps) && planSteps >= 0)) throw new RangeError(`planSteps must be a non-negative integer, got ${planSteps}`);
  }

  /** SimNav2Options.gate: free while the node is not planning; while it plans, one grant per step. */
  readonly gate = async (): Promise<void> => {
    while (this.planning > 0 && this.grants === 0) await new Promise<void>((r) => this.waiters.push(r));
    if (this.planning > 0) this.grants--;
  };

  /**
   * The node's planner, paced: while `planner` runs no step is driven (`settle`, when given, runs
   * first: e.g. the node's ingest going idle); then, if a leg is driving (`driving()`), planSteps
   * steps are granted and the plan is handed over once they are driven or the leg ends.
   */
  wrap(planner: Planner, driving: () => boolean, settle?: () => Promise<void>): Planner {
    return async (...args) => {
      this.planning++;
      try {
        // the frames already published are ingested first, whatever the CPU (deterministic buffers)
        await settle?.();
        const plan = await planner(...args);
        if (this.planSteps > 0 && driving()) {
          this.grants = this.planSteps;
          this.wake();
          while (this.grants > 0 && driving()) await new Promise((r) => setImmediate(r));
          this.grants = 0;
        }
        return plan;
      } finally {
        this.planning--;
        this.wake();
      }
    };
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const r of w) r();
  }
}
