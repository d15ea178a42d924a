/**
 * `video4spatial-nav demo [--seed S] [--object NAME] [--candidates M] [--steps N] [--guidance W]
 *  [--model DIR] [--out DIR] [--time-budget S] [--extraction-threads N]` — the main job without ROS installed: a simulated apartment; the
 * real node runs on the in-process ROS graph with the simulated robot (camera, TF) and the
 * simulated Nav2; the scripted explorer fills the node's memory; an out-of-view object is
 * requested through the NavigateToObject action; the node imagines the way with the shipped
 * model, Nav2 drives, and the node replans until it believes it has arrived. Success is judged by
 * the simulator's ground truth, never by the node's own belief.
 * Writes DIR/summary.json, imagined.gif (+ imagined.png strip), candidates.gif, map.png and the rosbag2
 * bag DIR/session/.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkFlags, flagNumber, flagString, parseArgs } from '../args.js';
import { createExtractor, MAX_EXTRACTION_THREADS } from '../../planner/ExtractionPool.js';
import { booleanFlags, commandHelp, flagNames, type CliCommand } from '../command.js';
import { createBag } from '../../bag/files.js';
import { BagRecorder } from '../../bag/recorder.js';
import type { Pose2D } from '../../core/geometry.js';
import { quaternionToYaw } from '../../core/geometry.js';
import { defaultModelDir, OnnxImaginationModel } from '../../model/OnnxImaginationModel.js';
import { createLogger } from '../../ros/logger.js';
import { makeScenario, type Scenario } from '../../sim/scenario.js';
import { runGraphMission, type GraphMissionResult } from '../../sim/graphMission.js';
import { drawCross, drawPolyline, drawPose, drawWorldMap, MAP_COLORS } from '../../sim/map.js';
import { encodeGif, encodePng, tile, upscale, type RgbImage } from '../../sim/pictures.js';
import type { ImaginedTrajectory } from '../../ros/messages/types.js';

const poseOf = (p: { pose: { position: { x: number; y: number }; orientation: { x: number; y: number; z: number; w: number } } }): Pose2D => ({
  x: p.pose.position.x,
  y: p.pose.position.y,
  yaw: quaternionToYaw(p.pose.orientation),
});

export function missionMap(sc: Scenario, r: GraphMissionResult): RgbImage {
  const view = drawWorldMap(sc.world, 40, sc.target.id);
  drawPolyline(view, r.exploration, MAP_COLORS.explored, 2);
  for (const p of r.plans) {
    const t = p.trajectory;
    const chosen = t?.candidate_paths[t.chosen];
    if (chosen && chosen.poses.length > 0) drawPolyline(view, chosen.poses.map(poseOf), MAP_COLORS.plan, 1);
    drawPolyline(view, [p.from, ...p.path.poses.map(poseOf)], MAP_COLORS.plan, 2);
    const g = p.path.poses.at(-1);
    if (g) drawPose(view, poseOf(g), MAP_COLORS.plan, 5);
  }
  const obj = r.result?.object_pose;
  if (obj && r.plans.length > 0) drawCross(view, obj.pose.position.x, obj.pose.position.y, MAP_COLORS.estimate);
  drawPolyline(view, r.executed, MAP_COLORS.executed, 3);
  drawPose(view, sc.start, MAP_COLORS.start, 5);
  drawPose(view, r.finalPose, MAP_COLORS.executed, 6);
  return view.image;
}

/** Frame f of candidate m of an ImaginedTrajectory as an image. */
export function trajectoryFrame(t: ImaginedTrajectory, m: number, f: number): RgbImage {
  const n = t.width * t.height * 3;
  const o = (m * t.frames_per_candidate + f) * n;
  return { width: t.width, height: t.height, data: Uint8Array.from((t.frames as Uint8Array).subarray(o, o + n)) };
}

/** imagined.gif / imagined.png (chosen candidate, ×4) and candidates.gif (all candidates, ×3). */
export function writeImaginedPictures(out: string, t: ImaginedTrajectory): void {
  const frames = Array.from({ length: t.frames_per_candidate }, (_, f) => upscale(trajectoryFrame(t, t.chosen, f), 4));
  writeFileSync(join(out, 'imagined.gif'), encodeGif(frames, 400));
  writeFileSync(join(out, 'imagined.png'), encodePng(tile(frames, frames.length, 4)));
  const grid = Array.from({ length: t.frames_per_candidate }, (_, f) =>
    tile(Array.from({ length: t.num_candidates }, (_, c) => upscale(trajectoryFrame(t, c, f), 3)), t.num_candidates, 4),
  );
  writeFileSync(join(out, 'candidates.gif'), encodeGif(grid, 400));
}

const HELP = commandHelp({
  name: 'demo',
  summary: 'run the whole mission through the node in a simulated world with the shipped model (no ROS needed)',
  description:
    'The node runs on the in-process ROS graph with the simulated robot and Nav2; the scripted explorer fills its memory, an out-of-view object is requested, the node imagines the way and Nav2 drives until the node believes it has arrived. Success is judged by the simulator\'s ground truth. ' +
    'Writes DIR/summary.json, imagined.gif (+ imagined.png), candidates.gif, map.png and the rosbag2 bag DIR/session/.',
  flags: [
    { name: 'seed', value: 'S', default: '100', help: 'simulated world seed' },
    { name: 'object', value: 'NAME', default: "the scenario's out-of-view target", help: 'object to ask for' },
    { name: 'candidates', value: 'M', default: "the model's sampler.candidates", help: 'imagined candidates per plan, 1-16' },
    { name: 'steps', value: 'N', default: "the model's sampler.steps", help: 'denoising steps, 1-100' },
    { name: 'guidance', value: 'W', default: "the model's sampler.guidance_scale", help: 'classifier-free guidance scale, 0-20' },
    { name: 'model', value: 'DIR', default: 'the shipped model', help: 'model directory (manifest.json and ONNX files)' },
    { name: 'out', value: 'DIR', default: 'out/demo', help: 'output directory' },
    { name: 'time-budget', value: 'S', default: '0 = no limit', help: 'wall-clock budget for the goal, seconds' },
    { name: 'extraction-threads', value: 'N', default: '0 = the cores, at most 4', help: `path extraction worker threads (1: in the planning thread; at most ${MAX_EXTRACTION_THREADS})` },
  ],
  examples: ['demo --seed 7 --object plant --out out/demo7'],
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
    const extractionThreads = flagNumber(args, 'extraction-threads', 0, { integer: true, min: 0, max: MAX_EXTRACTION_THREADS });
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
    const extraction = createExtractor(extractionThreads);
    const r = await runGraphMission(sc, model, m, {
      ...opts,
      ...(extraction.extractor ? { extractor: extraction.extractor } : {}),
      tap: (bus) => (recorder = BagRecorder.start(bus, bag.writer)),
      logger: createLogger({ name: 'video4spatial_nav', level: 'info' }),
      onProgress: log,
    });
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
