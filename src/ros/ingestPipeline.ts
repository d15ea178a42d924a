/**
 * Camera ingest wired to the ROS graph: the camera topic (raw or compressed), camera_info,
 * /tf and /tf_static (or an odometry topic) feed the pure IngestPipeline
 * (src/core/context/IngestPipeline.ts) through src/vision's FrameIngestor, into a ContextBuffer.
 * The same object serves the node (attach to a graph) and the `ingest` CLI (fed from a bag).
 */
import { ContextBuffer, DEFAULT_CONTEXT_MAX_BYTES, DEFAULT_CONTEXT_MAX_FRAMES } from '../core/context/ContextBuffer.js';
import { type CameraInfoLike, type ModelCamera } from '../core/context/cameraFit.js';
import { IngestDiagnostics, type IngestSummary, ingestSummary } from '../core/context/ingestDiagnostics.js';
import { IngestPipeline } from '../core/context/IngestPipeline.js';
import { KeyframeGate, type KeyframeGateParams } from '../core/context/keyframeGate.js';
import { ParameterError, TransformError, Video4SpatialError } from '../core/errors.js';
import { OdometryPoseSource, type OdometryLike } from '../core/tf/OdometryPoseSource.js';
import { formatStamp, secondsToNs, timeToNs, type TimeLike } from '../core/tf/stamp.js';
import { NullPoseSource, type PoseSource, TfBuffer, type TfMessageLike, TfPoseSource } from '../core/tf/TfBuffer.js';
import { FrameIngestor, type RawBackend, isCompressed } from '../vision/FrameIngestor.js';
import type { CompressedImageLike, ImageLike } from '../vision/imageFormat.js';

export const IMAGE_TYPE = 'sensor_msgs/msg/Image';
export const COMPRESSED_IMAGE_TYPE = 'sensor_msgs/msg/CompressedImage';
export const CAMERA_INFO_TYPE = 'sensor_msgs/msg/CameraInfo';
export const TF_TYPE = 'tf2_msgs/msg/TFMessage';
export const ODOMETRY_TYPE = 'nav_msgs/msg/Odometry';

/** A camera message as it comes off the wire (header + raw or compressed payload). */
export type CameraMessage = (ImageLike | CompressedImageLike) & { header: { stamp: TimeLike; frame_id: string } };

export type PoseSourceKind = 'tf' | 'odom' | 'none';

/** Every ingest parameter with its default (see docs/ingest.md). */
export interface CameraIngestParams {
  /** Camera topic; its type decides raw vs compressed. */
  imageTopic: string;
  imageType: typeof IMAGE_TYPE | typeof COMPRESSED_IMAGE_TYPE;
  cameraInfoTopic: string;
  /** Where robot poses come from. */
  poseSource: PoseSourceKind;
  /** Global frame of the stored poses; a list means "the first one TF knows" (e.g. ['map', 'odom']). */
  globalFrame: string | readonly string[];
  /** Robot base frame; a list as above (e.g. ['base_link', 'base_footprint']). */
  baseFrame: string | readonly string[];
  odomTopic: string;
  /** Source camera horizontal FOV (deg) used until camera_info arrives; default: the model's. */
  cameraHfovDeg: number | undefined;
  tfCacheS: number;
  tfFutureToleranceS: number;
  gate: Partial<KeyframeGateParams>;
  maxFrames: number;
  maxBytes: number;
  protectNewest: number;
  queueCapacity: number;
  rawBackend: RawBackend;
  /**
   * Camera frames and dynamic /tf transforms stamped more than this ahead of `clockNs` are
   * rejected ('future_stamp'): one far-future transform would otherwise age every other out of
   * the TF cache. Infinity (the default) = no check; needs the `clockNs` constructor argument.
   */
  maxStampAheadS: number;
}

export const DEFAULT_CAMERA_INGEST_PARAMS: Readonly<CameraIngestParams> = Object.freeze({
  imageTopic: '~/image',
  imageType: IMAGE_TYPE,
  cameraInfoTopic: '~/camera_info',
  poseSource: 'tf',
  globalFrame: 'map',
  baseFrame: 'base_link',
  odomTopic: '/odom',
  cameraHfovDeg: undefined,
  tfCacheS: 10,
  tfFutureToleranceS: 0.1,
  gate: {},
  maxFrames: DEFAULT_CONTEXT_MAX_FRAMES,
  maxBytes: DEFAULT_CONTEXT_MAX_BYTES,
  protectNewest: 8,
  queueCapacity: 2,
  rawBackend: 'auto',
  maxStampAheadS: Infinity,
});

/** QoS presets this module asks for (ROS: sensor data = best effort, keep last 5, volatile). */
export type IngestQos = 'sensor_data' | 'tf' | 'tf_static';

