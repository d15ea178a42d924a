/**
 * What the live simulator shows of its world besides the robot's sensors: the floor plan as /map
 * (nav_msgs/OccupancyGrid, as a map server would latch it) and the objects as /sim/objects
 * (visualization_msgs/MarkerArray: ground truth, for the operator watching, never seen by the node).
 */
import { MARKER } from '../ros/markers.js';
import type { Header, MarkerArray, OccupancyGridMsg } from '../ros/messages/types.js';
import type { World } from './world.js';

export const MAP_TOPIC = '/map';
export const OBJECTS_TOPIC = '/sim/objects';
/** OccupancyGrid cell values. */
export const CELL_FREE = 0;
export const CELL_OCCUPIED = 100;
/** Object names float this far above the object's top, m; text height, m. */
const NAME_ABOVE_M = 0.3;
const NAME_TEXT_M = 0.3;

/** The world's occupancy grid (walls, objects, outside; not inflated) as a map in `header.frame_id`. */
export function occupancyGridOf(world: World, header: Header): OccupancyGridMsg {
  const g = world.grid;
  const data = new Int8Array(g.width * g.height);
  // both row-major from (x0, y0), row j = y index
  for (let k = 0; k < data.length; k++) data[k] = g.cells[k] === 0 ? CELL_FREE : CELL_OCCUPIED;
  return {
    header,
    info: {
      map_load_time: header.stamp,
      resolution: g.resolution,
      width: g.width,
      height: g.height,
      origin: { position: { x: g.x0, y: g.y0, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } },
    },
    data,
  };
}

/** Every object as a cylinder of its footprint, height and colour (id = object id), with its name above it. */
export function objectMarkers(world: World, header: Header): MarkerArray {
  return {
    markers: world.objects.flatMap((o) => {
      const color = { r: o.color[0] / 255, g: o.color[1] / 255, b: o.color[2] / 255, a: 1 };
      const common = { header, id: o.id, action: MARKER.ADD, frame_locked: false, lifetime: { sec: 0, nanosec: 0 } };
      return [
        { ...common, ns: 'objects', type: MARKER.CYLINDER, pose: { position: { x: o.x, y: o.y, z: o.height / 2 }, orientation: { x: 0, y: 0, z: 0, w: 1 } }, scale: { x: 2 * o.radius, y: 2 * o.radius, z: o.height }, color },
        {
          ...common,
          ns: 'object_names',
          type: MARKER.TEXT_VIEW_FACING,
          pose: { position: { x: o.x, y: o.y, z: o.height + NAME_ABOVE_M }, orientation: { x: 0, y: 0, z: 0, w: 1 } },
          scale: { x: 0, y: 0, z: NAME_TEXT_M },
          color: { r: 1, g: 1, b: 1, a: 1 },
          text: o.category,
        },
      ];
    }),
  };
}
