import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { zipSync } from 'fflate';
import { useNodeBackend } from '../../src/node';
import { folderPoolSource, zipPoolSource } from '../../src/io/localPoolSource';
import { poolFolderUrl } from '../../src/io/poolUrl';
import { fetchPool } from '../../src/ml/pool/poolFetch';
import { disposePool, instantiatePool } from '../../src/ml/pool/poolModels';
import { checkAgainstReference, parseReference } from '../../src/ml/run/reference';
import { consolidate } from '../../src/ml/graph/consolidate';
import { FIXTURE_POOL_DIR, REPO_ROOT } from './helpers';
import { bytesOf, json, openZip, readPoolDir, replaceFile, zipOf, type PoolFiles } from './poolBytes';

const SIX_POOL_DIR = path.join(REPO_ROOT, 'test', '.tmp', 'six-pool');
const POOL_64_DIR = path.join(REPO_ROOT, 'test', '.tmp', 'pool-64');
let fixture: PoolFiles;

beforeAll(async () => {
  await useNodeBackend('cpu');
  execFileSync('/usr/bin/python3', ['experts/tools/make_fixture_pool.py', '--kind', 'six', '--out', SIX_POOL_DIR], { cwd: REPO_ROOT, stdio: 'ignore' });
  execFileSync('/usr/bin/python3', ['experts/tools/make_fixture_pool.py', '--kind', 'size64', '--out', POOL_64_DIR], { cwd: REPO_ROOT, stdio: 'ignore' });
  fixture = readPoolDir(FIXTURE_POOL_DIR);
});

describe('pools from a zip or a folder', () => {
  it('opens a zip with the pool at the top level or inside one folder', async () => {
    expect(await openZip(zipOf(fixture))).toMatchObject({ code: 'OK', experts: 3 });
    expect(await openZip(zipOf(fixture, 'my-pool/'))).toMatchObject({ code: 'OK', experts: 3 });
  });

  it('opens a picked folder, reading only the files the manifest names', async () => {
    const read: string[] = [];
    const files = [...fixture, ['notes/big.bin', new Uint8Array(10)] as const].map(([p, b]) => ({
      name: path.basename(p), webkitRelativePath: `picked/${p}`, size: b.byteLength,
      arrayBuffer: async () => (read.push(p), b.slice().buffer),
    }));
    const pool = await instantiatePool(await fetchPool(folderPoolSource(files)));
    expect(pool.experts.size).toBe(3);
    expect(read).not.toContain('notes/big.bin');
    disposePool(pool);
  });

  it('reports no progress once a file has failed, though slower files are still arriving', async () => {
    const byPath = new Map(fixture);
    const events: number[] = [];
    let failedAt = -1;
    const source = {
      describe: 'test',
      async read(p: string, onBytes?: (n: number) => void) {
        const bytes = byPath.get(p)!;
        if (p.endsWith('weights.bin') && p.startsWith('experts/')) return bytes.subarray(0, 100); // truncated, at once
        if (p !== 'pool.json') for (let i = 1; i <= 3; i++) await new Promise((r) => setTimeout(r, 20)), onBytes?.(i);
        return bytes;
      },
    };
    await expect(fetchPool(source, () => events.push(Date.now())).finally(() => (failedAt = events.length)))
      .rejects.toMatchObject({ code: 'FILE_SIZE' });
    await new Promise((r) => setTimeout(r, 150));
    expect(events.length).toBe(failedAt);
  });

  it('a six-expert pool made by experts/tools/make_fixture_pool.py from other weights loads from a zip and matches PyTorch', async () => {
    const six = readPoolDir(SIX_POOL_DIR);
    const bundle = await fetchPool(zipPoolSource(zipOf(six, 'six/'), 'six.zip'));
    const pool = await instantiatePool(bundle);
    expect([...pool.experts.keys()]).toEqual(['people', 'vehicles_1', 'vehicles_2', 'trees', 'flowers', 'fish']);
    const check = await checkAgainstReference(pool, parseReference(bundle.files.get('reference.json')!));
    expect(check.maxAbsDiff).toBeLessThan(1e-4);
    const c = consolidate(pool, ['trees', 'rose']);
    expect(c.labels).toHaveLength(6);
    c.dispose();
    disposePool(pool);
  });
});

describe('a pool for 64 x 64 input', () => {
  it('loads, matches PyTorch on its reference images and classifies 64-pixel images', async () => {
    const bundle = await fetchPool(zipPoolSource(zipOf(readPoolDir(POOL_64_DIR)), 'pool-64.zip'));
    expect(bundle.manifest.input.sizePx).toBe(64);
    const pool = await instantiatePool(bundle);
    const check = await checkAgainstReference(pool, parseReference(bundle.files.get('reference.json')!));
    expect(check.maxAbsDiff).toBeLessThan(1e-4);
    const c = consolidate(pool, ['people', 'apple']);
    expect(c.labels).toEqual(['baby', 'boy', 'girl', 'man', 'woman', 'apple']);
    expect(c.model.inputs[0].shape).toEqual([null, 64, 64, 3]);
    c.dispose();
    disposePool(pool);
  });
});

