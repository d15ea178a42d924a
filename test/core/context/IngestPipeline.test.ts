import { strict as assert } from 'node:assert';
import { Subject, lastValueFrom, toArray } from 'rxjs';
import { modelCameraFromFov } from '../../../src/core/context/cameraFit.js';
import { ContextBuffer } from '../../../src/core/context/ContextBuffer.js';
import { DIAGNOSTIC_LEVEL, IngestDiagnostics, ingestSummary } from '../../../src/core/context/ingestDiagnostics.js';
import { IngestPipeline, dropOldestQueue, rejectionCode } from '../../../src/core/context/IngestPipeline.js';
import { KeyframeGate } from '../../../src/core/context/keyframeGate.js';
import { BadFrameError, ParameterError, TransformError } from '../../../src/core/errors.js';
import { yawToQuaternion } from '../../../src/core/geometry.js';
import { nsToTime, secondsToNs } from '../../../src/core/tf/stamp.js';
import { TfBuffer, TfPoseSource } from '../../../src/core/tf/TfBuffer.js';
import { FrameIngestor } from '../../../src/vision/FrameIngestor.js';
import type { ImageLike } from '../../../src/vision/imageFormat.js';
import { makeImage } from '../../vision/images.js';

const MODEL = modelCameraFromFov(16, 16, Math.PI / 3, 0.5);
type Frame = ImageLike & { header: { stamp: { sec: number; nanosec: number }; frame_id: string } };

/** A 64x48 rgb8 camera frame stamped at t seconds. */
function frame(t: number, base = makeImage('rgb8', 64, 48)): Frame {
  return { ...base, header: { stamp: nsToTime(secondsToNs(t)), frame_id: 'camera_optical' } };
}

/** TF: map → odom static; odom → base_link driving +x at `speed` m/s from t = 0 to `until` s (50 Hz). */
function drivingTf(speed: number, until: number): TfBuffer {
  const tf = new TfBuffer({ cacheDurationNs: secondsToNs(60) });
  tf.setTransform({ header: { stamp: { sec: 0, nanosec: 0 }, frame_id: 'map' }, child_frame_id: 'odom', transform: { translation: { x: 10, y: 0, z: 0 }, rotation: yawToQuaternion(0) } }, true);
  tf.setTransform({ header: { stamp: { sec: 0, nanosec: 0 }, frame_id: 'base_link' }, child_frame_id: 'camera_optical', transform: { translation: { x: 0.1, y: 0, z: 0.5 }, rotation: yawToQuaternion(0) } }, true);
  for (let i = 0; i <= until * 50; i++) {
    const t = i / 50;
    tf.setTransform({ header: { stamp: nsToTime(secondsToNs(t)), frame_id: 'odom' }, child_frame_id: 'base_link', transform: { translation: { x: speed * t, y: 0, z: 0 }, rotation: yawToQuaternion(0) } }, false);
  }
  return tf;
}

function pipeline(tf: TfBuffer, opts: { queueCapacity?: number; slowMs?: number } = {}) {
  const ingestor = new FrameIngestor({ model: MODEL, rawBackend: 'js' });
  const processor = {
    thumbnail: (m: Frame) => ingestor.thumbnail(m),
    fit: async (m: Frame) => {
      if (opts.slowMs) await new Promise((r) => setTimeout(r, opts.slowMs));
      return ingestor.fit(m);
    },
  };
  const buffer = new ContextBuffer({ width: 16, height: 16 });
  return new IngestPipeline<Frame>({ processor, poseSource: new TfPoseSource(tf, 'map', 'base_link'), gate: new KeyframeGate(), buffer, queueCapacity: opts.queueCapacity ?? 2 });
}

