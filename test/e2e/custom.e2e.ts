import { readFileSync } from 'node:fs';
import { strFromU8, unzipSync } from 'fflate';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launchChromium } from '../../harness/chromium';
import { fakeCameraArgs, makeClip } from '../../harness/fakeWebcam';
import { stripes } from '../../harness/png';
import { modelWithClasses, poolReady } from './pages';

const baseUrl = inject('baseUrl');
let browser: Browser;
let context: BrowserContext;
let page: Page;

const files = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => ({ name: `keys-${from + i}.png`, mimeType: 'image/png', buffer: stripes(from + i) }));

/** Waits for the draft to hold `n` images; on a timeout, says what the panel showed instead. */
async function draftCount(p: Page, n: number): Promise<void> {
  const want = `${n} image${n === 1 ? '' : 's'}`;
  try {
    await p.waitForFunction((w) => document.querySelector('[data-testid="custom-count"]')?.textContent?.split(' (')[0] === w, want, { timeout: 60_000 });
  } catch (e) {
    const shown = await p.evaluate(() => ({
      count: document.querySelector('[data-testid="custom-count"]')?.textContent,
      error: document.querySelector('.custom-classes [role="alert"]')?.textContent,
      progress: document.querySelector('[data-testid="custom-progress"]')?.textContent,
    }));
    throw new Error(`waited for "${want}", the panel shows ${JSON.stringify(shown)}: ${(e as Error).message}`);
  }
}

async function topPrediction(p: Page, name: string): Promise<string | null | undefined> {
  await p.setInputFiles('[data-testid="file-input"]', files(40, 1).map((f) => ({ ...f, name })));
  await p.waitForSelector(`li[data-upload="${name}"][data-status="ready"] .preds li`);
  return p.$eval(`li[data-upload="${name}"]`, (el) => el.querySelector('.preds li span')?.textContent);
}

beforeAll(async () => {
  browser = await launchChromium();
  context = await browser.newContext({ acceptDownloads: true });
  page = await context.newPage();
  await page.goto(`${baseUrl}?backend=wasm`);
  await poolReady(page);
  await page.check('input[data-task="people"]');
  await modelWithClasses(page, 5);
});
afterAll(async () => browser?.close());

describe('add your own class (wasm)', () => {
  it('trains a class from uploaded images, adds it to the model and predicts it', async () => {
    await page.fill('[data-testid="custom-name"]', 'my keys');
    await page.setInputFiles('[data-testid="custom-file-input"]', files(0, 9));
    await draftCount(page, 9);
    expect(await page.isDisabled('[data-testid="custom-train"]')).toBe(true); // fewer than 10
    await page.setInputFiles('[data-testid="custom-file-input"]', files(9, 11));
    await draftCount(page, 20);
    await page.click('[data-testid="custom-train"]');
    const row = await page.waitForSelector('[data-custom="my keys"]', { timeout: 120_000 });
    console.log(`custom class in Chromium (wasm): ${await row.textContent()}`);
    await modelWithClasses(page, 6);
    expect(await page.isChecked('[data-custom="my keys"] input[type="checkbox"]')).toBe(true);
    expect(await topPrediction(page, 'new-keys.png')).toBe('my keys');
    expect(await page.textContent('.chips button[aria-label="Remove my keys"]')).toMatch(/^my keys/);
  });

  it('goes into the TF.js download with its label', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="download"]')]);
    const zip = unzipSync(new Uint8Array(readFileSync((await download.path())!)));
    const meta = JSON.parse(strFromU8(zip['metadata.json']));
    expect(meta.labels).toEqual(['baby', 'boy', 'girl', 'man', 'woman', 'my keys']);
    expect(meta.experts.at(-1)).toMatchObject({ classes: ['my keys'], custom: true });
  });

  it('is still there after a reload (IndexedDB), selected and predicting', async () => {
    await page.reload();
    await poolReady(page);
    await page.waitForSelector('[data-custom="my keys"]');
    await modelWithClasses(page, 6);
    expect(await topPrediction(page, 'after-reload.png')).toBe('my keys');
  });

  it('exports to a file that another browser profile imports', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="custom-export"]')]);
    expect(download.suggestedFilename()).toBe('poe-custom-classes.json');
    const file = JSON.parse(readFileSync((await download.path())!, 'utf8'));
    expect(file.classes.map((c: { label: string }) => c.label)).toEqual(['my keys']);
    const other = await browser.newContext();
    const p = await other.newPage();
    await p.goto(`${baseUrl}?backend=wasm`);
    await poolReady(p);
    expect(await p.$('[data-custom="my keys"]')).toBeNull();
    await p.setInputFiles('[data-testid="custom-import"]', (await download.path())!);
    await p.waitForSelector('[data-custom="my keys"]');
    await p.check('[data-custom="my keys"] input[type="checkbox"]');
    await modelWithClasses(p, 1);
    await other.close();
  });

  it('is retrained with more images, renamed and removed like any class', async () => {
    await page.setInputFiles('[data-testid="custom-file-input"]', files(20, 2));
    await page.click('[data-custom="my keys"] >> text=Retrain (+2)');
    await page.waitForFunction(() => document.querySelector('[data-custom="my keys"]')?.textContent?.includes('22 images'), null, { timeout: 120_000 });
    await modelWithClasses(page, 6);
    expect(await page.isChecked('[data-custom="my keys"] input[type="checkbox"]')).toBe(true);
    await page.click('[data-custom="my keys"] >> text=Rename');
    await page.fill('[aria-label="New name for my keys"]', 'house keys');
    await page.click('[data-custom="my keys"] >> text=Save');
    await page.waitForSelector('[data-custom="house keys"]');
    await page.click('[data-custom="house keys"] >> text=Remove');
    await modelWithClasses(page, 5);
    expect(await page.$('[data-custom="house keys"]')).toBeNull();
  });
});

describe('add your own class from the webcam (fake camera)', () => {
  it('captures a burst while the button is held, then trains on it', async () => {
    const cam = await launchChromium(fakeCameraArgs(makeClip({ width: 320, height: 240 })));
    try {
      const p = await cam.newPage();
      await p.goto(`${baseUrl}?backend=wasm`);
      await poolReady(p);
      await p.check('input[data-task="vehicles_1"]');
      await modelWithClasses(p, 5);
      await p.click('[data-testid="webcam-start"]');
      await p.waitForFunction(() => document.querySelectorAll('[data-testid="webcam-top"] li').length === 5, null, { timeout: 60_000 });
      await p.fill('[data-testid="custom-name"]', 'test card');
      const button = (await p.$('[data-testid="custom-capture"]'))!;
      await button.scrollIntoViewIfNeeded();
      const box = (await button.boundingBox())!;
      await p.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await p.mouse.down();
      await p.waitForFunction(() => parseInt(document.querySelector('[data-testid="custom-count"]')?.textContent ?? '0') >= 12, null, { timeout: 60_000 });
      await p.mouse.up();
      const n = parseInt((await p.textContent('[data-testid="custom-count"]'))!);
      await p.waitForTimeout(500);
      expect(parseInt((await p.textContent('[data-testid="custom-count"]'))!)).toBeLessThanOrEqual(n + 1); // released: no more captures
      await p.click('[data-testid="custom-train"]');
      await p.waitForSelector('[data-custom="test card"]', { timeout: 120_000 });
      await modelWithClasses(p, 6);
      await p.waitForFunction(() => document.querySelector('[data-testid="webcam-top"] li')?.textContent?.includes('test card'), null, { timeout: 30_000 });
    } finally {
      await cam.close();
    }
  });
});
