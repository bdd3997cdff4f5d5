import { float16Bits } from '../../util/float16';
import type { GraphOp, TfliteGraph } from './graph';
import { TensorType, type FlatModel, type FlatOp, type FlatTensor, type Quantization } from './write';
import { PoeError } from '../../errors';

export type TflitePrecision = 'float32' | 'float16' | 'int8';

/** Per activation tensor (by graph index): the smallest and largest value seen on the calibration images. */
export type Ranges = Map<number, [number, number]>;

const bytes = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Operator versions the kernels need for these types (TFLite's op resolver checks them; TFLite Micro ignores them). */
function version(op: GraphOp['op'], precision: TflitePrecision): number {
  if (op === 'DEQUANTIZE') return precision === 'float16' ? 3 : 2;
  if (precision !== 'int8') return 1;
  return { CONV_2D: 3, DEPTHWISE_CONV_2D: 3, FULLY_CONNECTED: 4, ADD: 2, CONCATENATION: 2, PAD: 2, MEAN: 2, RELU: 2, RESHAPE: 1, SOFTMAX: 2, QUANTIZE: 2 }[op];
}

function batchSignature(shape: number[]): number[] {
  return [-1, ...shape.slice(1)];
}

function floatModel(g: TfliteGraph, precision: 'float32' | 'float16'): FlatModel {
  const tensors: FlatTensor[] = [];
  const ops: FlatOp[] = [];
  const index = new Map<number, number>();
  // float16 weights go through a DEQUANTIZE to float32 (as TensorFlow's converter writes them), placed just
  // before the op that reads them so that their float32 copies are not all alive at once.
  const tensorOf = (i: number): number => {
    if (index.has(i)) return index.get(i)!;
    const t = g.tensors[i];
    let k: number;
    if (t.role === 'int32') k = tensors.push({ name: t.name, shape: t.shape, type: TensorType.INT32, data: bytes(t.ints!) }) - 1;
    else if ((t.role === 'weight' || t.role === 'bias') && precision === 'float32') k = tensors.push({ name: t.name, shape: t.shape, type: TensorType.FLOAT32, data: bytes(t.values!) }) - 1;
    else if (t.role === 'weight' || t.role === 'bias') {
      const half = tensors.push({ name: `${t.name}/f16`, shape: t.shape, type: TensorType.FLOAT16, data: bytes(float16Bits(t.values!)) }) - 1;
      k = tensors.push({ name: t.name, shape: t.shape, type: TensorType.FLOAT32 }) - 1;
      ops.push({ op: 'DEQUANTIZE', inputs: [half], outputs: [k], activation: 'NONE', version: version('DEQUANTIZE', precision) });
    } else k = tensors.push({ name: t.name, shape: t.shape, type: TensorType.FLOAT32, shapeSignature: batchSignature(t.shape) }) - 1;
    index.set(i, k);
    return k;
  };
  const input = tensorOf(g.input);
  for (const o of g.ops) {
    const inputs = o.inputs.map(tensorOf);
    ops.push({ ...o, inputs, outputs: o.outputs.map(tensorOf), version: version(o.op, precision) });
  }
  const output = tensorOf(g.output);
  tensors[output].name = 'logits';
  return { tensors, ops, inputs: [input], outputs: [output], description: '', metadata: [] };
}

/** Asymmetric int8 parameters for a range that always holds 0 (so zero padding and ReLU are exact). */
export function activationQuant(min: number, max: number): Quantization {
  const lo = Math.min(min, 0);
  const hi = Math.max(max, 0);
  const scale = hi > lo ? (hi - lo) / 255 : 1;
  const zeroPoint = Math.max(-128, Math.min(127, Math.round(-128 - lo / scale)));
  return { scale: [scale], zeroPoint: [zeroPoint], axis: 0 };
}

/** Symmetric int8 weights, one scale per output channel (or one for the tensor), zero point 0. */
function quantizeWeights(values: Float32Array, shape: number[], axis: number | undefined): { q: Int8Array; scale: number[] } {
  const channels = axis == null ? 1 : shape[axis];
  const inner = axis == null ? 1 : shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const channelOf = (i: number) => (axis == null ? 0 : Math.floor(i / inner) % channels);
  const maxAbs = new Array<number>(channels).fill(0);
  values.forEach((v, i) => { const c = channelOf(i); maxAbs[c] = Math.max(maxAbs[c], Math.abs(v)); });
  const scale = maxAbs.map((m) => (m > 0 ? m / 127 : 1));
  const q = new Int8Array(values.length);
  values.forEach((v, i) => { q[i] = Math.max(-127, Math.min(127, Math.round(v / scale[channelOf(i)]))); });
  return { q, scale };
}

/**
 * Full-integer int8 as TFLite Micro runs it: uint8 pixels in (0..255, scale 1), a QUANTIZE to int8, int8
 * activations (per tensor, calibrated), int8 weights (per output channel for convolutions, per tensor for
 * the fully connected heads), int32 biases, and a DEQUANTIZE to float32 logits at the end.
 */
function int8Model(g: TfliteGraph, ranges: Ranges): FlatModel {
  const quant = new Map<number, Quantization>();
  const rangeOf = (i: number) => {
    const r = ranges.get(i);
    if (!r) throw new PoeError('EXPORT_UNSUPPORTED', `The int8 calibration gave no range for tensor ${g.tensors[i].name}.`);
    return r;
  };
  quant.set(g.input, { scale: [1], zeroPoint: [-128], axis: 0 });
  for (const o of g.ops) {
    const out = o.outputs[0];
    // PAD and RESHAPE keep their input's parameters (TFLite requires it); CONCATENATION needs one set for all its inputs.
    if (o.op === 'PAD' || o.op === 'RESHAPE') quant.set(out, quant.get(o.inputs[0])!);
    else quant.set(out, activationQuant(...rangeOf(out)));
    // TFLite's int8 SOFTMAX writes probabilities at a fixed scale of 1/256.
    if (o.op === 'SOFTMAX') quant.set(out, { scale: [1 / 256], zeroPoint: [-128], axis: 0 });
    if (o.op === 'CONCATENATION' && out !== g.output) {
      const all = [out, ...o.inputs].map(rangeOf);
      const q = activationQuant(Math.min(...all.map((r) => r[0])), Math.max(...all.map((r) => r[1])));
      [out, ...o.inputs].forEach((i) => quant.set(i, q));
    }
  }

  const tensors: FlatTensor[] = [];
  const ops: FlatOp[] = [];
  const pixels = tensors.push({ name: 'pixels', shape: g.tensors[g.input].shape, type: TensorType.UINT8, quant: { scale: [1], zeroPoint: [0], axis: 0 }, shapeSignature: batchSignature(g.tensors[g.input].shape) }) - 1;
  const index = new Map<number, number>();
  const activation = (i: number) => {
    if (!index.has(i)) {
      const t = g.tensors[i];
      index.set(i, tensors.push({ name: t.name, shape: t.shape, type: TensorType.INT8, quant: quant.get(i)!, shapeSignature: batchSignature(t.shape) }) - 1);
    }
    return index.get(i)!;
  };
  ops.push({ op: 'QUANTIZE', inputs: [pixels], outputs: [activation(g.input)], activation: 'NONE', version: version('QUANTIZE', 'int8') });
  const pending = new Map<number, Float32Array>(); // a bias waits for its op's input and weight scales

  const outputOp = g.ops.find((o) => o.outputs[0] === g.output);
  // The last CONCATENATION (the heads, and p(known) beside them) runs in float32 on dequantised inputs:
  // each head keeps its own int8 scale, and a probability is not forced onto the logits' scale.
  const floatConcat = outputOp?.op === 'CONCATENATION';
  for (const o of g.ops) {
    if (floatConcat && o === outputOp) {
      const inputs = o.inputs.map((i) => {
        const f = tensors.push({ name: `${g.tensors[i].name}/float`, shape: g.tensors[i].shape, type: TensorType.FLOAT32 }) - 1;
        ops.push({ op: 'DEQUANTIZE', inputs: [activation(i)], outputs: [f], activation: 'NONE', version: version('DEQUANTIZE', 'int8') });
        return f;
      });
      const logits = tensors.push({ name: 'logits', shape: g.tensors[g.output].shape, type: TensorType.FLOAT32, shapeSignature: batchSignature(g.tensors[g.output].shape) }) - 1;
      ops.push({ ...o, inputs, outputs: [logits], version: 1 });
      return { tensors, ops, inputs: [pixels], outputs: [logits], description: '', metadata: [] };
    }
    const inputs = o.inputs.map((i, k) => {
      const t = g.tensors[i];
      if (t.role === 'int32') return tensors.push({ name: t.name, shape: t.shape, type: TensorType.INT32, data: bytes(t.ints!) }) - 1;
      if (t.role === 'weight') {
        const perChannel = o.op !== 'FULLY_CONNECTED';
        const { q, scale } = quantizeWeights(t.values!, t.shape, perChannel ? t.channelAxis : undefined);
        return tensors.push({ name: t.name, shape: t.shape, type: TensorType.INT8, data: bytes(q),
          quant: { scale, zeroPoint: scale.map(() => 0), axis: perChannel ? t.channelAxis! : 0 } }) - 1;
      }
      if (t.role === 'bias') {
        pending.set(k, t.values!);
        return -1;
      }
      return activation(i);
    });
    if (pending.size) {
      const [k, b] = [...pending][0];
      pending.clear();
      const inScale = tensors[inputs[0]].quant!.scale[0];
      const wScale = tensors[inputs[1]].quant!.scale;
      const scale = Array.from(b, (_, c) => inScale * wScale[wScale.length === 1 ? 0 : c]);
      const q = Int32Array.from(b, (v, c) => Math.round(v / scale[c]));
      inputs[k] = tensors.push({ name: g.tensors[o.inputs[k]].name, shape: [b.length], type: TensorType.INT32, data: bytes(q),
        quant: { scale, zeroPoint: scale.map(() => 0), axis: 0 } }) - 1;
    }
    ops.push({ ...o, inputs, outputs: o.outputs.map(activation), version: version(o.op, 'int8') });
  }
  const logits = tensors.push({ name: 'logits', shape: g.tensors[g.output].shape, type: TensorType.FLOAT32, shapeSignature: batchSignature(g.tensors[g.output].shape) }) - 1;
  ops.push({ op: 'DEQUANTIZE', inputs: [activation(g.output)], outputs: [logits], activation: 'NONE', version: version('DEQUANTIZE', 'int8') });
  return { tensors, ops, inputs: [pixels], outputs: [logits], description: '', metadata: [] };
}

/** The graph in the chosen precision, ready to write. int8 needs the calibration ranges of every activation. */
export function lowerGraph(g: TfliteGraph, precision: TflitePrecision, ranges?: Ranges): FlatModel {
  if (precision !== 'int8') return floatModel(g, precision);
  if (!ranges) throw new PoeError('EXPORT_UNSUPPORTED', 'An int8 model needs the calibration ranges of every activation.');
  return int8Model(g, ranges);
}
