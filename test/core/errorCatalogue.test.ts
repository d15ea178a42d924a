/**
 * Every error the node can raise has a test that raises it (issue 8).
 *
 * The source of the node's process (src/core, src/vision, src/model, src/ros, src/planner) is scanned for
 * `new XxxError(…, 'code')` (and the class default when no code is given); every code found must
 * be in CATALOGUE below, with either a function that raises it HERE through the real code path
 * (the test checks the class and the code), the test file elsewhere that raises and asserts it
 * (the file must name the code), or the reason it cannot be raised in a test. A new code
 * without an entry fails this test. The node's own goal outcomes (rejection and abort codes of
 * Video4SpatialNode) are checked the same way against the tests that produce them.
 * src/bag (bag tooling, tested in test/bag/) and src/cli, src/sim are outside the node.
 */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { computeFitPlan, intrinsicsFromCameraInfo, intrinsicsFromHfov, validateModelCamera } from '../../src/core/context/cameraFit.js';
import { ContextBuffer } from '../../src/core/context/ContextBuffer.js';
import { dropOldestQueue, IngestPipeline } from '../../src/core/context/IngestPipeline.js';
import { KeyframeGate, thumbnailDifference } from '../../src/core/context/keyframeGate.js';
import { cameraOf, parseManifest } from '../../src/core/model/manifest.js';
import { checkRgbImage, sd } from '../../src/core/path/box.js';
import { chooseCandidate } from '../../src/core/path/score.js';
import { planToObject } from '../../src/core/planner/planToObject.js';
import { imagine } from '../../src/core/sampler/imagine.js';
import type { ImaginationModel } from '../../src/core/sampler/model.js';
import { OdometryPoseSource } from '../../src/core/tf/OdometryPoseSource.js';
import { NullPoseSource, TfBuffer, TfPoseSource, type TransformStampedLike } from '../../src/core/tf/TfBuffer.js';
import { TransformSeries } from '../../src/core/tf/TransformSeries.js';
import { defaultModelDir, OnnxImaginationModel } from '../../src/model/OnnxImaginationModel.js';
import { secondsToNs, SimClock, nextTimerDue } from '../../src/ros/clock.js';
import { checkNodeName, resolveQos, uuidToHex } from '../../src/ros/Graph.js';
import { InProcessBus, InProcessParameters } from '../../src/ros/InProcessGraph.js';
import { CameraIngest } from '../../src/ros/ingestPipeline.js';
import { decodeMessage, encodeMessage, knownTypes, splitActionText, timeFromNs, type RosDistro } from '../../src/ros/messages/index.js';
import { parseParamsFile } from '../../src/ros/parameters.js';
import { fitToModel } from '../../src/vision/FrameIngestor.js';
import { checkDimensions, probeCompressed, rawLayout } from '../../src/vision/imageFormat.js';
import { requireOpenCv } from '../../src/vision/opencv.js';
import { MANIFEST, SPEC } from '../ros/harness.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SCOPE = ['src/core', 'src/vision', 'src/model', 'src/ros', 'src/planner'];
/** Codes of the error classes when none is given. */
const DEFAULT_CODES: Record<string, string> = {
  Video4SpatialError: '(none)',
  BadFrameError: 'bad_frame',
  TransformError: 'transform',
  ModelLoadError: 'model_load',
  InferenceError: 'inference',
  NoValidPathError: 'no_valid_path',
  ParameterError: 'parameter',
  MessageError: 'message',
  BagFormatError: 'bag_format',
  CancelledError: 'cancelled',
  OpenCvUnavailableError: 'opencv_unavailable',
};
/** Sites whose code is computed; each can only give the codes listed (all in CATALOGUE). */
const DYNAMIC_SITES: Record<string, string[]> = {
  'src/core/tf/TfBuffer.ts': ['too_old', 'too_new', 'no_data'],
  'src/vision/FrameIngestor.ts': ['corrupt_jpeg', 'corrupt_png'],
  'src/vision/imageFormat.ts': ['unknown_encoding', 'corrupt_jpeg', 'corrupt_png'],
  // rebuilds a worker's error with its code: what extractCandidate and the worker raise
  'src/planner/ExtractionPool.ts': ['bad_frame', 'parameter', 'extraction_worker'],
};

