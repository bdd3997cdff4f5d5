import * as tf from '@tensorflow/tfjs';
import { PoeError } from '../errors';
import { forgetPoolGraph } from '../graph/poolGraph';
import type { LoadedPool } from './loadedPool';
import { channelCount, type PartFiles } from './poolManifest';
import type { PoolBundle } from './poolFetch';

export type { LoadedPool } from './loadedPool';

interface ModelJson {
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

async function loadPart(files: Map<string, Uint8Array>, part: PartFiles, what: string): Promise<tf.LayersModel> {
  const where = `${what} (${part.model.path})`;
  let json: ModelJson;
  try {
    json = JSON.parse(new TextDecoder().decode(files.get(part.model.path)));
  } catch (e) {
    throw new PoeError('MODEL_INVALID', `The ${where} is not valid JSON (${(e as Error).message}).`);
  }
  if (!json?.modelTopology || !Array.isArray(json.weightsManifest))
    throw new PoeError('MODEL_INVALID', `The ${where} is not a TensorFlow.js LayersModel (no modelTopology or weightsManifest).`);
  const weightSpecs = json.weightsManifest.flatMap((g) => g.weights);
  const weights = files.get(part.weights.path)!;
  const expected = weightSpecs.reduce((n, w) => n + 4 * w.shape.reduce((a, b) => a * b, 1), 0);
  if (weightSpecs.some((w) => w.dtype !== 'float32') || expected !== weights.byteLength)
    throw new PoeError('MODEL_INVALID',
      `The ${what} weights (${part.weights.path}) hold ${weights.byteLength} bytes, but its model.json describes ${expected}.`);
  const weightData = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer;
  try {
    return await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs, weightData }));
  } catch (e) {
    throw new PoeError('MODEL_INVALID', `The ${where} could not be loaded by TensorFlow.js: ${(e as Error).message}`);
  }
}

function shapeOf(t: tf.SymbolicTensor | tf.SymbolicTensor[]): (number | null)[] {
  return (Array.isArray(t) ? t[0] : t).shape;
}

/** Turns a verified bundle into LayersModels, checking that every expert fits the library. */
export async function instantiatePool(bundle: PoolBundle): Promise<LoadedPool> {
  const { manifest, files } = bundle;
  const made: tf.LayersModel[] = [];
  try {
    const library = await loadPart(files, manifest.library.files, 'library');
    made.push(library);
    const libOut = shapeOf(library.outputs).slice(1);
    const want = [manifest.input.sizePx, manifest.input.sizePx, channelCount(manifest.input)];
    if (shapeOf(library.inputs).slice(1).join() !== want.join())
      throw new PoeError('SHAPE_MISMATCH', `The library takes input ${JSON.stringify(shapeOf(library.inputs).slice(1))}, but the manifest says ${JSON.stringify(want)}.`);
    const experts = new Map<string, tf.LayersModel>();
    for (const e of manifest.experts) {
      const m = await loadPart(files, e.files, `expert "${e.name}"`);
      made.push(m);
      const inShape = shapeOf(m.inputs).slice(1);
      if (inShape.join() !== libOut.join())
        throw new PoeError('SHAPE_MISMATCH',
          `Expert "${e.name}" takes input ${JSON.stringify(inShape)}, but the library outputs ${JSON.stringify(libOut)}: it was not built for this library.`);
      const units = shapeOf(m.outputs)[1];
      if (units !== e.classes.length)
        throw new PoeError('SHAPE_MISMATCH', `Expert "${e.name}" outputs ${units} logits but the manifest gives it ${e.classes.length} classes.`);
      experts.set(e.name, m);
    }
    let bytes = 0;
    for (const b of files.values()) bytes += b.byteLength;
    return { manifest, library, experts, bytes, graph: null };
  } catch (e) {
    made.forEach((m) => m.dispose());
    throw e;
  }
}

/** Frees the models and the shared graph (its layers reference the models' weight tensors). */
export function disposePool(pool: LoadedPool): void {
  forgetPoolGraph(pool);
  pool.library.dispose();
  pool.experts.forEach((m) => m.dispose());
  pool.custom?.forEach((c) => c.model.dispose());
  pool.custom?.clear();
}
