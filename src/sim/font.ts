/** A 3×5 pixel font (lowercase letters, digits, a few signs) for labels on maps and legends; drawn at an integer scale. */
const GLYPHS: Record<string, string> = {
  a: '010101111101101', b: '110101110101110', c: '011100100100011', d: '110101101101110', e: '111100110100111',
  f: '111100110100100', g: '011100101101011', h: '101101111101101', i: '111010010010111', j: '001001001101010',
  k: '101101110101101', l: '100100100100111', m: '101111111101101', n: '110101101101101', o: '010101101101010',
  p: '110101110100100', q: '010101101110011', r: '110101110101101', s: '011100010001110', t: '111010010010010',
  u: '101101101101111', v: '101101101101010', w: '101101111111101', x: '101101010101101', y: '101101010010010',
  z: '111001010100111', '0': '111101101101111', '1': '010110010010111', '2': '110001010100111', '3': '110001010001110',
  '4': '101101111001001', '5': '111100110001110', '6': '011100111101111', '7': '111001010010010', '8': '111101111101111',
  '9': '111101111001110', '-': '000000111000000', '.': '000000000000010', ' ': '000000000000000', ':': '000010000010000',
  '/': '001001010100100', '(': '010100100100010', ')': '010001001001010', '=': '000111000111000', ',': '000000000010100',
  '%': '101001010100101', '#': '101111101111101', '+': '000010111010000', '_': '000000000000111', "'": '010010000000000',
  '<': '001010100010001', '>': '100010001010100',
};

/** Pixels across `text` drawn at `scale` (4 font pixels per character, less the last gap). */
export function textWidth(text: string, scale = 2): number {
  return text.length === 0 ? 0 : (text.length * 4 - 1) * scale;
}

/** Pixels down one line of text at `scale`. */
export function textHeight(scale = 2): number {
  return 5 * scale;
}

/** Draws `text` with its top-left at (u, v), each font pixel `scale` image pixels. */
export function drawText(
  img: { width: number; height: number; data: Uint8Array },
  text: string,
  u: number,
  v: number,
  color: readonly [number, number, number],
  scale = 2,
): void {
  let x = Math.round(u);
  for (const ch of text.toLowerCase()) {
    const g = GLYPHS[ch] ?? GLYPHS[' '] as string;
    for (let r = 0; r < 5; r++) for (let c = 0; c < 3; c++) {
      if (g[r * 3 + c] !== '1') continue;
      for (let dy = 0; dy < scale; dy++) for (let dx = 0; dx < scale; dx++) {
        const px = x + c * scale + dx;
        const py = Math.round(v) + r * scale + dy;
        if (px >= 0 && py >= 0 && px < img.width && py < img.height) img.data.set(color, (py * img.width + px) * 3);
      }
    }
    x += 4 * scale;
  }
}
