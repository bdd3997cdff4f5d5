// Builds the class picker's thumbnails from the built-in sample: npx tsx scripts/make-class-thumbs.ts
// One image per class (its first sample image), 10 tiles a row, in the sample's class order.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../cli/lib/paths';
import { encodePng } from '../harness/png';

const DIR = path.join(REPO_ROOT, 'public', 'samples');
const COLUMNS = 10;

const meta = JSON.parse(readFileSync(path.join(DIR, 'cifar100-test-sample.json'), 'utf8'));
const images = readFileSync(path.join(DIR, meta.file));
const tile = meta.sizePx as number;
const classes = meta.classNames as string[];
const rows = Math.ceil(classes.length / COLUMNS);
const sheet = new Uint8Array(COLUMNS * tile * rows * tile * 3);
classes.forEach((_, c) => {
  const first = (meta.labels as number[]).indexOf(c);
  const img = images.subarray(first * tile * tile * 3, (first + 1) * tile * tile * 3);
  const x0 = (c % COLUMNS) * tile;
  const y0 = Math.floor(c / COLUMNS) * tile;
  for (let y = 0; y < tile; y++) sheet.set(img.subarray(y * tile * 3, (y + 1) * tile * 3), ((y0 + y) * COLUMNS * tile + x0) * 3);
});
writeFileSync(path.join(DIR, 'class-thumbs.png'), encodePng(sheet, COLUMNS * tile, rows * tile));
writeFileSync(path.join(DIR, 'class-thumbs.json'), JSON.stringify({ file: 'class-thumbs.png', tilePx: tile, columns: COLUMNS, classes }) + '\n');
console.log(`${classes.length} class thumbnails -> ${DIR}/class-thumbs.png`);
