import { launchChromiumEngine } from './chromiumEngine';
import type { EngineBrowser, EngineName } from './engine';
import { launchFirefoxEngine } from './firefoxEngine';
import { launchWebkitEngine } from './webkitEngine';

export * from './engine';

/** Starts one engine, with a fake camera and downloads saved without asking; `exposeGc` gives Chromium pages a gc() (soak). */
export function launchEngine(engine: EngineName, { exposeGc = false } = {}): Promise<EngineBrowser> {
  if (engine === 'chromium') return launchChromiumEngine(exposeGc ? ['--js-flags=--expose-gc', '--enable-precise-memory-info'] : []);
  return { firefox: launchFirefoxEngine, webkit: launchWebkitEngine }[engine]();
}
