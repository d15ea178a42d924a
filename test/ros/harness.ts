/**
 * Test harness for Video4SpatialNode on the in-process graph: a simulated world and robot, the
 * node with a test-double imagination model, an operator action client. Test doubles live here
 * (never in src/).
 */
import { strict as assert } from 'node:assert';
import { cameraFromFov } from '../../src/core/camera.js';
import { InferenceError } from '../../src/core/errors.js';
import { fromRgb8, planToObject, toRgb8 } from '../../src/core/planner/planToObject.js';
import { PlanPacer } from '../../src/sim/planPacer.js';
import type { ContextBuffer } from '../../src/core/context/ContextBuffer.js';
import type { ModelManifest } from '../../src/core/model/manifest.js';
import type { Pose2D } from '../../src/core/geometry.js';
import type { PlanResult } from '../../src/core/planner/planToObject.js';
import type { ImaginationModel, ModelSpec } from '../../src/core/sampler/model.js';
import { SimClock } from '../../src/ros/clock.js';
import type { Logger } from '../../src/ros/Graph.js';
import { InProcessBus } from '../../src/ros/InProcessGraph.js';
import type {
  NavigateThroughPosesFeedback,
  NavigateThroughPosesGoal,
  NavigateThroughPosesResult,
  NavigateToObjectFeedback,
  NavigateToObjectGoal,
  NavigateToObjectResult,
} from '../../src/ros/messages/types.js';
import { NAV2_TYPE, Video4SpatialNode, type NodeOptions } from '../../src/ros/Video4SpatialNode.js';
import { MODEL_CAMERA_DEFAULT } from '../../src/sim/camera.js';
import { clearanceCost, groundTruthFor, makeScenario, posesAlongPath } from '../../src/sim/scenario.js';
import { drawBox, render } from '../../src/sim/renderer.js';
import { SimNav2, SimRobot } from '../../src/sim/rosSim.js';
import { BOX_COLOR, CATEGORIES } from '../../src/sim/vocabulary.js';

export const SPEC: ModelSpec = { width: 64, height: 64, latentChannels: 1, latentHeight: 1, latentWidth: 1, contextFrames: 8, targetFrames: 6, vocabulary: ['<null>', ...CATEGORIES] };
const SHA = 'a'.repeat(64);
export const MANIFEST: ModelManifest = {
  name: 'ground-truth-double',
  format_version: 1,
  frame: { width: 64, height: 64, channels: 3 },
  camera: { width: 64, height: 64, fx: MODEL_CAMERA_DEFAULT.fx, fy: MODEL_CAMERA_DEFAULT.fy, cx: 32, cy: 32, height_m: 0.5, pitch_rad: 0 },
  frame_dt_s: 0.2,
  context_frames: 8,
  target_frames: 6,
  latent: { channels: 1, height: 1, width: 1 },
  vocabulary: SPEC.vocabulary as string[],
  box_color: [255, 0, 0],
  sampler: { steps: 2, shift: 1, guidance_scale: 3, candidates: 1 },
  files: {
    encoder: { path: 'e', sha256: SHA, inputs: [], outputs: [] },
    decoder: { path: 'd', sha256: SHA, inputs: [], outputs: [] },
    denoiser: { path: 'n', sha256: SHA, inputs: [], outputs: [] },
  },
};

/**
 * Unit-test double (never the product path): "imagines" the true video from the robot's CURRENT
 * pose to the target, rendered by the simulator, with the red box drawn.
 */
export class GroundTruthImagination implements ImaginationModel {
  readonly spec = SPEC;
  constructor(private readonly sc: ReturnType<typeof makeScenario>, private readonly robot: () => { x: number; y: number; yaw: number }) {}
  async encode(_f: Float32Array, batch: number) {
    return new Float32Array(batch);
  }
  async denoise(lat: Float32Array) {
    return new Float32Array(lat.length);
  }
  async decode(_l: Float32Array, batch: number) {
    const gt = groundTruthFor(this.sc.world, this.robot(), this.sc.target, clearanceCost(this.sc.world.grid));
    assert.ok(gt, 'ground truth reachable');
    const out = new Float32Array(batch * 3 * 4096);
    const poses = posesAlongPath(gt, 6);
    for (let b = 0; b < batch; b++) {
      const r = render(this.sc.world, poses[b % 6] as { x: number; y: number; yaw: number }, MODEL_CAMERA_DEFAULT, { supersample: 2 });
      const box = r.objects.get(this.sc.target.id);
      if (box) drawBox(r.rgb, 64, 64, box, BOX_COLOR);
      fromRgb8(r.rgb, 64, 64, out, b * 3 * 4096);
    }
    return out;
  }
}

