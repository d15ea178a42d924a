/**
 * The registry of ROS 2 message definitions this project publishes, subscribes, records or calls
 * as actions, and CDR encode/decode with them.
 *
 * - Standard types come from @foxglove/rosmsg-msgs-common (`ros2humble` for Humble, `ros2jazzy`
 *   for the other distros), turned back into ROS 2 `.msg` text (`time`/`duration` as
 *   `builtin_interfaces/Time`/`Duration`, as rosidl writes them).
 * - nav2_msgs/action/NavigateThroughPoses (per distro), nav_msgs/msg/Goals and
 *   nav2_msgs/msg/WaypointStatus are written from their specs (nav2Definitions.ts); our own two
 *   interfaces are the text of `msg/` (ownDefinitions.ts).
 * - Every encode first validates the message against the parsed definition, so an unknown
 *   (misspelt) field or a value of the wrong primitive type throws MessageError naming the type
 *   and the field path, as it would fail on a robot (rclnodejs rejects it too). Missing fields
 *   take their defaults (0, '', false, empty arrays, identity quaternion), as in rclnodejs.
 *
 * Type names are ROS 2 full names: `sensor_msgs/msg/Image`, `nav2_msgs/action/NavigateThroughPoses`
 * (an action; its messages are `…_Goal`, `…_Result`, `…_Feedback`). `pkg/Name` is accepted as
 * `pkg/msg/Name`.
 */
import { nsToTime, timeToNs as coreTimeToNs } from '../../core/tf/stamp.js';
import { ros2humble, ros2jazzy } from '@foxglove/rosmsg-msgs-common';
import { parse } from '@foxglove/rosmsg';
import { MessageReader } from '@foxglove/rosmsg2-serialization';
import type { MessageDefinition, MessageDefinitionField } from '@foxglove/message-definition';
import { MessageError } from '../../core/errors.js';
import { CdrMessageWriter, utf8Length } from './cdrWriter.js';
import {
  NAV2_WAYPOINT_STATUS,
  NAVIGATE_THROUGH_POSES_HUMBLE,
  NAVIGATE_THROUGH_POSES_JAZZY,
  NAVIGATE_THROUGH_POSES_KILTED,
  NAV_MSGS_GOALS,
} from './nav2Definitions.js';
import { IMAGINED_TRAJECTORY_MSG, NAVIGATE_TO_OBJECT_ACTION } from './ownDefinitions.js';
import type { NavigateThroughPosesGoalHumble, NavigateThroughPosesGoalKilted, PoseStamped, Time } from './types.js';

export * from './types.js';

/** ROS 2 distributions whose definitions differ for the types we use. */
export const ROS_DISTROS = ['humble', 'jazzy', 'kilted', 'rolling'] as const;
export type RosDistro = (typeof ROS_DISTROS)[number];
/** Definitions used when no distro is given. */
export const DEFAULT_DISTRO: RosDistro = 'jazzy';

/** The type names used across the project (topics and actions of the node, see docs/ros.md). */
export const TYPES = {
  Image: 'sensor_msgs/msg/Image',
  CompressedImage: 'sensor_msgs/msg/CompressedImage',
  CameraInfo: 'sensor_msgs/msg/CameraInfo',
  TFMessage: 'tf2_msgs/msg/TFMessage',
  TransformStamped: 'geometry_msgs/msg/TransformStamped',
  PoseStamped: 'geometry_msgs/msg/PoseStamped',
  Path: 'nav_msgs/msg/Path',
  Goals: 'nav_msgs/msg/Goals',
  Odometry: 'nav_msgs/msg/Odometry',
  OccupancyGrid: 'nav_msgs/msg/OccupancyGrid',
  Twist: 'geometry_msgs/msg/Twist',
  String: 'std_msgs/msg/String',
  MarkerArray: 'visualization_msgs/msg/MarkerArray',
  DiagnosticArray: 'diagnostic_msgs/msg/DiagnosticArray',
  ImaginedTrajectory: 'video4spatial_nav/msg/ImaginedTrajectory',
  NavigateToObject: 'video4spatial_nav/action/NavigateToObject',
  NavigateThroughPoses: 'nav2_msgs/action/NavigateThroughPoses',
} as const;

