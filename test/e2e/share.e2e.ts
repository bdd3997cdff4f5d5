// A model as a link or a project file, in Chromium: made in one browser profile, rebuilt in another.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEFAULT_POOL_DIR } from '../../cli/lib/paths';
import { launchChromium } from '../../harness/chromium';
import { encodePng } from '../../harness/png';
import { servePreview, type PreviewServer } from '../../harness/previewServer';
import { validateManifest } from '../../src/ml/pool/poolManifest';
import { poolFingerprint } from '../../src/ml/pool/poolFingerprint';
import { recipeFragment } from '../../src/ml/share/recipe';
import { readReference } from '../unit/helpers';
import { modelWithClasses, poolReady, waitUntilOffline } from './pages';

const baseUrl = inject('baseUrl');
const ref = readReference(DEFAULT_POOL_DIR);
const manifest = validateManifest(JSON.parse(readFileSync(`${DEFAULT_POOL_DIR}/pool.json`, 'utf8')));
let browser: Browser;
let server: PreviewServer;
let maker: Page;
let link = '';
/** The app on the suite's server (the maker's own server is gone after the offline test), with a fragment. */
const app = (hash = '') => `${baseUrl}?backend=wasm${hash}`;
const fragment = () => link.slice(link.indexOf('#'));

/** A picture no CIFAR-100 class looks like (as in custom.e2e): the custom class's examples. */
function stripes(n: number): Buffer {
  const rgb = new Uint8Array(32 * 32 * 3);
  for (let y = 0; y < 32; y++)
    for (let x = 0; x < 32; x++) rgb.set(((x + y + n) >> 2) % 2 === 0 ? [250, 20 + 3 * n, 240] : [30, 230, 10 + 2 * n], (y * 32 + x) * 3);
  return encodePng(rgb, 32, 32);
}
const testImages = [
  ...Array.from({ length: 6 }, (_, i) => ({ name: `ref-${i}.png`, mimeType: 'image/png', buffer: encodePng(ref.images.subarray(i * 3072, (i + 1) * 3072), 32, 32) })),
  { name: 'stripes.png', mimeType: 'image/png', buffer: stripes(40) },
];

/** Every upload's verdict and top predictions with their percentages, as the page shows them. */
async function predictions(p: Page): Promise<Record<string, string>> {
  await p.setInputFiles('[data-testid="file-input"]', testImages);
  await p.waitForFunction((n) => document.querySelectorAll('li[data-upload][data-status="ready"] .preds li').length >= n, testImages.length * 3);
  await p.waitForFunction(() => document.querySelectorAll('li[data-upload] :is(.known-score, .none-of-these)').length === 7);
  return p.$$eval('li[data-upload]', (els) => Object.fromEntries(els.map((el) => [el.getAttribute('data-upload'), el.textContent ?? ''])));
}

/** The built-in check on the sample (the detector's row and column included), as the page shows it. */
async function builtInCheck(p: Page): Promise<string[]> {
  await p.click('text=Measure accuracy on the selected classes');
  await p.waitForSelector('[data-testid="check-unknown"]', { timeout: 60_000 });
  return p.$$eval('[data-testid="check-result"], [data-testid="check-unknown"], [data-testid="confusion-matrix"]', (els) => els.map((e) => e.textContent ?? ''));
}

async function setThreshold(p: Page, value: string): Promise<void> {
  await p.waitForSelector('[data-testid="unknown-calibration"]', { timeout: 60_000 });
  await p.fill('input[aria-label="None of these below p(known)"]', value);
  await p.waitForFunction((v) => document.querySelector('[data-testid="unknown-threshold"]')?.textContent === `${(100 * Number(v)).toFixed(1)} %`, value);
}

async function notice(p: Page, kind: string): Promise<string> {
  const el = await p.waitForSelector(`[data-testid="recipe-notice"][data-kind="${kind}"]`, { timeout: 60_000 });
  return `${await el.getAttribute('data-code')} ${await el.textContent()}`;
}

