import * as tf from '@tensorflow/tfjs';
import { PoeError } from '../../errors';

/** The TFLite operators a consolidated model needs: all in TFLite Micro's built-in set. */
export type TfliteOp =
  | 'CONV_2D' | 'DEPTHWISE_CONV_2D' | 'ADD' | 'PAD' | 'MEAN' | 'FULLY_CONNECTED'
  | 'CONCATENATION' | 'RESHAPE' | 'RELU' | 'SOFTMAX' | 'QUANTIZE' | 'DEQUANTIZE';

export type Activation = 'NONE' | 'RELU';

/** A tensor of the graph. Weights and biases carry float values; activations name the layer whose output they are. */
export interface GraphTensor {
  name: string;
  shape: number[];
  role: 'input' | 'activation' | 'weight' | 'bias' | 'int32';
  values?: Float32Array;
  ints?: Int32Array;
  /** Activations: the Keras layer whose output this tensor equals (for calibration). */
  layer?: string;
  /** Weights: the axis of the output channels (per-channel int8 quantisation). */
  channelAxis?: number;
}

export interface GraphOp {
  op: TfliteOp;
  inputs: number[];
  outputs: number[];
  activation: Activation;
  padding?: 'SAME' | 'VALID';
  strides?: [number, number];
  dilation?: [number, number];
  depthMultiplier?: number;
  axis?: number;
  newShape?: number[];
}

/** The consolidated model as a flat TFLite-shaped graph with float weights, batch 1. */
export interface TfliteGraph {
  tensors: GraphTensor[];
  ops: GraphOp[];
  input: number;
  output: number;
}

const FUSABLE: ReadonlySet<TfliteOp> = new Set(['CONV_2D', 'DEPTHWISE_CONV_2D', 'FULLY_CONNECTED', 'ADD', 'CONCATENATION']);
const pair = (v: unknown): [number, number] => (Array.isArray(v) ? [v[0], v[1]] : [v as number, v as number]);

function values(t: tf.Tensor, perm?: number[]): Float32Array {
  return tf.tidy(() => Float32Array.from((perm ? tf.transpose(t, perm) : t).dataSync()));
}

class GraphBuilder {
  tensors: GraphTensor[] = [];
  ops: GraphOp[] = [];
  add(t: GraphTensor): number {
    this.tensors.push(t);
    return this.tensors.length - 1;
  }
  activation(layer: tf.layers.Layer): number {
    const shape = (layer.outputShape as (number | null)[]).map((d) => d ?? 1);
    return this.add({ name: layer.name, shape, role: 'activation', layer: layer.name });
  }
  op(o: Omit<GraphOp, 'activation'> & { activation?: Activation }): void {
    this.ops.push({ activation: 'NONE', ...o });
  }
}

function activationOf(layer: tf.layers.Layer, cfg: Record<string, unknown>): Activation {
  const act = (cfg.activation as string | undefined) ?? 'linear';
  if (act === 'linear') return 'NONE';
  if (act === 'relu') return 'RELU';
  throw new PoeError('EXPORT_UNSUPPORTED', `Layer ${layer.name}: activation "${act}" has no TFLite translation here.`);
}

