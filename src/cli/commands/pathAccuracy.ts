/**
 * `video4spatial-nav path-accuracy [--seeds A-B] [--parts box,vo,anchor] [--clearance M] [--grid-coarse-step S] [--grid-sample-stride S] [--json FILE]`
 * Measures the path extraction (src/core/path, src/vision/vo.ts) on rendered simulator frames
 * and prints the numbers quoted in docs/path.md:
 * - box: detection on the target frames of dataset clips (clean, 3×3 box-blurred, washed-out
 *   (200, 40, 40)), false boxes on the context frames, edge error, SD of the last frame;
 * - vo: straight 0.5 m, turn 20°, arc 0.5 m/20° from one pose per world with --clearance m
 *   (default 2.5) of free floor ahead, at 64×64 and 160×120, direct alignment and ORB + essential matrix;
 * - anchor: views shifted (±0.3 m, ±10°) from keyframes showing the target, anchored among ~25
 *   keyframes of the exploration; pose error and object error.
 * Deterministic per seed range. CPU-heavy: about 10 s per world.
 */
import { boxBlur } from '../../sim/pictures.js';
import { writeFileSync } from 'node:fs';
import { cameraFromFov, type PinholeCamera } from '../../core/camera.js';
import { angleDiff, composePose2D, type Pose2D } from '../../core/geometry.js';
import { Rng } from '../../core/rng.js';
import { anchorGoal, DEFAULT_ANCHOR_PARAMS, KeyframeIndex, type Keyframe } from '../../core/path/anchor.js';
import { detectBox, sd } from '../../core/path/box.js';
import { alignPlanar, DEFAULT_PLANAR_ALIGN_PARAMS, type PlanarAlignParams, type PlanarMotion } from '../../core/path/vo.js';
import { MODEL_CAMERA_DEFAULT } from '../../sim/camera.js';
import { buildClips, DEFAULT_CLIP_OPTIONS } from '../../sim/dataset.js';
import { drawBox, render } from '../../sim/renderer.js';
import { makeScenario, openPose } from '../../sim/scenario.js';
import { BOX_COLOR } from '../../sim/vocabulary.js';
import { generateWorld } from '../../sim/world.js';
import { checkFlags, flagNumber, flagString, parseArgs, parseSeedRange, UsageError } from '../args.js';
import { booleanFlags, commandHelp, flagNames, type CliCommand } from '../command.js';

const DEG = Math.PI / 180;
const PARTS = ['box', 'vo', 'anchor'] as const;
type Part = (typeof PARTS)[number];

const quantile = (xs: number[], q: number): number => {
  if (xs.length === 0) return Number.NaN;
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
};
const fmt = (x: number, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : String(x));


function boxPart(seeds: number[]): Record<string, unknown> {
  const cam = DEFAULT_CLIP_OPTIONS.camera;
  const W = cam.width;
  const H = cam.height;
  const K = DEFAULT_CLIP_OPTIONS.k;
  const N = DEFAULT_CLIP_OPTIONS.n;
  const variants: Record<string, (f: Uint8Array) => Uint8Array> = {
    clean: (f) => f,
    blur3x3: (f) => boxBlur(f, W, H),
    washed: (f) => {
      const o = f.slice();
      for (let p = 0; p < W * H; p++) if (o[p * 3] === 255 && o[p * 3 + 1] === 0 && o[p * 3 + 2] === 0) o.set([200, 40, 40], p * 3);
      return o;
    },
  };
  const stats: Record<string, { found: number; missed: number; falseBoxes: number; edgeErr: number[] }> = {};
  for (const k of Object.keys(variants)) stats[k] = { found: 0, missed: 0, falseBoxes: 0, edgeErr: [] };
  let ctxFrames = 0;
  let ctxFalse = 0;
  const sdLast: number[] = [];
  for (const seed of seeds) {
    for (const c of buildClips(seed, { ...DEFAULT_CLIP_OPTIONS, clipsPerWorld: 2 })) {
      for (let f = 0; f < K + N; f++) {
        const rgb = c.frames.subarray(f * W * H * 3, (f + 1) * W * H * 3);
        const tb = Array.from(c.boxes.subarray(f * 4, f * 4 + 4));
        if (f < K) {
          ctxFrames++;
          if (detectBox(rgb, W, H)) ctxFalse++;
          continue;
        }
        for (const [name, fn] of Object.entries(variants)) {
          const s = stats[name] as { found: number; missed: number; falseBoxes: number; edgeErr: number[] };
          const d = detectBox(fn(rgb), W, H);
          if ((tb[0] as number) < 0) {
            if (d) s.falseBoxes++;
            continue;
          }
          if (!d) {
            s.missed++;
            continue;
          }
          s.found++;
          s.edgeErr.push(Math.max(Math.abs(d.x0 - (tb[0] as number)), Math.abs(d.y0 - (tb[1] as number)), Math.abs(d.x1 - (tb[2] as number) - 1), Math.abs(d.y1 - (tb[3] as number) - 1)));
          if (name === 'clean' && f === K + N - 1) sdLast.push(sd(d, W));
        }
      }
    }
  }
  const out: Record<string, unknown> = { context_frames: ctxFrames, false_boxes_on_context: ctxFalse, sd_last_frame: { median: quantile(sdLast, 0.5), p90: quantile(sdLast, 0.9), max: quantile(sdLast, 1), below_0_2: `${sdLast.filter((x) => x < 0.2).length}/${sdLast.length}` } };
  for (const [k, s] of Object.entries(stats)) out[k] = { found: s.found, missed: s.missed, false_boxes: s.falseBoxes, edge_err_px: { median: quantile(s.edgeErr, 0.5), p90: quantile(s.edgeErr, 0.9), max: quantile(s.edgeErr, 1) } };
  return out;
}

