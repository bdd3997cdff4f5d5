import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodePng } from '../../harness/png';
import { afterAll, describe, expect, it } from 'vitest';
import { dataDir, readTestSplit } from '../../cli/lib/cifar';
import { openPool, useNodeBackend } from '../../src/node';
import { FIXTURE_POOL_DIR, REPO_ROOT, readReference } from './helpers';

const tsx = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
const run = (script: string, args: string[]) => {
  const r = spawnSync(tsx, [path.join(REPO_ROOT, 'cli', script), ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const tmp = mkdtempSync(path.join(os.tmpdir(), 'poe-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('npm run consolidate', () => {
  it('writes model.json, weights.bin and metadata.json for a mixed class/superclass query', () => {
    const out = path.join(tmp, 'model');
    const r = run('consolidate.ts', ['--pool', FIXTURE_POOL_DIR, '--classes', 'cup,people,bus', '--out', out]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('consolidated 7 classes from 3 expert(s)');
    const meta = JSON.parse(readFileSync(path.join(out, 'metadata.json'), 'utf8'));
    expect(meta.labels).toEqual(['baby', 'boy', 'girl', 'man', 'woman', 'bus', 'cup']);
    expect(existsSync(path.join(out, 'weights.bin'))).toBe(true);
  });

  it('writes model.onnx and metadata.json with --format onnx', () => {
    const out = path.join(tmp, 'onnx');
    const r = run('consolidate.ts', ['--pool', FIXTURE_POOL_DIR, '--classes', 'cup,people', '--out', out, '--format', 'onnx', '--precision', 'float16']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/model\.onnx [\d,]+ bytes \(float16\)/);
    const meta = JSON.parse(readFileSync(path.join(out, 'metadata.json'), 'utf8'));
    expect([meta.labels, meta.modelFile, meta.weightPrecision]).toEqual([['baby', 'boy', 'girl', 'man', 'woman', 'cup'], 'model.onnx', 'float16']);
    expect(readFileSync(path.join(out, 'model.onnx')).byteLength).toBeGreaterThan(40_000);
    expect(existsSync(path.join(out, 'weights.bin'))).toBe(false);
  });

  it('writes model.tflite, metadata.json and the C pair with --format tflite --precision int8', () => {
    const out = path.join(tmp, 'tflite');
    const r = run('consolidate.ts', ['--pool', FIXTURE_POOL_DIR, '--classes', 'cup,people', '--out', out, '--format', 'tflite', '--precision', 'int8']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/model\.tflite [\d,]+ bytes \(int8\)/);
    expect(r.out).toMatch(/int8 calibrated on \d+ reference images of the pool/); // the fixture pool has no sample
    expect(r.out).toMatch(/tensor arena: [\d,]+ bytes/);
    const meta = JSON.parse(readFileSync(path.join(out, 'metadata.json'), 'utf8'));
    expect([meta.labels, meta.modelFile, meta.weightPrecision, meta.input.dtype]).toEqual([['baby', 'boy', 'girl', 'man', 'woman', 'cup'], 'model.tflite', 'int8', 'uint8']);
    expect(readFileSync(path.join(out, 'model_data.cc'), 'utf8')).toContain(`g_poe_model_data_len = ${readFileSync(path.join(out, 'model.tflite')).byteLength};`);
  });

  it.each([
    [['--classes', 'people', '--out', 'x', '--format', 'onnx', '--precision', 'uint8'], /--precision must be float32 or float16 for --format onnx, not "uint8"/],
    [['--classes', 'people', '--out', 'x', '--format', 'coreml'], /--format must be tfjs, onnx or tflite, not "coreml"/],
    [['--classes', 'people', '--out', 'x', '--format', 'tflite', '--precision', 'uint8'], /--precision must be float32, float16 or int8 for --format tflite, not "uint8"/],
    [['--classes', 'people,dragon', '--out', 'x'], /Unknown class or superclass "dragon"/],
    [['--classes', ' , ', '--out', 'x'], /Nothing is selected/],
    [['--classes', 'people'], /--out is required/],
    [['--classes', 'people', '--out', 'x', '--colour', 'red'], /unknown option --colour/],
  ])('fails with a specific message and exit status 2: %j', (args, message) => {
    const r = run('consolidate.ts', ['--pool', FIXTURE_POOL_DIR, ...(args as string[])]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message as RegExp);
  });

  it('reports a missing pool folder and an unwritable output folder', () => {
    const r = run('consolidate.ts', ['--pool', path.join(tmp, 'no-pool'), '--classes', 'people', '--out', path.join(tmp, 'o')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/No pool manifest \(pool.json\) at .*no-pool/);
    // A regular file where a folder should be: unwritable even for root.
    const blocker = path.join(tmp, 'a-file');
    writeFileSync(blocker, 'x');
    const r2 = run('consolidate.ts', ['--pool', FIXTURE_POOL_DIR, '--classes', 'people', '--out', path.join(blocker, 'model')]);
    expect(r2.code).toBe(2);
    expect(r2.err).toMatch(/cannot write to .*a-file\/model/);
  });
});

/**
 * What evaluate must print for a query, worked out here: the images are picked by the dataset's own
 * class names and scored with a plain argmax, not through the CLI's accuracy code.
 */
async function expectedScore(query: string[]) {
  const dir = dataDir();
  const test = readTestSplit(dir);
  const fineNames = readFileSync(path.join(dir, 'fine_label_names.txt'), 'utf8').split('\n').map((s) => s.trim()).filter(Boolean);
  await useNodeBackend('wasm'); // evaluate's default
  const pool = await openPool(FIXTURE_POOL_DIR);
  const taskOf = new Map(pool.manifest.classes.map((c) => [c.name, c.task]));
  const c = pool.consolidate(query);
  try {
    const picked = Array.from(test.fine.keys()).filter((i) => c.labels.includes(fineNames[test.fine[i]]));
    const images = new Uint8Array(picked.length * 3072);
    picked.forEach((src, j) => images.set(test.images.subarray(src * 3072, (src + 1) * 3072), j * 3072));
    const logits = await c.predictLogits(images);
    let correct = 0;
    let crossExpertErrors = 0;
    picked.forEach((src, j) => {
      const row = Array.from(logits.subarray(j * c.labels.length, (j + 1) * c.labels.length));
      const predicted = c.labels[row.indexOf(Math.max(...row))];
      const truth = fineNames[test.fine[src]];
      if (predicted === truth) correct++;
      else if (taskOf.get(predicted) !== taskOf.get(truth)) crossExpertErrors++;
    });
    return { classes: c.labels.length, images: picked.length, top1: correct / picked.length, crossExpertErrors };
  } finally {
    c.dispose();
    pool.dispose();
  }
}

describe('npm run evaluate', () => {
  it('prints top-1 on the test images of a query of experts imported from external state_dicts (--json)', async () => {
    const r = run('evaluate.ts', ['--pool', FIXTURE_POOL_DIR, '--query', 'people,vehicles_1', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    const want = await expectedScore(['people', 'vehicles_1']);
    expect(want).toMatchObject({ classes: 10, images: 1000 });
    expect(j.results[0]).toMatchObject(want);
    expect([j.meanTop1, j.stdTop1]).toEqual([want.top1, 0]);
  });

  it('evaluates every k-subset of --combinations with mean and standard deviation', () => {
    const r = run('evaluate.ts', ['--pool', FIXTURE_POOL_DIR, '--combinations', 'people,vehicles_1,kitchen', '--size', '2']);
    expect(r.code).toBe(0);
    expect(r.out.trim().split('\n')).toHaveLength(4);
    expect(r.out).toMatch(/mean top-1 \d+\.\d+ % ± \d+\.\d+ \(sample std\) over 3 queries of size 2/);
  });

  it('reads IDX files and an image folder for a 28 x 28 grey pool, giving the engine\'s own figure', async () => {
    const poolDir = path.join(tmp, 'pool-grey');
    execFileSync('/usr/bin/python3', ['experts/tools/make_fixture_pool.py', '--kind', 'grey28', '--out', poolDir], { cwd: REPO_ROOT, stdio: 'ignore' });
    const ref = readReference(poolDir);
    await useNodeBackend('cpu');
    const pool = await openPool(poolDir);
    const m = pool.consolidate(['people', 'vehicles_1']);
    const want = await m.evaluate(ref.images, ref.labels);
    m.dispose();
    pool.dispose();
    const idxDir = path.join(tmp, 'idx');
    mkdirSync(idxDir);
    const header = (dims: number[]) => Buffer.concat([Buffer.from([0, 0, 8, dims.length]), ...dims.map((d) => { const b = Buffer.alloc(4); b.writeUInt32BE(d); return b; })]);
    writeFileSync(path.join(idxDir, 't10k-images-idx3-ubyte.gz'), gzipSync(Buffer.concat([header([ref.count, 28, 28]), ref.images])));
    writeFileSync(path.join(idxDir, 't10k-labels-idx1-ubyte'), Buffer.concat([header([ref.count]), Buffer.from(ref.labels)]));
    const folder = path.join(tmp, 'folder');
    const names = new Map(pool.manifest.classes.map((c) => [c.index, c.name]));
    ref.labels.forEach((l, i) => {
      mkdirSync(path.join(folder, 'test', names.get(l)!), { recursive: true });
      const grey = ref.images.subarray(i * 784, (i + 1) * 784);
      writeFileSync(path.join(folder, 'test', names.get(l)!, `${i}.png`), encodePng(Uint8Array.from({ length: 784 * 3 }, (_, k) => grey[Math.floor(k / 3)]), 28, 28));
    });
    for (const data of [idxDir, folder]) {
      const r = run('evaluate.ts', ['--pool', poolDir, '--data', data, '--query', 'people,vehicles_1', '--json']);
      expect(r.err).toBe('');
      expect(JSON.parse(r.out).results[0]).toMatchObject({ images: want.images, top1: want.top1 });
    }
  });

  it('says where it looked when the dataset is missing, and rejects a bad --size', () => {
    const r = run('evaluate.ts', ['--pool', FIXTURE_POOL_DIR, '--query', 'people', '--data', path.join(tmp, 'nodata')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/No dataset at .*nodata: --data takes a folder of CIFAR-100 binary files, IDX files or an image folder/);
    const r2 = run('evaluate.ts', ['--pool', FIXTURE_POOL_DIR, '--combinations', 'people,kitchen', '--size', '3']);
    expect(r2.code).toBe(2);
    expect(r2.err).toMatch(/--size must be an integer from 1 to 2/);
  });
});
