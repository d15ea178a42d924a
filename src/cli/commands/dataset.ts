/**
 * `video4spatial-nav dataset --seeds A-B --out DIR [--clips-per-world C] [--shard-size S]
 *  [--k K] [--n N] [--size PX] [--supersample SS] [--grounding [--grid G]]
 *  [--episodes [--episodes-per-world E] [--plans J] [--candidates M] [--grounder-recall R]] [--progress | --quiet]`
 * (progress per world on stderr: src/cli/progress.ts)
 * Writes training clips as NumPy shards: DIR/meta.json and DIR/shard_<A>-<B>/*.npy (see
 * docs/dataset.md). Several processes may write disjoint seed ranges into one DIR.
 * --grounding: the grounder's data instead (sim/groundingData.ts): every keyframe of each world's
 * exploration with its per-category token coverage on a G×G grid (default 4).
 * --episodes: episodes whose contexts the node's own sampling chose (sim/episodes.ts): per shard a
 * pool of keyframes and, per episode, target frames and D = J × M context draws as pool rows.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkFlags, flagBool, flagNumber, flagString, parseArgs, parseSeedRange, UsageError } from '../args.js';
import { booleanFlags, commandHelp, flagNames, type CliCommand } from '../command.js';
import { Progress, PROGRESS_FLAGS, progressFromArgs } from '../progress.js';
import { buildClips, DEFAULT_CLIP_OPTIONS, type Clip, type ClipOptions } from '../../sim/dataset.js';
import { encodeNpy, type NpyArray } from '../../sim/npy.js';
import { scaleCamera } from '../../sim/camera.js';
import { BOX_COLOR, CATEGORIES, PALETTE } from '../../sim/vocabulary.js';
import { EXPLORE_DT } from '../../sim/scenario.js';
import { buildGroundingFrames, FULL_COVER_SHARE, type GroundingFrames } from '../../sim/groundingData.js';
import { buildEpisodes, DEFAULT_EPISODE_OPTIONS, drawsPerEpisode, type EpisodeOptions, type EpisodeWorld } from '../../sim/episodes.js';
import type { PinholeCamera } from '../../sim/camera.js';

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

/** One shard of grounder frames (frames, cover, pixels, present, poses, world_seed). */
export function writeGroundingShard(dir: string, worlds: GroundingFrames[], camera: PinholeCamera, grid: number): void {
  mkdirSync(dir, { recursive: true });
  const n = worlds.reduce((s, w) => s + w.n, 0);
  const V = CATEGORIES.length + 1;
  const arrays: Record<string, NpyArray> = {
    frames: { dtype: '|u1', shape: [n, camera.height, camera.width, 3], data: concat(worlds.map((w) => w.frames), (m) => new Uint8Array(m)) },
    cover: { dtype: '<f4', shape: [n, V, grid * grid], data: concat(worlds.map((w) => w.cover), (m) => new Float32Array(m)) },
    pixels: { dtype: '<i4', shape: [n, V], data: concat(worlds.map((w) => w.pixels), (m) => new Int32Array(m)) },
    present: { dtype: '<i4', shape: [n, V], data: new Int32Array(worlds.flatMap((w) => Array.from({ length: w.n }, () => [...w.present]).flat())) },
    poses: { dtype: '<f4', shape: [n, 3], data: concat(worlds.map((w) => w.poses), (m) => new Float32Array(m)) },
    world_seed: { dtype: '<i4', shape: [n], data: new Int32Array(worlds.flatMap((w) => Array.from({ length: w.n }, () => w.worldSeed))) },
  };
  // world_seed last: its presence marks the shard finished
  for (const [name, a] of Object.entries(arrays)) writeFileSync(join(dir, `${name}.npy`), encodeNpy(a));
}

/**
 * One shard of episodes (sim/episodes.ts). The worlds' pools are concatenated into pool_* rows;
 * `contexts` [E, D, K] and `request_row` [E] index those rows. standoff.npy is written last: its
 * presence marks the shard finished (a trainer reads shards while `dataset` still writes).
 */
