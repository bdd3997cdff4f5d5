import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEFAULT_POOL_DIR } from '../../cli/lib/paths';
import { readReference } from '../unit/helpers';
import { launchChromium } from '../../harness/chromium';
import { fakeCameraArgs, makeClip } from '../../harness/fakeWebcam';
import { columnLayout, horizontalOverflow, smallTargets } from './layout';
import { encodePng } from '../../harness/png';
import { modelWithClasses, poolReady, showClasses } from './pages';
import { countRenders, renderCounts, resetRenderCounts } from './renderCount';

const app = `${inject('baseUrl')}?backend=wasm`;
const ref = readReference(DEFAULT_POOL_DIR);
const phone = (width: number, height: number): BrowserContextOptions => ({ viewport: { width, height }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
const VIEWPORTS: { name: string; options: BrowserContextOptions; columns: 'one' | 'two'; touch: boolean }[] = [
  { name: '320x568 small phone', options: phone(320, 568), columns: 'one', touch: true },
  { name: '360x640 phone', options: phone(360, 640), columns: 'one', touch: true },
  { name: '390x844 phone', options: phone(390, 844), columns: 'one', touch: true },
  { name: '768x1024 tablet', options: phone(768, 1024), columns: 'two', touch: true },
  { name: '1280x800 desktop', options: { viewport: { width: 1280, height: 800 } }, columns: 'two', touch: false },
];

/** A clip whose centre square is green and the rest red: the model's crop must hold no red. */
function greenCentreClip(width: number, height: number): string {
  const side = Math.min(width, height);
  return makeClip({ width, height, source: `color=c=0x00c000:s=${side}x${side}:r=15,pad=${width}:${height}:(ow-iw)/2:(oh-ih)/2:color=0xe00000` });
}

async function openApp(browser: Browser, options: BrowserContextOptions): Promise<Page> {
  const context = await browser.newContext(options);
  await countRenders(context);
  const page = await context.newPage();
  await page.goto(app);
  await poolReady(page);
  return page;
}
const tapOrClick = (p: Page, selector: string, touch: boolean) => (touch ? p.tap(selector) : p.click(selector));

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium(fakeCameraArgs(greenCentreClip(240, 320)));
});
afterAll(async () => browser?.close());

describe('layout on phones, a tablet and a desktop (touch emulated on the first three)', () => {
  for (const v of VIEWPORTS) {
    it(`${v.name}: ${v.columns} column(s), no sideways scrolling${v.touch ? ', every target at least 44 x 44 px' : ''}`, async () => {
      const page = await openApp(browser, v.options);
      const check = async (state: string) => {
        expect(await horizontalOverflow(page), `sideways scroll when ${state}`).toBe(0);
        if (v.touch) expect(await smallTargets(page), `small targets when ${state}`).toEqual([]);
      };
      expect(await columnLayout(page)).toBe(v.columns);
      await check('the pool is loaded');
      // The superclass checkbox takes the tap itself (nothing lies over it).
      await tapOrClick(page, 'input[data-task="people"]', v.touch);
      await modelWithClasses(page, 5);
      await showClasses(page, 'fruit_and_vegetables', { touch: v.touch });
      await tapOrClick(page, 'input[data-class="apple"]', v.touch);
      await modelWithClasses(page, 6);
      await page.setInputFiles('[data-testid="file-input"]', Array.from({ length: 3 }, (_, i) => ({
        name: `a-rather-long-file-name-from-a-phone-camera-${i}.png`, mimeType: 'image/png', buffer: encodePng(ref.images.subarray(i * 3072, (i + 1) * 3072), 32, 32),
      })));
      await page.click('text=Measure accuracy on the selected classes');
      await page.waitForSelector('[data-testid="confusion-matrix"]', { timeout: 60_000 });
      await page.click('[data-testid="confusion-matrix"] button >> nth=0');
      await page.click('[data-testid="webcam-start"]');
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="webcam-top"] li').length === 5, null, { timeout: 60_000 });
      await check('model, uploads, check and webcam are all showing');
      await page.click('text=Compare sizes and accuracy');
      await page.waitForSelector('[data-precision="uint8"] .precision-figures', { timeout: 120_000 });
      await check('the precisions are compared');
      await page.click('[data-testid="share-model"]');
      await page.waitForSelector('[data-testid="share-qr"]');
      await check('the model is shared as a link and a QR code');
      await page.context().close();
    });
  }
});

