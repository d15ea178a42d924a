/**
 * `video4spatial-nav demo [--seed S] [--object NAME] [--candidates M] [--steps N] [--guidance W]
 *  [--model DIR] [--out DIR] [--time-budget S] [--extraction-threads N] [--live [--port P]]` — the main job without ROS installed: a simulated apartment; the
 * real node runs on the in-process ROS graph with the simulated robot (camera, TF) and the
 * simulated Nav2; the scripted explorer fills the node's memory; an out-of-view object is
 * requested through the NavigateToObject action; the node imagines the way with the shipped
 * model, Nav2 drives, and the node replans until it believes it has arrived. Success is judged by
 * the simulator's ground truth, never by the node's own belief.
 * Writes DIR/summary.json, imagined.gif (+ imagined.png strips), candidates.gif, map.png and the rosbag2
 * bag DIR/session/. The pictures are for people: the map at least 800 px across with 3× labels and
 * a colour key; the imagined frames ×4 with a legend per candidate (number from 1, score, chosen).
 * With --live, a Foxglove WebSocket server on ws://127.0.0.1:P shows the graph while it runs
 * (src/live/foxgloveLive.ts).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkFlags, flagBool, flagNumber, flagString, parseArgs, UsageError } from '../args.js';
import { createExtractor } from '../../planner/ExtractionPool.js';
import { EXTRACTION_THREADS_FLAG, extractionThreadsFromArgs } from '../extraction.js';
import { booleanFlags, commandHelp, flagNames, type CliCommand } from '../command.js';
import { createBag } from '../../bag/files.js';
import { BagRecorder } from '../../bag/recorder.js';
import type { Pose2D } from '../../core/geometry.js';
import { quaternionToYaw } from '../../core/geometry.js';
import { defaultModelDir, OnnxImaginationModel } from '../../model/OnnxImaginationModel.js';
import { createLogger } from '../../ros/logger.js';
import { DEFAULT_LIVE_PORT, FoxgloveLive } from '../../live/foxgloveLive.js';
import { makeScenario, type Scenario } from '../../sim/scenario.js';
import { runGraphMission, type GraphMissionResult } from '../../sim/graphMission.js';
import { drawCross, drawPolyline, drawPose, drawWorldMap, legiblePxPerM, MAP_COLORS, mapKey, type MapKeyEntry } from '../../sim/map.js';
import { beside, bordered, encodeGif, encodePng, stack, textBand, upscale, type Rgb, type RgbImage } from '../../sim/pictures.js';
import type { ImaginedTrajectory } from '../../ros/messages/types.js';

const poseOf = (p: { pose: { position: { x: number; y: number }; orientation: { x: number; y: number; z: number; w: number } } }): Pose2D => ({
  x: p.pose.position.x,
  y: p.pose.position.y,
  yaw: quaternionToYaw(p.pose.orientation),
});

/** The colour key under map.png. */
export const MISSION_MAP_KEY: readonly MapKeyEntry[] = [
  { color: MAP_COLORS.explored, text: 'explored' },
  { color: MAP_COLORS.plan, text: 'plans' },
  { color: MAP_COLORS.executed, text: 'driven' },
  { color: MAP_COLORS.estimate, text: 'object estimate' },
  { color: MAP_COLORS.start, text: 'start' },
  { color: MAP_COLORS.target, text: 'asked-for object' },
];

/**
 * map.png: the world at a legible scale (at least 800 px across, labels 3×), a title line (world,
 * object, outcome), the explored path, each plan, the object estimate, the driven path and a
 * colour key.
 */
