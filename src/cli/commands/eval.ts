/**
 * `video4spatial-nav eval --seeds A-B [--candidates M] [--steps S] [--guidance W] [--guidance-min-t T] [--shift S]
 *   [--ablation none|no-context|other-world|contiguous|first-frame-only] [--open-loop] [--closed-loop]
 *   [--model DIR] [--json FILE] [--extraction-threads N] [--name-evidence W [--name-evidence-levels a,b]]
 *   [--progress | --quiet]` (progress on stderr: src/cli/progress.ts)
 *   (--extraction-threads: path extraction workers, 0 = auto = the cores up to 4, 1 = none;
 *   --name-evidence: score every candidate with sampler/nameEvidence.ts and weigh it W in the choice,
 *   0 = report only; each open-loop sample lists every candidate as perCandidate {ifSd, score,
 *   breakdown, margin, overNull, losses}, so choice rules can be compared offline)
 *
 * Open loop (the paper's metrics, judged against the simulator's ground truth):
 * - SD = |cx_box/W − 0.5| of the imagined red box in the chosen candidate's last frame
 *   (horizontal offset, normalised by the width; 0 = centred; the ground truth standoff gives ≈ 0);
 * - IF = the instruction was followed, judged by GEOMETRY: the world is rendered at the goal pose
 *   recovered from the imagined video, and the target must be visible there (≥ 20 px at 64×64) with
 *   its true box containing the imagined box's centre column (±2 px);
 * - IF(SD<τ) = both. A candidate without a box fails IF.
 * - Colour match (memory): object colours are drawn per world, so only memory can tell the model
 *   what colour the target is; the share of plans whose imagined boxed object has the target's
 *   palette colour, against chance 1/8.
 * - Per-frame agreement (drift): imagined target frame j of the chosen candidate against the true
 *   view rendered at the oracle path's pose j (the poses the training clips used), as
 *   1 − mean |a − b| / 255 over 8×8 block means of both frames; "chance" is the same score
 *   against the true view of another world's path, so agreement falling to chance shows drift.
 * Closed loop: the mission of `demo` per seed (the node on the in-process graph, SimRobot, SimNav2); success from the ground truth (judge.ts);
 * SPL = success · oracle length / max(oracle length, driven length). The oracle drives the
 * oracle path (success 1 and SPL 1 by construction on reachable targets; reported as a check).
 */
import { writeFileSync } from 'node:fs';
import { checkFlags, flagBool, flagNumber, flagString, parseArgs, parseSeedRange, UsageError } from '../args.js';
import { createExtractor } from '../../planner/ExtractionPool.js';
import { EXTRACTION_THREADS_FLAG, extractionThreadsFromArgs } from '../extraction.js';
import { booleanFlags, commandHelp, flagNames, type CliCommand } from '../command.js';
import { Progress, PROGRESS_FLAGS, progressFromArgs } from '../progress.js';
import { cameraOf } from '../../core/model/manifest.js';
import { ContextBuffer } from '../../core/context/ContextBuffer.js';
import type { CandidateScore } from '../../core/path/score.js';
import { DEFAULT_NAME_EVIDENCE_LEVELS, planToObject, type PlanRequest, type PlanResult } from '../../core/planner/planToObject.js';
import { objectPixelsColor, sd as sdOf } from '../../core/path/box.js';
import { PALETTE } from '../../sim/vocabulary.js';
import { Video4SpatialError } from '../../core/errors.js';
import { defaultModelDir, OnnxImaginationModel } from '../../model/OnnxImaginationModel.js';
import { render } from '../../sim/renderer.js';
import { explorationKeyframes, explorationStampNs, makeScenario, posesAlongPath, type Scenario } from '../../sim/scenario.js';
import { driveTo } from '../../sim/driver.js';
import { judge } from '../../sim/judge.js';
import { ABLATIONS, ablationGrounding, ablationSampling, runGraphMission, type Ablation } from '../../sim/graphMission.js';

export const IF_MIN_PIXELS = 20;
/** Episode limit: simulated seconds per goal (the node's time_budget_s on the graph clock). */
export const EPISODE_SIM_LIMIT_S = 120;

