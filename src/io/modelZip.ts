import { strToU8, zipSync } from 'fflate';
import type { ModelFiles } from '../ml/exportModel';

function readme(labels: string[], poolName: string): string {
  return `# PoE Studio model

A ${labels.length}-class image classifier consolidated from the "${poolName}" expert pool by PoE Studio.
Classes (output order): ${labels.join(', ')}.
Input: [N, 32, 32, 3] RGB pixels in 0..255 (centre-crop to a square, then resize to 32 x 32).
Output: logits; softmax gives probabilities. metadata.json has the labels and details.

Load and run it with plain TensorFlow.js (serve this folder over HTTP, or use tf.io in Node):

\`\`\`js
import * as tf from '@tensorflow/tfjs';
const model = await tf.loadLayersModel('model.json');
const { labels } = await (await fetch('metadata.json')).json();
const x = tf.image.resizeBilinear(tf.browser.fromPixels(imageElement), [32, 32]).expandDims(0);
console.log(labels[tf.softmax(model.predict(x)).argMax(1).dataSync()[0]]);
\`\`\`
`;
}

/** One .zip holding model.json, weights.bin, metadata.json and a short README. */
export function zipModel(files: ModelFiles, labels: string[], poolName: string): Uint8Array {
  return zipSync({
    'model.json': strToU8(files['model.json']),
    'weights.bin': files['weights.bin'],
    'metadata.json': strToU8(files['metadata.json']),
    'README.md': strToU8(readme(labels, poolName)),
  });
}

export function saveBytes(bytes: Uint8Array, filename: string, type = 'application/zip'): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