/** Standard message types taken from @foxglove/rosmsg-msgs-common (with their dependencies). */
const COMMON_ROOTS = [
  'std_msgs/String',
  'std_msgs/Empty',
  'sensor_msgs/Image',
  'sensor_msgs/CompressedImage',
  'sensor_msgs/CameraInfo',
  'tf2_msgs/TFMessage',
  'geometry_msgs/TransformStamped',
  'geometry_msgs/PoseStamped',
  'geometry_msgs/Twist',
  'geometry_msgs/TwistStamped',
  'nav_msgs/Path',
  'nav_msgs/Odometry',
  'nav_msgs/OccupancyGrid',
  'visualization_msgs/MarkerArray',
  'diagnostic_msgs/DiagnosticArray',
  'rcl_interfaces/Log',
] as const;

const PRIMITIVES = new Set([
  'bool', 'byte', 'char', 'float32', 'float64', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'string', 'wstring',
]);
const SEPARATOR = '='.repeat(80);

type CommonDefs = Record<string, MessageDefinition>;

/** One registry: full type name → its own `.msg` text (no dependencies). */
type TextRegistry = Map<string, string>;

/** `pkg/Name` or `pkg/msg/Name` → `pkg/msg/Name`; other forms are returned unchanged. */
export function normalizeType(type: string): string {
  const parts = type.split('/');
  return parts.length === 2 ? `${parts[0]}/msg/${parts[1]}` : type;
}

/** `pkg/msg/Name` → `pkg/Name` (rosbag2's `MSG:` lines and field types). */
function shortName(type: string): string {
  return type.replace('/msg/', '/');
}

/** ROS 2 `.msg` text of a definition from rosmsg-msgs-common. */
function definitionToText(def: MessageDefinition): string {
  const lines: string[] = [];
  for (const f of def.definitions) {
    let type = f.type === 'time' ? 'builtin_interfaces/Time' : f.type === 'duration' ? 'builtin_interfaces/Duration' : f.type;
    if (f.type === 'string' && f.upperBound !== undefined) type += `<=${f.upperBound}`;
    if (f.isConstant) {
      lines.push(`${type} ${f.name}=${f.valueText ?? String(f.value)}`);
      continue;
    }
    if (f.isArray) type += f.arrayLength !== undefined ? `[${f.arrayLength}]` : f.arrayUpperBound !== undefined ? `[<=${f.arrayUpperBound}]` : '[]';
    const dflt = f.defaultValue === undefined ? '' : ` ${Array.isArray(f.defaultValue) ? `[${f.defaultValue.join(', ')}]` : String(f.defaultValue)}`;
    lines.push(`${type} ${f.name}${dflt}`);
  }
  return lines.join('\n') + '\n';
}

/** Complex field types named in a `.msg` text, as full names, in order of appearance. */
function dependenciesOf(text: string, ownPackage: string): string[] {
  const deps: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '' || line === '---') continue;
    const first = line.split(/\s+/)[0] ?? '';
    const base = first.replace(/\[.*\]$/, '').replace(/<=\d+$/, '');
    if (PRIMITIVES.has(base)) continue;
    const full = normalizeType(base.includes('/') ? base : `${ownPackage}/${base}`);
    if (!deps.includes(full)) deps.push(full);
  }
  return deps;
}

/** Splits `.action` text into its goal, result and feedback sections. */
export function splitActionText(type: string, text: string): { goal: string; result: string; feedback: string } {
  const parts = text.split(/^---[ \t]*$/m);
  if (parts.length !== 3) {
    throw new MessageError(`Action definition ${type} must have 3 sections separated by '---', found ${parts.length}`, 'message_definition');
  }
  const strip = (s: string): string => s.replace(/^\n/, '');
  return { goal: strip(parts[0] ?? ''), result: strip(parts[1] ?? ''), feedback: strip(parts[2] ?? '') };
}

