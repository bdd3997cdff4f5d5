import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURE_POOL_DIR, REPO_ROOT } from './helpers';

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

  it.each([
    [['--classes', 'people', '--out', 'x', '--format', 'onnx', '--precision', 'uint8'], /--precision must be float32 or float16 for --format onnx, not "uint8"/],
    [['--classes', 'people', '--out', 'x', '--format', 'tflite'], /--format must be tfjs or onnx, not "tflite"/],
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

describe('npm run evaluate', () => {
  it('prints top-1 on the test images of a query of experts imported from external state_dicts (--json)', () => {
    const r = run('evaluate.ts', ['--pool', FIXTURE_POOL_DIR, '--query', 'people,vehicles_1', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.results[0].images).toBe(1000);
    expect(j.results[0].classes).toBe(10);
    expect(j.meanTop1).toBeGreaterThanOrEqual(0);
    expect(j.meanTop1).toBeLessThanOrEqual(1);
  });

  it('evaluates every k-subset of --combinations with mean and standard deviation', () => {
    const r = run('evaluate.ts', ['--pool', FIXTURE_POOL_DIR, '--combinations', 'people,vehicles_1,kitchen', '--size', '2']);
    expect(r.code).toBe(0);
    expect(r.out.trim().split('\n')).toHaveLength(4);
    expect(r.out).toMatch(/mean top-1 \d+\.\d+ % ± \d+\.\d+ \(sample std\) over 3 queries of size 2/);
  });

  it('says where it looked when the dataset is missing, and rejects a bad --size', () => {
    const r = run('evaluate.ts', ['--pool', FIXTURE_POOL_DIR, '--query', 'people', '--data', path.join(tmp, 'nodata')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/CIFAR-100 not found at .*nodata/);
    const r2 = run('evaluate.ts', ['--pool', FIXTURE_POOL_DIR, '--combinations', 'people,kitchen', '--size', '3']);
    expect(r2.code).toBe(2);
    expect(r2.err).toMatch(/--size must be an integer from 1 to 2/);
  });
});
