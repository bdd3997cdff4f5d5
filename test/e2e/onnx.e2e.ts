import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launchChromium } from '../../harness/chromium';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(() => browser?.close());

describe('ONNX export in Chromium', () => {
  it('runs in ONNX Runtime Web with TF.js logits within 1e-4 and the same top-1 on the 2,000 sample images', async () => {
    const page = await browser.newPage();
    await page.goto(`${inject('baseUrl')}bench.html?backend=wasm&check=onnx`);
    await page.waitForFunction(() => window.benchResult || window.benchError, null, { timeout: 240_000, polling: 250 });
    expect(await page.evaluate(() => window.benchError)).toBeUndefined();
    const r = (await page.evaluate(() => window.benchResult)) as { maxAbsDiff: number; logits: number; sampleImages: number; sampleTop1Agree: number; runtime: string };
    expect(r.runtime).toMatch(/ONNX Runtime Web/);
    expect(r.logits).toBeGreaterThan(100);
    expect(r.maxAbsDiff).toBeLessThan(1e-4);
    expect([r.sampleImages, r.sampleTop1Agree]).toEqual([2000, 2000]);
    await page.close();
  });
});