function addAction(reg: TextRegistry, actions: Set<string>, type: string, text: string): void {
  const { goal, result, feedback } = splitActionText(type, text);
  reg.set(`${type}_Goal`, goal);
  reg.set(`${type}_Result`, result);
  reg.set(`${type}_Feedback`, feedback);
  actions.add(type);
}

interface Registry {
  texts: TextRegistry;
  actions: Set<string>;
}

/** The `.msg` text of a rosmsg-msgs-common definition `pkg/Name`. */
export function commonText(common: Record<string, MessageDefinition>, name: string, distro: string): string {
  const def = common[name];
  if (!def) throw new MessageError(`rosmsg-msgs-common (${distro}) has no definition of ${name}`, 'message_definition');
  return definitionToText(def);
}

/** Throws when a text names a type that is not in the registry (full name → text). */
export function checkDependencies(texts: ReadonlyMap<string, string>, distro: string): void {
  for (const [type, text] of texts) {
    for (const dep of dependenciesOf(text, type.split('/')[0] ?? '')) {
      if (!texts.has(dep)) throw new MessageError(`${type} (${distro}) depends on ${dep}, which is not registered`, 'message_definition');
    }
  }
}

function buildRegistry(distro: RosDistro): Registry {
  const common = (distro === 'humble' ? ros2humble : ros2jazzy) as unknown as CommonDefs;
  const texts: TextRegistry = new Map();
  const addCommon = (name: string): void => {
    const full = normalizeType(name);
    if (texts.has(full)) return;
    const text = commonText(common, name, distro);
    texts.set(full, text);
    for (const dep of dependenciesOf(text, name.split('/')[0] ?? '')) addCommon(shortName(dep));
  };
  for (const root of COMMON_ROOTS) addCommon(root);
  texts.set('nav_msgs/msg/Goals', NAV_MSGS_GOALS);
  texts.set('video4spatial_nav/msg/ImaginedTrajectory', IMAGINED_TRAJECTORY_MSG);
  const actions = new Set<string>();
  addAction(texts, actions, 'video4spatial_nav/action/NavigateToObject', NAVIGATE_TO_OBJECT_ACTION);
  const ntp =
    distro === 'humble' ? NAVIGATE_THROUGH_POSES_HUMBLE : distro === 'jazzy' ? NAVIGATE_THROUGH_POSES_JAZZY : NAVIGATE_THROUGH_POSES_KILTED;
  if (distro === 'kilted' || distro === 'rolling') texts.set('nav2_msgs/msg/WaypointStatus', NAV2_WAYPOINT_STATUS);
  addAction(texts, actions, 'nav2_msgs/action/NavigateThroughPoses', ntp);
  checkDependencies(texts, distro);
  return { texts, actions };
}

const registries = new Map<RosDistro, Registry>();
function registry(distro: RosDistro): Registry {
  if (!(ROS_DISTROS as readonly string[]).includes(distro)) {
    throw new MessageError(`Unknown ROS distro '${String(distro)}'; expected one of ${ROS_DISTROS.join(', ')}`, 'message_distro');
  }
  let r = registries.get(distro);
  if (!r) {
    r = buildRegistry(distro);
    registries.set(distro, r);
  }
  return r;
}

function textOf(reg: Registry, type: string, distro: RosDistro): string {
  const text = reg.texts.get(type);
  if (text !== undefined) return text;
  const hint = reg.actions.has(type) ? ` (${type} is an action: use actionTypes('${type}') for its goal/result/feedback types)` : '';
  throw new MessageError(`Unknown message type '${type}' (${distro})${hint}; known: ${[...reg.texts.keys()].sort().join(', ')}`, 'message_unknown_type');
}

/** Every message type the registry can encode (action messages included), sorted. */
export function knownTypes(distro: RosDistro = DEFAULT_DISTRO): string[] {
  return [...registry(distro).texts.keys()].sort();
}

/** Every action type in the registry, sorted. */
export function knownActions(distro: RosDistro = DEFAULT_DISTRO): string[] {
  return [...registry(distro).actions].sort();
}

