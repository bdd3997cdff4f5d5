import type * as tf from '@tensorflow/tfjs';
import { argmaxRows, predictLogits } from './predict';
import { pickImages } from './imageInput';
import type { QueryPlan } from '../graph/selection';

export interface ClassAccuracy {
  label: string;
  images: number;
  correct: number;
  top1: number;
}

export interface AccuracyReport {
  /** How many of the given images belong to the model's classes and were evaluated. */
  images: number;
  correct: number;
  top1: number;
  /** Errors where the winning logit belongs to a different expert than the true class. */
  crossExpertErrors: number;
  /** Input indices of the evaluated images, in order. */
  evaluated: number[];
  /** The misclassified images: input index, true and predicted label. */
  mistakes: { index: number; truth: string; predicted: string }[];
  /** Per class, in the model's output order. */
  perClass: ClassAccuracy[];
  /** confusion[truth][predicted], both in the model's output order. */
  confusion: number[][];
}

/** The parts of a consolidated model that evaluation reads; any LayersModel with the same outputs will do. */
export interface Evaluable {
  model: tf.LayersModel;
  labels: string[];
  plan: QueryPlan;
}

/** Logits of `count` NHWC uint8 images from any runtime (an exported file run elsewhere, for example). */
export type LogitsFn = (images: Uint8Array, count: number) => Promise<Float32Array>;
export type EvaluableRuntime = Omit<Evaluable, 'model'> & { logits: LogitsFn };

/**
 * Top-1 accuracy of a consolidated model on the images whose oracle class it covers (the others are
 * skipped). images: NHWC uint8, `channels` values per pixel; classIndex: each image's oracle class index.
 */
export async function measureAccuracy(c: Evaluable | EvaluableRuntime, images: Uint8Array, classIndex: ArrayLike<number>, sizePx: number, channels = 3): Promise<AccuracyReport> {
  const column = new Map(c.plan.classIndices.map((k, i) => [k, i]));
  const expertOf: number[] = c.plan.parts.flatMap((p, e) => p.keep.map(() => e));
  const per = sizePx * sizePx * channels;
  const evaluated: number[] = [];
  for (let i = 0; i < classIndex.length; i++) if (column.has(classIndex[i])) evaluated.push(i);
  const subset = pickImages(images, per, evaluated);
  const classes = c.labels.length;
  const out = 'logits' in c ? await c.logits(subset, evaluated.length) : await predictLogits(c.model, subset, evaluated.length, sizePx);
  // A model with the "none of these" detector has one column more (p(known)) after the logits.
  const pred = argmaxRows(out, classes, evaluated.length ? out.length / evaluated.length : classes);
  const confusion = c.labels.map(() => new Array<number>(classes).fill(0));
  let cross = 0;
  const mistakes: AccuracyReport['mistakes'] = [];
  evaluated.forEach((src, j) => {
    const truth = column.get(classIndex[src])!;
    confusion[truth][pred[j]]++;
    if (pred[j] !== truth) {
      if (expertOf[pred[j]] !== expertOf[truth]) cross++;
      mistakes.push({ index: src, truth: c.labels[truth], predicted: c.labels[pred[j]] });
    }
  });
  const perClass = c.labels.map((label, k) => {
    const images = confusion[k].reduce((a, b) => a + b, 0);
    return { label, images, correct: confusion[k][k], top1: images ? confusion[k][k] / images : NaN };
  });
  const correct = evaluated.length - mistakes.length;
  return {
    images: evaluated.length, correct, top1: evaluated.length ? correct / evaluated.length : NaN, crossExpertErrors: cross,
    evaluated, mistakes, perClass, confusion,
  };
}
