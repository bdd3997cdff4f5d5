import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openPool, PoeError, useNodeBackend, type Pool, type PoolBundle, type PoolCache, type PoolStatus } from '../../src/node';
import { folderSource } from '../../src/node/folderSource';
import { argmaxRows } from '../../src/ml/run/predict';
import { CompiledPlan } from '../../src/ml/run/plan';
import { referenceColumns } from '../../src/ml/run/reference';
import { FIXTURE_POOL_DIR, readReference } from './helpers';

/** A PoolCache in memory, counting its reads and writes. */
function memoryCache(): PoolCache & { entries: Map<string, PoolBundle>; writes: number } {
  const entries = new Map<string, PoolBundle>();
  const cache = {
    entries, writes: 0,
    read: async (key: string) => ({ bundle: entries.get(key) ?? null }),
    write: async (key: string, bundle: PoolBundle) => {
      cache.writes++;
      entries.set(key, bundle);
      return { ok: true as const };
    },
  };
  return cache;
}

/** Nearest-neighbour upscale of a size x size RGB image by `f`, padded left and right with noise. */
function upscaledAndPadded(rgb: Uint8Array, size: number, f: number, pad: number): { data: Uint8Array; width: number; height: number } {
  const side = size * f;
  const width = side + 2 * pad;
  const data = new Uint8Array(width * side * 3);
  for (let y = 0; y < side; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0; c < 3; c++) {
        const inside = x >= pad && x < pad + side;
        data[(y * width + x) * 3 + c] = inside ? rgb[((Math.floor(y / f) * size) + Math.floor((x - pad) / f)) * 3 + c] : (x * 37 + y * 11 + c * 101) % 256;
      }
  return { data, width, height: side };
}