/**
 * What the wiring needs from a graph: one subscribe call returning an unsubscribe function. The
 * Graph interface of src/ros (not landed when this was written) adapts to it in one line.
 */
export interface IngestSubscriber {
  subscribe(topic: string, type: string, qos: IngestQos, callback: (msg: unknown) => void): () => void;
}

/** Logging hooks (winston/ROS logger on the node, stderr in the CLI). */
export interface IngestLogger {
  warn(message: string): void;
}

export class CameraIngest {
  readonly params: Readonly<CameraIngestParams>;
  readonly tf: TfBuffer;
  readonly odometry: OdometryPoseSource | undefined;
  readonly poseSource: PoseSource;
  readonly ingestor: FrameIngestor;
  readonly buffer: ContextBuffer;
  readonly pipeline: IngestPipeline<CameraMessage>;
  readonly diagnostics: IngestDiagnostics;
  /** Rejected /tf transforms and odometry messages (not camera frames), by code. */
  readonly poseInputErrors: Record<string, number> = {};
  /** Camera-frame rejection codes already logged (the first frame of each code is logged; all are counted). */
  private readonly loggedRejections = new Set<string>();
  private readonly logger: IngestLogger;
  private readonly stampAhead: { clockNs: () => bigint; maxAheadNs: bigint } | undefined;
  private unsubscribers: (() => void)[] = [];

  /** `clockNs`: the node's clock (ns since epoch), for the `maxStampAheadS` check. */
  constructor(model: ModelCamera, params: Partial<CameraIngestParams> = {}, logger: IngestLogger = { warn: () => {} }, clockNs?: () => bigint) {
    const p = { ...DEFAULT_CAMERA_INGEST_PARAMS, ...params };
    validateParams(p);
    this.params = Object.freeze(p);
    this.logger = logger;
    this.stampAhead = clockNs !== undefined && Number.isFinite(p.maxStampAheadS) ? { clockNs, maxAheadNs: secondsToNs(p.maxStampAheadS) } : undefined;
    this.tf = new TfBuffer({ cacheDurationNs: secondsToNs(p.tfCacheS), futureToleranceNs: secondsToNs(p.tfFutureToleranceS) });
    if (p.poseSource === 'odom') {
      this.odometry = new OdometryPoseSource({ cacheDurationNs: secondsToNs(p.tfCacheS), futureToleranceNs: secondsToNs(p.tfFutureToleranceS) });
      this.poseSource = this.odometry;
    } else {
      this.odometry = undefined;
      this.poseSource = p.poseSource === 'tf' ? new TfPoseSource(this.tf, p.globalFrame, p.baseFrame) : new NullPoseSource();
    }
    this.ingestor = new FrameIngestor({
      model,
      topic: p.imageTopic,
      rawBackend: p.rawBackend,
      ...(p.cameraHfovDeg !== undefined ? { fallbackHfovRad: (p.cameraHfovDeg * Math.PI) / 180 } : {}),
      onWarning: (m) => logger.warn(m),
    });
    this.buffer = new ContextBuffer({ width: model.width, height: model.height, maxFrames: p.maxFrames, maxBytes: p.maxBytes, protectNewest: p.protectNewest });
    const ingestor = this.ingestor;
    this.pipeline = new IngestPipeline<CameraMessage>({
      processor: {
        check: (m) => ingestor.check(m),
        thumbnail: (m) => ingestor.thumbnail(m),
        fit: (m) => (isCompressed(m) ? ingestor.fitCompressedAsync(m) : ingestor.fitImage(m)),
      },
      poseSource: this.poseSource,
      gate: new KeyframeGate(p.gate),
      buffer: this.buffer,
      queueCapacity: p.queueCapacity,
      onReject: (code, _e, _index, message) => this.warnFirstRejection(code, message),
      ...(this.stampAhead !== undefined ? { stampAhead: this.stampAhead } : {}),
    });
    this.diagnostics = new IngestDiagnostics(this.pipeline.counters, this.buffer);
  }

  /** A camera message (raw or compressed). Never throws; returns its stream index. */
  handleImage(msg: CameraMessage): number {
    return this.pipeline.push(msg);
  }

  handleCameraInfo(info: CameraInfoLike): void {
    try {
      this.ingestor.setCameraInfo(info);
    } catch (e) {
      this.countPoseInputError(e, 'camera_info');
    }
  }

