import { readFileSync } from 'node:fs';
import { unzipSync, strFromU8 } from 'fflate';
import * as ort from 'onnxruntime-web';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { argmaxRows, predictLogits } from '../../src/ml/run/predict';
import { loadModelFiles } from '../../src/ml/pool/loadModelFiles';
import { useNodeBackend } from '../../src/node';
import { compileTflite, tfliteLogits } from '../../src/io/litert';
import { startLiteRtNode } from '../../src/node/litert';
import { DEFAULT_POOL_DIR } from '../../cli/lib/paths';
import { readReference } from '../unit/helpers';
import { launchChromium } from '../../harness/chromium';
import { encodePng } from '../../harness/png';
import { servePreview } from '../../harness/previewServer';
import { modelWithClasses, poolReady, waitUntilOffline } from './pages';

const baseUrl = inject('baseUrl');
/** Values a row of a downloaded model's output: the logits, and p(known) after them when it has the detector. */
const stride = (meta: { labels: string[]; unknown?: unknown }) => meta.labels.length + (meta.unknown ? 1 : 0);
const ref = readReference(DEFAULT_POOL_DIR);
let browser: Browser;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  browser = await launchChromium();
  context = await browser.newContext({ acceptDownloads: true });
  page = await context.newPage();
  await page.goto(`${baseUrl}?backend=wasm`);
  await poolReady(page);
  await page.check('input[data-task="people"]');
  await page.check('input[data-class="apple"]');
  await modelWithClasses(page, 6);
});
afterAll(async () => browser?.close());

