// A 28 x 28 grey pool (input.channels "L") through every reader of the engine: PyTorch equivalence, classify from
// colour pixels, evaluate, the TF.js and ONNX exports and custom-class files. Pool: make_fixture_pool.py --kind grey28.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import * as ort from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customClassesFile, parseCustomClassesFile } from '../../src/ml/custom/customFile';
import { loadModelFiles } from '../../src/ml/pool/loadModelFiles';
import { onnxModel } from '../../src/ml/export/onnxExport';
import { predictLogits } from '../../src/ml/run/predict';
import { checkAgainstReference } from '../../src/ml/run/reference';
import { openPool, useNodeBackend, type Pool } from '../../src/node';
import { REPO_ROOT, readReference } from './helpers';
import { loadedPool } from '../../src/ml/pool';

const DIR = path.join(REPO_ROOT, 'test', '.tmp', 'pool-grey');
const LUMA = [0.299, 0.587, 0.114];
ort.env.wasm.numThreads = 1;
let pool: Pool;

beforeAll(async () => {
  execFileSync('/usr/bin/python3', ['experts/tools/make_fixture_pool.py', '--kind', 'grey28', '--out', DIR], { cwd: REPO_ROOT, stdio: 'ignore' });
  await useNodeBackend('cpu');
  pool = await openPool(DIR);
});
afterAll(() => pool?.dispose());

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe('a 28 x 28 grey pool', () => {
  it('loads and gives PyTorch\'s logits on its grey reference images', async () => {
    expect(pool.manifest.input).toMatchObject({ sizePx: 28, channels: 'L', mean: [0.4782], std: [0.2499] });
    const check = await checkAgainstReference(loadedPool(pool), readReference(DIR));
    expect(check.images).toBe(8);
    expect(check.maxAbsDiff).toBeLessThan(1e-4);
  });

  it('takes [N, 28, 28, 1]; classify turns colour pixels grey by luma, as the builder does', async () => {
    const m = pool.consolidate(['people', 'vehicles_1']);
    expect(m.model.inputs[0].shape).toEqual([null, 28, 28, 1]);
    expect(m.imageBytes).toBe(784);
    const rgb = new Uint8Array(28 * 28 * 3).map((_, i) => (i * 37 + (i % 3) * 90) % 256);
    const grey = Uint8Array.from({ length: 784 }, (_, p) => Math.round(LUMA[0] * rgb[3 * p] + LUMA[1] * rgb[3 * p + 1] + LUMA[2] * rgb[3 * p + 2]));
    const fromColour = await m.classify({ data: rgb, width: 28, height: 28 }, 10);
    const fromGrey = await m.classify({ data: grey, width: 28, height: 28 }, 10);
    const logits = await m.predictLogits(grey);
    expect(fromColour.map((p) => p.label)).toEqual(fromGrey.map((p) => p.label));
    expect(maxAbsDiff(fromColour.map((p) => p.probability), fromGrey.map((p) => p.probability))).toBeLessThan(2e-3);
    expect(fromGrey[0].label).toBe(m.labels[logits.indexOf(Math.max(...logits))]);
    await expect(m.predictLogits(new Uint8Array(28 * 28 * 3))).resolves.toHaveLength(3 * m.labels.length); // 3 grey images
    await expect(m.predictLogits(new Uint8Array(100))).rejects.toMatchObject({ code: 'IMAGE_INVALID', message: expect.stringContaining('28 x 28 grey image takes 784 bytes') });
    m.dispose();
  });

  it('evaluates grey images and exports TF.js and ONNX models that take one channel', async () => {
    const ref = readReference(DIR);
    const m = pool.consolidate(['people', 'vehicles_1']);
    const report = await m.evaluate(ref.images, ref.labels);
    expect(report.evaluated.length).toBe(8);
    const want = await m.predictLogits(ref.images);

    const files = await m.export('float32');
    const meta = JSON.parse(files['metadata.json']);
    expect(meta.input).toMatchObject({ shape: [null, 28, 28, 1], channels: 'L' });
    expect(meta.input.note).toContain('grey');
    const loaded = await loadModelFiles(files);
    expect(maxAbsDiff(await predictLogits(loaded, ref.images, ref.count, 28), want)).toBeLessThan(1e-5);
    loaded.dispose();

    const session = await ort.InferenceSession.create(onnxModel(m, pool.manifest));
    const out = await session.run({ pixels: new ort.Tensor('float32', Float32Array.from(ref.images), [ref.count, 28, 28, 1]) });
    expect(maxAbsDiff(out.logits.data as Float32Array, want)).toBeLessThan(1e-4);
    await session.release();
    m.dispose();
  });

  it('reads a custom-classes file of grey images and refuses one made for a colour pool', () => {
    const spec = { id: 'c1', label: 'mine', hidden: 4, featureShape: [7, 7, 32], weights: new Float32Array(32 * 4 + 4 + 4 + 1), pool: { name: 'pool-grey', version: '1' }, shots: 2, calibration: 'joint', trainMs: 1, createdAt: '2026-12-06' };
    const text = customClassesFile([{ spec, images: new Uint8Array(2 * 784) }]);
    expect(parseCustomClassesFile(text, 28, 1)[0].spec.shots).toBe(2);
    expect(() => parseCustomClassesFile(text, 28, 3)).toThrow(/not 28 x 28 RGB: the file was made for another pool/);
  });
});

describe('the built-in Fashion-MNIST pool', () => {
  it('takes single classes of experts whose names are free text ("T-shirt/top / Pullover / ...")', async () => {
    const fashion = await openPool(path.join(REPO_ROOT, 'public', 'pools', 'fashion-mnist'));
    const expert = fashion.manifest.experts.find((e) => /[^A-Za-z0-9_.-]/.test(e.name))!;
    const [a, b] = fashion.manifest.classes.filter((c) => c.task === expert.name);
    const m = fashion.consolidate([a.name, b.name]);
    expect(m.labels).toEqual([a.name, b.name]);
    expect((await m.predictLogits(new Uint8Array(2 * 28 * 28).fill(90), 2)).every(Number.isFinite)).toBe(true);
    m.dispose();
    fashion.dispose();
  });
});