export interface OpenLoopSample {
  seed: number;
  object: string;
  sd: number | undefined;
  followed: boolean;
  planS: number;
  /** The imagined object's colour (inside the last box) is the target's colour in this world. */
  colourMatch?: boolean;
  /** Per target frame: agreement with the true view, and with another world's view (chance). */
  agreement?: number[];
  chance?: number[];
  error?: string;
  /** How many of the plan's candidates (chosen or not) are IF with SD < 0.2: each is one sample of the model. */
  candidatesIfSd?: number;
  candidates?: number;
  /** With a grounder: keyframes in the buffer, and how many the grounder saw the target in. */
  keyframes?: number;
  keyframesShowing?: number;
  /** Every candidate, chosen or not: judged IF(SD<0.2), its context frames that truly show the target, its score, and its name evidence when computed. */
  perCandidate?: { ifSd: boolean; targetInContext?: number; score: number; breakdown: CandidateScore['breakdown']; margin?: number; overNull?: number; losses?: number[] }[];
}

/**
 * Memory check by colour: object colours are drawn per world from PALETTE, so the name alone does
 * not give them away. The dominant colour inside the imagined last frame's box, snapped to the
 * nearest palette entry, must be the target's. Chance is 1 / PALETTE.length.
 */
export function colourMatches(sc: Scenario, plan: PlanResult, width: number, height: number): boolean | undefined {
  const c = plan.candidates[plan.chosen];
  const box = c?.goal.boxes[c.goal.boxes.length - 1];
  const frame = c?.frames[c.frames.length - 1];
  if (!c || !box || !frame) return undefined;
  const col = objectPixelsColor(frame, width, height, box);
  if (!col) return undefined;
  let best = -1;
  let bestD = Infinity;
  PALETTE.forEach((p, i) => {
    const d = Math.hypot(p[0] - col.rgb[0], p[1] - col.rgb[1], p[2] - col.rgb[2]);
    if (d < bestD) {
      bestD = d;
      best = i;
    }
  });
  return best === sc.target.colorIndex;
}

/** Block means of an rgb8 W×H frame on a g×g grid → Float32Array [g·g·3] in 0…255. */
export function blockMeans(rgb: Uint8Array, W: number, H: number, g = 8): Float32Array {
  if (rgb.length !== W * H * 3) throw new RangeError(`blockMeans: ${rgb.length} bytes is not ${W}x${H}x3`);
  const out = new Float32Array(g * g * 3);
  const cnt = new Float32Array(g * g);
  for (let y = 0; y < H; y++) {
    const by = Math.min(g - 1, Math.floor((y * g) / H));
    for (let x = 0; x < W; x++) {
      const b = by * g + Math.min(g - 1, Math.floor((x * g) / W));
      const o = (y * W + x) * 3;
      out[b * 3] = (out[b * 3] as number) + (rgb[o] as number);
      out[b * 3 + 1] = (out[b * 3 + 1] as number) + (rgb[o + 1] as number);
      out[b * 3 + 2] = (out[b * 3 + 2] as number) + (rgb[o + 2] as number);
      cnt[b] = (cnt[b] as number) + 1;
    }
  }
  for (let b = 0; b < g * g; b++) for (let c = 0; c < 3; c++) out[b * 3 + c] = (out[b * 3 + c] as number) / Math.max(1, cnt[b] as number);
  return out;
}

/** Agreement of two rgb8 frames of the same size: 1 − mean |blockMeans(a) − blockMeans(b)| / 255, in [0, 1]. */
export function frameAgreement(a: Uint8Array, b: Uint8Array, W: number, H: number): number {
  const pa = blockMeans(a, W, H);
  const pb = blockMeans(b, W, H);
  let s = 0;
  for (let i = 0; i < pa.length; i++) s += Math.abs((pa[i] as number) - (pb[i] as number));
  return 1 - s / pa.length / 255;
}

/** Agreement of each imagined frame with the true view at the oracle path's matching pose. */
export function agreementAlong(frames: readonly Uint8Array[], truth: Scenario, camera: ReturnType<typeof cameraOf>): number[] {
  const poses = posesAlongPath(truth, frames.length);
  return frames.map((f, j) => frameAgreement(f, render(truth.world, poses[j] as (typeof poses)[number], camera, { supersample: 2 }).rgb, camera.width, camera.height));
}

