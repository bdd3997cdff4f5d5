import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { REPO_ROOT } from '../../cli/lib/paths';
import { bytesOf, json, readPoolDir, replaceFile, zipOf, type PoolFiles } from '../unit/poolBytes';
import { cspViolations, launchChromium } from '../../harness/chromium';
import { modelWithClasses, poolReady } from './pages';
import { startStaticServer, type StaticServer } from './staticServer';

/** Pools from elsewhere in the real app: by address from another origin (CORS), a dropped zip, a picked folder; hostile ones refused. */
const baseUrl = inject('baseUrl');
const app = `${baseUrl}?backend=wasm`;
const TMP = path.join(REPO_ROOT, 'test', '.tmp', 'e2e-pools');
const SIX = path.join(TMP, 'six');
let browser: Browser;
let cdn: StaticServer;
let six: PoolFiles;
/** What each hostile case showed, written to test/.tmp/e2e-pools/messages.json for docs/ROBUSTNESS.md. */
const observed: Record<string, string> = {};

function writePool(name: string, files: PoolFiles): void {
  for (const [p, b] of files) {
    mkdirSync(path.dirname(path.join(TMP, name, p)), { recursive: true });
    writeFileSync(path.join(TMP, name, p), b);
  }
}
const withExpertModel = (edit: (m: any) => void) => { // eslint-disable-line @typescript-eslint/no-explicit-any
  const p = 'experts/people/model.json';
  const m = json(six, p);
  edit(m);
  return replaceFile(six, p, bytesOf(m));
};
const withManifest = (edit: (m: any) => void) => { // eslint-disable-line @typescript-eslint/no-explicit-any
  const m = json(six, 'pool.json');
  edit(m);
  return new Map(six).set('pool.json', bytesOf(m));
};

