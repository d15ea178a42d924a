/**
 * A kinematic stand-in for Nav2 used by the demo and the evaluation until the simulated Nav2
 * action server drives the robot: plans A* on the world's inflated grid (as Nav2 would on its
 * costmap), follows the path with unicycle limits, and turns to the goal's heading.
 */
import { angleDiff, normalizeAngle, type Pose2D } from '../core/geometry.js';
import { findFreeNear, type World } from './world.js';
import { clearanceCost, planPath, EXPLORE_DT } from './scenario.js';

export const DRIVE_SPEED = 0.5; // m/s
export const DRIVE_TURN_RATE = 1.0; // rad/s

export interface DriveResult {
  /** Poses every dt seconds, starting after `from`. */
  poses: Pose2D[];
  /** 'reached', or why not. */
  status: 'reached' | 'no_path';
  /** The goal actually used (moved to the nearest free cell when the asked one was blocked). */
  goal: Pose2D;
}

const costCache = new WeakMap<World, Float32Array>();

export function driveTo(world: World, from: Pose2D, goal: Pose2D, dt = EXPLORE_DT, maxDistanceM = Infinity): DriveResult {
  let cost = costCache.get(world);
  if (!cost) {
    cost = clearanceCost(world.grid);
    costCache.set(world, cost);
  }
  let g = goal;
  if (world.free.occupiedAt(g.x, g.y)) {
    const f = findFreeNear(world.free, g.x, g.y, 1.5);
    if (!f) return { poses: [], status: 'no_path', goal };
    g = { x: f[0], y: f[1], yaw: goal.yaw };
  }
  const path = planPath(world, from, g, cost);
  if (!path) return { poses: [], status: 'no_path', goal: g };
  const poses: Pose2D[] = [];
  let pose = from;
  let travelled = 0;
  for (let k = 1; k < path.length; k++) {
    const [tx, ty] = path[k] as [number, number];
    for (let guard = 0; guard < 5000; guard++) {
      const dist = Math.hypot(tx - pose.x, ty - pose.y);
      if (dist < 0.03 || travelled >= maxDistanceM) break;
      const err = angleDiff(Math.atan2(ty - pose.y, tx - pose.x), pose.yaw);
      const maxTurn = DRIVE_TURN_RATE * dt;
      const yaw = normalizeAngle(pose.yaw + Math.max(-maxTurn, Math.min(maxTurn, err)));
      const step = Math.abs(err) > 0.35 ? 0 : Math.min(DRIVE_SPEED * dt, dist);
      travelled += step;
      pose = { x: pose.x + step * Math.cos(yaw), y: pose.y + step * Math.sin(yaw), yaw };
      poses.push(pose);
    }
  }
  for (let guard = 0; guard < 200; guard++) {
    const err = angleDiff(g.yaw, pose.yaw);
    if (Math.abs(err) < 0.02) break;
    const maxTurn = DRIVE_TURN_RATE * dt;
    pose = { ...pose, yaw: normalizeAngle(pose.yaw + Math.max(-maxTurn, Math.min(maxTurn, err))) };
    poses.push(pose);
  }
  return { poses, status: 'reached', goal: g };
}
