// The LiteRT / TFLite export, checked by Google's own runtime (LiteRT.js, @litertjs/core, on its wasm CPU path).
import * as tf from '@tensorflow/tfjs';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileTflite, tfliteLogits } from '../../src/io/litert';
import { loadSample, type Sample } from '../../src/io/sample';
import { argmaxRows } from '../../src/ml/run/predict';
import { peakActivationBytes } from '../../src/ml/export/tflite/arena';
import { tfliteGraph } from '../../src/ml/export/tflite/graph';
import { readTflite, TensorType, type FlatModel } from '../../src/ml/export/tflite/write';
import { folderSource, openPool, useNodeBackend, type Pool, type TaskModel } from '../../src/node';
import { startLiteRtNode } from '../../src/node/litert';
import { DEFAULT_POOL_DIR, FIXTURE_POOL_DIR, REPO_ROOT, readReference } from './helpers';

const FASHION_DIR = path.join(REPO_ROOT, 'public', 'pools', 'fashion-mnist');
const MICRO_OPS = new Set(['CONV_2D', 'DEPTHWISE_CONV_2D', 'ADD', 'PAD', 'MEAN', 'AVERAGE_POOL_2D', 'FULLY_CONNECTED', 'CONCATENATION', 'RESHAPE', 'SOFTMAX', 'QUANTIZE', 'DEQUANTIZE']);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'poe-tflite-'));

async function liteRtLogits(bytes: Uint8Array, images: Uint8Array, count: number): Promise<Float32Array> {
  const m = await compileTflite(bytes);
  try {
    return await tfliteLogits(m, images, count);
  } finally {
    m.delete();
  }
}

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
const calibrationOf = (s: Sample) => ({ images: s.images, count: s.count, about: 'sample images' });

/** The model's operator names, its metadata entries and the byte offset of every constant buffer. */
function inspect(bytes: Uint8Array) {
  const m = readTflite(bytes);
  const codes = Array.from({ length: m.operatorCodesLength() }, (_, i) => m.operatorCodes(i)!);
  const names = ['ADD', 'AVERAGE_POOL_2D', 'CONCATENATION', 'CONV_2D', 'DEPTHWISE_CONV_2D'];
  const opName = (code: number) => ({ 6: 'DEQUANTIZE', 9: 'FULLY_CONNECTED', 19: 'RELU', 22: 'RESHAPE', 25: 'SOFTMAX', 34: 'PAD', 40: 'MEAN', 114: 'QUANTIZE' } as Record<number, string>)[code] ?? names[code] ?? `#${code}`;
  const metadata = Object.fromEntries(Array.from({ length: m.metadataLength() }, (_, i) => {
    const e = m.metadata(i)!;
    return [e.name()!, new TextDecoder().decode(m.buffers(e.buffer())!.dataArray()!)];
  }));
  const offsets = Array.from({ length: m.buffersLength() }, (_, i) => m.buffers(i)!.dataArray()).filter((d) => d && d.length).map((d) => d!.byteOffset);
  const g = m.subgraphs(0)!;
  const input = g.tensors(g.inputs(0)!)!;
  return { ops: codes.map((c) => opName(c.builtinCode())), metadata, offsets, inputType: input.type(), inputShape: Array.from(input.shapeArray()!) };
}

