/**
 * `video4spatial-nav node`: the signal handling around the node's safe shutdown (the node and
 * the graph are tested in test/ros/Video4SpatialNode.test.ts, actions.test.ts and
 * rclnodejsGraph.test.ts). Signals come from an EventEmitter standing in for `process`.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { onShutdownSignals, type ShutdownSignal } from '../../src/cli/commands/node.js';
import { lineLogger } from '../ros/harness.js';

function rig(shutdown: (signal: ShutdownSignal) => Promise<unknown>) {
  const proc = new EventEmitter();
  const exits: number[] = [];
  const log = lineLogger();
  const remove = onShutdownSignals(proc, shutdown, (code) => exits.push(code), log.logger);
  return { proc, exits, lines: log.lines, remove };
}

describe('cli node: SIGINT/SIGTERM', () => {
  it('the first signal runs the safe shutdown once, then exits 0; a second one exits at once (130 for SIGINT, 143 for SIGTERM)', async () => {
    let finish!: () => void;
    const calls: ShutdownSignal[] = [];
    const r = rig((signal) => {
      calls.push(signal);
      return new Promise<void>((resolve) => (finish = resolve));
    });
    r.proc.emit('SIGINT');
    assert.deepEqual(calls, ['SIGINT']);
    assert.deepEqual(r.exits, [], 'waits for the shutdown');
    r.proc.emit('SIGINT');
    assert.deepEqual(r.exits, [130], 'a second Ctrl-C forces the exit');
    r.proc.emit('SIGTERM');
    assert.deepEqual(r.exits, [130, 143]);
    assert.deepEqual(calls, ['SIGINT'], 'the shutdown ran once');
    finish();
    await new Promise((res) => setImmediate(res));
    assert.deepEqual(r.exits, [130, 143, 0]);
    assert.ok(r.lines.some((l) => l.includes('SIGINT: shutting down')), r.lines.join('\n'));
  });

  it('SIGTERM (a launch shutdown escalating) works the same; a failed shutdown exits 1; the handlers can be removed', async () => {
    const r = rig(() => Promise.reject(new Error('Nav2 vanished')));
    r.proc.emit('SIGTERM');
    await new Promise((res) => setImmediate(res));
    assert.deepEqual(r.exits, [1]);
    assert.ok(r.lines.some((l) => l.startsWith('error: shutdown failed: Nav2 vanished')));
    r.remove();
    assert.equal(r.proc.listenerCount('SIGINT') + r.proc.listenerCount('SIGTERM'), 0);
  });
});
