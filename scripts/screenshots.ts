// Regenerates the README screenshots from the production build: npx tsx scripts/screenshots.ts
import { mkdirSync, readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import path from 'node:path';
import { DEFAULT_POOL_DIR, REPO_ROOT } from '../cli/lib/paths';
import { launchChromium } from '../harness/chromium';
import { fakeCameraArgs, makeClip } from '../harness/fakeWebcam';
import { encodePng } from '../harness/png';
import { startPreview } from '../harness/previewServer';
import { readReference } from '../harness/reference';

const PORT = 4186;
const OUT = path.join(REPO_ROOT, 'docs', 'screenshots');

async function main() {
  const preview = await startPreview(PORT);
  const base = `${preview.url}?backend=wasm`;
  const browser = await launchChromium(fakeCameraArgs(makeClip({ width: 640, height: 480 })));
  mkdirSync(OUT, { recursive: true });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(base);
    await page.waitForSelector('section.pool[data-status="ready"]');
    for (const t of ['people', 'vehicles_1', 'vehicles_2']) await page.check(`input[data-task="${t}"]`);
    await page.check('input[data-class="apple"]');
    await page.waitForSelector('[data-testid="model-card"]');
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(OUT, 'pick-and-build.png') });
    const ref = readReference(DEFAULT_POOL_DIR);
    await page.setInputFiles('[data-testid="file-input"]', [
      ...Array.from({ length: 6 }, (_, i) => ({ name: `cifar-${i}.png`, mimeType: 'image/png', buffer: encodePng(ref.images.subarray(i * 3072, (i + 1) * 3072), 32, 32) })),
      { name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('not an image') },
    ]);
    await page.waitForFunction(() => document.querySelectorAll('li[data-status="ready"]').length === 6);
    await (await page.$('section.uploads'))!.screenshot({ path: path.join(OUT, 'uploads.png') });
    await page.click('text=Measure accuracy on the selected classes');
    await page.waitForSelector('[data-testid="check-result"]');
    await page.click('text=Compare sizes and accuracy');
    await page.waitForSelector('[data-precision="uint8"] .precision-figures', { timeout: 120_000 });
    const check = await page.$('section.check');
    await check!.screenshot({ path: path.join(OUT, 'built-in-check.png') });
    await (await page.$('section.download'))!.screenshot({ path: path.join(OUT, 'download.png') });
    await page.click('[data-testid="webcam-start"]');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="webcam-top"] li').length === 5);
    await page.waitForTimeout(1500);
    await (await page.$('section.webcam'))!.screenshot({ path: path.join(OUT, 'webcam.png') });
    await page.close();
    await unknownAndShareShots(browser, base);
    await phoneShots(browser, base);
    await fashionShots(browser, base);
    console.log(`screenshots written to ${OUT}`);
  } finally {
    await browser.close();
    await preview.close();
  }
}

/** "None of these" on uploads and in the built-in check's matrix, and the Share panel with its QR code. */
async function unknownAndShareShots(browser: Browser, base: string) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(base);
  await page.waitForSelector('section.pool[data-status="ready"]');
  for (const t of ['people', 'vehicles_1']) await page.check(`input[data-task="${t}"]`);
  await page.check('[data-testid="unknown-control"] input[type="checkbox"]');
  await page.waitForSelector('[data-testid="unknown-calibration"]');
  const ref = readReference(DEFAULT_POOL_DIR);
  await page.setInputFiles('[data-testid="file-input"]', Array.from({ length: 8 }, (_, i) => ({
    name: `cifar-${i}.png`, mimeType: 'image/png', buffer: encodePng(ref.images.subarray(i * 3072, (i + 1) * 3072), 32, 32),
  })));
  await page.waitForFunction(() => document.querySelectorAll('li[data-upload] :is(.known-score, .none-of-these)').length === 8);
  await (await page.$('section.uploads'))!.screenshot({ path: path.join(OUT, 'none-of-these.png') });
  await page.click('text=Measure accuracy on the selected classes');
  await page.waitForSelector('[data-testid="check-unknown"]');
  await (await page.$('[data-testid="confusion-matrix"]'))!.screenshot({ path: path.join(OUT, 'none-of-these-matrix.png') });
  await page.click('[data-testid="share-model"]');
  await page.waitForSelector('[data-testid="share-qr"]');
  await (await page.$('section.share'))!.screenshot({ path: path.join(OUT, 'share.png') });
  await page.close();
}

