/** `video4spatial-nav world --seed S --out FILE.png [--exploration]`: a top-down map of a world. */
import { writeFileSync } from 'node:fs';
import { checkFlags, flagBool, flagNumber, flagString, parseArgs, UsageError } from '../args.js';
import { booleanFlags, commandHelp, flagNames, type CliCommand } from '../command.js';
import { generateWorld } from '../../sim/world.js';
import { drawPolyline, drawPose, drawWorldMap, legiblePxPerM, MAP_COLORS, MAP_MIN_WIDTH_PX, mapKey } from '../../sim/map.js';
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
    { name: 'px-per-m', value: 'P', default: `auto: at least ${MAP_MIN_WIDTH_PX} px across`, help: 'pixels per metre, 5-400' },
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
    const ppmFlag = args.flags.has('px-per-m') ? flagNumber(args, 'px-per-m', 40, { min: 5, max: 400 }) : undefined;
    if (flagBool(args, 'exploration')) {
      const sc = makeScenario(seed);
      const view = drawWorldMap(sc.world, ppmFlag ?? legiblePxPerM(sc.world), sc.target.id);
      const k = view.stroke;
      drawPolyline(view, sc.exploration, MAP_COLORS.explored, 2 * k);
      drawPose(view, sc.start, MAP_COLORS.start, 5 * k);
      drawPose(view, sc.standoff, MAP_COLORS.target, 5 * k);
      drawPolyline(view, sc.oraclePath.map(([x, y]) => ({ x, y })), MAP_COLORS.target, 2 * k);
      const key = [
        { color: MAP_COLORS.explored, text: 'explored' },
        { color: MAP_COLORS.start, text: 'start' },
        { color: MAP_COLORS.target, text: 'oracle path to the asked-for object' },
      ];
      writeFileSync(out, encodePng(mapKey(view.image, key, view.pxPerM >= 100 ? 3 : 2)));
      process.stdout.write(`world ${seed}: target ${sc.target.category}; map with exploration and oracle path → ${out}\n`);
    } else {
      const w = generateWorld(seed);
      writeFileSync(out, encodePng(drawWorldMap(w, ppmFlag ?? legiblePxPerM(w)).image));
      process.stdout.write(`world ${seed}: ${w.rooms.length} room(s), ${w.objects.map((o) => o.category).join(', ')} → ${out}\n`);
    }
    return 0;
  },
};