export function missionMap(sc: Scenario, r: GraphMissionResult): RgbImage {
  const view = drawWorldMap(sc.world, legiblePxPerM(sc.world), sc.target.id);
  const k = view.stroke;
  drawPolyline(view, r.exploration, MAP_COLORS.explored, 2 * k);
  for (const p of r.plans) {
    const t = p.trajectory;
    const chosen = t?.candidate_paths[t.chosen];
    if (chosen && chosen.poses.length > 0) drawPolyline(view, chosen.poses.map(poseOf), MAP_COLORS.plan, k);
    drawPolyline(view, [p.from, ...p.path.poses.map(poseOf)], MAP_COLORS.plan, 2 * k);
    const g = p.path.poses.at(-1);
    if (g) drawPose(view, poseOf(g), MAP_COLORS.plan, 5 * k);
  }
  const obj = r.result?.object_pose;
  if (obj && r.plans.length > 0) drawCross(view, obj.pose.position.x, obj.pose.position.y, MAP_COLORS.estimate, 7 * k);
  drawPolyline(view, r.executed, MAP_COLORS.executed, 3 * k);
  drawPose(view, sc.start, MAP_COLORS.start, 5 * k);
  drawPose(view, r.finalPose, MAP_COLORS.executed, 6 * k);
  const j = r.judgement;
  const title = textBand(
    view.image.width,
    [{ text: `world ${sc.seed}: find the ${sc.target.category} - ${j.success ? 'arrived' : 'not arrived'}, ${j.distanceM.toFixed(2)} m away, ${r.plans.length} plan(s)`, color: j.success ? CHOSEN_COLOR : [180, 0, 0] }],
    { scale: 3, pad: 9 },
  );
  return stack([title, mapKey(view.image, MISSION_MAP_KEY)]);
}

/** Frame f of candidate m of an ImaginedTrajectory as an image. */
export function trajectoryFrame(t: ImaginedTrajectory, m: number, f: number): RgbImage {
  const n = t.width * t.height * 3;
  const o = (m * t.frames_per_candidate + f) * n;
  return { width: t.width, height: t.height, data: Uint8Array.from((t.frames as Uint8Array).subarray(o, o + n)) };
}

/** Imagined frames are enlarged this many times (nearest neighbour) in every picture. */
export const IMAGINED_SCALE = 4;
/** The chosen candidate's frame and legend colour; the others' frame colour. */
export const CHOSEN_COLOR: Rgb = [0, 150, 0];
export const OTHER_COLOR: Rgb = [190, 190, 190];
const BORDER = 4;
const INK: Rgb = [20, 20, 20];

/** Candidate m's score as printed ('n/a' when the node sent −1 for a non-finite score). */
export function scoreText(t: ImaginedTrajectory, m: number): string {
  const s = Number(t.scores[m]);
  return Number.isFinite(s) && s >= 0 ? s.toFixed(2) : 'n/a';
}

/** The legend of candidate m (1-based for people): 'candidate 2 of 4  score 0.83  chosen'. */
export function candidateLegend(t: ImaginedTrajectory, m: number): string {
  return `candidate ${m + 1} of ${t.num_candidates}  score ${scoreText(t, m)}${m === t.chosen ? '  chosen' : ''}`;
}

function framedFrame(t: ImaginedTrajectory, m: number, f: number): RgbImage {
  return bordered(upscale(trajectoryFrame(t, m, f), IMAGINED_SCALE), BORDER, m === t.chosen ? CHOSEN_COLOR : OTHER_COLOR);
}

/**
 * imagined.png: a title, then per candidate a legend row (candidate, score, 'chosen') above its
 * frames left to right, each ×IMAGINED_SCALE; the chosen candidate framed green.
 */
export function imaginedStrip(t: ImaginedTrajectory): RgbImage {
  const rows = Array.from({ length: t.num_candidates }, (_, m) => {
    const strip = beside(Array.from({ length: t.frames_per_candidate }, (_, f) => framedFrame(t, m, f)), 4);
    const legend = textBand(strip.width, [{ text: candidateLegend(t, m), color: m === t.chosen ? CHOSEN_COLOR : INK }], { scale: 3, pad: 6 });
    return stack([legend, strip]);
  });
  const width = Math.max(...rows.map((r) => r.width));
  const title = textBand(
    width,
    [
      { text: `imagined ways to the ${t.object_name}: ${t.num_candidates} candidate(s), candidate ${t.chosen + 1} chosen`, scale: 3 },
      { text: `frames 1-${t.frames_per_candidate} left to right, ${t.width}x${t.height} shown x${IMAGINED_SCALE}; the chosen candidate framed green`, color: [90, 90, 90] },
    ],
    { scale: 3, pad: 6 },
  );
  return stack([title, ...rows], 6);
}

/** imagined.gif's frames: the chosen candidate ×IMAGINED_SCALE with a legend below (candidate, score, chosen, frame i of N). */
export function imaginedGifFrames(t: ImaginedTrajectory): RgbImage[] {
  const m = t.chosen;
  return Array.from({ length: t.frames_per_candidate }, (_, f) => {
    const img = framedFrame(t, m, f);
    const legend = textBand(
      img.width,
      [
        { text: `candidate ${m + 1} of ${t.num_candidates}` },
        { text: `score ${scoreText(t, m)}  chosen`, color: CHOSEN_COLOR },
        { text: `frame ${f + 1} of ${t.frames_per_candidate}`, color: [90, 90, 90] },
      ],
      { scale: 3, pad: 6 },
    );
    return stack([img, legend]);
  });
}

