/**
 * `video4spatial-nav demo [--seed S] [--object NAME] [--candidates M] [--steps N] [--guidance W]
 *  [--model DIR] [--out DIR]` — the main job without ROS: a simulated apartment, the scripted
 * explorer fills the context, an out-of-view object is requested, the planner imagines the way
 * there with the shipped model, a kinematic Nav2 stand-in drives, and it replans until it
 * believes it has arrived. Success is judged by the simulator's ground truth.
 * Writes DIR/summary.json, imagined.gif, candidates.gif, map.png.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkFlags, flagNumber, flagString, parseArgs } from '../args.js';
import type { CliCommand } from '../main.js';
import { cameraOf } from '../../core/model/manifest.js';
import { defaultModelDir, OnnxImaginationModel } from '../../model/OnnxImaginationModel.js';
import { makeScenario } from '../../sim/scenario.js';
import { DEFAULT_MISSION_OPTIONS, runMission, type MissionResult } from '../../sim/mission.js';
import { drawCross, drawPolyline, drawPose, drawWorldMap, MAP_COLORS } from '../../sim/map.js';
import { encodeGif, encodePng, tile, upscale, type RgbImage } from '../../sim/pictures.js';
import type { Scenario } from '../../sim/scenario.js';

export function missionMap(sc: Scenario, r: MissionResult): RgbImage {
  const view = drawWorldMap(sc.world, 40, sc.target.id);
  drawPolyline(view, r.exploration, MAP_COLORS.explored, 2);
  for (const p of r.plans) {
    if (!p.plan) continue;
    drawPolyline(view, [p.from, ...p.plan.imaginedPoses, p.plan.goalPose], MAP_COLORS.plan, 2);
    drawPose(view, p.plan.goalPose, MAP_COLORS.plan, 5);
    if (p.plan.objectXY) drawCross(view, p.plan.objectXY.x, p.plan.objectXY.y, MAP_COLORS.estimate);
  }
  drawPolyline(view, r.executed, MAP_COLORS.executed, 3);
  drawPose(view, sc.start, MAP_COLORS.start, 5);
  drawPose(view, r.finalPose, MAP_COLORS.executed, 6);
  return view.image;
}

export const command: CliCommand = {
  summary: 'run the whole mission in a simulated world with the shipped model (no ROS needed)',
  async run(argv) {
    const args = parseArgs(argv);
    checkFlags(args, ['seed', 'object', 'candidates', 'steps', 'guidance', 'model', 'out', 'max-plans'], 'demo');
    const seed = flagNumber(args, 'seed', 100, { integer: true, min: 0 });
    const object = flagString(args, 'object');
    const out = flagString(args, 'out') ?? 'out/demo';
    const modelDir = flagString(args, 'model') ?? defaultModelDir();
    const log = (s: string) => process.stdout.write(s + '\n');
    const model = await OnnxImaginationModel.load(modelDir, { log: (_l, m) => log(`[model] ${m}`) });
    const m = model.manifest;
    const opts = {
      ...DEFAULT_MISSION_OPTIONS,
      candidates: flagNumber(args, 'candidates', m.sampler.candidates, { integer: true, min: 1, max: 16 }),
      steps: flagNumber(args, 'steps', m.sampler.steps, { integer: true, min: 1, max: 100 }),
      guidance: flagNumber(args, 'guidance', m.sampler.guidance_scale, { min: 0, max: 20 }),
      shift: m.sampler.shift,
      maxPlans: flagNumber(args, 'max-plans', DEFAULT_MISSION_OPTIONS.maxPlans, { integer: true, min: 1, max: 20 }),
      seed,
    };
    log(`[demo] world seed ${seed}: exploring…`);
    const sc = makeScenario(seed, object);
    log(`[demo] ${sc.world.rooms.length} room(s), objects: ${sc.world.objects.map((o) => o.category).join(', ')}`);
    log(`[demo] request: "${sc.target.category}" (out of view; oracle path ${sc.oracleLength.toFixed(2)} m)`);
    const camera = cameraOf(m);
    const r = await runMission(sc, { model, modelId: `${m.name}:${m.files.denoiser.sha256.slice(0, 12)}`, camera, frameDtS: m.frame_dt_s, onProgress: (s) => log(`[demo] ${s}`) }, opts);
    mkdirSync(out, { recursive: true });
    const first = r.plans.find((p) => p.plan)?.plan;
    const W = camera.width;
    const H = camera.height;
    if (first) {
      const chosen = first.candidates[first.chosen];
      if (chosen) writeFileSync(join(out, 'imagined.gif'), encodeGif(chosen.frames.map((f) => upscale({ width: W, height: H, data: f }, 4)), 400));
      const N = chosen?.frames.length ?? 0;
      const grid: RgbImage[] = [];
      for (let f = 0; f < N; f++) grid.push(tile(first.candidates.map((c) => upscale({ width: W, height: H, data: c.frames[f] as Uint8Array }, 3)), first.candidates.length, 4));
      if (grid.length > 0) writeFileSync(join(out, 'candidates.gif'), encodeGif(grid, 400));
    }
    writeFileSync(join(out, 'map.png'), encodePng(missionMap(sc, r)));
    const j = r.judgement;
    const summary = {
      success: j.success,
      seed,
      object: sc.target.category,
      final_distance_m: +j.distanceM.toFixed(3),
      reach_m: +j.reachM.toFixed(3),
      final_bearing_deg: +j.bearingDeg.toFixed(1),
      final_sd: +j.sd.toFixed(3),
      plans: r.plans.length,
      plan_s: r.planSeconds.map((s) => +s.toFixed(3)),
      path_length_m: +r.pathLengthM.toFixed(2),
      oracle_length_m: +sc.oracleLength.toFixed(2),
      keyframes: r.keyframes,
      candidates: opts.candidates,
      steps: opts.steps,
      guidance: opts.guidance,
      model: m.name,
      plan_errors: r.plans.filter((p) => p.error).map((p) => p.error),
      timings_ms: first?.timings,
    };
    writeFileSync(join(out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
    log(`[demo] ${j.success ? 'SUCCESS' : 'FAILED'}: ended ${j.distanceM.toFixed(2)} m from the ${sc.target.category} (reach ${j.reachM.toFixed(2)} m), bearing ${j.bearingDeg.toFixed(1)}°, ${r.plans.length} plan(s)`);
    log(`[demo] wrote ${join(out, 'summary.json')}, imagined.gif, candidates.gif, map.png`);
    await model.dispose();
    return 0;
  },
};
