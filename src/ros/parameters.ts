/**
 * The node's parameters, in one place (Nav2 style): every parameter is declared with its default,
 * type, range or allowed values and a description; start-up values are validated (a bad value
 * is replaced by the default, an inconsistent combination is corrected, each with a warning);
 * runtime updates (`ros2 param set`) are validated the same way and rejected with the name, the
 * value and the reason. Parameters that rclnodejs declares on every node itself (`use_sim_time`,
 * `qos_overrides.*`, …: `isRosOwnedParameter`) are not ours to refuse: they pass through.
 * launch/params/video4spatial_nav.yaml and the table in docs/ros.md list the same names and
 * defaults (tests check both).
 *
 * The sampler's parameters (`steps`, `guidance_scale`, `guidance_min_t`, `shift`, `candidates`: `fromModel`) take
 * their default from the model's manifest (`sampler.*`), so a model trained for another sampler
 * (e.g. distilled to 4 steps without guidance) runs as trained unless the user sets them; their
 * `default` is the shipped model's value, used when no manifest is given. The YAML lists them
 * commented out.
 *
 * To add a parameter: one entry in NODE_PARAMETERS (its TypeScript type follows from `kind`),
 * one line in the YAML, one row in docs/ros.md.
 */
import yaml from 'js-yaml';
import { BehaviorSubject, type Observable } from 'rxjs';
import { ParameterError } from '../core/errors.js';
import type { SamplerDefaults } from '../core/model/manifest.js';
import type { Logger, ParameterChange, ParameterKind, ParameterPort, ParameterValue, SetParametersResult } from './Graph.js';
import { ROS_DISTROS } from './messages/index.js';

/** One parameter's declaration. */
export interface ParameterSpec {
  name: string;
  kind: ParameterKind;
  default: ParameterValue;
  description: string;
  /** Inclusive numeric range (integer/double). */
  min?: number;
  max?: number;
  /** Allowed string values. */
  allowed?: readonly string[];
  /** What a string must look like. */
  format?: 'topic' | 'frame' | 'frame_or_empty' | 'path';
  /** Changeable at runtime; otherwise read-only after start-up. */
  dynamic: boolean;
  /**
   * The default comes from the model's manifest, `sampler.<fromModel>`; `default` is then the
   * shipped model's value (used when no manifest is given).
   */
  fromModel?: keyof SamplerDefaults;
  /** With `fromModel`: the value when a model's sampler lacks that (optional) key. */
  ifModelLacks?: ParameterValue;
}

const MIB = 1024 * 1024;

