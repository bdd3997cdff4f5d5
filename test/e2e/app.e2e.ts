import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { argmaxRows } from '../../src/ml/run/predict';
import { openPool, useNodeBackend } from '../../src/node';
import { DEFAULT_POOL_DIR } from '../../cli/lib/paths';
import { readReference } from '../unit/helpers';
import { launchChromium } from '../../harness/chromium';
import { encodePng } from '../../harness/png';
import { poolReady } from './pages';

const baseUrl = inject('baseUrl');
const SELECTION = ['people', 'vehicles_1'];
const ref = readReference(DEFAULT_POOL_DIR);
const pngs = Array.from({ length: ref.count }, (_, i) => ({
  name: `ref-${String(i).padStart(2, '0')}.png`,
  mimeType: 'image/png',
  buffer: encodePng(ref.images.subarray(i * 3072, (i + 1) * 3072), 32, 32),
}));

let browser: Browser;
let context: BrowserContext;
let page: Page;
const poolRequests: string[] = [];


beforeAll(async () => {
  browser = await launchChromium();
  context = await browser.newContext();
  page = await context.newPage();
  page.on('request', (r) => { if (r.url().includes('/pools/')) poolRequests.push(r.url()); });
});
afterAll(async () => {
  await browser?.close();
});

describe('the app in headless Chromium (wasm)', () => {
  it('downloads the default pool on the first visit, with a progress bar per file, and caches it', async () => {
    await page.goto(`${baseUrl}?backend=wasm`);
    await poolReady(page);
    expect(await page.textContent('[data-testid="pool-source"]')).toContain('network');
    expect(await page.textContent('[data-testid="backend"]')).toBe('wasm');
    expect(poolRequests.some((u) => u.endsWith('/library/weights.bin'))).toBe(true);
  });

  it('builds a model from picked superclasses and predicts uploaded images as the Node engine does', async () => {
    for (const t of SELECTION) await page.check(`input[data-task="${t}"]`);
    await page.waitForFunction(() => document.querySelector('[data-testid="model-classes"]')?.textContent === '10');
    await page.setInputFiles('[data-testid="file-input"]', pngs);
    await page.waitForFunction((n) => document.querySelectorAll('li[data-status="ready"] .preds li').length >= n * 3, pngs.length, { timeout: 60_000 });
    const pageTop1 = await page.$$eval('li[data-upload]', (els) =>
      Object.fromEntries(els.map((el) => [el.getAttribute('data-upload'), el.querySelector('.preds li span')?.textContent])));

    await useNodeBackend('cpu');
    const pool = await openPool(DEFAULT_POOL_DIR);
    const c = pool.consolidate(SELECTION);
    const top1 = argmaxRows(await c.predictLogits(ref.images), c.labels.length);
    for (let i = 0; i < ref.count; i++) expect(pageTop1[pngs[i].name]).toBe(c.labels[top1[i]]);
    c.dispose();
    pool.dispose();
  });

  it('gives each bad file its own message while the good ones keep their predictions', async () => {
    const good = pngs[0].buffer;
    await page.setInputFiles('[data-testid="file-input"]', [
      { name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('this is not a picture at all') },
      { name: 'empty.png', mimeType: 'image/png', buffer: Buffer.alloc(0) },
      { name: 'truncated.png', mimeType: 'image/png', buffer: good.subarray(0, 60) },
      { name: 'report.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4') },
    ]);
    await page.waitForFunction(() => document.querySelectorAll('li[data-status="error"]').length >= 4);
    const msg = (name: string) => page.textContent(`li[data-upload="${name}"] .error`);
    expect(await msg('notes.png')).toMatch(/could not be decoded/);
    expect(await msg('empty.png')).toMatch(/empty \(0 bytes\)/);
    expect(await msg('truncated.png')).toMatch(/corrupt, truncated/);
    expect(await msg('report.pdf')).toMatch(/not an image/);
    expect(await page.$$eval('li[data-status="ready"]', (els) => els.length)).toBe(pngs.length);
  });

  it('reloads from IndexedDB without downloading the pool again, and keeps the selection', async () => {
    poolRequests.length = 0;
    await page.reload();
    await poolReady(page);
    expect(await page.textContent('[data-testid="pool-source"]')).toContain('storage');
    // Only the small update check (index.json, pool.json) and the class pictures may go out; no model or weight file.
    expect(poolRequests.filter((u) => !/\/((index|pool)\.json|class-thumbs\.(json|png))$/.test(u))).toEqual([]);
    expect(await page.isChecked('input[data-task="people"]')).toBe(true);
    await page.waitForFunction(() => document.querySelector('[data-testid="model-classes"]')?.textContent === '10');
  });
});
