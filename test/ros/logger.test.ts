/**
 * Loggers: levels, names, the console line format, and the bridge to a ROS logger (what the
 * rclnodejs adapter hands `node.getLogger()` to).
 */
import assert from 'node:assert/strict';
import { createLogger, createMemoryLogger, createRosBridgedLogger, formatLine, MemoryTransport } from '../../src/ros/logger.js';

describe('ros/logger', () => {
  it('keeps records in memory, synchronously, at and above its level', () => {
    const { logger, memory } = createMemoryLogger('n', 'info');
    logger.debug('hidden');
    logger.info('started');
    logger.warn('camera stale');
    logger.error('model failed');
    assert.deepEqual(memory.records, [
      { level: 'info', message: 'started' },
      { level: 'warn', message: 'camera stale' },
      { level: 'error', message: 'model failed' },
    ]);
    assert.deepEqual(memory.at('warn'), ['camera stale']);
  });

  it('children share the transports', () => {
    const memory = new MemoryTransport();
    const logger = createLogger({ name: 'video4spatial_nav', level: 'debug', transports: [memory.transport] });
    logger.child('planner').debug('step 3/8');
    assert.deepEqual(memory.records, [{ level: 'debug', message: 'step 3/8' }]);
  });

  it('formats console lines like the ROS console', () => {
    assert.equal(formatLine('warn', 'video4spatial_nav.planner', 'no plan', 1_700_000_000_123), '[WARN] [1700000000.123000000] [video4spatial_nav.planner]: no plan');
  });

  it('bridges every record to the ROS logger at the same severity', () => {
    const calls: string[] = [];
    const ros = {
      debug: (m: string) => calls.push(`debug:${m}`),
      info: (m: string) => calls.push(`info:${m}`),
      warn: (m: string) => calls.push(`warn:${m}`),
      error: (m: string) => calls.push(`error:${m}`),
    };
    const logger = createRosBridgedLogger('video4spatial_nav', ros, 'info');
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    assert.deepEqual(calls, ['info:i', 'warn:w', 'error:e']);
  });
});