beforeAll(async () => {
  browser = await launchChromium();
  server = await servePreview();
  maker = await (await browser.newContext({ acceptDownloads: true })).newPage();
  await maker.goto(`${server.url}?backend=wasm`);
  await poolReady(maker);
  await maker.check('input[data-task="people"]');
  await maker.check('input[data-class="apple"]');
  await modelWithClasses(maker, 6);
  await maker.fill('[data-testid="custom-name"]', 'stripes');
  await maker.setInputFiles('[data-testid="custom-file-input"]', Array.from({ length: 10 }, (_, i) => ({ name: `s${i}.png`, mimeType: 'image/png', buffer: stripes(i) })));
  await maker.click('[data-testid="custom-train"]');
  await maker.waitForSelector('[data-custom="stripes"]', { timeout: 120_000 });
  await modelWithClasses(maker, 7);
  await maker.check('[data-testid="unknown-control"] input[type="checkbox"]');
  await setThreshold(maker, '0.42');
}, 240_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('share a model as a link (wasm)', () => {
  it('writes the recipe into the fragment, with a QR code', async () => {
    await maker.click('[data-testid="share-model"]');
    link = await (await maker.waitForSelector('[data-testid="share-link"]')).inputValue();
    expect(link.startsWith(`${server.url}#model=1.`)).toBe(true);
    expect(link.length).toBeLessThan(3300);
    console.log(`link with one custom class: ${link.length} characters`);
    // A QR code holds 2,953 bytes: a custom class's 1,089 float16 weights are about as much as fits.
    if (link.length <= 2953) expect(await maker.getAttribute('[data-testid="share-qr"]', 'src')).toMatch(/^data:image\/svg\+xml/);
    else expect(await maker.textContent('[data-testid="share-qr-note"]')).toMatch(/too long for a QR code/);
    await maker.uncheck('[data-custom="stripes"] input[type="checkbox"]');
    await modelWithClasses(maker, 6);
    await maker.click('[data-testid="share-model"]');
    await maker.waitForFunction(() => (document.querySelector<HTMLInputElement>('[data-testid="share-link"]')?.value.length ?? 9999) < 400);
    expect(await maker.getAttribute('[data-testid="share-qr"]', 'src')).toMatch(/^data:image\/svg\+xml/);
    await maker.check('[data-custom="stripes"] input[type="checkbox"]');
    await modelWithClasses(maker, 7);
    await setThreshold(maker, '0.42'); // each new model is calibrated afresh: the maker sets theirs again
  });

  it('rebuilds the identical model in a fresh profile, offline: the same predictions and built-in check, custom class and threshold included', async () => {
    const expected = await predictions(maker);
    expect(expected['stripes.png']).toMatch(/stripes/);
    const expectedCheck = await builtInCheck(maker);
    expect(expectedCheck).toHaveLength(3);
    const context = await browser.newContext();
    const p = await context.newPage();
    // A first visit caches the app and the sample (service worker) and the pool (IndexedDB); then the server goes away.
    await p.goto(`${server.url}?backend=wasm`);
    await poolReady(p);
    await waitUntilOffline(p);
    // The built-in check reads the sample through the service worker, which keeps it for offline use.
    await p.check('input[data-task="trees"]');
    await modelWithClasses(p, 5);
    await p.click('text=Measure accuracy on the selected classes');
    await p.waitForSelector('[data-testid="check-result"]', { timeout: 60_000 });
    await waitUntilOffline(p, 'sample.bin');
    await server.close(); // the maker's page needs it no more
    expect(await fetch(server.url).then(() => 'up', () => 'down')).toBe('down');
    await p.goto('about:blank');
    await p.goto(link);
    await poolReady(p);
    expect(await notice(p, 'applied')).toMatch(/Opened the shared model: 3 names .*1 class of its maker's own, "none of these" on/);
    await modelWithClasses(p, 7);
    expect(p.url()).toBe(server.url); // the fragment is taken off the address once read
    expect(await p.textContent('[data-testid="unknown-threshold"]')).toBe('42.0 %');
    expect(await predictions(p)).toEqual(expected);
    expect(await builtInCheck(p)).toEqual(expectedCheck); // every count of the matrix, "none of these" row and column too
    await context.close();
  }, 180_000);

  it('a pasted link replaces the selection in a running page, and the previous one comes back', async () => {
    const p = await browser.newPage();
    await p.goto(app());
    await poolReady(p);
    await p.check('input[data-task="trees"]');
    await modelWithClasses(p, 5);
    await p.evaluate((hash) => (location.hash = hash), fragment());
    await notice(p, 'applied');
    await modelWithClasses(p, 7);
    await p.click('text=Back to my previous selection');
    await modelWithClasses(p, 5);
    await p.close();
  });

  it('says what differs when the pool is another version, and builds it anyway on request', async () => {
    const fingerprint = await poolFingerprint(manifest);
    expect(link).not.toContain(fingerprint); // (the fragment is compressed: the real one is checked in the unit tests)
    const older = await recipeFragment({ pool: { name: manifest.name, version: '0.1-old', fingerprint: '0123456789abcdef', builtin: 'cifar100' }, selected: ['people', 'bus'], custom: [], unknown: null });
    const p = await browser.newPage();
    await p.goto(app(older));
    await poolReady(p);
    expect(await notice(p, 'mismatch')).toMatch(/^RECIPE_POOL .*v0\.1-old.*weights differ.*would not be the same/);
    await p.click('text=Build it from this pool anyway');
    await modelWithClasses(p, 6);
    await p.close();
  });

  it('opens the built-in pool a link names when another is in use', async () => {
    const fashion = validateManifest(JSON.parse(readFileSync(`${DEFAULT_POOL_DIR}/../fashion-mnist/pool.json`, 'utf8')));
    const hash = await recipeFragment({ pool: { name: fashion.name, version: fashion.version, fingerprint: await poolFingerprint(fashion), builtin: 'fashion-mnist' }, selected: [fashion.classes[0].name, fashion.classes[1].name], custom: [], unknown: null });
    const p = await browser.newPage();
    await p.goto(app());
    await poolReady(p);
    await p.evaluate((h) => (location.hash = h), hash);
    await notice(p, 'applied');
    await modelWithClasses(p, 2);
    expect(await p.textContent('[data-testid="model-card"]')).toContain(fashion.classes[0].name);
    await p.close();
  });

  it('refuses damaged, altered and foreign fragments with a coded message, and the session goes on', async () => {
    const p = await browser.newPage();
    const errors: string[] = [];
    p.on('pageerror', (e) => errors.push(e.message));
    await p.goto(app(fragment().slice(0, -25)));
    await poolReady(p);
    expect(await notice(p, 'error')).toMatch(/^RECIPE_INVALID .*(cut short|altered)/);
    await p.check('input[data-task="trees"]');
    await modelWithClasses(p, 5);
    const body = link.slice(link.indexOf('#model=1.') + 9);
    const cases = fc.sample(fc.oneof(
      fc.string({ maxLength: 40 }).map((s) => `#model=1.${s}`),
      fc.nat({ max: body.length - 1 }).chain((at) => fc.constantFrom('A', '_', '-', '0').map((c) => `#model=1.${body.slice(0, at)}${c}${body.slice(at + 1)}`)),
      fc.nat({ max: body.length }).map((n) => `#model=1.${body.slice(0, n)}`),
      fc.constantFrom('#model=9.abc', '#model=', '#model=1.%%%%', `#model=1.${'A'.repeat(5000)}`),
    ), { numRuns: 25, seed: 7 });
    const dismiss = async () => {
      await p.evaluate(() => [...document.querySelectorAll<HTMLButtonElement>('[data-testid="recipe-notice"] button')].find((b) => b.textContent === 'Dismiss')?.click());
      await p.waitForSelector('[data-testid="recipe-notice"]', { state: 'detached' });
    };
    for (const hash of cases) {
      await dismiss();
      await p.evaluate((h) => (location.hash = h), hash);
      const el = await p.waitForSelector('[data-testid="recipe-notice"]:not([data-kind="opening"])', { timeout: 10_000 });
      const [kind, code] = [await el.getAttribute('data-kind'), await el.getAttribute('data-code')];
      if (kind === 'applied') {
        // A flipped character can land where it changes nothing (base64's spare bits): that is the maker's model.
        await p.click('text=Back to my previous selection');
      } else expect([kind, code], hash.slice(0, 60)).toEqual(['error', expect.stringMatching(/^RECIPE_(INVALID|VERSION)$/)]);
      await modelWithClasses(p, 5);
    }
    expect(errors).toEqual([]);
    await p.close();
  }, 120_000);
});

describe('projects', () => {
  it('saves the recipe with the custom class images and opens it in another profile, ready to retrain', async () => {
    const [download] = await Promise.all([maker.waitForEvent('download'), maker.click('[data-testid="save-project"]')]);
    expect(download.suggestedFilename()).toBe(`poe-project-${manifest.name}-3.json`);
    const file = JSON.parse(readFileSync((await download.path())!, 'utf8'));
    expect(file).toMatchObject({ format: 'poe-project', formatVersion: 1, unknown: { threshold: 0.42 } });
    expect(file.custom[0].images.length).toBeGreaterThan(10 * 3072);
    const p = await (await browser.newContext()).newPage();
    await p.goto(`${baseUrl}?backend=wasm`);
    await poolReady(p);
    await p.setInputFiles('[data-testid="project-input"]', (await download.path())!);
    await notice(p, 'applied');
    await modelWithClasses(p, 7);
    expect(await p.textContent('[data-custom="stripes"]')).toContain('10 images');
    await p.setInputFiles('[data-testid="project-input"]', { name: 'broken.json', mimeType: 'application/json', buffer: Buffer.from('{"format":"poe-project","formatVersion":1') });
    expect(await notice(p, 'error')).toMatch(/^RECIPE_INVALID RECIPE_INVALID: This project file is not JSON/);
    await modelWithClasses(p, 7);
    await p.context().close();
  }, 120_000);
});
