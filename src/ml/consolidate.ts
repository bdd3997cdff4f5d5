import * as tf from '@tensorflow/tfjs';
import { expertNode, poolGraph } from './poolGraph';
import type { LoadedPool } from './poolModels';
import { planQuery, type QueryPlan } from './selection';

export interface ConsolidatedModel {
  model: tf.LayersModel;
  labels: string[];
  plan: QueryPlan;
  /** Trainable parameter count of the consolidated network (normalisation layer excluded). */
  params: number;
  /** Wall time to assemble the model, in milliseconds (graft: the part spent grafting experts not used before). */
  buildMs: number;
  graftMs: number;
  /**
   * Frees what this query added. The model's other layers belong to the pool's shared graph, so
   * never call model.dispose() on a consolidated model: use this.
   */
  dispose: () => void;
}

const now = () => (globalThis.performance ?? Date).now();

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
 * Consolidates library + chosen experts into one LayersModel, train-free. Input: [N, size, size, channels]
 * (the pool's: RGB or grey) in 0..255; output: the chosen classes' logits, concatenated in plan order.
 */
export function consolidate(pool: LoadedPool, names: readonly string[]): ConsolidatedModel {
  const t0 = now();
  const custom = [...(pool.custom?.values() ?? [])].map((c) => ({ id: c.spec.id, label: c.spec.label }));
  const plan = planQuery(pool.manifest, names, custom);
  const graph = poolGraph(pool);
  const tGraft = now();
  const nodes = plan.parts.map((p) => expertNode(pool, p.expert));
  const graftMs = now() - tGraft;
  const q = ++graph.queries;
  const own: tf.layers.Layer[] = [];
  const logits = plan.parts.map((part, k) => {
    if (part.whole) return nodes[k].logits;
    const [kernel, bias] = nodes[k].fc.getWeights();
    const dense = tf.layers.dense({ units: part.keep.length, name: `q${q}_${part.expert}_fc` });
    const out = dense.apply(nodes[k].pooled) as tf.SymbolicTensor;
    const weights = keepColumns(kernel, bias, part.keep);
    dense.setWeights(weights);
    weights.forEach((w) => w.dispose());
    own.push(dense);
    return out;
  });
  let output = logits[0];
  if (logits.length > 1) {
    const concat = tf.layers.concatenate({ name: `q${q}_logits` });
    output = concat.apply(logits) as tf.SymbolicTensor;
    own.push(concat);
  }
  const model = tf.model({ inputs: graph.input, outputs: output, name: 'poe_consolidated' });
  const params = model.countParams() - 6;
  let disposed = false;
  const dispose = () => {
    if (disposed) return;
    disposed = true;
    own.forEach((l) => l.dispose());
  };
  return { model, labels: plan.labels, plan, params, buildMs: now() - t0, graftMs, dispose };
}
