import * as tf from '@tensorflow/tfjs';
import { graftPart } from './graft';
import type { ExpertNode, LoadedPool, PoolGraph } from '../pool/loadedPool';
import { channelCount } from '../pool/poolManifest';
import { PoeError } from '../errors';
import { PlanCache } from '../run/plan';

export type { ExpertNode, PoolGraph } from '../pool/loadedPool';


/** uint8-range pixels -> (x/255 - mean)/std per channel, as a standard 1x1 depthwise conv (exact up to rounding). */
function normalize(input: tf.SymbolicTensor, mean: number[], std: number[]): { out: tf.SymbolicTensor; layer: tf.layers.Layer } {
  const layer = tf.layers.depthwiseConv2d({ kernelSize: 1, depthMultiplier: 1, useBias: true, name: 'normalize', trainable: false });
  const out = layer.apply(input) as tf.SymbolicTensor;
  const weights = [tf.tensor4d(std.map((s) => 1 / (255 * s)), [1, 1, std.length, 1]), tf.tensor1d(mean.map((m, i) => -m / std[i]))];
  layer.setWeights(weights);
  weights.forEach((w) => w.dispose());
  return { out, layer };
}

export function poolGraph(pool: LoadedPool): PoolGraph {
  let g = pool.graph;
  if (!g) {
    const { sizePx, mean, std } = pool.manifest.input;
    const input = tf.input({ shape: [sizePx, sizePx, channelCount(pool.manifest.input)], name: 'pixels' });
    const norm = normalize(input, mean, std);
    const layers: tf.layers.Layer[] = [norm.layer];
    const features = graftPart(pool.library, norm.out, 'library_', layers, true);
    g = { input, features, experts: new Map(), layers, queries: 0, plans: new PlanCache() };
    pool.graph = g;
  }
  return g;
}

/** Expert names are free text ("boats / dogs"); TF.js layer names take only [A-Za-z0-9_.-]. */
export function layerPrefix(name: string, index: number): string {
  return /^[A-Za-z0-9_.-]+$/.test(name) ? `${name}_` : `expert${index}_${name.replace(/[^A-Za-z0-9_.-]+/g, '_')}_`;
}

export function expertNode(pool: LoadedPool, name: string): ExpertNode {
  const g = poolGraph(pool);
  let node = g.experts.get(name);
  if (!node) {
    const part = pool.experts.get(name) ?? pool.custom?.get(name)?.model;
    if (!part) throw new PoeError('SELECTION_UNKNOWN', `Expert "${name}" is not in the pool.`);
    const before = g.layers.length;
    const logits = graftPart(part, g.features, layerPrefix(name, g.experts.size), g.layers, true);
    const fc = g.layers[g.layers.length - 1];
    if (g.layers.length === before || !(fc.inboundNodes[0].inputTensors[0] instanceof tf.SymbolicTensor))
      throw new PoeError('MODEL_INVALID', `Expert "${name}" does not end in a dense layer on pooled features, as a pool's experts do.`);
    node = { pooled: fc.inboundNodes[0].inputTensors[0] as tf.SymbolicTensor, logits, fc, layers: g.layers.slice(before) };
    g.experts.set(name, node);
  }
  return node;
}

/** Drops one expert's branch (a custom expert removed or retrained); the next query grafts it afresh. */
export function forgetExpertNode(pool: LoadedPool, name: string): void {
  const g = pool.graph;
  const node = g?.experts.get(name);
  if (!g || !node) return;
  const own = new Set(node.layers);
  g.layers = g.layers.filter((l) => !own.has(l));
  g.plans.forget(node.layers);
  node.layers.forEach((l) => l.dispose());
  g.experts.delete(name);
}

/** Frees the graph's layers (their references to the weight tensors they share with the part models). */
export function forgetPoolGraph(pool: LoadedPool): void {
  pool.graph?.plans.dispose();
  pool.graph?.layers.forEach((l) => l.dispose());
  pool.graph = null;
}

/** Grafts and compiles every expert now (tens of milliseconds once), so that no later query pays for it. */
export function prepareGraph(pool: LoadedPool): void {
  for (const e of pool.manifest.experts) expertNode(pool, e.name);
  const g = poolGraph(pool);
  g.plans.warm(g.layers);
}
