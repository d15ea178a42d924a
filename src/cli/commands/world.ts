/** `video4spatial-nav world --seed S --out FILE.png [--exploration]`: a top-down map of a world. */
import { writeFileSync } from 'node:fs';
import { checkFlags, flagBool, flagNumber, flagString, parseArgs, UsageError } from '../args.js';
import type { CliCommand } from '../main.js';
import { generateWorld } from '../../sim/world.js';
import { drawPolyline, drawPose, drawWorldMap, MAP_COLORS } from '../../sim/map.js';
import { encodePng } from '../../sim/pictures.js';
import { makeScenario } from '../../sim/scenario.js';

export const command: CliCommand = {
  summary: 'draw a top-down map of a simulated world (walls, doorways, objects, start pose)',
  async run(argv) {
    const args = parseArgs(argv, ['exploration']);
    checkFlags(args, ['seed', 'out', 'exploration', 'px-per-m'], 'world');
    const out = flagString(args, 'out');
    if (!out) throw new UsageError('needs --out FILE.png');
    const seed = flagNumber(args, 'seed', 0, { integer: true, min: 0 });
    const ppm = flagNumber(args, 'px-per-m', 40, { min: 5, max: 200 });
    if (flagBool(args, 'exploration')) {
      const sc = makeScenario(seed);
      const view = drawWorldMap(sc.world, ppm, sc.target.id);
      drawPolyline(view, sc.exploration, MAP_COLORS.explored, 2);
      drawPose(view, sc.start, MAP_COLORS.start, 5);
      drawPose(view, sc.standoff, MAP_COLORS.target, 5);
      drawPolyline(view, sc.oraclePath.map(([x, y]) => ({ x, y })), MAP_COLORS.target, 2);
      writeFileSync(out, encodePng(view.image));
      process.stdout.write(`world ${seed}: target ${sc.target.category}; map with exploration and oracle path → ${out}\n`);
    } else {
      const w = generateWorld(seed);
      writeFileSync(out, encodePng(drawWorldMap(w, ppm).image));
      process.stdout.write(`world ${seed}: ${w.rooms.length} room(s), ${w.objects.map((o) => o.category).join(', ')} → ${out}\n`);
    }
    return 0;
  },
};
