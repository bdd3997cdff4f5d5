import { PoeError } from '../errors';
import { MAX_MODEL_JSON_BYTES, MAX_MODEL_LAYERS, MAX_REFERENCE_BYTES, parseJsonWithLimits } from './poolLimits';
import { channelCount, type PartFiles, type PoolManifest } from './poolManifest';

/**
 * Checks of what is inside a pool's verified files, before TensorFlow.js sees them: each model.json
 * is a plain LayersModel built only from the layer types below, its weight manifest describes exactly
 * the bytes of its weights file, every weight is a finite number, and reference.json has the shape
 * the device check reads. A checksum only proves a file is the one the manifest names; these prove
 * the manifest's author did not name something hostile.
 */

/** Every layer type the Python exporter writes, and a few plain ones other exporters of the same networks use. */
export const ALLOWED_LAYER_TYPES: ReadonlySet<string> = new Set([
  'InputLayer', 'Conv2D', 'DepthwiseConv2D', 'BatchNormalization', 'Activation', 'ReLU', 'Add', 'Concatenate',
  'ZeroPadding2D', 'MaxPooling2D', 'AveragePooling2D', 'GlobalAveragePooling2D', 'Flatten', 'Dropout', 'Dense',
]);
const ALLOWED_ACTIVATIONS: ReadonlySet<string> = new Set(['linear', 'relu', 'relu6', 'elu', 'selu', 'sigmoid', 'tanh', 'softmax', 'softplus', 'swish', 'gelu']);
const MODEL_CLASSES: ReadonlySet<string> = new Set(['Model', 'Functional']);
/** Largest dimension of one weight tensor; keeps element counts far from float precision trouble. */
const MAX_DIM = 1 << 24;

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32';
}
export interface CheckedModelJson {
  modelTopology: Record<string, unknown>;
  weightSpecs: WeightSpec[];
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses and checks one part's model.json against its weights; throws PoeError (MODEL_INVALID, WEIGHTS_INVALID, POOL_LIMIT). */
export function checkModelJson(modelBytes: Uint8Array, weights: Uint8Array, part: PartFiles, what: string): CheckedModelJson {
  const where = `The ${what} (${part.model.path})`;
  const bad = (msg: string) => new PoeError('MODEL_INVALID', `${where} ${msg}`);
  const json = parseJsonWithLimits(modelBytes, where, MAX_MODEL_JSON_BYTES, 'MODEL_INVALID');
  if (!isObj(json) || !isObj(json.modelTopology) || !Array.isArray(json.weightsManifest))
    throw bad('is not a TensorFlow.js LayersModel (no modelTopology or weightsManifest).');
  checkTopology(json.modelTopology, bad);
  const weightSpecs = checkWeightSpecs(json.weightsManifest, bad);
  const expected = weightSpecs.reduce((n, w) => n + 4 * w.shape.reduce((a, b) => a * b, 1), 0);
  if (expected !== weights.byteLength)
    throw new PoeError('MODEL_INVALID',
      `The ${what} weights (${part.weights.path}) hold ${weights.byteLength} bytes, but its model.json describes ${expected}.`);
  checkFinite(weights, weightSpecs, `The ${what} weights (${part.weights.path})`);
  return { modelTopology: json.modelTopology, weightSpecs };
}

function checkTopology(topology: Record<string, unknown>, bad: (msg: string) => PoeError): void {
  const config = topology.config;
  if (typeof topology.class_name !== 'string' || !MODEL_CLASSES.has(topology.class_name) || !isObj(config) || !Array.isArray(config.layers))
    throw bad('is not a functional LayersModel (modelTopology.class_name "Model" with a list of layers).');
  if (config.layers.length > MAX_MODEL_LAYERS) throw bad(`has ${config.layers.length} layers; at most ${MAX_MODEL_LAYERS} are accepted.`);
  for (const layer of config.layers) {
    if (!isObj(layer) || typeof layer.class_name !== 'string') throw bad('has a layer without a class_name.');
    if (!ALLOWED_LAYER_TYPES.has(layer.class_name))
      throw bad(`uses layer type ${JSON.stringify(layer.class_name.slice(0, 64))}, which pools may not contain (allowed: ${[...ALLOWED_LAYER_TYPES].join(', ')}).`);
    const size = isObj(layer.config) ? oversized(layer.config) : null;
    if (size) throw bad(`gives layer ${JSON.stringify(String(layer.name).slice(0, 64))} ${size}, beyond the ${MAX_LAYER_SIZE} a pool layer may have.`);
    const activation = isObj(layer.config) ? layer.config.activation : undefined;
    if (activation !== undefined && (typeof activation !== 'string' || !ALLOWED_ACTIVATIONS.has(activation)))
      throw bad(`uses activation ${JSON.stringify(activation).slice(0, 64)}, which pools may not contain.`);
  }
  checkGraph(config, config.layers as Record<string, unknown>[], bad);
}

const quoted = (v: unknown) => JSON.stringify(v)?.slice(0, 64) ?? String(v);

/**
 * The layer graph TF.js would build: unique layer names, every inbound, input and output reference naming a
 * node its layer has, and no cycle. TF.js's fromConfig loops forever, freezing the page, on a reference to a
 * node that does not exist and on a cycle, where it should fail.
 */
function checkGraph(config: Record<string, unknown>, layers: Record<string, unknown>[], bad: (msg: string) => PoeError): void {
  const nodeCount = new Map<string, number>();
  for (const layer of layers) {
    if (typeof layer.name !== 'string' || layer.name === '') throw bad('has a layer without a name.');
    if (nodeCount.has(layer.name)) throw bad(`has two layers named ${quoted(layer.name)}.`);
    const inbound = layer.inbound_nodes ?? [];
    if (!Array.isArray(inbound) || !inbound.every(Array.isArray)) throw bad(`gives layer ${quoted(layer.name)} inbound_nodes that are not lists.`);
    nodeCount.set(layer.name, layer.class_name === 'InputLayer' ? 1 : inbound.length);
  }
  const target = (ref: unknown, from: string): string => {
    if (!Array.isArray(ref) || typeof ref[0] !== 'string' || !Number.isInteger(ref[1]) || !Number.isInteger(ref[2]))
      throw bad(`has a malformed reference ${quoted(ref)} in ${from}.`);
    const count = nodeCount.get(ref[0]);
    if (count === undefined) throw bad(`refers in ${from} to a layer ${quoted(ref[0])} it does not have.`);
    if (ref[1] < 0 || ref[1] >= count || ref[2] !== 0)
      throw bad(`refers in ${from} to output ${ref[2]} of call ${ref[1]} of layer ${quoted(ref[0])}, which it does not have.`);
    return ref[0];
  };
  const inputsOf = new Map<string, Set<string>>();
  for (const layer of layers) {
    const from = `layer ${quoted(layer.name)}`;
    inputsOf.set(layer.name as string, new Set(((layer.inbound_nodes ?? []) as unknown[][]).flat().map((ref) => target(ref, from))));
  }
  for (const key of ['input_layers', 'output_layers']) {
    const refs = config[key];
    if (!Array.isArray(refs) || refs.length === 0) throw bad(`has no ${key}.`);
    for (const ref of refs) target(ref, key);
  }
  const built = new Set<string>();
  for (let progress = true; progress;) {
    progress = false;
    for (const [name, inputs] of inputsOf) {
      if (!built.has(name) && [...inputs].every((i) => built.has(i))) {
        built.add(name);
        progress = true;
      }
    }
  }
  const cyclic = [...inputsOf.keys()].find((name) => !built.has(name));
  if (cyclic !== undefined) throw bad(`has a cycle in its layer graph (through layer ${quoted(cyclic)}).`);
}

/** Largest unit, filter, kernel, stride or padding count a layer may declare: TF.js would allocate it before any weight check. */
const MAX_LAYER_SIZE = 4096;
const SIZE_KEYS = ['units', 'filters', 'kernel_size', 'strides', 'pool_size', 'depth_multiplier', 'padding', 'dilation_rate', 'batch_input_shape'];

function oversized(config: Record<string, unknown>): string | null {
  for (const key of SIZE_KEYS) {
    const values = [config[key]].flat(2).filter((v) => v !== null && v !== undefined);
    const big = values.find((v) => typeof v === 'number' && (!Number.isFinite(v) || Math.abs(v) > MAX_LAYER_SIZE));
    if (big !== undefined) return `${key} ${big}`;
  }
  return null;
}

function checkWeightSpecs(groups: unknown[], bad: (msg: string) => PoeError): WeightSpec[] {
  const specs: WeightSpec[] = [];
  for (const g of groups) {
    if (!isObj(g) || !Array.isArray(g.weights)) throw bad('has a weightsManifest group without a list of weights.');
    for (const w of g.weights) {
      if (!isObj(w) || typeof w.name !== 'string' || !Array.isArray(w.shape)) throw bad('has a weight entry without a name and shape.');
      if (w.dtype !== 'float32') throw bad(`has weight ${JSON.stringify(w.name.slice(0, 64))} of dtype ${JSON.stringify(w.dtype)}; pools hold float32 weights only.`);
      if (w.shape.length > 8 || !w.shape.every((d) => Number.isInteger(d) && (d as number) >= 0 && (d as number) <= MAX_DIM))
        throw bad(`has weight ${JSON.stringify(w.name.slice(0, 64))} with an impossible shape ${JSON.stringify(w.shape).slice(0, 64)}.`);
      specs.push({ name: w.name, shape: w.shape as number[], dtype: 'float32' });
    }
  }
  return specs;
}

function checkFinite(weights: Uint8Array, specs: WeightSpec[], where: string): void {
  const aligned = weights.byteOffset % 4 === 0 ? weights : weights.slice();
  const values = new Float32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 4);
  let at = 0;
  for (const spec of specs) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    for (let i = at; i < at + n; i++) {
      const v = values[i];
      if (v - v !== 0) // NaN or +-Infinity
        throw new PoeError('WEIGHTS_INVALID',
          `${where} hold ${v} in tensor "${spec.name.slice(0, 64)}" (element ${i - at}): the pool was exported from a diverged or damaged model.`);
    }
    at += n;
  }
}

