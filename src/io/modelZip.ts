import { strToU8, zipSync } from 'fflate';
import type { ModelFiles } from '../ml/exportModel';
import type { OnnxFiles } from '../ml/onnxExport';

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

function onnxReadme(labels: string[], poolName: string): string {
  return `# PoE Studio model (ONNX)

A ${labels.length}-class image classifier consolidated from the "${poolName}" expert pool by PoE Studio.
Classes (output order): ${labels.join(', ')}; also in metadata.json and in the model's metadata ("labels").
Input \`pixels\`: float32 [N, 32, 32, 3], RGB in 0..255 (centre-crop to a square, then resize to 32 x 32);
normalisation happens inside the model. Output \`logits\`: float32 [N, ${labels.length}]; softmax gives probabilities.

Run it with ONNX Runtime, in Python:

\`\`\`python
import json, numpy as np, onnxruntime as ort
session = ort.InferenceSession('model.onnx')
labels = json.load(open('metadata.json'))['labels']
pixels = np.zeros((1, 32, 32, 3), np.float32)  # your image here
print(labels[session.run(['logits'], {'pixels': pixels})[0].argmax(1)[0]])
\`\`\`

or in JavaScript with onnxruntime-web:

\`\`\`js
import * as ort from 'onnxruntime-web';
const session = await ort.InferenceSession.create('model.onnx');
const { logits } = await session.run({ pixels: new ort.Tensor('float32', pixels, [1, 32, 32, 3]) });
\`\`\`
`;
}

/**
 * One .zip holding the model's files and a short README: model.json, weights.bin and metadata.json
 * for TF.js, or model.onnx and metadata.json for ONNX.
 */
export function zipModel(files: ModelFiles | OnnxFiles, labels: string[], poolName: string): Uint8Array {
  const entries: Record<string, Uint8Array> = {};
  for (const [name, content] of Object.entries(files)) entries[name] = typeof content === 'string' ? strToU8(content) : content;
  entries['README.md'] = strToU8('model.onnx' in files ? onnxReadme(labels, poolName) : readme(labels, poolName));
  return zipSync(entries);
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
