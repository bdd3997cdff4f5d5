// "None of these": the detector in the consolidated graph, its calibration, and its exports.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { poolLogits, queryScores, separation } from '../../cli/lib/unknownEval';
import { compileTflite, tfliteLogits } from '../../src/io/litert';
import { loadModelFiles } from '../../src/ml/pool/loadModelFiles';
import { onnxModel } from '../../src/ml/export/onnxExport';
import { predictLogits } from '../../src/ml/run/predict';
import { openPool, useNodeBackend, type Pool } from '../../src/node';
import { startLiteRtNode } from '../../src/node/litert';
import { FIXTURE_POOL_DIR, readReference } from './helpers';
import * as ort from 'onnxruntime-web';

const ref = readReference(FIXTURE_POOL_DIR);
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
let pool: Pool;
beforeAll(async () => {
  await useNodeBackend('wasm');
  await startLiteRtNode();
  pool = await openPool(FIXTURE_POOL_DIR);
});
afterAll(() => pool.dispose());

describe('the "none of these" detector', () => {
  it('leaves the logits as they are and adds p(known) = the chosen classes\' share of softmax(all logits / T)', async () => {
    for (const query of [['people', 'vehicles_1'], ['cup', 'bus', 'girl']]) {
      const plain = pool.consolidate(query);
      const d = pool.consolidate(query, { unknown: true });
      expect(d.labels).toEqual(plain.labels);
      expect(maxDiff(await d.predictLogits(ref.images), await plain.predictLogits(ref.images))).toBeLessThan(1e-5);
      const known = await d.predictKnown(ref.images);
      const formula = queryScores(await poolLogits(pool, { images: ref.images, labels: ref.labels }), d.plan).known.map(Math.exp);
      expect(maxDiff(known, formula)).toBeLessThan(1e-5);
      expect(Math.min(...known)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...known)).toBeLessThanOrEqual(1 + 1e-6);
      plain.dispose();
      d.dispose();
    }
  });

  it('calibrates its threshold to keep 95 % of the chosen classes\' images, and says "none of these" below it', async () => {
    const d = pool.consolidate(['people', 'vehicles_1'], { unknown: true });
    expect(d.unknown?.threshold).toBe(0);
    const cal = await d.calibrateUnknown(ref.images, ref.labels);
    expect(d.unknown?.threshold).toBe(cal.threshold);
    expect(cal.knownKept).toBeGreaterThanOrEqual(0.95 - 1 / cal.knownImages);
    const known = await d.predictKnown(ref.images);
    const i = known.findIndex((p) => p < cal.threshold);
    if (i >= 0) {
      const r = await d.identify({ data: ref.images.subarray(i * 3072, (i + 1) * 3072), width: 32, height: 32 });
      expect([r.unknown, r.known! < cal.threshold]).toEqual([true, true]);
    }
    const plain = pool.consolidate(['people']);
    expect((await plain.identify({ data: ref.images.subarray(0, 3072), width: 32, height: 32 })).known).toBeNull();
    await expect(plain.predictKnown(ref.images)).rejects.toMatchObject({ code: 'EXPORT_UNSUPPORTED' });
    await expect(d.calibrateUnknown(ref.images.subarray(0, 3072), [99])).rejects.toMatchObject({ code: 'IMAGE_INVALID' });
    plain.dispose();
    d.dispose();
  });

  it('counts an unchosen custom class as the rest of the world, and a chosen one as known', async () => {
    const stripes = new Uint8Array(12 * 3072).map((_, i) => ((i / 3) % 32 < 16 ? 240 : 20));
    pool.customClasses.setNegatives(ref);
    const spec = await pool.customClasses.train('my keys', stripes, { steps: 20 });
    const without = pool.consolidate(['people'], { unknown: true });
    const withIt = pool.consolidate(['people', spec.id], { unknown: true });
    const a = await without.predictKnown(stripes);
    const b = await withIt.predictKnown(stripes);
    expect(b.every((p, i) => p > a[i])).toBe(true);
    expect(withIt.labels.at(-1)).toBe('my keys');
    without.dispose();
    withIt.dispose();
    pool.customClasses.remove(spec.id);
  });

  it('travels in every download as the output\'s last column, with its threshold in metadata.json', async () => {
    const d = pool.consolidate(['people', 'cup'], { unknown: true });
    await d.calibrateUnknown(ref.images, ref.labels);
    const want = await predictLogits(d.model, ref.images, ref.count, 32);
    const k = d.labels.length;
    expect(want.length).toBe(ref.count * (k + 1));
    const files = await d.export('float32');
    const meta = JSON.parse(files['metadata.json']);
    expect(meta.output).toBe('logits+p_known');
    expect(meta.unknown).toMatchObject({ outputColumn: k, threshold: d.unknown!.threshold, temperature: 2 });
    const m = await loadModelFiles(files);
    expect(maxDiff(await predictLogits(m, ref.images, ref.count, 32), want)).toBeLessThan(1e-6);
    m.dispose();
    ort.env.wasm.numThreads = 1;
    const session = await ort.InferenceSession.create(onnxModel(d, pool.manifest));
    const out = await session.run({ pixels: new ort.Tensor('float32', Float32Array.from(ref.images), [ref.count, 32, 32, 3]) });
    expect(maxDiff(out.logits.data as Float32Array, want)).toBeLessThan(1e-4);
    await session.release();
    const tflite = await compileTflite((await d.exportTflite('float32'))['model.tflite']);
    expect(maxDiff(await tfliteLogits(tflite, ref.images, ref.count), want)).toBeLessThan(1e-4);
    tflite.delete();
    const int8 = await compileTflite((await d.exportTflite('int8', { images: ref.images, count: ref.count, about: 'reference images' }))['model.tflite']);
    const q = await tfliteLogits(int8, ref.images, ref.count);
    int8.delete();
    const knownCol = (rows: Float32Array) => Array.from({ length: ref.count }, (_, i) => rows[i * (k + 1) + k]);
    expect(maxDiff(knownCol(q), knownCol(want))).toBeLessThan(0.1); // int8 softmax: steps of 1/256
    d.dispose();
  });
});

describe('separation scores', () => {
  it('AUROC and FPR at 95 % TPR, ties counted half', () => {
    expect(separation([3, 4, 5], [0, 1, 2])).toEqual({ auroc: 1, fpr95: 0 });
    expect(separation([0, 1, 2], [3, 4, 5])).toEqual({ auroc: 0, fpr95: 1 });
    expect(separation([1, 1], [1, 1])).toEqual({ auroc: 0.5, fpr95: 1 });
  });
});
