import { strict as assert } from 'node:assert';
import {
  IDENTITY_QUATERNION,
  composePose2D,
  composeTransforms,
  invertTransform,
  normalizeAngle,
  pose2DToTransform,
  quaternionToYaw,
  relativePose2D,
  rotateVector,
  transformPoint,
  yawToQuaternion,
} from '../../src/core/geometry.js';

const close = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol, `${a} != ${b}`);

describe('core/geometry', () => {
  it('identity quaternion is identity (no 180° slip)', () => {
    const v = { x: 1, y: 2, z: 3 };
    const r = rotateVector(IDENTITY_QUATERNION, v);
    assert.deepEqual(r, v);
    assert.deepEqual(yawToQuaternion(0), { x: 0, y: 0, z: 0, w: 1 });
    close(quaternionToYaw(IDENTITY_QUATERNION), 0);
  });

  it('yaw round-trips through the {x,y,z,w} quaternion', () => {
    for (const yaw of [-3, -1.2, 0, 0.5, 1.5707963, 3.1]) close(quaternionToYaw(yawToQuaternion(yaw)), yaw, 1e-12);
    const p = rotateVector(yawToQuaternion(Math.PI / 2), { x: 1, y: 0, z: 0 });
    close(p.x, 0, 1e-12);
    close(p.y, 1, 1e-12);
  });

  it('normalizes angles into (-π, π]', () => {
    close(normalizeAngle(3 * Math.PI), Math.PI);
    close(normalizeAngle(-Math.PI), Math.PI);
    close(normalizeAngle(0.1 - 4 * Math.PI), 0.1, 1e-12);
  });

  it('composes and inverts 3D transforms', () => {
    const a = pose2DToTransform({ x: 1, y: 2, yaw: 0.7 }, 0.3);
    const b = pose2DToTransform({ x: -0.5, y: 0.25, yaw: -1.1 }, 0.1);
    const ab = composeTransforms(a, b);
    const back = composeTransforms(invertTransform(a), ab);
    const p = { x: 0.3, y: -0.2, z: 1 };
    const q1 = transformPoint(back, p);
    const q2 = transformPoint(b, p);
    close(q1.x, q2.x, 1e-12);
    close(q1.y, q2.y, 1e-12);
    close(q1.z, q2.z, 1e-12);
  });

  it('planar relative pose inverts composition', () => {
    const a = { x: 1, y: -2, yaw: 2.5 };
    const b = { x: 0.3, y: 0.4, yaw: -0.2 };
    const c = composePose2D(a, b);
    const r = relativePose2D(a, c);
    close(r.x, b.x, 1e-12);
    close(r.y, b.y, 1e-12);
    close(r.yaw, b.yaw, 1e-12);
  });
});
