import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEFAULT_POOL_DIR, REPO_ROOT } from '../../../cli/lib/paths';
import { launchEngine, selectedEngines, type EngineBrowser, type EngineName, type EnginePage } from '../../../harness/engines';
import { encodePng, stripes } from '../../../harness/png';
import { servePreview } from '../../../harness/previewServer';
import { readReference } from '../../../harness/reference';
import { argmaxRows } from '../../../src/ml/run/predict';
import { openPool, useNodeBackend } from '../../../src/node';
import { startStaticServer } from '../staticServer';
import { phoneLayout } from './phone';
import { attr, modelWithClasses, poolReady, seriousA11yViolations, text, waitFor, waitForSelector, waitUntilOffline } from './wait';

const SELECTION = ['people', 'vehicles_1'];
const AXE = readFileSync(path.join(REPO_ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8');
/** The backends each engine offers here; WebGPU only in Chromium (Firefox ESR and WebKitGTK ship without it). */
const BACKENDS: Record<EngineName, string[]> = { chromium: ['wasm', 'webgl', 'webgpu'], firefox: ['wasm', 'webgl'], webkit: ['wasm', 'webgl'] };

const ref = readReference(DEFAULT_POOL_DIR);
const refPngs = Array.from({ length: ref.count }, (_, i) => ({
  name: `ref-${String(i).padStart(2, '0')}.png`,
  buffer: encodePng(ref.images.subarray(i * 3072, (i + 1) * 3072), 32, 32),
}));
const badFiles = [
  { name: 'corrupt.png', buffer: Buffer.from('\x89PNG\r\n\x1a\n this is not the rest of a PNG', 'latin1') },
  { name: 'empty.png', buffer: Buffer.alloc(0) },
  { name: 'notes.txt', buffer: Buffer.from('a shopping list, not a picture\n') },
];
const BAD_MESSAGES: Record<string, RegExp> = {
  'corrupt.png': /could not be decoded: the file is corrupt, truncated/,
  'empty.png': /The file is empty \(0 bytes\)/,
  'notes.txt': /This is not an image/,
};
const keys = (from: number, count: number) => Array.from({ length: count }, (_, i) => ({ name: `keys-${from + i}.png`, buffer: stripes(from + i) }));

const { onnx } = onnxProto;
/** An ONNX graph's operators in order and its initializers' bytes; tensor names carry TF.js's per-process layer counters, so they are left out. */
function onnxGraph(bytes: Uint8Array) {
  const g = onnx.ModelProto.decode(bytes).graph!;
  const weights = createHash('sha256');
  for (const t of g.initializer ?? []) weights.update(JSON.stringify(t.dims)).update(onnx.TensorProto.encode({ ...t, name: '' }).finish());
  return { ops: (g.node ?? []).map((n) => n.opType).join(' '), weights: weights.digest('hex') };
}

/** What the Node engine makes of the same selection: top-1 per reference image and the exported files. */
async function nodeExpectations() {
  await useNodeBackend('cpu');
  const pool = await openPool(DEFAULT_POOL_DIR);
  const model = pool.consolidate(SELECTION);
  const top1 = Array.from(argmaxRows(await model.predictLogits(ref.images), model.labels.length), (k) => model.labels[k]);
  const tfjs = await model.export('float32', 'tfjs');
  const onnxFiles = await model.export('float32', 'onnx');
  const out = { labels: [...model.labels], top1, weights: Buffer.from(tfjs['weights.bin']), onnxGraph: onnxGraph((onnxFiles as { 'model.onnx': Uint8Array })['model.onnx']) };
  model.dispose();
  pool.dispose();
  return out;
}

/**
 * The flows that differ most between browser engines, run the same way in each: storage, service
 * worker, uploads, camera, downloads, layout, accessibility and numerics.
 */
export function engineSuite(engine: EngineName): void {
  describe.skipIf(!selectedEngines().includes(engine))(`the app in ${engine}`, () => {
    const baseUrl = inject('baseUrl');
    const app = `${baseUrl}?backend=wasm`;
    let browser: EngineBrowser;
    let page: EnginePage;
    let expected: Awaited<ReturnType<typeof nodeExpectations>>;

    beforeAll(async () => {
      [browser, expected] = await Promise.all([launchEngine(engine), nodeExpectations()]);
      console.log(`${engine}: ${browser.version}`);
      page = await browser.newPage();
    });
    afterAll(async () => browser?.close());

    it('downloads the pool on the first visit and reads it from IndexedDB on the next', async () => {
      await page.goto(app);
      await poolReady(page);
      expect(await text(page, '[data-testid="pool-source"]')).toContain('network');
      expect(await text(page, '[data-testid="backend"]')).toBe('wasm');
      await page.goto(app);
      await poolReady(page);
      expect(await text(page, '[data-testid="pool-source"]')).toContain('this browser’s storage');
      const fetched = await page.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name).filter((n) => n.includes('/pools/') && n.endsWith('.bin')));
      expect(fetched).toEqual([]);
    });

    it('builds a model from picked superclasses and predicts uploads as the Node engine does, naming each bad file', async () => {
      for (const t of SELECTION) await page.click(`input[data-task="${t}"]`);
      await modelWithClasses(page, 10);
      await page.setFiles('[data-testid="file-input"]', [...refPngs, ...badFiles]);
      await waitFor(page, (n) => document.querySelectorAll('li[data-status="ready"] .preds li, li[data-status="error"]').length >= n, refPngs.length * 3 + badFiles.length, { what: 'every upload predicted or refused' });
      const shown = await page.evaluate(() => Object.fromEntries([...document.querySelectorAll('li[data-upload]')].map((el) =>
        [el.getAttribute('data-upload'), el.getAttribute('data-status') === 'error' ? `error: ${el.textContent}` : el.querySelector('.preds li span')?.textContent])));
      refPngs.forEach((f, i) => expect(shown[f.name], f.name).toBe(expected.top1[i]));
      for (const f of badFiles) expect(shown[f.name], f.name).toMatch(BAD_MESSAGES[f.name]);
    });

    it('runs the built-in check', async () => {
      await page.click('[data-testid="check-run"]');
      await waitForSelector(page, '[data-testid="check-result"]');
      const result = await text(page, '[data-testid="check-result"]');
      console.log(`${engine} built-in check: ${result}`);
      expect(Number(/([\d.]+) %/.exec(result ?? '')?.[1])).toBeGreaterThan(50);
    });

    it('downloads the TF.js and ONNX models, holding the weights the Node engine exports', async () => {
      const tfjs = await page.download('[data-testid="download"]');
      expect(tfjs.name).toBe('poe-10-classes-float32.zip');
      const zip = unzipSync(new Uint8Array(tfjs.bytes));
      expect(Object.keys(zip).sort()).toEqual(['README.md', 'metadata.json', 'model.json', 'weights.bin']);
      expect(JSON.parse(strFromU8(zip['metadata.json'])).labels).toEqual(expected.labels);
      expect(JSON.parse(strFromU8(zip['model.json'])).format).toBe('layers-model');
      expect(Buffer.from(zip['weights.bin']).equals(expected.weights)).toBe(true);

      await page.click('[data-format="onnx"] input');
      const onnxZip = await page.download('[data-testid="download"]');
      expect(onnxZip.name).toBe('poe-10-classes-float32-onnx.zip');
      const oz = unzipSync(new Uint8Array(onnxZip.bytes));
      expect(Object.keys(oz).sort()).toEqual(['README.md', 'metadata.json', 'model.onnx']);
      const decoded = onnx.ModelProto.decode(oz['model.onnx']);
      expect(onnxGraph(oz['model.onnx'])).toEqual(expected.onnxGraph);
      expect(JSON.parse(decoded.metadataProps.find((m) => m.key === 'labels')!.value!)).toEqual(expected.labels);
      await page.click('[data-format="tfjs"] input');
    });

    it('predicts live from a fake camera and stops cleanly', async () => {
      await page.click('[data-testid="webcam-start"]');
      await waitFor(page, () => document.querySelectorAll('[data-testid="webcam-top"] li').length === 5, undefined, { what: 'five live predictions' });
      await waitFor(page, () => parseInt(document.querySelector('[data-testid="webcam-fps"]')?.textContent ?? '0') > 0, undefined, { what: 'a frame rate' });
      console.log(`${engine} webcam loop: ${await text(page, '[data-testid="webcam-fps"]')}`);
      await page.click('[data-testid="webcam-stop"]');
      await waitFor(page, () => document.querySelector('video') === null && document.querySelector('[data-testid="webcam-fps"]') === null);
    });

    it('trains a custom class from uploads and predicts it', async () => {
      await page.fill('[data-testid="custom-name"]', 'my keys');
      await page.setFiles('[data-testid="custom-file-input"]', keys(0, 20));
      await waitFor(page, () => document.querySelector('[data-testid="custom-count"]')?.textContent === '20 images');
      await page.click('[data-testid="custom-train"]');
      await waitForSelector(page, '[data-custom="my keys"]', 120_000);
      await modelWithClasses(page, 11);
      await page.setFiles('[data-testid="file-input"]', [{ ...keys(40, 1)[0], name: 'new-keys.png' }]);
      await waitForSelector(page, 'li[data-upload="new-keys.png"][data-status="ready"] .preds li');
      expect(await text(page, 'li[data-upload="new-keys.png"] .preds li span')).toBe('my keys');
    });

    it('shares the model as a link that a fresh profile opens to the same model, custom class included', async () => {
      await page.click('[data-testid="share-model"]');
      await waitFor(page, () => (document.querySelector<HTMLInputElement>('[data-testid="share-link"]')?.value ?? '').includes('#model=1.'));
      const link = await page.evaluate(() => document.querySelector<HTMLInputElement>('[data-testid="share-link"]')!.value);
      // The custom class's weights make the link too long for a QR code: the panel says so instead.
      await waitForSelector(page, '[data-testid="share-qr"], [data-testid="share-qr-note"]');
      if (link.length <= 2953) expect(await attr(page, '[data-testid="share-qr"]', 'src')).toMatch(/^data:image\/svg\+xml/);
      else expect(await text(page, '[data-testid="share-qr-note"]')).toMatch(/too long for a QR code/);
      // The system share sheet only where the browser has one (none of the three engines here); Copy and the QR code everywhere.
      expect(await page.evaluate(() => [...document.querySelectorAll('[data-testid="share-result"] button')].some((b) => b.textContent === 'Share…')))
        .toBe(await page.evaluate(() => typeof navigator.share === 'function'));
      const other = await browser.newPage();
      try {
        await other.goto(link);
        await poolReady(other);
        await waitForSelector(other, '[data-testid="recipe-notice"][data-kind="applied"]');
        await modelWithClasses(other, 11);
        expect(await other.evaluate(() => location.hash)).toBe('');
        await other.setFiles('[data-testid="file-input"]', [{ ...keys(41, 1)[0], name: 'shared-keys.png' }]);
        await waitForSelector(other, 'li[data-upload="shared-keys.png"][data-status="ready"] .preds li');
        expect(await text(other, 'li[data-upload="shared-keys.png"] .preds li span')).toBe('my keys');
      } finally {
        await other.close();
      }
    });

    it('has no serious or critical axe-core violation', async () => {
      expect(await seriousA11yViolations(page, AXE)).toEqual([]);
    });

    it('lays the page out in one column at 390 px, with no sideways scrolling', async () => {
      const phone = await phoneLayout(page, app);
      expect(phone).toEqual({ width: 390, overflow: 0, oneColumn: true });
      if (engine !== 'webkit') expect(await seriousA11yViolations(page, AXE)).toEqual([]);
      if (engine !== 'webkit') await page.setViewport(1280, 800);
    });

    it('works offline after the first visit (service worker)', async () => {
      const server = await servePreview();
      const p = await browser.newPage();
      try {
        await p.goto(`${server.url}?backend=wasm`);
        await poolReady(p);
        await waitUntilOffline(p);
        await server.close();
        await p.goto(`${server.url}?backend=wasm`);
        await poolReady(p);
        await p.click('input[data-task="people"]');
        await modelWithClasses(p, 5);
      } finally {
        await server.close();
        await p.close();
      }
    });

    it('on a plain static host (no COOP/COEP) is cross-origin isolated from the second visit on, through the service worker', async () => {
      const host = await startStaticServer(path.join(REPO_ROOT, 'dist'));
      const p = await browser.newPage();
      try {
        await p.goto(`${host.url}?backend=wasm&threads=2`);
        await poolReady(p);
        expect(await p.evaluate(() => crossOriginIsolated)).toBe(false);
        expect(await text(p, '[data-testid="wasm-threads"]')).toMatch(/1 thread in use: the page is not cross-origin isolated/);
        await waitUntilOffline(p);
        await p.goto(`${host.url}?backend=wasm&threads=2`);
        await poolReady(p);
        expect(await p.evaluate(() => crossOriginIsolated)).toBe(true);
        expect(await attr(p, '[data-testid="wasm-threads"]', 'data-threads')).toBe(engine === 'webkit' ? '1' : '2');
      } finally {
        await p.close();
        await host.close();
      }
    });

    // wasm with 2 worker threads where the engine can have them (SharedArrayBuffer), else 1.
    for (const backend of BACKENDS[engine]) {
      const threads = backend === 'wasm' ? (engine === 'webkit' ? 1 : 2) : null;
      it(`${backend}${threads ? ` (${threads} thread${threads > 1 ? 's' : ''})` : ''}: logits within 5e-4 of PyTorch and the same top-1 on every reference image`, async () => {
        const p = await browser.newPage();
        try {
          await p.goto(`${baseUrl}?backend=${backend}${threads ? `&threads=${threads === 1 ? 'auto' : threads}` : ''}`);
          await poolReady(p);
          expect(await text(p, '[data-testid="backend"]')).toBe(backend);
          if (threads) expect(await attr(p, '[data-testid="wasm-threads"]', 'data-threads')).toBe(String(threads));
          if (engine === 'webkit' && threads) expect(await text(p, '[data-testid="wasm-threads"]')).toMatch(/no SharedArrayBuffer/);
          await p.click('[data-testid="device-check-run"]');
          await waitForSelector(p, '[data-testid="device-check"]', 240_000);
          const diff = Number(await attr(p, '[data-testid="device-check"]', 'data-max-diff'));
          console.log(`${engine} ${backend}: max |TF.js - PyTorch| = ${diff.toExponential(2)}`);
          expect(diff).toBeLessThan(5e-4);
          expect(await attr(p, '[data-testid="device-check"]', 'data-agree')).toBe(await attr(p, '[data-testid="device-check"]', 'data-images'));
        } finally {
          await p.close();
        }
      });
    }

    if (!BACKENDS[engine].includes('webgpu')) {
      it('falls back from WebGPU, saying why', async () => {
        const p = await browser.newPage();
        try {
          await p.goto(`${baseUrl}?backend=webgpu`);
          await poolReady(p);
          expect(['wasm', 'webgl']).toContain(await text(p, '[data-testid="backend"]'));
          expect(await text(p, 'section.model')).toMatch(/webgpu is not used: /);
        } finally {
          await p.close();
        }
      });
    }
  });
}