describe('built-in check, download and offline use (wasm)', () => {
  it('counts the selection and measures accuracy on the shipped CIFAR-100 sample, showing the mistakes', async () => {
    expect(await page.textContent('[data-testid="picker-count"]')).toBe('6 classes selected, using 2 of 20 experts');
    await page.click('text=Measure accuracy on the selected classes');
    const el = await page.waitForSelector('[data-testid="check-result"]', { timeout: 60_000 });
    expect(await el.textContent()).toMatch(/of 120 images right/);
    const top1 = Number(await el.getAttribute('data-top1'));
    expect(top1).toBeGreaterThan(1 / 6); // better than chance, even for the rough quick pool
    const shown = await page.$$eval('.mistakes li canvas', (c) => c.length);
    expect(shown).toBe(Math.min(40, Math.round(120 * (1 - top1))));
  });

  it('compares float32, float16 and uint8 before download', async () => {
    await page.click('text=Compare sizes and accuracy');
    await page.waitForSelector('[data-precision="uint8"] .precision-figures', { timeout: 120_000 });
    const text = await page.textContent('fieldset.precision');
    expect(text).toMatch(/float32 .*KB, \d+\.\d % on the built-in sample/);
    expect(text).toMatch(/uint8 .*points\)/);
  });

  it('downloads a zip that plain TF.js in Node loads and that predicts as the page does', async () => {
    const images = Array.from({ length: 8 }, (_, i) => ({
      name: `img-${i}.png`, mimeType: 'image/png', buffer: encodePng(ref.images.subarray(i * 3072, (i + 1) * 3072), 32, 32),
    }));
    await page.setInputFiles('[data-testid="file-input"]', images);
    await page.waitForFunction(() => document.querySelectorAll('li[data-status="ready"] .preds li').length >= 24);
    const pageTop1 = await page.$$eval('li[data-upload]', (els) =>
      Object.fromEntries(els.map((el) => [el.getAttribute('data-upload'), el.querySelector('.preds li span')?.textContent])));
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="download"]')]);
    expect(download.suggestedFilename()).toBe('poe-6-classes-float32.zip');
    const zip = unzipSync(new Uint8Array(readFileSync((await download.path())!)));
    expect(Object.keys(zip).sort()).toEqual(['README.md', 'metadata.json', 'model.json', 'weights.bin']);
    expect(strFromU8(zip['README.md'])).toContain('tf.loadLayersModel');
    const meta = JSON.parse(strFromU8(zip['metadata.json']));
    expect(meta.labels).toEqual(['apple', 'baby', 'boy', 'girl', 'man', 'woman']);
    await useNodeBackend('cpu');
    const model = await loadModelFiles({ 'model.json': strFromU8(zip['model.json']), 'weights.bin': zip['weights.bin'] });
    const top1 = argmaxRows(await predictLogits(model, ref.images, 8, 32), meta.labels.length, stride(meta));
    images.forEach((img, i) => expect(pageTop1[img.name]).toBe(meta.labels[top1[i]]));
  });

  it('downloads an ONNX zip that ONNX Runtime in Node runs, predicting as the page does', async () => {
    const pageTop1 = await page.$$eval('li[data-upload]', (els) =>
      Object.fromEntries(els.map((el) => [el.getAttribute('data-upload'), el.querySelector('.preds li span')?.textContent])));
    await page.check('[data-format="onnx"] input');
    expect(await page.$$('[data-precision="uint8"]')).toHaveLength(0); // ONNX offers float32 and float16
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="download"]')]);
    expect(download.suggestedFilename()).toBe('poe-6-classes-float32-onnx.zip');
    const zip = unzipSync(new Uint8Array(readFileSync((await download.path())!)));
    expect(Object.keys(zip).sort()).toEqual(['README.md', 'metadata.json', 'model.onnx']);
    expect(strFromU8(zip['README.md'])).toContain('onnxruntime');
    const meta = JSON.parse(strFromU8(zip['metadata.json']));
    expect([meta.labels, meta.modelFile]).toEqual([['apple', 'baby', 'boy', 'girl', 'man', 'woman'], 'model.onnx']);
    ort.env.wasm.numThreads = 1;
    const session = await ort.InferenceSession.create(zip['model.onnx']);
    const out = await session.run({ pixels: new ort.Tensor('float32', Float32Array.from(ref.images.subarray(0, 8 * 3072)), [8, 32, 32, 3]) });
    const top1 = argmaxRows(out.logits.data as Float32Array, meta.labels.length, stride(meta));
    for (let i = 0; i < 8; i++) expect(pageTop1[`img-${i}.png`]).toBe(meta.labels[top1[i]]);
    await session.release();
    await page.check('[data-format="tfjs"] input');
  });

  it('runs the LiteRT (TFLite) downloads in the page with LiteRT.js, and the int8 zip carries the C pair for TFLite Micro', async () => {
    const pageTop1 = await page.$$eval('li[data-upload]', (els) =>
      Object.fromEntries(els.map((el) => [el.getAttribute('data-upload'), el.querySelector('.preds li span')?.textContent])));
    await page.check('[data-format="tflite"] input');
    await page.waitForSelector('[data-precision="int8"] .precision-figures', { timeout: 180_000 });
    const figure = async (format: string, precision: string) => {
      await page.check(`[data-format="${format}"] input`);
      const text = (await page.textContent(`[data-precision="${precision}"] .precision-figures`)) ?? '';
      return Number(text.match(/([\d.]+) % on the built-in sample/)?.[1]);
    };
    const tfjs = await figure('tfjs', 'float32');
    // The same float graph: the same top-1 on the sample; int8 (run, not estimated) close to it (the strict check is tfliteAccuracy.test.ts).
    expect(await figure('tflite', 'float32')).toBe(tfjs);
    expect(await figure('tflite', 'float16')).toBe(tfjs);
    expect(Math.abs((await figure('tflite', 'int8')) - tfjs)).toBeLessThanOrEqual(5); // 120 images: 6 of them
    expect(await page.textContent('[data-precision="int8"]')).toMatch(/int8 \(full integer\) .*KB, [\d.]+ % on the built-in sample/);

    await startLiteRtNode();
    const [f32] = await Promise.all([page.waitForEvent('download'), (async () => { await page.check('[data-precision="float32"] input'); await page.click('[data-testid="download"]'); })()]);
    expect(f32.suggestedFilename()).toBe('poe-6-classes-float32-tflite.zip');
    const zip = unzipSync(new Uint8Array(readFileSync((await f32.path())!)));
    expect(Object.keys(zip).sort()).toEqual(['README.md', 'metadata.json', 'model.tflite']);
    const meta = JSON.parse(strFromU8(zip['metadata.json']));
    expect([meta.labels, meta.modelFile, meta.tflite.precision]).toEqual([['apple', 'baby', 'boy', 'girl', 'man', 'woman'], 'model.tflite', 'float32']);
    const model = await compileTflite(zip['model.tflite']);
    const top1 = argmaxRows(await tfliteLogits(model, ref.images.subarray(0, 8 * 3072), 8), meta.labels.length, stride(meta));
    model.delete();
    for (let i = 0; i < 8; i++) expect(pageTop1[`img-${i}.png`]).toBe(meta.labels[top1[i]]);

    await page.check('[data-precision="int8"] input');
    const [int8] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="download"]')]);
    expect(int8.suggestedFilename()).toBe('poe-6-classes-int8-tflite.zip');
    const q = unzipSync(new Uint8Array(readFileSync((await int8.path())!)));
    expect(Object.keys(q).sort()).toEqual(['README.md', 'metadata.json', 'model.tflite', 'model_data.cc', 'model_data.h']);
    const qMeta = JSON.parse(strFromU8(q['metadata.json']));
    expect([qMeta.input.dtype, qMeta.tflite.input]).toEqual(['uint8', { dtype: 'uint8', range: [0, 255], scale: 1, zeroPoint: 0 }]);
    expect(strFromU8(q['model_data.h'])).toContain(`activations need ${qMeta.tflite.tensorArenaBytes} bytes`);
    expect(strFromU8(q['model_data.cc'])).toContain(`g_poe_model_data_len = ${q['model.tflite'].length};`);
    expect(strFromU8(q['README.md'])).toContain('Full-integer int8');
    await page.check('[data-format="tfjs"] input');
  });

  it('says "none of these" once switched on, with a threshold set on the sample that a slider moves', async () => {
    await page.check('[data-testid="unknown-control"] input[type="checkbox"]');
    const note = await page.waitForSelector('[data-testid="unknown-calibration"]', { timeout: 120_000 });
    expect(await note.textContent()).toMatch(/keep 9\d % of your classes’ 120 images; it turns away \d+ % of the \d+ images of other classes/);
    await page.waitForFunction(() => document.querySelectorAll('li[data-upload] :is(.known-score, .none-of-these)').length === 8);
    const verdicts = await page.$$eval('li[data-upload]', (els) => els.map((el) => el.querySelector(':is(.known-score, .none-of-these)')!.textContent));
    expect(verdicts.every((v) => /^(None of these|One of yours): p\(known\) [\d.]+ %$/.test(v ?? ''))).toBe(true);
    // The built-in check adds a "none of these" row (images of the other classes) and column.
    await page.click('text=Measure accuracy on the selected classes');
    const figures = await page.waitForSelector('[data-testid="check-unknown"]', { timeout: 60_000 });
    expect(await figures.textContent()).toMatch(/keeps 9\d\.\d % of the 120 images of your classes and turns away \d+\.\d % of 1000 images of other classes/);
    expect(Number(await figures.getAttribute('data-rejected'))).toBeGreaterThan(0.5);
    const heads = await page.$$eval('[data-testid="confusion-matrix"] tbody th', (els) => els.map((e) => e.textContent));
    expect(heads.at(-1)).toBe('none of these');
    expect(await page.$('[data-cell="none of these|none of these"]')).not.toBeNull();
    await page.locator('[data-testid="unknown-control"] input[type="range"]').fill('1');
    await page.waitForSelector('text=The threshold changed: measure again');
    await page.waitForFunction(() => document.querySelectorAll('li[data-upload][data-unknown="true"]').length === 8);
    expect(await page.textContent('[data-testid="unknown-threshold"]')).toBe('100.0 %');
    await page.uncheck('[data-testid="unknown-control"] input[type="checkbox"]');
    await page.waitForFunction(() => document.querySelectorAll('li[data-upload] :is(.known-score, .none-of-these)').length === 0);
  });

  it('works after a reload with the server gone (service worker + IndexedDB)', async () => {
    // Playwright's setOffline bypasses service workers, so cut the network for real: stop the server.
    const server = await servePreview();
    try {
      const url = `${server.url}?backend=wasm`;
      const offlineContext = await browser.newContext();
      const p = await offlineContext.newPage();
      await p.goto(url);
      await poolReady(p);
      await p.check('input[data-task="vehicles_2"]');
      await modelWithClasses(p, 5);
      await waitUntilOffline(p);
      await server.close();
      expect(await fetch(url).then(() => 'up', () => 'down')).toBe('down');
      await p.reload();
      await poolReady(p);
      expect(await p.textContent('[data-testid="pool-source"]')).toContain('storage');
      await modelWithClasses(p, 5);
      await offlineContext.close();
    } finally {
      await server.close();
    }
  });
});
