import { compileTflite, tfliteLogits } from '../../src/io/litert';
import { argmaxRows } from '../../src/ml/run/predict';
import { pickImages } from '../../src/ml/run/imageInput';
import type { TflitePrecision } from '../../src/ml/export/tflite/export';
import type { Pool } from '../../src/node';
import { startLiteRtNode } from '../../src/node/litert';
import type { PoolCalibration } from './calibration';

export interface TfliteResult {
  query: string[];
  classes: number;
  images: number;
  /** The in-memory TF.js model on the same images. */
  tfjsTop1: number;
  /** agreement: share of images whose top-1 class is the TF.js model's. */
  tflite: { precision: TflitePrecision; bytes: number; top1: number; dropPoints: number; agreement: number }[];
}

export interface LabelledImages { images: Uint8Array; labels: number[] }

/** The test images minus any that calibrate int8 (matched by content), so no calibration image is measured. */
export function withoutCalibrationImages(test: LabelledImages, cal: PoolCalibration): LabelledImages & { removed: number } {
  const per = test.images.length / test.labels.length;
  const seen = new Set<string>();
  for (let i = 0; i < cal.count; i++) seen.add(Buffer.from(cal.images.subarray(i * per, (i + 1) * per)).toString('base64'));
  const keep = test.labels.flatMap((_, i) => (seen.has(Buffer.from(test.images.subarray(i * per, (i + 1) * per)).toString('base64')) ? [] : [i]));
  return { images: pickImages(test.images, per, keep), labels: keep.map((i) => test.labels[i]), removed: test.labels.length - keep.length };
}

/** Top-1 of the query's exported .tflite files, run by Google's LiteRT.js, beside the TF.js model, on the query's test images. */
export async function evaluateTflite(pool: Pool, test: LabelledImages, query: string[], precisions: TflitePrecision[], cal: PoolCalibration, equalize = true): Promise<TfliteResult> {
  await startLiteRtNode();
  const c = pool.consolidate(query);
  try {
    const column = new Map(c.plan.classIndices.map((k, j) => [k, j]));
    const per = test.images.length / test.labels.length;
    const keep = test.labels.flatMap((l, i) => (column.has(l) ? [i] : []));
    const images = pickImages(test.images, per, keep);
    const truth = keep.map((i) => column.get(test.labels[i])!);
    const top1 = (guess: Int32Array) => truth.reduce((n, t, i) => n + Number(guess[i] === t), 0) / truth.length;
    const tfjsGuess = argmaxRows(await c.predictLogits(images, keep.length), c.labels.length);
    const tfjsTop1 = top1(tfjsGuess);
    const tflite: TfliteResult['tflite'] = [];
    for (const precision of precisions) {
      const files = await c.exportTflite(precision, precision === 'int8' ? cal : undefined, { equalize });
      const model = await compileTflite(files['model.tflite']);
      try {
        const guess = argmaxRows(await tfliteLogits(model, images, keep.length), c.labels.length);
        const t = top1(guess);
        const agreement = guess.reduce((n, g, i) => n + Number(g === tfjsGuess[i]), 0) / guess.length;
        tflite.push({ precision, bytes: files['model.tflite'].length, top1: t, dropPoints: 100 * (tfjsTop1 - t), agreement });
      } finally {
        model.delete();
      }
    }
    return { query, classes: c.labels.length, images: keep.length, tfjsTop1, tflite };
  } finally {
    c.dispose();
  }
}
