import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelFiles } from '../../src/ml/export/exportModel';
import { loadModelFiles } from '../../src/ml/pool/loadModelFiles';
import { predictLogits } from '../../src/ml/run/predict';
import { openPool, useNodeBackend, type Pool } from '../../src/node';
import { FIXTURE_POOL_DIR, readReference } from './helpers';

let pool: Pool;
const ref = readReference(FIXTURE_POOL_DIR);
beforeAll(async () => {
  await useNodeBackend('cpu');
  pool = await openPool(FIXTURE_POOL_DIR);
});
afterAll(() => pool.dispose());

const reload = loadModelFiles;

describe('exported consolidated model', () => {
  it('loads with plain tf.loadLayersModel (no custom layers) and predicts exactly as the in-memory model', async () => {
    const c = pool.consolidate(['people', 'cup', 'bus']);
    const files = await modelFiles(c, pool.manifest);
    const loaded = await reload(files);
    const a = await predictLogits(c.model, ref.images, ref.count, 32);
    const b = await predictLogits(loaded, ref.images, ref.count, 32);
    expect(Array.from(b)).toEqual(Array.from(a));
    const meta = JSON.parse(files['metadata.json']);
    expect(meta.labels).toEqual(c.labels);
    expect(meta.experts.map((e: { name: string }) => e.name)).toEqual(['people', 'vehicles_1', 'kitchen']);
    expect(meta.pool).toEqual({ name: 'fixture', version: 'fixture-1' });
    expect(meta.input.shape).toEqual([null, 32, 32, 3]);
    c.dispose();
    loaded.dispose();
  });

  it('float16 halves and uint8 quarters the weights, with small logit changes', async () => {
    const c = pool.consolidate(['people', 'vehicles_1']);
    const f32 = await modelFiles(c, pool.manifest, 'float32');
    const base = await predictLogits(c.model, ref.images, ref.count, 32);
    for (const [precision, ratio, tol] of [['float16', 2, 0.05], ['uint8', 4, 1.5]] as const) {
      const files = await modelFiles(c, pool.manifest, precision);
      expect(f32['weights.bin'].byteLength / files['weights.bin'].byteLength).toBeCloseTo(ratio, 1);
      const m = await reload(files);
      const q = await predictLogits(m, ref.images, ref.count, 32);
      const diff = Math.max(...Array.from(base, (v, i) => Math.abs(v - q[i])));
      expect(diff).toBeGreaterThan(0);
      expect(diff).toBeLessThan(tol);
      m.dispose();
    }
    c.dispose();
  });
});

describe('memory', () => {
  it('holds no extra tensors after 30 build + predict + dispose cycles', async () => {
    const cycle = async () => {
      const c = pool.consolidate(['people', 'bowl']);
      await predictLogits(c.model, ref.images, 4, 32);
      c.dispose();
    };
    await cycle();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 30; i++) await cycle();
    expect(tf.memory().numTensors).toBe(before);
  });
});
