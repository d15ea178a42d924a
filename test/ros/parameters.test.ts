/**
 * The node's parameter handler on the in-process graph's parameter service: declaration,
 * start-up correction with warnings, runtime updates rejected with the name and the value,
 * ROS-owned parameters (use_sim_time, qos_overrides.*) let through, the params file
 * (launch/params/video4spatial_nav.yaml) and the table in docs/ros.md in sync with the
 * declarations, and params-file keys read as rclnodejs 2.2.0 reads them.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { ParameterError } from '../../src/core/errors.js';
import { SimClock } from '../../src/ros/clock.js';
import { InProcessBus, InProcessGraph, InProcessParameters } from '../../src/ros/InProcessGraph.js';
import { Video4SpatialNode } from '../../src/ros/Video4SpatialNode.js';
import { SILENT_LOGGER } from '../../src/sim/graphMission.js';
import { GreyImagination, MANIFEST } from './harness.js';
import { createMemoryLogger } from '../../src/ros/logger.js';
import {
  NODE_PARAMETERS,
  type NodeParameterValues,
  NodeParameters,
  checkValue,
  classifyParamsKey,
  constraintsText,
  ignoredParamsKeys,
  inconsistencies,
  isRosOwnedParameter,
  parameterNames,
  parseParamsFile,
} from '../../src/ros/parameters.js';

/** dist/test/ros → repository root. */
const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const PARAMS_YAML = join(REPO, 'launch', 'params', 'video4spatial_nav.yaml');
const ROS_MD = join(REPO, 'docs', 'ros.md');

function start(overrides: Record<string, unknown> = {}) {
  const { logger, memory } = createMemoryLogger('video4spatial_nav');
  const graph = new InProcessGraph({ name: 'video4spatial_nav', parameters: overrides, logger, busOptions: { logger } });
  const params = NodeParameters.declare(graph.parameters, logger);
  return { graph, params, memory };
}

const DEFAULTS = Object.fromEntries(NODE_PARAMETERS.map((p) => [p.name, p.default])) as unknown as NodeParameterValues;

