/**
 * `video4spatial-nav plan --bag FILE --object NAME [--out DIR] [--topic T] [--candidates M]
 *  [--steps N] [--model DIR] [--extraction-threads N]` — plan offline from a recorded bag: the bag's camera topic (Image or
 * CompressedImage, auto-detected; its camera_info sibling when present) and /tf, /tf_static are
 * replayed in order into the node on the in-process graph, then one plan-only NavigateToObject goal
 * is sent. Writes DIR/summary.json, imagined.gif/.png, candidates.gif and the bag DIR/plan/ with
 * every output topic (plan, object pose, imagined frames, imagined trajectory).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkFlags, flagNumber, flagString, parseArgs, UsageError } from '../args.js';
import { createExtractor } from '../../planner/ExtractionPool.js';
import { EXTRACTION_THREADS_FLAG, extractionThreadsFromArgs } from '../extraction.js';
import { booleanFlags, commandHelp, flagNames, type CliCommand } from '../command.js';
import { createBag, openBag } from '../../bag/files.js';
import { BagRecorder } from '../../bag/recorder.js';
import { defaultModelDir, OnnxImaginationModel } from '../../model/OnnxImaginationModel.js';
import { InProcessBus } from '../../ros/InProcessGraph.js';
import type { QosLike } from '../../ros/Graph.js';
import { createLogger } from '../../ros/logger.js';
import type { ImaginedTrajectory, NavigateToObjectFeedback, NavigateToObjectGoal, NavigateToObjectResult } from '../../ros/messages/types.js';
import { Video4SpatialNode } from '../../ros/Video4SpatialNode.js';
import { writeImaginedPictures } from './demo.js';

const CAMERA_TYPES = ['sensor_msgs/msg/Image', 'sensor_msgs/msg/CompressedImage'];

const HELP = commandHelp({
  name: 'plan',
  summary: 'plan offline from a recorded bag (camera + tf) and write the imagined video and a bag of the outputs',
  synopsis: ['plan --bag FILE --object NAME [--out DIR] [--topic T] [--candidates M] [--steps N] [--model DIR] [--extraction-threads N]'],
  description:
    "The bag's camera topic (Image or CompressedImage; its camera_info sibling when present) and /tf, /tf_static are replayed into the node on the in-process graph, then one plan-only NavigateToObject goal is sent. " +
    'Writes DIR/summary.json, imagined.gif/.png, candidates.gif and the bag DIR/plan/ with the output topics.',
  flags: [
    { name: 'bag', value: 'FILE', help: 'a .mcap file or a rosbag2 directory (required)' },
    { name: 'object', value: 'NAME', help: 'object to plan to (required)' },
    { name: 'out', value: 'DIR', default: 'out/plan', help: 'output directory' },
    { name: 'topic', value: 'T', default: 'the first camera topic', help: 'camera topic to replay' },
    { name: 'candidates', value: 'M', default: "the model's sampler.candidates", help: 'imagined candidates, 1-16' },
    { name: 'steps', value: 'N', default: "the model's sampler.steps", help: 'denoising steps, 1-100' },
    { name: 'model', value: 'DIR', default: 'the shipped model', help: 'model directory' },
    EXTRACTION_THREADS_FLAG,
  ],
  examples: ['plan --bag out/demo/session --object plant --out out/plan'],
});

export const command: CliCommand = {
  ...HELP,
  async run(argv) {
    const args = parseArgs(argv, booleanFlags(HELP.flags));
    checkFlags(args, flagNames(HELP.flags), 'plan');
    const bagPath = flagString(args, 'bag');
    const object = flagString(args, 'object');
    if (!bagPath || !object) throw new UsageError('needs --bag FILE and --object NAME');
    const out = flagString(args, 'out') ?? 'out/plan';
    const log = (s: string) => process.stdout.write(`[plan] ${s}\n`);
    const bag = await openBag(bagPath);
    const info = bag.reader.info();
    const cams = info.topics.filter((t) => CAMERA_TYPES.includes(t.type) && t.count > 0 && !t.name.includes('imagined'));
    const wanted = flagString(args, 'topic');
    const cam = wanted ? info.topics.find((t) => t.name === wanted) : cams[0];
    if (!cam) {
      throw new UsageError(
        wanted
          ? `topic '${wanted}' is not in ${bagPath} (topics: ${info.topics.map((t) => t.name).join(', ')})`
          : `no camera topic (sensor_msgs/msg/Image or CompressedImage) in ${bagPath} (topics: ${info.topics.map((t) => `${t.name} [${t.type}]`).join(', ')})`,
      );
    }
    if (!CAMERA_TYPES.includes(cam.type)) throw new UsageError(`topic '${cam.name}' is ${cam.type}, not a camera image`);
    const compressed = cam.type.endsWith('CompressedImage');
    const base = compressed ? cam.name.replace(/\/compressed$/, '') : cam.name;
    const infoTopic = info.topics.find((t) => t.type === 'sensor_msgs/msg/CameraInfo')?.name ?? `${base.replace(/\/[^/]*$/, '')}/camera_info`;
    const extractionThreads = extractionThreadsFromArgs(args);
    const model = await OnnxImaginationModel.load(flagString(args, 'model') ?? defaultModelDir(), { log: (_l, m) => log(m) });
    const logger = createLogger({ name: 'video4spatial_nav', level: 'warn' });
    const bus = new InProcessBus({ logger });
    const player = bus.node({ name: 'player', logger });
    const nodeGraph = bus.node({
      name: 'video4spatial_nav',
      logger,
      remap: { '~/image': base, '~/image/compressed': cam.name, '~/camera_info': infoTopic },
      parameters: {
        compressed,
        candidates: flagNumber(args, 'candidates', model.manifest.sampler.candidates, { integer: true, min: 1, max: 16 }),
        steps: flagNumber(args, 'steps', model.manifest.sampler.steps, { integer: true, min: 1, max: 100 }),
      },
    });
    const extraction = createExtractor(extractionThreads);
    const node = new Video4SpatialNode(nodeGraph, model, model.manifest, extraction.extractor ? { extractor: extraction.extractor } : {});
    const qos = (topic: string, type: string): QosLike => (topic === '/tf_static' ? 'tf_static' : topic === '/tf' ? 'tf' : CAMERA_TYPES.includes(type) || type.endsWith('CameraInfo') ? 'sensor_data' : 'default');
    const replay = [cam.name, infoTopic, '/tf', '/tf_static'].filter((t) => info.topics.some((x) => x.name === t));
    const pubs = new Map(replay.map((t) => {
      const type = (info.topics.find((x) => x.name === t) as { type: string }).type;
      return [t, player.createPublisher(t, type, qos(t, type))] as const;
    }));
    let n = 0;
    for await (const m of bag.reader.decodedMessages({ topics: replay })) {
      pubs.get(m.topic)?.publish(m.message);
      await bus.flush();
      if (m.topic === cam.name) await node.ingest.idle();
      n++;
    }
    await bag.close();
    const summaryIngest = node.ingest.summary();
    log(`replayed ${n} messages from ${bagPath}: camera ${cam.name} (${cam.type}), ${summaryIngest.admitted ?? '?'} keyframes`);
    mkdirSync(out, { recursive: true });
    rmSync(join(out, 'plan'), { recursive: true, force: true });
    const outBag = await createBag(join(out, 'plan'));
    const recorder = BagRecorder.start(bus, outBag.writer, { topics: ['/video4spatial_nav/plan', '/video4spatial_nav/object_pose', '/video4spatial_nav/imagined', '/video4spatial_nav/imagined_trajectory'] });
    let traj: ImaginedTrajectory | undefined;
    const op = bus.node({ name: 'operator', logger });
    op.createSubscription<ImaginedTrajectory>('/video4spatial_nav/imagined_trajectory', 'video4spatial_nav/msg/ImaginedTrajectory', 'default', (t) => (traj = t));
    const client = op.createActionClient<NavigateToObjectGoal, NavigateToObjectFeedback, NavigateToObjectResult>('/video4spatial_nav/navigate_to_object', 'video4spatial_nav/action/NavigateToObject');
    const h = await client.sendGoal({ object_name: object, execute: false, time_budget_s: 0 });
    let code = 0;
    let message: string;
    let result: NavigateToObjectResult | undefined;
    if (!h.accepted) {
      message = `goal rejected: ${h.rejectReason ?? ''}`;
      code = 1;
    } else {
      const o = await h.result;
      message = o.status === 'rejected' ? `rejected: ${o.reason ?? ''}` : `${o.status}: ${o.result.message}`;
      if (o.status !== 'rejected') result = o.result;
      if (o.status !== 'succeeded') code = 1;
    }
    await bus.flush();
    await recorder.stop();
    await outBag.close();
    if (traj) writeImaginedPictures(out, traj);
    const last = result?.path.poses.at(-1)?.pose.position;
    const summary = { bag: bagPath, camera_topic: cam.name, object, outcome: message, keyframes: node.ingest.buffer.size, goal: last ? { x: last.x, y: last.y } : null, object_pose: result && result.object_pose.header.frame_id ? result.object_pose.pose.position : null, plan_time_s: result?.plan_time_s ?? null };
    writeFileSync(join(out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
    log(`${message}; wrote ${out}/summary.json, imagined.gif, candidates.gif, plan/ (rosbag2)`);
    node.close();
    await extraction.close();
    await model.dispose();
    return code;
  },
};
