import type { BrowserContext, Page } from 'playwright-core';

export async function poolReady(p: Page): Promise<void> {
  await p.waitForSelector('section.pool[data-status="ready"]', { timeout: 120_000 });
}

export async function modelWithClasses(p: Page, n: number): Promise<void> {
  await p.waitForFunction((k) => document.querySelector('[data-testid="model-classes"]')?.textContent === String(k), n, { timeout: 60_000 });
}

/** Records every http(s) request the context makes from now on, as "METHOD url". The favicon is
 * left out: the browser fetches it on its own, whenever it gets round to it, and it carries
 * nothing of the user's. */
export function recordNetworkRequests(context: BrowserContext): string[] {
  const requests: string[] = [];
  context.on('request', (r) => {
    if (/^https?:/.test(r.url()) && !r.url().endsWith('/favicon.svg')) requests.push(`${r.method()} ${r.url()}`);
  });
  return requests;
}

/** Opens a superclass in the class picker (wide screens start with all open, phones with all closed). */
export async function showClasses(p: Page, task: string, { touch = false } = {}): Promise<void> {
  const button = `button[aria-controls="classes-${task}"]`;
  if ((await p.getAttribute(button, 'aria-expanded')) === 'true') return;
  await (touch ? p.tap(button) : p.click(button));
  await p.waitForSelector(`#classes-${task}:not([hidden])`);
}

/** Whether the service worker controls the page and has cached the app (and, when asked, a file ending so). */
export async function waitUntilOffline(p: Page, alsoCached?: string): Promise<void> {
  // page.evaluate awaits promises (waitForFunction would take a pending promise as truthy).
  const ready = () => p.evaluate(async (also) => {
    const name = (await caches.keys()).find((k) => k.startsWith('poe-app-'));
    const keys = name ? (await (await caches.open(name)).keys()).map((r) => new URL(r.url).pathname) : [];
    return navigator.serviceWorker.controller !== null && keys.includes('/') && keys.some((k) => k.endsWith('.js')) && (!also || keys.some((k) => k.endsWith(also)));
  }, alsoCached);
  for (let i = 0; i < 150 && !(await ready()); i++) await p.waitForTimeout(200);
  if (!(await ready())) throw new Error('the service worker did not cache the app within 30 s');
}