describe('core/context/IngestPipeline', () => {
  it('camera + TF → gate → fit → buffer, with original stream indices and poses from TF', async () => {
    const p = pipeline(drivingTf(0.5, 5));
    const admitted: number[] = [];
    p.admitted$.subscribe((e) => admitted.push(e.index));
    for (let i = 0; i < 4 * 30; i++) {
      p.push(frame(i / 30));
      await p.idle();
    }
    const s = ingestSummary(p.counters, p.buffer);
    assert.equal(s.received, 120);
    assert.equal(s.admitted, 8); // every 0.25 m at 0.5 m/s over 4 s
    // 3 frames after each keyframe fall inside minIntervalS = 0.1 s
    assert.deepEqual(s.skipped_by_reason, { too_soon: 16, unchanged: 96 });
    assert.deepEqual(admitted, [0, 15, 30, 45, 60, 75, 90, 105]);
    assert.deepEqual(p.buffer.entries().map((e) => e.index), admitted);
    const e = p.buffer.getByIndex(30);
    assert.ok(e);
    assert.ok(Math.abs(e.pose.x - 10.5) < 1e-9, `pose ${e.pose.x}`);
    assert.ok(e.camera && Math.abs(e.camera.translation.x - 10.6) < 1e-9 && e.camera.translation.z === 0.5);
    assert.equal(e.pixels.length, 16 * 16 * 3);
    assert.deepEqual(s.buffer, { frames: 8, bytes: p.buffer.bytes, oldest_index: 0, newest_index: 105, evicted: 0 });
    p.close();
  });

  it('latestView: the newest usable frame, the keyframe when it was admitted, else the skipped frame decoded on request', async () => {
    const p = pipeline(drivingTf(0.5, 2));
    assert.equal(await p.latestView(), undefined, 'nothing before the first frame');
    p.push(frame(0));
    await p.idle();
    const first = await p.latestView();
    assert.ok(first && first.pixels === p.buffer.newest?.pixels, 'the admitted keyframe itself, not a second decode');
    p.push(frame(0.2)); // 0.1 m later: the gate skips it
    await p.idle();
    assert.equal(p.buffer.size, 1);
    const v = await p.latestView();
    assert.ok(v);
    assert.equal(v.stampNs, secondsToNs(0.2));
    assert.ok(Math.abs(v.pose.x - 10.1) < 1e-9, `pose ${v.pose.x}`);
    assert.equal(v.pixels.length, 16 * 16 * 3);
    assert.notEqual(v.pixels, p.buffer.newest?.pixels);
    p.close();
  });

  it('counts every rejection by reason and never throws; a frame that fails to decode does not become the gate reference', async () => {
    const p = pipeline(drivingTf(0.5, 2));
    const unsubscribe = p.admitted$.subscribe(() => {});
    const push = async (f: Frame) => {
      p.push(f);
      await p.idle();
    };
    await push(frame(0));
    await push({ ...frame(1), step: 10 }); // the gate admits it (0.5 m moved), decoding fails
    await push(frame(1.01)); // same place: admitted because the bad frame was rolled back
    await push(frame(5)); // TF ends at 2 s
    await push({ ...frame(1.2), encoding: 'yuv444' }); // skipped by the gate before any decoding
    await push({ ...frame(1.6), encoding: 'yuv444' }); // admitted by the gate, then rejected
    await push({ ...frame(1.9), header: { stamp: { sec: 1, nanosec: -5 }, frame_id: 'camera_optical' } });
    assert.deepEqual(p.counters.rejectedByReason, { step_too_small: 1, tf_too_new: 1, unknown_encoding: 1, bad_stamp: 1 });
    assert.deepEqual(p.counters.skippedByReason, { unchanged: 1 });
    assert.equal(p.counters.admitted, 2);
    assert.deepEqual(p.buffer.entries().map((e) => e.index), [0, 2]);
    assert.match(p.counters.lastRejection, /header.stamp .* is not a valid time/);
    unsubscribe.unsubscribe();
    p.close();
  });

  it('a slow consumer never backs up the camera: the oldest waiting frames are dropped and counted', async () => {
    const p = pipeline(drivingTf(30, 2), { queueCapacity: 2, slowMs: 30 });
    const t0 = performance.now();
    for (let i = 0; i < 10; i++) p.push(frame(i * 0.2));
    const pushMs = performance.now() - t0;
    assert.ok(pushMs < 50, `pushing 10 frames took ${pushMs} ms`);
    await p.idle();
    assert.equal(p.counters.dropped, 7); // frame 0 in work, 1–7 pushed out of the 2-slot queue
    assert.deepEqual(p.buffer.entries().map((e) => e.index), [0, 8, 9]);
    p.close();
  });

  it('close() releases waiters and stops processing', async () => {
    const p = pipeline(drivingTf(1, 1), { slowMs: 50 });
    p.push(frame(0));
    p.push(frame(0.5));
    const waiting = p.idle();
    p.close();
    await waiting;
    assert.ok(p.counters.admitted <= 1);
  });

  it('diagnostics: STALE before frames, OK, WARN on some rejections, ERROR when all are rejected', async () => {
    const p = pipeline(drivingTf(0.5, 2));
    const d = new IngestDiagnostics(p.counters, p.buffer, 'ingest', 'cam0');
    assert.equal(d.status().level, DIAGNOSTIC_LEVEL.STALE);
    for (let i = 0; i < 30; i++) {
      p.push(frame(i / 30));
      await p.idle();
    }
    const ok = d.status();
    assert.equal(ok.level, DIAGNOSTIC_LEVEL.OK, ok.message);
    assert.equal(ok.hardware_id, 'cam0');
    const v = Object.fromEntries(ok.values.map((kv) => [kv.key, kv.value]));
    assert.equal(v.frames_received, '30');
    assert.equal(v.buffer_frames, `${p.buffer.size}/1024`);
    assert.equal(v.oldest_index, '0');
    assert.equal(v.oldest_age_s, '1.0');
    p.push(frame(1.2));
    p.push({ ...frame(1.8), step: 1 }); // admitted by the gate (0.3 m), then rejected
    await p.idle();
    const warn = d.status();
    assert.equal(warn.level, DIAGNOSTIC_LEVEL.WARN);
    assert.match(warn.message, /1 rejected and 0 dropped of 2 frames/);
    p.push(frame(9));
    await p.idle();
    const err = d.status();
    assert.equal(err.level, DIAGNOSTIC_LEVEL.ERROR);
    assert.match(err.message, /all 1 frames since the last report were rejected .*tf_too_new/);
    assert.ok(err.values.some((kv) => kv.key === 'rejected.tf_too_new' && kv.value === '1'));
    p.close();
  });

  it('rejectionCode maps typed errors to counted reasons', () => {
    assert.equal(rejectionCode(new TransformError('x', 'too_old')), 'tf_too_old');
    assert.equal(rejectionCode(new BadFrameError('x', 'truncated')), 'truncated');
    assert.equal(rejectionCode(Object.assign(new Error('x'), { code: 'opencv_unavailable' })), 'opencv_unavailable');
    assert.equal(rejectionCode('weird'), 'internal_error');
  });
});

describe('core/context/dropOldestQueue', () => {
  it('rejects a bad capacity', () => {
    assert.throws(() => dropOldestQueue(0, (x: number) => x, () => {}, () => {}), (e: unknown) => e instanceof ParameterError && /integer ≥ 1, got 0/.test(e.message));
  });

  it('keeps order, survives errors, completes after draining', async () => {
    const src = new Subject<number>();
    const errors: number[] = [];
    const out = lastValueFrom(
      src.pipe(
        dropOldestQueue(
          10,
          (x: number) => {
            if (x === 2) throw new Error('boom');
            return x % 2 === 0 ? x * 10 : undefined;
          },
          () => {},
          (x) => errors.push(x),
        ),
        toArray(),
      ),
    );
    for (let i = 0; i < 6; i++) src.next(i);
    src.complete();
    assert.deepEqual(await out, [0, 40]);
    assert.deepEqual(errors, [2]);
  });
});