/**
 * Unit-test double: imagines grey frames (plans end without a goal pose, or succeed). With
 * `denoiseHoldMs` each denoising call holds the event loop that long, as a real planner does.
 */
export class GreyImagination implements ImaginationModel {
  readonly spec = SPEC;
  constructor(private readonly denoiseHoldMs = 0) {}
  async encode(_f: Float32Array, batch: number) {
    return new Float32Array(batch);
  }
  async denoise(lat: Float32Array) {
    const t = performance.now();
    while (performance.now() - t < this.denoiseHoldMs);
    return new Float32Array(lat.length);
  }
  async decode(_l: Float32Array, batch: number) {
    return new Float32Array(batch * 3 * SPEC.width * SPEC.height).fill(0.5);
  }
}

/** What a faulty model does at a denoising call (1-based), or nothing. */
export type DenoiseFault = 'nan' | 'session_throws' | 'plain_throw' | 'wrong_shape';

/**
 * Unit-test double: wraps a model, counts calls, optionally sleeps per denoising call (so a test
 * can act "during denoising") and injects a fault at a chosen call.
 */
export class FaultyModel implements ImaginationModel {
  readonly spec: ModelSpec;
  denoiseCalls = 0;
  delayMs = 0;
  fault: { at: number; kind: DenoiseFault } | undefined;
  ground?: (latents: Float32Array, object: BigInt64Array, batch: number) => Promise<Float32Array>;
  constructor(readonly base: ImaginationModel) {
    this.spec = base.spec;
    const g = base.ground;
    if (g) this.ground = (l, o, b) => g.call(base, l, o, b);
  }
  encode(f: Float32Array, batch: number) {
    return this.base.encode(f, batch);
  }
  async denoise(lat: Float32Array, t: Float32Array, index: Float32Array, object: BigInt64Array, batch: number, frames: number) {
    this.denoiseCalls++;
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    const v = await this.base.denoise(lat, t, index, object, batch, frames);
    const f = this.fault;
    if (f && this.denoiseCalls === f.at) {
      if (f.kind === 'nan') return new Float32Array(v.length).fill(Number.NaN);
      if (f.kind === 'session_throws') throw new InferenceError('denoiser failed in ONNX Runtime: injected: CUDA error an illegal memory access was encountered', 'session_run');
      if (f.kind === 'plain_throw') throw new TypeError("injected: Cannot read properties of undefined (reading 'data')");
      return v.subarray(1);
    }
    return v;
  }
  decode(l: Float32Array, batch: number) {
    return this.base.decode(l, batch);
  }
}

/** What the scripted grounder reports for every view, decided from the robot's pose at the call. */
export type GroundingScript = (robot: Pose2D) => 'centred' | 'left' | 'none';

/**
 * Unit-test double: a model with a grounder whose answer is scripted from the robot's current
 * pose (keyframes are grounded at plan time, the live view at the goal): 'centred' fires the two
 * middle tokens of row 2, 'left' the left column, 'none' nothing. Counts its calls.
 */
export class ScriptedGrounding implements ImaginationModel {
  readonly spec: ModelSpec;
  groundCalls = 0;
  constructor(readonly base: ImaginationModel, private readonly script: GroundingScript, private readonly robot: () => Pose2D) {
    this.spec = { ...base.spec, grounding: { grid: 4, threshold: 0.5 } };
  }
  encode(f: Float32Array, batch: number) {
    return this.base.encode(f, batch);
  }
  denoise(lat: Float32Array, t: Float32Array, index: Float32Array, object: BigInt64Array, batch: number, frames: number) {
    return this.base.denoise(lat, t, index, object, batch, frames);
  }
  decode(l: Float32Array, batch: number) {
    return this.base.decode(l, batch);
  }
  async ground(_l: Float32Array, _o: BigInt64Array, batch: number): Promise<Float32Array> {
    this.groundCalls++;
    const out = new Float32Array(batch * 16).fill(0.05);
    const what = this.script(this.robot());
    for (let b = 0; b < batch; b++) {
      const tokens = what === 'centred' ? [9, 10] : what === 'left' ? [4, 8] : [];
      for (const k of tokens) out[b * 16 + k] = 0.9;
    }
    return out;
  }
}

/**
 * Unit-test double: a grounder that sees what is really there. Each encoded frame gets an id as its
 * latent and the pose it was taken at (a keyframe's pose, found in the node's buffer by its pixels;
 * any other frame, i.e. the live view, the robot's current pose); grounding the target's name
 * renders the target's image box from that pose and fires the tokens it covers (0.9, else 0.05).
 */