/** candidates.gif's frames: every candidate ×IMAGINED_SCALE, at most 4 a row, each with its legend; the chosen one framed green. */
export function candidatesGifFrames(t: ImaginedTrajectory): RgbImage[] {
  const cols = Math.min(4, t.num_candidates);
  return Array.from({ length: t.frames_per_candidate }, (_, f) => {
    const tiles = Array.from({ length: t.num_candidates }, (_, m) => {
      const img = framedFrame(t, m, f);
      const lines = [{ text: `candidate ${m + 1}` }, { text: `score ${scoreText(t, m)}` }, m === t.chosen ? { text: 'chosen', color: CHOSEN_COLOR } : { text: ' ' }];
      return stack([img, textBand(img.width, lines, { scale: 3, pad: 6 })]);
    });
    const rows: RgbImage[] = [];
    for (let i = 0; i < tiles.length; i += cols) rows.push(beside(tiles.slice(i, i + cols), 8));
    const grid = stack(rows, 8);
    const head = textBand(grid.width, [{ text: `imagined ways to the ${t.object_name} - frame ${f + 1} of ${t.frames_per_candidate}` }], { scale: 3, pad: 6 });
    return stack([head, grid]);
  });
}

/** imagined.gif / imagined.png (see imaginedGifFrames, imaginedStrip) and candidates.gif (candidatesGifFrames). */
export function writeImaginedPictures(out: string, t: ImaginedTrajectory): void {
  writeFileSync(join(out, 'imagined.gif'), encodeGif(imaginedGifFrames(t), 400));
  writeFileSync(join(out, 'imagined.png'), encodePng(imaginedStrip(t)));
  writeFileSync(join(out, 'candidates.gif'), encodeGif(candidatesGifFrames(t), 400));
}

const HELP = commandHelp({
  name: 'demo',
  summary: 'run the whole mission through the node in a simulated world with the shipped model (no ROS needed)',
  description:
    'The node runs on the in-process ROS graph with the simulated robot and Nav2; the scripted explorer fills its memory, an out-of-view object is requested, the node imagines the way and Nav2 drives until the node believes it has arrived. Success is judged by the simulator\'s ground truth. ' +
    'Writes DIR/summary.json, imagined.gif (+ imagined.png), candidates.gif, map.png and the rosbag2 bag DIR/session/. ' +
    'With --live, open the printed ws://127.0.0.1:PORT in Foxglove Studio (Open connection > Foxglove WebSocket) to watch every topic while it runs and to publish a goal name on /video4spatial_nav/goal_object.',
  flags: [
    { name: 'seed', value: 'S', default: '100', help: 'simulated world seed' },
    { name: 'object', value: 'NAME', default: "the scenario's out-of-view target", help: 'object to ask for' },
    { name: 'candidates', value: 'M', default: "the model's sampler.candidates", help: 'imagined candidates per plan, 1-16' },
    { name: 'steps', value: 'N', default: "the model's sampler.steps", help: 'denoising steps, 1-100' },
    { name: 'guidance', value: 'W', default: "the model's sampler.guidance_scale", help: 'classifier-free guidance scale, 0-20' },
    { name: 'model', value: 'DIR', default: 'the shipped model', help: 'model directory (manifest.json and ONNX files)' },
    { name: 'out', value: 'DIR', default: 'out/demo', help: 'output directory' },
    { name: 'time-budget', value: 'S', default: '0 = no limit', help: 'wall-clock budget for the goal, seconds' },
    EXTRACTION_THREADS_FLAG,
    { name: 'live', help: 'serve the in-process graph to Foxglove Studio over a Foxglove WebSocket on 127.0.0.1 (the URL is printed on stderr)' },
    { name: 'port', value: 'P', default: String(DEFAULT_LIVE_PORT), help: 'TCP port of the --live server (0: a free one)' },
  ],
  examples: ['demo --seed 7 --object plant --out out/demo7', 'demo --live --port 8765'],
});

