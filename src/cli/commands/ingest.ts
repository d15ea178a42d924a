/**
 * `video4spatial-nav ingest --bag FILE [--topic T] [--json FILE] [--manifest FILE]
 *  [--pose auto|tf|odom|none] [--camera-hfov DEG]`
 * FILE: a .mcap file or a rosbag2 directory. --manifest: the model's manifest.json (camera
 * contract; default: the 64×64, 60°, 0.5 m model camera). --camera-hfov: the source camera's
 * horizontal FOV when the bag has no camera_info.
 * "Will my camera work with this node?": runs a rosbag2 MCAP's camera topic (raw or compressed,
 * from the topic type) with its camera_info and /tf, /tf_static (or odometry) through ingest, the
 * keyframe gate and the context buffer, frame by frame without dropping, and prints
 * {received, admitted, rejected_by_reason, skipped_by_reason, dropped, buffer, ms_per_frame}.
 * Every frame gets the cheap checks (encoding, step, data length, size; compressed: format, magic
 * bytes, header) before the gate, so rejected_by_reason counts every broken frame by its code,
 * keyframe or not; the first frame of each code is quoted on stderr.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { type ModelCamera, modelCameraFromFov, DEFAULT_MODEL_HFOV_RAD } from '../../core/context/cameraFit.js';
import type { IngestSummary } from '../../core/context/ingestDiagnostics.js';
import { BagFormatError } from '../../core/errors.js';
import { cameraOf, parseManifest } from '../../core/model/manifest.js';
import {
  CAMERA_INFO_TYPE,
  COMPRESSED_IMAGE_TYPE,
  CameraIngest,
  type CameraIngestParams,
  type CameraMessage,
  IMAGE_TYPE,
  ODOMETRY_TYPE,
  type PoseSourceKind,
  TF_TYPE,
} from '../../ros/ingestPipeline.js';
import type { CameraInfoLike } from '../../core/context/cameraFit.js';
import type { OdometryLike } from '../../core/tf/OdometryPoseSource.js';
import type { TfMessageLike } from '../../core/tf/TfBuffer.js';
import { checkFlags, flagNumber, flagString, parseArgs, UsageError } from '../args.js';
import { booleanFlags, commandHelp, flagNames, type CliCommand } from '../command.js';
import { openBag } from '../../bag/files.js';

/** A topic in a bag, ROS 2 type name with '/msg/'. */
export interface BagTopic {
  name: string;
  type: string;
  count?: number;
}

/** One decoded message from a bag, in log-time order. */
export interface BagRecord {
  topic: string;
  logTimeNs: bigint;
  message: unknown;
}

export interface IngestPlan {
  camera: BagTopic;
  cameraInfoTopic: string | undefined;
  poseSource: PoseSourceKind;
  odomTopic: string | undefined;
  /** Human-readable notes for stderr (what was chosen and why). */
  notes: string[];
}

const CAMERA_TYPES = [IMAGE_TYPE, COMPRESSED_IMAGE_TYPE];

/** ROS 2 type names with or without '/msg/' compare equal. */
function sameType(a: string, b: string): boolean {
  const n = (t: string) => t.replace('/msg/', '/');
  return n(a) === n(b);
}

/** The camera_info topic image_transport pairs with a camera topic: `<ns>/camera_info`. */
export function siblingCameraInfo(cameraTopic: string): string {
  const base = cameraTopic.replace(/\/compressed$/, '');
  const cut = base.lastIndexOf('/');
  return `${cut > 0 ? base.slice(0, cut) : ''}/camera_info`;
}

/**
 * Chooses the camera topic (the one asked for, or the only camera topic), its camera_info, and
 * the pose source (/tf if recorded, else a single odometry topic, else none). Throws UsageError
 * listing the candidates when the choice is not clear.
 */