beforeAll(async () => {
  rmSync(TMP, { recursive: true, force: true });
  execFileSync('/usr/bin/python3', ['experts/tools/make_fixture_pool.py', '--kind', 'six', '--out', SIX], { cwd: REPO_ROOT, stdio: 'ignore' });
  six = readPoolDir(SIX);
  const w = six.get('experts/people/weights.bin')!.slice();
  new DataView(w.buffer).setFloat32(64, NaN, true);
  writePool('nan', replaceFile(six, 'experts/people/weights.bin', w));
  writePool('layer', withExpertModel((m) => (m.modelTopology.config.layers[1].class_name = 'Lambda')));
  writePool('bytes', withExpertModel((m) => (m.weightsManifest[0].weights[0].shape[0] += 1)));
  writePool('escape', withManifest((m) => (m.library.files.weights.path = '../six/library/../../../etc/passwd')));
  writePool('bomb', new Map(six).set('pool.json', bytesOf('{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000))));
  writePool('huge', withManifest((m) => (m.provenance = { junk: new Array(200_000).fill(0) })));
  writePool('classes', withManifest((m) => (m.classes = Array.from({ length: 5000 }, (_, i) => ({ index: i, name: `c${i}`, task: 'x' })))));
  writePool('name', withManifest((m) => (m.classes[0].name = 'x'.repeat(500))));
  cdn = await startStaticServer(TMP, { cors: true }); // another origin than the app's
  browser = await launchChromium();
});
afterAll(async () => {
  writeFileSync(path.join(TMP, 'messages.json'), JSON.stringify(observed, null, 2));
  await browser?.close();
  await cdn?.close();
});

const poolName = (p: Page) => p.textContent('.pool-info strong');
async function openByAddress(p: Page, url: string): Promise<void> {
  await p.click('.pool-open summary');
  await p.fill('#pool-url', url);
  await p.click('.pool-open-url button');
}
async function expectRefused(p: Page, name: string, code: string, message: RegExp, keep: string): Promise<void> {
  const el = await p.waitForSelector(`[data-testid="pool-open-error"][data-code="${code}"]`, { timeout: 60_000 });
  const text = (await el.textContent())!;
  observed[name] = `${code}: ${text}`;
  expect(text).toMatch(message);
  expect(text).toMatch(/The pool in use was kept\.$/);
  expect(await poolName(p)).toBe(keep);
  expect(await p.getAttribute('section.pool', 'data-status')).toBe('ready');
}
async function dropFile(p: Page, bytes: Uint8Array, name: string): Promise<void> {
  await p.evaluate(({ b64, name }) => {
    const data = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([data], name, { type: 'application/zip' }));
    const target = document.querySelector('header')!;
    target.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    target.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, { b64: Buffer.from(bytes).toString('base64'), name });
}

describe('pools from anywhere', () => {
  it('?pool= opens a six-expert pool made from other weights by make_fixture_pool.py, from another origin (CORS); it builds and predicts', async () => {
    const page = await browser.newPage();
    await page.goto(`${app}&pool=${encodeURIComponent(cdn.url + 'six/')}`);
    await page.waitForFunction(() => document.querySelector('.pool-info strong')?.textContent === 'six-experts', null, { timeout: 120_000 });
    expect(await page.textContent('.pool-info')).toMatch(/six-experts vsix-1: 30 classes, 6 experts/);
    expect(await page.textContent('[data-testid="pool-origin"]')).toBe(`Opened from ${cdn.url}six/.`);
    await page.check('input[data-task="trees"]');
    await modelWithClasses(page, 5);
    expect(await page.$$('input[data-task="kitchen"]')).toHaveLength(0);
    // It carries no sample images: the check says so instead of measuring on another pool's.
    await page.click('text=Measure accuracy on the selected classes');
    const error = await page.waitForSelector('section.check .error', { timeout: 30_000 });
    expect(await error.textContent()).toMatch(/This pool \(six-experts\) carries no sample images \(sample\.json\)/);
    await page.context().close();
  });

  it('refuses hostile pools by address with a coded message and keeps the working pool', async () => {
    const page = await browser.newPage();
    await page.goto(app);
    await poolReady(page);
    const builtIn = (await poolName(page))!;
    const cases: [string, string, RegExp][] = [
      ['nan', 'WEIGHTS_INVALID', /expert "people" weights \(experts\/people\/weights.bin\) hold NaN in tensor/],
      ['layer', 'MODEL_INVALID', /uses layer type "Lambda", which pools may not contain/],
      ['bytes', 'MODEL_INVALID', /hold \d+ bytes, but its model.json describes \d+/],
      ['escape', 'MANIFEST_INVALID', /library.files.weights.path ".*" must be a relative path inside the pool folder/],
      ['bomb', 'POOL_LIMIT', /nests lists or objects more than 64 levels deep/],
      ['huge', 'POOL_LIMIT', /has a list or object of more than 100,000 items; it was refused/],
      ['classes', 'POOL_LIMIT', /"classes" has 5000 entries; pools with up to 4096 are accepted/],
      ['name', 'POOL_LIMIT', /classes\[0\]\.name is 500 characters long; names up to 64 are accepted/],
      ['missing', 'FILE_MISSING', /No pool manifest \(pool.json\) at http/],
    ];
    for (const [dir, code, message] of cases) {
      await openByAddress(page, `${cdn.url}${dir}/`);
      await expectRefused(page, `address: ${dir}`, code, message, builtIn);
      await page.click('.pool-open summary'); // close it again for the next case
    }
    await openByAddress(page, 'javascript:alert(1)');
    await expectRefused(page, 'address: javascript:', 'POOL_URL', /http or https addresses only/, builtIn);
    await page.check('input[data-task="people"]');
    await modelWithClasses(page, 5); // the kept pool still builds
    await page.context().close();
  });

  it('opens a pool zip dropped on the page and a picked folder; refuses a zip whose entry leaves its folder', async () => {
    const page = await browser.newPage();
    await page.goto(app);
    await poolReady(page);
    const builtIn = (await poolName(page))!;
    await dropFile(page, zipOf(new Map([...six, ['../../evil.sh', bytesOf('rm -rf /')]])), 'evil.zip');
    await expectRefused(page, 'zip: entry ../../evil.sh', 'PATH_INVALID', /the zip evil.zip holds an entry whose path leaves its folder \("..\/..\/evil.sh"\)/, builtIn);
    await dropFile(page, new Uint8Array(400), 'empty.zip');
    await expectRefused(page, 'zip: not a zip', 'ARCHIVE_INVALID', /empty.zip is not a readable zip archive/, builtIn);
    await dropFile(page, zipOf(six, 'six-experts/'), 'six.zip');
    await page.waitForFunction(() => document.querySelector('.pool-info strong')?.textContent === 'six-experts', null, { timeout: 60_000 });
    expect(await page.textContent('[data-testid="pool-origin"]')).toBe('Opened from the zip six.zip.');
    expect(await page.$('[data-testid="pool-open-error"]')).toBeNull();
    await page.click('.pool-open summary');
    await page.setInputFiles('[data-testid="pool-folder-input"]', path.join(TMP, 'nan'));
    await expectRefused(page, 'folder: NaN weight', 'WEIGHTS_INVALID', /hold NaN/, 'six-experts');
    await page.setInputFiles('[data-testid="pool-folder-input"]', SIX);
    await page.waitForFunction(() => /the folder six/.test(document.querySelector('[data-testid="pool-origin"]')?.textContent ?? ''), null, { timeout: 60_000 });
    await page.check('input[data-task="fish"]');
    await modelWithClasses(page, 5);
    await page.context().close();
  });
});

describe('storage', () => {
  it('asks for persistent storage and shows the answer; IndexedDB cleared mid-session: keeps working, caches again on the next load', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(app);
    await poolReady(page);
    expect(await page.textContent('[data-testid="storage-persisted"]')).toMatch(/^Storage: (persistent|best effort)\./);
    await page.reload();
    await poolReady(page);
    expect(await page.textContent('[data-testid="pool-source"]')).toContain('storage');
    // What "Clear site data" does: the database is deleted and open connections are closed.
    const cdp = await context.newCDPSession(page);
    await cdp.send('Storage.clearDataForOrigin', { origin: new URL(baseUrl).origin, storageTypes: 'indexeddb' });
    await page.check('input[data-task="flowers"]');
    await modelWithClasses(page, 5);
    // A write after the clear goes to a fresh database (the closed connection is opened again).
    await openByAddress(page, `${cdn.url}six/`);
    await page.waitForFunction(() => document.querySelector('.pool-info strong')?.textContent === 'six-experts', null, { timeout: 60_000 });
    expect(await page.textContent('.pool')).not.toMatch(/not saved for offline use/);
    const keys = await page.evaluate(() => new Promise<string[]>((res) => {
      const r = indexedDB.open('poe-studio');
      r.onsuccess = () => { const k = r.result.transaction('pools').objectStore('pools').getAllKeys(); k.onsuccess = () => res(k.result.map(String)); };
    }));
    expect(keys).toEqual([`pool:v1:url:${cdn.url}six/`]);
    await page.goto(app);
    await poolReady(page);
    expect(await page.textContent('[data-testid="pool-source"]')).toContain('network');
    await page.reload();
    await poolReady(page);
    expect(await page.textContent('[data-testid="pool-source"]')).toContain('storage');
    await context.close();
  });
});

describe('Content-Security-Policy', () => {
  it('the page carries the policy (violations are recorded across the whole e2e suite, see cspSetup.ts)', async () => {
    const page = await browser.newPage();
    await page.goto(app);
    const csp = await page.getAttribute('meta[http-equiv="Content-Security-Policy"]', 'content');
    expect(csp).toContain("script-src 'self' blob: 'wasm-unsafe-eval'");
    expect(csp).not.toMatch(/unsafe-inline|'unsafe-eval'/);
    // A script the policy does not allow is refused, and the recorder sees it.
    const ran = await page.evaluate(async () => {
      const el = document.createElement('script');
      el.textContent = 'window.inlineRan = true';
      document.head.append(el);
      await new Promise((r) => setTimeout(r, 100));
      return (window as unknown as { inlineRan?: boolean }).inlineRan === true;
    });
    expect(ran).toBe(false);
    // Seen twice: our securitypolicyviolation listener and Chromium's own console line.
    const ours = (v: string) => v.includes('[csp-violation] script-src-elem inline') || v.startsWith('Executing inline script violates');
    await expect.poll(() => cspViolations.filter(ours).length).toBe(2);
    cspViolations.splice(0, cspViolations.length, ...cspViolations.filter((v) => !ours(v))); // the ones we caused
    await page.context().close();
  });
});
