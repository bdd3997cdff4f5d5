import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEFAULT_POOL_DIR } from '../../cli/lib/paths';
import { readReference } from '../unit/helpers';
import { launchChromium, launchChromiumWithProfile } from '../../harness/chromium';
import { fakeCameraArgs, makeClip } from '../../harness/fakeWebcam';
import { seriousA11yViolations } from './layout';
import { encodePng } from '../../harness/png';
import { modelWithClasses, poolReady, showClasses } from './pages';

const baseUrl = inject('baseUrl');
const app = `${baseUrl}?backend=wasm`;
const ref = readReference(DEFAULT_POOL_DIR);
let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium(fakeCameraArgs(makeClip({ width: 320, height: 240 })));
});
afterAll(async () => browser?.close());

/** Each layout is walked once; at every state axe runs in light, and its contrast rule in dark too. */
const SETUPS: { name: string; options: BrowserContextOptions }[] = [
  { name: 'phone', options: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, colorScheme: 'light' } },
  { name: 'desktop', options: { viewport: { width: 1280, height: 800 }, colorScheme: 'light' } },
];

/**
 * The page's main states, one after another. Axe runs where a state shows something new that the next
 * one hides; the states marked `later` stay on the page (chips, uploads, the check with its cell open,
 * the figures, the link and QR code) and are checked with "webcam running" (axe takes 2-9 s a run here).
 */
const STATES: { name: string; later?: true; reach: (p: Page) => Promise<void> }[] = [
  { name: 'pool loaded, nothing selected', reach: async () => {} },
  { name: 'model built, a superclass open, chips shown', later: true, reach: async (p) => {
    await p.click('input[data-task="people"]');
    await showClasses(p, 'fruit_and_vegetables');
    await p.click('input[data-class="apple"]');
    await modelWithClasses(p, 6);
  } },
  { name: 'images uploaded, one bad', later: true, reach: async (p) => {
    await p.setInputFiles('[data-testid="file-input"]', [
      { name: 'good.png', mimeType: 'image/png', buffer: encodePng(ref.images.subarray(0, 3072), 32, 32) },
      { name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('not an image') },
    ]);
    await p.waitForSelector('li[data-status="error"]');
    await p.waitForSelector('li[data-status="ready"] .preds li');
  } },
  { name: 'built-in check with a cell open, precisions compared', later: true, reach: async (p) => {
    await p.click('text=Measure accuracy on the selected classes');
    await p.click('[data-testid="confusion-matrix"] button >> nth=1', { timeout: 60_000 });
    await p.waitForSelector('[data-testid="check-images"]');
    await p.click('text=Compare sizes and accuracy');
    await p.waitForSelector('[data-precision="uint8"] .precision-figures', { timeout: 120_000 });
  } },
  { name: 'model shared as a link and a QR code', later: true, reach: async (p) => {
    await p.click('[data-testid="share-model"]');
    await p.waitForSelector('[data-testid="share-qr"]');
  } },
  { name: 'webcam running', reach: async (p) => {
    await p.click('[data-testid="webcam-start"]');
    await p.waitForFunction(() => document.querySelectorAll('[data-testid="webcam-top"] li').length === 5, null, { timeout: 60_000 });
  } },
  { name: 'webcam full screen', reach: async (p) => {
    await p.click('[data-testid="webcam-full"]');
    await p.waitForSelector('.webcam-view.full');
  } },
  { name: 'per-class bars for a large selection', reach: async (p) => {
    await p.click('text=Exit full screen');
    await p.click('text=Stop camera');
    await p.click('input[data-task="vehicles_1"]'); // 11 classes: above the matrix's 10, bars instead
    await modelWithClasses(p, 11);
    await p.click('text=Measure accuracy on the selected classes');
    await p.waitForSelector('[data-testid="class-accuracy"]', { timeout: 120_000 });
  } },
];

describe('accessibility (axe-core): no serious or critical violation in any main state, light and dark', () => {
  for (const setup of SETUPS) {
    it(setup.name, async () => {
      const context = await browser.newContext(setup.options);
      const page = await context.newPage();
      await page.goto(app);
      await poolReady(page);
      const found: Record<string, string[]> = {};
      for (const state of STATES) {
        await state.reach(page);
        if (state.later) continue;
        const light = await seriousA11yViolations(page);
        if (light.length) found[`${state.name}, light`] = light;
        // Dark mode changes colours only: the contrast rule is the one that can tell it apart.
        await page.emulateMedia({ colorScheme: 'dark' });
        const dark = await seriousA11yViolations(page, ['color-contrast']);
        if (dark.length) found[`${state.name}, dark`] = dark;
        await page.emulateMedia({ colorScheme: 'light' });
      }
      expect(found).toEqual({});
      await context.close();
    });
  }
});

describe('installable, in light and dark', () => {
  it('links a web app manifest whose icons load at their stated sizes, and Chromium finds nothing in the way of installing', async () => {
    const profile = await launchChromiumWithProfile(mkdtempSync(path.join(os.tmpdir(), 'poe-profile-')));
    const page = await profile.newPage();
    await page.goto(app);
    await poolReady(page);
    const href = await page.$eval('link[rel="manifest"]', (l: HTMLLinkElement) => l.href);
    const manifest = await (await fetch(href)).json();
    expect(manifest).toMatchObject({ name: 'PoE Studio', display: 'standalone', start_url: '/' });
    const pngs = manifest.icons.filter((i: { type: string }) => i.type === 'image/png');
    expect(pngs.map((i: { sizes: string }) => i.sizes)).toEqual(expect.arrayContaining(['192x192', '512x512']));
    for (const icon of pngs) {
      const size = await page.evaluate(async (src) => {
        const img = new Image();
        img.src = src;
        await img.decode();
        return `${img.naturalWidth}x${img.naturalHeight}`;
      }, new URL(icon.src, href).href);
      expect(size).toBe(icon.sizes);
    }
    const cdp = await page.context().newCDPSession(page);
    const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
    expect(installabilityErrors).toEqual([]);
    await profile.close();
  });

  it('follows the system colour scheme', async () => {
    const background = async (colorScheme: 'light' | 'dark') => {
      const context = await browser.newContext({ colorScheme });
      const page = await context.newPage();
      await page.goto(app);
      const [bg, panel] = await page.evaluate(() => [getComputedStyle(document.documentElement).backgroundColor, getComputedStyle(document.querySelector('.panel')!).backgroundColor]);
      await context.close();
      return { bg, panel };
    };
    expect(await background('light')).toEqual({ bg: 'rgb(245, 246, 248)', panel: 'rgb(255, 255, 255)' });
    expect(await background('dark')).toEqual({ bg: 'rgb(17, 21, 28)', panel: 'rgb(27, 33, 48)' });
  });
});
