import { launchChromiumEngine } from './chromiumEngine';
import type { EngineBrowser, EngineName } from './engine';
import { launchFirefoxEngine } from './firefoxEngine';
import { launchWebkitEngine } from './webkitEngine';

export * from './engine';

/** Starts one engine, with a fake camera and downloads saved without asking. */
export function launchEngine(engine: EngineName): Promise<EngineBrowser> {
  return { chromium: launchChromiumEngine, firefox: launchFirefoxEngine, webkit: launchWebkitEngine }[engine]();
}
