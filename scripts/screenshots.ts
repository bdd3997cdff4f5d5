// Regenerates the README screenshots from the production build: npx tsx scripts/screenshots.ts
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_POOL_DIR, REPO_ROOT } from '../cli/lib/paths';
import { launchChromium } from '../test/e2e/browser';
import { encodePng } from '../test/e2e/png';
import { readReference } from '../test/unit/helpers';

const PORT = 4186;
const OUT = path.join(REPO_ROOT, 'docs', 'screenshots');

async function main() {
  const vite = path.join(REPO_ROOT, 'node_modules', '.bin', 'vite');
  const env = { ...process.env, NODE_ENV: 'production' };
  execFileSync(vite, ['build', '--logLevel', 'warn'], { cwd: REPO_ROOT, stdio: 'inherit', env });
  const server = spawn(vite, ['preview', '--port', String(PORT), '--strictPort', '--host', '127.0.0.1'], { cwd: REPO_ROOT, stdio: 'ignore', env });
  const base = `http://127.0.0.1:${PORT}/?backend=wasm`;
  for (let i = 0; i < 150 && !(await fetch(base).then((r) => r.ok, () => false)); i++) await new Promise((r) => setTimeout(r, 200));
  const clip = path.join(mkdtempSync(path.join(os.tmpdir(), 'poe-shot-')), 'clip.y4m');
  execFileSync('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=640x480:rate=15', '-t', '2', '-pix_fmt', 'yuv420p', clip]);
  const browser = await launchChromium(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-video-capture=${clip}`]);
  mkdirSync(OUT, { recursive: true });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(base);
    await page.waitForSelector('section.pool[data-status="ready"]');
    for (const t of ['people', 'vehicles_1', 'vehicles_2']) await page.check(`input[data-task="${t}"]`);
    await page.check('input[data-class="apple"]');
    await page.waitForSelector('[data-testid="model-card"]');
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(OUT, 'pick-and-build.png') });
    const ref = readReference(DEFAULT_POOL_DIR);
    await page.setInputFiles('[data-testid="file-input"]', [
      ...Array.from({ length: 6 }, (_, i) => ({ name: `cifar-${i}.png`, mimeType: 'image/png', buffer: encodePng(ref.images.subarray(i * 3072, (i + 1) * 3072), 32, 32) })),
      { name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('not an image') },
    ]);
    await page.waitForFunction(() => document.querySelectorAll('li[data-status="ready"]').length === 6);
    await (await page.$('section.uploads'))!.screenshot({ path: path.join(OUT, 'uploads.png') });
    await page.click('text=Measure accuracy on the selected classes');
    await page.waitForSelector('[data-testid="check-result"]');
    await page.click('text=Compare sizes and accuracy');
    await page.waitForSelector('[data-precision="uint8"] .precision-figures', { timeout: 120_000 });
    const check = await page.$('section.check');
    await check!.screenshot({ path: path.join(OUT, 'built-in-check.png') });
    await (await page.$('section.download'))!.screenshot({ path: path.join(OUT, 'download.png') });
    await page.click('[data-testid="webcam-start"]');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="webcam-top"] li').length === 5);
    await page.waitForTimeout(1500);
    await (await page.$('section.webcam'))!.screenshot({ path: path.join(OUT, 'webcam.png') });
    console.log(`screenshots written to ${OUT}`);
  } finally {
    await browser.close();
    server.kill();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
