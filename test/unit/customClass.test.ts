import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCustomModel, checkLabel, registerCustomExpert, renameCustomExpert, unregisterCustomExpert, type CustomExpertSpec } from '../../src/ml/custom/customExpert';
import { trainCustomClass } from '../../src/ml/custom/customClass';
import { disposeNegatives, libraryFeatures, prepareNegatives, type NegativeSet } from '../../src/ml/custom/customFeatures';
import { customClassesFile, parseCustomClassesFile } from '../../src/ml/custom/customFile';
import { modelFiles } from '../../src/ml/export/exportModel';
import { loadModelFiles } from '../../src/ml/pool/loadModelFiles';
import { onnxFiles } from '../../src/ml/export/onnxExport';
import { argmaxRows, predictLogits } from '../../src/ml/run/predict';
import { openPool, useNodeBackend, type Pool } from '../../src/node';
import { FIXTURE_POOL_DIR, readReference } from './helpers';
import { loadedPool } from '../../src/ml/pool';

ort.env.wasm.numThreads = 1;
const ref = readReference(FIXTURE_POOL_DIR);
const PER = 32 * 32 * 3;

/** Images no pool class looks like: a bright diagonal stripe pattern with per-image noise. */
function stripes(count: number, seed = 1): Uint8Array {
  const out = new Uint8Array(count * PER);
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let n = 0; n < count; n++)
    for (let y = 0; y < 32; y++)
      for (let x = 0; x < 32; x++) {
        const on = ((x + y + n) >> 2) % 2 === 0;
        const o = n * PER + (y * 32 + x) * 3;
        out[o] = on ? 250 : 20 + 30 * rand();
        out[o + 1] = on ? 40 * rand() : 230;
        out[o + 2] = on ? 240 : 10;
      }
  return out;
}

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`custom class on the ${backend} backend (fixture pool)`, () => {
    let pool: Pool;
    let neg: NegativeSet;
    let spec: CustomExpertSpec;
    beforeAll(async () => {
      await useNodeBackend(backend);
      pool = await openPool(FIXTURE_POOL_DIR);
      neg = await prepareNegatives(loadedPool(pool), ref.images, ref.labels, ref.count);
      spec = await trainCustomClass(loadedPool(pool), neg, { label: 'my keys', images: stripes(12), count: 12 }, { steps: 60 });
    });
    afterAll(() => {
      disposeNegatives(neg);
      pool.dispose();
    });

    it('trains (the ops have gradients on this backend) and wins on new images of its class, not on the pool’s', async () => {
      expect(neg.count).toBeGreaterThan(0);
      expect(spec.weights.every(Number.isFinite)).toBe(true);
      const c = pool.consolidate(['people', 'vehicles_1', spec.id]);
      expect(c.labels).toEqual([...pool.consolidate(['people', 'vehicles_1']).labels, 'my keys']);
      const mine = argmaxRows(await predictLogits(c.model, stripes(10, 99), 10, 32), c.labels.length);
      expect(mine.filter((p) => p === c.labels.length - 1).length).toBeGreaterThanOrEqual(9);
      const theirs = argmaxRows(await predictLogits(c.model, ref.images, ref.count, 32), c.labels.length);
      expect(theirs.filter((p) => p === c.labels.length - 1).length).toBeLessThanOrEqual(Math.ceil(0.1 * ref.count));
      c.dispose();
    });

    it('grafts exactly: the consolidated logit equals the standalone expert on the library’s features', async () => {
      const c = pool.consolidate(['kitchen', spec.id]);
      const got = await predictLogits(c.model, ref.images, 8, 32);
      const standalone = buildCustomModel(spec);
      const g = (await import('../../src/ml/graph/poolGraph')).poolGraph(loadedPool(pool));
      const lib = tf.model({ inputs: g.input, outputs: g.features });
      const want = tf.tidy(() => (standalone.predict(lib.predict(tf.tensor4d(ref.images.subarray(0, 8 * PER), [8, 32, 32, 3], 'int32').toFloat()) as tf.Tensor) as tf.Tensor).dataSync());
      for (let i = 0; i < 8; i++) expect(got[i * 4 + 3]).toBeCloseTo(want[i], 3);
      standalone.dispose();
      c.dispose();
    });

    it('trains in features the 2x2 average makes, matching the expert’s fixed first layer', async () => {
      const f = await libraryFeatures(loadedPool(pool), ref.images, 2);
      expect(f.shape).toEqual([2, 8, 8, 32]);
      f.dispose();
    });
  });
}

