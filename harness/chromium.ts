import { chromium, type Browser, type BrowserContext } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

function chromiumArgs(extraArgs: string[], webgpu: boolean): string[] {
  return [
    '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--no-first-run', '--disable-quic', ...(webgpu ? ['--enable-unsafe-webgpu'] : []), ...extraArgs,
  ];
}

/**
 * Every Content-Security-Policy violation seen by any page of any browser these helpers launch, as
 * "directive blocked-uri (page)"; test/e2e/cspSetup.ts expects none at the end of each test file.
 */
export const cspViolations: string[] = [];

async function recordCspViolations(context: BrowserContext): Promise<BrowserContext> {
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) =>
      console.error(`[csp-violation] ${e.effectiveDirective} ${e.blockedURI || 'inline'} ${e.sourceFile}:${e.lineNumber}`));
  });
  context.on('console', (m) => {
    if (m.text().startsWith('[csp-violation]') || /Content Security Policy/.test(m.text())) cspViolations.push(`${m.text()} (${m.page()?.url()})`);
  });
  return context;
}

/** Debian's headless Chromium with the flags this offline machine needs, plus a (software) WebGPU adapter. */
export async function launchChromium(extraArgs: string[] = [], { webgpu = true } = {}): Promise<Browser> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: chromiumArgs(extraArgs, webgpu) });
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (options) => recordCspViolations(await newContext(options));
  return browser;
}

/** The same Chromium with a profile on disk, as a user has it (a fresh context is incognito, which cannot install apps). */
export async function launchChromiumWithProfile(userDataDir: string): Promise<BrowserContext> {
  return recordCspViolations(await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: chromiumArgs([], false) }));
}
