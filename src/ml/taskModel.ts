import * as tf from '@tensorflow/tfjs';
import { measureAccuracy, type AccuracyReport } from './accuracy';
import type { ConsolidatedModel } from './consolidate';
import { PoeError } from './errors';
import { modelFiles, type ModelFiles, type WeightPrecision } from './exportModel';
import { modelInput, type ImageInput } from './imageInput';
import { onnxFiles, type OnnxFiles } from './onnxExport';
import { channelCount, imageKind, type PoolManifest } from './poolManifest';
import { predictLogits, topK, type Prediction } from './predict';
import type { QueryPlan } from './selection';
import { tfliteFiles, type CalibrationImages, type TfliteFiles, type TfliteOptions, type TflitePrecision } from './tflite/export';

export type ExportFormat = 'tfjs' | 'onnx';

/**
 * A consolidated classifier for the chosen classes. Its layers belong to the pool's shared graph:
 * free it with dispose(), never by disposing `model`, and before the pool that made it.
 */
export class TaskModel implements ConsolidatedModel {
  readonly model: tf.LayersModel;
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
  private readonly release: () => void;
  private disposed = false;

  constructor(c: ConsolidatedModel, private readonly manifest: PoolManifest) {
    ({ model: this.model, labels: this.labels, plan: this.plan, params: this.params, buildMs: this.buildMs, graftMs: this.graftMs } = c);
    this.release = c.dispose;
    this.bytes = 4 * this.model.weights.reduce((n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 0), 1), 0);
    this.sizePx = manifest.input.sizePx;
    this.channels = channelCount(manifest.input);
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
    return predictLogits(this.model, images, count, this.sizePx, this.channels);
  }

  /** The k most probable classes of one image (any size: its centre square is scaled to the model's input). */
  async classify(image: ImageInput, k = 5): Promise<Prediction[]> {
    this.live();
    const logits = tf.tidy(() => this.model.predict(modelInput(image, this.sizePx, this.channels)) as tf.Tensor);
    try {
      return topK(await logits.data(), this.labels, k);
    } finally {
      logits.dispose();
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
    return measureAccuracy(this, images, classIndex, this.sizePx, this.channels);
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
    this.release();
  };
}
