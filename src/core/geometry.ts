/**
 * Geometry primitives shared by every layer. Pure: no I/O.
 *
 * Conventions (REP-103): metres, radians, right-handed; bodies x forward, y left, z up;
 * optical frames z forward, x right, y down. Quaternions are always `{x, y, z, w}` objects,
 * never bare arrays (a `[w,x,y,z]` array with the last element set to 1 is a 180° turn).
 */

/** A 3-vector in metres (or unitless for directions). */
export interface Vec3 {
  x: number;
  y: number;
  z: number;
}

/** A unit quaternion, Hamilton convention, scalar part `w`. */
export interface Quaternion {
  x: number;
  y: number;
  z: number;
  w: number;
}

/** A planar pose in some frame: position in metres, heading (yaw about +z) in radians. */
export interface Pose2D {
  x: number;
  y: number;
  yaw: number;
}

/** A rigid transform / 3D pose: translation in metres and rotation. */
export interface Transform3D {
  translation: Vec3;
  rotation: Quaternion;
}

export const IDENTITY_QUATERNION: Readonly<Quaternion> = Object.freeze({ x: 0, y: 0, z: 0, w: 1 });

/** Wraps an angle to (-π, π]. */
export function normalizeAngle(a: number): number {
  let r = a % (2 * Math.PI);
  if (r <= -Math.PI) r += 2 * Math.PI;
  if (r > Math.PI) r -= 2 * Math.PI;
  return r;
}

/** Signed smallest difference a − b, in (-π, π]. */
export function angleDiff(a: number, b: number): number {
  return normalizeAngle(a - b);
}

/** Quaternion for a rotation of `yaw` radians about +z. */
export function yawToQuaternion(yaw: number): Quaternion {
  return { x: 0, y: 0, z: Math.sin(yaw / 2), w: Math.cos(yaw / 2) };
}

/** Yaw (rotation about +z, radians) of a quaternion, ZYX convention. */
export function quaternionToYaw(q: Quaternion): number {
  return Math.atan2(2 * (q.w * q.z + q.x * q.y), 1 - 2 * (q.y * q.y + q.z * q.z));
}

export function quaternionNorm(q: Quaternion): number {
  return Math.hypot(q.x, q.y, q.z, q.w);
}

/** Hamilton product a ⊗ b (apply b first, then a). */
export function quaternionMultiply(a: Quaternion, b: Quaternion): Quaternion {
  return {
    w: a.w * b.w - a.x * b.x - a.y * b.y - a.z * b.z,
    x: a.w * b.x + a.x * b.w + a.y * b.z - a.z * b.y,
    y: a.w * b.y - a.x * b.z + a.y * b.w + a.z * b.x,
    z: a.w * b.z + a.x * b.y - a.y * b.x + a.z * b.w,
  };
}

export function quaternionConjugate(q: Quaternion): Quaternion {
  return { x: -q.x, y: -q.y, z: -q.z, w: q.w };
}

/** Rotates vector v by unit quaternion q. */
export function rotateVector(q: Quaternion, v: Vec3): Vec3 {
  // t = 2 * cross(q.xyz, v); v' = v + w * t + cross(q.xyz, t)
  const tx = 2 * (q.y * v.z - q.z * v.y);
  const ty = 2 * (q.z * v.x - q.x * v.z);
  const tz = 2 * (q.x * v.y - q.y * v.x);
  return {
    x: v.x + q.w * tx + (q.y * tz - q.z * ty),
    y: v.y + q.w * ty + (q.z * tx - q.x * tz),
    z: v.z + q.w * tz + (q.x * ty - q.y * tx),
  };
}

