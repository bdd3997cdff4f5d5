import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PoeError } from '../ml/errors';

export type NodeBackend = 'wasm' | 'cpu';

/** Selects the wasm (fast) or cpu (reference) backend in Node. tfjs-node is not used: it downloads a binary. */
export async function useNodeBackend(name: NodeBackend = 'wasm'): Promise<void> {
  if (name === 'wasm') {
    const dist = path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'));
    setWasmPaths(dist + path.sep);
  }
  tf.enableProdMode(); // also silences the 'install tfjs-node' banner
  if (!(await tf.setBackend(name))) throw new PoeError('BACKEND_UNAVAILABLE', `TensorFlow.js backend "${name}" could not start.`);
  await tf.ready();
}