describe('TFLite export (fixture pool)', () => {
  let pool: Pool;
  const ref = readReference(FIXTURE_POOL_DIR);
  beforeAll(async () => {
    await useNodeBackend('wasm');
    await startLiteRtNode();
    pool = await openPool(FIXTURE_POOL_DIR);
  });
  afterAll(() => pool.dispose());

  it('float32 runs in LiteRT.js with logits within 1e-4 of TF.js, for whole-expert, class-level and custom-class queries', async () => {
    const stripes = new Uint8Array(12 * 3072).map((_, i) => ((i / 3) % 32 < 16 ? 240 : 20));
    pool.customClasses.setNegatives(ref);
    const spec = await pool.customClasses.train('my keys', stripes, { steps: 20 });
    for (const query of [['people', 'vehicles_1'], ['cup', 'bus', 'girl'], ['kitchen', spec.id]]) {
      const c = pool.consolidate(query);
      const files = await c.exportTflite('float32');
      const want = await c.predictLogits(ref.images, ref.count);
      const got = await liteRtLogits(files['model.tflite'], ref.images, ref.count);
      expect(got.length).toBe(want.length);
      expect(maxDiff(got, want)).toBeLessThan(1e-4);
      const meta = JSON.parse(files['metadata.json']);
      expect([meta.labels, meta.modelFile, meta.tflite.precision]).toEqual([c.labels, 'model.tflite', 'float32']);
      c.dispose();
    }
    pool.customClasses.remove(spec.id);
  });

  it('writes TFLite Micro built-in operators only, the labels in its own metadata, and 16-byte aligned constants', async () => {
    const c = pool.consolidate(['people', 'cup']);
    for (const precision of ['float32', 'float16', 'int8'] as const) {
      const files = await c.exportTflite(precision, { images: ref.images, count: ref.count, about: 'reference images' });
      const bytes = files['model.tflite'];
      expect(new TextDecoder().decode(bytes.subarray(4, 8))).toBe('TFL3');
      const info = inspect(bytes);
      expect(info.ops.filter((o) => !MICRO_OPS.has(o))).toEqual([]);
      expect(info.metadata.labels.split('\n')).toEqual(c.labels);
      expect(JSON.parse(info.metadata['poe.metadata']).labels).toEqual(c.labels);
      expect(info.offsets.filter((o) => o % 16 !== 0)).toEqual([]);
      expect(info.inputShape).toEqual([1, 32, 32, 3]);
      expect(info.inputType).toBe(precision === 'int8' ? TensorType.UINT8 : TensorType.FLOAT32);
      if (precision === 'int8') expect(info.ops).toEqual(expect.arrayContaining(['QUANTIZE', 'CONV_2D', 'DEPTHWISE_CONV_2D', 'FULLY_CONNECTED', 'DEQUANTIZE']));
    }
    c.dispose();
  });

  it('refuses what it cannot write with EXPORT_UNSUPPORTED, never a broken file', async () => {
    const input = tf.input({ shape: [8, 8, 3] });
    const pooled = tf.layers.maxPooling2d({ poolSize: 2 }).apply(input) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: tf.layers.flatten().apply(pooled) as tf.SymbolicTensor });
    expect(() => tfliteGraph(model)).toThrow(expect.objectContaining({ code: 'EXPORT_UNSUPPORTED', message: expect.stringMatching(/MaxPooling2D/) }));
    const x = tf.input({ shape: [4] });
    const dense = tf.model({ inputs: x, outputs: tf.layers.dense({ units: 2, activation: 'sigmoid' }).apply(x) as tf.SymbolicTensor });
    expect(() => tfliteGraph(dense)).toThrow(expect.objectContaining({ code: 'EXPORT_UNSUPPORTED', message: expect.stringMatching(/sigmoid/) }));
    const seq = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 2 })] });
    expect(() => tfliteGraph(seq)).toThrow(expect.objectContaining({ code: 'EXPORT_UNSUPPORTED' }));
    seq.dispose();
    model.dispose();
    dense.dispose();
    const c = pool.consolidate(['people']);
    await expect(c.exportTflite('int8')).rejects.toMatchObject({ code: 'EXPORT_UNSUPPORTED', message: expect.stringMatching(/calibration images/) });
    await expect(c.exportTflite('uint8' as 'int8')).rejects.toMatchObject({ code: 'EXPORT_UNSUPPORTED' });
    await expect(c.exportTflite('int8', { images: new Uint8Array(10), count: 1, about: 'x' })).rejects.toMatchObject({ code: 'IMAGE_INVALID' });
    c.dispose();
  });

  it('int8: the C pair compiles and holds the .tflite bytes, with the arena and the operators in its header', async () => {
    const c = pool.consolidate(['people', 'vehicles_1']);
    const files = await c.exportTflite('int8', { images: ref.images, count: ref.count, about: 'reference images' });
    c.dispose();
    const meta = JSON.parse(files['metadata.json']);
    expect(meta.input.dtype).toBe('uint8');
    expect(meta.tflite.tensorArenaBytes).toBeGreaterThan(2 * 32 * 32 * 3);
    writeFileSync(path.join(tmp, 'model_data.h'), files['model_data.h']!);
    writeFileSync(path.join(tmp, 'model_data.cc'), files['model_data.cc']!);
    writeFileSync(path.join(tmp, 'main.cc'), `#include "model_data.h"
#include <cstdio>
#include <cstdint>
int main(int, char** argv) {
  if (reinterpret_cast<uintptr_t>(g_poe_model_data) % 16 != 0) return 2;
  FILE* f = std::fopen(argv[1], "wb");
  std::fwrite(g_poe_model_data, 1, g_poe_model_data_len, f);
  return std::fclose(f);
}
`);
    execFileSync('g++', ['-std=c++11', '-Wall', '-Werror', '-o', path.join(tmp, 'dump'), path.join(tmp, 'main.cc'), path.join(tmp, 'model_data.cc')]);
    execFileSync(path.join(tmp, 'dump'), [path.join(tmp, 'out.tflite')]);
    expect(Buffer.compare(readFileSync(path.join(tmp, 'out.tflite')), Buffer.from(files['model.tflite']))).toBe(0);
    expect(files['model_data.h']).toContain(`activations need ${meta.tflite.tensorArenaBytes} bytes`);
    for (const op of ['AddConv2D', 'AddDepthwiseConv2D', 'AddFullyConnected', 'AddQuantize', 'AddDequantize']) expect(files['model_data.h']).toContain(op);
  });
});

