/**
 * `video4spatial-nav sim --live [--port P] [--seed S] [--model DIR] [--extraction-threads N]
 * [--duration S] [--empty-memory]` — the node and a simulated robot that keeps running
 * (src/sim/liveSim.ts), served to Foxglove Studio over a Foxglove WebSocket on 127.0.0.1
 * (src/live/foxgloveLive.ts): an operator drives with a Twist on /cmd_vel_teleop (the Teleop
 * panel), asks with a std_msgs/String on /video4spatial_nav/goal_object (the Publish panel) and
 * watches the node imagine and go. Each goal's end is printed on stderr with the simulator's
 * ground truth. Runs until SIGINT/SIGTERM (the goal is cancelled, the server closed, exit 0; a
 * second signal exits at once) or --duration wall seconds. Without --live it refuses: nothing
 * could drive the robot or ask for an object (`demo` is the scripted run).
 */
import { checkFlags, flagBool, flagNumber, flagString, parseArgs, UsageError } from '../args.js';
import { booleanFlags, commandHelp, flagNames, type CliCommand } from '../command.js';
import { EXTRACTION_THREADS_FLAG, extractionThreadsFromArgs } from '../extraction.js';
import { createExtractor } from '../../planner/ExtractionPool.js';
import { defaultModelDir, OnnxImaginationModel } from '../../model/OnnxImaginationModel.js';
import { createLogger } from '../../ros/logger.js';
import { DEFAULT_LIVE_PORT, FoxgloveLive } from '../../live/foxgloveLive.js';
import { EXPLORE_DT, makeScenario } from '../../sim/scenario.js';
import { GOAL_TOPIC, goalReportLine, LiveSim, TELEOP_TOPIC } from '../../sim/liveSim.js';
import { TELEOP_MAX_ANGULAR, TELEOP_MAX_LINEAR, TELEOP_TIMEOUT_S } from '../../sim/teleop.js';
import { onShutdownSignals } from './node.js';

/** The layout to import in Foxglove Studio (relative to the repository). */
export const LAYOUT_FILE = 'docs/foxglove/video4spatial_nav.layout.json';

const HELP = commandHelp({
  name: 'sim',
  summary: 'keep a simulated robot running with the node, for an operator in Foxglove Studio: drive it, ask for an object, watch it imagine and go',
  synopsis: ['sim --live [--port P] [--seed S] [--model DIR] [--extraction-threads N] [--duration S] [--empty-memory]'],
  description:
    'The node runs on the in-process ROS graph with the simulated robot and Nav2 in world S; the simulated clock follows the wall clock. ' +
    `Open the printed ws://127.0.0.1:PORT in Foxglove Studio (Open connection > Foxglove WebSocket) and import ${LAYOUT_FILE}. ` +
    `Drive with geometry_msgs/Twist on ${TELEOP_TOPIC} (the Teleop panel; linear.x up to ${TELEOP_MAX_LINEAR} m/s, angular.z up to ${TELEOP_MAX_ANGULAR} rad/s, clamped; a zero Twist, or none for ${TELEOP_TIMEOUT_S} s, stops the robot; the node pauses its goal while you drive). ` +
    `Ask with std_msgs/String on ${GOAL_TOPIC} (the Publish panel, {"data": "plant"}; "" cancels). ` +
    'Each goal\'s end is printed on stderr: the node\'s outcome and the simulator\'s ground truth (arrived or not, distance). ' +
    'The world starts explored (the node remembers the scripted exploration) unless --empty-memory. ' +
    'Runs until Ctrl-C (SIGINT) or SIGTERM: the running goal is cancelled, the server closed, exit 0. Without --live it refuses (nothing could drive or ask); `demo` is the scripted run.',
  flags: [
    { name: 'live', help: 'serve the graph to Foxglove Studio over a Foxglove WebSocket on 127.0.0.1 (required)' },
    { name: 'port', value: 'P', default: String(DEFAULT_LIVE_PORT), help: 'TCP port of the server (0: a free one; the URL is printed on stderr)' },
    { name: 'seed', value: 'S', default: '100', help: 'simulated world seed' },
    { name: 'model', value: 'DIR', default: 'the shipped model', help: 'model directory (manifest.json and ONNX files)' },
    EXTRACTION_THREADS_FLAG,
    { name: 'duration', value: 'S', default: '0 = until Ctrl-C', help: 'stop after S wall-clock seconds' },
    { name: 'empty-memory', help: 'skip the scripted exploration: the node starts with no memory, drive around to fill it' },
  ],
  examples: ['sim --live', 'sim --live --port 8766 --seed 7 --duration 600'],
});