export function planIngest(topics: readonly BagTopic[], requested?: string, pose: PoseSourceKind | 'auto' = 'auto'): IngestPlan {
  const cams = topics.filter((t) => CAMERA_TYPES.some((c) => sameType(c, t.type)));
  const list = (ts: readonly BagTopic[]) => (ts.length === 0 ? 'none' : ts.map((t) => `${t.name} (${t.type})`).join(', '));
  let camera: BagTopic | undefined;
  if (requested !== undefined) {
    const t = topics.find((x) => x.name === requested);
    if (t === undefined) throw new UsageError(`topic '${requested}' is not in the bag (camera topics: ${list(cams)})`);
    if (!cams.includes(t)) throw new UsageError(`topic '${requested}' has type ${t.type}, not ${IMAGE_TYPE} or ${COMPRESSED_IMAGE_TYPE} (camera topics: ${list(cams)})`);
    camera = t;
  } else if (cams.length === 1) camera = cams[0];
  else if (cams.length === 0) throw new UsageError(`the bag has no camera topic (${IMAGE_TYPE} or ${COMPRESSED_IMAGE_TYPE}); topics: ${list(topics)}`);
  else throw new UsageError(`the bag has several camera topics, pick one with --topic: ${list(cams)}`);
  const cam = camera as BagTopic;
  const notes = [`camera: ${cam.name} (${cam.type}${cam.count !== undefined ? `, ${cam.count} messages` : ''})`];
  const infos = topics.filter((t) => sameType(t.type, CAMERA_INFO_TYPE));
  const sibling = siblingCameraInfo(cam.name);
  const info = infos.find((t) => t.name === sibling) ?? (infos.length === 1 ? infos[0] : undefined);
  notes.push(info ? `intrinsics: ${info.name}` : `intrinsics: no camera_info (looked for ${sibling}); assuming the model's horizontal FOV (use --camera-hfov)`);
  const hasTf = topics.some((t) => (t.name === '/tf' || t.name === '/tf_static') && sameType(t.type, TF_TYPE));
  const odoms = topics.filter((t) => sameType(t.type, ODOMETRY_TYPE));
  let poseSource: PoseSourceKind;
  let odomTopic: string | undefined;
  if (pose !== 'auto') poseSource = pose;
  else if (hasTf) poseSource = 'tf';
  else if (odoms.length >= 1) poseSource = 'odom';
  else poseSource = 'none';
  if (poseSource === 'odom') {
    odomTopic = (odoms.find((t) => t.name === '/odom') ?? odoms[0])?.name;
    if (odomTopic === undefined) throw new UsageError(`--pose odom, but the bag has no ${ODOMETRY_TYPE} topic`);
  }
  if (poseSource === 'tf' && !hasTf) throw new UsageError('--pose tf, but the bag has no /tf or /tf_static');
  notes.push(
    poseSource === 'tf'
      ? 'poses: /tf + /tf_static (global frame map, else odom; base frame base_link, else base_footprint)'
      : poseSource === 'odom'
        ? `poses: odometry ${odomTopic}`
        : 'poses: none recorded (no /tf, no odometry): keyframes by time only',
  );
  return { camera: cam, cameraInfoTopic: info?.name, poseSource, odomTopic, notes };
}

/**
 * Feeds the records to a CameraIngest in order, waiting for each camera frame to be processed
 * (nothing is dropped: the point is to judge every frame). Returns the summary.
 */
export async function ingestRecords(ingest: CameraIngest, plan: IngestPlan, records: AsyncIterable<BagRecord> | Iterable<BagRecord>): Promise<IngestSummary> {
  for await (const r of records) {
    if (r.topic === plan.camera.name) {
      ingest.handleImage(r.message as CameraMessage);
      await ingest.idle();
    } else if (r.topic === plan.cameraInfoTopic) ingest.handleCameraInfo(r.message as CameraInfoLike);
    else if (plan.poseSource === 'tf' && (r.topic === '/tf' || r.topic === '/tf_static')) ingest.handleTf(r.message as TfMessageLike, r.topic === '/tf_static');
    else if (plan.poseSource === 'odom' && r.topic === plan.odomTopic) ingest.handleOdometry(r.message as OdometryLike);
  }
  return ingest.summary();
}

/** CameraIngest parameters for a plan (lossless queue: the CLI awaits every frame). */
export function ingestParamsFor(plan: IngestPlan, hfovDeg?: number): Partial<CameraIngestParams> {
  return {
    imageTopic: plan.camera.name,
    imageType: sameType(plan.camera.type, COMPRESSED_IMAGE_TYPE) ? COMPRESSED_IMAGE_TYPE : IMAGE_TYPE,
    ...(plan.cameraInfoTopic !== undefined ? { cameraInfoTopic: plan.cameraInfoTopic } : {}),
    poseSource: plan.poseSource,
    globalFrame: ['map', 'odom'],
    baseFrame: ['base_link', 'base_footprint'],
    ...(plan.odomTopic !== undefined ? { odomTopic: plan.odomTopic } : {}),
    ...(hfovDeg !== undefined ? { cameraHfovDeg: hfovDeg } : {}),
  };
}

