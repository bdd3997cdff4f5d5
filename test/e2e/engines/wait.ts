import type { EnginePage } from '../../../harness/engines';

/**
 * Polls fn(arg) in the page until it returns true. Engine-neutral (Playwright's, Puppeteer's and
 * WebDriver's own waits differ), so fn must return a plain boolean, never an element.
 */
export async function waitFor<A>(p: EnginePage, fn: (arg: A) => boolean, arg?: A, { timeout = 60_000, what = '' } = {}): Promise<void> {
  const end = Date.now() + timeout;
  while (!(await p.evaluate(fn, arg as A))) {
    if (Date.now() > end) throw new Error(`${p.engine}: waited ${timeout} ms for ${what || fn.toString()}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

export const waitForSelector = (p: EnginePage, selector: string, timeout = 60_000) =>
  waitFor(p, (s) => document.querySelector(s) !== null, selector, { timeout, what: selector });

export const text = (p: EnginePage, selector: string) => p.evaluate((s) => document.querySelector(s)?.textContent ?? null, selector);
export const attr = (p: EnginePage, selector: string, name: string) =>
  p.evaluate(([s, a]) => document.querySelector(s)?.getAttribute(a) ?? null, [selector, name] as const);

export const poolReady = (p: EnginePage) => waitForSelector(p, 'section.pool[data-status="ready"]', 120_000);

export const modelWithClasses = (p: EnginePage, n: number) =>
  waitFor(p, (k) => document.querySelector('[data-testid="model-classes"]')?.textContent === String(k), n, { what: `a model with ${n} classes` });

/** Whether the service worker controls the page and has cached the app shell. */
const offlineReady = (p: EnginePage) => p.evaluate(async () => {
  const name = (await caches.keys()).find((k) => k.startsWith('poe-app-'));
  const keys = name ? (await (await caches.open(name)).keys()).map((r) => new URL(r.url).pathname) : [];
  return navigator.serviceWorker.controller !== null && keys.includes('/') && keys.some((k) => k.endsWith('.js'));
});

/** Serious and critical axe-core violations on the page as it is now, one line each (axe-core injected by the driver). */
export async function seriousA11yViolations(p: EnginePage, axeSource: string): Promise<string[]> {
  await p.evaluateSource(axeSource);
  return p.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe;
    const r = await axe.run(document);
    return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 5).map((n) => n.target.join(' ')).join(' | ')}`);
  });
}

/** Waits (up to 30 s) until the service worker controls the page and has cached the app shell. */
export async function waitUntilOffline(p: EnginePage): Promise<void> {
  const end = Date.now() + 30_000;
  while (!(await offlineReady(p))) {
    if (Date.now() > end) throw new Error(`${p.engine}: the service worker did not cache the app within 30 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