describe('hostile pools get a coded message', () => {
  const modelPath = 'experts/kitchen/model.json';
  const weightsPath = 'experts/kitchen/weights.bin';
  const withModel = (edit: (m: { modelTopology: { config: { layers: { class_name: string; config: Record<string, unknown> }[] } }; weightsManifest: { weights: { shape: number[] }[] }[] }) => void) => {
    const m = json(fixture, modelPath);
    edit(m);
    return replaceFile(fixture, modelPath, bytesOf(m));
  };
  const withWeight = (value: number) => {
    const w = fixture.get(weightsPath)!.slice();
    new DataView(w.buffer).setFloat32(40, value, true);
    return replaceFile(fixture, weightsPath, w);
  };
  const withManifest = (edit: (m: Record<string, any>) => void) => { // eslint-disable-line @typescript-eslint/no-explicit-any
    const m = json(fixture, 'pool.json');
    edit(m);
    return new Map(fixture).set('pool.json', bytesOf(m));
  };

  const cases: [string, () => Uint8Array, string, RegExp][] = [
    ['zip entry escaping the folder', () => zipSync({ ...Object.fromEntries(fixture), '../../evil.sh': bytesOf('x') }), 'PATH_INVALID', /the zip pool.zip holds an entry whose path leaves its folder \("..\/..\/evil.sh"\)/],
    ['zip entry with an absolute path', () => zipSync({ ...Object.fromEntries(fixture), '/etc/passwd': bytesOf('x') }), 'PATH_INVALID', /path leaves its folder/],
    ['manifest path escaping the folder', () => zipOf(withManifest((m) => (m.library.files.model.path = '../../etc/passwd'))), 'MANIFEST_INVALID', /relative path inside the pool folder/],
    ['JSON nesting bomb as the manifest', () => zipOf(new Map(fixture).set('pool.json', bytesOf('['.repeat(200_000) + ']'.repeat(200_000)))), 'POOL_LIMIT', /nests lists or objects more than 64 levels deep/],
    ['huge array in the manifest', () => zipOf(withManifest((m) => (m.provenance = { junk: new Array(150_000).fill(0) }))), 'POOL_LIMIT', /more than 100,000 items/],
    ['too many classes', () => zipOf(withManifest((m) => (m.classes = Array.from({ length: 5000 }, (_, i) => ({ index: i, name: `c${i}`, task: 'x' }))))), 'POOL_LIMIT', /"classes" has 5000 entries; pools with up to 4096/],
    ['class name too long', () => zipOf(withManifest((m) => (m.classes[0].name = 'x'.repeat(300)))), 'POOL_LIMIT', /classes\[0\]\.name is 300 characters long; names up to 64/],
    ['manifest claiming more than 100 MB', () => zipOf(withManifest((m) => (m.experts[0].files.weights.bytes = 60_000_000, m.experts[1].files.weights.bytes = 60_000_000))), 'POOL_LIMIT', /The pool its manifest describes is 120 MB; pools up to 100 MB/],
    ['NaN weight', () => zipOf(withWeight(NaN)), 'WEIGHTS_INVALID', /expert "kitchen" weights \(experts\/kitchen\/weights.bin\) hold NaN in tensor ".*" \(element 10\)/],
    ['Infinity weight', () => zipOf(withWeight(-Infinity)), 'WEIGHTS_INVALID', /hold -Infinity in tensor/],
    ['weight manifest whose byte count disagrees', () => zipOf(withModel((m) => m.weightsManifest[0].weights[0].shape[0] += 1)), 'MODEL_INVALID', /expert "kitchen" weights \(experts\/kitchen\/weights.bin\) hold \d+ bytes, but its model.json describes \d+/],
    ['layer type outside the allowed set', () => zipOf(withModel((m) => (m.modelTopology.config.layers[1].class_name = 'Lambda'))), 'MODEL_INVALID', /uses layer type "Lambda", which pools may not contain/],
    ['activation outside the allowed set', () => zipOf(withModel((m) => (m.modelTopology.config.layers.find((l) => 'activation' in l.config)!.config.activation = 'eval'))), 'MODEL_INVALID', /uses activation "eval"/],
    ['a file that is not a zip', () => bytesOf('PK not really a zip'), 'ARCHIVE_INVALID', /is not a readable zip archive/],
    ['a zip without pool.json', () => zipSync({ 'a/readme.txt': bytesOf('hi') }), 'FILE_MISSING', /No pool manifest \(pool.json\) in the zip pool.zip/],
    ['a zip of 1,001 files', () => zipOf(new Map([...fixture, ...Array.from({ length: 1001 - fixture.size }, (_, i) => [`x/${i}`, new Uint8Array(1)] as const)])), 'POOL_LIMIT', /holds 1001 files; pools of up to 1000 files/],
  ];
  for (const [name, make, code, message] of cases)
    it(name, async () => {
      const got = await openZip(make());
      expect(got.code).toBe(code);
      expect(got.message).toMatch(message);
    });

  it('a zip that unpacks to more than 100 MB is refused from its directory, before inflating', async () => {
    const zip = zipSync({ 'pool.json': fixture.get('pool.json')!, 'zeros.bin': new Uint8Array(101_000_000) }, { level: 9 });
    expect(zip.byteLength).toBeLessThan(1_000_000);
    const got = await openZip(zip);
    expect(got).toMatchObject({ code: 'POOL_LIMIT' });
    expect(got.message).toMatch(/Unpacked, the zip pool.zip is 101 MB; pools up to 100 MB are accepted/);
  });
});

describe('pool addresses', () => {
  const page = 'https://studio.example/app/?pool=x';
  it('accepts http(s) folders and pool.json addresses, absolute or relative', () => {
    expect(poolFolderUrl('https://cdn.example/pools/six', page)).toBe('https://cdn.example/pools/six/');
    expect(poolFolderUrl('https://cdn.example/pools/six/pool.json?x=1#y', page)).toBe('https://cdn.example/pools/six/');
    expect(poolFolderUrl('pools/six/', page)).toBe('https://studio.example/app/pools/six/');
  });
  it.each([['javascript:alert(1)', /http or https addresses only, not javascript:/], ['file:///etc/', /not file:/], ['https://u:p@x.example/', /user name or password/], ['http://[::1', /not a web address/]])(
    'refuses %s', (raw, message) => {
      expect(() => poolFolderUrl(raw, page)).toThrow(message);
    });
});
