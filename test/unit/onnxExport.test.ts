import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-web';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsolidatedModel } from '../../src/ml/graph/consolidate';
import { onnxFiles, onnxModel, ONNX_OPSET } from '../../src/ml/export/onnxExport';
import { argmaxRows, predictLogits } from '../../src/ml/run/predict';
import { openPool, useNodeBackend, type Pool } from '../../src/node';
import { DEFAULT_POOL_DIR, FIXTURE_POOL_DIR, readReference } from './helpers';

ort.env.wasm.numThreads = 1;

async function runOnnx(bytes: Uint8Array, images: Uint8Array, count: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const out = await session.run({ pixels: new ort.Tensor('float32', Float32Array.from(images), [count, 32, 32, 3]) });
    return out.logits.data as Float32Array;
  } finally {
    await session.release();
  }
}

const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

function readSample() {
  const dir = DEFAULT_POOL_DIR;
  const meta = JSON.parse(readFileSync(path.join(dir, 'sample.json'), 'utf8'));
  return { images: new Uint8Array(readFileSync(path.join(dir, meta.file))), count: meta.count as number };
}

for (const [name, dir] of [['fixture pool', FIXTURE_POOL_DIR], ['built-in default pool', DEFAULT_POOL_DIR]]) {
  describe(`ONNX export of the ${name}, run by ONNX Runtime`, () => {
    let pool: Pool;
    const ref = readReference(dir);
    beforeAll(async () => {
      await useNodeBackend('cpu');
      pool = await openPool(dir);
    });
    afterAll(() => pool.dispose());

    it('gives TF.js logits within 1e-4 on the reference images, for whole-expert and class-level queries', async () => {
      const queries = [
        pool.manifest.experts.map((e) => e.name),
        [pool.manifest.experts[0].name],
        [pool.manifest.classes[0].name, pool.manifest.classes[pool.manifest.classes.length - 1].name, pool.manifest.classes[3].name],
      ];
      for (const q of queries) {
        const c = pool.consolidate(q);
        const want = await predictLogits(c.model, ref.images, ref.count, 32);
        const got = await runOnnx(onnxModel(c, pool.manifest), ref.images, ref.count);
        expect(got.length).toBe(want.length);
        expect(maxAbsDiff(got, want)).toBeLessThan(1e-4);
        c.dispose();
      }
    });
  });
}

describe('ONNX export of the built-in pool', () => {
  let pool: Pool;
  let c: ConsolidatedModel;
  beforeAll(async () => {
    await useNodeBackend('wasm');
    pool = await openPool(DEFAULT_POOL_DIR);
    c = pool.consolidate(['people', 'vehicles_1', 'apple', 'cup', 'flowers']);
  });
  afterAll(() => {
    c.dispose();
    pool.dispose();
  });

  it('gives the same top-1 as TF.js on the 2,000 built-in sample images', async () => {
    const s = readSample();
    const k = c.labels.length;
    const want = argmaxRows(await predictLogits(c.model, s.images, s.count, 32), k);
    const got = argmaxRows(await runOnnx(onnxModel(c, pool.manifest), s.images, s.count), k);
    expect(s.count).toBe(2000);
    expect(Array.from(got)).toEqual(Array.from(want));
  });

  it('stores float16 weights in about half the bytes, still close and float32 in and out', async () => {
    const f32 = onnxModel(c, pool.manifest, 'float32');
    const f16 = onnxModel(c, pool.manifest, 'float16');
    expect(f16.byteLength / f32.byteLength).toBeLessThan(0.6);
    const ref = readReference(DEFAULT_POOL_DIR);
    const a = await runOnnx(f32, ref.images, ref.count);
    const b = await runOnnx(f16, ref.images, ref.count);
    expect(maxAbsDiff(a, b)).toBeLessThan(0.1);
    expect(Array.from(argmaxRows(b, c.labels.length))).toEqual(Array.from(argmaxRows(a, c.labels.length)));
  });

  it('declares opset 17, the input and output, and carries the labels in its metadata and beside it', async () => {
    const files = onnxFiles(c, pool.manifest, 'float32');
    const m = onnxProto.onnx.ModelProto.decode(files['model.onnx']);
    expect(m.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', ONNX_OPSET]]);
    const graph = m.graph!;
    const dims = (v: onnxProto.onnx.IValueInfoProto) => v.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue));
    expect(graph.input!.map((i) => [i.name, dims(i)])).toEqual([['pixels', ['N', 32, 32, 3]]]);
    expect(graph.output!.map((o) => [o.name, dims(o)])).toEqual([['logits', ['N', c.labels.length]]]);
    const props = Object.fromEntries(m.metadataProps.map((p) => [p.key, p.value]));
    expect(JSON.parse(props.labels)).toEqual(c.labels);
    const meta = JSON.parse(files['metadata.json']);
    expect(meta.labels).toEqual(c.labels);
    expect(meta.modelFile).toBe('model.onnx');
    const session = await ort.InferenceSession.create(files['model.onnx']);
    expect([session.inputNames, session.outputNames]).toEqual([['pixels'], ['logits']]);
    await session.release();
  });

  it('refuses a layer it cannot translate with a coded message', () => {
    const input = tf.input({ shape: [32, 32, 3] });
    const pooled = tf.layers.maxPooling2d({ poolSize: 2, name: 'odd_pool' }).apply(input) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: pooled });
    expect(() => onnxModel({ ...c, model }, pool.manifest)).toThrow(expect.objectContaining({ code: 'EXPORT_UNSUPPORTED', message: expect.stringContaining('odd_pool (MaxPooling2D)') }));
    model.dispose();
  });
});
