import * as tf from '@tensorflow/tfjs';
import onnxProto, { type onnx as OnnxTypes } from 'onnx-proto';
import type { ConsolidatedModel } from '../graph/consolidate';
import { PoeError } from '../errors';
import { modelMetadata } from './exportModel';
import { float16Bits } from '../util/float16';
import { channelCount, type PoolManifest } from '../pool/poolManifest';

export type OnnxPrecision = 'float32' | 'float16';

export interface OnnxFiles {
  'model.onnx': Uint8Array;
  'metadata.json': string;
}

export const ONNX_OPSET = 17;
export const ONNX_INPUT = 'pixels';
export const ONNX_OUTPUT = 'logits';
const IR_VERSION = 8;
const { onnx } = onnxProto; // a CommonJS module: its namespace is the default export under ESM
const { DataType } = onnx.TensorProto;

type Attr = OnnxTypes.IAttributeProto;
const ints = (name: string, v: number[]): Attr => ({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: v });
const int = (name: string, v: number): Attr => ({ name, type: onnx.AttributeProto.AttributeType.INT, i: v });
const float = (name: string, v: number): Attr => ({ name, type: onnx.AttributeProto.AttributeType.FLOAT, f: v });

/**
 * Writes ONNX nodes for a TF.js graph. TF.js is NHWC; ONNX convolutions are NCHW, so the input is
 * transposed once and every 4-D tensor stays NCHW until the global pooling flattens it.
 */
class GraphWriter {
  nodes: OnnxTypes.INodeProto[] = [];
  initializers: OnnxTypes.ITensorProto[] = [];
  constructor(private precision: OnnxPrecision) {}

  /** One node; its single output is named like the node. */
  node(op: string, inputs: string[], name: string, attribute: Attr[] = []): string {
    this.nodes.push({ opType: op, input: inputs, output: [name], name, attribute });
    return name;
  }

  /** A float weight; stored as float16 (with a Cast back to float32) when asked, so inference stays float32. */
  weight(name: string, dims: number[], values: Float32Array): string {
    if (this.precision === 'float32') {
      this.initializers.push({ name, dims, dataType: DataType.FLOAT, rawData: bytes(values) });
      return name;
    }
    this.initializers.push({ name: `${name}_f16`, dims, dataType: DataType.FLOAT16, rawData: bytes(float16Bits(values)) });
    return this.node('Cast', [`${name}_f16`], name, [int('to', DataType.FLOAT)]);
  }

  int64s(name: string, values: number[]): string {
    this.initializers.push({ name, dims: [values.length], dataType: DataType.INT64, rawData: bytes(BigInt64Array.from(values.map(BigInt))) });
    return name;
  }
}

const bytes = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

function values(t: tf.Tensor): Float32Array {
  return Float32Array.from(t.dataSync());
}

/** (kh, kw, in, out) -> (out, in, kh, kw). */
function convKernel(t: tf.Tensor): { dims: number[]; data: Float32Array } {
  const [kh, kw, cin, cout] = t.shape;
  const data = tf.tidy(() => values(tf.transpose(t, [3, 2, 0, 1])));
  return { dims: [cout, cin, kh, kw], data };
}

/** (kh, kw, in, mult) -> (in * mult, 1, kh, kw): a grouped convolution with one group per input channel. */
function depthwiseKernel(t: tf.Tensor): { dims: number[]; data: Float32Array } {
  const [kh, kw, cin, mult] = t.shape;
  const data = tf.tidy(() => values(tf.transpose(t, [2, 3, 0, 1])));
  return { dims: [cin * mult, 1, kh, kw], data };
}