export class TrueGrounding implements ImaginationModel {
  readonly spec: ModelSpec;
  private readonly poses = new Map<number, Pose2D>();
  private next = 1;
  constructor(
    readonly base: ImaginationModel,
    private readonly sc: ReturnType<typeof makeScenario>,
    private readonly robot: () => Pose2D,
    private readonly buffer: () => ContextBuffer | undefined,
  ) {
    this.spec = { ...base.spec, grounding: { grid: 4, threshold: 0.5 } };
  }
  async encode(f: Float32Array, batch: number) {
    const out = new Float32Array(batch);
    const rgb = toRgb8(f, batch, 64, 64);
    const entries = this.buffer()?.entries() ?? [];
    for (let b = 0; b < batch; b++) {
      const px = rgb[b] as Uint8Array;
      const e = entries.find((k) => k.pixels.length === px.length && k.pixels.every((v, i) => v === px[i]));
      const id = this.next++;
      this.poses.set(id, e ? e.pose : this.robot());
      out[b] = id;
    }
    return out;
  }
  denoise(lat: Float32Array, t: Float32Array, index: Float32Array, object: BigInt64Array, batch: number, frames: number) {
    return this.base.denoise(lat, t, index, object, batch, frames);
  }
  decode(l: Float32Array, batch: number) {
    return this.base.decode(l, batch);
  }
  async ground(lat: Float32Array, obj: BigInt64Array, batch: number): Promise<Float32Array> {
    const out = new Float32Array(batch * 16).fill(0.05);
    const target = CATEGORIES.indexOf(this.sc.target.category) + 1;
    for (let b = 0; b < batch; b++) {
      const pose = this.poses.get(lat[b] as number);
      if (!pose || Number(obj[b]) !== target) continue;
      const box = render(this.sc.world, pose, MODEL_CAMERA_DEFAULT, { idsOnly: true }).objects.get(this.sc.target.id);
      if (!box || box.pixels < 4) continue;
      for (let i = 0; i < 4; i++) {
        for (let j = 0; j < 4; j++) {
          const ou = Math.min(box.x1 + 1, (j + 1) * 16) - Math.max(box.x0, j * 16);
          const ov = Math.min(box.y1 + 1, (i + 1) * 16) - Math.max(box.y0, i * 16);
          if (ou >= 2 && ov >= 2) out[b * 16 + i * 4 + j] = 0.9;
        }
      }
    }
    return out;
  }
}

