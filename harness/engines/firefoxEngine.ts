import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import puppeteer, { type Browser, type ElementHandle, type Page } from 'puppeteer-core';
import { startXvfb } from './display';
import type { EngineBrowser, EnginePage } from './engine';
import { listing, newFileIn, writeUploads } from './files';

export const FIREFOX = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';

function wrap(page: Page, downloads: string): EnginePage {
  return {
    engine: 'firefox',
    goto: async (url) => { await page.goto(url, { waitUntil: 'load' }); },
    evaluate: (fn, arg) => page.evaluate(fn as never, arg) as never,
    evaluateSource: async (source) => { await page.evaluate(source); },
    click: async (s) => { await page.locator(s).click(); },
    fill: async (s, text) => { await page.locator(s).fill(text); },
    setFiles: async (s, files) => {
      const input = (await page.waitForSelector(s)) as ElementHandle<HTMLInputElement>;
      await input!.uploadFile(...writeUploads(files));
    },
    download: async (s) => {
      const before = listing(downloads);
      await page.locator(s).click();
      return newFileIn(downloads, before);
    },
    setViewport: (width, height) => page.setViewport({ width, height }),
    screenshot: async (file) => { await page.screenshot({ path: file as `${string}.png` }); },
    close: () => page.close(),
  };
}

/**
 * Debian's Firefox ESR through Puppeteer over WebDriver BiDi. It runs headed on a private Xvfb
 * screen: headless Firefox has no WebGL here, headed Firefox gets Mesa's software WebGL 2.
 * Fake media streams stand in for a camera; downloads land in a temporary folder without asking.
 */
export async function launchFirefoxEngine(): Promise<EngineBrowser> {
  const xvfb = await startXvfb();
  const downloads = mkdtempSync(path.join(os.tmpdir(), 'poe-ff-downloads-'));
  let browser: Browser;
  try {
    browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath: FIREFOX,
      headless: false,
      env: { ...process.env, DISPLAY: xvfb.display, MOZ_CRASHREPORTER_DISABLE: '1' },
      extraPrefsFirefox: {
        'media.navigator.streams.fake': true,
        'media.navigator.permission.disabled': true,
        'browser.download.folderList': 2,
        'browser.download.dir': downloads,
        'browser.download.useDownloadDir': true,
        'browser.download.always_ask_before_handling_new_types': false,
        'browser.download.alwaysOpenPanel': false,
      },
    });
  } catch (e) {
    await xvfb.close();
    throw e;
  }
  const version = `Firefox ${(await browser.version()).replace(/^firefox\//i, '')}`;
  return {
    engine: 'firefox',
    version,
    newPage: async () => wrap(await (await browser.createBrowserContext()).newPage(), downloads),
    close: async () => {
      await browser.close();
      await xvfb.close();
    },
  };
}