function sources(dir: string, out: string[] = []): string[] {
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** `new XError(args)` sites: class, code (literal, class default, or undefined when computed), file. */
export function scanErrorCodes(root: string, dirs: readonly string[]): { cls: string; code: string | undefined; file: string }[] {
  const out: { cls: string; code: string | undefined; file: string }[] = [];
  for (const file of dirs.flatMap((d) => sources(join(root, d)))) {
    const s = readFileSync(file, 'utf8');
    const re = /new (\w+Error)\(/g;
    for (let m = re.exec(s); m !== null; m = re.exec(s)) {
      const cls = m[1] as string;
      if (!(cls in DEFAULT_CODES)) continue;
      // split the top-level arguments (strings and template literals skipped)
      let i = m.index + m[0].length;
      let depth = 1;
      let quote: string | undefined;
      let cur = '';
      const args: string[] = [];
      for (; i < s.length && depth > 0; i++) {
        const c = s[i] as string;
        if (quote) {
          cur += c;
          if (c === '\\') cur += s[++i] ?? '';
          else if (c === quote) quote = undefined;
        } else if (c === "'" || c === '"' || c === '`') {
          quote = c;
          cur += c;
        } else if ('([{'.includes(c)) {
          depth++;
          cur += c;
        } else if (')]}'.includes(c)) {
          depth--;
          if (depth > 0) cur += c;
        } else if (c === ',' && depth === 1) {
          args.push(cur);
          cur = '';
        } else cur += c;
      }
      if (cur.trim()) args.push(cur);
      const second = args[1]?.trim();
      const code = second === undefined ? DEFAULT_CODES[cls] : /^'([a-z0-9_]+)'$/.exec(second)?.[1];
      out.push({ cls, code, file: relative(root, file) });
    }
  }
  return out;
}

type Entry = { raise: () => unknown } | { test: string } | { cannot: string };

const model = cameraOf(MANIFEST);
const tf = (parent: string, child: string, sec: number, x = 0, q = { x: 0, y: 0, z: 0, w: 1 }): TransformStampedLike => ({
  header: { stamp: { sec, nanosec: 0 }, frame_id: parent },
  child_frame_id: child,
  transform: { translation: { x, y: 0, z: 0 }, rotation: q },
});
function buffer(n = 0): ContextBuffer {
  const b = new ContextBuffer({ width: 64, height: 64, maxFrames: 16 });
  for (let i = 0; i < n; i++) b.add({ index: i, stampNs: BigInt(i + 1) * 1_000_000_000n, pose: { x: i, y: 0, yaw: 0 }, pixels: new Uint8Array(64 * 64 * 3).fill(i * 40) });
  return b;
}
/** Unit-test doubles: models that misbehave in one way each. */
function modelOf(denoise: (lat: Float32Array) => Float32Array, decodeLen?: number): ImaginationModel {
  return {
    spec: SPEC,
    encode: async (_f, batch) => new Float32Array(batch),
    denoise: async (lat) => denoise(lat),
    decode: async (_l, batch) => new Float32Array(decodeLen ?? batch * 3 * 64 * 64),
  };
}
const imagineWith = (m: ImaginationModel, hooks = {}) =>
  imagine(m, { contexts: [{ latents: new Float32Array(1), indices: [0] }], object: 1, candidates: 1, steps: 2, shift: 1, guidance: 3, seed: 0 }, hooks);
const plan = (b: ContextBuffer, over: Record<string, unknown> = {}) =>
  planToObject({ model: modelOf((l) => new Float32Array(l.length)), modelId: 'm', camera: model, frameDtS: 0.2, buffer: b }, { object: 'chair', candidates: 1, steps: 1, shift: 1, guidance: 1, seed: 0, policy: 'uniform', ...over });
const cameraMessage = (sec: number, nanosec = 0) => ({ header: { stamp: { sec, nanosec }, frame_id: 'cam' }, width: 64, height: 64, encoding: 'rgb8', is_bigendian: 0, step: 192, data: new Uint8Array(64 * 64 * 3) });
/** Pushes camera messages through a pipeline; the rejections it counted. */
async function pipelineRejects(msgs: ReturnType<typeof cameraMessage>[], stampAhead?: { clockNs: () => bigint; maxAheadNs: bigint }): Promise<{ counted: Record<string, number> }> {
  const p = new IngestPipeline<ReturnType<typeof cameraMessage>>({
    processor: { thumbnail: () => ({ side: 1, data: new Uint8Array(1) }), fit: (m) => ({ pixels: m.data }) },
    poseSource: new NullPoseSource(),
    gate: new KeyframeGate({ minTranslationM: 0, minIntervalS: 0 }),
    buffer: buffer(),
    ...(stampAhead ? { stampAhead } : {}),
  });
  for (const m of msgs) p.push(m);
  await p.idle();
  return { counted: p.counters.rejectedByReason };
}
async function withTmp<T>(f: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'v4s-catalogue-'));
  try {
    return await f(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
/** A copy of the shipped model directory whose graphs `files` (name → path) replace shipped ones, sha256 updated. */
const modelCopyWith = (dir: string, files: Record<string, string>) => {
  const src = defaultModelDir();
  const m = JSON.parse(readFileSync(join(src, 'manifest.json'), 'utf8'));
  for (const f of ['encoder.onnx', 'denoiser.onnx', 'decoder.onnx', 'grounder.onnx']) {
    const from = files[f];
    if (from === undefined) symlinkSync(join(src, f), join(dir, f));
    else {
      copyFileSync(from, join(dir, f));
      const key = f.replace('.onnx', '');
      m.files[key].sha256 = createHash('sha256').update(readFileSync(from)).digest('hex');
    }
  }
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
  return dir;
};
/** A copy of the shipped model directory (graphs linked), after `edit` of its manifest. */
const modelCopy = (dir: string, edit: (m: Record<string, any>) => void = () => {}) => {
  const src = defaultModelDir();
  const m = JSON.parse(readFileSync(join(src, 'manifest.json'), 'utf8'));
  edit(m);
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
  for (const f of ['encoder.onnx', 'denoiser.onnx', 'decoder.onnx', 'grounder.onnx']) symlinkSync(join(src, f), join(dir, f));
  return dir;
};
const bus = () => new InProcessBus({ clock: new SimClock(1n), logger: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} } });

/** code → how a test raises it. */
const CATALOGUE: Record<string, Entry> = {
  // ── BadFrameError: camera frames, CameraInfo, the context buffer ──
  bad_frame: { raise: () => checkRgbImage(new Uint8Array(5), 2, 2, 'box detector') },
  bad_camera_info: { raise: () => intrinsicsFromCameraInfo({ width: 64, height: 48, k: [0, 0, 32, 0, 0, 24, 0, 0, 1] }, 64, 48) },
  bad_dimensions: { raise: () => checkDimensions(1.5, 2, 'image', '/camera') },
  bad_intrinsics: { raise: () => computeFitPlan({ width: 10, height: 10, fx: 0, fy: 0, cx: 5, cy: 5 }, model) },
  bad_pose: { raise: () => buffer().add({ index: 0, stampNs: 1n, pose: { x: Number.NaN, y: 0, yaw: 0 }, pixels: new Uint8Array(64 * 64 * 3) }) },
  bad_stamp: { raise: () => pipelineRejects([cameraMessage(1, 2_000_000_000)]) },
  future_stamp: { raise: () => pipelineRejects([cameraMessage(100)], { clockNs: () => 1_000_000_000n, maxAheadNs: 1_000_000_000n }) },
  corrupt_jpeg: { raise: () => probeCompressed({ format: 'jpeg', data: new Uint8Array([0xff, 0xd8, 0x00, 0x01, 0x02, 0xff, 0xd9]) }) },
  corrupt_png: { raise: () => probeCompressed({ format: 'png', data: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x4a, 0x48, 0x44, 0x52, ...new Array(30).fill(0)]) }) },
  intrinsics_mismatch: { raise: () => fitToModel({ width: 4, height: 4, data: new Uint8Array(48) }, { width: 8, height: 8, fx: 4, fy: 4, cx: 4, cy: 4 }, model) },
  out_of_order: { raise: () => buffer(2).add({ index: 0, stampNs: 1n, pose: { x: 0, y: 0, yaw: 0 }, pixels: new Uint8Array(64 * 64 * 3) }) },
  step_too_small: { raise: () => rawLayout({ width: 4, height: 2, encoding: 'rgb8', is_bigendian: 0, step: 11, data: new Uint8Array(24) }) },
  too_large: { raise: () => checkDimensions(20000, 20000, 'image', '/camera') },
  truncated: { raise: () => rawLayout({ width: 4, height: 2, encoding: 'rgb8', is_bigendian: 0, step: 12, data: new Uint8Array(20) }) },
  unknown_encoding: { raise: () => rawLayout({ width: 4, height: 2, encoding: 'rgb9', is_bigendian: 0, step: 12, data: new Uint8Array(24) }) },
  unsupported_encoding: { raise: () => rawLayout({ width: 4, height: 2, encoding: '16UC1', is_bigendian: 0, step: 8, data: new Uint8Array(16) }) },
  wrong_size: { raise: () => buffer().add({ index: 0, stampNs: 1n, pose: { x: 0, y: 0, yaw: 0 }, pixels: new Uint8Array(7) }) },
  zero_size: { raise: () => checkDimensions(0, 5, 'image', '/camera') },
  // ── CancelledError ──
  cancelled: { raise: () => imagineWith(modelOf((l) => new Float32Array(l.length)), { isCancelled: () => true }) },
  // ── InferenceError: the model at run time ──
  bad_output: {
    // test/fixtures/encoder_double_output.onnx: the encoder's names, its output cast to float64
    raise: () =>
      withTmp(async (dir) => {
        const m = await OnnxImaginationModel.load(modelCopyWith(dir, { 'encoder.onnx': join(ROOT, 'test', 'fixtures', 'encoder_double_output.onnx') }), { intraOpThreads: 1 });
        try {
          return await m.encode(new Float32Array(3 * 64 * 64), 1);
        } finally {
          await m.dispose();
        }
      }),
  },
  bad_output_shape: { raise: () => imagineWith(modelOf((l) => new Float32Array(l.length + 1))) },
  non_finite_output: { raise: () => imagineWith(modelOf((l) => new Float32Array(l.length).fill(Number.NaN))) },
  session_run: {
    raise: async () => {
      const m = await OnnxImaginationModel.load(defaultModelDir(), { intraOpThreads: 1 });
      const L = m.spec.latentChannels * m.spec.latentHeight * m.spec.latentWidth;
      try {
        // an object index outside the vocabulary: the graph's embedding lookup fails in ONNX Runtime
        return await m.denoise(new Float32Array(3 * L), new Float32Array(3), new Float32Array(3), new BigInt64Array([99n]), 1, 3);
      } finally {
        await m.dispose();
      }
    },
  },
  // ── MessageError: the graph and CDR ──
  action_client_destroyed: {
    raise: () => {
      const c = bus().node({ name: 'n' }).createActionClient('/a', 'video4spatial_nav/action/NavigateToObject');
      c.destroy();
      return c.sendGoal({});
    },
  },
  action_server_exists: {
    raise: () => {
      const n = bus().node({ name: 'n' });
      n.createActionServer('/a', 'video4spatial_nav/action/NavigateToObject', { execute: async () => {} });
      n.createActionServer('/a', 'video4spatial_nav/action/NavigateToObject', { execute: async () => {} });
    },
  },
  goal_terminal: {
    raise: async () => {
      const b = bus();
      const n = b.node({ name: 'n' });
      let err: unknown;
      n.createActionServer<unknown, Record<string, never>, Record<string, never>>('/a', 'video4spatial_nav/action/NavigateToObject', {
        execute: async (h) => {
          h.succeed({});
          try {
            h.publishFeedback({});
          } catch (e) {
            err = e;
          }
        },
      });
      const h = await n.createActionClient('/a', 'video4spatial_nav/action/NavigateToObject').sendGoal({ object_name: 'chair' });
      await h.result;
      throw err;
    },
  },
  message_decode: { raise: () => decodeMessage('std_msgs/msg/String', new Uint8Array([1, 2])) },
  message_definition: { raise: () => splitActionText('pkg/action/X', 'string a\n') },
  message_distro: { raise: () => knownTypes('foxy' as RosDistro) },
  message_invalid: { raise: () => encodeMessage('std_msgs/msg/String', { data: 5 }) },
  message_time: { raise: () => timeFromNs(1n << 80n) },
  message_unknown_type: { raise: () => encodeMessage('nope/msg/Nothing', {}) },
  publisher_destroyed: {
    raise: () => {
      const p = bus().node({ name: 'n' }).createPublisher('/t', 'std_msgs/msg/String', 'default');
      p.destroy();
      p.publish({ data: 'x' });
    },
  },
  topic_type: {
    raise: () => {
      const n = bus().node({ name: 'n' });
      n.createPublisher('/t', 'std_msgs/msg/String', 'default');
      n.createPublisher('/t', 'nav_msgs/msg/Path', 'default');
    },
  },
  // ── ModelLoadError: start-up ──
  bad_manifest: { raise: () => parseManifest({ name: 'x' }, 'x/manifest.json') },
  bad_option: { raise: () => OnnxImaginationModel.load(defaultModelDir(), { executionProvider: 'tpu' as never }) },
  file_missing: { test: 'test/cli/fuzz.test.ts' },
  manifest_missing: { test: 'test/cli/fuzz.test.ts' },
  sha_mismatch: { test: 'test/cli/fuzz.test.ts' },
  session_create: { test: 'test/model/OnnxImaginationModel.test.ts' },
  // bench's peak: the MatMul graph's product checked before it is timed
  matmul_check: { test: 'test/model/matmulGraph.test.ts' },
  tensor_mismatch: {
    raise: () =>
      withTmp((dir) => OnnxImaginationModel.load(modelCopy(dir, (m) => m.files.decoder.outputs.push({ name: 'depth', type: 'float32', shape: ['batch', 1, 64, 64] })), { verifySha256: true, intraOpThreads: 1 })),
  },
  // ── NoValidPathError ──
  no_valid_path: { raise: () => chooseCandidate([]) },
  // ── OpenCvUnavailableError (not a Video4SpatialError: the optional binding is missing) ──
  opencv_unavailable: { raise: () => requireOpenCv('@u4/no-such-opencv-binding') },
  // ── ParameterError: parameters, arguments, configuration ──
  parameter: { raise: () => sd({ cx: 1 }, 0) },
  action_server: { raise: () => bus().node({ name: 'n' }).createActionServer('/a', 'video4spatial_nav/action/NavigateToObject', { execute: 5 as never }) },
  bad_fov: { raise: () => intrinsicsFromHfov(64, 64, 0) },
  bad_model_camera: { raise: () => validateModelCamera({ ...model, width: 0 }) },
  // path extraction in worker threads: a worker that dies, cannot load, or an extractor that loses candidates
  extraction_worker: { test: 'test/planner/extractionPool.test.ts' },
  buffer_race: {
    raise: () => {
      class Forgetful extends ContextBuffer {
        override getLatent(): Float32Array | undefined {
          return undefined; // every latent is evicted between encoding and sampling
        }
      }
      const b = new Forgetful({ width: 64, height: 64, maxFrames: 16 });
      b.add({ index: 0, stampNs: 1n, pose: { x: 0, y: 0, yaw: 0 }, pixels: new Uint8Array(64 * 64 * 3) });
      return plan(b);
    },
  },
  clock: { raise: () => new SimClock(-1n) },
  context_buffer: { raise: () => new ContextBuffer({ width: 0, height: 1 }) },
  context_frames: { raise: () => plan(buffer(2), { contextFrames: -1 }) },
  name_evidence: { raise: () => plan(buffer(2), { nameEvidence: { tLevels: [0.5], weight: 1.5 } }) },
  context_heading_weight: { raise: () => buffer(4).sample(2, 'pose_diverse', { headingWeightM: Number.NaN }) },
  context_k: { raise: () => buffer(2).sample(0, 'uniform') },
  context_include: { raise: () => buffer(2).sample(1, 'uniform', { include: [12345] }) },
  // the grounder (src/core/planner/grounding.ts): its closed-form double lives in that test file
  no_grounder: { test: 'test/core/planner/grounding.test.ts' },
  grounder_output: { test: 'test/core/planner/grounding.test.ts' },
  context_policy: { raise: () => buffer(2).sample(1, 'nope' as never) },
  context_recency_tau: { raise: () => buffer(4).sample(2, 'recency', { recencyTauS: 0 }) },
  duration: { raise: () => secondsToNs(Number.NaN) },
  ingest_parameter: { raise: () => new CameraIngest(model, { tfCacheS: 0 }) },
  keyframe_gate: { raise: () => new KeyframeGate({ minTranslationM: -1 }) },
  name: { raise: () => checkNodeName('1node') },
  no_context: { raise: () => plan(buffer()) },
  parameter_declared: {
    raise: () => {
      const p = new InProcessParameters();
      p.declare({ name: 'a', kind: 'bool', default: true, description: '', readOnly: false, constraints: '' });
      p.declare({ name: 'a', kind: 'bool', default: true, description: '', readOnly: false, constraints: '' });
    },
  },
  parameter_undeclared: { raise: () => new InProcessParameters().get('nope') },
  params_file: { raise: () => parseParamsFile('a: [1,', 'n') },
  qos: { raise: () => resolveQos({ history: 'keep_last', depth: 0, reliability: 'reliable', durability: 'volatile' }) },
  queue_capacity: { raise: () => dropOldestQueue(0, () => undefined, () => {}, () => {}) },
  tf_cache_duration: { raise: () => new TfBuffer({ cacheDurationNs: 0n }) },
  tf_frames: { raise: () => new TfPoseSource(new TfBuffer(), [], []) },
  tf_future_tolerance: { raise: () => new TfBuffer({ futureToleranceNs: -1n }) },
  thumbnail_size: { raise: () => thumbnailDifference({ side: 2, data: new Uint8Array(4) }, { side: 3, data: new Uint8Array(9) }) },
  timer: { raise: () => nextTimerDue(0n, 0n, 1n) },
  unknown_object: { raise: () => plan(buffer(2), { object: 'unicorn' }) },
  uuid: { raise: () => uuidToHex([1, 2]) },
  // ── TransformError: /tf, odometry ──
  chain_broken: {
    raise: () => {
      const b = new TfBuffer();
      b.setTransform(tf('map', 'odom', 1), false);
      b.setTransform(tf('world', 'base_link', 1), false);
      return b.lookupTransform('map', 'base_link', 1_000_000_000n);
    },
  },
  frame_changed: {
    raise: () => {
      const o = new OdometryPoseSource();
      const odom = (frame: string) => ({ header: { stamp: { sec: 1, nanosec: 0 }, frame_id: frame }, child_frame_id: 'base_link', pose: { pose: { position: { x: 0, y: 0, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } } } });
      o.addOdometry(odom('odom'));
      o.addOdometry(odom('map'));
    },
  },
  frame_unknown: { raise: () => new TfBuffer().lookupTransform('map', 'base_link') },
  invalid_transform: { raise: () => new TfBuffer().setTransform(tf('map', 'odom', 1, Number.NaN), false) },
  loop: {
    raise: () => {
      const b = new TfBuffer();
      b.setTransform(tf('a', 'b', 1), false);
      b.setTransform(tf('b', 'a', 1), false);
    },
  },
  no_data: { raise: () => new TransformSeries('map → odom').sample(1n, 0n, 1n) },
  parent_conflict: {
    raise: () => {
      const b = new TfBuffer();
      b.setTransform(tf('odom', 'base_link', 1), false);
      b.setTransform(tf('map', 'base_link', 2), false);
    },
  },
  too_new: {
    raise: () => {
      const s = new TransformSeries('odom → base_link');
      s.insert(1n, { translation: { x: 0, y: 0, z: 0 }, rotation: { x: 0, y: 0, z: 0, w: 1 } }, 10n ** 10n);
      return s.sample(10n ** 9n, 0n, 10n ** 10n);
    },
  },
  too_old: {
    raise: () => {
      const s = new TransformSeries('odom → base_link');
      s.insert(10n ** 9n, { translation: { x: 0, y: 0, z: 0 }, rotation: { x: 0, y: 0, z: 0, w: 1 } }, 10n ** 10n);
      return s.sample(1n, 0n, 10n ** 10n);
    },
  },
  // ── Video4SpatialError: the node ──
  nav2_absent: { test: 'test/ros/faults.test.ts' },
  nav2_rejected: { test: 'test/ros/faults.test.ts' },
  unsafe_path: { test: 'test/ros/outputSafety.test.ts' },
};

