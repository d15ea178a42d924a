/**
 * Loggers: levels, names, the console line format, and the bridge to a ROS logger (what the
 * rclnodejs adapter hands `node.getLogger()` to).
 */
import assert from 'node:assert/strict';
import {
  createLogger,
  createMemoryLogger,
  createRosBridgedLogger,
  formatLine,
  logLevelFromName,
  logLevelFromRosArgs,
  logLevelFromSeverity,
  MemoryTransport,
  rosLoggerName,
} from '../../src/ros/logger.js';

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

  describe('the level from --ros-args --log-level (the launch files\' log_level)', () => {
    const NODE = 'video4spatial_nav';

    it('reads the default level, any case, as rcl does; fatal is error, warning is warn', () => {
      assert.equal(logLevelFromRosArgs(['node', 'main.js', 'node', '--ros-args', '--log-level', 'debug'], NODE), 'debug');
      assert.equal(logLevelFromRosArgs(['--ros-args', '--log-level', 'WARN'], NODE), 'warn');
      assert.equal(logLevelFromRosArgs(['--ros-args', '--log-level', 'warning'], NODE), 'warn');
      assert.equal(logLevelFromRosArgs(['--ros-args', '--log-level', 'FATAL'], NODE), 'error');
      assert.equal(logLevelFromRosArgs(['--ros-args', '-r', '__node:=x', '--log-level', 'error', '-p', 'steps:=4'], NODE), 'error');
    });

    it('reads a named level for this node\'s logger, and for an ancestor of it; the named level wins over the default', () => {
      assert.equal(logLevelFromRosArgs(['--ros-args', '--log-level', 'video4spatial_nav:=debug'], NODE), 'debug');
      assert.equal(logLevelFromRosArgs(['--ros-args', '--log-level', 'info', '--log-level', 'video4spatial_nav:=debug'], NODE), 'debug');
      assert.equal(logLevelFromRosArgs(['--ros-args', '--log-level', 'video4spatial_nav:=debug', '--log-level', 'warn'], NODE), 'debug');
      assert.equal(logLevelFromRosArgs(['--ros-args', '--log-level', 'robot1:=error'], 'robot1.video4spatial_nav'), 'error');
      assert.equal(logLevelFromRosArgs(['--ros-args', '--log-level', 'robot1:=error', '--log-level', 'robot1.video4spatial_nav:=debug'], 'robot1.video4spatial_nav'), 'debug');
      // another node's level, or a logger whose name only starts like ours, is not ours
      assert.equal(logLevelFromRosArgs(['--ros-args', '--log-level', 'nav2_controller:=debug'], NODE), undefined);
      assert.equal(logLevelFromRosArgs(['--ros-args', '--log-level', 'video4spatial:=debug'], NODE), undefined);
      assert.equal(logLevelFromRosArgs(['--ros-args', '--log-level', 'nav2_controller:=debug', '--log-level', 'warn'], NODE), 'warn');
    });

    it('only inside --ros-args … --, the last default wins, unset and nonsense are ignored', () => {
      assert.equal(logLevelFromRosArgs(['--log-level', 'debug'], NODE), undefined, 'not a ROS argument');
      assert.equal(logLevelFromRosArgs(['--ros-args', '--', '--log-level', 'debug'], NODE), undefined, 'after --');
      assert.equal(logLevelFromRosArgs(['--ros-args', '--log-level', 'debug', '--', '--ros-args', '--log-level', 'error'], NODE), 'error');
      assert.equal(logLevelFromRosArgs(['--ros-args', '--log-level', 'unset'], NODE), undefined);
      assert.equal(logLevelFromRosArgs(['--ros-args', '--log-level', 'loud'], NODE), undefined);
      assert.equal(logLevelFromRosArgs(['--ros-args', '--log-level'], NODE), undefined);
      assert.equal(logLevelFromRosArgs([], NODE), undefined);
    });

    it('maps rcutils severities and names', () => {
      assert.deepEqual([10, 20, 30, 40, 50].map(logLevelFromSeverity), ['debug', 'info', 'warn', 'error', 'error']);
      assert.equal(logLevelFromSeverity(0), undefined, 'UNSET');
      assert.equal(logLevelFromSeverity(undefined), undefined);
      assert.equal(logLevelFromName(' Info '), 'info');
      assert.equal(rosLoggerName(NODE, '/'), NODE);
      assert.equal(rosLoggerName(NODE, '/robot1/arm'), 'robot1.arm.video4spatial_nav');
    });
  });
});
