import { launchChromium } from '../harness/chromium';
import { fakeCameraArgs, makeClip } from '../harness/fakeWebcam';
import { startPreview } from '../harness/previewServer';
import { stat, type BackendBench, type Stat, type Throughput } from '../src/bench/benchmark';

export interface OrtFigures {
  runtime: string;
  throughput: Throughput[];
}

export interface BrowserFigures {
  backends: (BackendBench & { crossOriginIsolated?: boolean; onnxRuntime?: OrtFigures })[];
  errors: Record<string, string>;
  poolLoadColdMs: Stat;
  poolLoadWarmMs: Stat;
  webcamFps: Stat;
}

const PORT = 4185;

/** Serves the production build and measures it in headless Chromium: bench.html per backend, and the app. */
export async function benchBrowser(log: (s: string) => void): Promise<BrowserFigures> {
  const preview = await startPreview(PORT);
  const base = preview.url;
  const browser = await launchChromium(fakeCameraArgs(makeClip({ width: 640, height: 480, rate: 30, seconds: 3 })));
  const out: BrowserFigures = { backends: [], errors: {}, poolLoadColdMs: stat([0]), poolLoadWarmMs: stat([0]), webcamFps: stat([0]) };
  try {
    for (const backend of ['wasm', 'webgl', 'webgpu']) {
      log(`  chromium ${backend}…`);
      // A browser of its own per backend: the software WebGPU adapter does not survive a shared one.
      const own = await launchChromium();
      const page = await own.newPage();
      await page.goto(`${base}bench.html?backend=${backend}${backend === 'wasm' ? '' : '&quick=1'}`);
      await page.waitForFunction(() => window.benchResult || window.benchError, null, { timeout: 900_000, polling: 500 });
      const err = await page.evaluate(() => window.benchError);
      if (err) out.errors[backend] = err;
      else out.backends.push((await page.evaluate(() => window.benchResult)) as BackendBench);
      await own.close();
    }
    log('  chromium app: pool loading and webcam…');
    const cold: number[] = [], warm: number[] = [];
    const loadMs = async (p: import('playwright-core').Page) => {
      await p.waitForSelector('section.pool[data-status="ready"]', { timeout: 120_000 });
      return Number(await p.getAttribute('[data-testid="pool-source"]', 'data-load-ms'));
    };
    for (let i = 0; i < 5; i++) {
      const context = await browser.newContext();
      const p = await context.newPage();
      await p.goto(`${base}?backend=wasm`);
      cold.push(await loadMs(p));
      for (let j = 0; j < 2; j++) {
        await p.reload();
        warm.push(await loadMs(p));
      }
      if (i === 4) {
        for (const t of ['people', 'vehicles_1', 'vehicles_2', 'trees', 'fish']) await p.check(`input[data-task="${t}"]`);
        await p.click('[data-testid="webcam-start"]');
        await p.waitForSelector('[data-testid="webcam-fps"]');
        await p.waitForTimeout(2000);
        const fps: number[] = [];
        for (let k = 0; k < 5; k++) {
          const f0 = Number(await p.getAttribute('[data-testid="webcam-fps"]', 'data-frames'));
          const t0 = Date.now();
          await p.waitForTimeout(1000);
          fps.push(((Number(await p.getAttribute('[data-testid="webcam-fps"]', 'data-frames')) - f0) * 1000) / (Date.now() - t0));
        }
        out.webcamFps = stat(fps);
      }
      await context.close();
    }
    out.poolLoadColdMs = stat(cold);
    out.poolLoadWarmMs = stat(warm);
  } finally {
    await browser.close();
    await preview.close();
  }
  return out;
}
