// The second built-in pool (Fashion-MNIST, 28 x 28 grey) in the real app: switching pools, then every flow on it:
// pick, uploads, webcam, the built-in check, a custom class, the TF.js and ONNX downloads, and the choice after a reload.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import * as ort from 'onnxruntime-web';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { REPO_ROOT } from '../../cli/lib/paths';
import { launchChromium } from '../../harness/chromium';
import { fakeCameraArgs, makeClip } from '../../harness/fakeWebcam';
import { encodePng } from '../../harness/png';
import { loadModelFiles } from '../../src/ml/pool/loadModelFiles';
import { argmaxRows, predictLogits } from '../../src/ml/run/predict';
import { useNodeBackend } from '../../src/node';
import { seriousA11yViolations } from './layout';
import { modelWithClasses, poolReady } from './pages';

const baseUrl = inject('baseUrl');
const POOL = path.join(REPO_ROOT, 'public', 'pools', 'fashion-mnist');
const manifest = JSON.parse(readFileSync(path.join(POOL, 'pool.json'), 'utf8'));
const sample = JSON.parse(readFileSync(path.join(POOL, 'sample.json'), 'utf8'));
const sampleImages = new Uint8Array(readFileSync(path.join(POOL, sample.file)));
const [first, second] = manifest.experts as { name: string; classes: number[] }[];
const nameOf = (i: number) => manifest.classes.find((c: { index: number }) => c.index === i).name as string;
let browser: Browser;
let context: BrowserContext;
let page: Page;

/** Sample image i as a 28 x 28 PNG (grey written as R = G = B, which luma keeps exactly). */
const greyPng = (i: number) => {
  const grey = sampleImages.subarray(i * 784, (i + 1) * 784);
  return encodePng(Uint8Array.from({ length: 784 * 3 }, (_, k) => grey[Math.floor(k / 3)]), 28, 28);
};
const uploads = (indices: number[]) => indices.map((i) => ({ name: `fashion-${i}.png`, mimeType: 'image/png', buffer: greyPng(i) }));
/** Sample images of the first expert's classes. */
const firstExpertImages = (sample.labels as number[]).flatMap((l, i) => (first.classes.includes(l) ? [i] : [])).filter((_, k) => k % 17 === 0).slice(0, 8);

function stripes(n: number): Buffer {
  const rgb = new Uint8Array(28 * 28 * 3);
  for (let y = 0; y < 28; y++)
    for (let x = 0; x < 28; x++) rgb.fill(((x + y + n) >> 2) % 2 === 0 ? 250 : 10, (y * 28 + x) * 3, (y * 28 + x) * 3 + 3);
  return encodePng(rgb, 28, 28);
}

async function pageTop1(p: Page): Promise<Record<string, string | null | undefined>> {
  return p.$$eval('li[data-upload]', (els) => Object.fromEntries(els.map((el) => [el.getAttribute('data-upload'), el.querySelector('.preds li span')?.textContent])));
}

beforeAll(async () => {
  browser = await launchChromium(fakeCameraArgs(makeClip({ width: 320, height: 240 })));
  context = await browser.newContext({ acceptDownloads: true });
  page = await context.newPage();
  await page.goto(`${baseUrl}?backend=wasm`);
  await poolReady(page);
});
afterAll(async () => browser?.close());