export function writeEpisodeShard(dir: string, worlds: EpisodeWorld[], opts: EpisodeOptions): void {
  mkdirSync(dir, { recursive: true });
  const { k: K, n: N } = opts;
  const D = drawsPerEpisode(opts);
  const { width: W, height: H } = opts.camera;
  const P = worlds.reduce((s, w) => s + w.poolSize, 0);
  const eps = worlds.flatMap((w) => w.episodes.map((e) => ({ e, w })));
  const E = eps.length;
  const rowBase = new Map<EpisodeWorld, number>();
  let base = 0;
  for (const w of worlds) {
    rowBase.set(w, base);
    base += w.poolSize;
  }
  const contexts = new Int32Array(E * D * K);
  eps.forEach(({ e, w }, i) => {
    const b = rowBase.get(w) as number;
    for (let j = 0; j < D * K; j++) contexts[i * D * K + j] = b + (e.contexts[j] as number);
  });
  const arrays: Record<string, NpyArray> = {
    pool_frames: { dtype: '|u1', shape: [P, H, W, 3], data: concat(worlds.map((w) => w.poolFrames), (m) => new Uint8Array(m)) },
    pool_indices: { dtype: '<i4', shape: [P], data: concat(worlds.map((w) => w.poolIndices), (m) => new Int32Array(m)) },
    pool_poses: { dtype: '<f4', shape: [P, 3], data: concat(worlds.map((w) => Float32Array.from(w.poolPoses)), (m) => new Float32Array(m)) },
    pool_world_seed: { dtype: '<i4', shape: [P], data: new Int32Array(worlds.flatMap((w) => Array.from({ length: w.poolSize }, () => w.worldSeed))) },
    target_frames: { dtype: '|u1', shape: [E, N, H, W, 3], data: concat(eps.map(({ e }) => e.targetFrames), (m) => new Uint8Array(m)) },
    target_indices: { dtype: '<i4', shape: [E, N], data: concat(eps.map(({ e }) => e.targetIndices), (m) => new Int32Array(m)) },
    target_poses: { dtype: '<f4', shape: [E, N, 3], data: concat(eps.map(({ e }) => e.targetPoses), (m) => new Float32Array(m)) },
    target_boxes: { dtype: '<f4', shape: [E, N, 4], data: concat(eps.map(({ e }) => e.targetBoxes), (m) => new Float32Array(m)) },
    contexts: { dtype: '<i4', shape: [E, D, K], data: contexts },
    context_boxes: { dtype: '<f4', shape: [E, D, K, 4], data: concat(eps.map(({ e }) => e.contextBoxes), (m) => new Float32Array(m)) },
    request_row: { dtype: '<i4', shape: [E], data: new Int32Array(eps.map(({ e, w }) => (rowBase.get(w) as number) + e.requestSlot)) },
    request_index: { dtype: '<i4', shape: [E], data: new Int32Array(eps.map(({ e }) => e.requestIndex)) },
    object: { dtype: '<i4', shape: [E], data: new Int32Array(eps.map(({ e }) => e.object)) },
    color_index: { dtype: '<i4', shape: [E], data: new Int32Array(eps.map(({ e }) => e.colorIndex)) },
    world_seed: { dtype: '<i4', shape: [E], data: new Int32Array(eps.map(({ w }) => w.worldSeed)) },
    object_xy: { dtype: '<f4', shape: [E, 2], data: new Float32Array(eps.flatMap(({ e }) => e.objectXY)) },
    standoff: { dtype: '<f4', shape: [E, 3], data: new Float32Array(eps.flatMap(({ e }) => [e.standoff.x, e.standoff.y, e.standoff.yaw])) },
  };
  for (const [name, a] of Object.entries(arrays)) writeFileSync(join(dir, `${name}.npy`), encodeNpy(a));
}

/** meta.json of an episode dataset. */
export function episodeMeta(opts: EpisodeOptions, seeds: number[]): Record<string, unknown> {
  return {
    format: 'video4spatial_nav episodes v1',
    k: opts.k,
    n: opts.n,
    draws: drawsPerEpisode(opts),
    plans: opts.plans,
    candidates: opts.candidates,
    grounder_recall: opts.grounderRecall,
    episodes_per_world: opts.episodesPerWorld,
    ...sharedMeta(opts, seeds),
  };
}

/** What the meta.json of clips and of episodes share: camera, timing, names, colours, seeds. */
function sharedMeta(opts: { camera: PinholeCamera; boxThickness: number; supersample: number }, seeds: number[]): Record<string, unknown> {
  return {
    camera: opts.camera,
    frame_dt_s: EXPLORE_DT,
    vocabulary: ['<null>', ...CATEGORIES],
    palette: PALETTE,
    box_color: BOX_COLOR,
    box_thickness_px: opts.boxThickness,
    supersample: opts.supersample,
    seeds: [seeds[0], seeds[seeds.length - 1]],
  };
}

