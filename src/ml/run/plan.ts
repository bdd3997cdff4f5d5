import * as tf from '@tensorflow/tfjs';

/**
 * A consolidated model compiled into a flat list of raw TF.js ops, run instead of LayersModel.predict:
 * no layer bookkeeping per call, every convolution a fused kernel with its bias and ReLU, the
 * pre-activation batch norms as 1x1 depthwise convolutions with the ReLU after them fused in (an
 * XNNPACK kernel on wasm, where FusedBatchNorm is slow), and zero padding folded into the convolution
 * that reads it. The weights are the model's own tensors (not copied); only the batch norms' folded
 * scale and shift and the merged heads are new. A plan compiled from a pool graph takes each layer's
 * compiled form from the graph's PlanCache (made once per pool, at prepare()), so a query only wires
 * steps together and merges its heads; dispose() frees what the plan made itself. Downloads keep
 * exporting the LayersModel.
 */

type Pad = 'valid' | 'same' | [[number, number], [number, number], [number, number], [number, number]];

type Step =
  | { op: 'conv'; depthwise: boolean; x: number; out: number; filter: tf.Tensor4D; bias?: tf.Tensor1D; strides: [number, number]; dilations: [number, number]; pad: Pad; relu: boolean }
  | { op: 'dense'; x: number; out: number; kernel: tf.Tensor2D; bias?: tf.Tensor1D; relu: boolean }
  | { op: 'add'; xs: number[]; out: number; relu: boolean }
  | { op: 'relu'; x: number; out: number }
  | { op: 'pad'; x: number; out: number; pad: [[number, number], [number, number]] }
  | { op: 'mean'; x: number; out: number }
  | { op: 'flatten'; x: number; out: number }
  | { op: 'concat'; xs: number[]; out: number; axis: number }
  | { op: 'softmax'; x: number; out: number };

const pair = (v: unknown): [number, number] => (Array.isArray(v) ? [v[0], v[1]] : [v as number, v as number]);

/** Thrown inside compile for a layer the plan has no op for; compilePlan then returns null (predict stays on the LayersModel). */
class Unsupported extends Error {}

export class CompiledPlan {
  /** Shapes as a LayersModel reports them, so the plan runs wherever the model did (run/predict.ts). */
  readonly inputs: { shape: (number | null)[] }[];
  readonly outputs: { shape: (number | null)[] }[];
  readonly steps: readonly Step[];
  readonly compileMs: number;
  readonly #owned: tf.Tensor[];
  readonly #slots: number;
  readonly #output: number;

  constructor(graph: PlanGraph, steps: Step[], slots: number, output: number, owned: tf.Tensor[], compileMs: number) {
    this.inputs = [{ shape: graph.input.shape }];
    this.outputs = [{ shape: graph.output.shape }];
    this.steps = steps;
    this.#slots = slots;
    this.#output = output;
    this.#owned = owned;
    this.compileMs = compileMs;
  }

