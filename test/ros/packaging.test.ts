/**
 * The ROS 2 package files (ros_pkg/, colcon.meta, launch/*.py) cannot be built here (no ROS 2),
 * so these tests check what can be checked without it: the XML is well-formed with the agreed
 * depends (and every package a launch file starts), CMake stages and installs what exists, the
 * `ros2 run` shim finds the installed node and refuses a Node.js older than rclnodejs needs, and
 * the launch files byte-compile with the system Python, name the right package/executable, pass
 * parameters in a form rclnodejs reads (no dict; `-p use_sim_time:=…`) and bridge the gz topics
 * under the names gz-sensors and gz-sim give them (read statically with Python's ast module).
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// dist/test/ros → repository root
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const PYTHON = '/usr/bin/python3';
const LAUNCH_FILES = ['robot.launch.py', 'gazebo.launch.py', 'teleop.launch.py'];

interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

/** A minimal XML reader (elements, attributes, text; comments, declarations and PIs skipped). */
function parseXml(src: string): XmlElement {
  const root: XmlElement = { name: '#document', attrs: {}, children: [], text: '' };
  const stack: XmlElement[] = [root];
  const re = /<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<!DOCTYPE[^>]*>|<\/([A-Za-z_][\w.-]*)\s*>|<([A-Za-z_][\w.-]*)((?:\s+[\w:.-]+\s*=\s*"[^"]*")*)\s*(\/?)>|([^<]+)|(<)/g;
  for (let m = re.exec(src); m; m = re.exec(src)) {
    const top = stack[stack.length - 1] as XmlElement;
    if (m[6]) throw new Error(`malformed XML at offset ${m.index}: '${src.slice(m.index, m.index + 20)}'`);
    if (m[1]) {
      if (top.name !== m[1]) throw new Error(`malformed XML: </${m[1]}> closes <${top.name}> at offset ${m.index}`);
      stack.pop();
    } else if (m[2]) {
      const attrs: Record<string, string> = {};
      for (const a of (m[3] ?? '').matchAll(/([\w:.-]+)\s*=\s*"([^"]*)"/g)) attrs[a[1] as string] = a[2] as string;
      const el: XmlElement = { name: m[2], attrs, children: [], text: '' };
      top.children.push(el);
      if (!m[4]) stack.push(el);
    } else if (m[5]) {
      top.text += m[5];
    }
  }
  if (stack.length !== 1) throw new Error(`malformed XML: <${(stack[stack.length - 1] as XmlElement).name}> is not closed`);
  if (root.children.length !== 1) throw new Error(`malformed XML: ${root.children.length} root elements`);
  return root.children[0] as XmlElement;
}

const texts = (el: XmlElement, name: string) => el.children.filter((c) => c.name === name).map((c) => c.text.trim());

/** A launch_ros Node(...) call as Python's ast sees it: keyword -> value (constants resolved, the rest as '<source>'). */
type LaunchValue = string | number | boolean | null | LaunchValue[] | { '<dict>': LaunchValue[] };
interface LaunchFileFacts {
  nodes: Record<string, LaunchValue>[];
  packageShares: string[];
}

const LAUNCH_AST = String.raw`
import ast, json, sys
tree = ast.parse(open(sys.argv[1]).read())
consts = {}
for n in tree.body:
    if isinstance(n, ast.Assign) and isinstance(n.value, ast.Constant):
        for t in n.targets:
            if isinstance(t, ast.Name):
                consts[t.id] = n.value.value
def val(n):
    if isinstance(n, ast.Constant):
        return n.value
    if isinstance(n, ast.Name) and n.id in consts:
        return consts[n.id]
    if isinstance(n, (ast.List, ast.Tuple)):
        return [val(e) for e in n.elts]
    if isinstance(n, ast.Dict):
        return {'<dict>': [val(k) for k in n.keys]}
    return '<' + ast.unparse(n) + '>'
nodes, shares = [], []
for c in ast.walk(tree):
    if isinstance(c, ast.Call) and isinstance(c.func, ast.Name):
        if c.func.id == 'Node':
            nodes.append({k.arg: val(k.value) for k in c.keywords})
        if c.func.id == 'FindPackageShare' and c.args:
            shares.append(val(c.args[0]))
print(json.dumps({'nodes': nodes, 'packageShares': shares}))
`;

function launchFacts(file: string): LaunchFileFacts {
  const r = spawnSync(PYTHON, ['-c', LAUNCH_AST, join(ROOT, 'launch', file)], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as LaunchFileFacts;
}

/** Calls one module-level function of a launch file with `args`, without importing launch/launch_ros. */
function callLaunchFunction(file: string, fn: string, args: unknown[]): unknown {
  const script = String.raw`
import ast, json, sys
tree = ast.parse(open(sys.argv[1]).read())
fns = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == sys.argv[2]]
assert fns, 'no function ' + sys.argv[2]
scope = {}
exec(compile(ast.Module(body=fns, type_ignores=[]), sys.argv[1], 'exec'), scope)
print(json.dumps(scope[sys.argv[2]](*json.loads(sys.argv[3]))))
`;
  const r = spawnSync(PYTHON, ['-c', script, join(ROOT, 'launch', file), fn, JSON.stringify(args)], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as unknown;
}

const hasDict = (v: LaunchValue | undefined): boolean =>
  Array.isArray(v) ? v.some(hasDict) : typeof v === 'object' && v !== null && '<dict>' in v;

describe('ros packaging (ros_pkg, colcon.meta, launch)', () => {
  const pkg = parseXml(readFileSync(join(ROOT, 'ros_pkg', 'package.xml'), 'utf8'));

  it('the minimal XML reader rejects malformed XML', () => {
    assert.throws(() => parseXml('<a><b></a>'), /<\/a> closes <b>/);
    assert.throws(() => parseXml('<a><b/>'), /<a> is not closed/);
    assert.throws(() => parseXml('<a/><b/>'), /2 root elements/);
    assert.throws(() => parseXml('<a>1 < 2</a>'), /malformed XML at offset 5: '< 2<\/a>'/);
    assert.deepEqual(parseXml('<?xml version="1.0"?><!-- c --><a x="1"><b>t</b><c/></a>'), {
      name: 'a',
      attrs: { x: '1' },
      children: [
        { name: 'b', attrs: {}, children: [], text: 't' },
        { name: 'c', attrs: {}, children: [], text: '' },
      ],
      text: '',
    });
  });

  it('package.xml: format 3, name, the agreed depends, interface group, ament_cmake', () => {
    assert.equal(pkg.name, 'package');
    assert.equal(pkg.attrs.format, '3');
    assert.deepEqual(texts(pkg, 'name'), ['video4spatial_nav']);
    assert.match(texts(pkg, 'version')[0] ?? '', /^\d+\.\d+\.\d+$/);
    assert.equal(texts(pkg, 'license').length, 1);
    assert.equal(texts(pkg, 'maintainer').length, 1);
    const all = new Set(['depend', 'build_depend', 'exec_depend', 'buildtool_depend'].flatMap((k) => texts(pkg, k)));
    for (const dep of [
      'nodejs', 'nav2_msgs', 'sensor_msgs', 'tf2_msgs', 'geometry_msgs', 'nav_msgs', 'std_msgs', 'visualization_msgs', 'diagnostic_msgs',
      'action_msgs', 'rosidl_default_generators', 'rosidl_default_runtime', 'ament_cmake', 'launch_ros',
    ]) {
      assert.ok(all.has(dep), `package.xml depends on ${dep}`);
    }
    for (const dep of ['ros_gz_sim', 'ros_gz_bridge', 'ros_gz_image', 'teleop_twist_keyboard', 'tf2_ros']) {
      assert.ok(texts(pkg, 'exec_depend').includes(dep), `package.xml <exec_depend>${dep}</exec_depend> (a launch file starts it)`);
    }
    assert.ok(texts(pkg, 'buildtool_depend').includes('rosidl_default_generators'));
    assert.ok(texts(pkg, 'exec_depend').includes('rosidl_default_runtime'));
    assert.deepEqual(texts(pkg, 'member_of_group'), ['rosidl_interface_packages']);
    const exp = pkg.children.find((c) => c.name === 'export');
    assert.deepEqual(exp && texts(exp, 'build_type'), ['ament_cmake']);
  });

  it('CMakeLists.txt: generates the msg/ interfaces (as msg/ and action/), installs node, deps, models, launch and the shim', () => {
    const cmake = readFileSync(join(ROOT, 'ros_pkg', 'CMakeLists.txt'), 'utf8');
    assert.match(cmake, /^project\(video4spatial_nav\)$/m);
    const staged = [...cmake.matchAll(/configure_file\("\$\{V4S_ROOT\}\/(msg\/[^"]+)" "\$\{CMAKE_CURRENT_BINARY_DIR\}\/interfaces\/([^"]+)" COPYONLY\)/g)].map((m) => [m[1], m[2]]);
    assert.deepEqual(staged, [
      ['msg/ImaginedTrajectory.msg', 'msg/ImaginedTrajectory.msg'],
      ['msg/NavigateToObject.action', 'action/NavigateToObject.action'],
    ]);
    for (const [src] of staged) assert.ok(existsSync(join(ROOT, src as string)), `${src} exists`);
    const generated = [...cmake.matchAll(/"\$\{CMAKE_CURRENT_BINARY_DIR\}\/interfaces:([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(generated, staged.map((s) => s[1]));
    // Every message package the interfaces use is a dependency in CMake and package.xml.
    const used = new Set<string>();
    for (const f of ['msg/ImaginedTrajectory.msg', 'msg/NavigateToObject.action']) {
      for (const m of readFileSync(join(ROOT, f), 'utf8').matchAll(/^([a-z_]+)\/[A-Z]\w*/gm)) used.add(m[1] as string);
    }
    assert.deepEqual([...used].sort(), ['diagnostic_msgs', 'geometry_msgs', 'nav_msgs', 'std_msgs']);
    const deps = cmake.match(/DEPENDENCIES ([^\n)]+)/)?.[1]?.split(/\s+/) ?? [];
    for (const u of used) {
      assert.ok(deps.includes(u), `rosidl DEPENDENCIES has ${u}`);
      assert.match(cmake, new RegExp(`find_package\\(${u} REQUIRED\\)`));
      assert.ok(texts(pkg, 'depend').includes(u), `package.xml <depend>${u}</depend>`);
    }
    for (const d of ['dist', 'node_modules', 'models', 'launch']) assert.ok(cmake.includes(`"\${V4S_ROOT}/${d}"`), `installs ${d}/`);
    assert.match(cmake, /install\(FILES "\$\{V4S_ROOT\}\/package\.json" DESTINATION share\/\$\{PROJECT_NAME\}\)/);
    assert.match(cmake, /install\(PROGRAMS bin\/video4spatial_nav_node DESTINATION lib\/\$\{PROJECT_NAME\}\)/);
    assert.ok(statSync(join(ROOT, 'ros_pkg', 'bin', 'video4spatial_nav_node')).mode & 0o111, 'the shim is executable');
  });

  it('package.xml: every package a launch file starts or includes is an exec_depend (rosdep installs it)', function () {
    if (!existsSync(PYTHON)) this.skip();
    const exec = new Set(texts(pkg, 'exec_depend'));
    const started = new Set<string>();
    for (const file of LAUNCH_FILES) {
      const facts = launchFacts(file);
      for (const n of facts.nodes) started.add(String(n.package));
      for (const p of facts.packageShares) started.add(String(p));
    }
    started.delete('video4spatial_nav');
    assert.deepEqual([...started].sort(), ['ros_gz_bridge', 'ros_gz_image', 'ros_gz_sim', 'teleop_twist_keyboard', 'tf2_ros']);
    for (const p of started) assert.ok(exec.has(p), `package.xml lacks <exec_depend>${p}</exec_depend>`);
  });

  it('package.xml and docs say which Node.js a robot needs (rclnodejs 2.2.0: >= 20.20.2), not 20.19', () => {
    const xml = readFileSync(join(ROOT, 'ros_pkg', 'package.xml'), 'utf8');
    assert.match(xml, /Node >= 20\.20\.2/);
    assert.match(xml, /NodeSource/);
    const doc = readFileSync(join(ROOT, 'docs', 'ros-packaging.md'), 'utf8');
    assert.match(doc, /20\.20\.2/);
    assert.doesNotMatch(doc, /20\.19/);
    const shim = readFileSync(join(ROOT, 'ros_pkg', 'bin', 'video4spatial_nav_node'), 'utf8');
    assert.match(shim, /^NODE_MIN="20\.20\.2"$/m);
  });

  it('colcon.meta: JSON naming the package', () => {
    const meta = JSON.parse(readFileSync(join(ROOT, 'colcon.meta'), 'utf8')) as { names: Record<string, { 'cmake-args': string[] }> };
    assert.deepEqual(Object.keys(meta.names), ['video4spatial_nav']);
    assert.ok(Array.isArray(meta.names.video4spatial_nav?.['cmake-args']));
  });

  describe('the ros2 run shim, in an install-like prefix', () => {
    let prefix = '';
    beforeEach(() => {
      prefix = mkdtempSync(join(tmpdir(), 'v4s-prefix-'));
      mkdirSync(join(prefix, 'lib', 'video4spatial_nav'), { recursive: true });
      copyFileSync(join(ROOT, 'ros_pkg', 'bin', 'video4spatial_nav_node'), join(prefix, 'lib', 'video4spatial_nav', 'video4spatial_nav_node'));
      chmodSync(join(prefix, 'lib', 'video4spatial_nav', 'video4spatial_nav_node'), 0o755);
    });
    afterEach(() => rmSync(prefix, { recursive: true, force: true }));
    const run = (...args: string[]) => spawnSync(join(prefix, 'lib', 'video4spatial_nav', 'video4spatial_nav_node'), args, { encoding: 'utf8' });

    it('runs share/video4spatial_nav/dist/src/cli/main.js node <ros args>', () => {
      const main = join(prefix, 'share', 'video4spatial_nav', 'dist', 'src', 'cli', 'main.js');
      mkdirSync(dirname(main), { recursive: true });
      // The installed CLI stand-in reports how it was called.
      writeFileSync(main, 'process.stdout.write(JSON.stringify(process.argv.slice(1)));\n');
      const r = run('--ros-args', '-r', '~/image:=/camera/image_raw');
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), [main, 'node', '--ros-args', '-r', '~/image:=/camera/image_raw']);
    });

    it('says what is missing when the node was not built', () => {
      const r = run();
      assert.equal(r.status, 1);
      assert.match(r.stderr, /share\/video4spatial_nav\/dist\/src\/cli\/main\.js is missing; run 'npm ci && npm run build'/);
    });

    /** A stand-in `node` that reports `version` to `-p process.versions.node` and its arguments otherwise. */
    function fakeNode(version: string): string {
      const path = join(prefix, `node-${version}`);
      writeFileSync(path, `#!/usr/bin/env bash\nif [ "$1" = "-p" ]; then echo ${version}; exit 0; fi\nprintf '%s\\n' "$*"\n`);
      chmodSync(path, 0o755);
      return path;
    }
    const runWith = (node: string, ...args: string[]) =>
      spawnSync(join(prefix, 'lib', 'video4spatial_nav', 'video4spatial_nav_node'), args, { encoding: 'utf8', env: { ...process.env, V4S_NODE: node } });

    it("refuses a Node.js older than rclnodejs 2.2.0's 20.20.2, naming the version it found", () => {
      for (const old of ['18.19.1', '20.19.0', '20.20.1']) {
        const r = runWith(fakeNode(old));
        assert.equal(r.status, 1, old);
        assert.match(r.stderr, new RegExp(`is Node\\.js ${old.replace(/\./g, '\\.')}; rclnodejs 2\\.2\\.0 needs >= 20\\.20\\.2`), r.stderr);
        assert.match(r.stderr, /NodeSource node_22\.x/);
      }
    });

    it('accepts 20.20.2 and newer (V4S_NODE picks the binary)', () => {
      const main = join(prefix, 'share', 'video4spatial_nav', 'dist', 'src', 'cli', 'main.js');
      mkdirSync(dirname(main), { recursive: true });
      writeFileSync(main, '');
      for (const ok of ['20.20.2', '20.20.10', '22.11.0', '24.0.0']) {
        const r = runWith(fakeNode(ok), '--ros-args', '-p', 'use_sim_time:=true');
        assert.equal(r.status, 0, `${ok}: ${r.stderr}`);
        assert.equal(r.stdout.trim(), `${main} node --ros-args -p use_sim_time:=true`);
      }
    });

    it('says so when there is no node at all', () => {
      const r = runWith(join(prefix, 'no-such-node'));
      assert.equal(r.status, 127);
      assert.match(r.stderr, /\(Node\.js >= 20\.20\.2\) is not on PATH/);
    });
  });

  describe('launch files', () => {
    const havePython = existsSync(PYTHON);
    for (const file of LAUNCH_FILES) {
      it(`${file} byte-compiles with ${PYTHON} and defines generate_launch_description()`, function () {
        if (!havePython) this.skip();
        const path = join(ROOT, 'launch', file);
        const script = [
          'import ast, py_compile, sys, tempfile, os',
          'path = sys.argv[1]',
          'with tempfile.TemporaryDirectory() as d:',
          "    py_compile.compile(path, cfile=os.path.join(d, 'x.pyc'), doraise=True)",
          'tree = ast.parse(open(path).read())',
          "names = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]",
          "assert 'generate_launch_description' in names, names",
          "print('ok')",
        ].join('\n');
        const r = spawnSync(PYTHON, ['-c', script, path], { encoding: 'utf8' });
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout.trim(), 'ok');
      });
    }

    it('the byte-compile check fails on a broken launch file', function () {
      if (!havePython) this.skip();
      const dir = mkdtempSync(join(tmpdir(), 'v4s-launch-'));
      try {
        writeFileSync(join(dir, 'bad.launch.py'), 'def generate_launch_description(:\n    pass\n');
        const r = spawnSync(PYTHON, ['-m', 'py_compile', join(dir, 'bad.launch.py')], { encoding: 'utf8' });
        assert.notEqual(r.status, 0);
        assert.match(r.stderr, /SyntaxError/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('robot.launch.py starts the package executable with the params file and the camera remaps', () => {
      const src = readFileSync(join(ROOT, 'launch', 'robot.launch.py'), 'utf8');
      assert.match(src, /PACKAGE = 'video4spatial_nav'/);
      assert.match(src, /EXECUTABLE = 'video4spatial_nav_node'/);
      assert.match(src, /'launch', 'params', 'video4spatial_nav\.yaml'/);
      for (const from of ["'~/image'", "'~/image/compressed'", "'~/camera_info'"]) assert.ok(src.includes(`(${from},`), `remaps ${from}`);
    });

    it('robot.launch.py passes no parameters dict (launch_ros keys it /<ns>/video4spatial_nav, which rclnodejs ignores): the params file and -p use_sim_time:=', function () {
      if (!havePython) this.skip();
      const [node, ...others] = launchFacts('robot.launch.py').nodes;
      assert.equal(others.length, 0);
      assert.ok(node);
      assert.equal(node.package, 'video4spatial_nav');
      assert.equal(node.name, 'video4spatial_nav');
      assert.equal(hasDict(node.parameters), false, `parameters: ${JSON.stringify(node.parameters)}`);
      assert.deepEqual(node.parameters, ["<LaunchConfiguration('params_file')>"]);
      const args = node.arguments as LaunchValue[];
      assert.equal(args[0], '--ros-args');
      const p = args.indexOf('-p');
      assert.ok(p > 0, `arguments: ${JSON.stringify(args)}`);
      assert.deepEqual(args[p + 1], ['use_sim_time:=', "<LaunchConfiguration('use_sim_time')>"]);
    });

    it('no launch file hands video4spatial_nav a parameters dict', function () {
      if (!havePython) this.skip();
      for (const file of LAUNCH_FILES) {
        for (const n of launchFacts(file).nodes.filter((x) => x.package === 'video4spatial_nav')) {
          assert.equal(hasDict(n.parameters), false, `${file}: ${JSON.stringify(n.parameters)}`);
        }
      }
    });

    it('gazebo.launch.py names the camera_info topic as gz-sensors does (/camera -> /camera_info) and bridges DiffDrive tf', function () {
      if (!havePython) this.skip();
      const info = (topic: string) => callLaunchFunction('gazebo.launch.py', 'gz_camera_info_topic', [topic]);
      assert.equal(info('/camera'), '/camera_info');
      assert.equal(info('camera'), '/camera_info');
      assert.equal(info('/robot/camera/image'), '/robot/camera/camera_info');
      assert.equal(info('/world/w/model/r/link/l/sensor/cam/image'), '/world/w/model/r/link/l/sensor/cam/camera_info');
      const facts = launchFacts('gazebo.launch.py');
      const bridge = facts.nodes.find((n) => n.executable === 'parameter_bridge');
      assert.ok(bridge);
      const bridged = bridge.arguments as LaunchValue[];
      assert.ok(bridged.includes("<camera_info + '@sensor_msgs/msg/CameraInfo[gz.msgs.CameraInfo'>"), JSON.stringify(bridged));
      assert.ok(!JSON.stringify(bridged).includes("'/camera_info@"), 'not <gz_camera>/camera_info');
      const src = readFileSync(join(ROOT, 'launch', 'gazebo.launch.py'), 'utf8');
      assert.match(src, /'camera_info': camera_info,/);
      assert.match(src, /'use_sim_time': 'true',/);
      assert.match(src, /DeclareLaunchArgument\('tf_topic', default_value='\/model\/robot\/tf'/);
      assert.match(src, /DeclareLaunchArgument\('gz_camera_info', default_value=''/);
      const mapOdom = facts.nodes.find((n) => n.executable === 'static_transform_publisher');
      assert.deepEqual(mapOdom?.arguments, ['--frame-id', 'map', '--child-frame-id', 'odom']);
    });

    it('gazebo.launch.py bridges image (ros_gz_image), camera_info, tf and clock (ros_gz_bridge) and includes robot.launch.py', () => {
      const src = readFileSync(join(ROOT, 'launch', 'gazebo.launch.py'), 'utf8');
      assert.match(src, /package='ros_gz_image',\s*executable='image_bridge'/);
      assert.match(src, /package='ros_gz_bridge',\s*executable='parameter_bridge'/);
      for (const b of [
        '@sensor_msgs/msg/CameraInfo[gz.msgs.CameraInfo',
        '@tf2_msgs/msg/TFMessage[gz.msgs.Pose_V',
        '/clock@rosgraph_msgs/msg/Clock[gz.msgs.Clock',
        '@geometry_msgs/msg/Twist]gz.msgs.Twist',
      ]) {
        assert.ok(src.includes(b), b);
      }
      assert.match(src, /'robot\.launch\.py'/);
      assert.match(src, /FindPackageShare\('ros_gz_sim'\), 'launch', 'gz_sim\.launch\.py'/);
    });

    it('teleop.launch.py remaps teleop_twist_keyboard to the teleop topic and notes the goal topic', () => {
      const src = readFileSync(join(ROOT, 'launch', 'teleop.launch.py'), 'utf8');
      assert.match(src, /package='teleop_twist_keyboard'/);
      assert.match(src, /remappings=\[\('cmd_vel', LaunchConfiguration\('teleop_topic'\)\)\]/);
      assert.match(src, /default_value='\/cmd_vel_teleop'/);
      assert.match(src, /\/video4spatial_nav\/goal_object/);
    });
  });
});
