import * as tf from '@tensorflow/tfjs';
import { measureAccuracy, type AccuracyReport } from './run/accuracy';
import type { ConsolidatedModel } from './graph/consolidate';
import { PoeError } from './errors';
import { modelFiles, type ModelFiles, type WeightPrecision } from './export/exportModel';
import { modelInput, pickImages, type ImageInput } from './run/imageInput';
import { onnxFiles, type OnnxFiles } from './export/onnxExport';
import { channelCount, imageKind, type PoolManifest } from './pool/poolManifest';
import { compilePlan, type CompiledPlan } from './run/plan';
import { predictLogits, topK, type Prediction, type Predictor } from './run/predict';
import type { QueryPlan } from './graph/selection';
import { tfliteFiles, type CalibrationImages, type TfliteFiles, type TfliteOptions, type TflitePrecision } from './export/tflite/export';

export type ExportFormat = 'tfjs' | 'onnx';

export interface Identified {
  predictions: Prediction[];
  /** p(known): the probability, over every class of the pool, that the image is one of the chosen classes. */
  known: number | null;
  /** known is under the threshold: "none of these". */
  unknown: boolean;
}

export interface UnknownCalibration {
  threshold: number;
  knownImages: number;
  /** Share of the chosen classes' images kept (at or above the threshold). */
  knownKept: number;
  otherImages: number;
  /** Share of the other classes' images rejected (under the threshold). */
  othersRejected: number;
}

/**
 * A consolidated classifier for the chosen classes. Its layers belong to the pool's shared graph:
 * free it with dispose(), never by disposing `model`, and before the pool that made it.
 */
export class TaskModel implements ConsolidatedModel {
  readonly #c: ConsolidatedModel;
  readonly graph: ConsolidatedModel['graph'];
  /** Class names in output order. */
  readonly labels: string[];
  readonly plan: QueryPlan;
  /** Parameters of the network (the normalisation layer excluded). */
  readonly params: number;
  /** Bytes of the model's float32 weights (weights.bin of a float32 export). */
  readonly bytes: number;
  readonly buildMs: number;
  readonly graftMs: number;
  /** Side of the square input, in pixels. */
  readonly sizePx: number;
  /** Values per pixel of the input: 3 (RGB) or 1 (grey), as the pool's input spec says. */
  readonly channels: number;
  /**
   * The "none of these" detector, when the model was consolidated with `unknown: true`: the model's last
   * output column is p(known); an image whose p(known) is under `threshold` is none of the chosen classes.
   * threshold starts at 0 (nothing rejected) until calibrateUnknown() or a caller sets it.
   */
  readonly unknown?: { temperature: number; threshold: number };
  /** The compiled plan every prediction runs (run/plan.ts), or the LayersModel itself where a layer has no plan op. */
  readonly #runner: Predictor;
  readonly #compiled: CompiledPlan | null;
  /** Milliseconds spent compiling the plan (part of the time from selection to first prediction). */
  readonly compileMs: number;
  private readonly release: () => void;
  private disposed = false;

  constructor(c: ConsolidatedModel, private readonly manifest: PoolManifest) {
    this.#c = c;
    ({ graph: this.graph, labels: this.labels, plan: this.plan, params: this.params, bytes: this.bytes, buildMs: this.buildMs, graftMs: this.graftMs } = c);
    if (c.unknown) this.unknown = { temperature: c.unknown.temperature, threshold: 0 };
    this.release = c.dispose;
    this.#compiled = compilePlan(c.graph);
    this.#runner = this.#compiled ?? c.model;
    this.compileMs = this.#compiled?.compileMs ?? 0;
    this.sizePx = manifest.input.sizePx;
    this.channels = channelCount(manifest.input);
  }

  /** The model as a LayersModel (built on first use: predictions run the compiled plan). */
  get model(): tf.LayersModel {
    return this.#c.model;
  }

  /** Bytes of one input image: sizePx x sizePx x channels. */
  get imageBytes(): number {
    return this.channels * this.sizePx * this.sizePx;
  }

  private live(): void {
    if (this.disposed) throw new PoeError('MODEL_DISPOSED', 'This model was disposed; consolidate a new one.');
  }