/** Every parameter of video4spatial_nav (see docs/ros.md for the table). */
export const NODE_PARAMETERS = [
  // ── camera input ──
  { name: 'image_topic', kind: 'string', default: '~/image', format: 'topic', dynamic: false,
    description: 'Camera topic (sensor_msgs/Image; with compressed=true the CompressedImage topic is <image_topic>/compressed, image_transport style)' },
  { name: 'compressed', kind: 'bool', default: false, dynamic: false,
    description: 'Subscribe to sensor_msgs/CompressedImage on <image_topic>/compressed instead of raw images' },
  { name: 'camera_info_topic', kind: 'string', default: '~/camera_info', format: 'topic', dynamic: false,
    description: 'sensor_msgs/CameraInfo topic (intrinsics; until it arrives the model camera is assumed)' },
  // ── frames ──
  { name: 'global_frame', kind: 'string', default: 'map', format: 'frame', dynamic: false,
    description: 'Frame of plans, object poses and Nav2 goals (REP-105 map)' },
  { name: 'robot_frame', kind: 'string', default: 'base_link', format: 'frame', dynamic: false,
    description: 'Robot base frame (REP-105 base_link)' },
  { name: 'camera_frame', kind: 'string', default: '', format: 'frame_or_empty', dynamic: false,
    description: "Camera frame; '' = the frame_id of each Image header" },
  // ── model and runtime ──
  { name: 'model_dir', kind: 'string', default: '', format: 'path', dynamic: false,
    description: "Directory with manifest.json and the ONNX files; '' = the shipped default model" },
  { name: 'execution_provider', kind: 'string', default: 'auto', allowed: ['auto', 'cpu', 'cuda'], dynamic: false,
    description: 'ONNX Runtime execution provider: auto (CUDA when available, else CPU), cpu, cuda' },
  { name: 'device_id', kind: 'integer', default: 0, min: 0, max: 63, dynamic: false,
    description: 'CUDA device index (execution_provider cuda/auto)' },
  { name: 'intra_op_threads', kind: 'integer', default: 0, min: 0, max: 256, dynamic: false,
    description: 'ONNX Runtime intra-op threads; 0 = ONNX Runtime default (all cores)' },
  { name: 'intra_op_spinning', kind: 'bool', default: false, dynamic: false,
    description: 'Let ONNX Runtime threads spin while waiting (faster on an idle CPU, much slower on a busy one)' },
  { name: 'extraction_threads', kind: 'integer', default: 0, min: 0, max: 16, dynamic: false,
    description: 'Worker threads for path extraction (box, odometry, anchoring per candidate); 0 = the cores, at most 4; 1 = in the planning thread' },
  // ── sampling ──
  { name: 'steps', kind: 'integer', default: 8, min: 1, max: 1000, dynamic: true, fromModel: 'steps',
    description: "Flow-matching denoising steps per plan; default: the model's sampler.steps" },
  { name: 'guidance_scale', kind: 'double', default: 3.0, min: 0.0, max: 30.0, dynamic: true, fromModel: 'guidance_scale',
    description: "Joint classifier-free guidance scale w (1 = no guidance); default: the model's sampler.guidance_scale" },
  { name: 'guidance_min_t', kind: 'double', default: 0.7, min: 0.0, max: 1.0, dynamic: true, fromModel: 'guidance_min_t', ifModelLacks: 0.0,
    description: "Guidance only at the denoising steps whose noise level t >= this (t = 1 is pure noise); later steps run the conditional branch alone, half the denoiser batch. 0 = every step; default: the model's sampler.guidance_min_t (absent: 0)" },
  { name: 'shift', kind: 'double', default: 3.0, min: 0.05, max: 20.0, dynamic: true, fromModel: 'shift',
    description: "Flow-matching timestep shift (1 = linear schedule); default: the model's sampler.shift" },
  { name: 'candidates', kind: 'integer', default: 4, min: 1, max: 64, dynamic: true, fromModel: 'candidates',
    description: "Best-of-M: videos imagined per plan, in one batch; default: the model's sampler.candidates" },
  { name: 'seed', kind: 'integer', default: 0, min: 0, max: 2147483647, dynamic: true,
    description: 'Seed of the sampler noise (same seed + same context = same plan)' },
  // ── context memory ──
  { name: 'context_frames', kind: 'integer', default: 0, min: 0, max: 256, dynamic: false,
    description: "Context frames K given to the model, at most the model's K; 0 = the model's K (manifest); 1 = the current view only" },
  { name: 'context_policy', kind: 'string', default: 'pose_diverse', allowed: ['uniform', 'recency', 'pose_diverse', 'contiguous'], dynamic: true,
    description: 'How K context frames are drawn from the buffer (contiguous = ablation)' },
  { name: 'buffer_max_frames', kind: 'integer', default: 512, min: 1, max: 100000, dynamic: false,
    description: 'Keyframes kept in the context buffer (oldest evicted first)' },
  { name: 'buffer_max_bytes', kind: 'integer', default: 64 * MIB, min: MIB, max: 64 * 1024 * MIB, dynamic: false,
    description: 'Memory bound of the context buffer, bytes' },
  { name: 'keyframe_min_translation_m', kind: 'double', default: 0.25, min: 0.0, max: 10.0, dynamic: true,
    description: 'Keep a frame after the robot moved this far since the last keyframe, m' },
  { name: 'keyframe_min_rotation_rad', kind: 'double', default: 0.35, min: 0.0, max: 3.15, dynamic: true,
    description: 'Keep a frame after the robot turned this much since the last keyframe, rad' },
  { name: 'keyframe_max_interval_s', kind: 'double', default: 2.0, min: 0.05, max: 600.0, dynamic: true,
    description: 'Keep a frame when this much time passed since the last keyframe, s' },
  { name: 'camera_stale_s', kind: 'double', default: 1.0, min: 0.05, max: 60.0, dynamic: true,
    description: 'No usable camera frame for this long = camera stale: execute goals are rejected, a running goal waits before its next plan, diagnostics WARN, s' },
  { name: 'max_stamp_ahead_s', kind: 'double', default: 1.0, min: 0.0, max: 3600.0, dynamic: false,
    description: "Camera frames and /tf transforms stamped more than this ahead of the node's clock are rejected (future_stamp): one far-future transform would age every other out of the TF cache, s" },
  { name: 'camera_wait_s', kind: 'double', default: 10.0, min: 0.0, max: 600.0, dynamic: true,
    description: 'A running goal waits this long for a stale camera to come back before it is aborted, s (0 = abort at once)' },
  // ── planning and execution ──
  { name: 'waypoint_spacing_m', kind: 'double', default: 0.5, min: 0.05, max: 10.0, dynamic: true,
    description: "Spacing of the poses of ~/plan (and the action's feedback and result path) between the robot and the goal, m; Nav2 is sent the goal pose only" },
  { name: 'max_plan_distance_m', kind: 'double', default: 8.0, min: 0.5, max: 100.0, dynamic: true,
    description: 'Plans longer than this are cut (the rest is replanned), m' },
  { name: 'arrival_distance_m', kind: 'double', default: 0.9, min: 0.05, max: 10.0, dynamic: true,
    description: "Arrival needs the newest plan's goal within this distance of the robot, m" },
  { name: 'arrival_object_distance_m', kind: 'double', default: 2.5, min: 0.1, max: 20.0, dynamic: true,
    description: "Arrival also needs the newest plan's object estimate within this distance of the robot, m" },
  { name: 'name_aware_context', kind: 'bool', default: true, dynamic: true,
    description: "With a grounder in the model: every candidate's context holds keyframes where the grounder sees the named object (false = ablation)" },
  { name: 'verify_arrival', kind: 'bool', default: true, dynamic: true,
    description: 'With a grounder: success only when the live camera at the goal shows the named object near the image centre; a goal that fails is excluded and replanned (false: two agreeing plans count as arrival)' },
  { name: 'verify_max_bearing_deg', kind: 'double', default: 20.0, min: 1.0, max: 90.0, dynamic: true,
    description: "The verified object's centre may be at most this far from the camera's optical axis, deg" },
  { name: 'exclusion_radius_m', kind: 'double', default: 1.0, min: 0.0, max: 10.0, dynamic: true,
    description: 'A goal the camera check refused excludes this radius around its object estimate (else its goal) from later choices of the same goal, m' },
  { name: 'memory_goal', kind: 'bool', default: true, dynamic: true,
    description: "With a grounder: the keyframes that show the object locate it (votes of their firing tokens on the floor); candidates that contradict that place lose and the goal looks at it from look_distance_m (false = ablation: the chosen candidate's imagined goal)" },
  { name: 'look_distance_m', kind: 'double', default: 1.5, min: 0.3, max: 5.0, dynamic: true,
    description: "Distance from memory's object estimate to the goal that looks at it (memory_goal), m" },
  { name: 'look_around', kind: 'bool', default: true, dynamic: true,
    description: "With a grounder: at a goal whose live view does not show the object, turn in place one camera field of view at a time (at most 5 turns) looking for it before counting a false arrival" },
  { name: 'look_around_when_not_seen', kind: 'bool', default: false, dynamic: true,
    description: "With a grounder: when no keyframe shows the object, first turn in place all around (one camera field of view per Nav2 goal) and look again before ending not_seen (false: end not_seen at once)" },
  { name: 'verify_near', kind: 'bool', default: true, dynamic: true,
    description: "With a grounder: arrival also needs the object's base in the bottom row of the live view's grounding (within reach on the floor); otherwise the node steps closer (at most twice)" },
  { name: 'replan_period_s', kind: 'double', default: 4.0, min: 0.5, max: 600.0, dynamic: true,
    description: 'Replan this often while a goal runs, s' },
  { name: 'plan_while_driving', kind: 'bool', default: true, dynamic: true,
    description: "Plan the next leg while the current one drives: after replan_period_s the node plans again while Nav2 goes on, and the new goal preempts the leg (false: the leg is cancelled at replan_period_s and the robot stands while the node plans)" },
  { name: 'execute_default', kind: 'bool', default: true, dynamic: true,
    description: 'Goals from the ~/goal_object topic are executed via Nav2 (true) or only planned (false)' },
  { name: 'nav2_action', kind: 'string', default: 'navigate_through_poses', format: 'topic', dynamic: false,
    description: 'Nav2 NavigateThroughPoses action name' },
  { name: 'nav2_distro', kind: 'string', default: 'jazzy', allowed: ROS_DISTROS, dynamic: false,
    description: 'ROS distro of Nav2: humble/jazzy goals carry PoseStamped[], kilted/rolling nav_msgs/Goals' },
  // ── teleop ──
  { name: 'teleop_cmd_vel_topic', kind: 'string', default: '/cmd_vel_teleop', format: 'topic', dynamic: false,
    description: 'Teleop velocity topic watched to pause execution while a person drives' },
  { name: 'teleop_pause_s', kind: 'double', default: 3.0, min: 0.0, max: 600.0, dynamic: true,
    description: 'Pause execution for this long after the last teleop command, s (0 = do not pause)' },
  // ── outputs ──
  { name: 'publish_imagined', kind: 'bool', default: true, dynamic: true,
    description: 'Publish the chosen imagined video on ~/imagined and all candidates on ~/imagined_trajectory' },
] as const satisfies readonly ParameterSpec[];