/** The same app on a 390 x 844 phone: picking, the built-in check's matrix, the full-screen webcam. */
async function phoneShots(browser: Browser, base: string) {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  const page = await context.newPage();
  await page.goto(base);
  await page.waitForSelector('section.pool[data-status="ready"]');
  await page.tap('text=Clear');
  await page.tap('input[data-task="people"]');
  await page.tap('button[aria-controls="classes-fruit_and_vegetables"]');
  await page.tap('input[data-class="apple"]');
  await page.waitForSelector('[data-testid="model-card"]');
  await page.screenshot({ path: path.join(OUT, 'phone-pick.png'), fullPage: true, clip: await clipBetween(page, 'section.picker', '#classes-fruit_and_vegetables') });
  await page.tap('text=Measure accuracy on the selected classes');
  await page.waitForSelector('[data-testid="confusion-matrix"]');
  await page.tap('[data-testid="confusion-matrix"] button[data-cell="boy|girl"]');
  await page.screenshot({ path: path.join(OUT, 'phone-check.png'), fullPage: true, clip: await clipBetween(page, 'section.check', '[data-testid="check-images"]') });
  await page.tap('[data-testid="webcam-start"]');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="webcam-top"] li').length === 5);
  await page.tap('[data-testid="webcam-full"]');
  await page.waitForTimeout(1500);
  await page.screenshot({ path: path.join(OUT, 'phone-webcam.png') });
  await context.close();
}

/** The second built-in pool (Fashion-MNIST, 28 x 28 grey): chosen, every class picked, its own sample checked, grey uploads. */
async function fashionShots(browser: Browser, base: string) {
  const dir = path.join(REPO_ROOT, 'public', 'pools', 'fashion-mnist');
  const sample = JSON.parse(readFileSync(path.join(dir, 'sample.json'), 'utf8'));
  const images = readFileSync(path.join(dir, sample.file));
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(base);
  await page.waitForSelector('section.pool[data-status="ready"]');
  await page.click('[data-testid="builtin-pools"] input[value="fashion-mnist"]');
  await page.waitForFunction(() => document.querySelector('.pool-info strong')?.textContent === 'fashion-mnist');
  await page.click('text=Select all');
  await page.waitForSelector('[data-testid="model-card"]');
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(OUT, 'fashion-pick.png') });
  const picks = [0, 60, 110, 170, 230, 290, 340, 410, 460].map((i) => ({
    name: `${sample.classNames[sample.labels[i]].replace('/', '-')}.png`, mimeType: 'image/png',
    buffer: encodePng(Uint8Array.from({ length: 784 * 3 }, (_, k) => images[i * 784 + Math.floor(k / 3)]), 28, 28),
  }));
  await page.setInputFiles('[data-testid="file-input"]', picks);
  await page.waitForFunction((n) => document.querySelectorAll('li[data-status="ready"]').length === n, picks.length);
  await (await page.$('section.uploads'))!.screenshot({ path: path.join(OUT, 'fashion-uploads.png') });
  await page.click('text=Measure accuracy on the selected classes');
  await page.waitForSelector('[data-testid="check-result"]');
  await (await page.$('section.check'))!.screenshot({ path: path.join(OUT, 'fashion-check.png') });
  await page.click('[data-testid="builtin-pools"] input[value="cifar100"]'); // leave the default chosen for the next run
  await page.waitForFunction(() => document.querySelector('.pool-info strong')?.textContent === 'cifar100');
  await page.close();
}

/** The page from the top of `from` down to the bottom of `to`, with a margin. */
async function clipBetween(page: Page, from: string, to: string) {
  await page.evaluate(() => window.scrollTo(0, 0));
  const a = (await page.locator(from).boundingBox())!;
  const b = (await page.locator(to).boundingBox())!;
  return { x: 0, y: a.y - 8, width: 390, height: b.y + b.height + 16 - (a.y - 8) };
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