export function datasetMeta(opts: ClipOptions, seeds: number[]): Record<string, unknown> {
  return {
    format: 'video4spatial_nav clips v1',
    k: opts.k,
    n: opts.n,
    clips_per_world: opts.clipsPerWorld,
    ...sharedMeta(opts, seeds),
  };
}

const HELP = commandHelp({
  name: 'dataset',
  summary: 'write training clips (context + target frames, indices, poses, boxes) as .npy shards',
  synopsis: ['dataset --seeds A-B --out DIR [--clips-per-world C] [--shard-size S] [--k K] [--n N] [--size PX] [--supersample SS] [--grounding [--grid G]] [--episodes [--episodes-per-world E] [--plans J] [--candidates M] [--grounder-recall R]] [--progress | --quiet]'],
  description:
    'Writes DIR/meta.json and DIR/shard_<A>-<B>/*.npy (docs/dataset.md). Several processes may write disjoint seed ranges into one DIR. ' +
    "--grounding writes the grounder's data instead: every keyframe of each world's exploration with its per-category token coverage on a G×G grid. " +
    "--episodes writes episodes instead of clips: per world the keyframes the node's gate keeps (a pool, rendered once) and per episode N boxed target frames and J × M context draws made by the node's own sampling (name-aware includes, candidate 0 pose-diverse, the others uniform) as rows of that pool. " +
    'On a terminal (or with --progress) each finished world prints a line to stderr: done/total, elapsed, time left.',
  flags: [
    { name: 'seeds', value: 'A-B', help: 'world seeds, inclusive (required)' },
    { name: 'out', value: 'DIR', help: 'output directory (required)' },
    { name: 'clips-per-world', value: 'C', default: String(DEFAULT_CLIP_OPTIONS.clipsPerWorld), help: 'clips per world, 1-100' },
    { name: 'shard-size', value: 'S', default: '200', help: 'worlds per shard' },
    { name: 'k', value: 'K', default: String(DEFAULT_CLIP_OPTIONS.k), help: 'context frames per clip, 1-64' },
    { name: 'n', value: 'N', default: String(DEFAULT_CLIP_OPTIONS.n), help: 'target frames per clip, 1-64' },
    { name: 'size', value: 'PX', default: String(DEFAULT_CLIP_OPTIONS.camera.width), help: 'frame width and height, pixels, 16-512' },
    { name: 'supersample', value: 'SS', default: String(DEFAULT_CLIP_OPTIONS.supersample), help: 'render supersampling, 1-8' },
    { name: 'grounding', help: "write the grounder's keyframes and coverage instead of clips" },
    { name: 'grid', value: 'G', default: '4', help: 'with --grounding: the coverage grid, G×G; must divide --size' },
    { name: 'episodes', help: 'write episodes with node-chosen contexts instead of clips' },
    { name: 'episodes-per-world', value: 'E', default: String(DEFAULT_EPISODE_OPTIONS.episodesPerWorld), help: 'with --episodes: episodes per world, 1-100' },
    { name: 'plans', value: 'J', default: String(DEFAULT_EPISODE_OPTIONS.plans), help: 'with --episodes: imagined plans per episode, 1-64 (each gives M context draws)' },
    { name: 'candidates', value: 'M', default: String(DEFAULT_EPISODE_OPTIONS.candidates), help: 'with --episodes: candidates per plan, 1-16' },
    { name: 'grounder-recall', value: 'R', default: String(DEFAULT_EPISODE_OPTIONS.grounderRecall), help: 'with --episodes: chance in [0, 1] that a keyframe showing the object counts as showing' },
    ...PROGRESS_FLAGS,
  ],
  examples: ['dataset --seeds 0-99 --out data/clips'],
});

