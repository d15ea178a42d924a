/**
 * `video4spatial-nav bag info FILE [--json]`
 * `video4spatial-nav bag echo FILE --topic T [--json] [--limit N] [--max-array N | --full]`
 *
 * FILE is a `.mcap` file or a rosbag2 bag directory. Messages are decoded with the schema
 * embedded in the file (any type). JSON conventions (docs/bags.md): nanosecond values are
 * numbers when they are safe integers, else decimal strings; long primitive arrays are
 * truncated to `{"truncated": true, "length": N, "head": […]}` unless `--full`.
 */
import yaml from 'js-yaml';
import { checkFlags, flagBool, flagNumber, flagString, parseArgs, UsageError } from '../args.js';
import { booleanFlags, commandHelp, flagNames, type CliCommand, type FlagSpec } from '../command.js';
import { Video4SpatialError } from '../../core/errors.js';
import type { BagInfo } from '../../bag/BagReader.js';
import { openBag } from '../../bag/files.js';
import { DEFAULT_MAX_ARRAY_LENGTH, nsToIso, nsToJson, nsToSeconds, toJsonValue } from '../../bag/json.js';

const FILE_NOTE = 'FILE is a .mcap file or a rosbag2 bag directory; messages are decoded with the schema embedded in the file (JSON conventions: docs/bags.md).';
const INFO_SYNOPSIS = 'bag info FILE [--json]';
const ECHO_SYNOPSIS = 'bag echo FILE --topic T [--json] [--limit N] [--max-array N | --full]';
const INFO_FLAGS: readonly FlagSpec[] = [{ name: 'json', help: 'print one JSON object {topics, message_count, start_ns, end_ns} instead of the table' }];
const ECHO_FLAGS: readonly FlagSpec[] = [
  { name: 'topic', value: 'T', help: 'the topic to print (required)' },
  { name: 'json', help: 'one JSON object per message {topic, type, log_time_ns, publish_time_ns, message} instead of YAML' },
  { name: 'limit', value: 'N', default: 'all', help: 'stop after N messages' },
  { name: 'max-array', value: 'N', default: String(DEFAULT_MAX_ARRAY_LENGTH), help: 'primitive arrays longer than N are truncated to {truncated, length, head}' },
  { name: 'full', help: 'never truncate arrays (not with --max-array)' },
];
const INFO = commandHelp({
  name: 'bag info',
  summary: 'topics, types, counts, duration and storage of a bag',
  synopsis: [INFO_SYNOPSIS],
  description: FILE_NOTE,
  flags: INFO_FLAGS,
  examples: ['bag info out/demo/session --json'],
});
const ECHO = commandHelp({
  name: 'bag echo',
  summary: "a topic's messages, decoded, as YAML documents or JSON lines",
  synopsis: [ECHO_SYNOPSIS],
  description: FILE_NOTE,
  flags: ECHO_FLAGS,
  examples: ['bag echo out/demo/session --topic /video4spatial_nav/plan --limit 1'],
});
const USAGE = `usage: video4spatial-nav ${INFO_SYNOPSIS}\n       video4spatial-nav ${ECHO_SYNOPSIS}`;

/** Writes to stdout, waiting when the pipe is full. */
async function out(text: string): Promise<void> {
  if (!process.stdout.write(text)) await new Promise<void>((resolve) => process.stdout.once('drain', resolve));
}

/** The `bag info --json` object. */
export function infoJson(info: BagInfo): { topics: { name: string; type: string; count: number }[]; message_count: number; start_ns: number | string | null; end_ns: number | string | null } {
  return {
    topics: info.topics.map((t) => ({ name: t.name, type: t.type, count: t.count })),
    message_count: info.messageCount,
    start_ns: info.startNs === undefined ? null : nsToJson(info.startNs),
    end_ns: info.endNs === undefined ? null : nsToJson(info.endNs),
  };
}