/** reference.json: what the device check reads, in the shape it reads it. */
export function checkReferenceJson(bytes: Uint8Array, manifest: PoolManifest): void {
  const where = `The reference images (${manifest.reference?.path})`;
  const bad = (msg: string) => new PoeError('MANIFEST_INVALID', `${where} ${msg}`);
  const r = parseJsonWithLimits(bytes, where, MAX_REFERENCE_BYTES, 'MANIFEST_INVALID');
  if (!isObj(r) || !isObj(r.images) || !Array.isArray(r.images.shape) || typeof r.images.base64 !== 'string' || !Array.isArray(r.labels) || !isObj(r.logits))
    throw bad('are not in the reference format (images, labels, logits).');
  const [count, h, w, c] = r.images.shape as unknown[];
  const size = manifest.input.sizePx;
  const channels = channelCount(manifest.input);
  if (!Number.isInteger(count) || h !== size || w !== size || c !== channels || r.images.shape.length !== 4)
    throw bad(`have shape ${JSON.stringify(r.images.shape).slice(0, 64)}; expected [count, ${size}, ${size}, ${channels}].`);
  const k = count as number;
  if (Math.floor((r.images.base64.length * 3) / 4) - (r.images.base64.match(/=+$/)?.[0].length ?? 0) !== k * size * size * channels)
    throw bad(`do not hold ${k} images of ${size} x ${size} pixels.`);
  if (r.labels.length !== k) throw bad(`have ${r.labels.length} labels for ${k} images.`);
  for (const e of manifest.experts) {
    const rows = r.logits[e.name];
    if (!Array.isArray(rows) || rows.length !== k || !rows.every((row) => Array.isArray(row) && row.length === e.classes.length && row.every((x) => typeof x === 'number' && Number.isFinite(x))))
      throw bad(`have no ${k} x ${e.classes.length} logits for expert "${e.name}".`);
  }
}

/** Every content check of a bundle whose files already match the manifest's sizes and checksums. */
export function checkPoolContents(manifest: PoolManifest, files: Map<string, Uint8Array>): void {
  const parts: [PartFiles, string][] = [[manifest.library.files, 'library'], ...manifest.experts.map((e): [PartFiles, string] => [e.files, `expert "${e.name}"`])];
  for (const [part, what] of parts) checkModelJson(files.get(part.model.path)!, files.get(part.weights.path)!, part, what);
  if (manifest.reference) checkReferenceJson(files.get(manifest.reference.path)!, manifest);
}
