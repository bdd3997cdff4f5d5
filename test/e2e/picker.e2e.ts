import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launchChromium } from '../../harness/chromium';
import { modelWithClasses, poolReady, showClasses } from './pages';

const app = `${inject('baseUrl')}?backend=wasm`;
let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => browser?.close());

async function phonePage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  await page.goto(app);
  await poolReady(page);
  return page;
}
const focused = (p: Page) => p.evaluate(() => {
  const el = document.activeElement as HTMLElement;
  return el.dataset.task ?? el.dataset.class ?? el.tagName;
});

describe('the class picker', () => {
  it('shows each class with its picture from the built-in sample; superclasses start closed on a phone and open on a tap', async () => {
    const page = await phonePage();
    expect(await page.isVisible('input[data-class="apple"]')).toBe(false);
    await showClasses(page, 'fruit_and_vegetables', { touch: true });
    expect(await page.isVisible('input[data-class="apple"]')).toBe(true);
    const sprite = await page.$eval('[data-thumb="apple"]', (el) => getComputedStyle(el).backgroundImage.replace(/^url\("?|"?\)$/g, ''));
    const size = await page.evaluate(async (url) => {
      const img = new Image();
      img.src = url;
      await img.decode();
      return [img.naturalWidth, img.naturalHeight];
    }, sprite);
    expect(size).toEqual([320, 320]); // 100 classes, 10 a row, 32 px each
    expect(await page.$$eval('.classes:not([hidden]) [data-thumb]', (els) => els.map((e) => e.getAttribute('data-thumb')))).toEqual(
      ['apple', 'mushroom', 'orange', 'pear', 'sweet_pepper']);
    await page.tap('button[aria-controls="classes-fruit_and_vegetables"]');
    expect(await page.isVisible('input[data-class="apple"]')).toBe(false);
    // The filter opens the superclasses whose classes match.
    await page.fill('input[aria-label="Filter classes"]', 'tulip');
    expect(await page.$$eval('li[data-group]', (els) => els.map((e) => e.getAttribute('data-group')))).toEqual(['flowers']);
    expect(await page.isVisible('input[data-class="tulip"]')).toBe(true);
    await page.context().close();
  });

  it('moves with the arrow keys: down and up between checkboxes, right opens, left closes, space ticks', async () => {
    const page = await phonePage();
    await page.focus('input[data-task="aquatic_mammals"]');
    await page.keyboard.press('ArrowDown');
    expect(await focused(page)).toBe('fish');
    await page.keyboard.press('ArrowRight');
    await page.waitForSelector('#classes-fish:not([hidden])');
    await page.keyboard.press('ArrowDown');
    expect(await focused(page)).toBe('aquarium_fish');
    await page.keyboard.press('Space');
    await modelWithClasses(page, 1);
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('ArrowUp');
    expect(await focused(page)).toBe('aquatic_mammals');
    await page.keyboard.press('End');
    expect(await focused(page)).toBe('vehicles_2');
    await page.focus('input[data-class="flatfish"]');
    await page.keyboard.press('ArrowLeft');
    expect(await focused(page)).toBe('fish');
    expect(await page.isVisible('input[data-class="flatfish"]')).toBe(false);
    await page.context().close();
  });

  it('sums up the selection in chips, each removable', async () => {
    const page = await phonePage();
    await page.tap('input[data-task="people"]');
    await showClasses(page, 'fruit_and_vegetables', { touch: true });
    await page.tap('input[data-class="apple"]');
    await modelWithClasses(page, 6);
    expect(await page.$$eval('[data-chip]', (els) => els.map((e) => e.textContent))).toEqual(['people (5) ×', 'apple ×']);
    await page.tap('button[aria-label="Remove people"]');
    await modelWithClasses(page, 1);
    expect(await page.isChecked('input[data-task="people"]')).toBe(false);
    await page.tap('button[aria-label="Remove apple"]');
    await page.waitForFunction(() => document.querySelectorAll('[data-chip]').length === 0);
    expect(await page.isChecked('input[data-class="apple"]')).toBe(false);
    await page.context().close();
  });
});

describe('the built-in check you can look at', () => {
  it('shows a confusion matrix of the selected classes; a cell opens its images', async () => {
    const page = await phonePage();
    await page.tap('input[data-task="people"]');
    await modelWithClasses(page, 5);
    await page.tap('text=Measure accuracy on the selected classes');
    await page.waitForSelector('[data-testid="confusion-matrix"]', { timeout: 60_000 });
    const top1 = Number(await page.getAttribute('[data-testid="check-result"]', 'data-top1'));
    const m = await page.$$eval('[data-testid="confusion-matrix"] tbody tr', (rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => Number(td.textContent))));
    expect(m).toHaveLength(5);
    m.forEach((row) => expect(row.reduce((a, b) => a + b, 0)).toBe(20)); // 20 sample images a class
    expect(m.reduce((a, row, i) => a + row[i], 0)).toBe(Math.round(100 * top1));
    const [i, j] = [0, m[0].findIndex((n, k) => k !== 0 && n > 0)];
    const labels = ['baby', 'boy', 'girl', 'man', 'woman'];
    await page.tap(`button[data-cell="${labels[i]}|${labels[j]}"]`);
    expect(await page.$$eval('[data-testid="check-images"] li canvas', (c) => c.length)).toBe(m[i][j]);
    expect(await page.textContent('[data-testid="check-images"] h3')).toMatch(new RegExp(`^baby taken for ${labels[j]}: ${m[i][j]} image`));
    await page.tap('[data-testid="check-images"] >> text=Close');
    expect(await page.$('[data-testid="check-images"]')).toBeNull();
    await page.context().close();
  });

  it('shows per-class accuracy bars, worst first, for large selections; a bar opens its class', async () => {
    const page = await phonePage();
    await page.tap('text=Select all');
    await modelWithClasses(page, 100);
    await page.tap('text=Measure accuracy on the selected classes');
    await page.waitForSelector('[data-testid="class-accuracy"]', { timeout: 120_000 });
    expect(await page.$('[data-testid="confusion-matrix"]')).toBeNull();
    const right = await page.$$eval('[data-class-bar] .bar-value', (els) => els.map((e) => Number(e.textContent!.split('/')[0])));
    expect(right).toHaveLength(100);
    expect([...right].sort((a, b) => a - b)).toEqual(right);
    const top1 = Number(await page.getAttribute('[data-testid="check-result"]', 'data-top1'));
    expect(right.reduce((a, b) => a + b, 0)).toBe(Math.round(2000 * top1));
    await page.tap('[data-class-bar] >> nth=0');
    expect(await page.$$eval('[data-testid="check-images"] li canvas', (c) => c.length)).toBe(20);
    expect(await page.$$eval('[data-testid="check-images"] li.right', (c) => c.length)).toBe(right[0]);
    await page.context().close();
  });
});
