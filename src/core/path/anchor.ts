/**
 * Anchoring imagined frames to pose-tagged keyframes (DESIGN §4b). Pure.
 *
 * The model's middle frames drift, its last frames are sharp and show the target; the node knows
 * the map pose of every context keyframe. So the goal pose is taken from real poses: an imagined
 * frame is compared with every keyframe by a cheap, shift-tolerant similarity of small colour
 * layouts (red box pixels masked), the most similar few are registered with a planar alignment
 * (default: alignPlanar, injectable), and the imagined frame's map pose is the keyframe's pose ⊕
 * the registered relative motion. anchorGoal combines the last frames' anchors (through the
 * imagined chain's relative motions when one is given) into the goal pose, and adds the box's
 * bearing and floor range to place the object in the map.
 *
 * Frames: map = the frame of the keyframe poses; body = base_link (x forward, y left). Images are
 * rgb8 H×W×3 row-major of the camera's size.
 */
import type { PinholeCamera } from '../camera.js';
import { BadFrameError, ParameterError } from '../errors.js';
import { angleDiff, composePose2D, invertPose2D, normalizeAngle, type Pose2D } from '../geometry.js';
import { checkRgbImage, detectBox, redMask, sd, type BoxDetection } from './box.js';
import { objectInBody, type ObjectInBody } from './ground.js';
import { alignPlanar, checkCamera, prepareFrame, type OdometryChain, type PlanarAlignParams, type PlanarMotion, type PreparedFrame } from './vo.js';

/** A context keyframe: its image and the robot's pose (map frame) when it was taken. */
export interface Keyframe {
  rgb: Uint8Array;
  pose: Pose2D;
}

/** A small colour layout of an image, for ranking keyframes. */
export interface LayoutDescriptor {
  w: number;
  h: number;
  /** 3×h×w cell means (luminance, two opponent colours), 0…255 scale. */
  cells: Float32Array;
  /** h×w, 1 = the cell has enough unmasked pixels. */
  valid: Uint8Array;
}

export interface AnchorParams {
  /** Descriptor width in cells (height follows the aspect ratio). Default 16. */
  descriptorWidth: number;
  /** Largest horizontal shift tried by the similarity, as a share of the width. Default 0.25. */
  maxShiftFrac: number;
  /** Keyframes registered per imagined frame (the most similar ones). Default 3. */
  candidates: number;
  /** Anchors scoring below this are not used. Default 0.3. */
  minScore: number;
  /** Last imagined frames anchored by anchorGoal. Default 2. */
  anchorFrames: number;
  /** Parameters for the default registration (alignPlanar). */
  align: Partial<PlanarAlignParams>;
}

export const DEFAULT_ANCHOR_PARAMS: Readonly<AnchorParams> = Object.freeze({
  descriptorWidth: 16,
  maxShiftFrac: 0.25,
  candidates: 3,
  minScore: 0.3,
  anchorFrames: 2,
  align: {},
});

/** Registers `imagined` against `keyframe`: the imagined view's pose in the keyframe's body frame. */
export type Registrar = (keyframe: PreparedFrame, imagined: PreparedFrame, camera: PinholeCamera) => PlanarMotion;

function checkParams(p: AnchorParams): void {
  if (!(Number.isInteger(p.descriptorWidth) && p.descriptorWidth >= 4)) throw new ParameterError(`anchoring: descriptorWidth must be an integer ≥ 4, got ${p.descriptorWidth}`);
  if (!(p.maxShiftFrac >= 0 && p.maxShiftFrac < 1)) throw new ParameterError(`anchoring: maxShiftFrac must be in [0, 1), got ${p.maxShiftFrac}`);
  if (!(Number.isInteger(p.candidates) && p.candidates >= 1)) throw new ParameterError(`anchoring: candidates must be a positive integer, got ${p.candidates}`);
  if (!(p.minScore >= 0 && p.minScore <= 1)) throw new ParameterError(`anchoring: minScore must be in [0, 1], got ${p.minScore}`);
  if (!(Number.isInteger(p.anchorFrames) && p.anchorFrames >= 1)) throw new ParameterError(`anchoring: anchorFrames must be a positive integer, got ${p.anchorFrames}`);
}

/** Cells with less than this share of unmasked pixels are ignored. */
const MIN_CELL_COVER = 0.25;

/**
 * The colour layout of an image: area means over a w×h grid of luminance and two opponent
 * colours, red (box) pixels left out.
 * @throws BadFrameError when the buffer does not hold W×H×3 bytes.
 */