/**
 * Parameters the ROS client library declares on the node itself, whatever the node declares:
 * rclnodejs 2.2.0 declares `use_sim_time` (lib/time_source.js, on every node),
 * `start_type_description_service` (lib/type_description_service.js, Jazzy and later) and
 * `qos_overrides.<topic>.<publisher|subscription>.<policy>` (lib/qos_overriding_options.js, for
 * entities created with QoS overriding options). rclnodejs runs every on-set-parameters callback
 * for them too, on `ros2 param set` and when it declares them, so the node's callback must let
 * them through: rclnodejs has already checked their declaration, read-only flag and type.
 */
export const ROS_OWNED_PARAMETERS: readonly string[] = ['use_sim_time', 'start_type_description_service'];
/** Name prefixes of parameters the ROS client library declares (see ROS_OWNED_PARAMETERS). */
export const ROS_OWNED_PREFIXES: readonly string[] = ['qos_overrides.'];

/** True for a parameter the ROS client library owns (`use_sim_time`, `qos_overrides.*`, …). */
export function isRosOwnedParameter(name: string): boolean {
  return ROS_OWNED_PARAMETERS.includes(name) || ROS_OWNED_PREFIXES.some((p) => name.startsWith(p));
}

type KindType<K extends ParameterKind> = K extends 'bool' ? boolean : K extends 'string' ? string : number;
type Specs = (typeof NODE_PARAMETERS)[number];