export const command: CliCommand = {
  ...HELP,
  async run(argv) {
    const args = parseArgs(argv, booleanFlags(HELP.flags));
    checkFlags(args, flagNames(HELP.flags), 'demo');
    const seed = flagNumber(args, 'seed', 100, { integer: true, min: 0 });
    const object = flagString(args, 'object');
    const out = flagString(args, 'out') ?? 'out/demo';
    const log = (s: string) => process.stdout.write(`[demo] ${s}\n`);
    const extractionThreads = extractionThreadsFromArgs(args);
    const liveOn = flagBool(args, 'live');
    const port = flagNumber(args, 'port', DEFAULT_LIVE_PORT, { integer: true, min: 0, max: 65535 });
    if (!liveOn && flagString(args, 'port') !== undefined) throw new UsageError('--port needs --live');
    const model = await OnnxImaginationModel.load(flagString(args, 'model') ?? defaultModelDir(), { log: (_l, m) => log(m) });
    const m = model.manifest;
    const opts = {
      candidates: flagNumber(args, 'candidates', m.sampler.candidates, { integer: true, min: 1, max: 16 }),
      steps: flagNumber(args, 'steps', m.sampler.steps, { integer: true, min: 1, max: 100 }),
      guidance: flagNumber(args, 'guidance', m.sampler.guidance_scale, { min: 0, max: 20 }),
      timeBudgetS: flagNumber(args, 'time-budget', 0, { min: 0 }),
      seed,
      ablation: 'none' as const,
      replanPeriodS: 8,
    };
    log(`world seed ${seed}: exploring…`);
    const sc = makeScenario(seed, object);
    log(`${sc.world.rooms.length} room(s), objects: ${sc.world.objects.map((o) => o.category).join(', ')}`);
    log(`request: "${sc.target.category}" (out of view; oracle path ${sc.oracleLength.toFixed(2)} m)`);
    mkdirSync(out, { recursive: true });
    rmSync(join(out, 'session'), { recursive: true, force: true });
    const bag = await createBag(join(out, 'session'));
    let recorder: BagRecorder | undefined;
    const live = liveOn ? await FoxgloveLive.listen({ port }) : undefined;
    if (live) process.stderr.write(`[demo] live view: ${live.url} (Foxglove Studio: Open connection > Foxglove WebSocket)\n`);
    const extraction = createExtractor(extractionThreads);
    let r: GraphMissionResult;
    try {
      r = await runGraphMission(sc, model, m, {
        ...opts,
        ...(extraction.extractor ? { extractor: extraction.extractor } : {}),
        tap: (bus) => {
          recorder = BagRecorder.start(bus, bag.writer);
          live?.attach(bus);
        },
        logger: createLogger({ name: 'video4spatial_nav', level: 'info' }),
        onProgress: log,
      });
    } finally {
      await live?.stop();
    }
    await recorder?.stop();
    await bag.close();
    const first = r.plans.find((p) => p.trajectory)?.trajectory;
    if (first) writeImaginedPictures(out, first);
    writeFileSync(join(out, 'map.png'), encodePng(missionMap(sc, r)));
    const j = r.judgement;
    const summary = {
      success: j.success,
      seed,
      object: sc.target.category,
      outcome: r.outcome,
      final_distance_m: +j.distanceM.toFixed(3),
      reach_m: +j.reachM.toFixed(3),
      final_bearing_deg: +j.bearingDeg.toFixed(1),
      final_sd: +j.sd.toFixed(3),
      plans: r.result?.plans ?? r.plans.length,
      plan_s: +r.planSeconds.toFixed(3),
      sim_s: +r.simSeconds.toFixed(1),
      path_length_m: +r.pathLengthM.toFixed(2),
      oracle_length_m: +sc.oracleLength.toFixed(2),
      keyframes: r.keyframes,
      candidates: opts.candidates,
      steps: opts.steps,
      guidance: opts.guidance,
      model: m.name,
      first_plan_timings: first ? Object.fromEntries(first.timings.map((kv) => [kv.key, Number(kv.value)])) : undefined,
    };
    writeFileSync(join(out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
    log(`${j.success ? 'SUCCESS' : 'FAILED'}: ended ${j.distanceM.toFixed(2)} m from the ${sc.target.category} (reach ${j.reachM.toFixed(2)} m), bearing ${j.bearingDeg.toFixed(1)}°, ${summary.plans} plan(s); node said "${r.outcome}"`);
    log(`wrote ${out}/summary.json, imagined.gif, candidates.gif, map.png, session/ (rosbag2 MCAP)`);
    await extraction.close();
    await model.dispose();
    return 0;
  },
};