async function voPart(seeds: number[], clearM: number, align: Partial<PlanarAlignParams> = {}): Promise<Record<string, unknown>> {
  const cams: [string, PinholeCamera][] = [
    ['64x64', MODEL_CAMERA_DEFAULT],
    ['160x120', cameraFromFov(160, 120, Math.PI / 3, 0.5)],
  ];
  const motions: [string, Pose2D][] = [
    ['straight_0.5m', { x: 0.5, y: 0, yaw: 0 }],
    ['turn_20deg', { x: 0, y: 0, yaw: 20 * DEG }],
    ['arc_0.5m_20deg', { x: (0.5 * Math.sin(20 * DEG)) / (20 * DEG), y: (0.5 * (1 - Math.cos(20 * DEG))) / (20 * DEG), yaw: 20 * DEG }],
  ];
  let orb: ((a: Uint8Array, b: Uint8Array, c: PinholeCamera) => PlanarMotion) | undefined;
  try {
    const v = await import('../../vision/vo.js');
    const { isOpenCvAvailable } = await import('../../vision/opencv.js');
    if (isOpenCvAvailable()) orb = (a, b, c) => v.estimateMotionOrb(a, b, c);
  } catch {
    orb = undefined;
  }
  const methods: [string, (a: Uint8Array, b: Uint8Array, c: PinholeCamera) => PlanarMotion][] = [['direct', (a, b, c) => alignPlanar(a, b, c, align)]];
  if (orb) methods.push(['orb', orb]);
  const acc: Record<string, { scaleErr: number[]; yawErrDeg: number[]; transErr: number[]; conf: number[]; ms: number[] }> = {};
  const rng = new Rng(11);
  for (const seed of seeds) {
    const world = generateWorld(seed);
    const pose = openPose(world, rng, clearM);
    if (!pose) continue;
    for (const [cn, cam] of cams) {
      const a = render(world, pose, cam, { supersample: 2 }).rgb;
      for (const [mn, m] of motions) {
        const b = render(world, composePose2D(pose, m), cam, { supersample: 2 }).rgb;
        for (const [meth, fn] of methods) {
          const t = performance.now();
          const e = fn(a, b, cam);
          const ms = performance.now() - t;
          const key = `${meth} ${cn} ${mn}`;
          const s = (acc[key] ??= { scaleErr: [], yawErrDeg: [], transErr: [], conf: [], ms: [] });
          const tn = Math.hypot(m.x, m.y);
          const en = Math.hypot(e.dx, e.dy);
          s.scaleErr.push(tn > 0 ? Math.abs(en / tn - 1) : Number.NaN);
          s.yawErrDeg.push(Math.abs(angleDiff(e.dyaw, m.yaw)) / DEG);
          s.transErr.push(Math.hypot(e.dx - m.x, e.dy - m.y));
          s.conf.push(e.confidence);
          s.ms.push(ms);
        }
      }
    }
  }
  const out: Record<string, unknown> = {};
  for (const [k, s] of Object.entries(acc)) {
    const sc = s.scaleErr.filter((x) => Number.isFinite(x));
    out[k] = {
      n: s.ms.length,
      scale_err: sc.length > 0 ? { median: quantile(sc, 0.5), p90: quantile(sc, 0.9), max: quantile(sc, 1), within_5pct: `${sc.filter((x) => x <= 0.05).length}/${sc.length}` } : undefined,
      translation_err_m: { median: quantile(s.transErr, 0.5), max: quantile(s.transErr, 1) },
      yaw_err_deg: { median: quantile(s.yawErrDeg, 0.5), p90: quantile(s.yawErrDeg, 0.9), max: quantile(s.yawErrDeg, 1) },
      confidence_median: quantile(s.conf, 0.5),
      ms_per_pair_median: quantile(s.ms, 0.5),
    };
  }
  return out;
}

