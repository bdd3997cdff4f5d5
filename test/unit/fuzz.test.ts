import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { useNodeBackend } from '../../src/node';
import { isPoeError } from '../../src/ml/errors';
import { parseManifestBytes } from '../../src/ml/pool/poolFetch';
import { validateManifest } from '../../src/ml/pool/poolManifest';
import { checkModelJson } from '../../src/ml/pool/poolContents';
import { FIXTURE_POOL_DIR } from './helpers';
import { assertAsyncProperty, assertProperty } from './property';
import { bytesOf, json, openZip, readPoolDir, replaceFile, zipOf, type PoolFiles } from './poolBytes';

/**
 * Property-based tests: whatever the input, the pool checks either accept it or throw a PoeError with
 * a code, never another exception, and each case finishes quickly. 500 cases per property by default;
 * `npm run test:fuzz` runs 10,000 (FUZZ_RUNS). Each property prints its seed first; a failure prints
 * its seed and input, and a case that hangs stops the process with them (test/unit/property.ts).
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 500);
const CASE_MS = 2000;
const TIMEOUT_MS = Math.max(120_000, RUNS * 200);
// No shrinking (a failing deep JSON case can shrink for tens of minutes, blocking the event loop), and
// each property stops generating after a minute: a failure still reports its seed and input.
fc.configureGlobal({ endOnFailure: true, interruptAfterTimeLimit: 60_000 });
let fixture: PoolFiles;
let manifest: unknown;

beforeAll(async () => {
  await useNodeBackend('cpu');
  fixture = readPoolDir(FIXTURE_POOL_DIR);
  manifest = json(fixture, 'pool.json');
});

/** Runs f; passes if it returns or throws a coded PoeError within CASE_MS. */
function onlyCoded(f: () => unknown): void {
  const t0 = performance.now();
  try {
    f();
  } catch (e) {
    if (!isPoeError(e)) throw new Error(`uncoded ${(e as Error)?.name}: ${(e as Error)?.message}`);
  }
  expect(performance.now() - t0).toBeLessThan(CASE_MS);
}

type Json = unknown;
/** A random change at a random place of a JSON value: replace a subtree, delete a key, or duplicate a list item. */
function mutate(value: Json, picks: number[], replacement: Json): Json {
  const copy = structuredClone(value);
  let node: Json = copy;
  for (const pick of picks) {
    if (typeof node !== 'object' || node === null) break;
    const keys = Object.keys(node);
    if (keys.length === 0) break;
    const key = keys[pick % keys.length];
    const child = (node as Record<string, Json>)[key];
    const action = pick % 7;
    if (action === 0 || typeof child !== 'object' || child === null) {
      if (action === 1 && !Array.isArray(node)) delete (node as Record<string, Json>)[key];
      else (node as Record<string, Json>)[key] = replacement;
      return copy;
    }
    if (action === 2 && Array.isArray(child) && child.length > 0) {
      child.push(structuredClone(child[0]));
      return copy;
    }
    node = child;
  }
  return copy;
}
const mutation = fc.tuple(fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }));

describe('fuzzing the manifest validator', () => {
  it('any JSON value', () => {
    assertProperty('any JSON value', fc.jsonValue(), (v) => onlyCoded(() => validateManifest(v)), { numRuns: RUNS });
  }, TIMEOUT_MS);

  it('the fixture manifest with a random change anywhere', () => {
    assertProperty('manifest with a change', mutation, ([picks, r]) => onlyCoded(() => validateManifest(mutate(manifest, picks, r))), { numRuns: RUNS });
  }, TIMEOUT_MS);

  it('pool.json bytes flipped, cut or spliced, and random bytes', () => {
    const raw = fixture.get('pool.json')!;
    const edited = fc.tuple(fc.nat(), fc.nat(255), fc.nat(), fc.uint8Array({ maxLength: 64 })).map(([at, b, cut, insert]) => {
      const i = at % raw.length;
      const out = new Uint8Array([...raw.subarray(0, i), b, ...insert, ...raw.subarray(i + 1, raw.length - (cut % 50))]);
      return out;
    });
    assertProperty('pool.json bytes', fc.oneof(edited, fc.uint8Array({ maxLength: 4096 })), (bytes) => onlyCoded(() => parseManifestBytes(bytes, 'under test')), { numRuns: RUNS });
  }, TIMEOUT_MS);

  it('deep nesting and long lists', () => {
    assertProperty('deep nesting', fc.tuple(fc.integer({ min: 1, max: 300_000 }), fc.constantFrom('[', '{"a":')), ([depth, open]) => {
      const close = open === '[' ? ']' : '}';
      onlyCoded(() => parseManifestBytes(bytesOf(open.repeat(depth) + '1' + close.repeat(depth)), 'under test'));
    }, { numRuns: Math.min(RUNS, 200) });
  }, TIMEOUT_MS);
});

describe('fuzzing the model.json checks', () => {
  const part = { model: { path: 'experts/kitchen/model.json', bytes: 1, sha256: '' }, weights: { path: 'experts/kitchen/weights.bin', bytes: 1, sha256: '' } };

  it('model.json with a random change anywhere, and weights with random floats (NaN and Infinity included)', () => {
    const model = json(fixture, part.model.path);
    const weights = fixture.get(part.weights.path)!;
    assertProperty('model.json and weights', fc.tuple(mutation, fc.float({ noDefaultInfinity: false, noNaN: false }), fc.nat()), ([[picks, r], x, at]) => {
      const w = weights.slice();
      new DataView(w.buffer).setFloat32(4 * (at % (w.length / 4)), x, true);
      onlyCoded(() => checkModelJson(bytesOf(mutate(model, picks, r)), w, part, 'expert "kitchen"'));
    }, { numRuns: RUNS });
  }, TIMEOUT_MS);

  it('a whole pool zip whose expert model.json was changed loads or fails with a code, also inside TensorFlow.js', async () => {
    const model = json(fixture, part.model.path);
    await assertAsyncProperty('pool zip with a changed model.json', mutation, async ([picks, r]) => {
      const t0 = performance.now();
      const got = await openZip(zipOf(replaceFile(fixture, part.model.path, bytesOf(mutate(model, picks, r)))));
      expect(got.code).not.toMatch(/^UNCODED/);
      expect(performance.now() - t0).toBeLessThan(10 * CASE_MS);
    }, { numRuns: Number(process.env.FUZZ_POOL_RUNS ?? Math.min(RUNS, 40)) });
  }, TIMEOUT_MS * 4);
});

describe('a model.json that declares a huge layer', () => {
  it('is refused before TensorFlow.js would allocate it', async () => {
    const part = 'experts/kitchen/model.json';
    const model = json(fixture, part) as { modelTopology: { config: { layers: { class_name: string; config: Record<string, unknown> }[] } } };
    model.modelTopology.config.layers.find((l) => l.class_name === 'Conv2D')!.config.filters = 2 ** 30;
    const t0 = performance.now();
    const got = await openZip(zipOf(replaceFile(fixture, part, bytesOf(model))));
    expect([got.code, got.message]).toEqual(['MODEL_INVALID', expect.stringContaining('filters 1073741824, beyond the 4096')]);
    expect(performance.now() - t0).toBeLessThan(5000);
  });
});
