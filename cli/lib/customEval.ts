import * as tf from '@tensorflow/tfjs';
import { pickImages } from '../../src/ml/run/imageInput';
import { rng, trainSoftmaxHead, type Calibration, type TrainOptions } from '../../src/ml/custom/customTrain';
import { PoeError } from '../../src/ml/errors';
import { argmaxRows } from '../../src/ml/run/predict';
import type { Pool } from '../../src/ml/pool';
import type { CifarSplit } from './cifar';

/**
 * `npm run evaluate -- --custom apple --shots 20`: a CIFAR-100 class outside the query plays the
 * user's own class. Training images and negatives come from the training split only; the report
 * split (test, or val for choosing settings) only measures.
 */
export interface CustomEvalOptions {
  query: string[];
  custom: string;
  shots: number;
  negativesPerClass: number;
  calibrations: Calibration[];
  train: TrainOptions;
  seed: number;
}

export interface CalibrationResult {
  calibration: Calibration;
  newClassRecall: number;
  othersTop1After: number;
  /** Errors on the report images of the query's classes and the new one where the winner is another expert's logit. */
  crossExpertErrors: number;
  /** Query images taken by the new class, and new-class images taken by a query class. */
  stolen: number;
  lost: number;
  trainSeconds: number;
}

/** Up to `n` indices of class `k` in a split, in a seeded random order. */
function pick(split: CifarSplit, k: number, n: number, seed: number): number[] {
  const all: number[] = [];
  for (let i = 0; i < split.count; i++) if (split.fine[i] === k) all.push(i);
  const r = rng(seed + k);
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [all[i], all[j]] = [all[j], all[i]];
  }
  return all.slice(0, n);
}

function gatherImages(split: CifarSplit, idx: number[]): Uint8Array {
  return pickImages(split.images, 3072, idx);
}

const seconds = (ms: number) => Math.round(ms) / 1000;

