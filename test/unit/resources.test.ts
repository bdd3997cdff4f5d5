import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { predictLogits, topK } from '../../src/ml/run/predict';
import { openPool, useNodeBackend, type Pool } from '../../src/node';
import { DEFAULT_POOL_DIR } from './helpers';

// The same calls the app makes per webcam frame and per selection change, on the app's default wasm backend.
describe('no tensor or memory growth (wasm)', () => {
  let pool: Pool;
  beforeAll(async () => {
    await useNodeBackend('wasm');
    pool = await openPool(DEFAULT_POOL_DIR);
  });
  afterAll(() => pool.dispose());

  it('over 1,000 webcam-style frames', async () => {
    const c = pool.consolidate(['people', 'vehicles_1', 'apple']);
    const frame = new Uint8Array(32 * 32 * 3);
    const run = async (i: number) => {
      frame.fill(i % 256);
      return topK(await predictLogits(c.model, frame, 1, 32), c.labels, 5);
    };
    await run(0);
    const before = tf.memory();
    for (let i = 1; i <= 1000; i++) await run(i);
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
    c.dispose();
  });

  it('releases everything with the pool', async () => {
    const other = await openPool(DEFAULT_POOL_DIR);
    const base = tf.memory().numTensors;
    const c = other.consolidate(other.manifest.experts.map((e) => e.name));
    await predictLogits(c.model, new Uint8Array(3072), 1, 32);
    c.dispose();
    other.dispose();
    expect(tf.memory().numTensors).toBeLessThan(base);
    const again = await openPool(DEFAULT_POOL_DIR);
    expect(tf.memory().numTensors).toBe(base);
    again.dispose();
  });

  it('over 100 rebuilds with a warm-up prediction each', async () => {
    const queries = [['people'], ['people', 'vehicles_1', 'vehicles_2', 'trees', 'fish'], ['apple', 'cup'], pool.manifest.experts.map((e) => e.name)];
    const cycle = async (i: number) => {
      const c = pool.consolidate(queries[i % queries.length]);
      await predictLogits(c.model, new Uint8Array(3072), 1, 32);
      c.dispose();
    };
    for (let i = 0; i < queries.length; i++) await cycle(i); // grafts each expert once into the pool's shared graph
    const before = tf.memory();
    for (let i = 1; i <= 100; i++) await cycle(i);
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
  });
});
