import * as tf from '@tensorflow/tfjs';
import type { Pool } from '../ml/pool';
import { forgetPoolGraph } from '../ml/graph/poolGraph';
import { channelCount } from '../ml/pool/poolManifest';
import { loadedPool } from '../ml/pool';
import { compilePlan } from '../ml/run/plan';

/** Median, min and max of repeated measurements. */
export interface Stat {
  median: number;
  min: number;
  max: number;
  runs: number;
}

export function stat(xs: number[]): Stat {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return { median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2, min: s[0], max: s[s.length - 1], runs: s.length };
}

export interface QueryLatency {
  query: string;
  experts: number;
  classes: number;
  /** Graph assembly: plan, concatenation, tf.model (pool graph already prepared). */
  assembleMs: Stat;
  /** Attaching weights: grafting the library and the query's experts into a fresh pool graph. */
  weightsMs: Stat;
  /** First prediction of the new model (one image, including reading the result back). */
  firstInferenceMs: Stat;
  /** Selection -> first prediction with the pool graph prepared at load time (what the app does). */
  totalMs: Stat;
  /** One later prediction of the same model through the same path (pixels in, logits read back). */
  steadyMs: Stat;
}

const now = () => performance.now();

/** The standard query set: the first n experts for n = 1, 2, 5, 10, 20, and a class-level query. */
export function benchQueries(pool: Pool): { query: string; names: string[] }[] {
  const experts = pool.manifest.experts.map((e) => e.name);
  const sizes = [1, 2, 5, 10, 20].filter((n) => n <= experts.length);
  const classes = pool.manifest.classes.filter((_, i) => i % 10 === 0).map((c) => c.name);
  return [
    ...sizes.map((n) => ({ query: `${n} expert${n > 1 ? 's' : ''}`, names: experts.slice(0, n) })),
    { query: `${classes.length} single classes`, names: classes },
  ];
}

export async function measureQueryLatency(pool: Pool, names: string[], query: string, reps: number): Promise<QueryLatency> {
  const pixel = new Uint8Array(pool.manifest.input.sizePx ** 2 * channelCount(pool.manifest.input));
  const assemble: number[] = [], weights: number[] = [], first: number[] = [], total: number[] = [], steady: number[] = [];
  let classes = 0, experts = 0;
  for (let r = 0; r < reps; r++) {
    // Cold: a fresh pool graph, so the weights of the library and the query's experts are attached anew.
    forgetPoolGraph(loadedPool(pool));
    const cold = pool.consolidate(names);
    weights.push(cold.graftMs);
    cold.dispose();
    pool.prepare();
    const t0 = now();
    const c = pool.consolidate(names);
    const t1 = now();
    await c.predictLogits(pixel, 1);
    const t2 = now();
    assemble.push(t1 - t0);
    first.push(t2 - t1);
    total.push(t2 - t0);
    for (let k = 0; k < 3; k++) {
      const t3 = now();
      await c.predictLogits(pixel, 1);
      steady.push(now() - t3);
    }
    classes = c.labels.length;
    experts = c.plan.parts.length;
    c.dispose();
  }
  return { query, experts, classes, assembleMs: stat(assemble), weightsMs: stat(weights), firstInferenceMs: stat(first), totalMs: stat(total), steadyMs: stat(steady) };
}

export interface Throughput {
  experts: number;
  batch: number;
  /** Through the compiled plan, as TaskModel predicts (run/plan.ts). */
  imagesPerSecond: Stat;
  /** Through LayersModel.predict, the path before the plan, measured in blocks alternating with the plan's. */
  layersImagesPerSecond: Stat;
  /** Per-block ratio plan / layers (each pair measured back to back, in alternating order). */
  planSpeedup: Stat;
}