/** Fills a buffer with the scenario's exploration (or another world's views for 'other-world'). */
export function fillBuffer(sc: Scenario, camera: ReturnType<typeof cameraOf>, ablation: Ablation, other: Scenario | undefined): ContextBuffer {
  const buffer = new ContextBuffer({ width: camera.width, height: camera.height });
  for (const i of explorationKeyframes(sc.exploration)) {
    const p = sc.exploration[i] as Scenario['exploration'][number];
    const stampNs = explorationStampNs(i);
    let pixels: Uint8Array;
    if (ablation === 'other-world' && other) {
      pixels = render(other.world, other.exploration[Math.min(i, other.exploration.length - 1)] as typeof p, camera, { supersample: 2 }).rgb;
    } else pixels = render(sc.world, p, camera, { supersample: 2 }).rgb;
    if (ablation === 'no-context') pixels = new Uint8Array(pixels.length).fill(128);
    buffer.add({ index: i, stampNs, pose: p, pixels });
  }
  return buffer;
}

/** IF by geometry: the target is really where the imagined box says, seen from the recovered pose (candidate `m`, default the chosen one). */
export function followedByGeometry(sc: Scenario, plan: PlanResult, camera: ReturnType<typeof cameraOf>, m: number = plan.chosen): boolean {
  const c = plan.candidates[m];
  const box = c?.goal.boxes[c.goal.boxes.length - 1];
  const goal = c?.goal.goal;
  if (!c || !box || !goal) return false;
  const view = render(sc.world, goal, camera, { idsOnly: true });
  const tb = view.objects.get(sc.target.id);
  if (!tb || tb.pixels < IF_MIN_PIXELS) return false;
  return box.cx >= tb.x0 - 2 && box.cx <= tb.x1 + 1 + 2;
}

/**
 * How many of a candidate's context frames (exploration indices, as the buffer of `fillBuffer`
 * holds them) truly show the target with at least IF_MIN_PIXELS pixels: the memory the model had
 * to go on (from the simulator's ground truth).
 */
export function targetViewsInContext(sc: Scenario, contextIndices: readonly number[], camera: ReturnType<typeof cameraOf>): number {
  let n = 0;
  for (const i of contextIndices) {
    const p = sc.exploration[i];
    if (!p) throw new RangeError(`context index ${i} is outside the exploration (${sc.exploration.length} poses)`);
    const o = render(sc.world, p, camera, { idsOnly: true }).objects.get(sc.target.id);
    if (o && o.pixels >= IF_MIN_PIXELS) n++;
  }
  return n;
}

/** Mean over samples of each frame's value (samples without values are skipped); [] when none. */
export function perFrameMean(rows: readonly (readonly number[] | undefined)[]): number[] {
  const have = rows.filter((r): r is readonly number[] => r !== undefined && r.length > 0);
  if (have.length === 0) return [];
  const n = Math.min(...have.map((r) => r.length));
  return Array.from({ length: n }, (_, j) => +(have.reduce((a, r) => a + (r[j] as number), 0) / have.length).toFixed(4));
}

/**
 * `--name-evidence W` and `--name-evidence-levels a,b,…` → PlanRequest.nameEvidence: W in [0, 1] is
 * the weight of the name evidence in the choice (0: computed and reported per candidate only);
 * omitted: not computed.
 */
export function nameEvidenceFlags(weight: string | undefined, levels: string | undefined): PlanRequest['nameEvidence'] {
  if (weight === undefined) {
    if (levels !== undefined) throw new UsageError(`--name-evidence-levels '${levels}' needs --name-evidence W`);
    return undefined;
  }
  const w = Number(weight);
  if (!(weight.trim() !== '' && Number.isFinite(w) && w >= 0 && w <= 1)) throw new UsageError(`--name-evidence must be a weight in [0, 1], got '${weight}'`);
  const t = levels === undefined ? [...DEFAULT_NAME_EVIDENCE_LEVELS] : levels.split(',').map((x) => Number(x.trim()));
  if (t.length === 0 || t.some((x) => !(x > 0 && x < 1))) throw new UsageError(`--name-evidence-levels must be noise levels in (0, 1) separated by commas, got '${levels}'`);
  return { weight: w, tLevels: t };
}