  handleTf(msg: TfMessageLike, isStatic: boolean): void {
    const where = isStatic ? '/tf_static' : '/tf';
    let m = msg;
    const ahead = this.stampAhead;
    if (ahead !== undefined && !isStatic) {
      // static transforms are timeless; a dynamic one from the far future would prune the rest
      const clock = ahead.clockNs();
      const keep = msg.transforms.filter((t) => {
        const ns = timeToNs(t.header.stamp);
        if (ns - clock <= ahead.maxAheadNs) return true;
        const what = `transform ${t.header.frame_id || '""'} → ${t.child_frame_id || '""'} from ${where}`;
        this.countPoseInputError(new TransformError(`${what}: stamp ${formatStamp(ns)} is ${formatStamp(ns - clock)} ahead of the clock (at most ${formatStamp(ahead.maxAheadNs)})`, 'future_stamp'), where);
        return false;
      });
      if (keep.length !== msg.transforms.length) m = { transforms: keep };
    }
    for (const e of this.tf.addTfMessage(m, isStatic)) this.countPoseInputError(e, where);
  }

  handleOdometry(msg: OdometryLike): void {
    try {
      this.odometry?.addOdometry(msg, this.params.odomTopic);
    } catch (e) {
      this.countPoseInputError(e, this.params.odomTopic);
    }
  }

  private warnFirstRejection(code: string, message: string): void {
    if (this.loggedRejections.has(code)) return;
    this.loggedRejections.add(code);
    this.logger.warn(`camera frame rejected (${code}): ${message} (further '${code}' frames are only counted)`);
  }

  private countPoseInputError(e: unknown, where: string): void {
    const code = e instanceof Video4SpatialError ? e.code : 'internal_error';
    const message = e instanceof Error ? e.message : String(e);
    this.poseInputErrors[code] = (this.poseInputErrors[code] ?? 0) + 1;
    if (this.poseInputErrors[code] === 1) this.logger.warn(`${where}: ${message} (further '${code}' errors are only counted)`);
  }

  /** Subscribes to the camera, camera_info, and /tf + /tf_static or the odometry topic. */
  attach(graph: IngestSubscriber): void {
    const p = this.params;
    const subs = this.unsubscribers;
    subs.push(graph.subscribe(p.imageTopic, p.imageType, 'sensor_data', (m) => this.handleImage(m as CameraMessage)));
    subs.push(graph.subscribe(p.cameraInfoTopic, CAMERA_INFO_TYPE, 'sensor_data', (m) => this.handleCameraInfo(m as CameraInfoLike)));
    if (p.poseSource === 'tf') {
      subs.push(graph.subscribe('/tf', TF_TYPE, 'tf', (m) => this.handleTf(m as TfMessageLike, false)));
      subs.push(graph.subscribe('/tf_static', TF_TYPE, 'tf_static', (m) => this.handleTf(m as TfMessageLike, true)));
    } else if (p.poseSource === 'odom') {
      subs.push(graph.subscribe(p.odomTopic, ODOMETRY_TYPE, 'sensor_data', (m) => this.handleOdometry(m as OdometryLike)));
    }
  }

  /** Resolves when every received frame has been processed. */
  idle(): Promise<void> {
    return this.pipeline.idle();
  }

  summary(): IngestSummary {
    return ingestSummary(this.pipeline.counters, this.buffer);
  }

  close(): void {
    for (const u of this.unsubscribers.splice(0)) u();
    this.pipeline.close();
  }
}

function validateParams(p: CameraIngestParams): void {
  const bad = (name: string, v: unknown, want: string) => new ParameterError(`ingest parameter ${name}: ${want}, got ${JSON.stringify(v)}`, 'ingest_parameter');
  if (p.imageType !== IMAGE_TYPE && p.imageType !== COMPRESSED_IMAGE_TYPE) throw bad('imageType', p.imageType, `must be ${IMAGE_TYPE} or ${COMPRESSED_IMAGE_TYPE}`);
  if (!['tf', 'odom', 'none'].includes(p.poseSource)) throw bad('poseSource', p.poseSource, "must be 'tf', 'odom' or 'none'");
  if (!(p.tfCacheS > 0)) throw bad('tfCacheS', p.tfCacheS, 'must be > 0 s');
  if (!(p.tfFutureToleranceS >= 0)) throw bad('tfFutureToleranceS', p.tfFutureToleranceS, 'must be ≥ 0 s');
  if (!(p.maxStampAheadS >= 0)) throw bad('maxStampAheadS', p.maxStampAheadS, 'must be ≥ 0 s (Infinity = no check)');
  if (p.cameraHfovDeg !== undefined && !(p.cameraHfovDeg > 0 && p.cameraHfovDeg < 180)) throw bad('cameraHfovDeg', p.cameraHfovDeg, 'must be in (0, 180) degrees');
  for (const [name, v] of [
    ['globalFrame', p.globalFrame],
    ['baseFrame', p.baseFrame],
  ] as const) {
    const list = typeof v === 'string' ? [v] : v;
    if (list.length === 0 || list.some((f) => f === '')) throw bad(name, v, 'must be a non-empty frame id or list of them');
  }
}
