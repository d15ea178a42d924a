/**
 * How well grounded memory alone locates the asked-for object (no imagination, no driving): per
 * world, the exploration's keyframes as eval fills the buffer, grounded for the target's name with
 * the shipped grounder, located (core/planner/locate.ts), and the look pose at the default look
 * distance judged by the simulator as if the robot stood there.
 *   node dist/scripts/locateAccuracy.js [A-B]   (default 200-239)
 */
import { OnnxImaginationModel, defaultModelDir } from '../src/model/OnnxImaginationModel.js';
import { cameraOf } from '../src/core/model/manifest.js';
import { makeScenario } from '../src/sim/scenario.js';
import { fillBuffer } from '../src/cli/commands/eval.js';
import { groundBuffer } from '../src/core/planner/grounding.js';
import { locateObject, lookPose } from '../src/core/planner/locate.js';
import { DEFAULT_LOOK_DISTANCE_M } from '../src/core/planner/planToObject.js';
import { judge } from '../src/sim/judge.js';
import { vocabularyIndex } from '../src/sim/vocabulary.js';

const [a, b] = (process.argv[2] ?? '200-239').split('-').map(Number) as [number, number];
if (!(Number.isInteger(a) && Number.isInteger(b) && b >= a)) throw new Error(`expected seeds A-B, found '${process.argv[2]}'`);
const model = await OnnxImaginationModel.load(defaultModelDir());
const camera = cameraOf(model.manifest);
const g = model.spec.grounding;
if (!g) throw new Error('the model has no grounder');
let atLook = 0;
let none = 0;
const errs: number[] = [];
for (let s = a; s <= b; s++) {
  const sc = makeScenario(s);
  const buffer = fillBuffer(sc, camera, 'none', undefined);
  const gr = await groundBuffer(model, buffer, 'locate', vocabularyIndex(sc.target.category), camera);
  const loc = locateObject(gr.filter((k) => k.shows), g.grid, g.threshold, camera);
  if (!loc) {
    none++;
    console.log(`${s} ${sc.target.category}: no keyframe shows it`);
    continue;
  }
  const err = Math.hypot(loc.x - sc.target.x, loc.y - sc.target.y);
  errs.push(err);
  const j = judge(sc.world, sc.target, lookPose(loc, loc.viewpoint, DEFAULT_LOOK_DISTANCE_M), camera);
  if (j.success) atLook++;
  console.log(`${s} ${sc.target.category}: error ${err.toFixed(2)} m, ${loc.support} of ${loc.showing} keyframes agree; look pose ${j.success ? 'succeeds' : 'fails'} (${j.distanceM.toFixed(2)} m of ${j.reachM.toFixed(2)}, ${j.bearingDeg.toFixed(0)}°)`);
}
errs.sort((x, y) => x - y);
const q = (p: number) => (errs[Math.min(errs.length - 1, Math.floor(errs.length * p))] ?? NaN).toFixed(2);
console.log(`seeds ${a}-${b}: ${b - a + 1} worlds, located ${errs.length} (none ${none}); error median ${q(0.5)} m, 80th percentile ${q(0.8)} m; the look pose alone succeeds in ${atLook}`);
process.exit(0);
