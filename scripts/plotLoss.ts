/**
 * Draws a training loss curve (CSV rows "step,loss,unix_time") as a PNG.
 * Usage: node dist/scripts/plotLoss.js LOG.csv OUT.png [TITLE]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { drawText } from '../src/sim/font.js';
import { drawLine, encodePng, newImage } from '../src/sim/pictures.js';

const [, , csv, out, title] = process.argv;
if (!csv || !out) {
  process.stderr.write('usage: plotLoss LOG.csv OUT.png [TITLE]\n');
  process.exit(2);
}
const rows = readFileSync(csv, 'utf8')
  .trim()
  .split('\n')
  .map((l) => l.split(',').map(Number))
  .filter((r) => r.length >= 2 && r.every(Number.isFinite)) as number[][];
if (rows.length < 2) {
  process.stderr.write(`${csv}: needs at least 2 rows of step,loss, found ${rows.length}\n`);
  process.exit(1);
}
const W = 640;
const H = 360;
const pad = 50;
const img = newImage(W, H);
const steps = rows.map((r) => r[0] as number);
const losses = rows.map((r) => r[1] as number);
const x0 = Math.min(...steps);
const x1 = Math.max(...steps);
const lmin = Math.min(...losses);
const lmax = Math.max(...losses);
const X = (s: number) => pad + ((s - x0) / Math.max(1, x1 - x0)) * (W - 2 * pad);
const Y = (l: number) => H - pad - ((Math.log(l) - Math.log(lmin)) / Math.max(1e-9, Math.log(lmax) - Math.log(lmin))) * (H - 2 * pad);
drawLine(img, pad, H - pad, W - pad, H - pad, [0, 0, 0]);
drawLine(img, pad, pad, pad, H - pad, [0, 0, 0]);
for (let i = 1; i < rows.length; i++) drawLine(img, X(steps[i - 1] as number), Y(losses[i - 1] as number), X(steps[i] as number), Y(losses[i] as number), [30, 90, 200], 2);
drawText(img, (title ?? 'loss').slice(0, 60), pad, 15, [0, 0, 0], 2);
drawText(img, `step ${x0}-${x1}`, W / 2 - 60, H - pad + 15, [0, 0, 0], 2);
drawText(img, `${lmax.toFixed(3)}`, 2, pad - 5, [0, 0, 0], 1);
drawText(img, `${lmin.toFixed(3)}`, 2, H - pad - 5, [0, 0, 0], 1);
drawText(img, 'log scale', 2, H / 2, [0, 0, 0], 1);
writeFileSync(out, encodePng(img));
process.stdout.write(`${out}: ${rows.length} points, loss ${losses[0]?.toFixed(4)} → ${losses[losses.length - 1]?.toFixed(4)}\n`);
