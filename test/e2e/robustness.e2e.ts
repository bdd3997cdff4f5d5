import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEFAULT_POOL_DIR } from '../../cli/lib/paths';
import { readReference } from '../unit/helpers';
import { launchChromium } from '../../harness/chromium';
import { encodePng } from '../../harness/png';
import { modelWithClasses, poolReady, recordNetworkRequests, waitUntilOffline } from './pages';

const baseUrl = inject('baseUrl');
const app = `${baseUrl}?backend=wasm`;
const ref = readReference(DEFAULT_POOL_DIR);
const png = (i: number) => encodePng(ref.images.subarray(i * 3072, (i + 1) * 3072), 32, 32);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'poe-robust-'));
let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => browser?.close());

async function freshPage(init?: () => void): Promise<Page> {
  const context = await browser.newContext();
  if (init) await context.addInitScript(init);
  return context.newPage();
}

describe('uploads', () => {
  it('handles an 8000 x 8000 image, an animated GIF and 500 files at once, staying responsive', async () => {
    const page = await freshPage();
    await page.goto(app);
    await poolReady(page);
    await page.check('input[data-task="people"]');
    await modelWithClasses(page, 5);
    const gif = path.join(tmp, 'anim.gif');
    execFileSync('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=5', '-t', '1', gif]);
    // Thumbnails are shown from data: URLs made in the page, so no upload needs the network. (The service
    // worker's first caching pass does: it runs after the pool loads, so wait for it.)
    await waitUntilOffline(page);
    const requests = recordNetworkRequests(page.context());
    const huge = Buffer.alloc(8000 * 8000 * 3, 90);
    await page.setInputFiles('[data-testid="file-input"]', [
      { name: 'huge.png', mimeType: 'image/png', buffer: encodePng(huge, 8000, 8000) },
      { name: 'anim.gif', mimeType: 'image/gif', buffer: readFileSync(gif) },
    ]);
    await page.waitForFunction(() => document.querySelectorAll('li[data-status="ready"]').length === 2, null, { timeout: 120_000 });
    const files = Array.from({ length: 500 }, (_, i) => ({ name: `f${i}.png`, mimeType: 'image/png', buffer: png(i % ref.count) }));
    await page.setInputFiles('[data-testid="file-input"]', files);
    // While the 500 files are decoded and predicted, the page still answers quickly.
    let slowest = 0;
    for (let i = 0; i < 5; i++) {
      const t0 = Date.now();
      await page.evaluate(() => document.querySelectorAll('li[data-upload]').length);
      slowest = Math.max(slowest, Date.now() - t0);
      await page.waitForTimeout(200);
    }
    expect(slowest).toBeLessThan(1000);
    await page.waitForFunction(() => document.querySelectorAll('li[data-status="ready"]').length === 502, null, { timeout: 240_000 });
    expect(await page.$$eval('li[data-status="error"]', (e) => e.length)).toBe(0);
    // Privacy: the images never leave the device; uploads make no network request at all.
    expect(requests).toEqual([]);
    await page.context().close();
  });

  it('leaves no image object URL behind when the images are cleared', async () => {
    const page = await freshPage(() => {
      const live = new Set<string>();
      const create = URL.createObjectURL.bind(URL);
      const revoke = URL.revokeObjectURL.bind(URL);
      // Image URLs only: TF.js makes blob URLs of its own for the wasm thread workers.
      URL.createObjectURL = (o: Blob | MediaSource) => { const u = create(o); if (o instanceof Blob && o.type.startsWith('image/')) live.add(u); return u; };
      URL.revokeObjectURL = (u: string) => { live.delete(u); revoke(u); };
      (window as unknown as { liveUrls: () => number }).liveUrls = () => live.size;
    });
    await page.goto(app);
    await poolReady(page);
    await page.setInputFiles('[data-testid="file-input"]', Array.from({ length: 10 }, (_, i) => ({ name: `t${i}.png`, mimeType: 'image/png', buffer: png(i) })));
    await page.waitForFunction(() => document.querySelectorAll('li[data-status="ready"]').length === 10);
    // Every thumbnail is shown (as a data: URL, encoded at once: see decodeImageFile).
    expect(await page.$$eval('li[data-upload] img', (imgs) => imgs.map((i) => (i as HTMLImageElement).src.slice(0, 15)))).toEqual(Array(10).fill('data:image/png;'));
    await page.click('text=Clear images');
    expect(await page.evaluate(() => (window as unknown as { liveUrls: () => number }).liveUrls())).toBe(0);
    await page.context().close();
  });
});