/** Every parameter's current value, typed from NODE_PARAMETERS. */
export type NodeParameterValues = { [S in Specs as S['name']]: KindType<S['kind']> };
export type NodeParameterName = keyof NodeParameterValues;

/** The parameter names, in declaration order. */
export function parameterNames(specs: readonly ParameterSpec[] = NODE_PARAMETERS): string[] {
  return specs.map((s) => s.name);
}

/** `range [a, b]` / `one of x, y` / format text for descriptors and docs. */
export function constraintsText(spec: ParameterSpec): string {
  if (spec.allowed) return `one of: ${spec.allowed.join(', ')}`;
  if (spec.min !== undefined || spec.max !== undefined) return `range [${spec.min ?? '-inf'}, ${spec.max ?? 'inf'}]`;
  if (spec.format === 'topic') return 'a ROS topic name';
  if (spec.format === 'frame') return 'a non-empty TF frame id';
  if (spec.format === 'frame_or_empty') return "a TF frame id or ''";
  return '';
}

/** A value as the user wrote it: numbers bare (NaN stays NaN), strings quoted. */
function quote(value: unknown): string {
  return typeof value === 'number' || typeof value === 'bigint' ? String(value) : (JSON.stringify(value) ?? String(value));
}

const TOPIC_RE = /^~?(\/?[A-Za-z_][A-Za-z0-9_]*)+$|^~$/;
const FRAME_RE = /^[A-Za-z0-9_./-]+$/;