export const command: CliCommand = {
  ...HELP,
  async run(argv) {
    const args = parseArgs(argv, booleanFlags(HELP.flags));
    checkFlags(args, flagNames(HELP.flags), 'sim');
    if (args.positional.length > 0) throw new UsageError(`sim takes no positional arguments, got '${args.positional.join(' ')}'`);
    if (!flagBool(args, 'live')) {
      throw new UsageError('sim needs --live: without the Foxglove WebSocket nothing could drive the robot or ask for an object (for a scripted run: demo)');
    }
    const port = flagNumber(args, 'port', DEFAULT_LIVE_PORT, { integer: true, min: 0, max: 65535 });
    const seed = flagNumber(args, 'seed', 100, { integer: true, min: 0 });
    const durationS = flagNumber(args, 'duration', 0, { min: 0 });
    const extractionThreads = extractionThreadsFromArgs(args);
    const say = (s: string) => process.stderr.write(`[sim] ${s}\n`);

    const model = await OnnxImaginationModel.load(flagString(args, 'model') ?? defaultModelDir(), { log: (_l, m) => say(m) });
    const extraction = createExtractor(extractionThreads);
    let live: FoxgloveLive | undefined;
    const logger = createLogger({ name: 'video4spatial_nav', level: 'info' });
    const stop = new AbortController();
    let stoppedBy = '';
    let finished: () => void = () => undefined;
    const done = new Promise<void>((r) => (finished = r));
    const removeSignals = onShutdownSignals(
      process,
      async (signal) => {
        stoppedBy = signal;
        stop.abort();
        await done;
      },
      (code) => {
        if (code !== 0) process.exit(code);
      },
      logger,
    );
    try {
      live = await FoxgloveLive.listen({ port });
      const sc = makeScenario(seed);
      say(`world ${seed}: ${sc.world.rooms.length} room(s), objects: ${sc.world.objects.map((o) => o.category).join(', ')}`);
      const server = live;
      const sim = await LiveSim.start({
        scenario: sc,
        model,
        manifest: model.manifest,
        ...(extraction.extractor ? { extractor: extraction.extractor } : {}),
        logger,
        explore: !flagBool(args, 'empty-memory'),
        tap: (bus) => server.attach(bus),
        onGoalStart: (n, object) => say(`goal ${n}: '${object}' asked`),
        onGoalEnd: (r) => say(goalReportLine(r)),
      });
      say(`${sim.node.ingest.buffer.size} keyframe(s) in memory; the robot is at (${sim.robot.pose.x.toFixed(2)}, ${sim.robot.pose.y.toFixed(2)})`);
      say(`live view: ${live.url} (Foxglove Studio: Open connection > Foxglove WebSocket; layout ${LAYOUT_FILE})`);
      say(`drive: geometry_msgs/Twist on ${TELEOP_TOPIC}; ask: std_msgs/String on ${GOAL_TOPIC}; ${durationS > 0 ? `stops after ${durationS} s or at Ctrl-C` : 'Ctrl-C stops'}`);
      const why = await sim.run({ signal: stop.signal, durationS });
      stoppedBy ||= why === 'duration' ? `--duration ${durationS}` : 'a signal';
      await sim.shutdown(stoppedBy);
      const g = sim.goals;
      say(`stopped (${stoppedBy}): ${g.length} goal(s) ended, ${g.filter((r) => r.judgement?.success).length} arrived by ground truth; ${sim.steps.teleop} teleop, ${sim.steps.nav2} Nav2 and ${sim.steps.idle} standing steps of ${EXPLORE_DT} s`);
    } finally {
      await live?.stop();
      await extraction.close();
      await model.dispose();
      removeSignals();
      finished();
    }
    return 0;
  },
};
