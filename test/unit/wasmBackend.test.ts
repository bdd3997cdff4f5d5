import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { argmaxRows } from '../../src/ml/run/predict';
import { referenceColumns } from '../../src/ml/run/reference';
import { openPool, useNodeBackend, type Pool } from '../../src/node';
import { FIXTURE_POOL_DIR, readReference } from './helpers';

// The CLI and the app default to wasm; its kernels differ from cpu's (e.g. fused matMul reads
// backend-side shapes), so class-level queries are checked on it too.
describe('wasm backend in Node', () => {
  let pool: Pool;
  const ref = readReference(FIXTURE_POOL_DIR);
  beforeAll(async () => {
    await useNodeBackend('wasm');
    pool = await openPool(FIXTURE_POOL_DIR);
  });
  afterAll(() => pool.dispose());

  it('gives the cpu backend\'s logits and top-1 for every expert on the reference images', async () => {
    const c = pool.consolidate(pool.manifest.experts.map((e) => e.name));
    const logitsOn = async (backend: string) => {
      await tf.setBackend(backend);
      expect(tf.getBackend()).toBe(backend);
      return c.predictLogits(ref.images);
    };
    try {
      const wasm = await logitsOn('wasm');
      const cpu = await logitsOn('cpu');
      expect(Math.max(...Array.from(cpu, (x, i) => Math.abs(x - wasm[i])))).toBeLessThan(1e-5);
      expect(argmaxRows(wasm, c.labels.length)).toEqual(argmaxRows(cpu, c.labels.length));
    } finally {
      await tf.setBackend('wasm');
      c.dispose();
    }
  });

  it.each([[['cup']], [['people', 'bus', 'plate']], [['kitchen', 'vehicles_1']]])('matches PyTorch for %j', async (q) => {
    const c = pool.consolidate(q);
    const got = await c.predictLogits(ref.images);
    const want = referenceColumns(ref, c.plan.parts);
    expect(Math.max(...Array.from(want, (w, i) => Math.abs(w - got[i])))).toBeLessThan(1e-4);
    c.dispose();
  });

  it('reproduces every expert on the reference images', async () => {
    const r = await pool.checkDevice();
    expect(r.maxAbsDiff).toBeLessThan(1e-4);
    expect(r.top1Agree).toBe(r.images);
  });
});
