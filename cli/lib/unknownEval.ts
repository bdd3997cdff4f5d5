import { UNKNOWN_TEMPERATURE } from '../../src/ml/graph/consolidate';
import { argmaxRows } from '../../src/ml/run/predict';
import { planQuery, type QueryPlan } from '../../src/ml/graph/selection';
import type { Pool } from '../../src/node';
import type { LabelledImages } from './tfliteEval';

export interface Separation {
  /** Area under the ROC curve, known (the query's classes) against unknown (every other class). */
  auroc: number;
  /** Share of unknown images kept at the threshold that keeps 95 % of the known ones. */
  fpr95: number;
}

export interface UnknownResult {
  query: string[];
  known: number;
  unknown: number;
  /** Top-1 of the known images when nothing is rejected (the detector leaves the logits as they are). */
  knownTop1: number;
  scores: { maxSoftmax: Separation; energy: Separation; pool: Separation };
  /** The threshold calibrated on the pool's sample images, as the app sets it, applied to these images. */
  calibrated: { threshold: number; knownKept: number; unknownRejected: number } | null;
}

/** Every class's logit for each image, from the model of all the pool's experts (what a detector runs). */
export interface PoolLogits {
  plan: QueryPlan;
  logits: Float32Array;
  labels: number[];
}

export async function poolLogits(pool: Pool, data: LabelledImages): Promise<PoolLogits> {
  const c = pool.consolidate(pool.manifest.experts.map((e) => e.name));
  try {
    return { plan: c.plan, logits: await c.predictLogits(data.images, data.labels.length), labels: data.labels };
  } finally {
    c.dispose();
  }
}

/** Higher score = more likely known. */
export function separation(known: ArrayLike<number>, unknown: ArrayLike<number>): Separation {
  const k = Float64Array.from(known).sort();
  const u = Float64Array.from(unknown).sort();
  const threshold = k[Math.floor(0.05 * k.length)];
  let fp = 0;
  for (const x of u) if (x >= threshold) fp++;
  let pairs = 0;
  let j = 0;
  for (const x of k) {
    while (j < u.length && u[j] < x) j++;
    let t = j;
    while (t < u.length && u[t] === x) t++;
    pairs += j + (t - j) / 2;
  }
  return { auroc: pairs / (k.length * u.length), fpr95: fp / u.length };
}

const logSumExp = (values: ArrayLike<number>, scale = 1) => {
  let m = -Infinity;
  for (let i = 0; i < values.length; i++) m = Math.max(m, values[i] * scale);
  let s = 0;
  for (let i = 0; i < values.length; i++) s += Math.exp(values[i] * scale - m);
  return m + Math.log(s);
};

/**
 * For one query: the query's logits (its columns of the pool's), max softmax and energy on them, and the
 * detector's log p(known) = logsumexp over the query's columns of logits/T minus logsumexp over all of them.
 * The same formula as the detector in the consolidated graph (consolidate.ts; a unit test holds them equal).
 */
export function queryScores(all: PoolLogits, query: QueryPlan, temperature = UNKNOWN_TEMPERATURE) {
  const total = all.plan.labels.length;
  const col = new Map(all.plan.classIndices.map((k, j) => [k, j]));
  const cols = query.classIndices.map((k) => col.get(k)!);
  const n = all.labels.length;
  const k = cols.length;
  const logits = new Float32Array(n * k);
  const msp = new Float64Array(n);
  const energy = new Float64Array(n);
  const known = new Float64Array(n);
  const t = 1 / temperature;
  for (let i = 0; i < n; i++) {
    const row = all.logits.subarray(i * total, (i + 1) * total);
    const mine = cols.map((c) => row[c]);
    logits.set(mine, i * k);
    energy[i] = logSumExp(mine);
    msp[i] = Math.max(...mine) - energy[i];
    known[i] = logSumExp(mine, t) - logSumExp(row, t);
  }
  return { logits, msp, energy, known };
}

/** The three scores for one query on labelled images, and the app's sample-calibrated threshold applied to them. */
export function evaluateUnknown(pool: Pool, all: PoolLogits, queryNames: string[], sample: PoolLogits | null, temperature = UNKNOWN_TEMPERATURE): UnknownResult {
  const plan = planQuery(pool.manifest, queryNames);
  const chosen = new Set(plan.classIndices);
  const column = new Map(plan.classIndices.map((k, j) => [k, j]));
  const s = queryScores(all, plan, temperature);
  const guess = argmaxRows(s.logits, plan.labels.length);
  const isKnown = all.labels.map((l) => chosen.has(l));
  const pick = (v: ArrayLike<number>, want: boolean) => Array.from(v).filter((_, i) => isKnown[i] === want);
  const knownIdx = all.labels.flatMap((l, i) => (chosen.has(l) ? [i] : []));
  const knownTop1 = knownIdx.filter((i) => guess[i] === column.get(all.labels[i])).length / knownIdx.length;
  let calibrated: UnknownResult['calibrated'] = null;
  if (sample) {
    // As TaskModel.calibrateUnknown: the p(known) that keeps 95 % of the sample images of the chosen classes.
    const mine = Array.from(queryScores(sample, plan, temperature).known).filter((_, i) => chosen.has(sample.labels[i])).sort((a, b) => a - b);
    const threshold = mine[Math.floor(0.05 * mine.length)];
    calibrated = { threshold: Math.exp(threshold), knownKept: pick(s.known, true).filter((p) => p >= threshold).length / knownIdx.length,
      unknownRejected: pick(s.known, false).filter((p) => p < threshold).length / (all.labels.length - knownIdx.length) };
  }
  return {
    query: queryNames, known: knownIdx.length, unknown: all.labels.length - knownIdx.length, knownTop1,
    scores: {
      maxSoftmax: separation(pick(s.msp, true), pick(s.msp, false)),
      energy: separation(pick(s.energy, true), pick(s.energy, false)),
      pool: separation(pick(s.known, true), pick(s.known, false)),
    },
    calibrated,
  };
}

/** Images a second at batch 1 (classify, one image a call) of the query's model alone and with the detector, measured in turn. */
export async function detectorCost(pool: Pool, query: string[], images: Uint8Array, count: number): Promise<{ plain: number; detector: number }> {
  const rate = async (unknown: boolean) => {
    const c = pool.consolidate(query, { unknown });
    const per = c.imageBytes;
    const one = (i: number) => ({ data: images.subarray(i * per, (i + 1) * per), width: c.sizePx, height: c.sizePx });
    for (let i = 0; i < 5; i++) await c.identify(one(i));
    const t0 = performance.now();
    for (let i = 0; i < count; i++) await c.identify(one(i));
    const r = count / ((performance.now() - t0) / 1000);
    c.dispose();
    return r;
  };
  const plain = await rate(false);
  const detector = await rate(true);
  return { plain: (plain + (await rate(false))) / 2, detector };
}
