import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Debian's headless Chromium with the flags this offline machine needs, plus a (software) WebGPU adapter. */
export function launchChromium(extraArgs: string[] = [], { webgpu = true } = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--no-first-run', '--disable-quic', ...(webgpu ? ['--enable-unsafe-webgpu'] : []), ...extraArgs,
    ],
  });
}
