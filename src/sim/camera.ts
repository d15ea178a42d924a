/** The simulator's cameras: the model's canonical camera and re-exports of the pinhole model. */
import { cameraFromFov, type PinholeCamera } from '../core/camera.js';

export { cameraFromFov, scaleCamera, projectBodyPoint, pixelToFloor, type PinholeCamera } from '../core/camera.js';

/** The model's canonical camera: 64×64, 60° horizontal FOV, 0.5 m high, level. */
export const MODEL_CAMERA_DEFAULT: PinholeCamera = cameraFromFov(64, 64, Math.PI / 3, 0.5, 0);