describe('engine API: openPool -> Pool -> TaskModel', () => {
  const ref = readReference(FIXTURE_POOL_DIR);
  const image = (i: number) => ref.images.subarray(i * 3072, (i + 1) * 3072);
  let pool: Pool;
  const statuses: PoolStatus['phase'][] = [];
  beforeAll(async () => {
    await useNodeBackend('wasm');
    pool = await openPool(FIXTURE_POOL_DIR, { onStatus: (s) => statuses.push(s.phase) });
  });
  afterAll(() => pool.dispose());

  it('reports its phases in order and opens from the folder', () => {
    expect([...new Set(statuses)]).toEqual(['download', 'instantiate', 'warm-up', 'ready']);
    expect(pool.origin).toBe('network');
    expect(pool.reference?.count).toBe(ref.count);
  });

  it('predicts many images in one call of the model, with and without the detector', async () => {
    for (const unknown of [false, true]) {
      const m = pool.consolidate(['cup', 'people'], { unknown });
      const spy = vi.spyOn(CompiledPlan.prototype, 'predict');
      await m.predictLogits(ref.images, ref.count);
      if (unknown) await m.predictWithKnown(ref.images, ref.count);
      expect(spy).toHaveBeenCalledTimes(unknown ? 2 : 1); // once a call, not once per 3 images
      spy.mockRestore();
      m.dispose();
    }
  });

  it('consolidates superclasses and single classes, mixed, and matches PyTorch', async () => {
    const m = pool.consolidate(['cup', 'people']);
    expect(m.labels).toEqual(['baby', 'boy', 'girl', 'man', 'woman', 'cup']);
    const got = await m.predictLogits(ref.images, ref.count);
    const want = referenceColumns(ref, m.plan.parts);
    expect(Math.max(...Array.from(want, (w, i) => Math.abs(w - got[i])))).toBeLessThan(1e-4);
    m.dispose();
  });

  it('classify takes RGB or RGBA pixels, a tensor, or a larger image (centre square, averaged down), all alike', async () => {
    const m = pool.consolidate(['people', 'vehicles_1', 'cup']);
    const rgb = image(3);
    const logits = await m.predictLogits(rgb, 1);
    const best = argmaxRows(logits, m.labels.length)[0];
    const fromRgb = await m.classify({ data: rgb, width: 32, height: 32 }, 3);
    expect(fromRgb).toHaveLength(3);
    expect(fromRgb[0].label).toBe(m.labels[best]);
    const rgba = new Uint8ClampedArray(32 * 32 * 4).map((_, i) => (i % 4 === 3 ? 255 : rgb[Math.floor(i / 4) * 3 + (i % 4)]));
    const big = upscaledAndPadded(rgb, 32, 3, 16);
    const t = tf.tensor4d(rgb, [1, 32, 32, 3], 'int32');
    for (const other of [await m.classify({ data: rgba, width: 32, height: 32 }, 3), await m.classify(big, 3), await m.classify(t, 3)])
      other.forEach((p, k) => {
        expect(p.label).toBe(fromRgb[k].label);
        expect(p.probability).toBeCloseTo(fromRgb[k].probability, 5);
      });
    t.dispose();
    await expect(m.classify({ data: new Uint8Array(10), width: 32, height: 32 })).rejects.toMatchObject({ code: 'IMAGE_INVALID' });
    m.dispose();
  });

  it('evaluate gives top-1, per-class accuracy, a confusion matrix and mistakes by input index', async () => {
    const m = pool.consolidate(['people', 'vehicles_1']);
    const r = await m.evaluate(ref.images, ref.labels);
    const covered = ref.labels.map((l, i) => [l, i] as const).filter(([l]) => m.plan.classIndices.includes(l)).map(([, i]) => i);
    expect(r.evaluated).toEqual(covered);
    // Independently: PyTorch's logits for the same columns, argmax per image.
    const want = argmaxRows(referenceColumns(ref, m.plan.parts), m.labels.length);
    const truth = (i: number) => m.plan.classIndices.indexOf(ref.labels[i]);
    expect(r.mistakes.map((x) => x.index)).toEqual(covered.filter((i) => want[i] !== truth(i)));
    expect(r.correct).toBe(covered.length - r.mistakes.length);
    expect(r.confusion.flat().reduce((a, b) => a + b, 0)).toBe(covered.length);
    expect(r.perClass.map((c) => c.correct)).toEqual(r.confusion.map((row, k) => row[k]));
    expect(r.perClass.reduce((n, c) => n + c.images, 0)).toBe(r.images);
    // Names work as labels too.
    const names = ref.labels.map((l) => pool.manifest.classes.find((c) => c.index === l)!.name);
    expect((await m.evaluate(ref.images, names)).top1).toBe(r.top1);
    await expect(m.evaluate(ref.images, names.slice(1))).rejects.toMatchObject({ code: 'IMAGE_INVALID' });
    await expect(m.evaluate(ref.images, [...ref.labels.slice(1), 2.5])).rejects.toMatchObject({ code: 'SELECTION_UNKNOWN', message: expect.stringMatching(/Label 2.5 .* not a class index/) });
    await expect(m.evaluate(ref.images.subarray(1), ref.labels)).rejects.toMatchObject({ code: 'IMAGE_INVALID' });
    await expect(m.predictLogits(ref.images, ref.count + 1)).rejects.toMatchObject({ code: 'IMAGE_INVALID', message: expect.stringMatching(`for ${ref.count + 1} images`) });
    m.dispose();
  });

  it('exports the files of a download; bytes is the float32 weights file', async () => {
    const m = pool.consolidate(['people', 'cup']);
    const f32 = await m.export('float32');
    expect(f32['weights.bin'].byteLength).toBe(m.bytes);
    expect(JSON.parse(f32['metadata.json']).labels).toEqual(m.labels);
    const f16 = await m.export('float16');
    expect(f16['weights.bin'].byteLength).toBe(m.bytes / 2);
    expect(Object.keys(await m.export('float16', 'onnx')).sort()).toEqual(['metadata.json', 'model.onnx']);
    await expect(m.export('uint8', 'onnx')).rejects.toMatchObject({ code: 'EXPORT_UNSUPPORTED' });
    m.dispose();
  });

  it('a disposed model says so, and model + pool disposal frees every tensor', async () => {
    const base = tf.memory().numTensors;
    const other = await openPool(FIXTURE_POOL_DIR);
    const m = other.consolidate(['people', 'cup']);
    await m.classify({ data: image(0), width: 32, height: 32 });
    m.dispose();
    await expect(m.classify({ data: image(0), width: 32, height: 32 })).rejects.toBeInstanceOf(PoeError);
    other.dispose();
    expect(tf.memory().numTensors).toBe(base);
    expect(() => other.consolidate(['people'])).toThrow(expect.objectContaining({ code: 'POOL_DISPOSED' }));
    await expect(other.checkDevice()).rejects.toMatchObject({ code: 'POOL_DISPOSED' });
  });
});

