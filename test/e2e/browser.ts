import { chromium, type Browser, type BrowserContext } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

function chromiumArgs(extraArgs: string[], webgpu: boolean): string[] {
  return [
    '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--no-first-run', '--disable-quic', ...(webgpu ? ['--enable-unsafe-webgpu'] : []), ...extraArgs,
  ];
}

/** Debian's headless Chromium with the flags this offline machine needs, plus a (software) WebGPU adapter. */
export function launchChromium(extraArgs: string[] = [], { webgpu = true } = {}): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: chromiumArgs(extraArgs, webgpu) });
}

/** The same Chromium with a profile on disk, as a user has it (a fresh context is incognito, which cannot install apps). */
export function launchChromiumWithProfile(userDataDir: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: chromiumArgs([], false) });
}
