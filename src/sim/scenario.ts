/**
 * Scenarios: a seed gives a world, a scripted exploration (look around in every room, walk
 * through the doorways), the moment the object is requested, a target that was seen during the
 * exploration but is out of view at that moment, and ground truth for evaluation: the target's
 * position, a standoff pose facing it, and an oracle path (A* on the inflated grid, smoothed).
 * Map frame, metres, radians. Deterministic per seed.
 */
import { Rng, hash32 } from '../core/rng.js';
import { angleDiff, composePose2D, normalizeAngle, type Pose2D } from '../core/geometry.js';
import { aStar, pathLength, pointAlong, smoothPath, type OccupancyGrid } from './grid.js';
import { scaleCamera, MODEL_CAMERA_DEFAULT, type PinholeCamera } from './camera.js';
import { render } from './renderer.js';
import { KeyframeGate } from '../core/context/keyframeGate.js';
import { findFreeNear, generateWorld, standoffCandidates, type Room, type World, type WorldObject } from './world.js';

/** Exploration rate and speeds: frames every EXPLORE_DT seconds. */
export const EXPLORE_DT = 0.2;
export const EXPLORE_SPEED = 0.5; // m/s
export const EXPLORE_TURN_RATE = 1.0; // rad/s

/** Visibility thresholds, in pixels of a 32×32 id render of the model camera. */
export const VISIBILITY_CAMERA: PinholeCamera = scaleCamera(MODEL_CAMERA_DEFAULT, 32, 32);
export const SEEN_MIN_PIXELS = 8;
export const OUT_OF_VIEW_MAX_PIXELS = 0;

/** Cost map: extra A* cost near obstacles so oracle paths keep off the walls. */
export function clearanceCost(grid: OccupancyGrid): Float32Array {
  const d = grid.distanceField();
  const cost = new Float32Array(d.length);
  for (let k = 0; k < d.length; k++) {
    const m = d[k] as number;
    cost[k] = m < 0.45 ? (0.45 - m) * 6 : 0;
  }
  return cost;
}

/** Plans a smoothed collision-free path on the world's inflated grid, or undefined. */
export function planPath(world: World, from: { x: number; y: number }, to: { x: number; y: number }, cost?: Float32Array): [number, number][] | undefined {
  const raw = aStar(world.free, from.x, from.y, to.x, to.y, cost);
  return raw ? smoothPath(world.free, raw) : undefined;
}

/** Moves along `pts` from `pose` with unicycle limits, appending a pose every dt. */
function followPath(poses: Pose2D[], pts: [number, number][], dt: number): void {
  let pose = poses[poses.length - 1] as Pose2D;
  for (let k = 1; k < pts.length; k++) {
    const [tx, ty] = pts[k] as [number, number];
    for (let guard = 0; guard < 2000; guard++) {
      const dist = Math.hypot(tx - pose.x, ty - pose.y);
      if (dist < 0.03) break;
      const err = angleDiff(Math.atan2(ty - pose.y, tx - pose.x), pose.yaw);
      const maxTurn = EXPLORE_TURN_RATE * dt;
      const yaw = normalizeAngle(pose.yaw + Math.max(-maxTurn, Math.min(maxTurn, err)));
      const step = Math.abs(err) > 0.35 ? 0 : Math.min(EXPLORE_SPEED * dt, dist);
      pose = { x: pose.x + step * Math.cos(yaw), y: pose.y + step * Math.sin(yaw), yaw };
      poses.push(pose);
    }
  }
}

/** Turns in place by `angle` radians (sign = direction). */
function spin(poses: Pose2D[], angle: number, dt: number): void {
  const pose = poses[poses.length - 1] as Pose2D;
  const n = Math.ceil(Math.abs(angle) / (EXPLORE_TURN_RATE * dt));
  for (let k = 1; k <= n; k++) poses.push({ x: pose.x, y: pose.y, yaw: normalizeAngle(pose.yaw + (angle * k) / n) });
}

function randomFreeIn(world: World, room: Room, rng: Rng): [number, number] | undefined {
  for (let k = 0; k < 40; k++) {
    const x = rng.uniform(room.x0 + 0.4, room.x1 - 0.4);
    const y = rng.uniform(room.y0 + 0.4, room.y1 - 0.4);
    if (!world.free.occupiedAt(x, y)) return [x, y];
  }
  return findFreeNear(world.free, (room.x0 + room.x1) / 2, (room.y0 + room.y1) / 2);
}

