/**
 * `~/markers`: planMarkers lays out one plan (a DELETEALL first, a line per candidate with two or
 * more poses, the chosen one green and wider, the goal arrow, the object sphere and label), and the
 * node publishes it with each plan, agreeing with ~/plan and ~/object_pose.
 */
import { strict as assert } from 'node:assert';
import { yawToQuaternion } from '../../src/core/geometry.js';
import { CHOSEN_LINE_M, CHOSEN_RGBA, MARKER, MARKER_NS, OTHER_LINE_M, planMarkers } from '../../src/ros/markers.js';
import type { Header, MarkerArray, Path, PoseStamped } from '../../src/ros/messages/types.js';
import { explore, setup } from './harness.js';

const header: Header = { stamp: { sec: 7, nanosec: 0 }, frame_id: 'map' };
const at = (x: number, y: number, yaw = 0): PoseStamped => ({ header, pose: { position: { x, y, z: 0 }, orientation: yawToQuaternion(yaw) } });

describe('ros/markers', () => {
  it('lays out a plan: DELETEALL, candidate lines (chosen wider and green), goal arrow, object sphere and label', () => {
    const a = planMarkers({
      header,
      objectName: 'plant',
      goal: at(2, 1, Math.PI / 2),
      object: at(2.5, 2),
      candidates: [[at(0, 0), at(1, 0), at(2, 1)], [at(0, 0)], [at(0, 0), at(-1, 1)]],
      chosen: 2,
    });
    const kinds = a.markers.map((m) => `${m.ns}:${m.id}:${m.type ?? '-'}:${m.action}`);
    assert.deepEqual(kinds, [':0:-:3', 'candidates:0:4:0', 'candidates:2:4:0', 'goal:0:0:0', 'object:0:2:0', 'object_label:0:9:0']);
    const [, first, chosen, goal, sphere, label] = a.markers;
    assert.equal(first?.scale?.x, OTHER_LINE_M);
    assert.equal(chosen?.scale?.x, CHOSEN_LINE_M);
    assert.deepEqual(chosen?.color, CHOSEN_RGBA);
    assert.deepEqual(
      chosen?.points?.map((p) => [p.x, p.y]),
      [
        [0, 0],
        [-1, 1],
      ],
    );
    assert.deepEqual([goal?.pose?.position.x, goal?.pose?.position.y], [2, 1]);
    assert.deepEqual(goal?.pose?.orientation, yawToQuaternion(Math.PI / 2));
    assert.deepEqual([sphere?.pose?.position.x, sphere?.pose?.position.y], [2.5, 2]);
    assert.equal(label?.text, 'plant (estimate)');
    assert.ok(a.markers.every((m) => m.header?.frame_id === 'map'));
  });

  it('no object, no goal, an out-of-range chosen index: lines only, none drawn as chosen', () => {
    const a = planMarkers({ header, objectName: 'sofa', goal: undefined, object: undefined, candidates: [[at(0, 0), at(1, 1)]], chosen: 5 });
    assert.deepEqual(
      a.markers.map((m) => m.ns),
      ['', MARKER_NS.candidates],
    );
    assert.equal(a.markers[1]?.scale?.x, OTHER_LINE_M);
    assert.equal(a.markers[0]?.action, MARKER.DELETEALL);
  });

  it('the node publishes ~/markers with each plan, agreeing with ~/plan and ~/object_pose', async () => {
    const s = setup(101);
    await explore(s);
    const plans: Path[] = [];
    const objects: PoseStamped[] = [];
    const markers: MarkerArray[] = [];
    const viewer = s.bus.node({ name: 'viewer' });
    viewer.createSubscription<Path>('/video4spatial_nav/plan', 'nav_msgs/msg/Path', 'default', (p) => plans.push(p));
    viewer.createSubscription<PoseStamped>('/video4spatial_nav/object_pose', 'geometry_msgs/msg/PoseStamped', 'default', (p) => objects.push(p));
    viewer.createSubscription<MarkerArray>('/video4spatial_nav/markers', 'visualization_msgs/msg/MarkerArray', 'default', (m) => markers.push(m));
    const h = await s.client.sendGoal({ object_name: s.sc.target.category, execute: false, time_budget_s: 0 });
    assert.ok(h.accepted, h.rejectReason);
    assert.equal((await h.result).status, 'succeeded');
    await s.bus.flush();
    assert.equal(markers.length, 1);
    const m = (markers[0] as MarkerArray).markers;
    assert.equal(m[0]?.action, MARKER.DELETEALL);
    const goal = m.find((x) => x.ns === MARKER_NS.goal);
    const last = plans[0]?.poses.at(-1);
    assert.ok(goal && last, 'a goal arrow and a plan');
    assert.deepEqual([goal.pose?.position.x, goal.pose?.position.y], [last.pose.position.x, last.pose.position.y]);
    assert.ok(m.some((x) => x.ns === MARKER_NS.candidates && (x.points?.length ?? 0) >= 2), 'the imagined candidate is drawn');
    const obj = objects[0];
    assert.ok(obj, 'an object estimate');
    const sphere = m.find((x) => x.ns === MARKER_NS.object);
    assert.deepEqual([sphere?.pose?.position.x, sphere?.pose?.position.y], [obj.pose.position.x, obj.pose.position.y]);
    assert.equal(m.find((x) => x.ns === MARKER_NS.label)?.text, `${s.sc.target.category} (estimate)`);
  });
});
