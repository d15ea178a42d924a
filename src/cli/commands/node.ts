/**
 * `video4spatial-nav node [--ros-args …]` — the ROS 2 node on a robot (what `ros2 run
 * video4spatial_nav video4spatial_nav_node` starts). Needs a sourced ROS 2 and rclnodejs
 * (imported lazily); parameters come from --ros-args / the launch file's params YAML, the log
 * level of the node's own logger from `--ros-args --log-level …` (the launch files' `log_level`).
 *
 * Shutdown: on SIGINT (Ctrl-C; also what `ros2 launch` sends first when it shuts down) or
 * SIGTERM the running goal ends CANCELED with the reason, its Nav2 goal is cancelled and the
 * cancel awaited (bounded: SHUTDOWN_GOAL_TIMEOUT_MS + SHUTDOWN_CANCEL_TIMEOUT_MS, within launch's
 * 5 s before SIGTERM), then the node is destroyed and the process exits 0. A second signal exits
 * at once (130 for SIGINT, 143 for SIGTERM). rclnodejs' own SIGINT handler, which would destroy
 * the node before anything is cancelled, is removed by createRclnodejsGraph.
 */
import { commandHelp, type CliCommand } from '../command.js';
import { createRclnodejsGraph } from '../../ros/rclnodejsGraph.js';
import type { Logger } from '../../ros/Graph.js';
import { NodeParameters } from '../../ros/parameters.js';
import { defaultModelDir, OnnxImaginationModel, readManifest, type ExecutionProviderChoice } from '../../model/OnnxImaginationModel.js';
import { Video4SpatialNode } from '../../ros/Video4SpatialNode.js';
import { createExtractor } from '../../planner/ExtractionPool.js';

/** The signals that stop the node. */
export const SHUTDOWN_SIGNALS = ['SIGINT', 'SIGTERM'] as const;
export type ShutdownSignal = (typeof SHUTDOWN_SIGNALS)[number];
/** Exit status of a forced exit (second signal): 128 + the signal number. */
const FORCED_EXIT: Record<ShutdownSignal, number> = { SIGINT: 130, SIGTERM: 143 };

/** What `onShutdownSignals` needs from the process (tests pass an EventEmitter). */
export interface SignalSource {
  on(event: ShutdownSignal, listener: () => void): unknown;
  removeListener(event: ShutdownSignal, listener: () => void): unknown;
}

/**
 * Runs `shutdown(signal)` on the first SIGINT/SIGTERM, then `exit(0)` (or `exit(1)` when it
 * threw); a later signal calls `exit(130/143)` at once (force). Returns the function that removes
 * the handlers.
 */
export function onShutdownSignals(
  source: SignalSource,
  shutdown: (signal: ShutdownSignal) => Promise<unknown>,
  exit: (code: number) => void,
  logger: Pick<Logger, 'info' | 'warn' | 'error'>,
): () => void {
  let stopping: ShutdownSignal | undefined;
  const handlers = SHUTDOWN_SIGNALS.map((signal) => {
    const handler = (): void => {
      if (stopping !== undefined) {
        logger.warn(`${signal} during the shutdown (${stopping}): exiting now, without waiting for the goals and Nav2`);
        exit(FORCED_EXIT[signal]);
        return;
      }
      stopping = signal;
      logger.info(`${signal}: shutting down (a second Ctrl-C exits at once)`);
      shutdown(signal).then(
        () => exit(0),
        (e: unknown) => {
          logger.error(`shutdown failed: ${e instanceof Error ? e.message : String(e)}`);
          exit(1);
        },
      );
    };
    source.on(signal, handler);
    return [signal, handler] as const;
  });
  return () => {
    for (const [signal, handler] of handlers) source.removeListener(signal, handler);
  };
}

export const command: CliCommand = {
  ...commandHelp({
    name: 'node',
    summary: 'run the ROS 2 node (on a ROS 2 host with rclnodejs; --ros-args are passed to rcl)',
    synopsis: ['node [--ros-args …]'],
    description:
      "What `ros2 run video4spatial_nav video4spatial_nav_node` starts. Needs a sourced ROS 2 and rclnodejs. No flags of its own: parameters come from --ros-args (-p name:=value, --params-file FILE) or the launch file's params YAML (docs/ros.md), the node's log level from --ros-args --log-level. " +
      'SIGINT/SIGTERM cancel the running goal and its Nav2 goal, then exit 0; a second signal exits at once.',
    flags: [],
    examples: ['node --ros-args -p execute_default:=false --log-level debug'],
  }),
  async run() {
    const graph = await createRclnodejsGraph({ name: 'video4spatial_nav' });
    // the sampler's defaults are the model's (manifest.json); a manifest that cannot be read is
    // reported by the model's load just below
    const params = NodeParameters.declare(graph.parameters, graph.logger, (dir) => {
      try {
        return readManifest(dir || defaultModelDir()).sampler;
      } catch {
        return undefined;
      }
    });
    const v = params.values;
    const model = await OnnxImaginationModel.load(v.model_dir || defaultModelDir(), {
      executionProvider: v.execution_provider as ExecutionProviderChoice,
      deviceId: v.device_id,
      intraOpThreads: v.intra_op_threads,
      allowSpinning: v.intra_op_spinning,
      warmUp: true,
      log: (level, m) => (level === 'warn' ? graph.logger.warn(m) : graph.logger.info(m)),
    });
    const extraction = createExtractor(v.extraction_threads);
    graph.logger.info(`path extraction: ${extraction.threads === 1 ? 'in the planning thread' : `${extraction.threads} worker threads`}`);
    const node = new Video4SpatialNode(graph, model, model.manifest, { params, ...(extraction.extractor ? { extractor: extraction.extractor } : {}) });
    onShutdownSignals(
      process,
      async (signal) => {
        try {
          await node.shutdown(signal);
        } finally {
          void extraction.close();
          graph.shutdownRcl();
        }
      },
      (code) => process.exit(code),
      graph.logger,
    );
    graph.spin();
    return new Promise<number>(() => undefined);
  },
};