export async function evaluateCustom(p: Pool, train: CifarSplit, report: CifarSplit, o: CustomEvalOptions) {
  const cls = p.manifest.classes.find((c) => c.name === o.custom);
  if (!cls) throw new PoeError('SELECTION_UNKNOWN', `--custom must name a CIFAR-100 class, not "${o.custom}".`);
  const before = p.consolidate(o.query);
  const plan = before.plan;
  if (plan.classIndices.includes(cls.index)) {
    before.dispose();
    throw new PoeError('SELECTION_UNKNOWN', `--custom ${o.custom} is in the query: pick a class outside it.`);
  }

  // Negatives: N training images of every class but the new one.
  const negIdx = p.manifest.classes.filter((c) => c.index !== cls.index).flatMap((c) => pick(train, c.index, o.negativesPerClass, o.seed));
  p.customClasses.setNegatives({ images: gatherImages(train, negIdx), labels: negIdx.map((i) => train.fine[i]), count: negIdx.length });
  const neg = await p.customClasses.prepare();
  const posIdx = pick(train, cls.index, o.shots, o.seed + 1000);
  const positives = gatherImages(train, posIdx);

  // The report images: the query's classes and the new class; column order = plan order + new class last.
  const column = new Map(plan.classIndices.map((k, i) => [k, i]));
  column.set(cls.index, plan.labels.length);
  const expertOf = [...plan.parts.flatMap((p, e) => p.keep.map(() => e)), plan.parts.length];
  const repIdx: number[] = [];
  for (let i = 0; i < report.count; i++) if (column.has(report.fine[i])) repIdx.push(i);
  const repImages = gatherImages(report, repIdx);
  const truth = repIdx.map((i) => column.get(report.fine[i])!);
  const newCol = plan.labels.length;

  const score = (pred: ArrayLike<number>) => {
    let others = 0, othersRight = 0, mine = 0, mineRight = 0, cross = 0, crossOnQuery = 0, stolen = 0, lost = 0;
    truth.forEach((t, j) => {
      const p = pred[j];
      if (t === newCol) { mine++; if (p === t) mineRight++; else lost++; } else { others++; if (p === t) othersRight++; if (p === newCol) stolen++; }
      if (p !== t && expertOf[p] !== expertOf[t]) { cross++; if (t !== newCol) crossOnQuery++; }
    });
    return { recall: mineRight / mine, othersTop1: othersRight / others, cross, crossOnQuery, stolen, lost, images: { others, mine } };
  };

  const beforePred = argmaxRows(await before.predictLogits(repImages, repIdx.length), plan.labels.length);
  before.dispose();
  const base = score(Array.from(beforePred)); // the new class's images are necessarily wrong here
  const results: CalibrationResult[] = [];
  for (const calibration of o.calibrations) {
    const spec = await p.customClasses.train(`${o.custom} (yours)`, positives, { ...o.train, calibration, excludeClasses: [o.custom], seed: o.seed });
    const after = p.consolidate([...o.query, spec.id]);
    const pred = argmaxRows(await after.predictLogits(repImages, repIdx.length), newCol + 1);
    after.dispose();
    p.customClasses.remove(spec.id);
    const s = score(pred);
    results.push({ calibration, newClassRecall: s.recall, othersTop1After: s.othersTop1, crossExpertErrors: s.cross, stolen: s.stolen, lost: s.lost, trainSeconds: seconds(spec.trainMs) });
  }

  // Teachable-Machine-style baseline: one softmax head over the query's classes and the new one, `shots` images each.
  const t0 = performance.now();
  const tmIdx = [...plan.classIndices, cls.index].flatMap((k) => pick(train, k, o.shots, o.seed + 2000));
  const tmFeat = await p.customClasses.features(gatherImages(train, tmIdx), tmIdx.length);
  const tmFlip = await p.customClasses.features(gatherImages(train, tmIdx), tmIdx.length, { flip: true });
  const tmX = tf.concat([tmFeat, tmFlip]);
  const tmLabels = Int32Array.from([...tmIdx, ...tmIdx], (i) => column.get(train.fine[i])!);
  const tm = await trainSoftmaxHead(tmX, tmLabels, newCol + 1, { ...o.train, seed: o.seed });
  const tmMs = performance.now() - t0;
  [tmFeat, tmFlip, tmX].forEach((t) => t.dispose());
  const repFeat = await p.customClasses.features(repImages, repIdx.length);
  const tmScore = score(tm.predict(repFeat));
  repFeat.dispose();
  tm.dispose();

  const main = results.find((r) => r.calibration === 'joint') ?? results[0];
  return {
    query: o.query, custom: o.custom, shots: o.shots, split: report === train ? 'train' : undefined,
    reportImages: base.images, negatives: negIdx.length, negativesPrepSeconds: seconds(neg.prepareMs), poolLogitStats: neg.poolLogitStats,
    calibration: main.calibration,
    newClassRecall: main.newClassRecall, othersTop1Before: base.othersTop1, othersTop1After: main.othersTop1After, trainSeconds: main.trainSeconds,
    /** Before: on the query's images only (the new class's images have no right answer then). */
    crossExpertErrorsBeforeOnQueryImages: base.crossOnQuery, crossExpertErrorsAfter: main.crossExpertErrors,
    calibrations: results,
    baseline: { method: 'teachable-machine-style softmax head over the query classes + the new one', imagesPerClass: o.shots, newClassRecall: tmScore.recall, othersTop1: tmScore.othersTop1, trainSeconds: seconds(tmMs) },
    targets: {
      newClassRecall: { target: '>= 0.70', met: main.newClassRecall >= 0.7 },
      othersTop1Drop: { target: '<= 2 points', drop: +(100 * (base.othersTop1 - main.othersTop1After)).toFixed(2), met: base.othersTop1 - main.othersTop1After <= 0.02 },
      trainSeconds: { target: '< 10', met: main.trainSeconds < 10 },
    },
    settings: { ...o.train, negativesPerClass: o.negativesPerClass, seed: o.seed },
  };
}