/** An open-loop world's result for its progress line: seed, object, SD, IF, candidates IF(SD<0.2), plan time. */
export function openLoopNote(s: OpenLoopSample): string {
  const head = `seed ${s.seed} ${s.object}: `;
  if (s.error !== undefined) return `${head}plan failed (${s.error.slice(0, 80)})`;
  const sd = s.sd === undefined ? 'no box' : `SD ${s.sd.toFixed(3)}`;
  return `${head}${sd}, IF ${s.followed ? 'yes' : 'no'}, ${s.candidatesIfSd ?? 0}/${s.candidates ?? 0} candidates IF(SD<0.2), plan ${s.planS.toFixed(1)} s`;
}

const HELP = commandHelp({
  name: 'eval',
  summary: 'open-loop (SD, IF, IF(SD<0.2)) and closed-loop (success, SPL) evaluation on any seeds',
  synopsis: ['eval --seeds A-B [--open-loop] [--closed-loop] [--candidates M] [--steps S] [--guidance W] [--guidance-min-t T] [--shift S] [--ablation A] [--model DIR] [--json FILE] [--extraction-threads N] [--name-evidence W [--name-evidence-levels a,b]] [--progress | --quiet]'],
  description:
    "Open loop: the paper's metrics (SD, IF, IF(SD<0.2), colour match, per-frame agreement) against the simulator's ground truth. " +
    "Closed loop: the demo's mission per seed through the node; success and SPL from the ground truth. Without --open-loop or --closed-loop, both run.",
  flags: [
    { name: 'seeds', value: 'A-B', help: 'world seeds, inclusive (required)' },
    { name: 'open-loop', help: 'run the open-loop metrics' },
    { name: 'closed-loop', help: 'run the closed-loop missions' },
    { name: 'candidates', value: 'M', default: "the model's sampler.candidates", help: 'imagined candidates per plan, 1-16' },
    { name: 'steps', value: 'S', default: "the model's sampler.steps", help: 'denoising steps, 1-100' },
    { name: 'guidance', value: 'W', default: "the model's sampler.guidance_scale", help: 'classifier-free guidance scale, 0-20' },
    { name: 'guidance-min-t', value: 'T', default: "the model's sampler.guidance_min_t, else 0", help: 'guidance only at the steps whose noise level t >= T, 0-1 (0 = every step)' },
    { name: 'shift', value: 'S', default: "the model's sampler.shift", help: 'flow-matching timestep shift, 0.05-20 (1 = uniform times; > 1 more steps at high noise)' },
    { name: 'ablation', value: 'A', default: 'none', help: `one of ${ABLATIONS.join(', ')}` },
    { name: 'model', value: 'DIR', default: 'the shipped model', help: 'model directory' },
    { name: 'json', value: 'FILE', help: 'also write the results to FILE' },
    EXTRACTION_THREADS_FLAG,
    { name: 'name-evidence', value: 'W', help: 'score every candidate by name evidence and weigh it W in [0, 1] in the choice (0: report only); omitted: not computed' },
    { name: 'name-evidence-levels', value: 'a,b', default: DEFAULT_NAME_EVIDENCE_LEVELS.join(','), help: 'with --name-evidence: the noise levels in (0, 1)' },
    ...PROGRESS_FLAGS,
  ],
  examples: ['eval --seeds 100-149 --open-loop --json eval.json'],
});