function humanSize(bytes: bigint): string {
  const n = Number(bytes);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]} (${n} bytes)`;
}

/** The human-readable `bag info` table. */
export function infoTable(info: BagInfo, file: string): string {
  const rows: [string, string][] = [
    ['File', file],
    ['Bag size', humanSize(info.sizeBytes)],
    ['Storage', `mcap, profile '${info.profile}', written by '${info.library}'`],
    [
      'Chunks',
      `${info.chunkCompressions.length === 0 ? 'none' : info.chunkCompressions.map((c) => (c === '' ? 'uncompressed' : c)).join(', ')}; ` +
        (info.indexed ? 'read via the summary index' : 'no usable index, scanned'),
    ],
    ['Duration', `${nsToSeconds(info.durationNs)} s`],
    ['Start', info.startNs === undefined ? '-' : `${nsToIso(info.startNs)} (${info.startNs} ns)`],
    ['End', info.endNs === undefined ? '-' : `${nsToIso(info.endNs)} (${info.endNs} ns)`],
    ['Messages', String(info.messageCount)],
  ];
  const lines = rows.map(([k, v]) => `${(k + ':').padEnd(10)} ${v}`);
  const header = ['Topic', 'Type', 'Count', 'Format'];
  const body = info.topics.map((t) => [t.name, t.type, String(t.count), t.serializationFormat]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] as string).length)));
  const fmt = (r: string[]): string =>
    r
      .map((c, i) => (i === 2 ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  lines.push('', fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...body.map(fmt));
  return lines.join('\n') + '\n';
}

async function info(argv: string[]): Promise<number> {
  const args = parseArgs(argv, booleanFlags(INFO_FLAGS));
  checkFlags(args, flagNames(INFO_FLAGS), 'bag info');
  if (args.positional.length !== 1) throw new UsageError(`bag info needs exactly one FILE, got ${args.positional.length}\n${USAGE}`);
  const file = args.positional[0] as string;
  const bag = await openBag(file);
  try {
    const i = bag.reader.info();
    await out(flagBool(args, 'json') ? JSON.stringify(infoJson(i)) + '\n' : infoTable(i, bag.mcapPath));
  } finally {
    await bag.close();
  }
  return 0;
}

async function echo(argv: string[]): Promise<number> {
  const args = parseArgs(argv, booleanFlags(ECHO_FLAGS));
  checkFlags(args, flagNames(ECHO_FLAGS), 'bag echo');
  if (args.positional.length !== 1) throw new UsageError(`bag echo needs exactly one FILE, got ${args.positional.length}\n${USAGE}`);
  const topic = flagString(args, 'topic');
  if (topic === undefined) throw new UsageError(`bag echo needs --topic T\n${USAGE}`);
  const limit = flagNumber(args, 'limit', Infinity, { integer: true, min: 1 });
  if (flagBool(args, 'full') && args.flags.has('max-array')) throw new UsageError('give either --full or --max-array, not both');
  const maxArrayLength = flagBool(args, 'full') ? Infinity : flagNumber(args, 'max-array', DEFAULT_MAX_ARRAY_LENGTH, { integer: true, min: 1 });
  const json = flagBool(args, 'json');
  const bag = await openBag(args.positional[0] as string);
  try {
    let n = 0;
    for await (const m of bag.reader.decodedMessages({ topics: [topic] })) {
      if (n >= limit) break;
      n++;
      const message = toJsonValue(m.message, { maxArrayLength });
      if (json) {
        await out(
          JSON.stringify({
            topic: m.topic,
            type: m.type,
            log_time_ns: nsToJson(m.logTimeNs),
            publish_time_ns: nsToJson(m.publishTimeNs),
            message,
          }) + '\n',
        );
      } else {
        await out(
          `# ${m.topic} (${m.type}) log time ${nsToIso(m.logTimeNs)} (${m.logTimeNs} ns)\n` +
            yaml.dump(message, { lineWidth: -1, noRefs: true }) +
            '---\n',
        );
      }
    }
  } finally {
    await bag.close();
  }
  return 0;
}

export const command: CliCommand = {
  ...commandHelp({
    name: 'bag',
    summary: 'inspect rosbag2 MCAP bags: info (topics, counts, times), echo (decoded messages)',
    synopsis: [INFO_SYNOPSIS, ECHO_SYNOPSIS],
    description: `Subcommands: info (${INFO.summary}); echo (${ECHO.summary}). 'video4spatial-nav bag info --help' shows one.\n\n${FILE_NOTE}`,
    flags: [],
    groups: [
      { title: 'bag info flags', flags: INFO_FLAGS },
      { title: 'bag echo flags', flags: ECHO_FLAGS },
    ],
    examples: ['bag info out/demo/session', 'bag echo out/demo/session --topic /video4spatial_nav/plan --json --limit 1'],
  }),
  subcommands: { info: INFO, echo: ECHO },
  async run(argv) {
    const [sub, ...rest] = argv;
    process.stdout.on('error', (e: NodeJS.ErrnoException) => {
      // `… | head`: the reader went away, which is not a failure.
      if (e.code !== 'EPIPE') process.stderr.write(`video4spatial-nav bag: cannot write to stdout: ${e.message}\n`);
      process.exit(e.code === 'EPIPE' ? 0 : 1);
    });
    try {
      if (sub === 'info') return await info(rest);
      if (sub === 'echo') return await echo(rest);
    } catch (e) {
      if (e instanceof Video4SpatialError) {
        process.stderr.write(`video4spatial-nav bag ${sub}: ${e.message}\n`);
        return 1;
      }
      throw e;
    }
    throw new UsageError(`unknown bag subcommand ${sub === undefined ? '(none)' : `'${sub}'`} (known: info, echo)\n${USAGE}`);
  },
};