/** The message types of an action: `<action>_Goal`, `<action>_Result`, `<action>_Feedback`. */
export function actionTypes(actionType: string, distro: RosDistro = DEFAULT_DISTRO): { goal: string; result: string; feedback: string } {
  if (!registry(distro).actions.has(actionType)) {
    throw new MessageError(`Unknown action type '${actionType}'; known: ${knownActions(distro).join(', ')}`, 'message_unknown_type');
  }
  return { goal: `${actionType}_Goal`, result: `${actionType}_Result`, feedback: `${actionType}_Feedback` };
}

/**
 * rosbag2 `ros2msg` schema text: the type's own text, then for each dependency (depth first, each
 * once) a line of 80 `=`, `MSG: pkg/Name` and its text.
 */
export function schemaText(type: string, distro: RosDistro = DEFAULT_DISTRO): string {
  const full = normalizeType(type);
  const reg = registry(distro);
  const root = textOf(reg, full, distro);
  const order: string[] = [];
  const visit = (t: string, text: string): void => {
    for (const dep of dependenciesOf(text, t.split('/')[0] ?? '')) {
      if (dep === full || order.includes(dep)) continue;
      order.push(dep);
      visit(dep, textOf(reg, dep, distro));
    }
  };
  visit(full, root);
  let out = root;
  for (const dep of order) out += `${SEPARATOR}\nMSG: ${shortName(dep)}\n${textOf(reg, dep, distro)}`;
  return out;
}

interface Codec {
  definitions: MessageDefinition[];
  /** Our writer (UTF-8 strings; see cdrWriter.ts), not @foxglove's MessageWriter. */
  writer: CdrMessageWriter;
  reader: MessageReader;
}
const codecs = new Map<string, Codec>();

function codec(type: string, distro: RosDistro): Codec {
  const full = normalizeType(type);
  const key = `${distro} ${full}`;
  let c = codecs.get(key);
  if (!c) {
    const definitions = parse(schemaText(full, distro), { ros2: true });
    c = { definitions, writer: new CdrMessageWriter(definitions), reader: new MessageReader(definitions) };
    codecs.set(key, c);
  }
  return c;
}