/** ONNX pads [top, left, bottom, right] for a TF.js 'same' or 'valid' convolution on an input of size h x w. */
function convPads(padding: string, [h, w]: number[], [kh, kw]: number[], [sh, sw]: number[], [dh, dw]: number[]): number[] {
  if (padding === 'valid') return [0, 0, 0, 0];
  const total = (size: number, k: number, s: number, d: number) => Math.max((Math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size, 0);
  const th = total(h, kh, sh, dh);
  const tw = total(w, kw, sw, dw);
  return [Math.floor(th / 2), Math.floor(tw / 2), th - Math.floor(th / 2), tw - Math.floor(tw / 2)];
}

const pair = (v: number | number[]) => (Array.isArray(v) ? v : [v, v]);

function activation(g: GraphWriter, x: string, act: string | undefined, name: string, rank: number): string {
  if (!act || act === 'linear') return x;
  if (act === 'relu') return g.node('Relu', [x], name);
  if (act === 'softmax' && rank === 2) return g.node('Softmax', [x], name, [int('axis', 1)]);
  throw new PoeError('EXPORT_UNSUPPORTED', `Layer ${name}: activation "${act}" has no ONNX translation here.`);
}

interface Converted {
  name: string;
  rank: number;
}

function convertLayer(g: GraphWriter, layer: tf.layers.Layer, inputs: Converted[]): Converted {
  const cfg = layer.getConfig() as Record<string, unknown>;
  const name = layer.name;
  const [x] = inputs;
  const kind = layer.getClassName();
  const w = layer.getWeights();
  switch (kind) {
    case 'Conv2D':
    case 'DepthwiseConv2D': {
      if (cfg.dataFormat && cfg.dataFormat !== 'channelsLast') break;
      const k = kind === 'Conv2D' ? convKernel(w[0]) : depthwiseKernel(w[0]);
      const hw = layer.inboundNodes[0].inputTensors[0].shape.slice(1, 3) as number[];
      const kernel = k.dims.slice(2);
      const strides = pair(cfg.strides as number | number[]);
      const dilations = pair((cfg.dilationRate as number | number[]) ?? 1);
      const attrs = [ints('kernel_shape', kernel), ints('strides', strides), ints('dilations', dilations),
        ints('pads', convPads(cfg.padding as string, hw, kernel, strides, dilations))];
      if (kind === 'DepthwiseConv2D') attrs.push(int('group', w[0].shape[2] as number));
      const ins = [x.name, g.weight(`${name}/kernel`, k.dims, k.data)];
      if (cfg.useBias) ins.push(g.weight(`${name}/bias`, [w[1].size], values(w[1])));
      const y = g.node('Conv', ins, name, attrs);
      return { name: activation(g, y, cfg.activation as string, `${name}/act`, 4), rank: 4 };
    }
    case 'BatchNormalization': {
      const axis = Array.isArray(cfg.axis) ? cfg.axis[0] : cfg.axis;
      if (x.rank !== 4 || (axis !== -1 && axis !== 3)) break;
      const c = w[w.length - 1].size;
      let i = 0;
      const gamma = cfg.scale ? values(w[i++]) : new Float32Array(c).fill(1);
      const beta = cfg.center ? values(w[i++]) : new Float32Array(c);
      const [mean, variance] = [values(w[i++]), values(w[i++])];
      const ins = [x.name, g.weight(`${name}/gamma`, [c], gamma), g.weight(`${name}/beta`, [c], beta),
        g.weight(`${name}/mean`, [c], mean), g.weight(`${name}/variance`, [c], variance)];
      return { name: g.node('BatchNormalization', ins, name, [float('epsilon', cfg.epsilon as number)]), rank: 4 };
    }
    case 'Activation':
      return { name: activation(g, x.name, cfg.activation as string, name, x.rank), rank: x.rank };
    case 'ReLU':
      if (cfg.maxValue != null) break;
      return { name: g.node('Relu', [x.name], name), rank: x.rank };
    case 'Add':
      return { name: g.node(inputs.length === 2 ? 'Add' : 'Sum', inputs.map((t) => t.name), name), rank: x.rank };
    case 'ZeroPadding2D': {
      const [[t, b], [l, r]] = cfg.padding as number[][];
      const pads = g.int64s(`${name}/pads`, [0, 0, t, l, 0, 0, b, r]);
      return { name: g.node('Pad', [x.name, pads], name), rank: 4 };
    }
    case 'GlobalAveragePooling2D': {
      const pooled = g.node('GlobalAveragePool', [x.name], name);
      return { name: g.node('Flatten', [pooled], `${name}/flatten`, [int('axis', 1)]), rank: 2 };
    }
    case 'Flatten': {
      if (x.rank === 2) return x;
      const nhwc = g.node('Transpose', [x.name], `${name}/nhwc`, [ints('perm', [0, 2, 3, 1])]);
      return { name: g.node('Flatten', [nhwc], name, [int('axis', 1)]), rank: 2 };
    }
    case 'Dense': {
      if (x.rank !== 2) break;
      const [units] = w[0].shape.slice(1);
      const ins = [x.name, g.weight(`${name}/kernel`, w[0].shape, values(w[0]))];
      if (cfg.useBias) ins.push(g.weight(`${name}/bias`, [units], values(w[1])));
      const y = g.node('Gemm', ins, name);
      return { name: activation(g, y, cfg.activation as string, `${name}/act`, 2), rank: 2 };
    }
    case 'Concatenate': {
      const axis = cfg.axis as number;
      if (axis !== -1 && axis !== x.rank - 1) break;
      return { name: g.node('Concat', inputs.map((t) => t.name), name, [int('axis', 1)]), rank: x.rank };
    }
  }
  throw new PoeError('EXPORT_UNSUPPORTED', `Layer ${name} (${kind}) has no ONNX translation here.`);
}

/**
 * The consolidated model as an ONNX model (opset 17): input `pixels` float32 [N, H, W, C], 0..255 (C: 3 RGB or 1 grey, the pool's),
 * normalised inside the graph; output `logits` float32 [N, K] in the order of `labels`.
 */
export function onnxModel(c: ConsolidatedModel, manifest: PoolManifest, precision: OnnxPrecision = 'float32'): Uint8Array {
  const g = new GraphWriter(precision);
  const model = c.model;
  const size = manifest.input.sizePx;
  const out = new Map<string, Converted>();
  out.set(model.inputLayers[0].name, { name: g.node('Transpose', [ONNX_INPUT], 'to_nchw', [ints('perm', [0, 3, 1, 2])]), rank: 4 });
  for (const layer of model.layers) {
    if (out.has(layer.name)) continue;
    const inputs = layer.inboundNodes[0].inboundLayers.map((l) => out.get(l.name));
    if (inputs.some((t) => !t)) throw new PoeError('EXPORT_UNSUPPORTED', `Layer ${layer.name} comes before its inputs.`);
    out.set(layer.name, convertLayer(g, layer, inputs as Converted[]));
  }
  const last = out.get(model.outputLayers[0].name)!;
  g.node('Identity', [last.name], ONNX_OUTPUT);
  const dim = (v: number | string) => (typeof v === 'string' ? { dimParam: v } : { dimValue: v });
  const valueInfo = (name: string, dims: (number | string)[]) => ({
    name, type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: dims.map(dim) } } },
  });
  const metadata = modelMetadata(c, manifest, precision);
  const proto = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'PoE Studio',
    producerVersion: `TensorFlow.js ${tf.version.tfjs}`,
    docString: `Pool of Experts model for ${c.labels.length} classes. ${metadata.input.note}`,
    graph: {
      name: 'poe_consolidated',
      node: g.nodes,
      initializer: g.initializers,
      input: [valueInfo(ONNX_INPUT, ['N', size, size, channelCount(manifest.input)])],
      output: [valueInfo(ONNX_OUTPUT, ['N', c.labels.length + (c.unknown ? 1 : 0)])],
    },
    metadataProps: [
      { key: 'labels', value: JSON.stringify(c.labels) },
      { key: 'poe.metadata', value: JSON.stringify(metadata) },
    ],
  });
  return onnx.ModelProto.encode(proto).finish();
}

/** model.onnx and the metadata.json (labels, input spec, pool) that ships beside it. */
export function onnxFiles(c: ConsolidatedModel, manifest: PoolManifest, precision: OnnxPrecision = 'float32'): OnnxFiles {
  return {
    'model.onnx': onnxModel(c, manifest, precision),
    'metadata.json': JSON.stringify({ ...modelMetadata(c, manifest, precision), modelFile: 'model.onnx', onnxOpset: ONNX_OPSET }, null, 2),
  };
}
