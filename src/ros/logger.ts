/**
 * Loggers: one winston logger per node (console lines like the ROS console:
 * `[LEVEL] [seconds.nanos] [name]: message` on stderr), a transport that forwards to the ROS
 * logger of an rclnodejs node (so `/rosout` and `ros2 launch` see our lines), and a memory
 * transport for tests.
 */
import { Writable } from 'node:stream';
import winston from 'winston';
import type { Logger } from './Graph.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** winston's npm levels, restricted to the four ROS-like ones we use. */
const LEVEL_NUMBERS: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

/** The ROS logger calls we forward to (rclnodejs `node.getLogger()`). */
export interface RosLoggerLike {
  debug(message: string): unknown;
  info(message: string): unknown;
  warn(message: string): unknown;
  error(message: string): unknown;
}

/** A log line as kept by `MemoryTransport`. */
export interface LogRecord {
  level: LogLevel;
  message: string;
}

function asLevel(level: unknown): LogLevel {
  return LOG_LEVELS.includes(level as LogLevel) ? (level as LogLevel) : 'info';
}

/** A winston transport that hands every record (level, message) to `sink`. */
function recordTransport(sink: (record: LogRecord) => void, level: LogLevel): winston.transport {
  const stream = new Writable({
    objectMode: true,
    write(info: { level?: unknown; message?: unknown }, _encoding, done) {
      sink({ level: asLevel(info.level), message: String(info.message) });
      done();
    },
  });
  return new winston.transports.Stream({ stream, level });
}

/** A transport forwarding every record to a ROS logger at the same severity (ROS adds its own prefix). */
export function rosLoggerTransport(ros: RosLoggerLike, level: LogLevel = 'debug'): winston.transport {
  return recordTransport((r) => ros[r.level](r.message), level);
}

/** Keeps records in memory (tests assert on warnings instead of scraping stderr). */
export class MemoryTransport {
  readonly records: LogRecord[] = [];
  readonly transport: winston.transport;

  constructor(level: LogLevel = 'debug') {
    this.transport = recordTransport((r) => this.records.push(r), level);
  }

  /** The messages logged at `level`, oldest first. */
  at(level: LogLevel): string[] {
    return this.records.filter((r) => r.level === level).map((r) => r.message);
  }
}

export interface LoggerOptions {
  /** Logger name shown in each line (the node name). */
  name: string;
  /**
   * Lowest level written; default the `--ros-args --log-level <severity>` of process.argv, else
   * $V4S_LOG_LEVEL when valid, else `info`.
   */
  level?: LogLevel;
  /** Where records go; default one console transport on stderr. */
  transports?: winston.transport[];
}

/** Our Logger interface on top of a winston logger, plus the winston logger itself. */
export interface WinstonLogger extends Logger {
  readonly winston: winston.Logger;
  /** A logger named `<name>.<suffix>` writing to the same transports. */
  child(suffix: string): WinstonLogger;
}

/** One console line, like the ROS console: `[INFO] [1700000000.123000000] [video4spatial_nav]: message`. */
export function formatLine(level: string, name: string, message: string, timestampMs: number): string {
  const sec = Math.floor(timestampMs / 1000);
  const nanos = Math.round((timestampMs - sec * 1000) * 1e6);
  return `[${level.toUpperCase()}] [${sec}.${String(nanos).padStart(9, '0')}] [${name}]: ${message}`;
}

function consoleFormat(): winston.Logform.Format {
  return winston.format.printf((info) =>
    formatLine(
      String(info.level),
      String(info['loggerName'] ?? ''),
      String(info.message),
      typeof info['timestampMs'] === 'number' ? (info['timestampMs'] as number) : Date.now(),
    ),
  );
}

/**
 * A ROS severity name (rcutils: debug, info, warn/warning, error, fatal; any case) as one of our
 * levels (fatal → error); undefined for `unset` and anything else.
 */
export function logLevelFromName(name: string): LogLevel | undefined {
  const n = name.trim().toLowerCase();
  if (n === 'warning') return 'warn';
  if (n === 'fatal') return 'error';
  return LOG_LEVELS.includes(n as LogLevel) ? (n as LogLevel) : undefined;
}

