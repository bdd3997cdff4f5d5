// A model as a link or a project file: the recipe's encoding, its checks, and the model it rebuilds.
import fc from 'fast-check';
import { assertAsyncProperty } from './property';
import QRCode from 'qrcode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deflateSync } from 'fflate';
import { toBase64Url } from '../../src/ml/util/base64';
import { weightCount } from '../../src/ml/custom/customExpert';
import { isPoeError } from '../../src/ml/errors';
import { float16Bits, float16Values, roundToFloat16 } from '../../src/ml/util/float16';
import { poolFingerprint } from '../../src/ml/pool/poolFingerprint';
import { parseProjectFile, parseRecipeFragment, projectFile, recipeFragment, type Recipe } from '../../src/ml/share/recipe';
import { makeRecipe, recipeCustomClasses, recipeMismatch } from '../../src/ml/share/recipePool';
import { openPool, useNodeBackend, type Pool } from '../../src/node';
import { FIXTURE_POOL_DIR, readReference } from './helpers';

const ref = readReference(FIXTURE_POOL_DIR);
let pool: Pool;
let fingerprint: string;
beforeAll(async () => {
  await useNodeBackend('wasm');
  pool = await openPool(FIXTURE_POOL_DIR);
  fingerprint = await poolFingerprint(pool.manifest);
});
afterAll(() => pool.dispose());

function customWeights(seed: number, c = 32, hidden = 32): Float32Array {
  const w = new Float32Array(weightCount(c, hidden));
  for (let i = 0; i < w.length; i++) w[i] = Math.sin(seed * 1000 + i * 12.9898) * 0.5;
  return roundToFloat16(w);
}

const recipe = (over: Partial<Recipe> = {}): Recipe => ({
  pool: { name: pool.manifest.name, version: pool.manifest.version, fingerprint, builtin: 'cifar100' },
  selected: ['people', 'bus', 'custom_abc123'],
  custom: [{ id: 'custom_abc123', label: 'my mug', hidden: 32, featureShape: [16, 16, 32], weights: customWeights(1) }],
  unknown: { threshold: 0.4321 },
  ...over,
});

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(isPoeError(e), String(e)).toBe(true);
    return (e as { code: string }).code;
  }
  return 'no error';
}

describe('float16 halves', () => {
  it('decode what float16Bits encodes, and rounding is idempotent', () => {
    const v = new Float32Array([0, -0, 1, -2.5, 65504, 1e-7, 3.14159, -1e5, 6e-5]);
    const r = roundToFloat16(v);
    expect(Array.from(float16Values(float16Bits(r)))).toEqual(Array.from(r));
    expect(r[6]).toBeCloseTo(3.140625, 6);
    expect(r[7]).toBe(-Infinity);
    expect(Math.abs(r[5] - 1e-7)).toBeLessThan(6e-8); // subnormal
  });
});

