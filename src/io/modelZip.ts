import { strToU8, zipSync } from 'fflate';
import type { ModelFiles } from '../ml/export/exportModel';
import type { OnnxFiles } from '../ml/export/onnxExport';
import type { TfliteFiles, TfliteMetadata } from '../ml/export/tflite/export';

interface InputSpec {
  size: number;
  channels: number;
}

/** The input the model takes, in words and as the lines that make it from an image. */
function inputLines({ size, channels }: InputSpec) {
  const grey = channels === 1;
  return {
    words: `[N, ${size}, ${size}, ${channels}] ${grey ? 'grey' : 'RGB'} pixels in 0..255 (centre-crop to a square, then resize to ${size} x ${size}${grey ? '; grey is L = 0.299 R + 0.587 G + 0.114 B' : ''})`,
    tfjs: grey
      ? `const rgb = tf.image.resizeBilinear(tf.browser.fromPixels(imageElement), [${size}, ${size}]);\nconst x = rgb.mul([0.299, 0.587, 0.114]).sum(2, true).expandDims(0);`
      : `const x = tf.image.resizeBilinear(tf.browser.fromPixels(imageElement), [${size}, ${size}]).expandDims(0);`,
  };
}

function readme(labels: string[], poolName: string, input: InputSpec): string {
  const lines = inputLines(input);
  return `# PoE Studio model

A ${labels.length}-class image classifier consolidated from the "${poolName}" expert pool by PoE Studio.
Classes (output order): ${labels.join(', ')}.
Input: ${lines.words}.
Output: logits; softmax gives probabilities. metadata.json has the labels and details.

Load and run it with plain TensorFlow.js (serve this folder over HTTP, or use tf.io in Node):

\`\`\`js
import * as tf from '@tensorflow/tfjs';
const model = await tf.loadLayersModel('model.json');
const { labels } = await (await fetch('metadata.json')).json();
${lines.tfjs}
console.log(labels[tf.softmax(model.predict(x)).argMax(1).dataSync()[0]]);
\`\`\`
`;
}

function onnxReadme(labels: string[], poolName: string, input: InputSpec): string {
  const { size, channels } = input;
  return `# PoE Studio model (ONNX)

A ${labels.length}-class image classifier consolidated from the "${poolName}" expert pool by PoE Studio.
Classes (output order): ${labels.join(', ')}; also in metadata.json and in the model's metadata ("labels").
Input \`pixels\`: float32 ${inputLines(input).words};
normalisation happens inside the model. Output \`logits\`: float32 [N, ${labels.length}]; softmax gives probabilities.

Run it with ONNX Runtime, in Python:

\`\`\`python
import json, numpy as np, onnxruntime as ort
session = ort.InferenceSession('model.onnx')
labels = json.load(open('metadata.json'))['labels']
pixels = np.zeros((1, ${size}, ${size}, ${channels}), np.float32)  # your image here
print(labels[session.run(['logits'], {'pixels': pixels})[0].argmax(1)[0]])
\`\`\`

or in JavaScript with onnxruntime-web:

\`\`\`js
import * as ort from 'onnxruntime-web';
const session = await ort.InferenceSession.create('model.onnx');
const { logits } = await session.run({ pixels: new ort.Tensor('float32', pixels, [1, ${size}, ${size}, ${channels}]) });
\`\`\`
`;
}

function tfliteReadme(labels: string[], poolName: string, input: InputSpec, meta: TfliteMetadata): string {
  const { size, channels } = input;
  const t = meta.tflite;
  const int8 = t.precision === 'int8';
  return `# PoE Studio model (LiteRT / TFLite, ${t.precision})

A ${labels.length}-class image classifier consolidated from the "${poolName}" expert pool by PoE Studio.
Classes (output order): ${labels.join(', ')}; also in metadata.json and in the model's metadata ("labels").
Input \`pixels\`: ${int8 ? 'uint8' : 'float32'} [1, ${size}, ${size}, ${channels}], ${inputLines(input).words.replace(/^\[N[^\]]*\] /, '')};
normalisation happens inside the model. Output \`logits\`: float32 [1, ${labels.length}]; softmax gives probabilities.
${int8 ? `
Full-integer int8 (weights per output channel, activations calibrated on ${t.calibration ?? 'the pool\'s sample images'}).
The input is the raw pixel bytes (scale 1, zero point 0). Operators: ${t.operators.join(', ')}.

For TensorFlow Lite Micro, model_data.h / model_data.cc hold the same file as an aligned C array
(${meta.params.toLocaleString('en-US')} parameters). The activations need ${t.tensorArenaBytes} bytes at their peak;
model_data.h suggests a tensor arena of ${t.suggestedArenaBytes} bytes and lists the operators to register.
` : ''}
Run it with LiteRT in Python:

\`\`\`python
import json, numpy as np
from ai_edge_litert.interpreter import Interpreter   # or: tf.lite.Interpreter
interpreter = Interpreter('model.tflite'); interpreter.allocate_tensors()
labels = json.load(open('metadata.json'))['labels']
pixels = np.zeros((1, ${size}, ${size}, ${channels}), np.${int8 ? 'uint8' : 'float32'})  # your image here
interpreter.set_tensor(interpreter.get_input_details()[0]['index'], pixels)
interpreter.invoke()
print(labels[interpreter.get_tensor(interpreter.get_output_details()[0]['index']).argmax()])
\`\`\`

or in the browser with LiteRT.js (@litertjs/core): \`loadAndCompile('model.tflite', {accelerator: 'wasm'})\`.
`;
}

/**
 * One .zip holding the model's files and a short README: model.json, weights.bin and metadata.json
 * for TF.js, model.onnx and metadata.json for ONNX, or model.tflite and metadata.json (and the C pair for int8) for TFLite.
 */
export function zipModel(files: ModelFiles | OnnxFiles | TfliteFiles, labels: string[], poolName: string): Uint8Array {
  const entries: Record<string, Uint8Array> = {};
  for (const [name, content] of Object.entries(files)) if (content !== undefined) entries[name] = typeof content === 'string' ? strToU8(content) : content;
  const shape = (JSON.parse(files['metadata.json']) as { input: { shape: number[] } }).input.shape;
  const input = { size: shape[1], channels: shape[3] };
  entries['README.md'] = strToU8('model.tflite' in files ? tfliteReadme(labels, poolName, input, JSON.parse(files['metadata.json']) as TfliteMetadata)
    : 'model.onnx' in files ? onnxReadme(labels, poolName, input) : readme(labels, poolName, input));
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
