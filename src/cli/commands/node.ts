/**
 * `video4spatial-nav node [--ros-args …]` — the ROS 2 node on a robot (what `ros2 run
 * video4spatial_nav video4spatial_nav_node` starts). Needs a sourced ROS 2 and rclnodejs
 * (imported lazily); parameters come from --ros-args / the launch file's params YAML.
 */
import type { CliCommand } from '../main.js';
import { createRclnodejsGraph } from '../../ros/rclnodejsGraph.js';
import { NodeParameters } from '../../ros/parameters.js';
import { defaultModelDir, OnnxImaginationModel, type ExecutionProviderChoice } from '../../model/OnnxImaginationModel.js';
import { Video4SpatialNode } from '../../ros/Video4SpatialNode.js';
import { createExtractor } from '../../planner/ExtractionPool.js';

export const command: CliCommand = {
  summary: 'run the ROS 2 node (on a ROS 2 host with rclnodejs; --ros-args are passed to rcl)',
  async run() {
    const graph = await createRclnodejsGraph({ name: 'video4spatial_nav' });
    const params = NodeParameters.declare(graph.parameters, graph.logger);
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
    const stop = () => {
      node.close();
      void extraction.close();
      graph.shutdown();
      process.exit(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    graph.spin();
    return new Promise<number>(() => undefined);
  },
};
