import * as tf from '@tensorflow/tfjs';
import type { ModelFiles } from '../export/exportModel';

/** Loads downloaded model files back with plain tf.loadLayersModel (as a user of the download would). */
export function loadModelFiles(files: Pick<ModelFiles, 'model.json' | 'weights.bin'>): Promise<tf.LayersModel> {
  const json = JSON.parse(files['model.json']);
  const w = files['weights.bin'];
  return tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest.flatMap((g: { weights: tf.io.WeightsManifestEntry[] }) => g.weights),
    weightData: w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength) as ArrayBuffer,
  }));
}