/** Rooms in visiting order: start room first, then breadth-first through the doorways. */
function roomOrder(world: World, first: number): number[] {
  const order = [first];
  for (let k = 0; k < order.length; k++) {
    for (const d of world.doorways) {
      const [a, b] = d.rooms;
      const cur = order[k] as number;
      const other = a === cur ? b : b === cur ? a : -1;
      if (other >= 0 && !order.includes(other)) order.push(other);
    }
  }
  return order;
}

/**
 * The scripted explorer: from a random start, visit every room (walk to a point near its centre,
 * look all around), then wander to a random point of a random room and look around partly.
 * Returns poses every EXPLORE_DT seconds (the camera's frame stream; stream index = position).
 */
export function explore(world: World, rng: Rng): Pose2D[] {
  const startRoom = rng.pick(world.rooms);
  const s = randomFreeIn(world, startRoom, rng);
  if (!s) throw new Error(`world ${world.seed}: no free start position in room ${startRoom.id}`);
  const poses: Pose2D[] = [{ x: s[0], y: s[1], yaw: rng.uniform(-Math.PI, Math.PI) }];
  const cost = clearanceCost(world.grid);
  const visit = (room: Room, turn: number) => {
    const p = randomFreeIn(world, room, rng);
    if (!p) return;
    const cur = poses[poses.length - 1] as Pose2D;
    const path = planPath(world, cur, { x: p[0], y: p[1] }, cost);
    if (!path) return;
    followPath(poses, path, EXPLORE_DT);
    spin(poses, turn * (rng.next() < 0.5 ? 1 : -1), EXPLORE_DT);
  };
  spin(poses, 2 * Math.PI * (rng.next() < 0.5 ? 1 : -1), EXPLORE_DT);
  for (const id of roomOrder(world, startRoom.id).slice(1)) visit(world.rooms[id] as Room, 2 * Math.PI);
  visit(rng.pick(world.rooms), rng.uniform(0.5, 1.5) * Math.PI);
  return poses;
}

/** Per exploration frame: pixels of each object id in a 32×32 id render. */
export function visibilityTable(world: World, poses: readonly Pose2D[]): Uint16Array[] {
  return poses.map((p) => {
    const r = render(world, p, VISIBILITY_CAMERA, { idsOnly: true });
    const v = new Uint16Array(world.objects.length + 1);
    for (const [id, b] of r.objects) v[id] = b.pixels;
    return v;
  });
}

export interface GroundTruth {
  target: WorldObject;
  /** Standoff pose: reachable, facing the target's centre. */
  standoff: Pose2D;
  /** Oracle path from the request pose to the standoff (smoothed A*), metres. */
  oraclePath: [number, number][];
  oracleLength: number;
}

/** Ground truth for reaching `target` from `from`: the nearest reachable standoff and its path. */
export function groundTruthFor(world: World, from: Pose2D, target: WorldObject, cost?: Float32Array): GroundTruth | undefined {
  const reach = world.free.reachableFrom(from.x, from.y);
  const cands = standoffCandidates(world.free, world.grid, reach, target);
  cands.sort((a, b) => Math.hypot(a[0] - from.x, a[1] - from.y) - Math.hypot(b[0] - from.x, b[1] - from.y));
  let best: GroundTruth | undefined;
  for (const c of cands.slice(0, 4)) {
    const path = planPath(world, from, { x: c[0], y: c[1] }, cost);
    if (!path) continue;
    const len = pathLength(path);
    if (!best || len < best.oracleLength) {
      best = {
        target,
        standoff: { x: c[0], y: c[1], yaw: Math.atan2(target.y - c[1], target.x - c[0]) },
        oraclePath: path,
        oracleLength: len,
      };
    }
  }
  return best;
}

export interface Scenario extends GroundTruth {
  seed: number;
  world: World;
  /** The exploration's poses, one per camera frame (EXPLORE_DT apart). */
  exploration: Pose2D[];
  /** Index in `exploration` of the moment the object is requested. */
  requestIndex: number;
  /** Robot pose at the request. */
  start: Pose2D;
  /** Per exploration frame, pixels per object id (32×32 id render). */
  visibility: Uint16Array[];
}

/** Objects seen before `t` (≥ SEEN_MIN_PIXELS in some frame) and out of view at `t`. */
export function eligibleTargets(world: World, vis: readonly Uint16Array[], t: number): WorldObject[] {
  const now = vis[t] as Uint16Array;
  return world.objects.filter((o) => {
    if ((now[o.id] as number) > OUT_OF_VIEW_MAX_PIXELS) return false;
    for (let k = 0; k < t; k++) if (((vis[k] as Uint16Array)[o.id] as number) >= SEEN_MIN_PIXELS) return true;
    return false;
  });
}

