/**
 * Typed errors. Every message quotes the bad value and where it came from, so the node can put
 * it on the right channel (action result, diagnostics, log) without rewording.
 */

/** Base class: `code` is a stable machine-readable reason used for counting in diagnostics. */
export class Video4SpatialError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A camera frame (Image / CompressedImage / CameraInfo) that cannot be used. */
export class BadFrameError extends Video4SpatialError {
  constructor(message: string, code = 'bad_frame') {
    super(message, code);
  }
}

/** A transform lookup that cannot be answered (missing, too old, NaN). */
export class TransformError extends Video4SpatialError {
  constructor(message: string, code = 'transform') {
    super(message, code);
  }
}

/** Model files or manifest missing, corrupt, or inconsistent. */
export class ModelLoadError extends Video4SpatialError {
  constructor(message: string, code = 'model_load') {
    super(message, code);
  }
}

/** A model run failed or returned unusable numbers (NaN, wrong shape). */
export class InferenceError extends Video4SpatialError {
  constructor(message: string, code = 'inference') {
    super(message, code);
  }
}

/** No candidate produced a path that passes the checks. */
export class NoValidPathError extends Video4SpatialError {
  constructor(message: string, code = 'no_valid_path') {
    super(message, code);
  }
}

/** A parameter value that was rejected (at start-up or at runtime). */
export class ParameterError extends Video4SpatialError {
  constructor(message: string, code = 'parameter') {
    super(message, code);
  }
}

/** A message that does not match its definition (CDR encode/decode). */
export class MessageError extends Video4SpatialError {
  constructor(message: string, code = 'message') {
    super(message, code);
  }
}

/** A bag file that is not a valid rosbag2 MCAP. */
export class BagFormatError extends Video4SpatialError {
  constructor(message: string, code = 'bag_format') {
    super(message, code);
  }
}

/** A goal that was cancelled or preempted while it ran. */
export class CancelledError extends Video4SpatialError {
  constructor(message = 'cancelled', code = 'cancelled') {
    super(message, code);
  }
}
