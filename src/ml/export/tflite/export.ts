import type { ConsolidatedModel } from '../../graph/consolidate';
import { PoeError } from '../../errors';
import { modelMetadata, type ModelMetadata } from '../exportModel';
import type { PoolManifest } from '../../pool/poolManifest';
import { peakActivationBytes } from './arena';
import { calibrate, type CalibrationImages } from './calibrate';
import { equalize } from './equalize';
import { arenaSuggestion, cSourcePair } from './cSource';
import { tfliteGraph } from './graph';
import { lowerGraph, type TflitePrecision } from './lower';
import { writeTflite } from './write';

export type { TflitePrecision } from './lower';
export type { CalibrationImages } from './calibrate';

export interface TfliteFiles {
  'model.tflite': Uint8Array;
  'metadata.json': string;
  /** int8 only: the model as a C array for TensorFlow Lite Micro. */
  'model_data.h'?: string;
  'model_data.cc'?: string;
}

export interface TfliteInfo {
  precision: TflitePrecision;
  operators: string[];
  /** Peak bytes of live activations: a lower bound for a TFLite Micro tensor arena. */
  tensorArenaBytes: number;
  suggestedArenaBytes: number;
  input: { dtype: 'float32' | 'uint8'; range: [number, number]; scale?: number; zeroPoint?: number };
  calibration?: string;
}

export interface TfliteOptions {
  /** int8: cross-layer equalisation before quantising (equalize.ts); default true. */
  equalize?: boolean;
}

export type TfliteMetadata = ModelMetadata & { modelFile: 'model.tflite'; tflite: TfliteInfo };

const utf8 = (s: string) => new TextEncoder().encode(s);

/**
 * The consolidated model as a LiteRT / TFLite flatbuffer: float32, float16 weights, or full-integer int8
 * (calibrated on `calibration`, the pool's sample or reference images). Input [1, S, S, C] pixels 0..255
 * (float32, or uint8 for int8), output float32 logits [1, K] in the order of metadata.json's labels.
 */
export async function tfliteFiles(c: ConsolidatedModel, manifest: PoolManifest, precision: TflitePrecision,
  calibration?: CalibrationImages & { about: string }, options: TfliteOptions = {}): Promise<TfliteFiles> {
  if (precision === 'int8' && (!calibration || calibration.count === 0))
    throw new PoeError('EXPORT_UNSUPPORTED', 'An int8 model needs calibration images (the pool\'s sample or reference images) to set its activation ranges; none were given.');
  let graph = tfliteGraph(c.model);
  let ranges;
  if (precision === 'int8') {
    const measured = await calibrate(c.model, graph, calibration!);
    if (options.equalize === false) ranges = measured.ranges;
    else ({ graph, calibration: { ranges } } = equalize(graph, measured));
  }
  const flat = lowerGraph(graph, precision, ranges);
  const operators = [...new Set(flat.ops.map((o) => o.op))];
  const arena = peakActivationBytes(flat);
  const base = modelMetadata(c, manifest, precision === 'int8' ? 'int8' : precision);
  const tflite: TfliteInfo = {
    precision, operators, tensorArenaBytes: arena, suggestedArenaBytes: arenaSuggestion(arena),
    input: precision === 'int8' ? { dtype: 'uint8', range: [0, 255], scale: 1, zeroPoint: 0 } : { dtype: 'float32', range: [0, 255] },
    ...(calibration && precision === 'int8' ? { calibration: `${calibration.count} ${calibration.about}` } : {}),
  };
  const shape = flat.tensors[flat.inputs[0]].shape;
  const metadata: TfliteMetadata = {
    ...base,
    input: { ...base.input, shape: [null, shape[1], shape[2], shape[3]], ...(precision === 'int8' ? { dtype: 'uint8' as const } : {}) },
    modelFile: 'model.tflite', tflite,
  };
  flat.description = `PoE Studio: ${c.labels.length} classes from pool ${manifest.name} ${manifest.version}, ${precision}. ${base.input.note}`;
  flat.metadata = [
    { name: 'labels', data: utf8(c.labels.join('\n')) },
    { name: 'poe.metadata', data: utf8(JSON.stringify(metadata)) },
  ];
  const model = writeTflite(flat);
  const files: TfliteFiles = { 'model.tflite': model, 'metadata.json': JSON.stringify(metadata, null, 2) };
  if (precision === 'int8')
    Object.assign(files, cSourcePair(model, { labels: c.labels, operators, arenaBytes: arena, inputShape: shape, about: `${c.labels.length} classes from pool ${manifest.name} ${manifest.version}, full-integer int8.` }));
  return files;
}