/** TransformError 'future_stamp' from /tf is counted by CameraIngest (the BadFrameError one above by the pipeline). */
function tfFutureStamp(): { counted: Record<string, number> } {
  const ingest = new CameraIngest(model, { maxStampAheadS: 1 }, { warn: () => {} }, () => 1_000_000_000n);
  ingest.handleTf({ transforms: [tf('odom', 'base_link', 100)] }, false);
  return { counted: ingest.poseInputErrors };
}

/** Goal outcomes of Video4SpatialNode (rejections, aborts) and the tests that produce each. */
const NODE_OUTCOMES: Record<string, string> = {
  empty_object_name: 'test/ros/faults.test.ts',
  unknown_object: 'test/ros/faults.test.ts',
  bad_time_budget: 'test/ros/faults.test.ts',
  no_context: 'test/ros/faults.test.ts',
  camera_stale: 'test/ros/faults.test.ts',
  time_budget: 'test/ros/faults.test.ts',
  plans_exhausted: 'test/ros/faults.test.ts',
  not_seen: 'test/ros/grounding.test.ts',
  nav2_aborted: 'test/ros/faults.test.ts',
};

async function raisedCode(f: () => unknown): Promise<{ code: string | undefined; cls: string; message: string }> {
  try {
    const r = await f();
    const counted = (r as { counted?: Record<string, number> } | undefined)?.counted;
    if (counted) return { code: Object.keys(counted).find((k) => (counted[k] ?? 0) > 0), cls: 'counted', message: JSON.stringify(counted) };
    return { code: undefined, cls: 'none', message: 'nothing was raised' };
  } catch (e) {
    return { code: (e as { code?: string }).code, cls: (e as Error).constructor.name, message: (e as Error).message };
  }
}

