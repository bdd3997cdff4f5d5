import type { Page } from 'playwright-core';

export async function poolReady(p: Page): Promise<void> {
  await p.waitForSelector('section.pool[data-status="ready"]', { timeout: 120_000 });
}

export async function modelWithClasses(p: Page, n: number): Promise<void> {
  await p.waitForFunction((k) => document.querySelector('[data-testid="model-classes"]')?.textContent === String(k), n, { timeout: 60_000 });
}
