import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { launchChromium } from '../chromium';
import { fakeCameraArgs, makeClip } from '../fakeWebcam';
import type { EngineBrowser, EnginePage } from './engine';

function wrap(page: Page): EnginePage {
  return {
    engine: 'chromium',
    goto: async (url) => { await page.goto(url); },
    evaluate: (fn, arg) => page.evaluate(fn as never, arg) as never,
    evaluateSource: async (source) => { await page.evaluate(source); },
    click: (s) => page.click(s),
    fill: (s, text) => page.fill(s, text),
    setFiles: (s, files) => page.setInputFiles(s, files.map((f) => ({ name: f.name, mimeType: mime(f.name), buffer: f.buffer }))),
    download: async (s) => {
      const [d] = await Promise.all([page.waitForEvent('download'), page.click(s)]);
      return { name: d.suggestedFilename(), bytes: readFileSync((await d.path())!) };
    },
    setViewport: (width, height) => page.setViewportSize({ width, height }),
    screenshot: async (file) => { await page.screenshot({ path: file }); },
    close: () => page.close(),
  };
}

export function mime(name: string): string {
  const ext = name.split('.').pop()?.toLowerCase();
  return ({ png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp', json: 'application/json', zip: 'application/zip', txt: 'text/plain' } as Record<string, string>)[ext ?? ''] ?? 'application/octet-stream';
}

/** Debian's headless Chromium through Playwright (CDP), with a fake camera playing a test card. */
export async function launchChromiumEngine(extraArgs: string[] = []): Promise<EngineBrowser> {
  const browser = await launchChromium([...fakeCameraArgs(makeClip({ width: 320, height: 240 })), ...extraArgs]);
  return {
    engine: 'chromium',
    version: `Chromium ${browser.version()}`,
    newPage: async () => wrap(await (await browser.newContext({ acceptDownloads: true })).newPage()),
    close: () => browser.close(),
  };
}