describe('ros/parameters declaration', () => {
  it('declares every parameter with its default, type, description and constraints', () => {
    const { graph, params, memory } = start();
    assert.deepEqual(graph.parameters.names(), parameterNames());
    assert.deepEqual(params.values, DEFAULTS);
    assert.deepEqual(memory.at('warn'), []);
    for (const spec of NODE_PARAMETERS) {
      assert.ok(spec.description.length > 10, `${spec.name} has a description`);
      assert.equal(checkValue(spec, spec.default), undefined, `${spec.name}'s default is valid`);
    }
    assert.equal(params.get('steps'), 8);
    assert.equal(params.get('guidance_scale'), 3.0);
    assert.equal(params.get('buffer_max_bytes'), 64 * 1024 * 1024);
    assert.equal(params.get('nav2_distro'), 'jazzy');
  });

  it('has the agreed list of names', () => {
    assert.deepEqual(parameterNames(), [
      'image_topic', 'compressed', 'camera_info_topic', 'global_frame', 'robot_frame', 'camera_frame', 'model_dir',
      'execution_provider', 'device_id', 'intra_op_threads', 'intra_op_spinning', 'extraction_threads', 'steps', 'guidance_scale', 'guidance_min_t', 'shift', 'candidates', 'seed',
      'context_frames', 'context_policy', 'buffer_max_frames', 'buffer_max_bytes', 'keyframe_min_translation_m',
      'keyframe_min_rotation_rad', 'keyframe_max_interval_s', 'camera_stale_s', 'max_stamp_ahead_s', 'camera_wait_s', 'waypoint_spacing_m',
      'max_plan_distance_m', 'arrival_distance_m', 'arrival_object_distance_m', 'name_aware_context', 'verify_arrival', 'verify_max_bearing_deg', 'exclusion_radius_m', 'memory_goal', 'look_distance_m', 'look_around', 'look_around_when_not_seen', 'verify_near', 'replan_period_s', 'plan_while_driving', 'execute_default', 'nav2_action', 'nav2_distro',
      'teleop_cmd_vel_topic', 'teleop_pause_s', 'publish_imagined',
    ]);
  });

  it('uses valid overrides as given', () => {
    const { params, memory } = start({ steps: 20, image_topic: '/camera/image_raw', compressed: true, execution_provider: 'cuda', guidance_scale: 4.5 });
    assert.equal(params.get('steps'), 20);
    assert.equal(params.get('image_topic'), '/camera/image_raw');
    assert.equal(params.get('compressed'), true);
    assert.equal(params.get('execution_provider'), 'cuda');
    assert.equal(params.get('guidance_scale'), 4.5);
    assert.deepEqual(memory.at('warn'), []);
  });

  it('replaces bad start-up values by the default, warning with the name and the value', () => {
    const { graph, params, memory } = start({
      steps: 'eight',
      candidates: 0,
      execution_provider: 'tpu',
      global_frame: '',
      guidance_scale: Number.NaN,
      compressed: 'yes',
      image_topic: 'camera image',
      device_id: 1.5,
    });
    assert.equal(params.get('steps'), 8);
    assert.equal(params.get('candidates'), 4);
    assert.equal(params.get('execution_provider'), 'auto');
    assert.equal(params.get('global_frame'), 'map');
    assert.equal(params.get('guidance_scale'), 3);
    assert.equal(params.get('compressed'), false);
    assert.equal(params.get('image_topic'), '~/image');
    assert.equal(params.get('device_id'), 0);
    const w = memory.at('warn');
    assert.equal(w.length, 8);
    assert.ok(w.some((m) => m.includes(`parameter 'steps' = "eight": expected an integer; using the default 8`)), w.join('\n'));
    assert.ok(w.some((m) => m.includes(`parameter 'candidates' = 0: below the minimum 1`)));
    assert.ok(w.some((m) => m.includes(`parameter 'execution_provider' = "tpu": expected one of auto, cpu, cuda`)));
    assert.ok(w.some((m) => m.includes(`parameter 'global_frame' = "": not a TF frame id`)));
    assert.ok(w.some((m) => m.includes(`parameter 'image_topic' = "camera image": not a ROS topic name`)));
    assert.ok(w.some((m) => m.includes(`parameter 'guidance_scale' = NaN: expected a finite number`)));
    // The node's parameter service holds the corrected values too (what `ros2 param get` shows).
    assert.equal(graph.parameters.get('steps'), 8);
    assert.equal(graph.parameters.get('execution_provider'), 'auto');
  });

  describe("the sampler's defaults from the model (manifest sampler.*)", () => {
    const STUDENT = { steps: 4, guidance_scale: 1, shift: 2.5, candidates: 6, guidance_min_t: 0.5 };
    const declareWith = (model: Parameters<typeof NodeParameters.declare>[2], overrides: Record<string, unknown> = {}) => {
      const { logger, memory } = createMemoryLogger('video4spatial_nav');
      const graph = new InProcessGraph({ name: 'video4spatial_nav', parameters: overrides, logger, busOptions: { logger } });
      return { graph, params: NodeParameters.declare(graph.parameters, logger, model), memory };
    };

    it("takes the model's steps, guidance, shift and candidates when nothing overrides them", () => {
      const { graph, params, memory } = declareWith(STUDENT);
      assert.deepEqual([params.get('steps'), params.get('guidance_scale'), params.get('shift'), params.get('candidates')], [4, 1, 2.5, 6]);
      assert.equal(graph.parameters.get('steps'), 4, 'the parameter service holds the model value (ros2 param get)');
      assert.equal(params.get('guidance_min_t'), 0.5);
      assert.equal(declareWith({ steps: 8, guidance_scale: 3, shift: 1, candidates: 4 }).params.get('guidance_min_t'), 0, 'a manifest without it: every step guided');
      assert.equal(params.get('seed'), 0, 'other parameters keep their own defaults');
      assert.deepEqual(memory.at('warn'), []);
      assert.deepEqual(
        NODE_PARAMETERS.filter((p) => 'fromModel' in p).map((p) => [p.name, (p as { fromModel?: string }).fromModel]),
        [['steps', 'steps'], ['guidance_scale', 'guidance_scale'], ['guidance_min_t', 'guidance_min_t'], ['shift', 'shift'], ['candidates', 'candidates']],
      );
    });

    it('lets an override from a params file or a launch argument win over the model', () => {
      const { params } = declareWith(STUDENT, { steps: 8, guidance_scale: 3.0 });
      assert.deepEqual([params.get('steps'), params.get('guidance_scale'), params.get('shift'), params.get('candidates')], [8, 3, 2.5, 6]);
    });

    it("replaces a bad override by the model's value, not the shipped one", () => {
      const { params, memory } = declareWith(STUDENT, { steps: 0 });
      assert.equal(params.get('steps'), 4);
      assert.match(memory.at('warn').join('\n'), /parameter 'steps' = 0: below the minimum 1; using the default 4/);
    });

    it("warns about a model value outside a parameter's range and uses the shipped value", () => {
      const { params, memory } = declareWith({ ...STUDENT, steps: 5000, shift: 0 });
      assert.equal(params.get('steps'), 8);
      assert.equal(params.get('shift'), 3);
      assert.equal(params.get('guidance_scale'), 1);
      const w = memory.at('warn').join('\n');
      assert.match(w, /the model's sampler\.steps: parameter 'steps' = 5000: above the maximum 1000; using 8/);
      assert.match(w, /the model's sampler\.shift: parameter 'shift' = 0: below the minimum 0\.05; using 3/);
    });

    it("a node on a model's manifest runs that model's sampler; a params file's value still wins", async () => {
      const make = (parameters: Record<string, unknown>) => {
        const bus = new InProcessBus({ clock: new SimClock(1_000_000_000n), logger: SILENT_LOGGER });
        const graph = bus.node({ name: 'video4spatial_nav', parameters, logger: SILENT_LOGGER });
        return new Video4SpatialNode(graph, new GreyImagination(), { ...MANIFEST, sampler: STUDENT });
      };
      const node = make({});
      assert.deepEqual([node.params.get('steps'), node.params.get('guidance_scale'), node.params.get('shift'), node.params.get('candidates')], [4, 1, 2.5, 6]);
      const pinned = make({ steps: 8, candidates: 4 });
      assert.deepEqual([pinned.params.get('steps'), pinned.params.get('guidance_scale'), pinned.params.get('candidates')], [8, 1, 4]);
      node.close();
      pinned.close();
    });

    it('asks a function for the settings once, with the model_dir value, after model_dir is declared', () => {
      const asked: string[] = [];
      const { params } = declareWith((dir) => {
        asked.push(dir);
        return dir === '/models/student' ? STUDENT : undefined;
      }, { model_dir: '/models/student' });
      assert.deepEqual(asked, ['/models/student']);
      assert.equal(params.get('steps'), 4);
      const none = declareWith(() => undefined);
      assert.deepEqual([none.params.get('steps'), none.params.get('candidates'), none.params.get('shift'), none.params.get('guidance_min_t')], [8, 4, 3, 0.7], 'no manifest: the shipped values');
    });
  });

  it('corrects inconsistent combinations with a warning naming both parameters', () => {
    const { graph, params, memory } = start({
      arrival_distance_m: 6.0,
      max_plan_distance_m: 4.0,
      waypoint_spacing_m: 5.0,
      context_frames: 64,
      buffer_max_frames: 16,
      robot_frame: 'map',
    });
    assert.equal(params.get('arrival_distance_m'), 2.0);
    assert.equal(params.get('waypoint_spacing_m'), 4.0);
    assert.equal(params.get('buffer_max_frames'), 64);
    assert.equal(params.get('robot_frame'), 'base_link');
    assert.equal(graph.parameters.get('arrival_distance_m'), 2.0);
    const w = memory.at('warn').join('\n');
    assert.match(w, /arrival_distance_m \(6\) must be below max_plan_distance_m \(4\); setting arrival_distance_m = 2 \(was 6\)/);
    assert.match(w, /waypoint_spacing_m \(5\) must not exceed max_plan_distance_m \(4\)/);
    assert.match(w, /buffer_max_frames \(16\) must hold at least context_frames \(64\)/);
    assert.match(w, /robot_frame must differ from global_frame \('map'\)/);
    assert.deepEqual(inconsistencies(params.values), []);
  });

  it('picks another robot frame when the global frame is base_link', () => {
    const fixes = inconsistencies({ ...DEFAULTS, global_frame: 'base_link', robot_frame: 'base_link' });
    assert.deepEqual(fixes.map((f) => [f.name, f.to]), [['robot_frame', 'base_footprint']]);
  });

  it('describes constraints for descriptors and docs', () => {
    const spec = (n: string) => NODE_PARAMETERS.find((p) => p.name === n)!;
    assert.equal(constraintsText(spec('steps')), 'range [1, 1000]');
    assert.equal(constraintsText(spec('context_policy')), 'one of: uniform, recency, pose_diverse, contiguous');
    assert.equal(constraintsText(spec('image_topic')), 'a ROS topic name');
    assert.equal(constraintsText(spec('global_frame')), 'a non-empty TF frame id');
    assert.equal(constraintsText(spec('camera_frame')), "a TF frame id or ''");
    assert.equal(constraintsText(spec('model_dir')), '');
    assert.equal(constraintsText(spec('compressed')), '');
  });
});

describe('ros/parameters runtime updates', () => {
  it('accepts a valid update and streams the new values', () => {
    const { graph, params, memory } = start();
    const seen: number[] = [];
    const sub = params.values$.subscribe((v) => seen.push(v.guidance_scale));
    const r = graph.setParameters([
      { name: 'guidance_scale', value: 5.5 },
      { name: 'steps', value: 12 },
    ]);
    sub.unsubscribe();
    assert.deepEqual(r, { successful: true, reason: '' });
    assert.equal(params.get('guidance_scale'), 5.5);
    assert.equal(params.get('steps'), 12);
    assert.equal(graph.parameters.get('steps'), 12);
    assert.deepEqual(seen, [3, 5.5]);
    assert.ok(memory.at('info').some((m) => m.includes('guidance_scale=5.5')));
  });

  it('rejects a bad value with the name and the value, and keeps the old one', () => {
    const { graph, params, memory } = start();
    const r = graph.setParameters([{ name: 'guidance_scale', value: 99 }]);
    assert.equal(r.successful, false);
    assert.equal(r.reason, `parameter 'guidance_scale' = 99: above the maximum 30`);
    assert.equal(params.get('guidance_scale'), 3);
    assert.equal(graph.parameters.get('guidance_scale'), 3);
    assert.ok(memory.at('warn').some((m) => m.includes(`rejected parameter update: parameter 'guidance_scale' = 99`)));
    const policy = graph.setParameters([{ name: 'context_policy', value: 'random' }]);
    assert.equal(policy.reason, `parameter 'context_policy' = "random": expected one of uniform, recency, pose_diverse, contiguous`);
  });

  it('rejects an update that makes a combination inconsistent, as a whole', () => {
    const { graph, params } = start();
    const r = graph.setParameters([
      { name: 'steps', value: 4 },
      { name: 'arrival_distance_m', value: 9.5 },
    ]);
    assert.equal(r.successful, false);
    assert.match(r.reason, /arrival_distance_m \(9.5\) must be below max_plan_distance_m \(8\)/);
    assert.equal(params.get('steps'), 8, 'nothing of a rejected update is applied');
    assert.equal(graph.setParameters([{ name: 'max_plan_distance_m', value: 20 }, { name: 'arrival_distance_m', value: 9.5 }]).successful, true);
  });

  it('read-only, undeclared and wrongly typed updates are refused before the handler (as ROS does)', () => {
    const { graph, params } = start();
    assert.match(graph.setParameters([{ name: 'model_dir', value: '/tmp/m' }]).reason, /'model_dir' is read-only/);
    assert.match(graph.setParameters([{ name: 'guidance', value: 1 }]).reason, /'guidance' is not declared/);
    assert.match(graph.setParameters([{ name: 'steps', value: 'ten' }]).reason, /'steps' is integer, got "ten"/);
    assert.match(graph.setParameters([{ name: 'steps', value: 2.5 }]).reason, /'steps' is integer, got 2.5/);
    // The handler's own check says the same when asked directly (an rclnodejs node asks it for everything).
    assert.match(params.check([{ name: 'model_dir', value: '/tmp/m' }]).reason, /parameter 'model_dir' = "\/tmp\/m": read-only at runtime/);
    assert.match(params.check([{ name: 'guidance', value: 1 }]).reason, /parameter 'guidance' = 1: no such parameter/);
  });
});

describe('ros/parameters and the parameters rclnodejs owns', () => {
  /** A node as rclnodejs builds it: use_sim_time is declared (by its TimeSource) before ours. */
  function startWithSimTime() {
    const { logger, memory } = createMemoryLogger('video4spatial_nav');
    const graph = new InProcessGraph({ name: 'video4spatial_nav', logger, busOptions: { logger } });
    graph.parameters.declare({ name: 'use_sim_time', kind: 'bool', default: false, description: 'rclnodejs TimeSource', readOnly: false, constraints: '' });
    const params = NodeParameters.declare(graph.parameters, logger);
    return { graph, params, memory };
  }

  it('`ros2 param set /video4spatial_nav use_sim_time true` is accepted, and the node values do not change', () => {
    const { graph, params } = startWithSimTime();
    const seen: unknown[] = [];
    const sub = params.values$.subscribe((v) => seen.push(v));
    const r = graph.setParameters([{ name: 'use_sim_time', value: true }]);
    sub.unsubscribe();
    assert.deepEqual(r, { successful: true, reason: '' });
    assert.equal(graph.parameters.get('use_sim_time'), true);
    assert.deepEqual(params.values, DEFAULTS);
    assert.ok(!Object.hasOwn(params.values, 'use_sim_time'));
    assert.equal(seen.length, 1, 'no new values for a ROS-owned parameter');
  });

  it('a mixed update applies the own parameters; a bad own value still refuses the whole update', () => {
    const { graph, params } = startWithSimTime();
    assert.equal(graph.setParameters([{ name: 'use_sim_time', value: true }, { name: 'steps', value: 12 }]).successful, true);
    assert.equal(params.get('steps'), 12);
    assert.ok(!Object.hasOwn(params.values, 'use_sim_time'));
    const bad = graph.setParameters([{ name: 'use_sim_time', value: false }, { name: 'guidance_scale', value: 99 }]);
    assert.equal(bad.reason, `parameter 'guidance_scale' = 99: above the maximum 30`);
    assert.equal(graph.parameters.get('use_sim_time'), true, 'nothing of a refused update is applied');
  });

  it("the node's own check lets ROS-owned names through and refuses other unknown names with name and value", () => {
    const { params } = start();
    for (const name of ['use_sim_time', 'start_type_description_service', 'qos_overrides./tf.subscription.depth', 'qos_overrides./camera/image_raw.subscription.reliability']) {
      assert.ok(isRosOwnedParameter(name), name);
    }
    assert.deepEqual(params.check([{ name: 'use_sim_time', value: true }]), { successful: true, reason: '' });
    // rclnodejs runs the callback when it declares qos_overrides.* (declare mode), too.
    assert.deepEqual(params.check([{ name: 'qos_overrides./tf.subscription.depth', value: 100 }]), { successful: true, reason: '' });
    for (const name of ['use_sim_timez', 'qos_override.x', 'guidance', 'sim_time']) {
      assert.ok(!isRosOwnedParameter(name), name);
      assert.equal(params.check([{ name, value: 1 }]).reason, `parameter '${name}' = 1: no such parameter`);
    }
    assert.equal(params.check([{ name: 'use_sim_time', value: true }, { name: 'stepz', value: 4 }]).reason, `parameter 'stepz' = 4: no such parameter`);
  });
});

describe('ros/InProcessParameters', () => {
  it('refuses a second declaration and unknown names', () => {
    const p = new InProcessParameters({ steps: 3, stepz: 4 });
    const decl = { name: 'steps', kind: 'integer' as const, default: 8, description: 'x', readOnly: false, constraints: '' };
    assert.equal(p.declare(decl), 3);
    assert.throws(() => p.declare(decl), (e: unknown) => e instanceof ParameterError && /'steps' is already declared/.test(e.message));
    assert.throws(() => p.set('nope', 1), /'nope' is not declared/);
    assert.throws(() => p.get('nope'), /'nope' is not declared/);
    assert.deepEqual(p.unusedOverrides(), ['stepz']);
  });
});

describe('launch/params/video4spatial_nav.yaml', () => {
  const text = readFileSync(PARAMS_YAML, 'utf8');

  /** The parameters whose default is the model's (listed commented out, `# name: value`). */
  const fromModel = new Set(NODE_PARAMETERS.filter((p) => 'fromModel' in p).map((p) => p.name as string));
  /** The line index of a parameter in the file: `name: value`, or `# name: value` for fromModel ones. */
  const lineOf = (lines: string[], name: string): number => lines.findIndex((l) => l.trim().startsWith(fromModel.has(name) ? `# ${name}:` : `${name}:`));

  it("lists exactly the declared parameters, with their defaults; the model's sampler ones commented out", () => {
    const values = parseParamsFile(text, 'video4spatial_nav', PARAMS_YAML);
    assert.deepEqual(Object.keys(values), parameterNames().filter((n) => !fromModel.has(n)));
    for (const spec of NODE_PARAMETERS) if (!fromModel.has(spec.name)) assert.deepEqual(values[spec.name], spec.default, spec.name);
    // uncommented, each line is what the shipped model's manifest gives
    const lines = text.split('\n');
    for (const name of fromModel) {
      const i = lineOf(lines, name);
      assert.ok(i > 0, `${name} is in the file, commented out`);
      const uncommented = (yaml.load((lines[i] ?? '').replace('# ', '')) as Record<string, unknown>)[name];
      assert.deepEqual(uncommented, NODE_PARAMETERS.find((p) => p.name === name)?.default, name);
    }
    assert.equal(fromModel.size, 5);
  });

  it('has a comment line above every parameter, doubles written with a decimal point', () => {
    const lines = text.split('\n');
    for (const spec of NODE_PARAMETERS) {
      const i = lineOf(lines, spec.name);
      assert.ok(i > 0, `${spec.name} is in the file`);
      assert.match(lines[i - 1] ?? '', /^\s+# \S/, `${spec.name} has a comment`);
      if (spec.kind === 'double') assert.match(lines[i] ?? '', /:\s-?\d+\.\d+$/, `${spec.name} is written as a double`);
    }
  });

  it('starts a node without warnings', () => {
    const { params, memory } = start(parseParamsFile(text, 'video4spatial_nav'));
    assert.deepEqual(params.values, DEFAULTS);
    assert.deepEqual(memory.at('warn'), []);
  });

  it("is keyed '/**', which rclnodejs reads whatever the node's name and namespace", () => {
    const keys = Object.keys(yaml.load(text) as Record<string, unknown>);
    assert.deepEqual(keys, ['/**']);
    assert.deepEqual(ignoredParamsKeys(text, 'video4spatial_nav'), []);
    // The same parameters reach the node under another name (launch name:=…) too.
    assert.deepEqual(Object.keys(parseParamsFile(text, 'v4s_front')), Object.keys(parseParamsFile(text, 'video4spatial_nav')));
  });

  it('leaves use_sim_time to the launch file (-p use_sim_time:=…)', () => {
    assert.ok(!Object.hasOwn(parseParamsFile(text, 'video4spatial_nav'), 'use_sim_time'));
  });

  it('every comment states the constraints and [dynamic] exactly for the runtime parameters', () => {
    const lines = text.split('\n');
    for (const spec of NODE_PARAMETERS) {
      const i = lineOf(lines, spec.name);
      const comment = lines[i - 1] ?? '';
      const c = constraintsText(spec);
      if (c !== '') assert.ok(comment.toLowerCase().includes(c.toLowerCase()), `${spec.name}: comment names "${c}": ${comment}`);
      assert.equal(comment.trimEnd().endsWith('[dynamic]'), spec.dynamic, `${spec.name}: [dynamic] iff changeable at runtime: ${comment}`);
    }
  });
});

describe('docs/ros.md parameter table', () => {
  interface Row {
    name: string;
    type: string;
    def: string;
    constraints: string;
    runtime: string;
    what: string;
  }
  const rows: Row[] = [];
  for (const line of readFileSync(ROS_MD, 'utf8').split('\n')) {
    const m = /^\| `([a-z_0-9]+)` \| (bool|integer|double|string) \| (.*?) \| (.*?) \| (yes|no) \| (.*) \|$/.exec(line);
    if (m) rows.push({ name: m[1] as string, type: m[2] as string, def: m[3] as string, constraints: m[4] as string, runtime: m[5] as string, what: m[6] as string });
  }
  /** A default cell as written in the table: `'text'`, `8`, `3`, `true`. */
  const cellValue = (cell: string): unknown => {
    const inner = /^`(.*)`$/.exec(cell)?.[1];
    if (inner === undefined) return Symbol(`not a code cell: ${cell}`);
    if (inner.startsWith("'") && inner.endsWith("'")) return inner.slice(1, -1);
    return JSON.parse(inner);
  };

  it('has one row per parameter, in declaration order', () => {
    assert.deepEqual(rows.map((r) => r.name), parameterNames());
  });

  it('gives every default, type, constraint and runtime flag as NODE_PARAMETERS declares them', () => {
    for (const spec of NODE_PARAMETERS) {
      const row = rows.find((r) => r.name === spec.name);
      assert.ok(row, `${spec.name} has a row`);
      // the model's sampler parameters: "the model's (`8`)", the shipped model's value in brackets
      const def = 'fromModel' in spec ? (/^the model's \((`.*`)\)$/.exec(row.def)?.[1] ?? `not "the model's (…)": ${row.def}`) : row.def;
      assert.deepEqual(cellValue(def), spec.default, `${spec.name}: default in docs/ros.md is ${row.def}, code says ${JSON.stringify(spec.default)}`);
      assert.equal(row.type, spec.kind, `${spec.name}: type`);
      assert.equal(row.constraints, constraintsText(spec) || '–', `${spec.name}: constraints`);
      assert.equal(row.runtime, spec.dynamic ? 'yes' : 'no', `${spec.name}: runtime`);
      assert.ok(row.what.startsWith(spec.description), `${spec.name}: the description starts with the declared one`);
    }
  });

  it('reads a default cell the way the table writes it', () => {
    assert.equal(cellValue("`'pose_diverse'`"), 'pose_diverse');
    assert.equal(cellValue('`3`'), 3.0);
    assert.equal(cellValue('`false`'), false);
    assert.notEqual(cellValue("`'uniform'`"), 'pose_diverse');
  });
});

describe('ros/parameters params files (as rclnodejs 2.2.0 reads them)', () => {
  it('merges the /** wildcard with the bare node-name entry (node wins) and ignores other nodes', () => {
    const text = [
      'other_node:',
      '  ros__parameters:',
      '    steps: 1',
      'video4spatial_nav:',
      '  ros__parameters:',
      '    steps: 16',
      '/**:',
      '  ros__parameters:',
      '    use_sim_time: true',
      '    steps: 2',
    ].join('\n');
    assert.deepEqual(parseParamsFile(text, 'video4spatial_nav'), { use_sim_time: true, steps: 16 });
  });

  it('ignores keys with the full node name, as rclnodejs does (lib/node.js reads /** and this.name() only)', () => {
    // What launch_ros writes for parameters=[{'use_sim_time': True}] on a Node with name and namespace.
    const launchRosDict = "/video4spatial_nav:\n  ros__parameters:\n    use_sim_time: true\n";
    assert.deepEqual(parseParamsFile(launchRosDict, 'video4spatial_nav'), {});
    assert.deepEqual(ignoredParamsKeys(launchRosDict, 'video4spatial_nav'), ['/video4spatial_nav']);
    const namespaced = '/robot1/video4spatial_nav:\n  ros__parameters:\n    seed: 7\n/**:\n  ros__parameters:\n    seed: 3\n';
    assert.deepEqual(parseParamsFile(namespaced, 'video4spatial_nav'), { seed: 3 });
    assert.deepEqual(ignoredParamsKeys(namespaced, 'video4spatial_nav'), ['/robot1/video4spatial_nav']);
    assert.equal(classifyParamsKey('/**', 'video4spatial_nav'), 'wildcard');
    assert.equal(classifyParamsKey('video4spatial_nav', 'video4spatial_nav'), 'node');
    assert.equal(classifyParamsKey('/video4spatial_nav', 'video4spatial_nav'), 'ignored_full_name');
    assert.equal(classifyParamsKey('not_video4spatial_nav', 'video4spatial_nav'), 'other_node');
    assert.equal(classifyParamsKey('/gz_bridge', 'video4spatial_nav'), 'other_node');
  });

  it('rejects text that is not a params file, naming the source', () => {
    assert.throws(() => parseParamsFile('a: [1,', 'n', 'p.yaml'), (e: unknown) => e instanceof ParameterError && /p\.yaml: not YAML/.test(e.message));
    assert.throws(() => parseParamsFile('- 1\n- 2\n', 'n', 'p.yaml'), /p\.yaml: expected a map of node names, got \[1,2\]/);
    assert.throws(() => parseParamsFile('n:\n  params:\n    a: 1\n', 'n', 'p.yaml'), /'n' has no 'ros__parameters' map/);
  });
});