  /** Logits of `count` images, NHWC uint8 of sizePx x sizePx x channels: Float32Array [count, labels.length]. */
  async predictLogits(images: Uint8Array, count = images.length / this.imageBytes): Promise<Float32Array> {
    this.live();
    const per = this.imageBytes;
    if (!Number.isInteger(count) || count < 0 || count * per !== images.length)
      throw new PoeError('IMAGE_INVALID',
        `predictLogits() got ${images.length} bytes for ${count} images; each ${imageKind(this.manifest.input)} image takes ${per} bytes.`);
    const out = await predictLogits(this.#runner, images, count, this.sizePx);
    return this.unknown ? this.split(out).logits : out;
  }

  /** Each image's p(known) from the detector (a model consolidated with `unknown: true`). */
  async predictKnown(images: Uint8Array, count = images.length / this.imageBytes): Promise<Float32Array> {
    return (await this.predictWithKnown(images, count)).known;
  }

  /** The logits and p(known) of each image in one pass (a model with the detector). */
  async predictWithKnown(images: Uint8Array, count = images.length / this.imageBytes): Promise<{ logits: Float32Array; known: Float32Array }> {
    this.live();
    if (!this.unknown) throw new PoeError('EXPORT_UNSUPPORTED', 'This model has no "none of these" detector: consolidate with { unknown: true }.');
    if (!Number.isInteger(count) || count < 0 || count * this.imageBytes !== images.length)
      throw new PoeError('IMAGE_INVALID', `predictKnown() got ${images.length} bytes for ${count} images; each ${imageKind(this.manifest.input)} image takes ${this.imageBytes} bytes.`);
    return this.split(await predictLogits(this.#runner, images, count, this.sizePx));
  }

  /** Rows of [logits..., p(known)] into the logits and the p(known) column. */
  private split(rows: Float32Array): { logits: Float32Array; known: Float32Array } {
    const k = this.labels.length;
    const n = rows.length / (k + 1);
    const logits = new Float32Array(n * k);
    const known = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      logits.set(rows.subarray(i * (k + 1), i * (k + 1) + k), i * k);
      known[i] = rows[i * (k + 1) + k];
    }
    return { logits, known };
  }

  /**
   * Sets the detector's threshold from labelled images (the pool's sample): the p(known) that keeps `keep`
   * (95 %) of the images of the chosen classes. Reports what that threshold does on these images.
   */
  async calibrateUnknown(images: Uint8Array, classIndex: ArrayLike<number>, keep = 0.95, maxOthers = 400): Promise<UnknownCalibration> {
    this.live();
    const chosen = new Set(this.plan.classIndices);
    const mineIdx: number[] = [];
    const otherIdx: number[] = [];
    for (let i = 0; i < classIndex.length; i++) (chosen.has(classIndex[i]) ? mineIdx : otherIdx).push(i);
    if (!mineIdx.length) throw new PoeError('IMAGE_INVALID', 'calibrateUnknown() needs images of the chosen classes; none of the given images is one.');
    // The threshold needs only the chosen classes' images; an even spread of the others shows what it rejects.
    const step = Math.max(1, Math.ceil(otherIdx.length / maxOthers));
    const spread = otherIdx.filter((_, j) => j % step === 0);
    const known = await this.predictKnown(pickImages(images, this.imageBytes, [...mineIdx, ...spread]), mineIdx.length + spread.length);
    const mine = Array.from(known.subarray(0, mineIdx.length)).sort((a, b) => a - b);
    const others = Array.from(known.subarray(mineIdx.length));
    const threshold = mine[Math.min(mine.length - 1, Math.floor((1 - keep) * mine.length))];
    this.unknown!.threshold = threshold;
    return { threshold, knownImages: mine.length, knownKept: mine.filter((p) => p >= threshold).length / mine.length,
      otherImages: others.length, othersRejected: others.length ? others.filter((p) => p < threshold).length / others.length : 0 };
  }

  /** Runs one blank image through the model without reading the result: the backend sets its kernels up now. */
  warmUp(): void {
    this.live();
    tf.dispose(tf.tidy(() => this.#runner.predict(tf.zeros([1, this.sizePx, this.sizePx, this.channels])) as tf.Tensor));
  }

  /** The k most probable classes of one image (any size: its centre square is scaled to the model's input). */
  async classify(image: ImageInput, k = 5): Promise<Prediction[]> {
    return (await this.identify(image, k)).predictions;
  }

  /** classify() with the detector's verdict: p(known) and whether it is under the threshold (null without a detector). */
  async identify(image: ImageInput, k = 5): Promise<Identified> {
    this.live();
    const out = tf.tidy(() => this.#runner.predict(modelInput(image, this.sizePx, this.channels)) as tf.Tensor);
    try {
      const row = await out.data();
      if (!this.unknown) return { predictions: topK(row, this.labels, k), known: null, unknown: false };
      const known = row[this.labels.length];
      return { predictions: topK(row.subarray(0, this.labels.length), this.labels, k), known, unknown: known < this.unknown.threshold };
    } finally {
      out.dispose();
    }
  }

  /**
   * Accuracy on labelled images (NHWC uint8, sizePx square, the pool's channels). labels: each image's class, as a name or as
   * the pool's class index; images of classes outside the model are skipped (see report.evaluated).
   */
  async evaluate(images: Uint8Array, labels: ArrayLike<number> | readonly string[]): Promise<AccuracyReport> {
    this.live();
    const indexOf = new Map(this.manifest.classes.map((c) => [c.name, c.index]));
    const classIndex = Array.from(labels as ArrayLike<number | string>, (l) => {
      if (typeof l === 'number') {
        // An index the pool does not have is an image of another class (skipped); a non-index is a mistake.
        if (!Number.isInteger(l) || l < 0) throw new PoeError('SELECTION_UNKNOWN', `Label ${l} given to evaluate() is not a class index (a whole number from 0).`);
        return l;
      }
      const k = indexOf.get(l);
      if (k === undefined) throw new PoeError('SELECTION_UNKNOWN', `Unknown class "${l}" in the labels given to evaluate(): labels are the pool's class names or indices.`);
      return k;
    });
    const count = images.length / this.imageBytes;
    if (!Number.isInteger(count))
      throw new PoeError('IMAGE_INVALID', `evaluate() got ${images.length} bytes, not a whole number of ${imageKind(this.manifest.input)} images.`);
    if (classIndex.length !== count)
      throw new PoeError('IMAGE_INVALID', `evaluate() got ${count} images but ${classIndex.length} labels.`);
    return measureAccuracy({ labels: this.labels, plan: this.plan, logits: (x, n) => this.predictLogits(x, n) }, images, classIndex, this.sizePx, this.channels);
  }

  /** The files of a downloadable model: TF.js (model.json, weights.bin, metadata.json) or ONNX (model.onnx, metadata.json). */
  export(precision?: WeightPrecision, format?: 'tfjs'): Promise<ModelFiles>;
  export(precision: WeightPrecision, format: ExportFormat): Promise<ModelFiles | OnnxFiles>;
  async export(precision: WeightPrecision = 'float32', format: ExportFormat = 'tfjs'): Promise<ModelFiles | OnnxFiles> {
    this.live();
    if (format === 'onnx') {
      if (precision === 'uint8') throw new PoeError('EXPORT_UNSUPPORTED', 'ONNX exports take float32 or float16 weights, not uint8.');
      return onnxFiles(this, this.manifest, precision);
    }
    return modelFiles(this, this.manifest, precision);
  }

  /**
   * The model as a LiteRT / TFLite file (and for int8 the C pair for TFLite Micro). int8 is calibrated on
   * `calibration`: images of the pool's input kind that are not the images you will measure it on.
   */
  async exportTflite(precision: TflitePrecision = 'float32', calibration?: CalibrationImages & { about: string }, options?: TfliteOptions): Promise<TfliteFiles> {
    this.live();
    if (!['float32', 'float16', 'int8'].includes(precision))
      throw new PoeError('EXPORT_UNSUPPORTED', `TFLite exports take float32, float16 or int8, not "${precision}".`);
    if (calibration && calibration.images.length !== calibration.count * this.imageBytes)
      throw new PoeError('IMAGE_INVALID', `The calibration images are ${calibration.images.length} bytes for ${calibration.count} images; each ${imageKind(this.manifest.input)} image takes ${this.imageBytes} bytes.`);
    return tfliteFiles(this, this.manifest, precision, calibration, options);
  }

  readonly dispose = (): void => {
    if (this.disposed) return;
    this.disposed = true;
    this.#compiled?.dispose(); // the plan's own tensors only: the model's layers belong to the pool
    this.release();
  };
}