export const command: CliCommand = {
  ...HELP,
  async run(argv) {
    const args = parseArgs(argv, booleanFlags(HELP.flags));
    checkFlags(args, flagNames(HELP.flags), 'eval');
    const seedsText = flagString(args, 'seeds');
    if (!seedsText) throw new UsageError('needs --seeds A-B');
    const seeds = parseSeedRange(seedsText);
    const ablation = (flagString(args, 'ablation') ?? 'none') as Ablation;
    if (!ABLATIONS.includes(ablation)) throw new UsageError(`--ablation must be one of ${ABLATIONS.join(', ')}, got '${ablation}'`);
    let openLoop = flagBool(args, 'open-loop');
    let closedLoop = flagBool(args, 'closed-loop');
    if (!openLoop && !closedLoop) openLoop = closedLoop = true;
    const showProgress = progressFromArgs(args);
    const extraction = createExtractor(extractionThreadsFromArgs(args));
    const model = await OnnxImaginationModel.load(flagString(args, 'model') ?? defaultModelDir());
    const m = model.manifest;
    const camera = cameraOf(m);
    const cfg = {
      candidates: flagNumber(args, 'candidates', m.sampler.candidates, { integer: true, min: 1, max: 16 }),
      steps: flagNumber(args, 'steps', m.sampler.steps, { integer: true, min: 1, max: 100 }),
      guidance: flagNumber(args, 'guidance', m.sampler.guidance_scale, { min: 0, max: 20 }),
      guidanceMinT: flagNumber(args, 'guidance-min-t', m.sampler.guidance_min_t ?? 0, { min: 0, max: 1 }),
      shift: flagNumber(args, 'shift', m.sampler.shift, { min: 0.05, max: 20 }),
      nameEvidence: nameEvidenceFlags(flagString(args, 'name-evidence'), flagString(args, 'name-evidence-levels')) ?? null,
      ablation,
      model: m.name,
      seeds: [seeds[0], seeds[seeds.length - 1]],
    };
    const { policy, contextFrames } = ablationSampling(ablation);
    const modelId = `${m.name}:${m.files.denoiser.sha256.slice(0, 12)}`;
    const t0 = Date.now();
    const out: Record<string, unknown> = { config: cfg };
    const scenarios = seeds.map((s) => makeScenario(s));
    const otherOf = (i: number) => scenarios[(i + 1) % scenarios.length];
    if (openLoop) {
      const samples: OpenLoopSample[] = [];
      const progress = new Progress('eval open loop', scenarios.length, { enabled: showProgress });
      for (const [i, sc] of scenarios.entries()) {
        const buffer = fillBuffer(sc, camera, ablation, otherOf(i));
        const ts = performance.now();
        try {
          const plan = await planToObject(
            { model, modelId, camera, frameDtS: m.frame_dt_s, buffer, ...(extraction.extractor ? { extractor: extraction.extractor } : {}) },
            { object: sc.target.category, candidates: cfg.candidates, steps: cfg.steps, shift: cfg.shift, guidance: cfg.guidance, guidanceMinT: cfg.guidanceMinT, seed: sc.seed, policy, contextFrames, nameAware: ablationGrounding(ablation).nameAware, memoryGoal: ablationGrounding(ablation).memoryGoal, ...(cfg.nameEvidence ? { nameEvidence: cfg.nameEvidence } : {}) },
          );
          const planS = (performance.now() - ts) / 1000;
          const c = plan.candidates[plan.chosen];
          const box = c?.goal.boxes[c.goal.boxes.length - 1];
          const other = otherOf(i);
          // IF by geometry for every candidate once (each renders the world at its goal)
          const follows = plan.candidates.map((_, k) => followedByGeometry(sc, plan, camera, k));
          const ifSd = plan.candidates.map((cand, k) => {
            const b = cand.goal.boxes[cand.goal.boxes.length - 1];
            return follows[k] === true && b !== undefined && sdOf(b, camera.width) < 0.2;
          });
          samples.push({
            seed: sc.seed,
            object: sc.target.category,
            sd: box ? sdOf(box, camera.width) : undefined,
            followed: follows[plan.chosen] ?? false,
            candidates: plan.candidates.length,
            ...(plan.grounding ? { keyframesShowing: plan.grounding.showing, keyframes: plan.grounding.keyframes } : {}),
            candidatesIfSd: ifSd.filter(Boolean).length,
            perCandidate: plan.candidates.map((cand, k) => ({
              ifSd: ifSd[k] as boolean,
              ...(ablation !== 'other-world' && ablation !== 'no-context' ? { targetInContext: targetViewsInContext(sc, cand.contextIndices, camera) } : {}),
              score: +cand.score.score.toFixed(4),
              breakdown: cand.score.breakdown,
              ...(plan.nameEvidence
                ? { margin: +(plan.nameEvidence.margin[k] as number).toFixed(5), overNull: +(plan.nameEvidence.overNull[k] as number).toFixed(5), losses: (plan.nameEvidence.losses[k] as number[]).map((x) => +x.toFixed(5)) }
                : {}),
            })),
            planS,
            ...(() => {
              const cm = colourMatches(sc, plan, camera.width, camera.height);
              return cm === undefined ? {} : { colourMatch: cm };
            })(),
            ...(c ? { agreement: agreementAlong(c.frames, sc, camera), ...(other && other !== sc ? { chance: agreementAlong(c.frames, other, camera) } : {}) } : {}),
          });
        } catch (e) {
          if (!(e instanceof Video4SpatialError)) throw e;
          // a plan that failed counts as M failed candidates too, as it counts as a failure in if_sd_lt_0_2
          samples.push({ seed: sc.seed, object: sc.target.category, sd: undefined, followed: false, planS: (performance.now() - ts) / 1000, error: e.message, candidates: cfg.candidates, candidatesIfSd: 0 });
        }
        progress.tick(openLoopNote(samples[samples.length - 1] as OpenLoopSample));
      }
      const n = samples.length;
      const sds = samples.map((s) => s.sd).filter((v): v is number => v !== undefined);
      out['open_loop'] = {
        n,
        sd: sds.length ? +(sds.reduce((a, b) => a + b, 0) / sds.length).toFixed(4) : null,
        box_rate: +(sds.length / n).toFixed(4),
        if: +(samples.filter((s) => s.followed).length / n).toFixed(4),
        if_sd_lt_0_2: +(samples.filter((s) => s.followed && s.sd !== undefined && s.sd < 0.2).length / n).toFixed(4),
        if_sd_lt_0_1: +(samples.filter((s) => s.followed && s.sd !== undefined && s.sd < 0.1).length / n).toFixed(4),
        // every candidate counted as one sample (lower variance than the chosen one's rate; ≈ M = 1)
        candidate_if_sd_lt_0_2: (() => {
          const all = samples.reduce((a, s) => a + (s.candidates ?? 0), 0);
          return all > 0 ? +(samples.reduce((a, s) => a + (s.candidatesIfSd ?? 0), 0) / all).toFixed(4) : null;
        })(),
        candidates_judged: samples.reduce((a, s) => a + (s.candidates ?? 0), 0),
        // the memory each candidate was given: share of contexts holding a true view of the target
        context_holds_target: (() => {
          const c = samples.flatMap((s) => s.perCandidate ?? []).filter((p) => p.targetInContext !== undefined);
          return c.length > 0 ? +(c.filter((p) => (p.targetInContext as number) > 0).length / c.length).toFixed(4) : null;
        })(),
        mean_plan_s: +(samples.reduce((a, s) => a + s.planS, 0) / n).toFixed(3),
        colour_match: +(samples.filter((s) => s.colourMatch === true).length / n).toFixed(4),
        colour_chance: +(1 / PALETTE.length).toFixed(4),
        agreement_per_frame: perFrameMean(samples.map((s) => s.agreement)),
        chance_per_frame: perFrameMean(samples.map((s) => s.chance)),
        samples,
      };
    }
    if (closedLoop) {
      let succ = 0;
      let spl = 0;
      let plans = 0;
      let planS = 0;
      let oracleSucc = 0;
      let falseArrivals = 0;
      let caught = 0;
      const episodes: unknown[] = [];
      // one line per finished world on stderr, with its result (src/cli/progress.ts)
      const progress = new Progress('eval closed loop', scenarios.length, { enabled: showProgress });
      for (const [i, sc] of scenarios.entries()) {
        const other = otherOf(i);
        const r = await runGraphMission(sc, model, m, {
          candidates: cfg.candidates,
          steps: cfg.steps,
          guidance: cfg.guidance,
          guidanceMinT: cfg.guidanceMinT,
          shift: cfg.shift,
          seed: sc.seed,
          ablation,
          timeBudgetS: EPISODE_SIM_LIMIT_S,
          replanPeriodS: 8,
          ...(extraction.extractor ? { extractor: extraction.extractor } : {}),
          ...(other ? { otherWorld: other } : {}),
        });
        const ok = r.judgement.success;
        succ += ok ? 1 : 0;
        // the node said "arrived" where the simulator's judge says it is not
        const said = r.result?.success === true;
        falseArrivals += said && !ok ? 1 : 0;
        caught += r.result?.false_arrivals ?? 0;
        spl += ok ? sc.oracleLength / Math.max(sc.oracleLength, r.pathLengthM) : 0;
        plans += r.plans.length;
        planS += r.planSeconds;
        const od = driveTo(sc.world, sc.start, sc.standoff);
        const oEnd = od.poses[od.poses.length - 1] ?? sc.start;
        oracleSucc += judge(sc.world, sc.target, oEnd, camera).success ? 1 : 0;
        episodes.push({ seed: sc.seed, object: sc.target.category, success: ok, distance_m: +r.judgement.distanceM.toFixed(2), bearing_deg: +r.judgement.bearingDeg.toFixed(1), plans: r.plans.length, path_m: +r.pathLengthM.toFixed(2), oracle_m: +sc.oracleLength.toFixed(2), node_success: said, false_arrival: said && !ok, false_arrivals_caught: r.result?.false_arrivals ?? 0, verified_by: r.result?.verified_by ?? '', outcome: r.outcome.slice(0, 160) });
        progress.tick(`seed ${sc.seed} ${sc.target.category}: ${ok ? 'success' : 'fail'} (${r.judgement.distanceM.toFixed(2)} m, ${r.judgement.bearingDeg.toFixed(0)}°), ${r.plans.length} plans, ${r.outcome.slice(0, 100)}`);
      }
      const n = scenarios.length;
      out['closed_loop'] = { n, success_rate: +(succ / n).toFixed(4), spl: +(spl / n).toFixed(4), mean_plans: +(plans / n).toFixed(2), mean_plan_s: +(planS / Math.max(1, plans)).toFixed(3), false_arrivals: falseArrivals, false_arrivals_caught: caught, episodes };
      out['oracle'] = { success_rate: +(oracleSucc / n).toFixed(4), spl: +(oracleSucc / n).toFixed(4) };
    }
    out['elapsed_s'] = +((Date.now() - t0) / 1000).toFixed(1);
    const ol = out['open_loop'] as Record<string, number> | undefined;
    const cl = out['closed_loop'] as Record<string, number> | undefined;
    const or = out['oracle'] as Record<string, number> | undefined;
    const lines = [`eval seeds ${seedsText}, model ${m.name}, M=${cfg.candidates}, steps=${cfg.steps}, w=${cfg.guidance}${cfg.guidanceMinT > 0 ? ` (t >= ${cfg.guidanceMinT})` : ''}, shift=${cfg.shift}, ablation=${ablation}`];
    if (ol) {
      lines.push(`open loop   n=${ol['n']}  SD=${ol['sd']}  box=${ol['box_rate']}  IF=${ol['if']}  IF(SD<0.2)=${ol['if_sd_lt_0_2']}  IF(SD<0.1)=${ol['if_sd_lt_0_1']}  plan ${ol['mean_plan_s']} s`);
      lines.push(`every candidate as one sample: IF(SD<0.2)=${ol['candidate_if_sd_lt_0_2']} of ${ol['candidates_judged']}; contexts holding a true view of the target: ${ol['context_holds_target'] ?? 'n/a'}`);
    }
    if (ol) lines.push(`object colour as in this world: ${ol['colour_match']} (chance ${ol['colour_chance']})`);
    const olAny = out['open_loop'] as { agreement_per_frame: number[]; chance_per_frame: number[] } | undefined;
    if (olAny && olAny.agreement_per_frame.length > 0) {
      lines.push(`agreement with the true view, frames 1…N: ${olAny.agreement_per_frame.map((v) => v.toFixed(3)).join(' ')}`);
      if (olAny.chance_per_frame.length > 0) lines.push(`  (another world's view, chance):       ${olAny.chance_per_frame.map((v) => v.toFixed(3)).join(' ')}`);
    }
    if (cl) lines.push(`closed loop n=${cl['n']}  success=${cl['success_rate']}  SPL=${cl['spl']}  plans/episode=${cl['mean_plans']}  s/plan=${cl['mean_plan_s']}  false arrivals=${cl['false_arrivals']}  caught by the camera check=${cl['false_arrivals_caught']}`);
    if (or) lines.push(`oracle      success=${or['success_rate']}  SPL=${or['spl']}`);
    lines.push(`elapsed ${out['elapsed_s']} s`);
    process.stdout.write(lines.join('\n') + '\n');
    const json = flagString(args, 'json');
    if (json) writeFileSync(json, JSON.stringify(out, null, 2) + '\n');
    await extraction.close();
    await model.dispose();
    return 0;
  },
};
