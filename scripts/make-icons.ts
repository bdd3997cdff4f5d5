// Renders the app icons (web app manifest, home screen) from the SVGs in headless Chromium: npx tsx scripts/make-icons.ts
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../cli/lib/paths';
import { launchChromium } from '../harness/chromium';

const PUBLIC = path.join(REPO_ROOT, 'public');
const ICONS: { svg: string; out: string; px: number }[] = [
  { svg: 'favicon.svg', out: 'icons/icon-192.png', px: 192 },
  { svg: 'favicon.svg', out: 'icons/icon-512.png', px: 512 },
  { svg: 'icons/icon-maskable.svg', out: 'icons/icon-maskable-512.png', px: 512 },
  { svg: 'icons/icon-maskable.svg', out: 'icons/apple-touch-icon.png', px: 180 },
];

async function main() {
  const browser = await launchChromium([], { webgpu: false });
  try {
    for (const icon of ICONS) {
      const page = await browser.newPage({ viewport: { width: icon.px, height: icon.px } });
      const svg = readFileSync(path.join(PUBLIC, icon.svg), 'utf8').replace('<svg ', `<svg width="${icon.px}" height="${icon.px}" `);
      await page.setContent(`<style>html,body{margin:0;background:transparent}svg{display:block}</style>${svg}`);
      await page.screenshot({ path: path.join(PUBLIC, icon.out), omitBackground: true });
      await page.close();
    }
  } finally {
    await browser.close();
  }
  console.log(`${ICONS.length} icons written to ${PUBLIC}/icons`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