function convertLayer(g: GraphBuilder, layer: tf.layers.Layer, ins: number[]): number {
  const cfg = layer.getConfig() as Record<string, unknown>;
  const kind = layer.getClassName();
  const name = layer.name;
  const w = layer.getWeights();
  const rank = g.tensors[ins[0]].shape.length;
  const unsupported = () => new PoeError('EXPORT_UNSUPPORTED', `Layer ${name} (${kind}) has no TFLite translation here.`);
  switch (kind) {
    case 'Conv2D':
    case 'DepthwiseConv2D': {
      if (cfg.dataFormat && cfg.dataFormat !== 'channelsLast') throw unsupported();
      const [kh, kw, cin, cout] = w[0].shape as number[];
      const depthwise = kind === 'DepthwiseConv2D';
      const outChannels = depthwise ? cin * cout : cout;
      const kernel = depthwise
        ? g.add({ name: `${name}/kernel`, shape: [1, kh, kw, outChannels], role: 'weight', values: values(w[0]), channelAxis: 3 })
        : g.add({ name: `${name}/kernel`, shape: [cout, kh, kw, cin], role: 'weight', values: values(w[0], [3, 0, 1, 2]), channelAxis: 0 });
      const bias = g.add({ name: `${name}/bias`, shape: [outChannels], role: 'bias', values: cfg.useBias ? values(w[1]) : new Float32Array(outChannels) });
      const out = g.activation(layer);
      g.op({
        op: depthwise ? 'DEPTHWISE_CONV_2D' : 'CONV_2D', inputs: [ins[0], kernel, bias], outputs: [out],
        activation: activationOf(layer, cfg), padding: cfg.padding === 'same' ? 'SAME' : 'VALID',
        strides: pair(cfg.strides), dilation: pair(cfg.dilationRate ?? 1), depthMultiplier: depthwise ? cout : undefined,
      });
      return out;
    }
    case 'BatchNormalization': {
      // Pre-activation BN cannot fold into a convolution before it; a 1x1 depthwise convolution is the same affine map.
      const axis = Array.isArray(cfg.axis) ? cfg.axis[0] : cfg.axis;
      if (rank !== 4 || (axis !== -1 && axis !== 3)) throw unsupported();
      const c = w[w.length - 1].size;
      let i = 0;
      const gamma = cfg.scale ? values(w[i++]) : new Float32Array(c).fill(1);
      const beta = cfg.center ? values(w[i++]) : new Float32Array(c);
      const [mean, variance] = [values(w[i++]), values(w[i++])];
      const scale = gamma.map((gm, k) => gm / Math.sqrt(variance[k] + (cfg.epsilon as number)));
      const shift = beta.map((b, k) => b - mean[k] * scale[k]);
      const kernel = g.add({ name: `${name}/scale`, shape: [1, 1, 1, c], role: 'weight', values: scale, channelAxis: 3 });
      const bias = g.add({ name: `${name}/shift`, shape: [c], role: 'bias', values: shift });
      const out = g.activation(layer);
      g.op({ op: 'DEPTHWISE_CONV_2D', inputs: [ins[0], kernel, bias], outputs: [out], padding: 'VALID', strides: [1, 1], dilation: [1, 1], depthMultiplier: 1 });
      return out;
    }
    case 'Activation':
    case 'ReLU': {
      if (kind === 'ReLU' && cfg.maxValue != null) throw unsupported();
      if (kind === 'Activation' && cfg.activation === 'softmax' && rank === 2) {
        const out = g.activation(layer);
        g.op({ op: 'SOFTMAX', inputs: [ins[0]], outputs: [out] });
        return out;
      }
      if (activationOf(layer, kind === 'ReLU' ? { activation: 'relu' } : cfg) === 'NONE') return ins[0];
      const out = g.activation(layer);
      g.op({ op: 'RELU', inputs: [ins[0]], outputs: [out] });
      return out;
    }
    case 'Add': {
      let acc = ins[0];
      ins.slice(1).forEach((x, k) => {
        const out = k === ins.length - 2 ? g.activation(layer) : g.add({ ...g.tensors[acc], name: `${name}/${k}`, layer: undefined });
        g.op({ op: 'ADD', inputs: [acc, x], outputs: [out] });
        acc = out;
      });
      return acc;
    }
    case 'ZeroPadding2D': {
      const [[t, b], [l, r]] = cfg.padding as number[][];
      const pads = g.add({ name: `${name}/paddings`, shape: [4, 2], role: 'int32', ints: Int32Array.from([0, 0, t, b, l, r, 0, 0]) });
      const out = g.activation(layer);
      g.op({ op: 'PAD', inputs: [ins[0], pads], outputs: [out] });
      return out;
    }
    case 'GlobalAveragePooling2D': {
      const axes = g.add({ name: `${name}/axes`, shape: [2], role: 'int32', ints: Int32Array.from([1, 2]) });
      const out = g.activation(layer);
      g.op({ op: 'MEAN', inputs: [ins[0], axes], outputs: [out] });
      return out;
    }
    case 'Flatten': {
      if (rank === 2) return ins[0];
      const out = g.activation(layer);
      const newShape = [1, g.tensors[out].shape[1]];
      const shape = g.add({ name: `${name}/shape`, shape: [2], role: 'int32', ints: Int32Array.from(newShape) });
      g.op({ op: 'RESHAPE', inputs: [ins[0], shape], outputs: [out], newShape });
      return out;
    }
    case 'Dense': {
      if (rank !== 2) throw unsupported();
      const [inputs, units] = w[0].shape as number[];
      const kernel = g.add({ name: `${name}/kernel`, shape: [units, inputs], role: 'weight', values: values(w[0], [1, 0]), channelAxis: 0 });
      const bias = g.add({ name: `${name}/bias`, shape: [units], role: 'bias', values: cfg.useBias ? values(w[1]) : new Float32Array(units) });
      const out = g.activation(layer);
      g.op({ op: 'FULLY_CONNECTED', inputs: [ins[0], kernel, bias], outputs: [out], activation: activationOf(layer, cfg) });
      return out;
    }
    case 'Concatenate': {
      const axis = cfg.axis as number;
      if (axis !== -1 && axis !== rank - 1) throw unsupported();
      const out = g.activation(layer);
      g.op({ op: 'CONCATENATION', inputs: ins, outputs: [out], axis: rank - 1 });
      return out;
    }
  }
  throw unsupported();
}