describe('pool downloads and storage', () => {
  it('names the file when a download is corrupted, and never replaces a good cached pool with a bad one', async () => {
    const page = await freshPage();
    const context = page.context();
    await page.goto(app);
    await poolReady(page); // a good pool, now cached
    const good = await page.textContent('.pool-info strong');
    const manifest = JSON.parse(readFileSync(path.join(DEFAULT_POOL_DIR, 'pool.json'), 'utf8'));
    await context.route('**/pools/*/pool.json', (r) => r.fulfill({ json: { ...manifest, version: 'v-newer' } }));
    await context.route('**/pools/*/library/weights.bin', async (r) => {
      const body = Buffer.from(await (await r.fetch()).body());
      body[10] ^= 0xff;
      await r.fulfill({ body });
    });
    await page.reload();
    await page.waitForSelector('.pool .notice');
    expect(await page.textContent('.pool .notice')).toMatch(/newer pool \(vv-newer\) is available, but its download failed.*library\/weights.bin fails its checksum/);
    expect(await page.textContent('.pool-info strong')).toBe(good);
    await context.unroute('**/pools/*/pool.json');
    await context.unroute('**/pools/*/library/weights.bin');
    // First visit in a new browser profile, with a truncated expert: a clear error, no crash.
    const p2 = await freshPage();
    await p2.context().route('**/experts/people/weights.bin', async (r) => r.fulfill({ body: Buffer.from((await (await r.fetch()).body()).subarray(0, 100)) }));
    await p2.goto(app);
    await p2.waitForSelector('section.pool[data-status="error"]');
    expect(await p2.textContent('.pool .error')).toMatch(/experts\/people\/weights.bin has 100 bytes, but the manifest says \d+: it is truncated/);
    await context.close();
    await p2.context().close();
  });

  it('works from memory and says so when IndexedDB is unavailable', async () => {
    const page = await freshPage(() => Object.defineProperty(window, 'indexedDB', { value: undefined }));
    await page.goto(app);
    await poolReady(page);
    expect(await page.textContent('.pool .notice')).toMatch(/works from memory but was not saved for offline use.*IndexedDB is not available/);
    await page.check('input[data-task="trees"]');
    await modelWithClasses(page, 5);
    await page.context().close();
  });

  it('works from memory and says so when the storage quota is full', async () => {
    const page = await freshPage(() => {
      IDBObjectStore.prototype.put = function () { throw new DOMException('quota', 'QuotaExceededError'); };
    });
    await page.goto(app);
    await poolReady(page);
    expect(await page.textContent('.pool .notice')).toMatch(/not saved for offline use: the browser storage quota is full/);
    await page.context().close();
  });

  it('discards a corrupted cached pool and downloads a good one', async () => {
    const page = await freshPage();
    await page.goto(app);
    await poolReady(page);
    await page.evaluate(async () => {
      const db: IDBDatabase = await new Promise((res, rej) => { const r = indexedDB.open('poe-studio'); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
      const store = db.transaction('pools', 'readwrite').objectStore('pools');
      const key = (await new Promise<IDBValidKey[]>((res) => { const r = store.getAllKeys(); r.onsuccess = () => res(r.result); }))[0];
      const entry = await new Promise<{ files: [string, Uint8Array][] }>((res) => { const r = store.get(key); r.onsuccess = () => res(r.result); });
      const weights = entry.files.find(([p]) => p === 'library/weights.bin')!;
      weights[1][5] ^= 0xff;
      await new Promise((res) => { const r = db.transaction('pools', 'readwrite').objectStore('pools').put(entry, key); r.onsuccess = res; });
    });
    await page.reload();
    await poolReady(page);
    expect(await page.textContent('.pool .notice')).toMatch(/cached pool was damaged and has been discarded.*library\/weights.bin/);
    expect(await page.textContent('[data-testid="pool-source"]')).toContain('network');
    await page.context().close();
  });
});

describe('backends', () => {
  it('falls back from an unavailable WebGPU to WebGL and says why', async () => {
    const plain = await launchChromium([], { webgpu: false });
    const page = await plain.newPage();
    await page.goto(baseUrl);
    await poolReady(page);
    expect(await page.textContent('[data-testid="backend"]')).toBe('webgl');
    expect(await page.textContent('section.model')).toMatch(/webgpu is not used: /);
    await plain.close();
  });
});
