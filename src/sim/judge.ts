/**
 * Ground-truth judgement of where the robot ended (never the node's own belief):
 * success = the robot is within reach of the target (centre distance ≤ standoff distance +
 * REACH_SLACK_M) and faces it (|bearing to the target's centre| ≤ FACING_TOLERANCE_RAD).
 */
import { angleDiff, type Pose2D } from '../core/geometry.js';
import type { PinholeCamera } from '../core/camera.js';
import { render } from './renderer.js';
import { standoffDistance, type World, type WorldObject } from './world.js';

export const REACH_SLACK_M = 0.5;
export const FACING_TOLERANCE_RAD = (20 * Math.PI) / 180;

export interface Judgement {
  success: boolean;
  /** Distance from the robot to the target's centre (m). */
  distanceM: number;
  /** Allowed distance (m): standoff distance + slack. */
  reachM: number;
  /** Bearing of the target's centre in the robot frame (deg, + left). */
  bearingDeg: number;
  /** Target pixels and horizontal SD in the true view from the final pose (SD −1 when unseen). */
  visiblePixels: number;
  sd: number;
}

export function judge(world: World, target: WorldObject, pose: Pose2D, camera: PinholeCamera): Judgement {
  const d = Math.hypot(target.x - pose.x, target.y - pose.y);
  const bearing = angleDiff(Math.atan2(target.y - pose.y, target.x - pose.x), pose.yaw);
  const reach = standoffDistance(target) + REACH_SLACK_M;
  const view = render(world, pose, camera, { idsOnly: true });
  const b = view.objects.get(target.id);
  const sd = b ? Math.abs((b.x0 + b.x1 + 1) / 2 / camera.width - 0.5) : -1;
  return {
    success: d <= reach && Math.abs(bearing) <= FACING_TOLERANCE_RAD,
    distanceM: d,
    reachM: reach,
    bearingDeg: (bearing * 180) / Math.PI,
    visiblePixels: b?.pixels ?? 0,
    sd,
  };
}
