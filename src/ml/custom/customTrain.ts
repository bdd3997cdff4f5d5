import * as tf from '@tensorflow/tfjs';
import { weightCount } from './customExpert';
import type { NegativeSet } from './customFeatures';
import { PoeError } from '../errors';

/**
 * Trains a custom expert's head on cached library features. Only matMul, ReLU, mean and softplus
 * run under the gradient tape (the 1x1 conv is a matMul over positions), so it trains on every
 * TF.js backend, WASM included, which has no convolution filter gradient.
 *
 * Calibration (how the single new logit z is put on the pool's scale):
 * - 'none': binary cross-entropy, positives against negatives; z's scale is whatever it learns.
 * - 'stats': that plus a penalty pulling the mean and spread of z on positives (negatives) towards
 *   those of the pool experts' logits on their own (other) classes.
 * - 'joint': z is trained inside a softmax with the frozen pool's logits: on a positive it must beat
 *   logsumexp of the pool's logits (the whole pool), on a negative it must lose to the logit of the
 *   image's own class. Both reduce to softplus terms with a per-image threshold.
 */
export type Calibration = 'none' | 'stats' | 'joint';

export interface TrainOptions {
  hidden?: number;
  steps?: number;
  learningRate?: number;
  /** Negatives drawn per step (every step sees all positives). */
  negativesPerStep?: number;
  calibration?: Calibration;
  /** Weight of the statistics penalty ('stats'; also added to 'joint' when > 0). */
  statsWeight?: number;
  /** Weight of the negatives' loss term against the positives' (which is 1). */
  negativeWeight?: number;
  /** 'joint': a negative's logit must stay this far below its own class's logit. */
  margin?: number;
  /** Pool-logit columns (customFeatures.poolColumns) ignored, e.g. a class held out to play the user's class. */
  excludeColumns?: number[];
  seed?: number;
  onProgress?: (fraction: number) => void;
}

/** Chosen on the validation split (npm run evaluate -- --custom ... --report-split val). */
export const TRAIN_DEFAULTS = { hidden: 32, steps: 120, learningRate: 0.01, negativesPerStep: 128, calibration: 'joint' as Calibration, statsWeight: 0, negativeWeight: 8, margin: 2, seed: 1 };

export interface TrainResult {
  weights: Float32Array;
  hidden: number;
  ms: number;
  loss: number;
}

/** Deterministic uniform numbers in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const now = () => (globalThis.performance ?? Date).now();
/** Defaults, overridden by the options that are set (undefined ones keep the default). */
const settings = (options: TrainOptions) =>
  ({ ...TRAIN_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) }) as typeof TRAIN_DEFAULTS & TrainOptions;
const yieldToPage = () => new Promise<void>((r) => setTimeout(r, 0));

/** Per-image thresholds for 'joint': logsumexp of the pool's logits (positives) and the own-class logit (negatives). */
function thresholds(poolLogits: Float32Array, classes: number, labels: Int32Array | null, exclude: Set<number>): Float32Array {
  const n = poolLogits.length / classes;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const row = poolLogits.subarray(i * classes, (i + 1) * classes);
    if (labels) { out[i] = row[labels[i]]; continue; }
    let max = -Infinity;
    row.forEach((v, k) => { if (!exclude.has(k) && v > max) max = v; });
    let sum = 0;
    row.forEach((v, k) => { if (!exclude.has(k)) sum += Math.exp(v - max); });
    out[i] = max + Math.log(sum);
  }
  return out;
}

interface Head { w1: tf.Variable; b1: tf.Variable; w2: tf.Variable; b2: tf.Variable }

/** A variable from an initial value, which is then freed (tf.variable keeps its own reference to the data). */
function own(init: tf.Tensor): tf.Variable {
  const v = tf.variable(init);
  init.dispose();
  return v;
}