describe('the pool fingerprint', () => {
  it('is 16 hex digits, stable, and changes with any weight file or the class order', async () => {
    expect(fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(await poolFingerprint(pool.manifest)).toBe(fingerprint);
    const m = structuredClone(pool.manifest);
    m.experts[0].files.weights.sha256 = '0'.repeat(64);
    expect(await poolFingerprint(m)).not.toBe(fingerprint);
    const swapped = structuredClone(pool.manifest);
    swapped.classes.reverse();
    expect(await poolFingerprint(swapped)).not.toBe(fingerprint);
  });
});

describe('a link', () => {
  it('round-trips the recipe exactly, custom weights included, and is short', async () => {
    const r = recipe();
    const hash = await recipeFragment(r);
    expect(hash).toMatch(/^#model=1\.[A-Za-z0-9_-]+$/);
    expect(hash.length).toBeLessThan(3200); // one custom class of 1,089 halves
    expect(await parseRecipeFragment(hash)).toEqual(r);
    const plain = await recipeFragment(recipe({ custom: [], selected: ['people', 'bus'], unknown: null }));
    expect(plain.length).toBeLessThan(250);
  });

  it('fits a QR code without custom classes; with one it still fits at low error correction', async () => {
    const base = 'https://poe.example/';
    await expect(QRCode.toString(base + (await recipeFragment(recipe({ custom: [], selected: ['people', 'bus'] }))), { type: 'svg', errorCorrectionLevel: 'M' })).resolves.toContain('<svg');
    await expect(QRCode.toString(base + (await recipeFragment(recipe())), { type: 'svg', errorCorrectionLevel: 'L' })).resolves.toContain('<svg');
  });

  it('refuses a wrong prefix, a newer format, cut or altered text with coded errors', async () => {
    const hash = await recipeFragment(recipe());
    expect(await codeOf(parseRecipeFragment('#pool=1.abc'))).toBe('RECIPE_INVALID');
    expect(await codeOf(parseRecipeFragment(hash.replace('#model=1.', '#model=2.')))).toBe('RECIPE_VERSION');
    expect(await codeOf(parseRecipeFragment(hash.replace('#model=1.', '#model=.')))).toBe('RECIPE_INVALID');
    expect(await codeOf(parseRecipeFragment(hash.slice(0, hash.length - 40)))).toBe('RECIPE_INVALID');
    expect(await codeOf(parseRecipeFragment(hash + '%20'))).toBe('RECIPE_INVALID');
    const body = hash.slice('#model=1.'.length);
    for (const at of [3, 50, 400, body.length - 3]) {
      const c = body[at] === 'A' ? 'B' : 'A';
      expect(await codeOf(parseRecipeFragment(`#model=1.${body.slice(0, at)}${c}${body.slice(at + 1)}`)), `flip at ${at}`).toBe('RECIPE_INVALID');
    }
  });

  it('refuses a well-formed link whose recipe breaks the rules, saying what', async () => {
    // A link packed by hand with a valid checksum but a recipe the app must not take.
    const { sha256Hex } = await import('../../src/ml/util/sha256');
    const pack = async (json: unknown, extra = new Uint8Array(0)) => {
      const j = new TextEncoder().encode(JSON.stringify(json));
      const body = new Uint8Array(4 + j.length + extra.length);
      new DataView(body.buffer).setUint32(0, j.length, true);
      body.set(j, 4);
      body.set(extra, 4 + j.length);
      const out = new Uint8Array(4 + body.length);
      out.set(Uint8Array.from((await sha256Hex(body)).slice(0, 8).match(/../g)!, (h) => parseInt(h, 16)));
      out.set(body, 4);
      return `#model=1.${toBase64Url(deflateSync(out))}`;
    };
    const good = { pool: recipe().pool, selected: ['people'], custom: [], unknown: null };
    await expect(parseRecipeFragment(await pack(good))).resolves.toMatchObject({ selected: ['people'] });
    const cases: [unknown, RegExp][] = [
      [{ ...good, selected: 'people' }, /no valid list of classes/],
      [{ ...good, selected: [''] }, /class name/],
      [{ ...good, selected: ['custom_x1'] }, /does not carry/],
      [{ ...good, unknown: { threshold: 2 } }, /threshold/],
      [{ ...good, pool: { ...good.pool, fingerprint: 'zz' } }, /fingerprint/],
      [{ ...good, custom: [{ id: 'custom_a', label: 'x', hidden: 4, featureShape: [16, 16, 32] }] }, /weights are incomplete/],
      [{ ...good, custom: [{ id: 'evil', label: 'x', hidden: 4, featureShape: [16, 16, 32] }] }, /malformed id/],
      [null, /holds no recipe/],
    ];
    for (const [json, why] of cases) await expect(parseRecipeFragment(await pack(json)), JSON.stringify(json)).rejects.toThrow(why);
    await expect(parseRecipeFragment(await pack(good, new Uint8Array(8)))).rejects.toThrow(/belong to no class/);
    const nan = new Uint8Array(new Uint16Array(weightCount(32, 1)).fill(0x7e00).buffer);
    await expect(parseRecipeFragment(await pack({ ...good, custom: [{ id: 'custom_a', label: 'x', hidden: 1, featureShape: [16, 16, 32] }] }, nan))).rejects.toThrow(/not finite/);
  });

  it('a fragment that inflates past a megabyte is refused, not expanded', async () => {
    const bomb = `#model=1.${toBase64Url(deflateSync(new Uint8Array(50 << 20)))}`;
    expect(bomb.length).toBeLessThan(100_000);
    expect(await codeOf(parseRecipeFragment(bomb))).toBe('RECIPE_INVALID');
  });

  it('random fragments never throw anything but a coded recipe error', async () => {
    const hash = await recipeFragment(recipe());
    await assertAsyncProperty('random fragments',
      fc.oneof(fc.string(), fc.string().map((s) => `#model=1.${s}`), fc.nat({ max: hash.length }).chain((cut) => fc.string({ maxLength: 8 }).map((s) => hash.slice(0, cut) + s))),
      async (s) => {
        const code = await codeOf(parseRecipeFragment(s));
        expect(['RECIPE_INVALID', 'RECIPE_VERSION', 'no error']).toContain(code);
      },
      { numRuns: 300, seed: 42, caseLimitMs: 10_000 });
  });
});

describe('a project file', () => {
  it('round-trips the recipe, with the training images only when asked', () => {
    const images = new Uint8Array(12 * 32 * 32 * 3).map((_, i) => i % 251);
    const r = recipe({ custom: [{ ...recipe().custom[0], images }] });
    const without = parseProjectFile(projectFile(r, false));
    expect(without.custom[0].images).toBeUndefined();
    expect(without.custom[0].weights).toEqual(r.custom[0].weights);
    expect(parseProjectFile(projectFile(r, true))).toEqual(r);
    expect(JSON.parse(projectFile(r, false))).toMatchObject({ format: 'poe-project', formatVersion: 1, selected: r.selected });
  });

  it('refuses other files and versions with coded errors', async () => {
    const text = projectFile(recipe(), false);
    expect(await codeOf(() => parseProjectFile('not json'))).toBe('RECIPE_INVALID');
    expect(await codeOf(() => parseProjectFile('{"format":"poe-custom-classes"}'))).toBe('RECIPE_INVALID');
    expect(await codeOf(() => parseProjectFile(text.replace('"formatVersion": 1', '"formatVersion": 9')))).toBe('RECIPE_VERSION');
    expect(await codeOf(() => parseProjectFile(text.slice(0, -30)))).toBe('RECIPE_INVALID');
    const short = JSON.parse(text);
    short.custom[0].weights = short.custom[0].weights.slice(0, 100);
    await expect(async () => parseProjectFile(JSON.stringify(short))).rejects.toThrow(/weights; 1089 expected/);
  });
});

describe('the model a recipe rebuilds', () => {
  it('matches only the pool it was made with, and says what differs otherwise', async () => {
    expect(recipeMismatch(recipe(), pool.manifest, fingerprint)).toBeNull();
    const other = recipeMismatch(recipe({ pool: { ...recipe().pool, name: 'fashion-mnist-poe' } }), pool.manifest, fingerprint)!;
    expect(other.sameName).toBe(false);
    expect(other.message).toMatch(/made with the pool "fashion-mnist-poe".*built-in pool "cifar100".*the pool in use is/);
    const newer = recipeMismatch(recipe({ pool: { ...recipe().pool, version: '0.9', fingerprint: 'a'.repeat(16) }, selected: ['people', 'dragons'] }), pool.manifest, fingerprint)!;
    expect(newer.sameName).toBe(true);
    expect(newer.missing).toEqual(['dragons']);
    expect(newer.message).toMatch(/v0\.9.*weights differ.*lacks "dragons"/);
  });

  it('gives the same logits as the model it was made from, custom class included', async () => {
    const spec = recipeCustomClasses(recipe(), pool.manifest)[0].spec;
    pool.customClasses.add([{ spec, images: new Uint8Array(0) }]);
    const names = ['people', 'bus', spec.id];
    const original = pool.consolidate(names, { unknown: true });
    const made = makeRecipe(recipe().pool, names, pool.customClasses, original.unknown!.threshold);
    const back = await parseRecipeFragment(await recipeFragment(made));
    const before = Array.from(await original.predictLogits(ref.images));
    const { labels, unknown } = original;
    original.dispose(); // a model's experts are freed only after it (as the app does)
    pool.customClasses.remove(spec.id);
    pool.customClasses.add(recipeCustomClasses(back, pool.manifest));
    const rebuilt = pool.consolidate(back.selected, { unknown: back.unknown !== null });
    expect(rebuilt.labels).toEqual(labels);
    expect(Array.from(await rebuilt.predictLogits(ref.images))).toEqual(before);
    expect(back.unknown!.threshold).toBe(unknown!.threshold);
    rebuilt.dispose();
    pool.customClasses.remove(spec.id);
  });
});