describe('the Fashion-MNIST pool (28 x 28 grey), chosen in the app', () => {
  it('keeps the pool in use when the chosen one cannot be downloaded, and says why', async () => {
    await page.route('**/pools/fashion-mnist/**', (r) => r.abort('internetdisconnected'));
    await page.click('[data-testid="builtin-pools"] input[value="fashion-mnist"]');
    const error = await page.waitForSelector('section.pool .error', { timeout: 60_000 });
    expect(await error.textContent()).toMatch(/Could not download pool.json/);
    expect(await page.textContent('.pool-info strong')).toBe('cifar100');
    expect(await page.isChecked('[data-testid="builtin-pools"] input[value="cifar100"]')).toBe(true);
    await page.unroute('**/pools/fashion-mnist/**');
  });

  it('switches from CIFAR-100 to Fashion-MNIST; each keeps its own selection, and the choice survives a reload', async () => {
    await page.check('input[data-task="people"]');
    await modelWithClasses(page, 5);
    await page.check('[data-testid="builtin-pools"] input[value="fashion-mnist"]');
    await page.waitForFunction(() => document.querySelector('.pool-info strong')?.textContent === 'fashion-mnist', null, { timeout: 120_000 });
    await poolReady(page);
    expect(await page.$$eval('input[data-task]', (els) => els.map((e) => e.getAttribute('data-task')))).toEqual(manifest.experts.map((e: { name: string }) => e.name));
    expect(await page.$('[data-testid="model-classes"]')).toBeNull(); // nothing picked here yet
    // Each class shows its own tile of the pool's class pictures (one row of ten).
    await page.waitForFunction(() => document.querySelectorAll('.classes [data-thumb]').length === 10, null, { timeout: 30_000 });
    const positions = await page.$$eval('.classes [data-thumb]', (els) => els.map((e) => getComputedStyle(e).backgroundPosition));
    expect(positions).toHaveLength(10);
    expect(new Set(positions).size).toBe(10);
    await page.check(`input[data-task="${first.name}"]`);
    await modelWithClasses(page, first.classes.length);
    expect(await seriousA11yViolations(page)).toEqual([]);

    await page.reload();
    await poolReady(page);
    expect(await page.textContent('.pool-info strong')).toBe('fashion-mnist');
    await modelWithClasses(page, first.classes.length);
    await page.check('[data-testid="builtin-pools"] input[value="cifar100"]');
    await page.waitForFunction(() => document.querySelector('.pool-info strong')?.textContent === 'cifar100', null, { timeout: 120_000 });
    await modelWithClasses(page, 5); // people, as left
    await page.check('[data-testid="builtin-pools"] input[value="fashion-mnist"]');
    await page.waitForFunction(() => document.querySelector('.pool-info strong')?.textContent === 'fashion-mnist', null, { timeout: 120_000 });
    await modelWithClasses(page, first.classes.length);
  });

  it('classifies uploaded images as TF.js in Node does, and previews them grey', async () => {
    await page.setInputFiles('[data-testid="file-input"]', uploads(firstExpertImages));
    await page.waitForFunction((n) => document.querySelectorAll('li[data-status="ready"] .preds li').length >= n, firstExpertImages.length * Math.min(3, first.classes.length));
    const top1 = await pageTop1(page);
    const right = firstExpertImages.filter((i) => top1[`fashion-${i}.png`] === nameOf(sample.labels[i])).length;
    console.log(`Fashion-MNIST uploads in Chromium (wasm): ${right} of ${firstExpertImages.length} right (${first.name})`);
    expect(right).toBeGreaterThanOrEqual(firstExpertImages.length - 2);
    const thumbGrey = await page.$eval(`li[data-upload="fashion-${firstExpertImages[0]}.png"] img`, async (img) => {
      const el = img as HTMLImageElement;
      await el.decode();
      const c = document.createElement('canvas');
      c.width = el.naturalWidth;
      c.height = el.naturalHeight;
      const ctx = c.getContext('2d')!;
      ctx.drawImage(el, 0, 0);
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      for (let i = 0; i < d.length; i += 4) if (d[i] !== d[i + 1] || d[i] !== d[i + 2]) return false;
      return true;
    });
    expect(thumbGrey).toBe(true);
  });

  it('runs the built-in check on the pool\'s own sample', async () => {
    await page.click('text=Measure accuracy on the selected classes');
    const result = await page.waitForSelector('[data-testid="check-result"]', { timeout: 60_000 });
    const top1 = Number(await result.getAttribute('data-top1'));
    console.log(`Fashion-MNIST built-in check, ${first.name}: ${(100 * top1).toFixed(1)} % top-1`);
    expect(top1).toBeGreaterThan(0.8);
    expect(await page.textContent('[data-testid="check-about"]')).toContain('fashion-mnist');
    expect(await page.$$('.check table, .check [role="grid"], .check .matrix')).not.toHaveLength(0);
  });

  it('shows the webcam\'s frames grey and 28 pixels wide, as the model sees them', async () => {
    await page.click('[data-testid="webcam-start"]');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="webcam-top"] li').length > 0, null, { timeout: 60_000 });
    const view = await page.$eval('canvas[title="What the model sees"]', (c) => {
      const canvas = c as HTMLCanvasElement;
      const d = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let grey = true;
      for (let i = 0; i < d.length; i += 4) if (d[i] !== d[i + 1] || d[i] !== d[i + 2]) grey = false;
      return { width: canvas.width, grey };
    });
    expect(view).toEqual({ width: 28, grey: true });
    await page.click('text=Stop camera');
  });

  it('trains a custom class from grey images and predicts it', async () => {
    await page.fill('[data-testid="custom-name"]', 'stripes');
    await page.setInputFiles('[data-testid="custom-file-input"]', Array.from({ length: 12 }, (_, i) => ({ name: `s-${i}.png`, mimeType: 'image/png', buffer: stripes(i) })));
    await page.waitForFunction(() => document.querySelector('[data-testid="custom-count"]')?.textContent === '12 images');
    await page.click('[data-testid="custom-train"]');
    await page.waitForSelector('[data-custom="stripes"]', { timeout: 120_000 });
    await modelWithClasses(page, first.classes.length + 1);
    await page.setInputFiles('[data-testid="file-input"]', [{ name: 'new-stripes.png', mimeType: 'image/png', buffer: stripes(30) }]);
    await page.waitForSelector('li[data-upload="new-stripes.png"][data-status="ready"] .preds li');
    expect((await pageTop1(page))['new-stripes.png']).toBe('stripes');
    await page.uncheck('[data-custom="stripes"] input[type="checkbox"]');
    await modelWithClasses(page, first.classes.length);
  });

  it('downloads TF.js and ONNX models that take [N, 28, 28, 1] and predict as the page does', async () => {
    await page.check(`input[data-task="${second.name}"]`);
    const k = first.classes.length + second.classes.length;
    await modelWithClasses(page, k);
    await page.click("text=Clear images");
    const images = firstExpertImages.slice(0, 4);
    await page.setInputFiles('[data-testid="file-input"]', uploads(images));
    await page.waitForFunction((n) => document.querySelectorAll('li[data-status="ready"] .preds li').length >= n, 4 * 3);
    const top1 = await pageTop1(page);
    const grey = new Uint8Array(images.length * 784);
    images.forEach((i, j) => grey.set(sampleImages.subarray(i * 784, (i + 1) * 784), j * 784));

    const [tfjs] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="download"]')]);
    const zip = unzipSync(new Uint8Array(readFileSync((await tfjs.path())!)));
    const meta = JSON.parse(strFromU8(zip['metadata.json']));
    expect(meta.input).toMatchObject({ shape: [null, 28, 28, 1], channels: 'L' });
    expect(strFromU8(zip['README.md'])).toContain('[N, 28, 28, 1] grey pixels');
    expect(meta.labels).toHaveLength(k);
    await useNodeBackend('cpu');
    const model = await loadModelFiles({ 'model.json': strFromU8(zip['model.json']), 'weights.bin': zip['weights.bin'] });
    const fromTfjs = argmaxRows(await predictLogits(model, grey, images.length, 28), k, k + (meta.unknown ? 1 : 0));
    images.forEach((i, j) => expect(top1[`fashion-${i}.png`]).toBe(meta.labels[fromTfjs[j]]));

    await page.check('[data-format="onnx"] input');
    const [onnx] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="download"]')]);
    const onnxZip = unzipSync(new Uint8Array(readFileSync((await onnx.path())!)));
    ort.env.wasm.numThreads = 1;
    const session = await ort.InferenceSession.create(onnxZip['model.onnx']);
    const out = await session.run({ pixels: new ort.Tensor('float32', Float32Array.from(grey), [images.length, 28, 28, 1]) });
    const fromOnnx = argmaxRows(out.logits.data as Float32Array, k, k + (meta.unknown ? 1 : 0));
    images.forEach((i, j) => expect(top1[`fashion-${i}.png`]).toBe(meta.labels[fromOnnx[j]]));
    await session.release();
    await page.check('[data-format="tfjs"] input');
  });
});