export function layoutDescriptor(rgb: Uint8Array, W: number, H: number, width = DEFAULT_ANCHOR_PARAMS.descriptorWidth): LayoutDescriptor {
  checkRgbImage(rgb, W, H, 'layoutDescriptor');
  const w = Math.min(width, W);
  const h = Math.max(1, Math.min(H, Math.round((w * H) / W)));
  const mask = redMask(rgb, W, H);
  const sum = new Float64Array(3 * w * h);
  const cnt = new Float64Array(w * h);
  const tot = new Float64Array(w * h);
  for (let v = 0; v < H; v++) {
    const cy = Math.min(h - 1, Math.floor((v * h) / H));
    for (let u = 0; u < W; u++) {
      const cx = Math.min(w - 1, Math.floor((u * w) / W));
      const c = cy * w + cx;
      tot[c] = (tot[c] as number) + 1;
      // the box outline and its blurred fringe
      let red = false;
      for (let dv = -1; dv <= 1 && !red; dv++) for (let du = -1; du <= 1 && !red; du++) {
        const uu = u + du;
        const vv = v + dv;
        if (uu >= 0 && vv >= 0 && uu < W && vv < H && mask[vv * W + uu] === 1) red = true;
      }
      if (red) continue;
      const p = (v * W + u) * 3;
      const r = rgb[p] as number;
      const g = rgb[p + 1] as number;
      const b = rgb[p + 2] as number;
      cnt[c] = (cnt[c] as number) + 1;
      sum[c] = (sum[c] as number) + 0.299 * r + 0.587 * g + 0.114 * b;
      sum[w * h + c] = (sum[w * h + c] as number) + 0.5 * (r - g);
      sum[2 * w * h + c] = (sum[2 * w * h + c] as number) + 0.5 * (b - 0.5 * (r + g));
    }
  }
  const cells = new Float32Array(3 * w * h);
  const valid = new Uint8Array(w * h);
  for (let c = 0; c < w * h; c++) {
    const n = cnt[c] as number;
    if (n < MIN_CELL_COVER * (tot[c] as number) || n === 0) continue;
    valid[c] = 1;
    for (let ch = 0; ch < 3; ch++) cells[ch * w * h + c] = (sum[ch * w * h + c] as number) / n;
  }
  return { w, h, cells, valid };
}

/**
 * Shift-tolerant similarity of two layouts in [0, 1]: the best zero-mean normalised
 * cross-correlation (channels pooled) over horizontal shifts up to maxShiftFrac of the width
 * (a turn of the robot shifts the view sideways), negative values clamped to 0. `shift` is the
 * best shift in cells (content of b sits `shift` cells right of a's).
 * @throws ParameterError when the layouts differ in size.
 */
export function layoutSimilarity(a: LayoutDescriptor, b: LayoutDescriptor, maxShiftFrac = DEFAULT_ANCHOR_PARAMS.maxShiftFrac): { similarity: number; shift: number } {
  if (a.w !== b.w || a.h !== b.h) throw new ParameterError(`layoutSimilarity: descriptors differ in size, ${a.w}x${a.h} vs ${b.w}x${b.h}`);
  const { w, h } = a;
  const S = Math.floor(maxShiftFrac * w);
  const plane = w * h;
  let best = -1;
  let bestShift = 0;
  const ac = a.cells;
  const bc = b.cells;
  for (let k = -S; k <= S; k++) {
    // pairs (a[u], b[u + k]); the three channels unrolled, each summed in pixel order
    let n = 0;
    let ma0 = 0, ma1 = 0, ma2 = 0, mb0 = 0, mb1 = 0, mb2 = 0;
    const u0 = Math.max(0, -k);
    const u1 = Math.min(w, w - k);
    for (let v = 0; v < h; v++) for (let u = u0; u < u1; u++) {
      const ia = v * w + u;
      const ib = ia + k;
      if (a.valid[ia] !== 1 || b.valid[ib] !== 1) continue;
      n++;
      ma0 += ac[ia] as number;
      ma1 += ac[plane + ia] as number;
      ma2 += ac[2 * plane + ia] as number;
      mb0 += bc[ib] as number;
      mb1 += bc[plane + ib] as number;
      mb2 += bc[2 * plane + ib] as number;
    }
    if (n < 0.5 * plane) continue;
    ma0 /= n;
    ma1 /= n;
    ma2 /= n;
    mb0 /= n;
    mb1 /= n;
    mb2 /= n;
    let sab = 0;
    let saa = 0;
    let sbb = 0;
    for (let v = 0; v < h; v++) for (let u = u0; u < u1; u++) {
      const ia = v * w + u;
      const ib = ia + k;
      if (a.valid[ia] !== 1 || b.valid[ib] !== 1) continue;
      const da0 = (ac[ia] as number) - ma0;
      const db0 = (bc[ib] as number) - mb0;
      sab += da0 * db0;
      saa += da0 * da0;
      sbb += db0 * db0;
      const da1 = (ac[plane + ia] as number) - ma1;
      const db1 = (bc[plane + ib] as number) - mb1;
      sab += da1 * db1;
      saa += da1 * da1;
      sbb += db1 * db1;
      const da2 = (ac[2 * plane + ia] as number) - ma2;
      const db2 = (bc[2 * plane + ib] as number) - mb2;
      sab += da2 * db2;
      saa += da2 * da2;
      sbb += db2 * db2;
    }
    const ncc = saa > 1e-9 && sbb > 1e-9 ? sab / Math.sqrt(saa * sbb) : 0;
    if (ncc > best) {
      best = ncc;
      bestShift = k;
    }
  }
  return { similarity: Math.max(0, best), shift: bestShift };
}

