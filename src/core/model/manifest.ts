/**
 * The model contract: `models/<name>/manifest.json`. The runtime reads nothing else, so a larger
 * model drops in with a new manifest. Pure parsing/validation: every error names the manifest
 * (`source`) and the field, and quotes the bad value.
 */
import { ModelLoadError } from '../errors.js';
import type { PinholeCamera } from '../camera.js';
import type { ModelSpec } from '../sampler/model.js';

export interface TensorSpec {
  name: string;
  type: 'float32' | 'int64';
  /** Dimensions: numbers are fixed, strings are symbolic (e.g. "batch"). */
  shape: (number | string)[];
}

export interface ModelFileSpec {
  path: string;
  sha256: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

export interface SamplerDefaults {
  steps: number;
  shift: number;
  guidance_scale: number;
  candidates: number;
  /** Guidance only at the steps whose time t ≥ this, in [0, 1] (imagine's guidanceMinT); absent: every step. */
  guidance_min_t?: number;
}

export interface ModelManifest {
  name: string;
  format_version: number;
  frame: { width: number; height: number; channels: number };
  camera: { width: number; height: number; fx: number; fy: number; cx: number; cy: number; height_m: number; pitch_rad: number };
  /** Seconds per unit of the model's time index. */
  frame_dt_s: number;
  context_frames: number;
  target_frames: number;
  latent: { channels: number; height: number; width: number };
  vocabulary: string[];
  box_color: [number, number, number];
  sampler: SamplerDefaults;
  files: { encoder: ModelFileSpec; decoder: ModelFileSpec; denoiser: ModelFileSpec; grounder?: ModelFileSpec };
  /** The grounder (files.grounder): present together with it. */
  grounding?: GroundingSpec;
  golden?: string;
  golden_sha256?: string;
  training?: Record<string, unknown>;
  evaluation?: Record<string, unknown>;
}

/**
 * How to read the grounder's output: a probability per token of a `token_grid`×`token_grid` layout
 * over the frame (row-major y, x); a keyframe shows the named object when a token reaches
 * `threshold`. `golden` (optional): input/output vectors of the exported graph.
 */
export interface GroundingSpec {
  token_grid: number;
  threshold: number;
  golden?: string;
  golden_sha256?: string;
  held_out?: Record<string, unknown>;
}

type Obj = Record<string, unknown>;

function fail(source: string, field: string, msg: string): never {
  throw new ModelLoadError(`${source}: ${field} ${msg}`, 'bad_manifest');
}

function obj(v: unknown, source: string, field: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(source, field, `must be an object, got ${JSON.stringify(v)}`);
  return v as Obj;
}

function num(o: Obj, key: string, source: string, prefix: string, check: (n: number) => boolean = Number.isFinite, what = 'a finite number'): number {
  const v = o[key];
  if (typeof v !== 'number' || !check(v)) fail(source, `${prefix}${key}`, `must be ${what}, got ${JSON.stringify(v)}`);
  return v;
}

const posInt = (n: number) => Number.isInteger(n) && n > 0;

function str(o: Obj, key: string, source: string, prefix: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0) fail(source, `${prefix}${key}`, `must be a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

function tensors(v: unknown, source: string, field: string): TensorSpec[] {
  if (!Array.isArray(v) || v.length === 0) fail(source, field, `must be a non-empty array, got ${JSON.stringify(v)}`);
  return v.map((t, i) => {
    const o = obj(t, source, `${field}[${i}]`);
    const name = str(o, 'name', source, `${field}[${i}].`);
    const type = o['type'];
    if (type !== 'float32' && type !== 'int64') fail(source, `${field}[${i}].type`, `must be "float32" or "int64", got ${JSON.stringify(type)}`);
    const shape = o['shape'];
    if (!Array.isArray(shape) || !shape.every((d) => (typeof d === 'number' && posInt(d)) || (typeof d === 'string' && d.length > 0))) {
      fail(source, `${field}[${i}].shape`, `must be an array of positive integers or names, got ${JSON.stringify(shape)}`);
    }
    return { name, type, shape: shape as (number | string)[] };
  });
}

function fileSpec(v: unknown, source: string, key: string): ModelFileSpec {
  const o = obj(v, source, `files.${key}`);
  const path = str(o, 'path', source, `files.${key}.`);
  if (path.includes('..') || path.startsWith('/')) fail(source, `files.${key}.path`, `must be a relative path inside the model directory, got ${JSON.stringify(path)}`);
  const sha = o['sha256'];
  if (typeof sha !== 'string' || !/^[0-9a-f]{64}$/.test(sha)) fail(source, `files.${key}.sha256`, `must be 64 lowercase hex digits, got ${JSON.stringify(sha)}`);
  return { path, sha256: sha, inputs: tensors(o['inputs'], source, `files.${key}.inputs`), outputs: tensors(o['outputs'], source, `files.${key}.outputs`) };
}

/** The tensor names the runtime feeds and reads, per graph. */
export const REQUIRED_TENSORS = {
  encoder: { inputs: ['frames'], outputs: ['latents'] },
  decoder: { inputs: ['latents'], outputs: ['frames'] },
  denoiser: { inputs: ['latents', 't', 'index', 'object'], outputs: ['velocity'] },
  grounder: { inputs: ['latents', 'object'], outputs: ['probability'] },
} as const;

/** Parses and validates a manifest; `source` (a path) is quoted in every error. */
export function parseManifest(json: unknown, source: string): ModelManifest {
  const m = obj(json, source, '(root)');
  const name = str(m, 'name', source, '');
  const fv = num(m, 'format_version', source, '', (n) => n === 1, 'format version 1');
  const frameO = obj(m['frame'], source, 'frame');
  const frame = {
    width: num(frameO, 'width', source, 'frame.', posInt, 'a positive integer'),
    height: num(frameO, 'height', source, 'frame.', posInt, 'a positive integer'),
    channels: num(frameO, 'channels', source, 'frame.', (n) => n === 3, '3'),
  };
  const camO = obj(m['camera'], source, 'camera');
  const pos = (n: number) => Number.isFinite(n) && n > 0;
  const camera = {
    width: num(camO, 'width', source, 'camera.', posInt, 'a positive integer'),
    height: num(camO, 'height', source, 'camera.', posInt, 'a positive integer'),
    fx: num(camO, 'fx', source, 'camera.', pos, 'a positive number'),
    fy: num(camO, 'fy', source, 'camera.', pos, 'a positive number'),
    cx: num(camO, 'cx', source, 'camera.'),
    cy: num(camO, 'cy', source, 'camera.'),
    height_m: num(camO, 'height_m', source, 'camera.', pos, 'a positive number'),
    pitch_rad: num(camO, 'pitch_rad', source, 'camera.', (n) => Number.isFinite(n) && Math.abs(n) < Math.PI / 2, 'in (−π/2, π/2)'),
  };
  if (camera.width !== frame.width || camera.height !== frame.height) {
    fail(source, 'camera', `size ${camera.width}x${camera.height} differs from frame size ${frame.width}x${frame.height}`);
  }
  const latO = obj(m['latent'], source, 'latent');
  const latent = {
    channels: num(latO, 'channels', source, 'latent.', posInt, 'a positive integer'),
    height: num(latO, 'height', source, 'latent.', posInt, 'a positive integer'),
    width: num(latO, 'width', source, 'latent.', posInt, 'a positive integer'),
  };
  const vocab = m['vocabulary'];
  if (!Array.isArray(vocab) || vocab.length < 2 || !vocab.every((v) => typeof v === 'string' && v.length > 0)) {
    fail(source, 'vocabulary', `must list the null class and at least one object name, got ${JSON.stringify(vocab)}`);
  }
  if (new Set(vocab).size !== vocab.length) fail(source, 'vocabulary', `has duplicate names: ${JSON.stringify(vocab)}`);
  const box = m['box_color'];
  if (!Array.isArray(box) || box.length !== 3 || !box.every((c) => Number.isInteger(c) && c >= 0 && c <= 255)) {
    fail(source, 'box_color', `must be [r, g, b] with integers 0..255, got ${JSON.stringify(box)}`);
  }
  const sO = obj(m['sampler'], source, 'sampler');
  const sampler = {
    steps: num(sO, 'steps', source, 'sampler.', posInt, 'a positive integer'),
    shift: num(sO, 'shift', source, 'sampler.', pos, 'a positive number'),
    guidance_scale: num(sO, 'guidance_scale', source, 'sampler.', (n) => Number.isFinite(n) && n >= 0, 'a number >= 0'),
    candidates: num(sO, 'candidates', source, 'sampler.', posInt, 'a positive integer'),
    ...(sO['guidance_min_t'] !== undefined ? { guidance_min_t: num(sO, 'guidance_min_t', source, 'sampler.', (n) => n >= 0 && n <= 1, 'a number in [0, 1]') } : {}),
  };
  const fO = obj(m['files'], source, 'files');
  const files: ModelManifest['files'] = { encoder: fileSpec(fO['encoder'], source, 'encoder'), decoder: fileSpec(fO['decoder'], source, 'decoder'), denoiser: fileSpec(fO['denoiser'], source, 'denoiser') };
  if (fO['grounder'] !== undefined) files.grounder = fileSpec(fO['grounder'], source, 'grounder');
  for (const key of ['encoder', 'decoder', 'denoiser', 'grounder'] as const) {
    const f = files[key];
    if (!f) continue;
    const req = REQUIRED_TENSORS[key];
    for (const n of req.inputs) if (!f.inputs.some((t) => t.name === n)) fail(source, `files.${key}.inputs`, `lacks the tensor "${n}" (has ${f.inputs.map((t) => t.name).join(', ')})`);
    for (const n of req.outputs) if (!f.outputs.some((t) => t.name === n)) fail(source, `files.${key}.outputs`, `lacks the tensor "${n}" (has ${f.outputs.map((t) => t.name).join(', ')})`);
  }
  let grounding: GroundingSpec | undefined;
  if (files.grounder) {
    const gO = obj(m['grounding'], source, 'grounding');
    grounding = {
      token_grid: num(gO, 'token_grid', source, 'grounding.', posInt, 'a positive integer'),
      threshold: num(gO, 'threshold', source, 'grounding.', (n) => n > 0 && n < 1, 'a probability in (0, 1)'),
    };
    if (typeof gO['golden'] === 'string') grounding.golden = gO['golden'];
    if (typeof gO['golden_sha256'] === 'string') grounding.golden_sha256 = gO['golden_sha256'];
    if (typeof gO['held_out'] === 'object' && gO['held_out'] !== null) grounding.held_out = gO['held_out'] as Obj;
  } else if (m['grounding'] !== undefined) fail(source, 'grounding', 'is given without files.grounder');
  const out: ModelManifest = {
    name,
    format_version: fv,
    frame,
    camera,
    frame_dt_s: num(m, 'frame_dt_s', source, '', pos, 'a positive number'),
    context_frames: num(m, 'context_frames', source, '', posInt, 'a positive integer'),
    target_frames: num(m, 'target_frames', source, '', posInt, 'a positive integer'),
    latent,
    vocabulary: vocab as string[],
    box_color: box as [number, number, number],
    sampler,
    files,
    ...(grounding ? { grounding } : {}),
  };
  if (typeof m['golden'] === 'string') out.golden = m['golden'];
  if (typeof m['golden_sha256'] === 'string') out.golden_sha256 = m['golden_sha256'];
  if (typeof m['training'] === 'object' && m['training'] !== null) out.training = m['training'] as Obj;
  if (typeof m['evaluation'] === 'object' && m['evaluation'] !== null) out.evaluation = m['evaluation'] as Obj;
  return out;
}

export function specOf(m: ModelManifest): ModelSpec {
  return {
    width: m.frame.width,
    height: m.frame.height,
    latentChannels: m.latent.channels,
    latentHeight: m.latent.height,
    latentWidth: m.latent.width,
    contextFrames: m.context_frames,
    targetFrames: m.target_frames,
    vocabulary: m.vocabulary,
    ...(m.grounding ? { grounding: { grid: m.grounding.token_grid, threshold: m.grounding.threshold } } : {}),
  };
}

export function cameraOf(m: ModelManifest): PinholeCamera {
  const c = m.camera;
  return { width: c.width, height: c.height, fx: c.fx, fy: c.fy, cx: c.cx, cy: c.cy, heightM: c.height_m, pitchRad: c.pitch_rad };
}

/** Vocabulary index of an object name (case-insensitive, trimmed), or −1. Never the null class. */
export function objectIndex(m: { vocabulary: readonly string[] }, name: string): number {
  const n = name.trim().toLowerCase();
  if (n.length === 0) return -1;
  const i = m.vocabulary.findIndex((v, k) => k > 0 && v.toLowerCase() === n);
  return i;
}