describe('openPool caching', () => {
  beforeAll(() => useNodeBackend('wasm'));

  it('prefer-cache opens a cached pool without reading the source; reload reads the source and re-caches', async () => {
    const cache = memoryCache();
    const first = await openPool(FIXTURE_POOL_DIR, { cache, cacheKey: 'fx', warmUp: false });
    expect([first.origin, cache.writes]).toEqual(['network', 1]);
    first.dispose();
    const unreachable = { describe: 'nowhere', read: () => Promise.reject(new Error('must not be read')) };
    const second = await openPool(unreachable, { cache, cacheKey: 'fx', warmUp: false });
    expect(second.origin).toBe('cache');
    second.dispose();
    const third = await openPool(FIXTURE_POOL_DIR, { cache, cacheKey: 'fx', cacheMode: 'reload', warmUp: false });
    expect([third.origin, cache.writes]).toEqual(['network', 2]);
    third.dispose();
  });

  it('cache-only never reads the source; a bundle given directly is verified like a download', async () => {
    const cache = memoryCache();
    const unreachable = { describe: 'nowhere', read: () => Promise.reject(new Error('must not be read')) };
    await expect(openPool(unreachable, { cache, cacheKey: 'fx', cacheMode: 'cache-only' })).rejects.toMatchObject({ code: 'FILE_MISSING' });
    const first = await openPool(FIXTURE_POOL_DIR, { cache, cacheKey: 'fx', warmUp: false });
    first.dispose();
    const cached = await openPool(unreachable, { cache, cacheKey: 'fx', cacheMode: 'cache-only', warmUp: false });
    expect(cached.origin).toBe('cache');
    cached.dispose();
    const files = new Map(cache.entries.get('fx')!.files);
    const weights = [...files.keys()].find((k) => k.startsWith('experts/') && k.endsWith('.bin'))!;
    const tampered = files.get(weights)!.slice();
    tampered[0] ^= 0xff;
    files.set(weights, tampered);
    await expect(openPool({ manifest: cache.entries.get('fx')!.manifest, files })).rejects.toMatchObject({ code: 'FILE_CHECKSUM' });
  });

  it('prefer-network falls back to the cache only when the network fails', async () => {
    const cache = memoryCache();
    const offline = { describe: 'https://pools.example/', read: () => Promise.reject(new PoeError('NETWORK', 'offline')) };
    await expect(openPool(offline, { cache, cacheKey: 'fx', cacheMode: 'prefer-network' })).rejects.toMatchObject({ code: 'NETWORK' });
    (await openPool(folderSource(FIXTURE_POOL_DIR), { cache, cacheKey: 'fx', warmUp: false })).dispose();
    const pool = await openPool(offline, { cache, cacheKey: 'fx', cacheMode: 'prefer-network', warmUp: false });
    expect(pool.origin).toBe('cache');
    expect(pool.notices.join(' ')).toMatch(/could not be reached/);
    pool.dispose();
    const broken = { describe: 'broken', read: () => Promise.reject(new PoeError('FILE_CHECKSUM', 'tampered')) };
    await expect(openPool(broken, { cache, cacheKey: 'fx', cacheMode: 'prefer-network' })).rejects.toMatchObject({ code: 'FILE_CHECKSUM' });
  });
});