describe('the webcam on a phone', () => {
  it('asks for the rear camera, keeps the screen on while it runs and releases both on stop', async () => {
    const context = await browser.newContext(phone(390, 844));
    await context.addInitScript(() => {
      const w = window as unknown as { __video: MediaTrackConstraints[]; __locks: WakeLockSentinel[] };
      w.__video = [];
      w.__locks = [];
      const gum = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
      navigator.mediaDevices.getUserMedia = (c) => (w.__video.push(c?.video as MediaTrackConstraints), gum(c));
      const request = navigator.wakeLock.request.bind(navigator.wakeLock);
      navigator.wakeLock.request = async (type) => {
        const s = await request(type);
        w.__locks.push(s);
        return s;
      };
    });
    const page = await context.newPage();
    await page.goto(app);
    await poolReady(page);
    await page.tap('[data-testid="webcam-start"]');
    await page.waitForSelector('[data-testid="wake-lock"]', { timeout: 30_000 });
    const asked = await page.evaluate(() => (window as unknown as { __video: MediaTrackConstraints[] }).__video);
    expect(asked[0].facingMode).toEqual({ ideal: 'environment' });
    expect(asked[0].deviceId).toBeUndefined();
    await page.tap('text=Stop camera');
    expect(await page.evaluate(() => (window as unknown as { __locks: WakeLockSentinel[] }).__locks.map((s) => s.released))).toEqual([true]);
    await context.close();
  });

  for (const [shape, w, h] of [['portrait', 240, 320], ['landscape', 320, 240]] as const) {
    it(`crops ${shape} video to the square the model sees, in the page and full screen with the top-5 over it`, async () => {
      const b = shape === 'portrait' ? browser : await launchChromium(fakeCameraArgs(greenCentreClip(w, h)));
      try {
        const page = await openApp(b, phone(390, 844));
        await page.tap('input[data-task="people"]');
        await modelWithClasses(page, 5);
        await page.tap('[data-testid="webcam-start"]');
        await page.waitForFunction(() => document.querySelectorAll('[data-testid="webcam-top"] li').length === 5, null, { timeout: 60_000 });
        await page.waitForFunction(() => document.querySelector('video')!.videoWidth > 0);
        expect(await page.evaluate(() => [document.querySelector('video')!.videoWidth, document.querySelector('video')!.videoHeight])).toEqual([w, h]);
        const box = (await page.locator('.preview').boundingBox())!;
        expect(Math.abs(box.width - box.height)).toBeLessThan(1);
        expect(await page.$eval('.preview video', (v) => getComputedStyle(v).objectFit)).toBe('cover');
        // The model's input: every pixel from the green centre square, none from the red border.
        const reds = await page.$eval('canvas.pixels', (c: HTMLCanvasElement) => {
          const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
          let n = 0;
          for (let i = 0; i < d.length; i += 4) if (d[i] > d[i + 1]) n++;
          return n;
        });
        expect(reds).toBe(0);
        await page.tap('[data-testid="webcam-full"]');
        const full = (await page.locator('.webcam-view.full').boundingBox())!;
        expect([full.x, full.y, full.width, full.height]).toEqual([0, 0, 390, 844]);
        const square = (await page.locator('.webcam-view.full .preview').boundingBox())!;
        expect([Math.round(square.width), Math.round(square.height)]).toEqual([390, 390]);
        expect(await page.locator('.webcam-view.full [data-testid="webcam-top"] li').count()).toBe(5);
        await page.tap('text=Exit full screen');
        expect(await page.locator('.webcam-view.full').count()).toBe(0);
        await page.context().close();
      } finally {
        if (b !== browser) await b.close();
      }
    });
  }

  it('switches between two cameras with one tap', async () => {
    const twoCameras = await launchChromium(['--use-fake-device-for-media-stream=device-count=2', '--use-fake-ui-for-media-stream']);
    try {
      const page = await openApp(twoCameras, phone(390, 844));
      await page.tap('[data-testid="webcam-start"]');
      await page.waitForSelector('[data-testid="webcam-switch"]', { timeout: 30_000 });
      const first = await page.inputValue('select[aria-label="Camera"]');
      await page.tap('[data-testid="webcam-switch"]');
      await page.waitForFunction((id) => document.querySelector<HTMLSelectElement>('select[aria-label="Camera"]')?.value !== id, first, { timeout: 30_000 });
      await page.waitForSelector('[data-testid="webcam-fps"]');
      await page.context().close();
    } finally {
      await twoCameras.close();
    }
  });
});

describe('rendering', () => {
  it('the class picker does not re-render during two seconds of webcam, though the webcam view does', async () => {
    const page = await openApp(browser, phone(390, 844));
    await page.tap('input[data-task="people"]');
    await modelWithClasses(page, 5);
    await page.tap('[data-testid="webcam-start"]');
    const frames = () => page.getAttribute('[data-testid="webcam-fps"]', 'data-frames').then(Number);
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="webcam-fps"]')?.getAttribute('data-frames')) >= 10, null, { timeout: 60_000 });
    await resetRenderCounts(page);
    const before = await frames();
    await page.waitForTimeout(2000);
    const counts = await renderCounts(page);
    expect(await frames()).toBeGreaterThan(before + 5);
    expect(counts.WebcamView).toBeGreaterThan(5);
    for (const name of ['ClassPicker', 'ClassGroup', 'SelectionChips', 'DownloadPanel', 'WebcamTest', 'BuiltInCheck', 'UploadTest'])
      expect(counts[name] ?? 0, name).toBe(0);
    // The counter does see the picker when the selection changes.
    await page.tap('input[data-task="fish"]');
    await modelWithClasses(page, 10);
    expect((await renderCounts(page)).ClassPicker).toBeGreaterThan(0);
    await page.context().close();
  });
});
