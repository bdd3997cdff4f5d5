import * as tf from '@tensorflow/tfjs';
import { consolidate } from '../graph/consolidate';
import { compilePlan } from '../run/plan';
import { predictLogits } from '../run/predict';
import { pickImages } from '../run/imageInput';
import { poolGraph } from '../graph/poolGraph';
import type { LoadedPool } from '../pool/poolModels';
import { channelCount } from '../pool/poolManifest';

/** Images per call when the page is in use: about 50 ms of work a batch on a quiet 2-core machine, so the page stays responsive. */
const BACKGROUND_BATCH = 32;

/**
 * What a custom expert trains on: the library's frozen features, averaged 2x2 (the expert's first,
 * fixed layer), so training never runs the library again. Inference only, on any backend.
 */
export async function libraryFeatures(pool: LoadedPool, images: Uint8Array, count: number, options: { flip?: boolean; batch?: number } = {}): Promise<tf.Tensor4D> {
  const g = poolGraph(pool);
  const size = pool.manifest.input.sizePx;
  const channels = channelCount(pool.manifest.input);
  const extractor = tf.model({ inputs: g.input, outputs: g.features });
  const per = size * size * channels;
  const batch = options.batch ?? BACKGROUND_BATCH;
  const parts: tf.Tensor4D[] = [];
  for (let s = 0; s < count; s += batch) {
    const n = Math.min(batch, count - s);
    parts.push(tf.tidy(() => {
      let x = tf.tensor4d(images.subarray(s * per, (s + n) * per), [n, size, size, channels], 'int32').toFloat();
      if (options.flip) x = tf.reverse(x, 2);
      return tf.avgPool(extractor.predict(x) as tf.Tensor4D, 2, 2, 'valid');
    }));
    await new Promise((r) => setTimeout(r, 0)); // lets the page draw between batches
  }
  const out = parts.length === 1 ? parts[0] : tf.concat(parts);
  if (parts.length > 1) parts.forEach((p) => p.dispose());
  return out;
}

/**
 * Negative examples for calibration: images of pool classes with their features, their true class
 * and the whole pool's logits for them (oracle class order), which a custom expert's logit must lose to.
 */
export interface NegativeSet {
  features: tf.Tensor4D;
  /** [count, classes] pool logits, one column per pool class (see poolColumns). */
  poolLogits: Float32Array;
  classes: number;
  /** Each image's true class, as a column of poolLogits. */
  labels: Int32Array;
  count: number;
  /** Statistics of the pool experts' logits: on each image's own class, and on the other classes. */
  stats: LogitStats;
  /** Per-channel mean and standard deviation of the features, to standardise training inputs. */
  featureMean: Float32Array;
  featureStd: Float32Array;
  prepareMs: number;
}

export interface LogitStats {
  ownMean: number;
  ownStd: number;
  otherMean: number;
  otherStd: number;
}

const now = () => (globalThis.performance ?? Date).now();

/** Column of each oracle class index in pool-logit rows: the order of manifest.classes. */
export function poolColumns(pool: LoadedPool): Map<number, number> {
  return new Map(pool.manifest.classes.map((c, j) => [c.index, j]));
}

/** The whole pool's logits for some images, one column per pool class (manifest.classes order). */
export async function poolLogits(pool: LoadedPool, images: Uint8Array, count: number): Promise<Float32Array> {
  const all = consolidate(pool, pool.manifest.experts.map((e) => e.name));
  try {
    const col = poolColumns(pool);
    const classes = col.size;
    let raw: Float32Array;
    const plan = compilePlan(all.graph);
    try {
      // Small batches: this runs while the user collects images, often beside the webcam loop.
      raw = await predictLogits(plan ?? all.model, images, count, pool.manifest.input.sizePx, BACKGROUND_BATCH);
    } finally {
      plan?.dispose();
    }
    const out = new Float32Array(count * classes);
    const k = all.labels.length;
    for (let r = 0; r < count; r++) all.plan.classIndices.forEach((c, j) => (out[r * classes + col.get(c)!] = raw[r * k + j]));
    return out;
  } finally {
    all.dispose();
  }
}

/**
 * Features, pool logits and statistics of labelled images (labels: oracle class indices); images of
 * classes the pool does not have are left out.
 */
export async function prepareNegatives(pool: LoadedPool, images: Uint8Array, labels: ArrayLike<number>, count: number): Promise<NegativeSet> {
  const t0 = now();
  const col = poolColumns(pool);
  const per = pool.manifest.input.sizePx ** 2 * channelCount(pool.manifest.input);
  const keep = Array.from({ length: count }, (_, i) => i).filter((i) => col.has(labels[i]));
  const subset = pickImages(images, per, keep);
  const n = keep.length;
  const features = await libraryFeatures(pool, subset, n);
  const logits = await poolLogits(pool, subset, n);
  const lab = Int32Array.from(keep, (i) => col.get(labels[i])!);
  const { mean, variance } = tf.tidy(() => {
    const m = tf.moments(features, [0, 1, 2]);
    return { mean: m.mean.dataSync() as Float32Array, variance: m.variance.dataSync() as Float32Array };
  });
  return {
    features, poolLogits: logits, classes: col.size, labels: lab, count: n, stats: logitStats(logits, lab, col.size),
    featureMean: Float32Array.from(mean), featureStd: Float32Array.from(variance, (v) => Math.sqrt(v) + 1e-3), prepareMs: now() - t0,
  };
}

export function logitStats(logits: Float32Array, labels: Int32Array, classes: number): LogitStats {
  let so = 0, so2 = 0, no = 0, sx = 0, sx2 = 0, nx = 0;
  for (let i = 0; i < labels.length; i++)
    for (let k = 0; k < classes; k++) {
      const v = logits[i * classes + k];
      if (k === labels[i]) { so += v; so2 += v * v; no++; } else { sx += v; sx2 += v * v; nx++; }
    }
  const ownMean = so / no;
  const otherMean = sx / nx;
  return { ownMean, ownStd: Math.sqrt(Math.max(so2 / no - ownMean ** 2, 1e-6)), otherMean, otherStd: Math.sqrt(Math.max(sx2 / nx - otherMean ** 2, 1e-6)) };
}

export function disposeNegatives(n: NegativeSet): void {
  n.features.dispose();
}
