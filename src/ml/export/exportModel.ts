import * as tf from '@tensorflow/tfjs';
import { float16Bits } from '../util/float16';
import { METADATA_FORMAT, METADATA_FORMAT_VERSION } from '../constants';
import type { ConsolidatedModel } from '../graph/consolidate';
import { channelCount, type PoolManifest } from '../pool/poolManifest';

export type WeightPrecision = 'float32' | 'float16' | 'uint8';

export interface ModelMetadata {
  format: typeof METADATA_FORMAT;
  formatVersion: number;
  labels: string[];
  classIndices: number[];
  output: 'logits' | 'logits+p_known';
  /** The "none of these" detector, when the model has one: the output's last column. */
  unknown?: { outputColumn: number; threshold: number; temperature: number; note: string };
  input: { shape: [null, number, number, number]; dtype: 'float32' | 'uint8'; channels: 'RGB' | 'L'; range: [number, number]; note: string };
  pool: { name: string; version: string };
  /** custom: a class the user trained in the page (its classIndices entry is -1). */
  experts: { name: string; classes: string[]; whole: boolean; custom?: true }[];
  params: number;
  weightPrecision: WeightPrecision | 'int8';
  createdAt: string;
}

export interface ModelFiles {
  'model.json': string;
  'weights.bin': Uint8Array;
  'metadata.json': string;
}

export function modelMetadata(c: ConsolidatedModel, manifest: PoolManifest, precision: WeightPrecision | 'int8'): ModelMetadata {
  const size = manifest.input.sizePx;
  const grey = manifest.input.channels === 'L';
  const nameOf = new Map(manifest.classes.map((k) => [k.index, k.name]));
  const u = (c as { unknown?: { temperature: number; threshold?: number } }).unknown;
  const expertClasses = new Map(manifest.experts.map((e) => [e.name, e.classes]));
  return {
    format: METADATA_FORMAT,
    formatVersion: METADATA_FORMAT_VERSION,
    labels: c.labels,
    classIndices: c.plan.classIndices,
    output: u ? 'logits+p_known' : 'logits',
    ...(u ? { unknown: { outputColumn: c.labels.length, threshold: u.threshold ?? 0, temperature: u.temperature,
      note: `Column ${c.labels.length} (after the ${c.labels.length} logits) is p(known), the probability over every class of the pool that the image is one of these classes; below ${(u.threshold ?? 0).toPrecision(3)} the answer is "none of these".` } } : {}),
    input: {
      shape: [null, size, size, channelCount(manifest.input)],
      dtype: 'float32',
      channels: manifest.input.channels,
      range: [0, 255],
      note: `Resize (centre-crop to square, then scale) to ${size}x${size}${grey ? ', grey (L = 0.299 R + 0.587 G + 0.114 B)' : ''}; normalisation happens inside the model. Apply softmax to the logits for probabilities.`,
    },
    pool: { name: manifest.name, version: manifest.version },
    experts: c.plan.parts.map((p, k) => p.custom
      ? { name: p.expert, classes: [c.labels[c.plan.parts.slice(0, k).reduce((n, q) => n + q.keep.length, 0)]], whole: true, custom: true }
      : { name: p.expert, classes: p.keep.map((i) => nameOf.get(expertClasses.get(p.expert)![i])!), whole: p.whole }),
    params: c.params,
    weightPrecision: precision,
    createdAt: new Date().toISOString(),
  };
}

/** Serialises a consolidated model to the three files of a plain TF.js LayersModel download. */
export async function modelFiles(c: ConsolidatedModel, manifest: PoolManifest, precision: WeightPrecision = 'float32'): Promise<ModelFiles> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await c.model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const a = artifacts!;
  let specs = a.weightSpecs!;
  let data = new Uint8Array(a.weightData as ArrayBuffer);
  if (precision !== 'float32') ({ specs, data } = quantize(specs, data, precision));
  const modelJson = {
    format: 'layers-model',
    generatedBy: `PoE Studio (TensorFlow.js ${tf.version.tfjs})`,
    convertedBy: null,
    modelTopology: a.modelTopology,
    weightsManifest: [{ paths: ['weights.bin'], weights: specs }],
  };
  return {
    'model.json': JSON.stringify(modelJson),
    'weights.bin': data,
    'metadata.json': JSON.stringify(modelMetadata(c, manifest, precision), null, 2),
  };
}

/** float16 halves and uint8 (affine, per tensor) quarters the weights; tf.loadLayersModel dequantises. */
function quantize(specs: tf.io.WeightsManifestEntry[], data: Uint8Array, precision: 'float16' | 'uint8') {
  const f32 = new Float32Array(data.buffer, data.byteOffset, data.byteLength / 4);
  const chunks: Uint8Array[] = [];
  const out: tf.io.WeightsManifestEntry[] = [];
  let offset = 0;
  for (const s of specs) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const v = f32.subarray(offset, offset + n);
    offset += n;
    if (precision === 'float16') {
      chunks.push(new Uint8Array(float16Bits(v).buffer));
      out.push({ ...s, quantization: { dtype: 'float16' } });
    } else {
      let min = Infinity, max = -Infinity;
      for (const x of v) { if (x < min) min = x; if (x > max) max = x; }
      const scale = max > min ? (max - min) / 255 : 1;
      const q = new Uint8Array(n);
      for (let i = 0; i < n; i++) q[i] = Math.round((v[i] - min) / scale);
      chunks.push(q);
      out.push({ ...s, quantization: { dtype: 'uint8', scale, min } });
    }
  }
  const total = chunks.reduce((a, c) => a + c.byteLength, 0);
  const merged = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) { merged.set(c, at); at += c.byteLength; }
  return { specs: out, data: merged };
}
