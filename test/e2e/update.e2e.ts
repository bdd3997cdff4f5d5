import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_POOL_DIR, REPO_ROOT } from '../../cli/lib/paths';
import { launchChromium } from '../../harness/chromium';
import { modelWithClasses, poolReady } from './pages';
import { startStaticServer, type StaticServer } from './staticServer';

/** Two builds deployed one after the other on a plain static host (no COOP/COEP) while a tab is open. */
const TMP = path.join(REPO_ROOT, 'test', '.tmp', 'e2e-update');
const DIST_A = path.join(TMP, 'dist-a');
const DIST_B = path.join(TMP, 'dist-b');
const BUILD_B = `b-${Date.now()}`;
const poolId = path.basename(DEFAULT_POOL_DIR);
const poolVersionA = JSON.parse(readFileSync(path.join(DEFAULT_POOL_DIR, 'pool.json'), 'utf8')).version as string;
let browser: Browser;
let host: StaticServer;

beforeAll(async () => {
  rmSync(TMP, { recursive: true, force: true });
  cpSync(path.join(REPO_ROOT, 'dist'), DIST_A, { recursive: true }); // build A: the suite's own build
  execFileSync(path.join(REPO_ROOT, 'node_modules/.bin/vite'), ['build', '--logLevel', 'warn', '--outDir', DIST_B], {
    cwd: REPO_ROOT, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'production', POE_BUILD_ID: BUILD_B },
  });
  // Build B ships a newer version of the pool too.
  const manifestB = path.join(DIST_B, 'pools', poolId, 'pool.json');
  writeFileSync(manifestB, JSON.stringify({ ...JSON.parse(readFileSync(manifestB, 'utf8')), version: `${poolVersionA}-b` }));
  host = await startStaticServer(DIST_A);
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await host?.close();
});

describe('a new build deployed while a tab is open', () => {
  it('says a new version is ready; the old tab keeps working; reloading switches app and pool together', async () => {
    const page = await browser.newPage();
    await page.goto(`${host.url}?backend=wasm`);
    await poolReady(page);
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 60_000 });
    const buildA = (await page.textContent('[data-testid="build-id"]'))!;
    expect(buildA).not.toBe(BUILD_B);
    expect(await page.textContent('.pool-info')).toContain(`v${poolVersionA}:`);

    host.setRoot(DIST_B); // the deploy
    await page.evaluate(() => navigator.serviceWorker.getRegistration().then((r) => r?.update())); // what a visit or the 15-minute check does
    await page.waitForSelector('[data-testid="app-update"]', { timeout: 60_000 });
    expect(await page.textContent('[data-testid="app-update"]')).toMatch(/A new version of PoE Studio is ready/);
    // Until the user reloads, the tab runs build A with pool A, and still works.
    expect(await page.textContent('[data-testid="build-id"]')).toBe(buildA);
    await page.check('input[data-task="people"]');
    await modelWithClasses(page, 5);
    expect(await page.textContent('.pool-info')).toContain(`v${poolVersionA}:`);

    await Promise.all([page.waitForEvent('load', { timeout: 60_000 }), page.click('text=Reload to update')]);
    await poolReady(page);
    expect(await page.textContent('[data-testid="build-id"]')).toBe(BUILD_B);
    await page.waitForFunction((v) => document.querySelector('.pool-info')?.textContent?.includes(`v${v}:`), `${poolVersionA}-b`, { timeout: 60_000 });
    expect(await page.textContent('[data-testid="build-id"]')).toBe(BUILD_B);
    // Only build B's files remain cached.
    expect(await page.evaluate(() => caches.keys())).toEqual([`poe-app-${BUILD_B}`]);
    await page.context().close();
  });
});