/** An imagined frame registered to a keyframe. */
export interface Anchor {
  /** Index of the keyframe in the list given. */
  keyframeIndex: number;
  /** The imagined view's pose in the map frame = keyframe pose ⊕ motion. */
  pose: Pose2D;
  /** similarity × registration confidence, in [0, 1]. */
  score: number;
  similarity: number;
  /** The imagined view's pose in the keyframe's body frame. */
  motion: PlanarMotion;
}

/**
 * Keyframes prepared once for many anchorings (layouts and alignment pyramids, built lazily).
 * A new plan's index can start from the previous one (`reuse`): a keyframe whose pixel array is
 * the same object (a context buffer never writes a stored frame) takes its layout from there
 * instead of computing it again. Pyramids are not carried over: a plan registers only a few
 * keyframes, a pyramid is cheap to build and large to keep (≈ 0.2 MB with its lookup planes), and
 * carried over they piled up for every keyframe ever registered while it stayed in memory.
 */
export class KeyframeIndex {
  readonly layouts: LayoutDescriptor[];
  private readonly prepared: (PreparedFrame | undefined)[];

  /**
   * @param reuse an earlier index with the same camera and parameters whose layouts are taken over.
   * @throws ParameterError for an empty keyframe list, a non-finite pose or bad parameters.
   * @throws BadFrameError when a keyframe image does not match the camera's size.
   */
  constructor(
    readonly keyframes: readonly Keyframe[],
    readonly camera: PinholeCamera,
    readonly params: AnchorParams = { ...DEFAULT_ANCHOR_PARAMS },
    reuse?: KeyframeIndex,
  ) {
    checkParams(params);
    checkCamera(camera, 'KeyframeIndex');
    if (keyframes.length === 0) throw new ParameterError('KeyframeIndex: needs at least one keyframe, got 0');
    keyframes.forEach((k, i) => {
      if (!(Number.isFinite(k.pose.x) && Number.isFinite(k.pose.y) && Number.isFinite(k.pose.yaw))) {
        throw new ParameterError(`KeyframeIndex: keyframe ${i} has a non-finite pose (${k.pose.x}, ${k.pose.y}, ${k.pose.yaw})`);
      }
      if (k.rgb.length !== camera.width * camera.height * 3) {
        throw new BadFrameError(`KeyframeIndex: keyframe ${i} has ${k.rgb.length} bytes, a ${camera.width}x${camera.height} rgb8 image has ${camera.width * camera.height * 3}`);
      }
    });
    const earlier = reuse && reuse.sameSetup(camera, params) ? reuse.layoutsByImage() : undefined;
    this.layouts = keyframes.map((k) => earlier?.get(k.rgb) ?? layoutDescriptor(k.rgb, camera.width, camera.height, params.descriptorWidth));
    this.prepared = keyframes.map(() => undefined);
  }

  /** Whether an index for `camera` and `params` computes what this one does. */
  private sameSetup(camera: PinholeCamera, params: AnchorParams): boolean {
    const same = (a: object, b: object) => JSON.stringify(a) === JSON.stringify(b);
    return same(this.camera, camera) && same(this.params, params);
  }