describe('core/errors catalogue: every error the node can raise has a test that raises it', function () {
  this.timeout(60000);
  const sites = scanErrorCodes(ROOT, SCOPE);

  it('the scan finds the error sites, and every computed code site is known', () => {
    assert.ok(sites.length > 150, `${sites.length} sites`);
    const dynamic = [...new Set(sites.filter((s) => s.code === undefined).map((s) => s.file))].sort();
    assert.deepEqual(dynamic, Object.keys(DYNAMIC_SITES).sort(), 'a new site computes its code: add it to DYNAMIC_SITES with the codes it can give');
  });

  it('every code in the node\'s source has a catalogue entry, and every entry is still raised somewhere', () => {
    const found = new Set(sites.map((s) => s.code).filter((c): c is string => c !== undefined && c !== '(none)'));
    for (const codes of Object.values(DYNAMIC_SITES)) for (const c of codes) found.add(c);
    const missing = [...found].filter((c) => !(c in CATALOGUE)).sort();
    assert.deepEqual(missing, [], 'codes without a catalogue entry');
    const stale = Object.keys(CATALOGUE).filter((c) => !found.has(c)).sort();
    assert.deepEqual(stale, [], 'catalogue entries no source raises any more');
  });

  it('raises each code here through the real code path (class and code checked)', async () => {
    const wrong: string[] = [];
    for (const [code, entry] of Object.entries(CATALOGUE)) {
      if (!('raise' in entry)) continue;
      const got = await raisedCode(entry.raise);
      const classes = new Set(sites.filter((s) => s.code === code).map((s) => s.cls));
      const clsOk = got.cls === 'counted' || classes.has(got.cls);
      if (got.code !== code || !clsOk) wrong.push(`${code}: got ${got.cls} '${got.code}' (${got.message.slice(0, 120)})`);
    }
    const tf = await raisedCode(tfFutureStamp);
    if (tf.code !== 'future_stamp') wrong.push(`future_stamp (/tf): got ${tf.message}`);
    assert.deepEqual(wrong, []);
  });

  it('the other tests that raise a code name it; the codes no test can raise say why', () => {
    for (const [code, entry] of Object.entries(CATALOGUE)) {
      if ('test' in entry) assert.ok(readFileSync(join(ROOT, entry.test), 'utf8').includes(`'${code}'`), `${entry.test} names '${code}'`);
      if ('cannot' in entry) assert.ok(entry.cannot.length > 40, `${code}: a reason`);
    }
    const cannot = Object.entries(CATALOGUE).filter(([, e]) => 'cannot' in e).map(([c]) => c);
    assert.deepEqual(cannot.sort(), []);
  });

  it('every goal outcome code of the node (rejections, aborts) is produced by a test that names it', () => {
    const node = readFileSync(join(ROOT, 'src/ros/Video4SpatialNode.ts'), 'utf8');
    const codes = new Set([...node.matchAll(/\b(?:reject|abort)\('([a-z0-9_]+)'/g)].map((m) => m[1] as string));
    assert.deepEqual([...codes].sort(), Object.keys(NODE_OUTCOMES).sort());
    for (const [code, file] of Object.entries(NODE_OUTCOMES)) assert.ok(readFileSync(join(ROOT, file), 'utf8').includes(`'${code}'`), `${file} names '${code}'`);
  });
});