/** A RELU right after an op that can fuse it, and the only reader of that op's output, becomes the op's fused activation. */
function fuseRelus(g: GraphBuilder, output: number): void {
  const readers = new Map<number, number>();
  for (const o of g.ops) for (const i of o.inputs) readers.set(i, (readers.get(i) ?? 0) + 1);
  const producer = new Map(g.ops.map((o) => [o.outputs[0], o]));
  g.ops = g.ops.filter((o) => {
    if (o.op !== 'RELU') return true;
    const p = producer.get(o.inputs[0]);
    if (!p || !FUSABLE.has(p.op) || p.activation !== 'NONE' || readers.get(o.inputs[0]) !== 1 || o.inputs[0] === output) return true;
    p.activation = 'RELU';
    p.outputs = o.outputs;
    producer.set(o.outputs[0], p);
    return false;
  });
}

/** Drops tensors no op uses and renumbers the rest. */
function compact(g: GraphBuilder, input: number, output: number): TfliteGraph {
  const used = new Set<number>([input, output]);
  for (const o of g.ops) [...o.inputs, ...o.outputs].forEach((i) => used.add(i));
  const index = new Map<number, number>();
  const tensors: GraphTensor[] = [];
  g.tensors.forEach((t, i) => { if (used.has(i)) { index.set(i, tensors.length); tensors.push(t); } });
  const ops = g.ops.map((o) => ({ ...o, inputs: o.inputs.map((i) => index.get(i)!), outputs: o.outputs.map((i) => index.get(i)!) }));
  return { tensors, ops, input: index.get(input)!, output: index.get(output)! };
}

/** Translates a LayersModel of the consolidated kind (one input, one output) into a TFLite-shaped graph. */
export function tfliteGraph(model: tf.LayersModel): TfliteGraph {
  if (model.inputLayers?.length !== 1 || model.outputLayers?.length !== 1)
    throw new PoeError('EXPORT_UNSUPPORTED', `TFLite export takes a functional model with one input and one output (model ${model.name} is not one).`);
  const g = new GraphBuilder();
  const inLayer = model.inputLayers[0];
  const input = g.add({ name: 'pixels', shape: (inLayer.outputShape as (number | null)[]).map((d) => d ?? 1), role: 'input', layer: inLayer.name });
  const out = new Map<string, number>([[inLayer.name, input]]);
  for (const layer of model.layers) {
    if (out.has(layer.name)) continue;
    const ins = layer.inboundNodes[0].inboundLayers.map((l) => out.get(l.name));
    if (ins.some((t) => t == null)) throw new PoeError('EXPORT_UNSUPPORTED', `Layer ${layer.name} comes before its inputs.`);
    out.set(layer.name, convertLayer(g, layer, ins as number[]));
  }
  const output = out.get(model.outputLayers[0].name)!;
  fuseRelus(g, output);
  return compact(g, input, output);
}