function anchorPart(seeds: number[], align: Partial<PlanarAlignParams> = {}): Record<string, unknown> {
  const cam = MODEL_CAMERA_DEFAULT;
  const offsets: Pose2D[] = [
    { x: 0.3, y: -0.2, yaw: 10 * DEG },
    { x: -0.25, y: 0.3, yaw: -10 * DEG },
    { x: 0.2, y: 0.25, yaw: -8 * DEG },
    { x: -0.3, y: -0.3, yaw: 10 * DEG },
  ];
  let trials = 0;
  let anchored = 0;
  let rightKeyframe = 0;
  const poseErr: number[] = [];
  const yawErr: number[] = [];
  const objErr: number[] = [];
  const ms: number[] = [];
  for (const seed of seeds) {
    let sc;
    try {
      sc = makeScenario(seed);
    } catch {
      continue;
    }
    const step = Math.max(1, Math.floor(sc.exploration.length / 24));
    const kfs: Keyframe[] = sc.exploration.filter((_, i) => i % step === 0).map((pose) => ({ pose, rgb: render(sc.world, pose, cam, { supersample: 2 }).rgb }));
    const index = new KeyframeIndex(kfs, cam, { ...DEFAULT_ANCHOR_PARAMS, align });
    let n = 0;
    for (let ki = 0; ki < kfs.length && n < 3; ki++) {
      for (const off of offsets) {
        if (n >= 3) break;
        const src = (kfs[ki] as Keyframe).pose;
        const truth = composePose2D(src, off);
        if (sc.world.free.occupiedAt(truth.x, truth.y)) continue;
        const r = render(sc.world, truth, cam, { supersample: 2 });
        const box = r.objects.get(sc.target.id);
        if (!box || box.x0 === 0 || box.x1 === cam.width - 1 || box.y1 >= cam.height - 1 || box.y1 <= cam.cy || box.x1 - box.x0 < 4) continue;
        drawBox(r.rgb, cam.width, cam.height, box, BOX_COLOR);
        n++;
        trials++;
        const t = performance.now();
        const g = anchorGoal([r.rgb], index, cam);
        ms.push(performance.now() - t);
        const a = g.anchors[0]?.anchor;
        if (!a || !g.goal) continue;
        anchored++;
        const got = (kfs[a.keyframeIndex] as Keyframe).pose;
        if (a.keyframeIndex === ki || (Math.hypot(got.x - src.x, got.y - src.y) < 0.5 && Math.abs(angleDiff(got.yaw, src.yaw)) < 20 * DEG)) rightKeyframe++;
        poseErr.push(Math.hypot(g.goal.x - truth.x, g.goal.y - truth.y));
        yawErr.push(Math.abs(angleDiff(g.goal.yaw, truth.yaw)) / DEG);
        if (g.object) objErr.push(Math.hypot(g.object.x - sc.target.x, g.object.y - sc.target.y));
      }
    }
  }
  return {
    trials,
    anchored,
    right_keyframe: rightKeyframe,
    pose_err_m: { median: quantile(poseErr, 0.5), p90: quantile(poseErr, 0.9), max: quantile(poseErr, 1), below_0_4: `${poseErr.filter((x) => x < 0.4).length}/${trials}` },
    yaw_err_deg: { median: quantile(yawErr, 0.5), p90: quantile(yawErr, 0.9), max: quantile(yawErr, 1) },
    object_err_m: { median: quantile(objErr, 0.5), p90: quantile(objErr, 0.9), max: quantile(objErr, 1), below_0_5: `${objErr.filter((x) => x < 0.5).length}/${trials}` },
    ms_per_anchoring_median: quantile(ms, 0.5),
  };
}

