import * as tf from '@tensorflow/tfjs';
import { graftPart } from './graft';
import type { LoadedPool } from './poolModels';
import { planQuery, type QueryPlan } from './selection';

export interface ConsolidatedModel {
  model: tf.LayersModel;
  labels: string[];
  plan: QueryPlan;
  /** Trainable parameter count of the consolidated network (normalisation layer excluded). */
  params: number;
  /** Wall time to assemble the graph and attach weights, in milliseconds. */
  buildMs: number;
}

const now = () => (globalThis.performance ?? Date).now();

/** uint8-range RGB -> (x/255 - mean)/std per channel, as a standard 1x1 depthwise conv (exact up to rounding). */
function normalizer(mean: number[], std: number[]): { layer: tf.layers.Layer; weights: tf.Tensor[] } {
  const layer = tf.layers.depthwiseConv2d({ kernelSize: 1, depthMultiplier: 1, useBias: true, name: 'normalize', trainable: false });
  const weights = [tf.tensor4d(std.map((s) => 1 / (255 * s)), [1, 1, 3, 1]), tf.tensor1d(mean.map((m, i) => -m / std[i]))];
  return { layer, weights };
}

/**
 * The chosen rows of a dense layer, sliced in JS: tiny, and tf.gather on the wasm backend yields
 * tensors whose backend-side shape is 4-D, which its fused matMul then rejects as a bias.
 */
function keepColumns(kernel: tf.Tensor, bias: tf.Tensor, keep: number[]): tf.Tensor[] {
  const [inputs, units] = kernel.shape;
  const k = kernel.dataSync();
  const b = bias.dataSync();
  const kOut = new Float32Array(inputs * keep.length);
  for (let r = 0; r < inputs; r++) keep.forEach((c, j) => (kOut[r * keep.length + j] = k[r * units + c]));
  return [tf.tensor2d(kOut, [inputs, keep.length]), tf.tensor1d(keep.map((c) => b[c]))];
}

/**
 * Consolidates library + chosen experts into one LayersModel, train-free. Input: [N, size, size, 3]
 * RGB in 0..255; output: the chosen classes' logits, concatenated in plan order.
 */
export function consolidate(pool: LoadedPool, names: readonly string[]): ConsolidatedModel {
  const t0 = now();
  const plan = planQuery(pool.manifest, names);
  const { sizePx, mean, std } = pool.manifest.input;
  const input = tf.input({ shape: [sizePx, sizePx, 3], name: 'pixels' });
  const norm = normalizer(mean, std);
  const x = norm.layer.apply(input) as tf.SymbolicTensor;
  norm.layer.setWeights(norm.weights);
  norm.weights.forEach((w) => w.dispose());
  const features = graftPart(pool.library, x, 'library_');
  const logits = plan.parts.map((part, k) => {
    const expert = pool.experts.get(part.expert)!;
    const last = expert.layers[expert.layers.length - 1];
    return graftPart(expert, features, `e${k}_${part.expert}_`, (layer, name) => {
      if (layer !== last || part.whole) return undefined;
      const [kernel, bias] = layer.getWeights();
      const weights = keepColumns(kernel, bias, part.keep);
      return { layer: tf.layers.dense({ units: part.keep.length, name }), weights };
    });
  });
  const output = logits.length === 1 ? logits[0] : (tf.layers.concatenate({ name: 'logits' }).apply(logits) as tf.SymbolicTensor);
  const model = tf.model({ inputs: input, outputs: output, name: 'poe_consolidated' });
  const params = model.countParams() - 6;
  return { model, labels: plan.labels, plan, params, buildMs: now() - t0 };
}
