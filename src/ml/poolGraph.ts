import * as tf from '@tensorflow/tfjs';
import { graftPart } from './graft';
import type { LoadedPool } from './poolModels';

/**
 * The pool as one symbolic graph, built once and shared by every consolidated model: the input,
 * normalisation and library, then each expert grafted on the library's output the first time a
 * query uses it. A query then only adds a concatenation (and, for class-level queries, a smaller
 * final dense layer) and wraps the result in a tf.model: no layer or weight is recreated.
 */
export interface PoolGraph {
  input: tf.SymbolicTensor;
  features: tf.SymbolicTensor;
  experts: Map<string, ExpertNode>;
  /** Layers this graph created (their weight tensors are shared with the pool's part models). */
  layers: tf.layers.Layer[];
}

export interface ExpertNode {
  /** Output of global average pooling, the input of the expert's final dense layer. */
  pooled: tf.SymbolicTensor;
  logits: tf.SymbolicTensor;
  fc: tf.layers.Layer;
  /** The layers grafted for this expert (a slice of PoolGraph.layers). */
  layers: tf.layers.Layer[];
}

const graphs = new WeakMap<LoadedPool, PoolGraph>();

/** uint8-range RGB -> (x/255 - mean)/std per channel, as a standard 1x1 depthwise conv (exact up to rounding). */
function normalize(input: tf.SymbolicTensor, mean: number[], std: number[]): { out: tf.SymbolicTensor; layer: tf.layers.Layer } {
  const layer = tf.layers.depthwiseConv2d({ kernelSize: 1, depthMultiplier: 1, useBias: true, name: 'normalize', trainable: false });
  const out = layer.apply(input) as tf.SymbolicTensor;
  const weights = [tf.tensor4d(std.map((s) => 1 / (255 * s)), [1, 1, 3, 1]), tf.tensor1d(mean.map((m, i) => -m / std[i]))];
  layer.setWeights(weights);
  weights.forEach((w) => w.dispose());
  return { out, layer };
}

export function poolGraph(pool: LoadedPool): PoolGraph {
  let g = graphs.get(pool);
  if (!g) {
    const { sizePx, mean, std } = pool.manifest.input;
    const input = tf.input({ shape: [sizePx, sizePx, 3], name: 'pixels' });
    const norm = normalize(input, mean, std);
    const layers: tf.layers.Layer[] = [norm.layer];
    const features = graftPart(pool.library, norm.out, 'library_', layers, true);
    g = { input, features, experts: new Map(), layers };
    graphs.set(pool, g);
  }
  return g;
}

export function expertNode(pool: LoadedPool, name: string): ExpertNode {
  const g = poolGraph(pool);
  let node = g.experts.get(name);
  if (!node) {
    const part = pool.experts.get(name) ?? pool.custom?.get(name)?.model;
    if (!part) throw new Error(`expert ${name}: not in the pool`);
    const before = g.layers.length;
    const logits = graftPart(part, g.features, `${name}_`, g.layers, true);
    const fc = g.layers[g.layers.length - 1];
    if (g.layers.length === before || !(fc.inboundNodes[0].inputTensors[0] instanceof tf.SymbolicTensor))
      throw new Error(`expert ${name}: unexpected graph`);
    node = { pooled: fc.inboundNodes[0].inputTensors[0] as tf.SymbolicTensor, logits, fc, layers: g.layers.slice(before) };
    g.experts.set(name, node);
  }
  return node;
}

/** Drops one expert's branch (a custom expert removed or retrained); the next query grafts it afresh. */
export function forgetExpertNode(pool: LoadedPool, name: string): void {
  const g = graphs.get(pool);
  const node = g?.experts.get(name);
  if (!g || !node) return;
  const own = new Set(node.layers);
  g.layers = g.layers.filter((l) => !own.has(l));
  node.layers.forEach((l) => l.dispose());
  g.experts.delete(name);
}

/** Frees the graph's layers (their references to the weight tensors they share with the part models). */
export function forgetPoolGraph(pool: LoadedPool): void {
  graphs.get(pool)?.layers.forEach((l) => l.dispose());
  graphs.delete(pool);
}

/** Grafts every expert now (tens of milliseconds once), so that no later query pays for it. */
export function prepareGraph(pool: LoadedPool): void {
  for (const e of pool.manifest.experts) expertNode(pool, e.name);
}