  /** Layouts by pixel array. */
  private layoutsByImage(): Map<Uint8Array, LayoutDescriptor> {
    const m = new Map<Uint8Array, LayoutDescriptor>();
    this.keyframes.forEach((k, i) => m.set(k.rgb, this.layouts[i] as LayoutDescriptor));
    return m;
  }

  /** The alignment pyramid of keyframe i (built on first use). */
  preparedAt(i: number): PreparedFrame {
    let p = this.prepared[i];
    if (!p) {
      p = prepareFrame((this.keyframes[i] as Keyframe).rgb, this.camera, this.params.align);
      this.prepared[i] = p;
    }
    return p;
  }
}

/**
 * Anchors one imagined frame: ranks the keyframes by layout similarity, registers the most similar
 * `candidates`, and returns the best anchor by score (similarity × registration confidence), or
 * undefined when none reaches minScore. `ranked` lists every keyframe's similarity, best first.
 * @throws BadFrameError when the imagined frame does not match the camera's size.
 */
export function anchorFrame(imagined: Uint8Array, index: KeyframeIndex, register?: Registrar): { best: Anchor | undefined; tried: Anchor[]; ranked: { keyframeIndex: number; similarity: number }[] } {
  const { camera, params } = index;
  checkRgbImage(imagined, camera.width, camera.height, 'anchorFrame');
  const reg: Registrar = register ?? ((k, f, c) => alignPlanar(k, f, c, params.align));
  const desc = layoutDescriptor(imagined, camera.width, camera.height, params.descriptorWidth);
  const ranked = index.layouts
    .map((l, i) => ({ keyframeIndex: i, similarity: layoutSimilarity(l, desc, params.maxShiftFrac).similarity }))
    .sort((a, b) => b.similarity - a.similarity);
  const prepared = prepareFrame(imagined, camera, params.align);
  const tried: Anchor[] = [];
  for (const r of ranked.slice(0, params.candidates)) {
    if (r.similarity <= 0) continue;
    const kf = index.keyframes[r.keyframeIndex] as Keyframe;
    const motion = reg(index.preparedAt(r.keyframeIndex), prepared, camera);
    const finite = Number.isFinite(motion.dx) && Number.isFinite(motion.dy) && Number.isFinite(motion.dyaw) && Number.isFinite(motion.confidence);
    const score = finite ? r.similarity * Math.max(0, Math.min(1, motion.confidence)) : 0;
    const pose = finite ? composePose2D(kf.pose, { x: motion.dx, y: motion.dy, yaw: motion.dyaw }) : kf.pose;
    tried.push({ keyframeIndex: r.keyframeIndex, pose, score, similarity: r.similarity, motion });
  }
  let best: Anchor | undefined;
  for (const a of tried) if (a.score >= params.minScore && (!best || a.score > best.score)) best = a;
  return { best, tried, ranked };
}

/** The object's estimated position in the map frame. */
export interface ObjectEstimate {
  x: number;
  y: number;
  /** In [0, 1]. */
  confidence: number;
  /** Imagined frames whose boxes contributed. */
  frames: number[];
  /** The body-frame estimate from the goal frame's box, when it has one. */
  inGoalFrame: ObjectInBody | undefined;
}

export interface GoalEstimate {
  /** Pose of the last imagined frame in the map frame, or undefined (no anchor, no fallback). */
  goal: Pose2D | undefined;
  /** Where the goal came from. */
  source: 'anchor' | 'chain' | 'none';
  /** In [0, 1]: the anchoring score of the goal (chain fallback: half the chain's weakest link). */
  goalScore: number;
  /** Per anchored frame (the last `anchorFrames`), its best anchor. */
  anchors: { frame: number; anchor: Anchor | undefined }[];
  /** Box per imagined frame. */
  boxes: (BoxDetection | undefined)[];
  /** SD of the last frame's box (undefined without one). */
  sdLast: number | undefined;
  object: ObjectEstimate | undefined;
  /** Map poses of all imagined frames: the chain bent to end at the goal (undefined without chain or goal). */
  poses: Pose2D[] | undefined;
  /** goalScore × (last frame has a box ? 1 : 0.5). */
  confidence: number;
}

