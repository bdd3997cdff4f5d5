import * as tf from '@tensorflow/tfjs';
import { expertNode, layerPrefix, poolGraph, type PoolGraph } from './poolGraph';
import type { LoadedPool } from '../pool/poolModels';
import { planQuery, type QueryPlan } from './selection';
import type { PlanGraph } from '../run/plan';

export interface ConsolidatedModel {
  /** The model as a LayersModel, built on first use (exports): predictions run the compiled plan of `graph`. */
  readonly model: tf.LayersModel;
  /** Input to output in execution order, what the plan is compiled from (run/plan.ts). */
  graph: PlanGraph;
  /** Bytes of the model's float32 weights. */
  bytes: number;
  labels: string[];
  plan: QueryPlan;
  /** Trainable parameter count of the consolidated network (normalisation layer excluded). */
  params: number;
  /**
   * Set when the model carries the "none of these" detector: its output then has one column more than
   * `labels`, the probability that the image belongs to the chosen classes (see unknownDetector below).
   */
  unknown?: { temperature: number };
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
 * The "none of these" temperature: p(known) = sum over the chosen classes of softmax(logits / T) over every
 * class of the pool. T = 2 had the lowest FPR at 95 % TPR on the CIFAR-100 validation split at every query
 * size (docs/UNKNOWN.md); 1 and 3 were within a point of it.
 */
export const UNKNOWN_TEMPERATURE = 2;

/** A bias-free dense layer with fixed weights, applied to x (built by apply, so its weights get its name). */
function fixedDense(name: string, kernel: tf.Tensor2D, x: tf.SymbolicTensor, own: tf.layers.Layer[]): tf.SymbolicTensor {
  const layer = tf.layers.dense({ units: kernel.shape[1], useBias: false, name, trainable: false });
  const y = layer.apply(x) as tf.SymbolicTensor;
  layer.setWeights([kernel]);
  kernel.dispose();
  own.push(layer);
  return y;
}

/**
 * Consolidates library + chosen experts into one LayersModel, train-free. Input: [N, size, size, channels]
 * (the pool's: RGB or grey) in 0..255; output: the chosen classes' logits, concatenated in plan order.
 * With `unknown`, every expert of the pool runs (the unchosen ones stand for "the rest of the world") and the
 * output gains a last column, p(known): see UNKNOWN_TEMPERATURE.
 */
export function consolidate(pool: LoadedPool, names: readonly string[], options: { unknown?: boolean } = {}): ConsolidatedModel {
  const t0 = now();
  const custom = [...(pool.custom?.values() ?? [])].map((c) => ({ id: c.spec.id, label: c.spec.label }));
  const plan = planQuery(pool.manifest, names, custom);
  if (options.unknown) return withUnknownDetector(pool, plan, custom, t0);
  const graph = poolGraph(pool);
  const tGraft = now();
  const nodes = plan.parts.map((p) => expertNode(pool, p.expert));
  const graftMs = now() - tGraft;
  const q = ++graph.queries;
  const own: tf.layers.Layer[] = [];
  const logits = plan.parts.map((part, k) => {
    if (part.whole) return nodes[k].logits;
    const [kernel, bias] = nodes[k].fc.getWeights();
    const dense = tf.layers.dense({ units: part.keep.length, name: `q${q}_${layerPrefix(part.expert, k)}fc` });
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
  const pg = planGraph(graph, output, own);
  let disposed = false;
  const dispose = () => {
    if (disposed) return;
    disposed = true;
    own.forEach((l) => l.dispose());
  };
  return withLazyModel({
    graph: pg,
    ...weightCounts(pg.layers),
    labels: plan.labels, plan, buildMs: now() - t0, graftMs, dispose,
  }, 'poe_consolidated');
}

/** The normalisation layer's 3 + 3 fixed values are not parameters of the network. */
const NORMALIZE_PARAMS = 6;

function weightCounts(layers: readonly tf.layers.Layer[]): { params: number; bytes: number } {
  const all = layers.reduce((n, l) => n + l.countParams(), 0);
  return { params: all - NORMALIZE_PARAMS, bytes: 4 * all };
}

/** Adds `model`, a getter that builds the LayersModel the first time it is read (tf.model costs about a millisecond). */
function withLazyModel(c: Omit<ConsolidatedModel, 'model'>, name: string): ConsolidatedModel {
  let model: tf.LayersModel | null = null;
  return Object.defineProperty(c, 'model', {
    get: () => (model ??= tf.model({ inputs: c.graph.input, outputs: c.graph.output, name })),
    enumerable: true,
  }) as ConsolidatedModel;
}

/** What the query's plan is compiled from: the pool graph's layers it reaches, their cache, and its own layers. */
function planGraph(graph: PoolGraph, output: tf.SymbolicTensor, own: tf.layers.Layer[]): PlanGraph {
  return { input: graph.input, output, layers: reachable(output), cache: graph.plans, fresh: new Set(own) };
}

/** The layers `output` depends on, each after the layers it reads (the input layer left out). */
function reachable(output: tf.SymbolicTensor): tf.layers.Layer[] {
  const order: tf.layers.Layer[] = [];
  const seen = new Set<tf.layers.Layer>();
  const visit = (layer: tf.layers.Layer) => {
    if (seen.has(layer)) return;
    seen.add(layer);
    const inbound = layer.inboundNodes[0]?.inboundLayers ?? [];
    if (!inbound.length) return; // the input layer
    inbound.forEach(visit);
    order.push(layer);
  };
  visit(output.sourceLayer);
  return order;
}

/** The chosen classes' logits, and p(known), computed from the logits of every class in the pool. */
function withUnknownDetector(pool: LoadedPool, plan: QueryPlan, custom: { id: string; label: string }[], t0: number): ConsolidatedModel {
  const everything = planQuery(pool.manifest, [...pool.manifest.experts.map((e) => e.name), ...custom.map((c) => c.id)], custom);
  const graph = poolGraph(pool);
  const tGraft = now();
  const nodes = everything.parts.map((p) => expertNode(pool, p.expert));
  const graftMs = now() - tGraft;
  const q = ++graph.queries;
  const offset = new Map<string, number>();
  everything.parts.reduce((at, p) => (offset.set(p.expert, at), at + p.keep.length), 0);
  const total = everything.labels.length;
  const columns = plan.parts.flatMap((p) => p.keep.map((i) => offset.get(p.expert)! + i));
  const chosen = new Float32Array(total * plan.labels.length);
  columns.forEach((col, j) => (chosen[col * plan.labels.length + j] = 1));
  const isChosen = new Float32Array(total);
  columns.forEach((col) => (isChosen[col] = 1));
  const scale = new Float32Array(total * total);
  for (let i = 0; i < total; i++) scale[i * total + i] = 1 / UNKNOWN_TEMPERATURE;
  const own: tf.layers.Layer[] = [];
  const keep = <T extends tf.layers.Layer>(l: T) => (own.push(l), l);
  const all = nodes.length > 1 ? keep(tf.layers.concatenate({ name: `q${q}_all_logits` })).apply(nodes.map((n) => n.logits)) as tf.SymbolicTensor : nodes[0].logits;
  // 0/1 matrices copy and sum columns exactly, in layers every runtime (and every export) has.
  const logits = fixedDense(`q${q}_chosen`, tf.tensor2d(chosen, [total, plan.labels.length]), all, own);
  const tempered = fixedDense(`q${q}_temperature`, tf.tensor2d(scale, [total, total]), all, own);
  const probs = keep(tf.layers.activation({ activation: 'softmax', name: `q${q}_softmax` })).apply(tempered) as tf.SymbolicTensor;
  const known = fixedDense(`q${q}_known`, tf.tensor2d(isChosen, [total, 1]), probs, own);
  const output = keep(tf.layers.concatenate({ name: `q${q}_logits_known` })).apply([logits, known]) as tf.SymbolicTensor;
  const pg = planGraph(graph, output, own);
  let disposed = false;
  const dispose = () => {
    if (disposed) return;
    disposed = true;
    own.forEach((l) => l.dispose());
  };
  const { bytes } = weightCounts(pg.layers);
  const params = weightCounts(pg.layers.filter((l) => !own.includes(l))).params; // the detector's fixed 0/1 matrices are no parameters
  return withLazyModel({
    graph: pg,
    bytes, params, labels: plan.labels, plan, buildMs: now() - t0, graftMs, dispose, unknown: { temperature: UNKNOWN_TEMPERATURE },
  }, 'poe_consolidated_unknown');
}
