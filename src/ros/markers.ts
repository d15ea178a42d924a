/**
 * The node's `~/markers` (visualization_msgs/MarkerArray) for one plan, for RViz or Foxglove's 3D
 * panel: the imagined candidates' paths (the chosen one wider, green), the goal pose the robot is
 * sent to (an arrow) and the object estimate (a sphere and its name). Pure: the caller passes
 * values it has already checked (finite, framed, stamped), this only lays them out.
 */
import type { ColorRGBA, Header, Marker, MarkerArray, PoseStamped } from './messages/types.js';

/** visualization_msgs/Marker type and action constants used here. */
export const MARKER = { ARROW: 0, SPHERE: 2, CYLINDER: 3, LINE_STRIP: 4, TEXT_VIEW_FACING: 9, ADD: 0, DELETEALL: 3 } as const;

/** Marker namespaces, one per kind of thing shown. */
export const MARKER_NS = { candidates: 'candidates', goal: 'goal', object: 'object', label: 'object_label' } as const;

export const CHOSEN_RGBA: ColorRGBA = { r: 0.0, g: 0.75, b: 0.2, a: 1.0 };
export const OTHER_RGBA: ColorRGBA = { r: 0.6, g: 0.6, b: 0.6, a: 0.8 };
export const OBJECT_RGBA: ColorRGBA = { r: 1.0, g: 0.55, b: 0.0, a: 0.9 };
const LABEL_RGBA: ColorRGBA = { r: 1.0, g: 1.0, b: 1.0, a: 1.0 };

/** Line widths of the chosen and the other candidates' paths, m. */
export const CHOSEN_LINE_M = 0.06;
export const OTHER_LINE_M = 0.03;
/** Paths are drawn this high above the floor so the map does not hide them, m. */
const PATH_Z_M = 0.05;
/** The object estimate's sphere diameter and its label's height above the floor and text height, m. */
const OBJECT_DIAMETER_M = 0.3;
const LABEL_Z_M = 0.6;
const LABEL_TEXT_M = 0.25;
/** The goal arrow: length, shaft and head diameter, m. */
const ARROW_SCALE = { x: 0.5, y: 0.08, z: 0.08 } as const;

export interface PlanMarkersInput {
  /** Frame (the global frame) and stamp of every marker. */
  header: Header;
  /** The asked-for object's name (the label). */
  objectName: string;
  /** The pose the robot is sent to (the last pose of ~/plan). */
  goal: PoseStamped | undefined;
  /** Memory's or the imagined object estimate, when there is one. */
  object: PoseStamped | undefined;
  /** Per candidate, its imagined poses (finite; fewer than 2 poses draw nothing). */
  candidates: readonly (readonly PoseStamped[])[];
  /** Index of the chosen candidate (any other value: none is drawn as chosen). */
  chosen: number;
}

function base(header: Header, ns: string, id: number, type: number): Partial<Marker> {
  return { header, ns, id, type, action: MARKER.ADD, frame_locked: false, lifetime: { sec: 0, nanosec: 0 } };
}

/**
 * One plan's markers, after a DELETEALL that clears the previous plan's: a LINE_STRIP per
 * candidate with at least two poses (id = candidate index), the goal ARROW, the object SPHERE and
 * its TEXT_VIEW_FACING label ('<name> (estimate)').
 */
export function planMarkers(input: PlanMarkersInput): MarkerArray {
  const { header } = input;
  const markers: Partial<Marker>[] = [{ header, ns: '', id: 0, action: MARKER.DELETEALL }];
  input.candidates.forEach((poses, m) => {
    if (poses.length < 2) return;
    const chosen = m === input.chosen;
    markers.push({
      ...base(header, MARKER_NS.candidates, m, MARKER.LINE_STRIP),
      pose: { position: { x: 0, y: 0, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } },
      scale: { x: chosen ? CHOSEN_LINE_M : OTHER_LINE_M, y: 0, z: 0 },
      color: chosen ? CHOSEN_RGBA : OTHER_RGBA,
      points: poses.map((p) => ({ x: p.pose.position.x, y: p.pose.position.y, z: PATH_Z_M })),
    });
  });
  if (input.goal) {
    markers.push({ ...base(header, MARKER_NS.goal, 0, MARKER.ARROW), pose: { position: { ...input.goal.pose.position, z: PATH_Z_M }, orientation: input.goal.pose.orientation }, scale: { ...ARROW_SCALE }, color: CHOSEN_RGBA });
  }
  if (input.object) {
    const { x, y } = input.object.pose.position;
    const d = OBJECT_DIAMETER_M;
    markers.push({ ...base(header, MARKER_NS.object, 0, MARKER.SPHERE), pose: { position: { x, y, z: d / 2 }, orientation: { x: 0, y: 0, z: 0, w: 1 } }, scale: { x: d, y: d, z: d }, color: OBJECT_RGBA });
    markers.push({
      ...base(header, MARKER_NS.label, 0, MARKER.TEXT_VIEW_FACING),
      pose: { position: { x, y, z: LABEL_Z_M }, orientation: { x: 0, y: 0, z: 0, w: 1 } },
      scale: { x: 0, y: 0, z: LABEL_TEXT_M },
      color: LABEL_RGBA,
      text: `${input.objectName} (estimate)`,
    });
  }
  return { markers };
}