/** rcutils severity numbers (rclnodejs `Logging.LoggingSeverity`: DEBUG 10 … FATAL 50; UNSET 0). */
export function logLevelFromSeverity(severity: unknown): LogLevel | undefined {
  const n = typeof severity === 'bigint' ? Number(severity) : severity;
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) return undefined;
  return n <= 10 ? 'debug' : n <= 20 ? 'info' : n <= 30 ? 'warn' : 'error';
}

/**
 * The rcl logger name of a node: `name`, or the namespace's tokens joined by dots, then the name
 * (`/robot1/arm` + `video4spatial_nav` → `robot1.arm.video4spatial_nav`), as rcl_node_get_logger_name.
 */
export function rosLoggerName(nodeName: string, namespace = '/'): string {
  const ns = namespace.replace(/^\/+|\/+$/g, '');
  return ns === '' ? nodeName : `${ns.replace(/\/+/g, '.')}.${nodeName}`;
}

/**
 * The level the ROS arguments give the logger `loggerName`, as rcl parses them: in each
 * `--ros-args … [--]` section, `--log-level <severity>` sets the default and
 * `--log-level <logger>:=<severity>` one logger and its descendants (`a:=debug` applies to
 * `a.b`); the most specific named level wins over the default, the last of equals wins.
 * What `ros2 launch … log_level:=debug` and `ros2 run … --ros-args --log-level debug` pass.
 * Returns undefined when the arguments set no level for this logger.
 */
export function logLevelFromRosArgs(argv: readonly string[], loggerName?: string): LogLevel | undefined {
  let fallback: LogLevel | undefined;
  const named = new Map<string, LogLevel | undefined>();
  let inRos = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (!inRos) {
      if (a === '--ros-args') inRos = true;
      continue;
    }
    if (a === '--') {
      inRos = false;
      continue;
    }
    if (a !== '--log-level') continue;
    const value = argv[++i];
    if (value === undefined) break;
    const sep = value.indexOf(':=');
    if (sep < 0) fallback = logLevelFromName(value) ?? fallback;
    else named.set(value.slice(0, sep), logLevelFromName(value.slice(sep + 2)));
  }
  if (loggerName !== undefined) {
    const parts = loggerName.split('.');
    for (let n = parts.length; n > 0; n--) {
      const level = named.get(parts.slice(0, n).join('.'));
      if (level !== undefined) return level;
    }
  }
  return fallback;
}

function defaultLevel(): LogLevel {
  const fromArgs = logLevelFromRosArgs(process.argv);
  if (fromArgs !== undefined) return fromArgs;
  const env = process.env['V4S_LOG_LEVEL'];
  return env !== undefined && LOG_LEVELS.includes(env as LogLevel) ? (env as LogLevel) : 'info';
}

function wrap(w: winston.Logger, name: string): WinstonLogger {
  const write = (level: LogLevel, message: string): void => {
    w.log({ level, message, loggerName: name, timestampMs: Date.now() });
  };
  return {
    winston: w,
    debug: (m) => write('debug', m),
    info: (m) => write('info', m),
    warn: (m) => write('warn', m),
    error: (m) => write('error', m),
    child: (suffix) => wrap(w, `${name}.${suffix}`),
  };
}

/** Creates a node logger (see the module comment). */
export function createLogger(options: LoggerOptions): WinstonLogger {
  const transports = options.transports ?? [
    new winston.transports.Console({ stderrLevels: [...LOG_LEVELS], format: consoleFormat() }),
  ];
  const w = winston.createLogger({
    levels: LEVEL_NUMBERS,
    level: options.level ?? defaultLevel(),
    transports,
  });
  return wrap(w, options.name);
}

/** A logger that keeps its records in memory (and writes nothing). */
export function createMemoryLogger(name = 'test', level: LogLevel = 'debug'): { logger: WinstonLogger; memory: MemoryTransport } {
  const memory = new MemoryTransport(level);
  return { logger: createLogger({ name, level, transports: [memory.transport] }), memory };
}

/** A logger bridged to the ROS logger of a node (rclnodejs): every record goes to `ros`. */
export function createRosBridgedLogger(name: string, ros: RosLoggerLike, level: LogLevel = 'debug'): WinstonLogger {
  return createLogger({ name, level, transports: [rosLoggerTransport(ros, level)] });
}