describe('custom class: export, names, removal, file', () => {
  let pool: Pool;
  let neg: NegativeSet;
  let spec: CustomExpertSpec;
  beforeAll(async () => {
    await useNodeBackend('cpu');
    pool = await openPool(FIXTURE_POOL_DIR);
    neg = await prepareNegatives(loadedPool(pool), ref.images, ref.labels, ref.count);
    spec = await trainCustomClass(loadedPool(pool), neg, { label: 'my keys', images: stripes(10), count: 10 }, { steps: 30 });
  });
  afterAll(() => {
    disposeNegatives(neg);
    pool.dispose();
  });

  it('exports to TF.js and ONNX with the custom label in both metadata.json files, and both run it', async () => {
    const c = pool.consolidate(['cup', 'people', spec.id]);
    const tfjs = await modelFiles(c, pool.manifest);
    const meta = JSON.parse(tfjs['metadata.json']);
    expect(meta.labels.at(-1)).toBe('my keys');
    expect(meta.experts.at(-1)).toEqual({ name: spec.id, classes: ['my keys'], whole: true, custom: true });
    expect(meta.classIndices.at(-1)).toBe(-1);
    const want = await predictLogits(c.model, ref.images, 4, 32);
    const loaded = await loadModelFiles(tfjs);
    expect(Array.from(await predictLogits(loaded, ref.images, 4, 32))).toEqual(Array.from(want));
    loaded.dispose();
    const onnx = onnxFiles(c, pool.manifest);
    expect(JSON.parse(onnx['metadata.json']).labels).toEqual(c.labels);
    expect(c.labels).toContain('my keys');
    const session = await ort.InferenceSession.create(onnx['model.onnx']);
    const out = await session.run({ pixels: new ort.Tensor('float32', Float32Array.from(ref.images.subarray(0, 4 * PER)), [4, 32, 32, 3]) });
    await session.release();
    const got = out.logits.data as Float32Array;
    expect(got.length).toBe(want.length);
    got.forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThan(1e-3));
    c.dispose();
  });

  it('refuses names that clash, too few images, and renames', async () => {
    expect(() => checkLabel(loadedPool(pool), 'people')).toThrow(/already a class/);
    expect(() => checkLabel(loadedPool(pool), 'cup')).toThrow(/already a class/);
    expect(() => checkLabel(loadedPool(pool), ' my keys ')).toThrow(/already a class/);
    expect(() => checkLabel(loadedPool(pool), '  ')).toThrow(/Give your class a name/);
    await expect(trainCustomClass(loadedPool(pool), neg, { label: 'few', images: stripes(9), count: 9 })).rejects.toThrow(/at least 10 images/);
    renameCustomExpert(loadedPool(pool), spec.id, 'house keys');
    expect(pool.consolidate([spec.id]).labels).toEqual(['house keys']);
    expect(checkLabel(loadedPool(pool), 'house keys', spec.id)).toBe('house keys');
    const again = await trainCustomClass(loadedPool(pool), neg, { label: 'house keys', images: stripes(11), count: 11, replaces: spec.id }, { steps: 5 });
    expect(again.id).not.toBe(spec.id); // retraining makes a new expert; the caller frees the old one once unused
    expect(again.shots).toBe(11);
    unregisterCustomExpert(loadedPool(pool), again.id);
  });

  it('round-trips through the export file with a fresh id; rejects other files', () => {
    const text = customClassesFile([{ spec, images: stripes(10) }]);
    const [back] = parseCustomClassesFile(text, 32);
    expect(back.spec.id).not.toBe(spec.id);
    expect(back.spec.label).toBe(spec.label);
    expect(Array.from(back.spec.weights)).toEqual(Array.from(spec.weights));
    expect(back.images).toEqual(stripes(10));
    expect(() => parseCustomClassesFile('{"format":"other"}', 32)).toThrow(/not a PoE Studio custom-classes file/);
    expect(() => parseCustomClassesFile('nope', 32)).toThrow(/not JSON/);
    const damaged = JSON.parse(text);
    damaged.classes[0].weights = damaged.classes[0].weights.slice(0, 40);
    expect(() => parseCustomClassesFile(JSON.stringify(damaged), 32)).toThrow(/weights/);
  });

  it('removal frees the expert and its graph layers; retraining cycles leak no tensors', async () => {
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const s = await trainCustomClass(loadedPool(pool), neg, { label: `tmp ${i}`, images: stripes(10), count: 10 }, { steps: 5 });
      const c = pool.consolidate(['people', s.id]);
      await predictLogits(c.model, ref.images, 2, 32);
      c.dispose();
      registerCustomExpert(loadedPool(pool), { ...s, label: `tmp ${i} again` }); // replacing (retraining) keeps one entry
      unregisterCustomExpert(loadedPool(pool), s.id);
      expect(() => pool.consolidate([s.id])).toThrow(/Unknown class/);
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
