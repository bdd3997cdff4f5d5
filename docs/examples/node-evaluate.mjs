// Top-1 of a people + vehicles_1 model on the CIFAR-100 test set: node node-evaluate.mjs POOL_DIR test.bin.gz
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { openPool, useNodeBackend } from 'poe-studio';

const [poolDir, testFile] = process.argv.slice(2);
await useNodeBackend('wasm');
const pool = await openPool(poolDir);
const model = pool.consolidate(['people', 'vehicles_1']);
const raw = gunzipSync(readFileSync(testFile)); // records: coarse label, fine label, 3 x 1024 bytes (R, G, B planes)
const count = raw.length / 3074, images = new Uint8Array(count * 3072), labels = [];
for (let i = 0; i < count; i++) {
  labels.push(raw[i * 3074 + 1]);
  for (let p = 0; p < 3072; p++) images[i * 3072 + p] = raw[i * 3074 + 2 + (p % 3) * 1024 + Math.floor(p / 3)];
}
const report = await model.evaluate(images, labels); // images of other classes are skipped
console.log(JSON.stringify({ labels: model.labels, images: report.images, top1: report.top1 }));