export interface AnchorGoalOptions {
  /** Odometry over the same frames (poses relative to frame 0), e.g. chainOdometry(frames). */
  chain?: OdometryChain;
  /**
   * Map pose of frame 0. Pass the current view (the newest context frame) as frame 0, followed by
   * the imagined frames, and its pose here: the chain then starts from a known pose.
   */
  startPose?: Pose2D;
  register?: Registrar;
  /**
   * The box of each frame, already detected (detectBox(frames[i], W, H)); lets a caller time box
   * detection on its own or reuse the current view's box. Same length as `frames`.
   */
  boxes?: readonly (BoxDetection | undefined)[];
  /** Used when `keyframes` is a plain list; with a KeyframeIndex only anchorFrames applies (the index keeps its own). */
  params?: Partial<AnchorParams>;
  /**
   * The anchored frames' best anchors, already computed (anchorLastFrames with the same frames,
   * index and anchorFrames), e.g. in another thread: the keyframes are then not compared again.
   */
  anchors?: readonly { frame: number; anchor: Anchor | undefined }[];
}

/**
 * The best anchor of each of the last `anchorFrames` frames (see anchorFrame), oldest first: what
 * anchorGoal anchors.
 */
export function anchorLastFrames(frames: readonly Uint8Array[], index: KeyframeIndex, anchorFrames: number, register?: Registrar): { frame: number; anchor: Anchor | undefined }[] {
  const out: { frame: number; anchor: Anchor | undefined }[] = [];
  const last = frames.length - 1;
  for (let i = Math.max(0, last - anchorFrames + 1); i <= last; i++) out.push({ frame: i, anchor: anchorFrame(frames[i] as Uint8Array, index, register).best });
  return out;
}

/**
 * Weight of a box cut by the image border: at the bottom its range is only an upper bound, at a
 * side its centre is not the object's.
 */
const CLIPPED_BOX_WEIGHT = 0.3;

/**
 * Goal pose and object position from an imagined video (DESIGN §4b): the last `anchorFrames`
 * frames are anchored to the keyframes; each anchor gives the last frame's pose (directly, or
 * through the chain's relative motion from its frame to the last); the best one and those
 * agreeing with it (≤ 0.5 m, ≤ 20°) are averaged by score. Without any anchor the goal falls back
 * to startPose ⊕ chain (score = half the weakest link's confidence). The object = each boxed
 * frame's map pose ⊕ objectInBody(box), averaged with weights box score × frame trust (boxes
 * cut by the bottom or a side of the image count 0.3).
 * @throws ParameterError for an empty frame list, a chain of another length, or bad parameters.
 * @throws BadFrameError when a frame does not match the camera's size.
 */