/**
 * Why `value` is not acceptable for `spec`, or undefined when it is. The text names the
 * parameter and quotes the value.
 */
export function checkValue(spec: ParameterSpec, value: unknown): string | undefined {
  const bad = (why: string): string => `parameter '${spec.name}' = ${quote(value)}: ${why}`;
  switch (spec.kind) {
    case 'bool':
      if (typeof value !== 'boolean') return bad('expected a bool (true/false)');
      return undefined;
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) return bad('expected an integer');
      break;
    case 'double':
      if (typeof value !== 'number' || !Number.isFinite(value)) return bad('expected a finite number');
      break;
    case 'string':
      if (typeof value !== 'string') return bad('expected a string');
      if (spec.allowed && !spec.allowed.includes(value)) return bad(`expected one of ${spec.allowed.join(', ')}`);
      if (spec.format === 'topic' && !TOPIC_RE.test(value)) return bad('not a ROS topic name (letters, digits, _ and /; may start with ~/)');
      if (spec.format === 'frame' && !FRAME_RE.test(value)) return bad('not a TF frame id (non-empty; letters, digits, _ . / -)');
      if (spec.format === 'frame_or_empty' && value !== '' && !FRAME_RE.test(value)) return bad("not a TF frame id or ''");
      return undefined;
  }
  if (spec.min !== undefined && value < spec.min) return bad(`below the minimum ${spec.min}`);
  if (spec.max !== undefined && value > spec.max) return bad(`above the maximum ${spec.max}`);
  return undefined;
}

/** One correction of an inconsistent combination. */
export interface Correction {
  name: NodeParameterName;
  from: ParameterValue;
  to: ParameterValue;
  why: string;
}

/**
 * Inconsistent combinations and how to correct them (each names both parameters).
 * Returns the corrections; `values` is not modified.
 */
export function inconsistencies(values: Readonly<NodeParameterValues>): Correction[] {
  const out: Correction[] = [];
  if (values.arrival_distance_m >= values.max_plan_distance_m) {
    out.push({
      name: 'arrival_distance_m',
      from: values.arrival_distance_m,
      to: values.max_plan_distance_m / 2,
      why: `arrival_distance_m (${values.arrival_distance_m}) must be below max_plan_distance_m (${values.max_plan_distance_m})`,
    });
  }
  if (values.waypoint_spacing_m > values.max_plan_distance_m) {
    out.push({
      name: 'waypoint_spacing_m',
      from: values.waypoint_spacing_m,
      to: values.max_plan_distance_m,
      why: `waypoint_spacing_m (${values.waypoint_spacing_m}) must not exceed max_plan_distance_m (${values.max_plan_distance_m})`,
    });
  }
  if (values.context_frames > values.buffer_max_frames) {
    out.push({
      name: 'buffer_max_frames',
      from: values.buffer_max_frames,
      to: values.context_frames,
      why: `buffer_max_frames (${values.buffer_max_frames}) must hold at least context_frames (${values.context_frames})`,
    });
  }
  if (values.global_frame === values.robot_frame) {
    out.push({
      name: 'robot_frame',
      from: values.robot_frame,
      to: 'base_link' === values.global_frame ? 'base_footprint' : 'base_link',
      why: `robot_frame must differ from global_frame ('${values.global_frame}')`,
    });
  }
  return out;
}

/** What changed in one accepted update. */
export type ParameterUpdate = Partial<NodeParameterValues>;

/**
 * Declares every parameter on a graph's parameter port, validates and corrects the start-up
 * values (warnings on `logger`), and from then on accepts or rejects runtime updates.
 */
export class NodeParameters {
  readonly #specs: ReadonlyMap<string, ParameterSpec>;
  readonly #subject: BehaviorSubject<Readonly<NodeParameterValues>>;
  readonly #logger: Logger;

  private constructor(specs: readonly ParameterSpec[], values: NodeParameterValues, logger: Logger) {
    this.#specs = new Map(specs.map((s) => [s.name, s]));
    this.#subject = new BehaviorSubject<Readonly<NodeParameterValues>>(Object.freeze({ ...values }));
    this.#logger = logger;
  }

