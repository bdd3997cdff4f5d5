import type * as tf from '@tensorflow/tfjs';
import type { PlanCache } from '../run/plan';
import type { CustomExpertSpec } from '../custom/customSpec';
import type { PoolManifest } from './poolManifest';

/** A pool ready for consolidation: the library and every expert as TF.js LayersModels. */
export interface LoadedPool {
  manifest: PoolManifest;
  library: tf.LayersModel;
  experts: Map<string, tf.LayersModel>;
  /** Total bytes of the pool's files. */
  bytes: number;
  /** The user's own classes (customExpert.ts), keyed by id; consolidated like built-in experts. */
  custom?: Map<string, { spec: CustomExpertSpec; model: tf.LayersModel }>;
  /** The shared symbolic graph (poolGraph.ts), built on first use and freed with the pool. */
  graph: PoolGraph | null;
}

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
  /** Queries consolidated on this graph so far; numbers each query's own layer names. */
  queries: number;
  /** The layers' compiled form (folded batch norms), shared by every query's plan; freed with the graph. */
  plans: PlanCache;
}

export interface ExpertNode {
  /** Output of global average pooling, the input of the expert's final dense layer. */
  pooled: tf.SymbolicTensor;
  logits: tf.SymbolicTensor;
  fc: tf.layers.Layer;
  /** The layers grafted for this expert (a slice of PoolGraph.layers). */
  layers: tf.layers.Layer[];
}