/** Items per second of an async step that handles `batch` items, after two warm-up calls, over `rounds` timed rounds of ~`ms`. */
export async function measureRate(step: () => Promise<unknown>, batch: number, rounds = 5, ms = 400): Promise<Stat> {
  await step();
  await step();
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let k = 0;
    const t0 = now();
    while (now() - t0 < ms) {
      await step();
      k++;
    }
    rates.push((k * batch * 1000) / (now() - t0));
  }
  return stat(rates);
}

/**
 * Images per second of a consolidated model at a batch size, through the compiled plan and through
 * LayersModel.predict, in `rounds` pairs of ~`ms` blocks run back to back in alternating order, so that
 * a change in the machine's load hits both sides of a ratio alike.
 */
export async function measureThroughput(pool: Pool, n: number, batch: number, rounds = 5, ms = 400): Promise<Throughput> {
  const size = pool.manifest.input.sizePx;
  const c = pool.consolidate(pool.manifest.experts.slice(0, n).map((e) => e.name));
  const x = tf.randomUniform([batch, size, size, channelCount(pool.manifest.input)], 0, 255);
  const model = (c as unknown as { model: tf.LayersModel }).model;
  const plan = compilePlan(model);
  const run = (m: { predict(x: tf.Tensor): tf.Tensor | tf.Tensor[] }) => async () => {
    const y = tf.tidy(() => m.predict(x) as tf.Tensor);
    await y.data();
    y.dispose();
  };
  const viaPlan = run(plan ?? model);
  const viaLayers = run(model);
  const planRates: number[] = [];
  const layerRates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const pair = r % 2 === 0 ? [viaPlan, viaLayers] : [viaLayers, viaPlan];
    const rates = [];
    for (const step of pair) rates.push((await measureRate(step, batch, 1, ms)).median);
    const [p, l] = r % 2 === 0 ? rates : [rates[1], rates[0]];
    planRates.push(p);
    layerRates.push(l);
  }
  plan?.dispose();
  x.dispose();
  c.dispose();
  return { experts: n, batch, imagesPerSecond: stat(planRates), layersImagesPerSecond: stat(layerRates), planSpeedup: stat(planRates.map((p, i) => p / layerRates[i])) };
}

export interface MemoryFigures {
  frames: number;
  afterBuild: { tensors: number; bytes: number };
  afterFrames: { tensors: number; bytes: number };
}

/** Tensors held after building an n=5 model, and after `frames` single-image predictions on it. */
export async function measureMemory(pool: Pool, frames = 1000): Promise<MemoryFigures> {
  const c = pool.consolidate(pool.manifest.experts.slice(0, 5).map((e) => e.name));
  const px = new Uint8Array(c.imageBytes);
  await c.predictLogits(px, 1);
  const a = tf.memory();
  for (let i = 0; i < frames; i++) {
    px.fill(i % 251);
    await c.predictLogits(px, 1);
  }
  const b = tf.memory();
  c.dispose();
  return { frames, afterBuild: { tensors: a.numTensors, bytes: a.numBytes }, afterFrames: { tensors: b.numTensors, bytes: b.numBytes } };
}

export interface BackendBench {
  backend: string;
  queries: QueryLatency[];
  throughput: Throughput[];
  memory: MemoryFigures;
}

/** Everything measured on the active backend; `quick` lowers the repetitions for slow backends. */
export async function benchBackend(pool: Pool, { reps = 15, quick = false } = {}): Promise<BackendBench> {
  const queries: QueryLatency[] = [];
  for (const q of benchQueries(pool)) queries.push(await measureQueryLatency(pool, q.names, q.query, quick ? 3 : reps));
  const throughput: Throughput[] = [];
  for (const n of [1, 5, 20].filter((k) => k <= pool.manifest.experts.length))
    for (const batch of [1, 32]) throughput.push(await measureThroughput(pool, n, batch, quick ? 3 : 7, quick ? 300 : 500));
  pool.prepare();
  return { backend: tf.getBackend(), queries, throughput, memory: await measureMemory(pool, quick ? 200 : 1000) };
}