  /** The model's output for a float32 NHWC batch. Call inside tf.tidy: intermediate tensors are left to it. */
  predict(x: tf.Tensor): tf.Tensor {
    const v: tf.Tensor[] = new Array(this.#slots);
    v[0] = x;
    for (const s of this.steps) {
      switch (s.op) {
        case 'conv': {
          const args = { x: v[s.x] as tf.Tensor4D, filter: s.filter, strides: s.strides, dilations: s.dilations, bias: s.bias, activation: s.relu ? 'relu' as const : 'linear' as const };
          v[s.out] = s.depthwise ? tf.fused.depthwiseConv2d({ ...args, pad: s.pad as 'valid' | 'same' }) : tf.fused.conv2d({ ...args, pad: s.pad });
          break;
        }
        case 'dense':
          v[s.out] = tf.fused.matMul({ a: v[s.x] as tf.Tensor2D, b: s.kernel, bias: s.bias, activation: s.relu ? 'relu' : 'linear' });
          break;
        case 'add': {
          const sum = s.xs.length === 2 ? tf.add(v[s.xs[0]], v[s.xs[1]]) : tf.addN(s.xs.map((i) => v[i]));
          v[s.out] = s.relu ? tf.relu(sum) : sum;
          break;
        }
        case 'relu': v[s.out] = tf.relu(v[s.x]); break;
        case 'pad': v[s.out] = tf.pad(v[s.x], [[0, 0], s.pad[0], s.pad[1], [0, 0]]); break;
        case 'mean': v[s.out] = tf.mean(v[s.x], [1, 2]); break;
        case 'flatten': v[s.out] = tf.reshape(v[s.x], [v[s.x].shape[0], -1]); break;
        case 'concat': v[s.out] = tf.concat(s.xs.map((i) => v[i]), s.axis); break;
        case 'softmax': v[s.out] = tf.softmax(v[s.x]); break;
      }
    }
    return v[this.#output];
  }

  /** Frees the tensors this plan made (the model's weights stay with the model, cached folds with their PlanCache). */
  dispose(): void {
    for (const t of this.#owned) t.dispose();
    this.#owned.length = 0;
  }
}

function compileLayer(layer: tf.layers.Layer, xs: number[], out: number, owned: tf.Tensor[]): Step | number {
  const cfg = layer.getConfig() as Record<string, unknown>;
  const rank = layer.inboundNodes[0].inputTensors[0]?.shape.length;
  const w = layer.getWeights();
  const act = (cfg.activation as string | undefined) ?? 'linear';
  if (act !== 'linear' && act !== 'relu' && !(act === 'softmax' && layer.getClassName() === 'Activation')) throw new Unsupported();
  const relu = act === 'relu';
  switch (layer.getClassName()) {
    case 'Conv2D':
    case 'DepthwiseConv2D':
      if (cfg.dataFormat && cfg.dataFormat !== 'channelsLast') throw new Unsupported();
      return {
        op: 'conv', depthwise: layer.getClassName() === 'DepthwiseConv2D', x: xs[0], out, filter: w[0] as tf.Tensor4D,
        bias: cfg.useBias ? (w[1] as tf.Tensor1D) : undefined, strides: pair(cfg.strides), dilations: pair(cfg.dilationRate ?? 1),
        pad: cfg.padding === 'same' ? 'same' : 'valid', relu,
      };
    case 'BatchNormalization': {
      const axis = Array.isArray(cfg.axis) ? cfg.axis[0] : cfg.axis;
      if ((axis !== -1 && axis !== 3) || rank !== 4) throw new Unsupported();
      const [filter, bias] = tf.tidy(() => {
        let i = 0;
        const c = w[w.length - 1].size;
        const gamma = cfg.scale ? w[i++] : tf.ones([c]);
        const beta = cfg.center ? w[i++] : tf.zeros([c]);
        const scale = tf.div(gamma, tf.sqrt(tf.add(w[i + 1], cfg.epsilon as number)));
        return [tf.reshape(scale, [1, 1, c, 1]) as tf.Tensor4D, tf.sub(beta, tf.mul(w[i], scale)) as tf.Tensor1D];
      });
      owned.push(filter, bias);
      return { op: 'conv', depthwise: true, x: xs[0], out, filter, bias, strides: [1, 1], dilations: [1, 1], pad: 'valid', relu: false };
    }
    case 'Activation':
    case 'ReLU':
      if (layer.getClassName() === 'ReLU' && cfg.maxValue != null) throw new Unsupported();
      if (act === 'softmax') return { op: 'softmax', x: xs[0], out };
      return layer.getClassName() === 'ReLU' || relu ? { op: 'relu', x: xs[0], out } : xs[0];
    case 'Add':
      return { op: 'add', xs, out, relu: false };
    case 'ZeroPadding2D': {
      const [[t, b], [l, r]] = cfg.padding as number[][];
      return { op: 'pad', x: xs[0], out, pad: [[t, b], [l, r]] };
    }
    case 'GlobalAveragePooling2D':
      return { op: 'mean', x: xs[0], out };
    case 'Flatten':
      return { op: 'flatten', x: xs[0], out };
    case 'Dense':
      if (rank !== 2) throw new Unsupported();
      return { op: 'dense', x: xs[0], out, kernel: w[0] as tf.Tensor2D, bias: cfg.useBias ? (w[1] as tf.Tensor1D) : undefined, relu };
    case 'Concatenate':
      return { op: 'concat', xs, out, axis: -1 };
  }
  throw new Unsupported();
}

/** A ReLU whose input has no other reader folds into the conv, dense or add that made it; a pad read only by a 'valid' conv folds into it. */
function fuse(steps: Step[], output: number): Step[] {
  const readers = new Map<number, number>();
  const read = (i: number) => readers.set(i, (readers.get(i) ?? 0) + 1);
  for (const s of steps) ('xs' in s ? s.xs : [s.x]).forEach(read);
  const producer = new Map<number, Step>(steps.map((s) => [s.out, s]));
  const alone = (i: number) => readers.get(i) === 1 && i !== output;
  return steps.filter((s) => {
    if (s.op === 'relu') {
      const p = producer.get(s.x);
      if (p && (p.op === 'conv' || p.op === 'dense' || p.op === 'add') && !p.relu && alone(s.x)) {
        p.relu = true;
        p.out = s.out;
        producer.set(s.out, p);
        return false;
      }
    }
    // tf.fused.depthwiseConv2d takes no explicit padding: only regular convolutions absorb a pad.
    if (s.op === 'conv' && !s.depthwise && s.pad === 'valid') {
      const p = producer.get(s.x);
      if (p?.op === 'pad' && alone(s.x)) {
        readers.set(s.x, 0); // the pad step goes unread: dropped below
        s.pad = [[0, 0], p.pad[0], p.pad[1], [0, 0]];
        s.x = p.x;
      }
    }
    return true;
  }).filter((s) => s.op !== 'pad' || readers.get(s.out) !== 0 || s.out === output);
}

/**
 * The experts' heads as one: when the output concatenates n branches that each end in a 1x1 depthwise
 * convolution (a folded batch norm), a global mean and a dense layer, the branches' inputs are
 * concatenated once and run through one depthwise convolution, one mean and one dense layer whose
 * kernel is block-diagonal. Exact: every channel is still computed from its own branch alone (the
 * zero blocks add exact zeros). 3n + 1 kernels become 4.
 */
function mergeHeads(steps: Step[], output: number, slots: number, owned: tf.Tensor[]): { steps: Step[]; slots: number } {
  const last = steps.at(-1);
  if (!last || last.op !== 'concat' || last.out !== output || last.xs.length < 2) return { steps, slots };
  const producer = new Map<number, Step>(steps.map((st) => [st.out, st]));
  const readers = new Map<number, number>();
  for (const st of steps) for (const i of 'xs' in st ? st.xs : [st.x]) readers.set(i, (readers.get(i) ?? 0) + 1);
  type DenseStep = Extract<Step, { op: 'dense' }>;
  type ConvStep = Extract<Step, { op: 'conv' }>;
  const heads: { dense: DenseStep; mean: Step; conv: ConvStep }[] = [];
  for (const x of last.xs) {
    const dense = producer.get(x);
    const mean = dense?.op === 'dense' && !dense.relu && readers.get(dense.x) === 1 ? producer.get(dense.x) : undefined;
    const conv = mean?.op === 'mean' && readers.get(mean.x) === 1 ? producer.get(mean.x) : undefined;
    if (dense?.op !== 'dense' || mean?.op !== 'mean' || conv?.op !== 'conv' || !conv.depthwise || conv.pad !== 'valid'
      || conv.filter.shape[0] !== 1 || conv.filter.shape[1] !== 1 || conv.filter.shape[3] !== 1
      || conv.strides.some((v) => v !== 1) || conv.dilations.some((v) => v !== 1)) return { steps, slots };
    heads.push({ dense, mean, conv });
  }
  if (heads.some((h) => h.conv.relu !== heads[0].conv.relu)) return { steps, slots };
  const widths = heads.map((h) => h.dense.kernel.shape[1]);
  const total = widths.reduce((a, b) => a + b, 0);
  const [filter, convBias, kernel, bias] = tf.tidy(() => {
    let at = 0;
    const blocks = heads.map((h, i) => {
      const k = tf.pad(h.dense.kernel, [[0, 0], [at, total - at - widths[i]]]);
      at += widths[i];
      return k;
    });
    const channels = (h: (typeof heads)[number]) => h.conv.filter.shape[2];
    return [
      tf.concat(heads.map((h) => h.conv.filter), 2) as tf.Tensor4D,
      tf.concat(heads.map((h) => h.conv.bias ?? tf.zeros([channels(h)]))) as tf.Tensor1D,
      tf.concat(blocks, 0) as tf.Tensor2D,
      tf.concat(heads.map((h, i) => h.dense.bias ?? tf.zeros([widths[i]]))) as tf.Tensor1D,
    ];
  });
  owned.push(filter, convBias, kernel, bias);
  const gone = new Set<Step>([last, ...heads.flatMap((h) => [h.dense, h.mean, h.conv])]);
  const [a, b, c] = [slots, slots + 1, slots + 2];
  return {
    slots: slots + 3,
    steps: [
      ...steps.filter((st) => !gone.has(st)),
      { op: 'concat', xs: heads.map((h) => h.conv.x), out: a, axis: -1 },
      { op: 'conv', depthwise: true, x: a, out: b, filter, bias: convBias, strides: [1, 1], dilations: [1, 1], pad: 'valid', relu: heads[0].conv.relu },
      { op: 'mean', x: b, out: c },
      { op: 'dense', x: c, out: output, kernel, bias, relu: false },
    ],
  };
}

/**
 * A graph to compile: `layers` are the layers between input and output (the input layer left out), in an
 * order where every layer comes after the layers it reads.
 */
export interface PlanGraph {
  input: tf.SymbolicTensor;
  output: tf.SymbolicTensor;
  layers: readonly tf.layers.Layer[];
  /** Where the compiled form of shared layers is kept from one compilation to the next (the pool graph's). */
  cache?: PlanCache;
  /** Layers of this query alone (never cached: they die with it). */
  fresh?: ReadonlySet<tf.layers.Layer>;
}

type Template = { step: Step; owned: tf.Tensor[] } | 'identity';

/**
 * The compiled form of each layer of a pool graph, kept with the graph: a query then reuses the folded
 * batch norms and read configurations instead of redoing them (most of a compilation's time otherwise).
 * The folded tensors belong to the cache: forget() a layer before disposing it, dispose() with the graph.
 */
export class PlanCache {
  readonly #templates = new Map<tf.layers.Layer, Template>();

  get size(): number {
    return this.#templates.size;
  }

  /** The layer's compiled form, compiled now if it was not yet. */
  of(layer: tf.layers.Layer): Template {
    let t = this.#templates.get(layer);
    if (!t) {
      t = template(layer);
      this.#templates.set(layer, t);
    }
    return t;
  }

  /** Compiles these layers now (at pool load: the first query then pays for none); layers the plan cannot run are skipped. */
  warm(layers: Iterable<tf.layers.Layer>): void {
    for (const l of layers) {
      try {
        this.of(l);
      } catch (e) {
        if (!(e instanceof Unsupported)) throw e;
      }
    }
  }

  forget(layers: Iterable<tf.layers.Layer>): void {
    for (const l of layers) {
      const t = this.#templates.get(l);
      if (t && t !== 'identity') t.owned.forEach((x) => x.dispose());
      this.#templates.delete(l);
    }
  }

  dispose(): void {
    this.forget([...this.#templates.keys()]);
  }
}

/** A step compiled with placeholder slots, then given this use's slots (a fresh object: fuse() edits steps). */
function place(step: Step, xs: number[], out: number): Step {
  return 'xs' in step ? { ...step, xs, out } : { ...step, x: xs[0], out };
}

function template(layer: tf.layers.Layer): Template {
  const owned: tf.Tensor[] = [];
  const arity = layer.inboundNodes[0]?.inboundLayers.length ?? 0;
  try {
    const step = compileLayer(layer, Array.from({ length: arity }, (_, i) => -1 - i), -1, owned);
    return typeof step === 'number' ? 'identity' : { step, owned };
  } catch (e) {
    owned.forEach((t) => t.dispose());
    throw e;
  }
}

/** The graph of a LayersModel with one input and one output. */
export function modelGraph(model: tf.LayersModel): PlanGraph | null {
  if (model.inputLayers?.length !== 1 || model.outputLayers?.length !== 1) return null;
  return { input: model.inputs[0], output: model.outputs[0], layers: model.layers.filter((l) => l !== model.inputLayers[0]) };
}

/**
 * Compiles a consolidated model, or its graph (one input, one output, the layer kinds pools are made of), into
 * a plan; null for anything else, which then keeps running through LayersModel.predict.
 */
export function compilePlan(source: tf.LayersModel | PlanGraph): CompiledPlan | null {
  const t0 = (globalThis.performance ?? Date).now();
  const graph = source instanceof tf.LayersModel ? modelGraph(source) : source;
  if (!graph) return null;
  const owned: tf.Tensor[] = [];
  try {
    const slot = new Map<tf.layers.Layer, number>([[graph.input.sourceLayer, 0]]);
    let slots = 1;
    const steps: Step[] = [];
    for (const layer of graph.layers) {
      const xs = layer.inboundNodes[0].inboundLayers.map((l) => slot.get(l));
      if (xs.some((i) => i === undefined)) throw new Unsupported();
      let t: Template;
      if (graph.cache && !graph.fresh?.has(layer)) t = graph.cache.of(layer);
      else {
        t = template(layer);
        if (t !== 'identity') owned.push(...t.owned);
      }
      if (t === 'identity') slot.set(layer, xs[0]!); // the layer's output is its input
      else {
        steps.push(place(t.step, xs as number[], slots));
        slot.set(layer, slots++);
      }
    }
    const output = slot.get(graph.output.sourceLayer);
    if (output === undefined) throw new Unsupported();
    const merged = mergeHeads(fuse(steps, output), output, slots, owned);
    return new CompiledPlan(graph, merged.steps, merged.slots, output, owned, (globalThis.performance ?? Date).now() - t0);
  } catch (e) {
    owned.forEach((t) => t.dispose());
    if (e instanceof Unsupported) return null;
    throw e;
  }
}
