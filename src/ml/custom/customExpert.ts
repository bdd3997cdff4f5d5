import * as tf from '@tensorflow/tfjs';
import { PoeError } from '../errors';
import type { LoadedPool } from '../pool/loadedPool';
import type { CustomExpertSpec } from './customSpec';
import { forgetExpertNode } from '../graph/poolGraph';

export type { CustomExpertSpec } from './customSpec';

export const CUSTOM_PREFIX = 'custom_';
export const CUSTOM_FILE_FORMAT = 'poe-custom-classes';
export const MIN_CUSTOM_SHOTS = 10;
export const MAX_LABEL_CHARS = 40;

export const isCustomName = (name: string) => name.startsWith(CUSTOM_PREFIX);

export function newCustomId(): string {
  return CUSTOM_PREFIX + Math.random().toString(36).slice(2, 10);
}

export function weightCount(channels: number, hidden: number): number {
  return channels * hidden + hidden + hidden + 1;
}

/** The expert as a standalone LayersModel taking library features. */
export function buildCustomModel(spec: CustomExpertSpec): tf.LayersModel {
  const [h, w, c] = spec.featureShape;
  if (spec.weights.length !== weightCount(c, spec.hidden))
    throw new PoeError('MODEL_INVALID', `Custom class "${spec.label}" has ${spec.weights.length} weights; ${weightCount(c, spec.hidden)} expected.`);
  const input = tf.input({ shape: [h, w, c], name: 'features' });
  const avg = tf.layers.depthwiseConv2d({ kernelSize: 2, strides: 2, padding: 'valid', useBias: false, name: 'avg2', trainable: false });
  const conv = tf.layers.conv2d({ filters: spec.hidden, kernelSize: 1, activation: 'relu', name: 'hidden' });
  const gap = tf.layers.globalAveragePooling2d({ name: 'pool' });
  const fc = tf.layers.dense({ units: 1, name: 'fc' });
  const out = fc.apply(gap.apply(conv.apply(avg.apply(input)))) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out, name: 'custom_expert' });
  const v = spec.weights;
  const k = spec.hidden;
  const tensors = [
    tf.fill([2, 2, c, 1], 0.25),
    tf.tensor4d(v.subarray(0, c * k), [1, 1, c, k]),
    tf.tensor1d(v.subarray(c * k, c * k + k)),
    tf.tensor2d(v.subarray(c * k + k, c * k + 2 * k), [k, 1]),
    tf.tensor1d(v.subarray(c * k + 2 * k, c * k + 2 * k + 1)),
  ];
  avg.setWeights([tensors[0]]);
  conv.setWeights([tensors[1], tensors[2]]);
  fc.setWeights([tensors[3], tensors[4]]);
  tensors.forEach((t) => t.dispose());
  return model;
}

/** A pool's custom experts, next to its built-in ones; consolidate() draws on both. */
export function customExperts(pool: LoadedPool): Map<string, { spec: CustomExpertSpec; model: tf.LayersModel }> {
  pool.custom ??= new Map();
  return pool.custom;
}

/** Checks a label: non-empty, short, and not the name of a pool class, superclass or another custom class. */
export function checkLabel(pool: LoadedPool, label: string, exceptId?: string): string {
  const name = label.trim();
  if (!name) throw new PoeError('SELECTION_UNKNOWN', 'Give your class a name.');
  if (name.length > MAX_LABEL_CHARS) throw new PoeError('SELECTION_UNKNOWN', `Keep the name under ${MAX_LABEL_CHARS} characters.`);
  const taken = new Set([...pool.manifest.classes.map((c) => c.name), ...pool.manifest.experts.map((e) => e.name)]);
  for (const [id, c] of customExperts(pool)) if (id !== exceptId) taken.add(c.spec.label);
  if (taken.has(name)) throw new PoeError('SELECTION_UNKNOWN', `"${name}" is already a class of this model: choose another name.`);
  return name;
}

/** Adds (or replaces, after retraining) a custom expert in the pool; the next consolidation grafts it. */
export function registerCustomExpert(pool: LoadedPool, spec: CustomExpertSpec): void {
  const [, ...libOut] = (pool.library.outputs[0].shape as number[]);
  if (libOut.join() !== spec.featureShape.join())
    throw new PoeError('SHAPE_MISMATCH', `Custom class "${spec.label}" was trained on features ${JSON.stringify(spec.featureShape)}, but this pool's library outputs ${JSON.stringify(libOut)}.`);
  const model = buildCustomModel(spec);
  unregisterCustomExpert(pool, spec.id);
  customExperts(pool).set(spec.id, { spec, model });
}

export function unregisterCustomExpert(pool: LoadedPool, id: string): void {
  const old = customExperts(pool).get(id);
  if (!old) return;
  forgetExpertNode(pool, id);
  old.model.dispose();
  customExperts(pool).delete(id);
}

export function renameCustomExpert(pool: LoadedPool, id: string, label: string): void {
  const c = customExperts(pool).get(id);
  if (!c) throw new PoeError('SELECTION_UNKNOWN', 'That class no longer exists.');
  c.spec = { ...c.spec, label: checkLabel(pool, label, id) };
}