function initHead(channels: number, hidden: number, units: number, seed: number): Head {
  return {
    w1: own(tf.randomNormal([channels, hidden], 0, Math.sqrt(2 / channels), 'float32', seed)),
    b1: own(tf.zeros([hidden])),
    w2: own(tf.randomNormal([hidden, units], 0, Math.sqrt(1 / hidden), 'float32', seed + 1)),
    b2: own(tf.zeros([units])),
  };
}

/** Head logits [B, units] for standardised features [B, P, C]. */
function forward(h: Head, x: tf.Tensor3D): tf.Tensor2D {
  const [b, p, c] = x.shape;
  const hidden = tf.relu(tf.add(tf.matMul(tf.reshape(x, [b * p, c]), h.w1), h.b1));
  const pooled = tf.mean(tf.reshape(hidden, [b, p, h.b1.shape[0]]), 1) as tf.Tensor2D;
  return tf.add(tf.matMul(pooled, h.w2), h.b2);
}

/** Features [N, h, w, C] standardised per channel and flattened to [N, h*w, C]. */
function standardise(f: tf.Tensor4D, mean: Float32Array, std: Float32Array): tf.Tensor3D {
  return tf.tidy(() => {
    const [n, hh, ww, c] = f.shape;
    return tf.reshape(tf.div(tf.sub(f, tf.tensor1d(mean)), tf.tensor1d(std)), [n, hh * ww, c]) as tf.Tensor3D;
  });
}

/** The head's weights with the standardisation folded into the 1x1 conv: [w1 (C x H), b1, w2 (H x U), b2]. */
function foldWeights(h: Head, mean: Float32Array, std: Float32Array): Float32Array {
  const [c, k] = h.w1.shape;
  const w1 = h.w1.dataSync();
  const b1 = Float32Array.from(h.b1.dataSync());
  const out = new Float32Array(c * k + k + h.w2.size + h.b2.size);
  for (let i = 0; i < c; i++)
    for (let j = 0; j < k; j++) {
      out[i * k + j] = w1[i * k + j] / std[i];
      b1[j] -= (mean[i] / std[i]) * w1[i * k + j];
    }
  out.set(b1, c * k);
  out.set(h.w2.dataSync(), c * k + k);
  out.set(h.b2.dataSync(), c * k + k + h.w2.size);
  return out;
}

const sqr = (t: tf.Tensor) => tf.square(t);
function statsPenalty(z: tf.Tensor1D, mean: number, std: number): tf.Scalar {
  const m = tf.moments(z);
  return tf.add(sqr(tf.div(tf.sub(m.mean, mean), std)), sqr(tf.div(tf.sub(tf.sqrt(tf.add(m.variance, 1e-6)), std), std))) as tf.Scalar;
}

/**
 * Trains one custom expert. positives: features of the user's images (flipped copies welcome);
 * posPoolLogits: the pool's logits for them ([count, classes], needed for 'joint').
 */
