import * as flatbuffers from 'flatbuffers';
import {
  ActivationFunctionType, AddOptions, Buffer, BuiltinOperator, BuiltinOptions, ConcatenationOptions, Conv2DOptions,
  DepthwiseConv2DOptions, FullyConnectedOptions, Metadata, Model, Operator, OperatorCode, PadOptions, Padding,
  QuantizationParameters, ReducerOptions, ReshapeOptions, SoftmaxOptions, SubGraph, Tensor, TensorType,
} from './schema/generated/tflite_generated';
import type { GraphOp } from './graph';
import { PoeError } from '../../errors';

export { TensorType };

export interface Quantization {
  scale: number[];
  zeroPoint: number[];
  axis: number;
}

/** A tensor as it is written: its element type, its bytes when it is a constant, its quantisation when it has one. */
export interface FlatTensor {
  name: string;
  shape: number[];
  type: TensorType;
  data?: Uint8Array;
  quant?: Quantization;
  /** -1 where the runtime may resize (the batch). */
  shapeSignature?: number[];
}

export interface FlatOp extends GraphOp {
  version: number;
}

export interface FlatModel {
  tensors: FlatTensor[];
  ops: FlatOp[];
  inputs: number[];
  outputs: number[];
  description: string;
  metadata: { name: string; data: Uint8Array }[];
}

/** Constant data is aligned to 16 bytes, as TensorFlow's schema asks (force_align), so a microcontroller can read int32 and float in place. */
const DATA_ALIGN = 16;
const SCHEMA_VERSION = 3;

function dataVector(b: flatbuffers.Builder, data: Uint8Array): flatbuffers.Offset {
  b.startVector(1, data.length, DATA_ALIGN);
  for (let i = data.length - 1; i >= 0; i--) b.addInt8(data[i]);
  return b.endVector();
}

function quantization(b: flatbuffers.Builder, q: Quantization): flatbuffers.Offset {
  const scale = QuantizationParameters.createScaleVector(b, q.scale);
  const zeroPoint = QuantizationParameters.createZeroPointVector(b, q.zeroPoint.map(BigInt));
  QuantizationParameters.startQuantizationParameters(b);
  QuantizationParameters.addScale(b, scale);
  QuantizationParameters.addZeroPoint(b, zeroPoint);
  QuantizationParameters.addQuantizedDimension(b, q.axis);
  return QuantizationParameters.endQuantizationParameters(b);
}

const ACT = { NONE: ActivationFunctionType.NONE, RELU: ActivationFunctionType.RELU };
const PAD = { SAME: Padding.SAME, VALID: Padding.VALID };

function options(b: flatbuffers.Builder, o: FlatOp): [BuiltinOptions, flatbuffers.Offset] | undefined {
  const act = ACT[o.activation];
  switch (o.op) {
    case 'CONV_2D':
      return [BuiltinOptions.Conv2DOptions, Conv2DOptions.createConv2DOptions(b, PAD[o.padding!], o.strides![1], o.strides![0], act, o.dilation![1], o.dilation![0])];
    case 'DEPTHWISE_CONV_2D':
      return [BuiltinOptions.DepthwiseConv2DOptions, DepthwiseConv2DOptions.createDepthwiseConv2DOptions(
        b, PAD[o.padding!], o.strides![1], o.strides![0], o.depthMultiplier!, act, o.dilation![1], o.dilation![0])];
    case 'FULLY_CONNECTED':
      return [BuiltinOptions.FullyConnectedOptions, FullyConnectedOptions.createFullyConnectedOptions(b, act, 0, false)];
    case 'ADD':
      return [BuiltinOptions.AddOptions, AddOptions.createAddOptions(b, act)];
    case 'CONCATENATION':
      return [BuiltinOptions.ConcatenationOptions, ConcatenationOptions.createConcatenationOptions(b, o.axis!, act)];
    case 'PAD':
      PadOptions.startPadOptions(b);
      return [BuiltinOptions.PadOptions, PadOptions.endPadOptions(b)];
    case 'SOFTMAX':
      return [BuiltinOptions.SoftmaxOptions, SoftmaxOptions.createSoftmaxOptions(b, 1)];
    case 'MEAN':
      return [BuiltinOptions.ReducerOptions, ReducerOptions.createReducerOptions(b, false)];
    case 'RESHAPE':
      return [BuiltinOptions.ReshapeOptions, ReshapeOptions.createReshapeOptions(b, ReshapeOptions.createNewShapeVector(b, o.newShape!))];
    default:
      return undefined;
  }
}

