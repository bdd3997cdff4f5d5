import type { ConsolidatedModel } from './consolidate';
import { argmaxRows, predictLogits } from './predict';

export interface AccuracyReport {
  images: number;
  correct: number;
  top1: number;
  /** Errors where the winning logit belongs to a different expert than the true class. */
  crossExpertErrors: number;
  /** Indices (into the evaluated subset) of the misclassified images, with the predicted label. */
  mistakes: { image: number; predicted: string }[];
}

/**
 * Top-1 accuracy of a consolidated model on the images whose oracle class it covers.
 * images: NHWC uint8; classIndex: each image's oracle class index.
 */
export async function measureAccuracy(c: ConsolidatedModel, images: Uint8Array, classIndex: ArrayLike<number>, sizePx: number): Promise<AccuracyReport> {
  const column = new Map(c.plan.classIndices.map((k, i) => [k, i]));
  const expertOf: number[] = c.plan.parts.flatMap((p, e) => p.keep.map(() => e));
  const per = sizePx * sizePx * 3;
  const picked: number[] = [];
  for (let i = 0; i < classIndex.length; i++) if (column.has(classIndex[i])) picked.push(i);
  const subset = new Uint8Array(picked.length * per);
  picked.forEach((src, j) => subset.set(images.subarray(src * per, (src + 1) * per), j * per));
  const classes = c.labels.length;
  const pred = argmaxRows(await predictLogits(c.model, subset, picked.length, sizePx), classes);
  let correct = 0;
  let cross = 0;
  const mistakes: AccuracyReport['mistakes'] = [];
  picked.forEach((src, j) => {
    const truth = column.get(classIndex[src])!;
    if (pred[j] === truth) correct++;
    else {
      if (expertOf[pred[j]] !== expertOf[truth]) cross++;
      mistakes.push({ image: j, predicted: c.labels[pred[j]] });
    }
  });
  return { images: picked.length, correct, top1: picked.length ? correct / picked.length : NaN, crossExpertErrors: cross, mistakes };
}
