/** `video4spatial-nav world --seed S --out FILE.png [--exploration]`: a top-down map of a world. */
import { writeFileSync } from 'node:fs';
import { checkFlags, flagBool, flagNumber, flagString, parseArgs, UsageError } from '../args.js';
import { booleanFlags, commandHelp, flagNames, type CliCommand } from '../command.js';
import { generateWorld } from '../../sim/world.js';
import { drawPolyline, drawPose, drawWorldMap, MAP_COLORS } from '../../sim/map.js';
import { encodePng } from '../../sim/pictures.js';
import { makeScenario } from '../../sim/scenario.js';

const HELP = commandHelp({
  name: 'world',
  summary: 'draw a top-down map of a simulated world (walls, doorways, objects, start pose)',
  synopsis: ['world --out FILE.png [--seed S] [--exploration] [--px-per-m P]'],
  flags: [
    { name: 'out', value: 'FILE.png', help: 'the PNG to write (required)' },
    { name: 'seed', value: 'S', default: '0', help: 'world seed' },
    { name: 'exploration', help: "also draw the scenario's exploration, start pose, standoff and oracle path" },
    { name: 'px-per-m', value: 'P', default: '40', help: 'pixels per metre, 5-200' },
  ],
  examples: ['world --seed 7 --exploration --out world.png'],
});

export const command: CliCommand = {
  ...HELP,
  async run(argv) {
    const args = parseArgs(argv, booleanFlags(HELP.flags));
    checkFlags(args, flagNames(HELP.flags), 'world');
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