/** A logger that keeps lines (tests stay quiet and can read what was said). */
export function lineLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (m: string) => void lines.push(`${level}: ${m}`);
  return { logger: { debug: () => {}, info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

export interface SetupOptions {
  /** Node parameter overrides (candidates 1, steps 2, replan_period_s 100 unless given). */
  parameters?: Record<string, unknown>;
  /** 'sim' (SimNav2, default) or 'none' (no Nav2 server: the test brings its own or none). */
  nav2?: 'sim' | 'none';
  /** Clock start, ns (default 1 s). */
  clockStartNs?: bigint;
  planner?: NodeOptions['planner'];
  /** false: log to the console; default: log lines are kept in `lines`. */
  quiet?: boolean;
  /** Control steps the simulated Nav2 drives per plan (PlanPacer; default 0: the robot stands while the node plans). */
  planSteps?: number;
  /** Give the model a scripted grounder (ScriptedGrounding) or one that sees the truth ('true', TrueGrounding); default: no grounder. */
  grounding?: GroundingScript | 'true';
}

export function setup(seed: number, opts: SetupOptions = {}) {
  const sc = makeScenario(seed);
  const clock = new SimClock(opts.clockStartNs ?? 1_000_000_000n);
  const log = lineLogger();
  const bus = new InProcessBus({ clock, ...(opts.quiet === false ? {} : { logger: log.logger }) });
  const simGraph = bus.node({ name: 'sim' });
  const robot = new SimRobot(simGraph, sc.world, cameraFromFov(128, 128, Math.PI / 3, 0.5), sc.exploration[0] as { x: number; y: number; yaw: number });
  // the robot stands while the node plans (0 steps per plan), whatever the CPU
  const pacer = new PlanPacer(opts.planSteps ?? 0);
  const nav = opts.nav2 === 'none' ? undefined : new SimNav2(simGraph, robot, clock, { dt: 0.2, framesEvery: 1, gate: pacer.gate, afterStep: () => bus.flush() });
  const nodeGraph = bus.node({
    name: 'video4spatial_nav',
    remap: { '~/image': '/camera/image_raw', '~/camera_info': '/camera/camera_info' },
    parameters: { candidates: 1, steps: 2, replan_period_s: 100, ...opts.parameters },
  });
  let node: Video4SpatialNode | undefined;
  // it imagines from the newest keyframe, as a real model does from its newest context frame
  const truth = new GroundTruthImagination(sc, () => node?.ingest.buffer.entries().at(-1)?.pose ?? robot.pose);
  const grounder = opts.grounding === 'true' ? new TrueGrounding(truth, sc, () => robot.pose, () => node?.ingest.buffer) : opts.grounding ? new ScriptedGrounding(truth, opts.grounding, () => robot.pose) : undefined;
  const model = new FaultyModel(grounder ?? truth);
  node = new Video4SpatialNode(nodeGraph, model, MANIFEST, { planner: pacer.wrap(opts.planner ?? planToObject, () => nav?.executing ?? false, () => node?.ingest.idle() ?? Promise.resolve()) });
  const client = bus.node({ name: 'operator' }).createActionClient<NavigateToObjectGoal, NavigateToObjectFeedback, NavigateToObjectResult>('/video4spatial_nav/navigate_to_object', 'video4spatial_nav/action/NavigateToObject');
  return { sc, clock, bus, robot, nav, node, client, nodeGraph, model, lines: log.lines };
}

export type Harness = ReturnType<typeof setup>;

/** Drives the scripted exploration: one camera frame (+ TF, CameraInfo) per pose, 0.2 s apart. */
export async function explore(s: Harness, frames = s.sc.exploration.length): Promise<void> {
  for (const p of s.sc.exploration.slice(0, frames)) {
    s.robot.moveTo(p);
    s.clock.advance(200_000_000n);
    s.robot.publishFrame();
    await s.bus.flush();
  }
  await s.node.ingest.idle();
}

/** Unit-test double: an instant plan 2 m ahead of the newest keyframe, the object 0.5 m beyond. */
export const planAhead: NonNullable<NodeOptions['planner']> = async (deps, req) => {
  const p = deps.buffer.newest?.pose ?? { x: 0, y: 0, yaw: 0 };
  return planOf(req.object, { goal: { x: p.x + 2, y: p.y, yaw: 0 }, start: p, objectXY: { x: p.x + 2.5, y: p.y } });
};

/** A plan of the given shape (a valid one by default), as a hostile planner would return it. */
export function planOf(object: string, o: { goal: Pose2D; start: Pose2D; objectXY?: { x: number; y: number }; candidates?: PlanResult['candidates']; chosen?: number }): PlanResult {
  const candidates = o.candidates ?? [
    {
      frames: Array.from({ length: 6 }, () => new Uint8Array(64 * 64 * 3)),
      contextIndices: [],
      chain: { poses: [], links: [], minConfidence: 0 },
      goal: { goal: o.goal, source: 'anchor', goalScore: 1, anchors: [], boxes: [], sdLast: undefined, object: undefined, poses: [o.start, o.goal], confidence: 1 },
      score: { score: 0.5, breakdown: { box: 0, centred: 0, anchor: 0, vo: 0, plausible: 0 }, reasons: [], sd: undefined, pathLengthM: undefined },
    },
  ];
  return {
    object,
    objectIndex: 1,
    candidates,
    chosen: o.chosen ?? 0,
    goalPose: o.goal,
    objectXY: o.objectXY,
    startPose: o.start,
    imaginedPoses: [],
    timings: { sampleMs: 0, encodeMs: 0, denoiseMs: 0, perStepMs: [], decodeMs: 0, extractMs: 0, totalMs: 1 } as unknown as PlanResult['timings'],
  };
}

/**
 * A Nav2 stand-in (test double, setup with nav2: 'none') that holds every goal until it is
 * cancelled or preempted, then ends it CANCELED; it records the goals, the cancel requests and
 * `events` in order (`onCancel` / `onGoal` run extra steps at the moment a cancel / a goal
 * request arrives).
 */
export function holdingNav2(s: Harness, onCancel?: () => void, onGoal?: () => void) {
  const goals: NavigateThroughPosesGoal[] = [];
  const events: string[] = [];
  s.bus.node({ name: 'nav2_holding' }).createActionServer<NavigateThroughPosesGoal, NavigateThroughPosesFeedback, NavigateThroughPosesResult>('/navigate_through_poses', NAV2_TYPE, {
    onGoal: () => {
      events.push('goal request');
      onGoal?.();
      return { accept: true };
    },
    onCancel: () => {
      events.push('cancel requested');
      onCancel?.();
      return true;
    },
    execute: async (h) => {
      goals.push(h.goal);
      events.push('goal');
      await new Promise((resolve) => (h.signal.aborted ? resolve(undefined) : h.signal.addEventListener('abort', resolve, { once: true })));
      events.push(`stopped: ${h.stopReason}`);
      h.canceled({ error_code: 0, error_msg: '' }, h.stopReason);
    },
  });
  return { goals, events };
}