export function anchorGoal(frames: readonly Uint8Array[], keyframes: KeyframeIndex | readonly Keyframe[], camera: PinholeCamera, options: AnchorGoalOptions = {}): GoalEstimate {
  if (frames.length === 0) throw new ParameterError('anchorGoal: needs at least one imagined frame, got 0');
  const { chain } = options;
  if (chain && chain.poses.length !== frames.length) {
    throw new ParameterError(`anchorGoal: chain has ${chain.poses.length} poses for ${frames.length} frames`);
  }
  if (options.boxes && options.boxes.length !== frames.length) {
    throw new ParameterError(`anchorGoal: ${options.boxes.length} boxes given for ${frames.length} frames`);
  }
  const params = { ...DEFAULT_ANCHOR_PARAMS, ...(keyframes instanceof KeyframeIndex ? keyframes.params : {}), ...(options.params ?? {}) };
  checkParams(params);
  const W = camera.width;
  const H = camera.height;
  frames.forEach((f, i) => checkRgbImage(f, W, H, `anchorGoal frame ${i}`));
  const last = frames.length - 1;
  const boxes = options.boxes ? options.boxes.slice() : frames.map((f) => detectBox(f, W, H));
  // relative pose of frame i to the last one, from the chain
  const toLast = (i: number): Pose2D | undefined => {
    if (i === last) return { x: 0, y: 0, yaw: 0 };
    if (!chain) return undefined;
    return composePose2D(invertPose2D(chain.poses[i] as Pose2D), chain.poses[last] as Pose2D);
  };
  const chainTrust = (i: number): number => {
    if (i === last) return 1;
    if (!chain) return 0;
    let t = 1;
    for (const l of chain.links) if (l.from >= i && l.to <= last) t = Math.min(t, l.motion.confidence);
    return t;
  };
  const first = Math.max(0, last - params.anchorFrames + 1);
  let anchors: { frame: number; anchor: Anchor | undefined }[];
  if (options.anchors) {
    const got = options.anchors.map((a) => a.frame);
    if (got.length !== last - first + 1 || got.some((f, k) => f !== first + k)) {
      throw new ParameterError(`anchorGoal: expected the anchors of frames ${first}..${last}, found frames [${got.join(', ')}]`);
    }
    anchors = options.anchors.slice();
  } else {
    const index = keyframes instanceof KeyframeIndex ? keyframes : new KeyframeIndex(keyframes, camera, params);
    anchors = anchorLastFrames(frames, index, params.anchorFrames, options.register);
  }
  const votes: { pose: Pose2D; w: number }[] = [];
  for (const { frame: i, anchor: a } of anchors) {
    const rel = toLast(i);
    if (!a || !rel) continue;
    const w = a.score * chainTrust(i);
    if (w > 0) votes.push({ pose: composePose2D(a.pose, rel), w });
  }
  let goal: Pose2D | undefined;
  let goalScore = 0;
  let source: GoalEstimate['source'] = 'none';
  if (votes.length > 0) {
    votes.sort((p, q) => q.w - p.w);
    const top = votes[0] as { pose: Pose2D; w: number };
    const agree = votes.filter((v) => Math.hypot(v.pose.x - top.pose.x, v.pose.y - top.pose.y) <= 0.5 && Math.abs(angleDiff(v.pose.yaw, top.pose.yaw)) <= (20 * Math.PI) / 180);
    const wsum = agree.reduce((s, v) => s + v.w, 0);
    let sx = 0;
    let sy = 0;
    let sc = 0;
    let ss = 0;
    for (const v of agree) {
      sx += v.w * v.pose.x;
      sy += v.w * v.pose.y;
      sc += v.w * Math.cos(v.pose.yaw);
      ss += v.w * Math.sin(v.pose.yaw);
    }
    goal = { x: sx / wsum, y: sy / wsum, yaw: normalizeAngle(Math.atan2(ss, sc)) };
    goalScore = top.w;
    source = 'anchor';
  } else if (chain && options.startPose) {
    goal = composePose2D(options.startPose, chain.poses[last] as Pose2D);
    goalScore = 0.5 * chain.minConfidence;
    source = 'chain';
  }
  // every frame's map pose: the chain, bent so that it ends at the goal
  let poses: Pose2D[] | undefined;
  if (goal && chain) {
    const start = options.startPose ?? composePose2D(goal, invertPose2D(chain.poses[last] as Pose2D));
    const raw = chain.poses.map((p) => composePose2D(start, p));
    const end = raw[last] as Pose2D;
    const ex = goal.x - end.x;
    const ey = goal.y - end.y;
    const eyaw = angleDiff(goal.yaw, end.yaw);
    poses = raw.map((p, i) => {
      const t = last > 0 ? i / last : 1;
      return { x: p.x + t * ex, y: p.y + t * ey, yaw: normalizeAngle(p.yaw + t * eyaw) };
    });
  }
  // the object
  let object: ObjectEstimate | undefined;
  if (goal) {
    let sx = 0;
    let sy = 0;
    let sw = 0;
    const used: number[] = [];
    let inGoalFrame: ObjectInBody | undefined;
    let bestBoxScore = 0;
    for (let i = 0; i <= last; i++) {
      const b = boxes[i];
      const rel = toLast(i);
      if (!b || !rel) continue;
      const ob = objectInBody(camera, b);
      if (i === last) inGoalFrame = ob;
      if (ob.contact.capped) continue;
      // pose of frame i in the map: goal ⊕ (last → i)
      const pose = composePose2D(goal, invertPose2D(rel));
      const clipped = b.clipped.bottom || b.clipped.left || b.clipped.right;
      const w = b.score * chainTrust(i) * (clipped ? CLIPPED_BOX_WEIGHT : 1);
      if (!(w > 0)) continue;
      const p = composePose2D(pose, { x: ob.x, y: ob.y, yaw: 0 });
      sx += w * p.x;
      sy += w * p.y;
      sw += w;
      used.push(i);
      bestBoxScore = Math.max(bestBoxScore, b.score * (clipped ? CLIPPED_BOX_WEIGHT : 1));
    }
    if (sw > 0) object = { x: sx / sw, y: sy / sw, confidence: goalScore * bestBoxScore, frames: used, inGoalFrame };
  }
  const lastBox = boxes[last];
  return {
    goal,
    source,
    goalScore,
    anchors,
    boxes,
    sdLast: lastBox ? sd(lastBox, W) : undefined,
    object,
    poses,
    confidence: goalScore * (lastBox ? 1 : 0.5),
  };
}