/**
 * The evaluation scenario of `seed`: explore, then request an eligible object at the end of the
 * exploration (or the latest moment at which one is eligible). `objectName` forces the target
 * category when it is eligible.
 */
/** The random stream of world `seed`'s scenario: its exploration first, then the target's choice. */
export function scenarioRng(seed: number): Rng {
  return new Rng(hash32(seed, 0xe5c));
}

/** Stream stamp (ns) of exploration frame `i` (EXPLORE_DT apart, from 0). */
export function explorationStampNs(i: number): bigint {
  return BigInt(Math.round(i * EXPLORE_DT * 1e9));
}

/** Indices of the exploration frames the node's default keyframe gate admits, in order. */
export function explorationKeyframes(poses: readonly Pose2D[]): number[] {
  const gate = new KeyframeGate();
  const out: number[] = [];
  poses.forEach((pose, i) => {
    if (gate.consider({ stampNs: explorationStampNs(i), pose }).admit) out.push(i);
  });
  return out;
}

export function makeScenario(seed: number, objectName?: string): Scenario {
  const world = generateWorld(seed);
  const rng = scenarioRng(seed);
  const exploration = explore(world, rng);
  const visibility = visibilityTable(world, exploration);
  const cost = clearanceCost(world.grid);
  for (let t = exploration.length - 1; t > 0; t--) {
    let elig = eligibleTargets(world, visibility, t);
    if (objectName !== undefined) elig = elig.filter((o) => o.category === objectName);
    if (elig.length === 0) continue;
    const start = exploration[t] as Pose2D;
    for (const target of rng.shuffle(elig)) {
      const gt = groundTruthFor(world, start, target, cost);
      if (!gt) continue;
      return { seed, world, exploration: exploration.slice(0, t + 1), requestIndex: t, start, visibility: visibility.slice(0, t + 1), ...gt };
    }
  }
  const names = world.objects.map((o) => o.category).join(', ');
  throw new Error(
    objectName !== undefined
      ? `seed ${seed}: object '${objectName}' is never seen-then-out-of-view in this world (objects: ${names})`
      : `seed ${seed}: no object is seen and then out of view during the exploration`,
  );
}

/**
 * N poses along an oracle path, as the robot would see its way there: positions at arc-length
 * fractions i/N (i = 1..N); headings follow the path tangent, the second-to-last turns halfway
 * to the target, the last faces the target's centre (the standoff pose).
 */
export function posesAlongPath(gt: GroundTruth, n: number): Pose2D[] {
  const L = gt.oracleLength;
  const out: Pose2D[] = [];
  for (let i = 1; i <= n; i++) {
    if (i === n) {
      out.push({ ...gt.standoff });
      break;
    }
    const p = pointAlong(gt.oraclePath, (L * i) / n);
    const ahead = pointAlong(gt.oraclePath, Math.min(L, (L * i) / n + 0.5));
    let yaw = Math.hypot(ahead.x - p.x, ahead.y - p.y) > 0.05 ? Math.atan2(ahead.y - p.y, ahead.x - p.x) : p.yaw;
    if (i === n - 1) {
      const face = Math.atan2(gt.target.y - p.y, gt.target.x - p.x);
      yaw = normalizeAngle(yaw + angleDiff(face, yaw) / 2);
    }
    out.push({ x: p.x, y: p.y, yaw });
  }
  return out;
}

/**
 * A pose in a random room of `world` with at least `clearM` metres of free floor straight ahead
 * (as when the robot drives along a path); undefined after 2000 draws. Deterministic per rng state.
 */
export function openPose(world: World, rng: Rng, clearM: number): Pose2D | undefined {
  for (let k = 0; k < 2000; k++) {
    const r = rng.pick(world.rooms);
    const x = rng.uniform(r.x0 + 0.5, r.x1 - 0.5);
    const y = rng.uniform(r.y0 + 0.5, r.y1 - 0.5);
    const yaw = rng.uniform(-Math.PI, Math.PI);
    let ok = true;
    for (let d = 0; d <= clearM + 1e-9 && ok; d += 0.1) {
      const q = composePose2D({ x, y, yaw }, { x: d, y: 0, yaw: 0 });
      if (world.free.occupiedAt(q.x, q.y)) ok = false;
    }
    if (ok) return { x, y, yaw };
  }
  return undefined;
}