/** Normalised lerp / slerp between unit quaternions, t in [0, 1]. */
export function quaternionSlerp(a: Quaternion, b: Quaternion, t: number): Quaternion {
  let dot = a.x * b.x + a.y * b.y + a.z * b.z + a.w * b.w;
  let bb = b;
  if (dot < 0) {
    dot = -dot;
    bb = { x: -b.x, y: -b.y, z: -b.z, w: -b.w };
  }
  if (dot > 0.9995) {
    const r = {
      x: a.x + t * (bb.x - a.x),
      y: a.y + t * (bb.y - a.y),
      z: a.z + t * (bb.z - a.z),
      w: a.w + t * (bb.w - a.w),
    };
    const n = quaternionNorm(r);
    return { x: r.x / n, y: r.y / n, z: r.z / n, w: r.w / n };
  }
  const theta0 = Math.acos(dot);
  const theta = theta0 * t;
  const s0 = Math.cos(theta) - (dot * Math.sin(theta)) / Math.sin(theta0);
  const s1 = Math.sin(theta) / Math.sin(theta0);
  return {
    x: s0 * a.x + s1 * bb.x,
    y: s0 * a.y + s1 * bb.y,
    z: s0 * a.z + s1 * bb.z,
    w: s0 * a.w + s1 * bb.w,
  };
}

export const IDENTITY_TRANSFORM: Readonly<Transform3D> = Object.freeze({
  translation: Object.freeze({ x: 0, y: 0, z: 0 }),
  rotation: IDENTITY_QUATERNION,
});

/** Composition a ∘ b: the transform that applies b, then a (T_ac = T_ab · T_bc). */
export function composeTransforms(a: Transform3D, b: Transform3D): Transform3D {
  const t = rotateVector(a.rotation, b.translation);
  return {
    translation: { x: a.translation.x + t.x, y: a.translation.y + t.y, z: a.translation.z + t.z },
    rotation: quaternionMultiply(a.rotation, b.rotation),
  };
}

export function invertTransform(a: Transform3D): Transform3D {
  const qi = quaternionConjugate(a.rotation);
  const t = rotateVector(qi, a.translation);
  return { translation: { x: -t.x, y: -t.y, z: -t.z }, rotation: qi };
}

/** Applies transform a to point p. */
export function transformPoint(a: Transform3D, p: Vec3): Vec3 {
  const r = rotateVector(a.rotation, p);
  return { x: r.x + a.translation.x, y: r.y + a.translation.y, z: r.z + a.translation.z };
}

export function pose2DToTransform(p: Pose2D, z = 0): Transform3D {
  return { translation: { x: p.x, y: p.y, z }, rotation: yawToQuaternion(p.yaw) };
}

export function transformToPose2D(t: Transform3D): Pose2D {
  return { x: t.translation.x, y: t.translation.y, yaw: quaternionToYaw(t.rotation) };
}

/** Pose composition in the plane: a ⊕ b (b expressed in a's frame). */
export function composePose2D(a: Pose2D, b: Pose2D): Pose2D {
  const c = Math.cos(a.yaw);
  const s = Math.sin(a.yaw);
  return { x: a.x + c * b.x - s * b.y, y: a.y + s * b.x + c * b.y, yaw: normalizeAngle(a.yaw + b.yaw) };
}

/** Inverse of a planar pose. */
export function invertPose2D(a: Pose2D): Pose2D {
  const c = Math.cos(a.yaw);
  const s = Math.sin(a.yaw);
  return { x: -c * a.x - s * a.y, y: s * a.x - c * a.y, yaw: normalizeAngle(-a.yaw) };
}

/** b expressed in a's frame: a⁻¹ ⊕ b. */
export function relativePose2D(a: Pose2D, b: Pose2D): Pose2D {
  return composePose2D(invertPose2D(a), b);
}

export function isFiniteVec3(v: Vec3): boolean {
  return Number.isFinite(v.x) && Number.isFinite(v.y) && Number.isFinite(v.z);
}

export function isFiniteQuaternion(q: Quaternion): boolean {
  return Number.isFinite(q.x) && Number.isFinite(q.y) && Number.isFinite(q.z) && Number.isFinite(q.w);
}

/** Tolerance on |q| − 1 within which a quaternion counts as unit. */
export const UNIT_QUATERNION_TOLERANCE = 1e-3;

export function isUnitQuaternion(q: Quaternion, tol = UNIT_QUATERNION_TOLERANCE): boolean {
  return isFiniteQuaternion(q) && Math.abs(quaternionNorm(q) - 1) <= tol;
}
