#!/usr/bin/env node
// Draw the demo's PWA icons (demo/public/icons/): a photo frame with three detection boxes and
// a question-mark dot, on the theme colour. icon-192.png and icon-512.png ("any": the motif
// fills the square, rounded corners transparent) and icon-maskable-512.png (full-bleed
// background, motif inside the 80 % safe zone a launcher may crop to). Pure fast-png, no
// ImageMagick; re-running gives byte-identical files.
//
//   node scripts/make-icons.mjs [OUTDIR]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encode } from 'fast-png';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = process.argv[2] ?? join(root, 'demo', 'public', 'icons');

const THEME = [0x1f, 0x4e, 0x79]; // #1f4e79, the manifest's theme_color
const WHITE = [0xff, 0xff, 0xff];
const BOXES = [
  [[0xff, 0xb3, 0x47], 0.14, 0.2, 0.52, 0.62], // colour, x1, y1, x2, y2 (unit square)
  [[0x7f, 0xd1, 0xae], 0.44, 0.3, 0.86, 0.8],
  [[0xf2, 0x6d, 0x7d], 0.22, 0.5, 0.62, 0.9],
];

/** Coverage of a pixel by a shape, 4×4 supersampled (smooth edges without a rasterizer). */
function cover(px, py, inside) {
  let n = 0;
  for (let sy = 0; sy < 4; sy++) {
    for (let sx = 0; sx < 4; sx++) if (inside(px + (sx + 0.5) / 4, py + (sy + 0.5) / 4)) n++;
  }
  return n / 16;
}

/**
 * @param size pixels
 * @param inset where the motif sits: 0 = edge to edge, 0.1 = inside the maskable safe zone
 * @param fullBleed background to the corners (maskable) or a rounded square
 */
function draw(size, inset, fullBleed) {
  const data = new Uint8Array(size * size * 4);
  const radius = 0.18 * size;
  const roundRect = (x, y) => {
    const cx = Math.min(Math.max(x, radius), size - radius);
    const cy = Math.min(Math.max(y, radius), size - radius);
    return (x - cx) ** 2 + (y - cy) ** 2 <= radius * radius;
  };
  const m = (u) => (inset + u * (1 - 2 * inset)) * size; // unit motif coordinate → pixels
  const stroke = Math.max(2, size * 0.035 * (1 - 2 * inset));
  const frame = (x1, y1, x2, y2) => (x, y) =>
    x >= x1 &&
    x <= x2 &&
    y >= y1 &&
    y <= y2 &&
    !(x > x1 + stroke && x < x2 - stroke && y > y1 + stroke && y < y2 - stroke);
  const layers = [
    [WHITE, frame(m(0.08), m(0.1), m(0.92), m(0.92))],
    ...BOXES.map(([c, x1, y1, x2, y2]) => [c, frame(m(x1), m(y1), m(x2), m(y2))]),
    [
      WHITE,
      (x, y) => (x - m(0.8)) ** 2 + (y - m(0.2)) ** 2 <= (size * 0.09 * (1 - 2 * inset)) ** 2,
    ],
  ];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const bg = fullBleed ? 1 : cover(x, y, roundRect);
      let rgb = [...THEME];
      for (const [c, inside] of layers) {
        const a = cover(x, y, inside);
        if (a > 0) rgb = rgb.map((v, i) => v + (c[i] - v) * a);
      }
      const o = (y * size + x) * 4;
      data.set([...rgb.map(Math.round), Math.round(255 * bg)], o);
    }
  }
  return encode({ width: size, height: size, data, channels: 4, depth: 8 });
}

mkdirSync(outDir, { recursive: true });
for (const [name, size, inset, full] of [
  ['icon-192.png', 192, 0, false],
  ['icon-512.png', 512, 0, false],
  ['icon-maskable-512.png', 512, 0.1, true],
  ['apple-touch-icon-180.png', 180, 0.06, true],
]) {
  const png = draw(size, inset, full);
  writeFileSync(join(outDir, name), png);
  console.log(`${join(outDir, name)}: ${size}×${size}, ${png.byteLength} bytes`);
}
