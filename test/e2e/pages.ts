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