const INT_RANGES: Record<string, [number, number]> = {
  int8: [-128, 127],
  uint8: [0, 255],
  byte: [0, 255],
  char: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
};
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const EXACT_VIEW: Record<string, Array<abstract new (...args: any[]) => ArrayBufferView>> = {
  uint8: [Uint8Array, Uint8ClampedArray],
  byte: [Uint8Array, Uint8ClampedArray],
  char: [Uint8Array, Uint8ClampedArray],
  int8: [Int8Array],
  int16: [Int16Array],
  uint16: [Uint16Array],
  int32: [Int32Array],
  uint32: [Uint32Array],
  int64: [BigInt64Array],
  uint64: [BigUint64Array],
};
const BIG_RANGES: Record<string, [bigint, bigint]> = {
  int64: [-(1n << 63n), (1n << 63n) - 1n],
  uint64: [0n, (1n << 64n) - 1n],
};

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (Array.isArray(value)) return `array(${value.length})`;
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${(value as unknown as ArrayLike<unknown>).length})`;
  if (value === null) return 'null';
  if (typeof value === 'object') return 'object';
  return String(value);
}

class Validator {
  constructor(
    readonly type: string,
    readonly byName: Map<string, MessageDefinition>,
  ) {}

  fail(path: string, what: string): never {
    throw new MessageError(`${this.type}: field '${path || '(root)'}' ${what}`, 'message_invalid');
  }

  struct(def: MessageDefinition, value: unknown, path: string): void {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || ArrayBuffer.isView(value)) {
      this.fail(path, `must be a ${def.name ?? this.type} object, got ${describe(value)}`);
    }
    const fields = def.definitions.filter((f) => !f.isConstant);
    const names = new Set(fields.map((f) => f.name));
    for (const key of Object.keys(value)) {
      if (!names.has(key)) {
        this.fail(path ? `${path}.${key}` : key, `is not in ${def.name ?? this.type} (fields: ${[...names].join(', ') || 'none'})`);
      }
    }
    const obj = value as Record<string, unknown>;
    for (const f of fields) {
      const v = obj[f.name];
      if (v === undefined) continue;
      this.field(f, v, path ? `${path}.${f.name}` : f.name);
    }
  }

  field(f: MessageDefinitionField, v: unknown, path: string): void {
    if (!f.isArray) {
      this.scalar(f, v, path);
      return;
    }
    const isView = ArrayBuffer.isView(v) && !(v instanceof DataView);
    if (!Array.isArray(v) && !isView) this.fail(path, `must be an array of ${f.type}, got ${describe(v)}`);
    const arr = v as ArrayLike<unknown>;
    if (f.arrayLength !== undefined && arr.length !== f.arrayLength) this.fail(path, `must have exactly ${f.arrayLength} items, got ${arr.length}`);
    if (f.arrayUpperBound !== undefined && arr.length > f.arrayUpperBound) this.fail(path, `must have at most ${f.arrayUpperBound} items, got ${arr.length}`);
    if (isView) {
      const view = v as ArrayBufferView;
      const isBigView = view instanceof BigInt64Array || view instanceof BigUint64Array;
      const ok = f.type in BIG_RANGES ? isBigView : (f.type in INT_RANGES || f.type === 'float32' || f.type === 'float64') && !isBigView;
      if (!ok) this.fail(path, `is a ${describe(v)}, which cannot hold ${f.type} items`);
      // A typed array of exactly the field's type needs no per-item check (images stay fast).
      if (EXACT_VIEW[f.type]?.some((C) => view instanceof C) || f.type === 'float32' || f.type === 'float64') return;
    }
    for (let i = 0; i < arr.length; i++) this.scalar(f, arr[i], `${path}[${i}]`);
  }

  scalar(f: MessageDefinitionField, v: unknown, path: string): void {
    const t = f.type;
    if (f.isComplex) {
      const def = this.byName.get(t);
      if (!def) this.fail(path, `has type ${t}, which has no definition`);
      this.struct(def, v, path);
      return;
    }
    if (t === 'time' || t === 'duration') {
      this.struct({ name: t === 'time' ? 'builtin_interfaces/Time' : 'builtin_interfaces/Duration', definitions: TIME_FIELDS }, v, path);
      return;
    }
    if (t === 'bool') {
      if (typeof v !== 'boolean') this.fail(path, `must be a bool, got ${describe(v)}`);
      return;
    }
    if (t === 'string' || t === 'wstring') {
      if (typeof v !== 'string') this.fail(path, `must be a string, got ${describe(v)}`);
      // a ROS string is UTF-8 bytes ending in NUL (C and rclpy read it so): no NUL inside, no lone surrogates
      if (v.includes('\0')) this.fail(path, `must not contain NUL characters (a ROS string ends at the first NUL), got ${describe(v)} at index ${v.indexOf('\0')}`);
      if (LONE_SURROGATE.test(v)) this.fail(path, `is not valid Unicode (a lone UTF-16 surrogate cannot be encoded as UTF-8), got ${describe(v)}`);
      if (f.upperBound !== undefined && utf8Length(v) > f.upperBound) this.fail(path, `must be at most ${f.upperBound} bytes of UTF-8, got ${utf8Length(v)}`);
      return;
    }
    if (t === 'float32' || t === 'float64') {
      if (typeof v !== 'number') this.fail(path, `must be a ${t} number, got ${describe(v)}`);
      return;
    }
    const range = INT_RANGES[t];
    if (range) {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < range[0] || v > range[1]) {
        this.fail(path, `must be an integer ${t} in [${range[0]}, ${range[1]}], got ${describe(v)}`);
      }
      return;
    }
    const big = BIG_RANGES[t];
    if (big) {
      const ok = (typeof v === 'bigint' && v >= big[0] && v <= big[1]) || (typeof v === 'number' && Number.isSafeInteger(v) && BigInt(v) >= big[0]);
      if (!ok) this.fail(path, `must be a ${t} (bigint, or a safe integer number) in [${big[0]}, ${big[1]}], got ${describe(v)}`);
      return;
    }
    this.fail(path, `has unsupported primitive type ${t}`);
  }
}

/** An unpaired UTF-16 surrogate (not encodable as UTF-8). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const TIME_FIELDS: MessageDefinitionField[] = [
  { name: 'sec', type: 'int32', isComplex: false, isArray: false },
  { name: 'nanosec', type: 'uint32', isComplex: false, isArray: false },
];

/**
 * Checks `msg` against the definition of `type` without encoding it.
 * @throws MessageError naming the type and the field path (e.g. `poses[0].pose.positon`).
 */
export function validateMessage(type: string, msg: unknown, distro: RosDistro = DEFAULT_DISTRO): void {
  validateAgainst(normalizeType(type), codec(type, distro).definitions, msg);
}

/**
 * Checks `msg` against parsed definitions (`parse(text, {ros2: true})`: root first, then the
 * named dependencies); `type` is only used in error messages.
 * @throws MessageError naming the type and the field path.
 */
export function validateAgainst(type: string, definitions: readonly MessageDefinition[], msg: unknown): void {
  const byName = new Map<string, MessageDefinition>();
  for (const d of definitions) if (d.name) byName.set(d.name, d);
  new Validator(type, byName).struct(definitions[0] ?? { definitions: [] }, msg, '');
}

/**
 * Validates, then serialises `msg` to CDR (little endian, with the 4-byte encapsulation header).
 * @throws MessageError for an unknown type, an unknown field, or a value of the wrong type.
 */
export function encodeMessage(type: string, msg: unknown, distro: RosDistro = DEFAULT_DISTRO): Uint8Array {
  validateMessage(type, msg, distro);
  return codec(type, distro).writer.writeMessage(msg);
}

/**
 * Deserialises CDR bytes of `type`. Arrays of numbers come back as typed arrays (`uint8[]` as
 * Uint8Array, `float32[]` as Float32Array, `float64[]` as Float64Array), int64/uint64 as bigint.
 * @throws MessageError when the bytes are not a CDR `type` message.
 */
export function decodeMessage<T = unknown>(type: string, data: Uint8Array, distro: RosDistro = DEFAULT_DISTRO): T {
  const c = codec(type, distro);
  if (data.byteLength < 4 || data[0] !== 0) {
    throw new MessageError(`${normalizeType(type)}: ${data.byteLength} bytes are not CDR (no encapsulation header 00 0x …)`, 'message_decode');
  }
  try {
    return c.reader.readMessage<T>(data);
  } catch (e) {
    throw new MessageError(`${normalizeType(type)}: cannot decode ${data.byteLength} bytes: ${(e as Error).message}`, 'message_decode');
  }
}

/** A message of `type` with every field at its default, in the shape `decodeMessage` returns. */
export function defaultMessage<T = unknown>(type: string, distro: RosDistro = DEFAULT_DISTRO): T {
  return decodeMessage<T>(type, encodeMessage(type, {}, distro), distro);
}


/** ns since epoch → builtin_interfaces/Time (nanosec in [0, 1e9), sec floor-divided). */
export function timeFromNs(ns: bigint): Time {
  const t = nsToTime(ns);
  if (t.sec < -(2 ** 31) || t.sec >= 2 ** 31) throw new MessageError(`Time ${ns} ns does not fit builtin_interfaces/Time (int32 seconds)`, 'message_time');
  return t;
}

/** builtin_interfaces/Time → ns since epoch. */
export function timeToNs(t: Time): bigint {
  return coreTimeToNs(t);
}

/**
 * The NavigateThroughPoses goal for a distro: Humble/Jazzy `{poses: PoseStamped[]}`, Kilted and
 * later `{poses: nav_msgs/Goals}` (header = the first pose's header). `behavior_tree` '' = Nav2's default.
 */
export function navigateThroughPosesGoal(
  poses: readonly PoseStamped[],
  distro: RosDistro,
  behaviorTree = '',
): NavigateThroughPosesGoalHumble | NavigateThroughPosesGoalKilted {
  registry(distro); // validates the distro name
  if (distro === 'humble' || distro === 'jazzy') return { poses: [...poses], behavior_tree: behaviorTree };
  const header = poses[0]?.header ?? { stamp: { sec: 0, nanosec: 0 }, frame_id: '' };
  return { poses: { header, goals: [...poses] }, behavior_tree: behaviorTree };
}