describe('TFLite export of the built-in pools, run by LiteRT.js', () => {
  let cifar: Pool;
  let sample: Sample;
  beforeAll(async () => {
    await useNodeBackend('wasm');
    await startLiteRtNode();
    cifar = await openPool(DEFAULT_POOL_DIR);
    sample = (await loadSample(folderSource(DEFAULT_POOL_DIR)))!;
  });
  afterAll(() => cifar.dispose());

  /** Top-1 on the sample images of the model's classes. */
  const top1On = (c: TaskModel, logits: Float32Array, s: Sample) => {
    const column = new Map(c.plan.classIndices.map((k, j) => [k, j]));
    const guess = argmaxRows(logits, c.labels.length);
    const mine = s.labels.flatMap((l, i) => (column.has(l) ? [i] : []));
    return mine.filter((i) => guess[i] === column.get(s.labels[i])).length / mine.length;
  };

  it('float32 and float16 give the same top-1 as TF.js on every sample image of the chosen classes; int8 is within 2 points', async () => {
    const c = cifar.consolidate(['people', 'vehicles_1']);
    const column = new Map(c.plan.classIndices.map((k, j) => [k, j]));
    const mine = sample.labels.flatMap((l, i) => (column.has(l) ? [i] : []));
    const per = sample.images.length / sample.count;
    const images = new Uint8Array(mine.length * per);
    mine.forEach((src, j) => images.set(sample.images.subarray(src * per, (src + 1) * per), j * per));
    const truth = mine.map((i) => column.get(sample.labels[i])!);
    const top1 = (rows: Int32Array) => truth.filter((t, i) => rows[i] === t).length / truth.length;
    const want = argmaxRows(await c.predictLogits(images, mine.length), c.labels.length);
    const sizes: Record<string, number> = {};
    for (const precision of ['float32', 'float16', 'int8'] as const) {
      const files = await c.exportTflite(precision, calibrationOf(sample));
      sizes[precision] = files['model.tflite'].length;
      const got = argmaxRows(await liteRtLogits(files['model.tflite'], images, mine.length), c.labels.length);
      if (precision !== 'int8') expect(Array.from(got)).toEqual(Array.from(want));
      else expect(Math.abs(top1(got) - top1(want))).toBeLessThanOrEqual(0.02);
    }
    expect(sizes.float16 / sizes.float32).toBeLessThan(0.6);
    expect(sizes.int8 / sizes.float32).toBeLessThan(0.4);
    c.dispose();
  });

  it('a grey pool (Fashion-MNIST) exports too: float32 within 1e-4, int8 takes 28 x 28 x 1 uint8 pixels', async () => {
    const fashion = await openPool(FASHION_DIR);
    const fref = readReference(FASHION_DIR);
    const c = fashion.consolidate(['T-shirt/top / Pullover / ...', 'Sandal / Sneaker / ...']);
    const f32 = await c.exportTflite('float32');
    expect(maxDiff(await liteRtLogits(f32['model.tflite'], fref.images, fref.count), await c.predictLogits(fref.images, fref.count))).toBeLessThan(1e-4);
    const s = (await loadSample(folderSource(FASHION_DIR)))!;
    const int8 = await c.exportTflite('int8', calibrationOf(s));
    expect(inspect(int8['model.tflite']).inputShape).toEqual([1, 28, 28, 1]);
    const q = await liteRtLogits(int8['model.tflite'], s.images, s.count);
    expect(Math.abs(top1On(c, q, s) - top1On(c, await c.predictLogits(s.images, s.count), s))).toBeLessThanOrEqual(0.02);
    c.dispose();
    fashion.dispose();
  });
});

describe('tensor arena', () => {
  it('is the peak of the activations alive at once, each rounded up to 16 bytes', () => {
    const t = (n: number, data = false) => ({ name: '', shape: [n], type: TensorType.INT8, ...(data ? { data: new Uint8Array(n) } : {}) });
    const op = (inputs: number[], outputs: number[]) => ({ op: 'ADD' as const, inputs, outputs, activation: 'NONE' as const, version: 1 });
    // in(20 -> 32) -> a(100 -> 112) -> b(10 -> 16); a and the weight w feed c(40 -> 48) with b: peak at the last op: a + b + c.
    const m: FlatModel = { tensors: [t(20), t(100), t(10), t(40), t(64, true)], ops: [op([0], [1]), op([1, 4], [2]), op([1, 2], [3])], inputs: [0], outputs: [3], description: '', metadata: [] };
    expect(peakActivationBytes(m)).toBe(112 + 16 + 48);
  });
});

describe('the generated schema code', () => {
  it('is what flatc makes from tflite.fbs today', () => {
    const out = path.join(tmp, 'generated');
    const r = spawnSync('bash', ['scripts/gen-tflite-schema.sh', out], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const committed = path.join(REPO_ROOT, 'src', 'ml', 'export', 'tflite', 'schema', 'generated');
    const list = (d: string): string[] => readdirSync(d, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.relative(d, path.join(e.parentPath, e.name))).sort();
    expect(list(out)).toEqual(list(committed));
    for (const f of list(out)) expect(readFileSync(path.join(out, f), 'utf8'), f).toBe(readFileSync(path.join(committed, f), 'utf8'));
    rmSync(out, { recursive: true, force: true });
  });
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));