/** The model camera: from a manifest file, else the default model's (64×64, 60°, 0.5 m). */
export function modelCameraFromArgs(manifestPath: string | undefined): ModelCamera {
  if (manifestPath === undefined) return modelCameraFromFov(64, 64, DEFAULT_MODEL_HFOV_RAD, 0.5, 0);
  let text: string;
  try {
    text = readFileSync(manifestPath, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read --manifest ${manifestPath}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--manifest ${manifestPath} is not JSON: ${(e as Error).message}`);
  }
  return cameraOf(parseManifest(json, manifestPath));
}

/** Writes the summary JSON to stdout and, with --json, to a file. */
export function emitSummary(summary: IngestSummary, jsonPath: string | undefined): void {
  const text = JSON.stringify(summary, null, 2) + '\n';
  process.stdout.write(text);
  if (jsonPath !== undefined) writeFileSync(jsonPath, text);
}

const HELP = commandHelp({
  name: 'ingest',
  summary: 'run a bag camera topic through ingest, keyframe gate and context buffer (will my camera work?)',
  synopsis: ['ingest --bag FILE [--topic T] [--json FILE] [--manifest FILE] [--pose auto|tf|odom|none] [--camera-hfov DEG]'],
  description:
    'Every frame of the camera topic (raw or compressed) goes through the cheap checks, the keyframe gate and the context buffer, without dropping; prints {received, admitted, rejected_by_reason, skipped_by_reason, dropped, buffer, ms_per_frame} as JSON (docs/ingest.md).',
  flags: [
    { name: 'bag', value: 'FILE', help: 'a .mcap file or a rosbag2 directory (required)' },
    { name: 'topic', value: 'T', default: 'the only camera topic', help: 'camera topic (Image or CompressedImage)' },
    { name: 'json', value: 'FILE', help: 'also write the summary to FILE' },
    { name: 'manifest', value: 'FILE', default: 'the 64×64, 60°, 0.5 m model camera', help: "a model's manifest.json (its camera contract)" },
    { name: 'pose', value: 'auto|tf|odom|none', default: 'auto: /tf if recorded, else a single odometry topic, else none', help: 'pose source' },
    { name: 'camera-hfov', value: 'DEG', help: "the source camera's horizontal FOV when the bag has no camera_info (1-179)" },
  ],
  examples: ['ingest --bag my_camera_bag --json ingest.json'],
});

export const command: CliCommand = {
  ...HELP,
  async run(argv: string[]): Promise<number> {
    const args = parseArgs(argv, booleanFlags(HELP.flags));
    checkFlags(args, flagNames(HELP.flags), 'ingest');
    if (args.positional.length > 0) throw new UsageError(`unexpected argument '${args.positional[0]}' (usage: ingest --bag FILE [--topic T] [--json FILE])`);
    const bagPath = flagString(args, 'bag');
    if (bagPath === undefined) throw new UsageError('--bag FILE is required (a .mcap file or a rosbag2 directory)');
    const pose = flagString(args, 'pose') ?? 'auto';
    if (!['auto', 'tf', 'odom', 'none'].includes(pose)) throw new UsageError(`--pose must be auto, tf, odom or none, got '${pose}'`);
    const hfov = args.flags.has('camera-hfov') ? flagNumber(args, 'camera-hfov', 60, { min: 1, max: 179 }) : undefined;
    const model = modelCameraFromArgs(flagString(args, 'manifest'));
    let bag: Awaited<ReturnType<typeof openBag>>;
    try {
      bag = await openBag(bagPath);
    } catch (e) {
      if (!(e instanceof BagFormatError)) throw e;
      process.stderr.write(`video4spatial-nav ingest: ${e.message}\n`);
      return 1;
    }
    try {
      const info = bag.reader.info();
      const plan = planIngest(info.topics, flagString(args, 'topic'), pose as PoseSourceKind | 'auto');
      for (const n of plan.notes) process.stderr.write(`ingest: ${n}\n`);
      const ingest = new CameraIngest(model, ingestParamsFor(plan, hfov), { warn: (m) => process.stderr.write(`ingest: warning: ${m}\n`) });
      // load OpenCV before timing, so ms_per_frame is the per-frame cost
      if (!ingest.ingestor.warmUp()) process.stderr.write('ingest: OpenCV unavailable: raw frames use the JS resampler; compressed frames are checked, but keyframes cannot be decoded (opencv_unavailable)\n');
      const wanted = [plan.camera.name, plan.cameraInfoTopic, ...(plan.poseSource === 'tf' ? info.topics.filter((t) => t.name === '/tf' || t.name === '/tf_static').map((t) => t.name) : []), plan.odomTopic];
      const topics = [...new Set(wanted.filter((t): t is string => t !== undefined))];
      const records = (async function* () {
        for await (const m of bag.reader.decodedMessages({ topics })) yield { topic: m.topic, logTimeNs: m.logTimeNs, message: m.message };
      })();
      const summary = await ingestRecords(ingest, plan, records);
      ingest.close();
      for (const [code, n] of Object.entries(ingest.poseInputErrors)) process.stderr.write(`ingest: ${n} pose/camera_info inputs rejected: ${code}\n`);
      emitSummary(summary, flagString(args, 'json'));
      return 0;
    } finally {
      await bag.close();
    }
  },
};
