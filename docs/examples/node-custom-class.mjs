// Your own class through the engine: train it, use it, save it, load it in a fresh pool: node node-custom-class.mjs POOL_DIR
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { openPool, useNodeBackend } from 'poe-studio';

const dir = process.argv[2];
await useNodeBackend('wasm');
const pool = await openPool(dir);

// A custom class is calibrated against images of the pool's own classes: here the sample the pool ships.
const sample = JSON.parse(readFileSync(path.join(dir, 'sample.json'), 'utf8'));
pool.customClasses.setNegatives({ images: new Uint8Array(readFileSync(path.join(dir, sample.file))), labels: sample.labels, count: sample.count });

// Twelve 32 x 32 pictures of magenta and green stripes: nothing CIFAR-100 knows.
const stripes = (n) => {
  const rgb = new Uint8Array(32 * 32 * 3);
  for (let y = 0; y < 32; y++)
    for (let x = 0; x < 32; x++) rgb.set(((x + y + n) >> 2) % 2 === 0 ? [250, 20 + 3 * n, 240] : [30, 230, 10 + 2 * n], (y * 32 + x) * 3);
  return rgb;
};
const images = new Uint8Array(12 * 3072);
for (let i = 0; i < 12; i++) images.set(stripes(i), i * 3072);

const spec = await pool.customClasses.train('stripes', images, { onProgress: () => {} });
const model = pool.consolidate(['people', spec.id]); // a custom class is selected by its id
const [top] = await model.classify({ data: stripes(40), width: 32, height: 32 });
const file = pool.customClasses.toJSON(); // weights and training images, as one JSON text
model.dispose();
pool.dispose();

const again = await openPool(dir);
const { added } = again.customClasses.fromJSON(file);
const [back] = await again.consolidate(['people', added[0].id]).classify({ data: stripes(41), width: 32, height: 32 });
console.log(JSON.stringify({ top: top.label, afterLoad: back.label, classes: again.customClasses.list().map((c) => `${c.label} (${c.shots} images)`) }));
