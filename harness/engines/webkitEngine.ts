import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Builder, By, type WebDriver, type WebElement } from 'selenium-webdriver';
import { freePort } from '../previewServer';
import { startXvfb } from './display';
import type { EngineBrowser, EnginePage } from './engine';
import { listing, newFileIn, writeUploads } from './files';

export const WEBKIT_DRIVER = process.env.WEBKIT_DRIVER_PATH ?? '/usr/bin/WebKitWebDriver';
export const MINIBROWSER = process.env.MINIBROWSER_PATH ?? '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';

async function waitForDriver(url: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await fetch(`${url}/status`).then((r) => r.ok, () => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`WebKitWebDriver did not answer at ${url} within ${timeoutMs} ms`);
}

async function element(d: WebDriver, selector: string, timeoutMs = 10_000): Promise<WebElement> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const found = await d.findElements(By.css(selector));
    if (found.length) return found[0];
    if (Date.now() > end) throw new Error(`no element matches ${selector} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// Classic WebDriver's execute/async: the page function's source, called with one argument, its promise settled into the callback.
const asyncCall = (source: string) => `const done = arguments[arguments.length - 1];
Promise.resolve().then(() => (${source})(arguments[0])).then(
  (v) => done({ ok: v === undefined ? null : v }),
  (e) => done({ error: String((e && e.stack) || e) }));`;

function wrap(d: WebDriver, downloads: string, close: () => Promise<void>): EnginePage {
  return {
    engine: 'webkit',
    goto: (url) => d.get(url),
    evaluate: async (fn, arg) => {
      const r = (await d.executeAsyncScript(asyncCall(fn.toString()), arg ?? null)) as { ok?: unknown; error?: string };
      if (r.error !== undefined) throw new Error(`in the page: ${r.error}`);
      return r.ok as never;
    },
    evaluateSource: async (source) => { await d.executeScript(source); },
    click: async (s) => {
      const el = await element(d, s);
      await d.executeScript('arguments[0].scrollIntoView({ block: "center" })', el);
      await el.click();
    },
    fill: async (s, text) => {
      const el = await element(d, s);
      await el.clear();
      await el.sendKeys(text);
    },
    setFiles: async (s, files) => { await (await element(d, s)).sendKeys(writeUploads(files).join('\n')); },
    download: async (s) => {
      const before = listing(downloads);
      const el = await element(d, s);
      await el.click();
      return newFileIn(downloads, before);
    },
    setViewport: async (width, height) => {
      // The window rect includes MiniBrowser's own chrome: set it, then grow by what the chrome takes.
      await d.manage().window().setRect({ width, height });
      const [w, h] = (await d.executeScript('return [innerWidth, innerHeight]')) as [number, number];
      if (w !== width || h !== height) await d.manage().window().setRect({ width: 2 * width - w, height: 2 * height - h });
    },
    screenshot: async (file) => writeFileSync(file, Buffer.from(await d.takeScreenshot(), 'base64')),
    close,
  };
}

interface Driver {
  url: string;
  stop(): Promise<void>;
}

/** WebKitWebDriver serves one session at a time, so each page gets its own driver process. */
async function startDriver(env: NodeJS.ProcessEnv): Promise<Driver> {
  const port = await freePort();
  const driver = spawn(WEBKIT_DRIVER, [`--port=${port}`], { stdio: 'ignore', env });
  const exited = new Promise<void>((r) => driver.once('exit', () => r()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (driver.exitCode === null) driver.kill();
    await exited;
  };
  try {
    await new Promise<void>((resolve, reject) => {
      driver.once('error', (e) => reject(new Error(`${WEBKIT_DRIVER} could not start (${e.message}); install Debian's webkit2gtk-driver package`)));
      waitForDriver(url).then(resolve, reject);
    });
  } catch (e) {
    await stop();
    throw e;
  }
  return { url, stop };
}

/**
 * WebKitGTK's MiniBrowser through WebKitWebDriver (classic WebDriver), on a private Xvfb screen,
 * with WebKit's mock capture devices as the camera. Each page is its own driver and browser
 * process with an ephemeral profile. Downloads go to the Downloads folder of a temporary home.
 */
export async function launchWebkitEngine(): Promise<EngineBrowser> {
  const xvfb = await startXvfb();
  const home = mkdtempSync(path.join(os.tmpdir(), 'poe-webkit-home-'));
  const downloads = path.join(home, 'Downloads');
  mkdirSync(path.join(home, '.config'), { recursive: true });
  mkdirSync(downloads);
  writeFileSync(path.join(home, '.config', 'user-dirs.dirs'), `XDG_DOWNLOAD_DIR="${downloads}"\n`);
  const env = { ...process.env, DISPLAY: xvfb.display, HOME: home, XDG_CONFIG_HOME: path.join(home, '.config') };
  const capabilities = {
    browserName: 'MiniBrowser',
    'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation', '--enable-media-stream=true', '--enable-mock-capture-devices=true'] },
  };
  const open = new Set<() => Promise<void>>();
  const newPage = async () => {
    const driver = await startDriver(env);
    let d: WebDriver;
    try {
      d = await new Builder().usingServer(driver.url).withCapabilities(capabilities).build();
      await d.manage().setTimeouts({ script: 300_000 });
    } catch (e) {
      await driver.stop();
      throw e;
    }
    const close = async () => {
      open.delete(close);
      await d.quit().catch(() => {});
      await driver.stop();
    };
    open.add(close);
    return { d, close };
  };
  let first: Awaited<ReturnType<typeof newPage>> | undefined;
  try {
    first = await newPage();
  } catch (e) {
    await xvfb.close();
    throw e;
  }
  const version = `WebKitGTK ${(await first.d.getCapabilities()).get('browserVersion')}`;
  return {
    engine: 'webkit',
    version,
    newPage: async () => {
      const { d, close } = first ?? (await newPage());
      first = undefined;
      return wrap(d, downloads, close);
    },
    close: async () => {
      await Promise.all([...open].map((c) => c()));
      await xvfb.close();
    },
  };
}