export async function trainCustomExpert(positives: tf.Tensor4D, posPoolLogits: Float32Array, neg: NegativeSet, options: TrainOptions = {}): Promise<TrainResult> {
  const o = settings(options);
  const t0 = now();
  const exclude = new Set(o.excludeColumns ?? []);
  const channels = positives.shape[3];
  const head = initHead(channels, o.hidden, 1, o.seed);
  const optimizer = tf.train.adam(o.learningRate);
  const pos = standardise(positives, neg.featureMean, neg.featureStd);
  const negX = standardise(neg.features, neg.featureMean, neg.featureStd);
  const posT = tf.tensor1d(thresholds(posPoolLogits, neg.classes, null, exclude));
  const negThr = thresholds(neg.poolLogits, neg.classes, neg.labels, exclude);
  const random = rng(o.seed);
  const s = neg.stats;
  let loss = NaN;
  try {
    for (let step = 0; step < o.steps; step++) {
      const idx = Int32Array.from({ length: Math.min(o.negativesPerStep, neg.count) }, () => Math.floor(random() * neg.count));
      const value = tf.tidy(() => {
        const nx = tf.gather(negX, tf.tensor1d(idx, 'int32'));
        const negT = tf.tensor1d(Float32Array.from(idx, (i) => negThr[i]));
        return optimizer.minimize(() => {
          const zp = tf.reshape(forward(head, pos), [-1]) as tf.Tensor1D;
          const zn = tf.reshape(forward(head, nx), [-1]) as tf.Tensor1D;
          let l: tf.Scalar;
          if (o.calibration === 'joint')
            l = tf.add(tf.mean(tf.softplus(tf.sub(posT, zp))), tf.mul(o.negativeWeight, tf.mean(tf.softplus(tf.sub(tf.add(zn, o.margin), negT)))));
          else l = tf.add(tf.mean(tf.softplus(tf.neg(zp))), tf.mul(o.negativeWeight, tf.mean(tf.softplus(zn))));
          const w = o.calibration === 'stats' ? o.statsWeight || 0.1 : o.calibration === 'joint' ? o.statsWeight : 0;
          if (w > 0) l = tf.add(l, tf.mul(w, tf.add(statsPenalty(zp, s.ownMean, s.ownStd), statsPenalty(zn, s.otherMean, s.otherStd))));
          return l;
        }, true)!;
      });
      if (step === o.steps - 1) loss = (await value.data())[0];
      value.dispose();
      if (step % 10 === 9) {
        o.onProgress?.((step + 1) / o.steps);
        await yieldToPage();
      }
    }
    const weights = foldWeights(head, neg.featureMean, neg.featureStd);
    if (weights.length !== weightCount(channels, o.hidden)) throw new PoeError('MODEL_INVALID', 'The custom expert came out with an unexpected number of weights.');
    o.onProgress?.(1);
    return { weights, hidden: o.hidden, ms: now() - t0, loss };
  } finally {
    optimizer.dispose();
    [pos, negX, posT, head.w1, head.b1, head.w2, head.b2].forEach((t) => t.dispose());
  }
}

/**
 * The Teachable-Machine-style baseline: one head of the same shape over all the classes at once
 * (softmax cross-entropy), trained on the same number of images per class, with no pool.
 */
export async function trainSoftmaxHead(features: tf.Tensor4D, labels: Int32Array, units: number, options: TrainOptions = {}): Promise<{ predict: (f: tf.Tensor4D) => Int32Array; ms: number; dispose: () => void }> {
  const o = settings(options);
  const t0 = now();
  const mom = tf.tidy(() => tf.moments(features, [0, 1, 2]));
  const mean = Float32Array.from(mom.mean.dataSync());
  const std = Float32Array.from(mom.variance.dataSync(), (v) => Math.sqrt(v) + 1e-3);
  mom.mean.dispose();
  mom.variance.dispose();
  const head = initHead(features.shape[3], o.hidden, units, o.seed);
  const optimizer = tf.train.adam(o.learningRate);
  const x = standardise(features, mean, std);
  const y = tf.oneHot(tf.tensor1d(labels, 'int32'), units);
  const random = rng(o.seed);
  const batch = Math.min(o.negativesPerStep, labels.length);
  for (let step = 0; step < o.steps; step++) {
    tf.tidy(() => {
      const idx = tf.tensor1d(Int32Array.from({ length: batch }, () => Math.floor(random() * labels.length)), 'int32');
      optimizer.minimize(() => tf.losses.softmaxCrossEntropy(tf.gather(y, idx), forward(head, tf.gather(x, idx))) as tf.Scalar);
    });
    if (step % 10 === 9) await yieldToPage();
  }
  x.dispose();
  y.dispose();
  optimizer.dispose();
  const ms = now() - t0;
  const predict = (f: tf.Tensor4D) => tf.tidy(() => tf.argMax(forward(head, standardise(f, mean, std)), 1).dataSync() as Int32Array);
  const dispose = () => [head.w1, head.b1, head.w2, head.b2].forEach((t) => t.dispose());
  return { predict, ms, dispose };
}