  /**
   * Declares NODE_PARAMETERS on `port`, corrects bad start-up values (wrong type or out of range
   * → the default; inconsistent combinations → see `inconsistencies`), writes the corrected values
   * back to the port, and registers the runtime update check.
   *
   * `model`: the model's sampler settings (its manifest's `sampler`), or a function that gives them
   * for the `model_dir` value (called once, after `model_dir` is declared; undefined → the shipped
   * model's values). They are the declared defaults of the `fromModel` parameters; an override from
   * the params file or the launch file still wins. A model value outside a parameter's range is
   * reported and the shipped value used.
   */
  static declare(port: ParameterPort, logger: Logger, model?: SamplerDefaults | ((modelDir: string) => SamplerDefaults | undefined)): NodeParameters {
    const specs: readonly ParameterSpec[] = NODE_PARAMETERS;
    const values: Record<string, ParameterValue> = {};
    const corrected = new Set<string>();
    let sampler: SamplerDefaults | undefined | null = typeof model === 'function' ? null : model;
    for (const base of specs) {
      let spec = base;
      if (base.fromModel !== undefined) {
        if (sampler === null) sampler = (model as (dir: string) => SamplerDefaults | undefined)(String(values['model_dir'] ?? ''));
        const fromModel = sampler ? (sampler[base.fromModel] ?? base.ifModelLacks) : undefined;
        if (fromModel !== undefined) {
          const why = checkValue(base, fromModel);
          if (why === undefined) spec = { ...base, default: fromModel };
          else logger.warn(`the model's sampler.${base.fromModel}: ${why}; using ${JSON.stringify(base.default)}`);
        }
      }
      const raw = port.declare({
        name: spec.name,
        kind: spec.kind,
        default: spec.default,
        description: spec.description,
        readOnly: !spec.dynamic,
        constraints: constraintsText(spec),
      });
      const why = checkValue(spec, raw);
      if (why === undefined) {
        values[spec.name] = raw as ParameterValue;
      } else {
        logger.warn(`${why}; using the default ${JSON.stringify(spec.default)}`);
        values[spec.name] = spec.default;
        corrected.add(spec.name);
      }
    }
    const typed = values as NodeParameterValues;
    // Each correction satisfies its own rule without breaking another, so one pass suffices.
    for (const c of inconsistencies(typed)) {
      logger.warn(`${c.why}; setting ${c.name} = ${JSON.stringify(c.to)} (was ${JSON.stringify(c.from)})`);
      (typed as Record<string, ParameterValue>)[c.name] = c.to;
      corrected.add(c.name);
    }
    for (const name of corrected) port.set(name, values[name] as ParameterValue);
    const params = new NodeParameters(specs, typed, logger);
    port.onSetParameters((changes) => params.#onSet(changes));
    return params;
  }

  /** The current values (frozen; replaced on every accepted update). */
  get values(): Readonly<NodeParameterValues> {
    return this.#subject.getValue();
  }

  get<K extends NodeParameterName>(name: K): NodeParameterValues[K] {
    return this.values[name];
  }

  /** The values now and after every accepted update. */
  get values$(): Observable<Readonly<NodeParameterValues>> {
    return this.#subject.asObservable();
  }

  /**
   * Checks a runtime update against the specs and the combination rules (does not apply it).
   * Changes to ROS-owned parameters (`isRosOwnedParameter`: `use_sim_time`, `qos_overrides.*`, …)
   * are accepted here and left to the client library; any other name the node does not declare is
   * refused with the name and the value.
   */
  check(changes: readonly ParameterChange[]): SetParametersResult {
    const next: Record<string, unknown> = { ...this.values };
    for (const c of changes) {
      const spec = this.#specs.get(c.name);
      if (!spec && isRosOwnedParameter(c.name)) continue;
      if (!spec) return { successful: false, reason: `parameter '${c.name}' = ${quote(c.value)}: no such parameter` };
      if (!spec.dynamic) {
        return { successful: false, reason: `parameter '${c.name}' = ${quote(c.value)}: read-only at runtime (set it in the params file and restart)` };
      }
      const why = checkValue(spec, c.value);
      if (why !== undefined) return { successful: false, reason: why };
      next[c.name] = c.value;
    }
    const bad = inconsistencies(next as NodeParameterValues);
    if (bad.length > 0) return { successful: false, reason: bad.map((b) => b.why).join('; ') };
    return { successful: true, reason: '' };
  }

  #onSet(changes: readonly ParameterChange[]): SetParametersResult {
    const r = this.check(changes);
    if (!r.successful) {
      this.#logger.warn(`rejected parameter update: ${r.reason}`);
      return r;
    }
    const own = changes.filter((c) => this.#specs.has(c.name));
    this.#logger.info(`parameters updated: ${changes.map((c) => `${c.name}=${JSON.stringify(c.value)}`).join(', ')}`);
    if (own.length === 0) return r; // only ROS-owned parameters (use_sim_time, …): the client library applies them
    const next = { ...this.values } as Record<string, unknown>;
    for (const c of own) next[c.name] = c.value;
    this.#subject.next(Object.freeze(next as NodeParameterValues));
    return r;
  }
}

/**
 * The node-name keys of a params file, as rclnodejs 2.2.0 matches them (lib/node.js,
 * `_getNativeParameterOverrides`): it takes the parameters under `/**` and then, overriding
 * those, under its bare node name (`this.name()`, e.g. `video4spatial_nav`). rcl keeps every other
 * key as written, so a key with a leading slash or a namespace (`/video4spatial_nav`,
 * `/robot1/video4spatial_nav`, which launch_ros writes for a `parameters=[{...}]` dict when the
 * Node has a name and a namespace) never reaches an rclnodejs node: its parameters are silently
 * dropped. rclcpp would match those keys; rclnodejs does not.
 */
export type ParamsKeyMatch = 'wildcard' | 'node' | 'ignored_full_name' | 'other_node';

/** How rclnodejs 2.2.0 treats one params-file key for a node called `nodeName` (see ParamsKeyMatch). */
export function classifyParamsKey(key: string, nodeName: string): ParamsKeyMatch {
  if (key === '/**') return 'wildcard';
  if (key === nodeName) return 'node';
  if (key === `/${nodeName}` || key.endsWith(`/${nodeName}`)) return 'ignored_full_name';
  return 'other_node';
}

function paramsFileEntries(text: string, source: string): [string, Record<string, unknown>][] {
  let doc: unknown;
  try {
    doc = yaml.load(text);
  } catch (e) {
    throw new ParameterError(`${source}: not YAML: ${(e as Error).message}`, 'params_file');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new ParameterError(`${source}: expected a map of node names, got ${JSON.stringify(doc)}`, 'params_file');
  }
  return Object.entries(doc as Record<string, unknown>).map(([key, entry]) => {
    const params = typeof entry === 'object' && entry !== null ? (entry as Record<string, unknown>)['ros__parameters'] : undefined;
    if (typeof params !== 'object' || params === null || Array.isArray(params)) {
      throw new ParameterError(`${source}: '${key}' has no 'ros__parameters' map`, 'params_file');
    }
    return [key, params as Record<string, unknown>];
  });
}

/**
 * Reads a ROS 2 params file and returns what an rclnodejs 2.2.0 node called `nodeName` gets from
 * it: the `/**` entry, then the bare `nodeName` entry over it. Entries under the node's full name
 * (`/video4spatial_nav`, `/ns/video4spatial_nav`) are ignored, as rclnodejs ignores them
 * (`ignoredParamsKeys` lists them).
 * @throws ParameterError when the text is not such a file.
 */
export function parseParamsFile(text: string, nodeName: string, source = 'params file'): Record<string, unknown> {
  const entries = paramsFileEntries(text, source);
  const out: Record<string, unknown> = {};
  for (const [, params] of entries.filter(([k]) => classifyParamsKey(k, nodeName) === 'wildcard')) Object.assign(out, params);
  for (const [, params] of entries.filter(([k]) => classifyParamsKey(k, nodeName) === 'node')) Object.assign(out, params);
  return out;
}

/**
 * The keys of a params file that name this node by its full name, which rclnodejs 2.2.0 ignores
 * (see ParamsKeyMatch): write them as `/**` or as the bare node name instead.
 * @throws ParameterError when the text is not a params file.
 */
export function ignoredParamsKeys(text: string, nodeName: string, source = 'params file'): string[] {
  return paramsFileEntries(text, source)
    .map(([k]) => k)
    .filter((k) => classifyParamsKey(k, nodeName) === 'ignored_full_name');
}