/** Serialises a model with the flatbuffers library and the classes flatc generated from the schema. */
export function writeTflite(m: FlatModel): Uint8Array {
  const b = new flatbuffers.Builder(1024);
  // Buffer 0 is the empty sentinel every tensor without data points at.
  const buffers: flatbuffers.Offset[] = [Buffer.createBuffer(b, 0)];
  const bufferOf = (data: Uint8Array) => {
    buffers.push(Buffer.createBuffer(b, dataVector(b, data)));
    return buffers.length - 1;
  };
  const tensors = m.tensors.map((t) => {
    const buffer = t.data ? bufferOf(t.data) : 0;
    const name = b.createString(t.name);
    const shape = Tensor.createShapeVector(b, t.shape);
    const signature = t.shapeSignature ? Tensor.createShapeSignatureVector(b, t.shapeSignature) : 0;
    const quant = t.quant ? quantization(b, t.quant) : 0;
    Tensor.startTensor(b);
    Tensor.addShape(b, shape);
    Tensor.addType(b, t.type);
    Tensor.addBuffer(b, buffer);
    Tensor.addName(b, name);
    if (quant) Tensor.addQuantization(b, quant);
    if (signature) Tensor.addShapeSignature(b, signature);
    return Tensor.endTensor(b);
  });

  const codes: { op: GraphOp['op']; version: number }[] = [];
  const codeIndex = (o: FlatOp) => {
    let i = codes.findIndex((c) => c.op === o.op && c.version === o.version);
    if (i < 0) i = codes.push({ op: o.op, version: o.version }) - 1;
    return i;
  };
  const ops = m.ops.map((o) => {
    const opcode = codeIndex(o);
    const inputs = Operator.createInputsVector(b, o.inputs);
    const outputs = Operator.createOutputsVector(b, o.outputs);
    const opts = options(b, o);
    Operator.startOperator(b);
    Operator.addOpcodeIndex(b, opcode);
    Operator.addInputs(b, inputs);
    Operator.addOutputs(b, outputs);
    if (opts) {
      Operator.addBuiltinOptionsType(b, opts[0]);
      Operator.addBuiltinOptions(b, opts[1]);
    }
    return Operator.endOperator(b);
  });
  const operatorCodes = codes.map((c) => {
    const code = BuiltinOperator[c.op];
    // Codes under 127 also go in the old one-byte field that older runtimes (and TFLite Micro) read.
    return OperatorCode.createOperatorCode(b, Math.min(code, 127), 0, c.version, code);
  });

  const subgraph = SubGraph.createSubGraph(
    b,
    SubGraph.createTensorsVector(b, tensors),
    SubGraph.createInputsVector(b, m.inputs),
    SubGraph.createOutputsVector(b, m.outputs),
    SubGraph.createOperatorsVector(b, ops),
    b.createString('main'),
  );
  const metadata = m.metadata.map((e) => {
    const buffer = bufferOf(e.data);
    return Metadata.createMetadata(b, b.createString(e.name), buffer);
  });
  const description = b.createString(m.description);
  const model = Model.createModel(
    b,
    SCHEMA_VERSION,
    Model.createOperatorCodesVector(b, operatorCodes),
    Model.createSubgraphsVector(b, [subgraph]),
    description,
    Model.createBuffersVector(b, buffers),
    0,
    Model.createMetadataVector(b, metadata),
  );
  Model.finishModelBuffer(b, model);
  return b.asUint8Array().slice();
}

/** Reads a written model back (tests, and the size and operator summary the download panel shows). */
export function readTflite(bytes: Uint8Array): Model {
  const bb = new flatbuffers.ByteBuffer(bytes);
  if (!Model.bufferHasIdentifier(bb)) throw new PoeError('MODEL_INVALID', 'This is not a TFLite model: its file identifier is not TFL3.');
  return Model.getRootAsModel(bb);
}