export const command: CliCommand = {
  ...HELP,
  async run(argv) {
    const args = parseArgs(argv, booleanFlags(HELP.flags));
    checkFlags(args, flagNames(HELP.flags), 'dataset');
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
    const progress = new Progress('dataset', seeds.length, { enabled: progressFromArgs(args) });
    mkdirSync(out, { recursive: true });
    if (flagBool(args, 'grounding')) {
      const grid = flagNumber(args, 'grid', 4, { integer: true, min: 1, max: 64 });
      if (size % grid !== 0) throw new UsageError(`--grid ${grid} must divide --size ${size}`);
      const meta = { format: 'video4spatial_nav grounding v1', camera: opts.camera, grid, vocabulary: ['<null>', ...CATEGORIES], full_cover_share: FULL_COVER_SHARE, supersample: opts.supersample, seeds: [seeds[0], seeds[seeds.length - 1]] };
      writeFileSync(join(out, 'meta.json'), JSON.stringify(meta, null, 2) + '\n');
      const t0 = Date.now();
      let total = 0;
      for (let s0 = 0; s0 < seeds.length; s0 += shardWorlds) {
        const group = seeds.slice(s0, s0 + shardWorlds);
        const worlds = group.map((s) => {
          const w = buildGroundingFrames(s, opts.camera, grid, opts.supersample);
          progress.tick(`seed ${s}: ${w.n} keyframes`);
          return w;
        });
        const name = `shard_${group[0]}-${group[group.length - 1]}`;
        writeGroundingShard(join(out, name), worlds, opts.camera, grid);
        total += worlds.reduce((a, w) => a + w.n, 0);
        process.stdout.write(`${name}: ${total} keyframes so far (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
      }
      process.stdout.write(`wrote ${total} grounding keyframes from ${seeds.length} worlds to ${out} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
      return 0;
    }
    if (flagBool(args, 'episodes')) {
      const eo: EpisodeOptions = {
        ...DEFAULT_EPISODE_OPTIONS,
        k: opts.k,
        n: opts.n,
        camera: opts.camera,
        supersample: opts.supersample,
        episodesPerWorld: flagNumber(args, 'episodes-per-world', DEFAULT_EPISODE_OPTIONS.episodesPerWorld, { integer: true, min: 1, max: 100 }),
        plans: flagNumber(args, 'plans', DEFAULT_EPISODE_OPTIONS.plans, { integer: true, min: 1, max: 64 }),
        candidates: flagNumber(args, 'candidates', DEFAULT_EPISODE_OPTIONS.candidates, { integer: true, min: 1, max: 16 }),
        grounderRecall: flagNumber(args, 'grounder-recall', DEFAULT_EPISODE_OPTIONS.grounderRecall, { min: 0, max: 1 }),
      };
      writeFileSync(join(out, 'meta.json'), JSON.stringify(episodeMeta(eo, seeds), null, 2) + '\n');
      const t0 = Date.now();
      let episodes = 0;
      let keyframes = 0;
      for (let s0 = 0; s0 < seeds.length; s0 += shardWorlds) {
        const group = seeds.slice(s0, s0 + shardWorlds);
        const worlds = group.map((s) => {
          const w = buildEpisodes(s, eo);
          progress.tick(`seed ${s}: ${w.episodes.length} episodes, ${w.poolSize} keyframes`);
          return w;
        });
        const name = `shard_${group[0]}-${group[group.length - 1]}`;
        writeEpisodeShard(join(out, name), worlds, eo);
        episodes += worlds.reduce((a, w) => a + w.episodes.length, 0);
        keyframes += worlds.reduce((a, w) => a + w.poolSize, 0);
        const el = (Date.now() - t0) / 1000;
        process.stdout.write(`${name}: ${episodes} episodes, ${keyframes} keyframes so far (${el.toFixed(0)} s, ${((el * 1000) / Math.max(1, episodes)).toFixed(1)} ms/episode)\n`);
      }
      process.stdout.write(`wrote ${episodes} episodes (${drawsPerEpisode(eo)} context draws each) and ${keyframes} keyframes from ${seeds.length} worlds to ${out} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
      return 0;
    }
    writeFileSync(join(out, 'meta.json'), JSON.stringify(datasetMeta(opts, seeds), null, 2) + '\n');
    const t0 = Date.now();
    let total = 0;
    for (let s0 = 0; s0 < seeds.length; s0 += shardWorlds) {
      const group = seeds.slice(s0, s0 + shardWorlds);
      const clips = group.flatMap((s) => {
        const c = buildClips(s, opts);
        progress.tick(`seed ${s}: ${c.length} clips`);
        return c;
      });
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
