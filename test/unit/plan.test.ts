// The compiled plan every prediction runs: the LayersModel's outputs, from fewer and fused kernels.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forgetExpertNode } from '../../src/ml/graph/poolGraph';
import { loadedPool } from '../../src/ml/pool';
import { compilePlan } from '../../src/ml/run/plan';
import type { StoredCustomClass } from '../../src/ml/custom/customFile';
import { openPool, useNodeBackend, type Pool } from '../../src/node';
import { FIXTURE_POOL_DIR, readReference } from './helpers';

const ref = readReference(FIXTURE_POOL_DIR);
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
const layersOf = (m: object) => (m as { model: tf.LayersModel }).model;
/** Trained once (on wasm: the cpu backend takes many seconds to train) and added to the cpu run's pool. */
let trained: StoredCustomClass | null = null;

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`the compiled plan (${backend})`, () => {
    let pool: Pool;
    beforeAll(async () => {
      await useNodeBackend(backend);
      pool = await openPool(FIXTURE_POOL_DIR);
      pool.customClasses.setNegatives(ref);
      expect(backend === 'wasm' || trained !== null).toBe(true); // the wasm block runs first
    });
    afterAll(() => pool.dispose());

    it('gives the LayersModel\'s logits within 1e-5 for whole-expert, class-level, custom-class and "none of these" models', async () => {
      const stripes = new Uint8Array(12 * 3072).map((_, i) => ((i / 3) % 32 < 16 ? 240 : 20));
      if (!trained) {
        await pool.customClasses.train('my keys', stripes, { steps: 10 });
        trained = pool.customClasses.records()[0];
      } else pool.customClasses.add([trained]);
      const spec = trained.spec;
      const n = backend === 'cpu' ? 2 : ref.count; // the cpu backend is the slow reference: two images say enough
      const x = tf.tensor4d(ref.images.subarray(0, n * 3072), [n, 32, 32, 3], 'int32').toFloat();
      for (const [names, unknown] of [[['people', 'vehicles_1'], false], [['cup', 'bus', 'girl'], false], [['kitchen', spec.id], false], [['people', 'cup'], true]] as const) {
        const m = pool.consolidate(names as readonly string[], { unknown });
        const plan = compilePlan(layersOf(m))!;
        expect(plan, names.join()).not.toBeNull();
        // What TaskModel runs: the plan compiled from the pool graph, with its cached layers, without the LayersModel.
        const fromGraph = compilePlan(m.graph)!;
        const ops = (p: typeof plan) => p.steps.map((s) => s.op).sort();
        expect(ops(fromGraph)).toEqual(ops(plan)); // the same steps, in another order where branches are independent
        const want = tf.tidy(() => layersOf(m).predict(x) as tf.Tensor);
        const got = tf.tidy(() => plan.predict(x));
        const gotFromGraph = tf.tidy(() => fromGraph.predict(x));
        expect(got.shape).toEqual(want.shape);
        expect(maxDiff(await got.data(), await want.data()), names.join()).toBeLessThan(1e-5);
        expect(maxDiff(await gotFromGraph.data(), await want.data()), names.join()).toBeLessThan(1e-5);
        // The parameter and byte counts read from the graph are the LayersModel's.
        expect(m.bytes).toBe(4 * layersOf(m).countParams());
        if (!unknown) expect(m.params).toBe(layersOf(m).countParams() - 6);
        // Every batch norm became a 1x1 depthwise conv, every pad went into a conv, and no ReLU runs alone.
        expect(plan.steps.filter((s) => s.op === 'pad' || s.op === 'relu')).toEqual([]);
        // The pool experts' heads run as one (mergeHeads); a custom class's head and the detector's outputs keep theirs.
        if (!unknown && !(names as readonly string[]).includes(spec.id)) expect(plan.steps.filter((s) => s.op === 'dense'), names.join()).toHaveLength(1);
        tf.dispose([want, got, gotFromGraph]);
        plan.dispose();
        fromGraph.dispose();
        m.dispose();
      }
      x.dispose();
      pool.customClasses.remove(spec.id);
    });

    it('keeps each layer\'s compiled form with the pool graph: the next query folds nothing, a forgotten expert frees its own', () => {
      pool.consolidate(['people']).dispose();
      const cached = tf.memory().numTensors;
      const again = pool.consolidate(['people']); // one whole expert: no merged head, so no tensor of its own
      expect(tf.memory().numTensors).toBe(cached);
      again.dispose();
      forgetExpertNode(loadedPool(pool), 'people');
      expect(tf.memory().numTensors).toBeLessThan(cached); // its folded batch norms went with it
      pool.consolidate(['people']).dispose();
      expect(tf.memory().numTensors).toBe(cached);
    });

    it('is what a TaskModel predicts with, and frees its own tensors with it', async () => {
      pool.consolidate(['people', 'cup']).dispose(); // the pool graph keeps its layers' compiled form from then on
      const before = tf.memory().numTensors;
      const m = pool.consolidate(['people', 'cup']);
      const viaTaskModel = await m.predictLogits(ref.images.subarray(0, 2 * 3072), 2);
      const out = tf.tidy(() => layersOf(m).predict(tf.tensor4d(ref.images.subarray(0, 2 * 3072), [2, 32, 32, 3], 'int32').toFloat()) as tf.Tensor);
      expect(maxDiff(viaTaskModel, out.dataSync())).toBeLessThan(1e-5);
      out.dispose();
      expect(m.compileMs).toBeGreaterThan(0);
      m.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}

describe('a model the plan cannot run', () => {
  beforeAll(() => useNodeBackend('cpu'));
  it('compiles to null, so it keeps running as a LayersModel', () => {
    const input = tf.input({ shape: [8, 8, 1] });
    const out = tf.layers.dense({ units: 2 }).apply(tf.layers.flatten().apply(tf.layers.maxPooling2d({ poolSize: 2 }).apply(input))) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    expect(compilePlan(model)).toBeNull();
    model.dispose();
  });
});
