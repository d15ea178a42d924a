/**
 * `video4spatial-nav dataset --seeds A-B --out DIR [--clips-per-world C] [--shard-size S]
 *  [--k K] [--n N] [--size PX] [--supersample SS]`
 * Writes training clips as NumPy shards: DIR/meta.json and DIR/shard_<A>-<B>/*.npy (see
 * docs/dataset.md). Several processes may write disjoint seed ranges into one DIR.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkFlags, flagNumber, flagString, parseArgs, parseSeedRange, UsageError } from '../args.js';
import type { CliCommand } from '../main.js';
import { buildClips, DEFAULT_CLIP_OPTIONS, type Clip, type ClipOptions } from '../../sim/dataset.js';
import { encodeNpy, type NpyArray } from '../../sim/npy.js';
import { scaleCamera } from '../../sim/camera.js';
import { BOX_COLOR, CATEGORIES, PALETTE } from '../../sim/vocabulary.js';
import { EXPLORE_DT } from '../../sim/scenario.js';

function concat<T extends Uint8Array | Int32Array | Float32Array>(parts: T[], make: (n: number) => T): T {
  const out = make(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p as never, o);
    o += p.length;
  }
  return out;
}

export function writeShard(dir: string, clips: Clip[], opts: ClipOptions): void {
  mkdirSync(dir, { recursive: true });
  const n = clips.length;
  const F = opts.k + opts.n;
  const { width: W, height: H } = opts.camera;
  const arrays: Record<string, NpyArray> = {
    frames: { dtype: '|u1', shape: [n, F, H, W, 3], data: concat(clips.map((c) => c.frames), (m) => new Uint8Array(m)) },
    indices: { dtype: '<i4', shape: [n, F], data: concat(clips.map((c) => c.indices), (m) => new Int32Array(m)) },
    poses: { dtype: '<f4', shape: [n, F, 3], data: concat(clips.map((c) => c.poses), (m) => new Float32Array(m)) },
    boxes: { dtype: '<f4', shape: [n, F, 4], data: concat(clips.map((c) => c.boxes), (m) => new Float32Array(m)) },
    object: { dtype: '<i4', shape: [n], data: new Int32Array(clips.map((c) => c.object)) },
    color_index: { dtype: '<i4', shape: [n], data: new Int32Array(clips.map((c) => c.colorIndex)) },
    world_seed: { dtype: '<i4', shape: [n], data: new Int32Array(clips.map((c) => c.worldSeed)) },
    request_index: { dtype: '<i4', shape: [n], data: new Int32Array(clips.map((c) => c.requestIndex)) },
    object_xy: { dtype: '<f4', shape: [n, 2], data: new Float32Array(clips.flatMap((c) => c.objectXY)) },
    standoff: { dtype: '<f4', shape: [n, 3], data: new Float32Array(clips.flatMap((c) => [c.standoff.x, c.standoff.y, c.standoff.yaw])) },
  };
  for (const [name, a] of Object.entries(arrays)) writeFileSync(join(dir, `${name}.npy`), encodeNpy(a));
}

export function datasetMeta(opts: ClipOptions, seeds: number[]): Record<string, unknown> {
  return {
    format: 'video4spatial_nav clips v1',
    k: opts.k,
    n: opts.n,
    camera: opts.camera,
    frame_dt_s: EXPLORE_DT,
    vocabulary: ['<null>', ...CATEGORIES],
    palette: PALETTE,
    box_color: BOX_COLOR,
    box_thickness_px: opts.boxThickness,
    supersample: opts.supersample,
    clips_per_world: opts.clipsPerWorld,
    seeds: [seeds[0], seeds[seeds.length - 1]],
  };
}

export const command: CliCommand = {
  summary: 'write training clips (context + target frames, indices, poses, boxes) as .npy shards',
  async run(argv) {
    const args = parseArgs(argv);
    checkFlags(args, ['seeds', 'out', 'clips-per-world', 'shard-size', 'k', 'n', 'size', 'supersample'], 'dataset');
    const seedsText = flagString(args, 'seeds');
    const out = flagString(args, 'out');
    if (seedsText === undefined || out === undefined) throw new UsageError('needs --seeds A-B and --out DIR');
    const seeds = parseSeedRange(seedsText);
    const size = flagNumber(args, 'size', DEFAULT_CLIP_OPTIONS.camera.width, { integer: true, min: 16, max: 512 });
    const opts: ClipOptions = {
      ...DEFAULT_CLIP_OPTIONS,
      k: flagNumber(args, 'k', DEFAULT_CLIP_OPTIONS.k, { integer: true, min: 1, max: 64 }),
      n: flagNumber(args, 'n', DEFAULT_CLIP_OPTIONS.n, { integer: true, min: 1, max: 64 }),
      camera: scaleCamera(DEFAULT_CLIP_OPTIONS.camera, size, size),
      supersample: flagNumber(args, 'supersample', DEFAULT_CLIP_OPTIONS.supersample, { integer: true, min: 1, max: 8 }),
      clipsPerWorld: flagNumber(args, 'clips-per-world', DEFAULT_CLIP_OPTIONS.clipsPerWorld, { integer: true, min: 1, max: 100 }),
    };
    const shardWorlds = flagNumber(args, 'shard-size', 200, { integer: true, min: 1 });
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'meta.json'), JSON.stringify(datasetMeta(opts, seeds), null, 2) + '\n');
    const t0 = Date.now();
    let total = 0;
    for (let s0 = 0; s0 < seeds.length; s0 += shardWorlds) {
      const group = seeds.slice(s0, s0 + shardWorlds);
      const clips = group.flatMap((s) => buildClips(s, opts));
      const name = `shard_${group[0]}-${group[group.length - 1]}`;
      writeShard(join(out, name), clips, opts);
      total += clips.length;
      const el = (Date.now() - t0) / 1000;
      process.stdout.write(`${name}: ${clips.length} clips (total ${total}, ${el.toFixed(0)} s, ${((el * 1000) / total).toFixed(1)} ms/clip)\n`);
    }
    process.stdout.write(`wrote ${total} clips from ${seeds.length} worlds to ${out} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    return 0;
  },
};