const HELP = commandHelp({
  name: 'path-accuracy',
  summary: 'measure box detection, visual odometry and anchoring on rendered frames',
  description: 'Prints the numbers quoted in docs/path.md as JSON. Deterministic per seed range; CPU-heavy: about 10 s per world.',
  flags: [
    { name: 'seeds', value: 'A-B', default: '300-309', help: 'world seeds, inclusive' },
    { name: 'parts', value: 'box,vo,anchor', default: PARTS.join(','), help: 'which measurements' },
    { name: 'json', value: 'FILE', help: 'also write the report to FILE' },
    { name: 'clearance', value: 'M', default: '2.5', help: 'vo: free floor ahead of the start pose, metres, 0.6-5' },
    { name: 'grid-coarse-step', value: 'S', default: '1', help: 'coarse grid step of the direct alignment, 1-8' },
    { name: 'grid-sample-stride', value: 'S', default: String(DEFAULT_PLANAR_ALIGN_PARAMS.gridSampleStride), help: 'the direct alignment\'s grid ranks with the pixels whose column + row is a multiple of S (2: a checkerboard), 1-4' },
    { name: 'grid-rank-subpixel', value: 'N', default: String(DEFAULT_PLANAR_ALIGN_PARAMS.gridRankSubpixel), help: 'that ranking reads the image from a table sampled every 1/N pixel (0: exact bilinear lookups), 0-16' },
  ],
  examples: ['path-accuracy --seeds 300-302 --parts box,vo --json path.json'],
});

export const command: CliCommand = {
  ...HELP,
  async run(argv: string[]): Promise<number> {
    const args = parseArgs(argv, booleanFlags(HELP.flags));
    checkFlags(args, flagNames(HELP.flags), 'path-accuracy');
    const align = {
      gridCoarseStep: flagNumber(args, 'grid-coarse-step', 1, { integer: true, min: 1, max: 8 }),
      gridSampleStride: flagNumber(args, 'grid-sample-stride', DEFAULT_PLANAR_ALIGN_PARAMS.gridSampleStride, { integer: true, min: 1, max: 4 }),
      gridRankSubpixel: flagNumber(args, 'grid-rank-subpixel', DEFAULT_PLANAR_ALIGN_PARAMS.gridRankSubpixel, { integer: true, min: 0, max: 16 }),
    };
    const clearM = flagNumber(args, 'clearance', 2.5, { min: 0.6, max: 5 });
    const seeds = parseSeedRange(flagString(args, 'seeds') ?? '300-309');
    const partsText = flagString(args, 'parts') ?? PARTS.join(',');
    const parts = partsText.split(',').map((p) => p.trim());
    for (const p of parts) if (!(PARTS as readonly string[]).includes(p)) throw new UsageError(`--parts: unknown part '${p}' (known: ${PARTS.join(', ')})`);
    const report: Record<string, unknown> = { seeds: `${seeds[0]}-${seeds[seeds.length - 1]}`, clearance_m: clearM, grid_coarse_step: align.gridCoarseStep, grid_sample_stride: align.gridSampleStride, grid_rank_subpixel: align.gridRankSubpixel };
    for (const p of parts as Part[]) {
      const t = performance.now();
      report[p] = p === 'box' ? boxPart(seeds) : p === 'vo' ? await voPart(seeds, clearM, align) : anchorPart(seeds, align);
      process.stderr.write(`path-accuracy: ${p} done in ${fmt((performance.now() - t) / 1000, 1)} s\n`);
    }
    const text = JSON.stringify(report, (_k, v: unknown) => (typeof v === 'number' ? Number(v.toFixed(4)) : v), 2);
    process.stdout.write(text + '\n');
    const json = flagString(args, 'json');
    if (json !== undefined) writeFileSync(json, text + '\n');
    return 0;
  },
};
