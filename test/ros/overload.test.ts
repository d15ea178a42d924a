/**
 * Overload at reduced size: 30 s of a 60 Hz 320×240 rgb8 camera (simulated time, published in
 * bursts as a driver's queue would deliver them) while the node plans back to back. The queues
 * stay bounded and every drop is counted (transport keep_last, ingest queue → /diagnostics);
 * keyframes reach the buffer within a bounded delay. The full-size run is scripts/benchOverload.ts.
 */
import { strict as assert } from 'node:assert';
import { runOverload } from '../../src/sim/overload.js';
import { GreyImagination, MANIFEST } from './harness.js';

describe('overload: 60 Hz camera while planning (reduced size)', function () {
  this.timeout(60000);

  it('bounded queues and buffer, drops counted in diagnostics, bounded camera-to-buffer latency, memory released, plans answered', async () => {
    // grey frames, 3 ms of held event loop per denoising call: planning competes for the loop
    const r = await runOverload({ width: 320, height: 240, hz: 60, durationS: 30, clock: 'sim', burst: 8, model: new GreyImagination(3), manifest: MANIFEST, plan: true, planEveryS: 5, parameters: { buffer_max_frames: 32, steps: 4 } });
    assert.equal(r.frames_published, 1800);
    assert.equal(r.frames_received + r.frames_dropped_transport, r.frames_published);
    assert.ok(r.frames_dropped_transport > 0, 'bursts of 8 overflow the keep_last(5) queue');
    assert.equal(r.frames_processed + r.frames_dropped_ingest, r.frames_received, 'every received frame is processed or dropped, none left queued');
    assert.equal(r.diagnostics['frames_dropped'], String(r.frames_dropped_ingest));
    assert.equal(r.diagnostics['frames_received'], String(r.frames_received));
    assert.ok(r.buffer.frames <= 32 && r.buffer.bytes <= r.buffer.max_bytes, JSON.stringify(r.buffer));
    assert.ok(r.keyframes_admitted > 32, `${r.keyframes_admitted} keyframes (the buffer evicts)`);
    assert.deepEqual(r.frames_rejected, {});
    // a frame waits at most behind the transport queue, the ingest queue and one burst
    assert.ok(r.latency_ms.max <= ((5 + 2 + 8) * 1000) / 60, JSON.stringify(r.latency_ms));
    assert.ok(r.plans.answered >= 2, JSON.stringify(r.plans));
    assert.ok(r.rss_mb.peak - r.rss_mb.start < 300, `RSS ${JSON.stringify(r.rss_mb)} for ${(1800 * 0.22).toFixed(0)} MB streamed`);
  });
});
