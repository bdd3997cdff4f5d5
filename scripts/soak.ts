/**
 * Soak: the webcam loop in one browser engine for a while, sampling its frame rate, the tensors and
 * bytes TF.js holds, the page's live JS heap (Chromium only: after a forced collection, which
 * --expose-gc allows; Firefox and WebKit expose no heap figure to a page) and the resident memory of
 * the browser's processes. Not part of CI.
 *
 *   npm run soak -- --engine firefox --minutes 10
 *
 * Prints a sample every --every seconds and a verdict over the second half of the run (the first holds
 * the warm-up): no tensor growth, and memory growth under 10 %. Exits 1 when something grew.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { inTree, processTable } from '../harness/procs';
import { parseArgs } from 'node:util';
import { launchEngine, ENGINE_NAMES, type EngineName, type EnginePage } from '../harness/engines';
import { startPreview } from '../harness/previewServer';

const { values } = parseArgs({
  options: {
    engine: { type: 'string', default: 'chromium' },
    minutes: { type: 'string', default: '10' },
    every: { type: 'string', default: '30' },
    classes: { type: 'string', default: 'people,vehicles_1' },
    backend: { type: 'string', default: 'wasm' },
    port: { type: 'string', default: '4183' },
  },
});
const engine = values.engine as EngineName;
const minutes = Number(values.minutes);
const every = Number(values.every);
if (!(ENGINE_NAMES as readonly string[]).includes(engine)) fail(`--engine must be one of ${ENGINE_NAMES.join(', ')}, not "${values.engine}"`);
if (!(minutes > 0)) fail(`--minutes must be a positive number, not "${values.minutes}"`);
if (!(every >= 5)) fail(`--every must be at least 5 seconds, not "${values.every}"`);

function fail(msg: string): never {
  console.error(`soak: ${msg}`);
  process.exit(2);
}

/** Resident memory of every process below ours except `skip`'s subtrees (the preview server), in bytes. */
function browserRss(skip: Set<number>): number {
  const table = processTable();
  let total = 0;
  for (const [pid, p] of table) if (pid !== process.pid && inTree(table, pid, process.pid, skip)) total += p.rssBytes;
  return total;
}

interface Sample { t: number; frames: number; fps: number; tensors: number; tfBytes: number; jsHeap: number | null; rss: number }

async function sample(p: EnginePage, t0: number, skip: Set<number>): Promise<Sample> {
  const s = await p.evaluate(() => {
    const fps = document.querySelector('[data-testid="webcam-fps"]');
    const mem = document.querySelector('[data-testid="memory"]');
    // A full collection first where the engine lets a page ask for one (Chromium with --expose-gc): the live heap, not garbage.
    (globalThis as { gc?: () => void }).gc?.();
    const heap = (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? null;
    return { frames: Number(fps?.getAttribute('data-frames') ?? NaN), fps: parseInt(fps?.textContent ?? 'NaN'), tensors: Number(mem?.getAttribute('data-tensors') ?? NaN), tfBytes: Number(mem?.getAttribute('data-bytes') ?? NaN), jsHeap: heap };
  });
  return { t: (Date.now() - t0) / 1000, ...s, rss: browserRss(skip) };
}

const mb = (b: number | null) => (b === null ? 'n/a' : `${(b / 2 ** 20).toFixed(1)} MB`);
const row = (s: Sample) => `${s.t.toFixed(0).padStart(5)} s  ${String(s.frames).padStart(7)} frames  ${String(s.fps).padStart(3)} frames/s  ${String(s.tensors).padStart(4)} tensors (${mb(s.tfBytes)})  JS heap ${mb(s.jsHeap)}  browser RSS ${mb(s.rss)}`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const port = Number(values.port);
const server = await startPreview(port);
const browser = await launchEngine(engine, { exposeGc: true });
let grew = false;
try {
  const page = await browser.newPage();
  const skip = new Set<number>(); // the preview server is ours but not the browser's
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try { if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(`--port\0${port}`)) skip.add(Number(d)); } catch { /* gone */ }
  }
  await page.goto(`${server.url}?backend=${values.backend}`);
  const until = async (fn: () => boolean, what: string, ms = 120_000) => {
    const end = Date.now() + ms;
    while (!(await page.evaluate(fn))) {
      if (Date.now() > end) throw new Error(`waited ${ms / 1000} s for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  await until(() => document.querySelector('section.pool[data-status="ready"]') !== null, 'the pool');
  const classes = values.classes.split(',');
  for (const c of classes) await page.click(`input[data-task="${c}"], input[data-class="${c}"]`);
  await until(() => document.querySelector('[data-testid="model-classes"]') !== null, 'the model');
  await page.click('[data-testid="webcam-start"]');
  await until(() => Number(document.querySelector('[data-testid="webcam-fps"]')?.getAttribute('data-frames') ?? 0) > 60
    && document.querySelector('[data-testid="memory"]') !== null, 'the first 60 frames');
  console.log(`soak: ${browser.version}, ${values.backend}, classes ${classes.join(', ')}, ${minutes} min, a sample every ${every} s`);
  const t0 = Date.now();
  const samples: Sample[] = [await sample(page, t0, skip)];
  console.log(row(samples[0]));
  while (Date.now() - t0 < minutes * 60_000) {
    await new Promise((r) => setTimeout(r, Math.min(every * 1000, minutes * 60_000 - (Date.now() - t0))));
    samples.push(await sample(page, t0, skip));
    console.log(row(samples.at(-1)!));
  }
  // Growth is judged over the second half of the run: the first half holds the warm-up (JIT, caches,
  // the allocator's first arenas), which grows memory in steps and then stops; a leak keeps growing.
  // Start and end: the median of three samples at the middle and of the last three.
  const from = Math.min(Math.floor(samples.length / 2) - 1, Math.max(0, samples.length - 6));
  const head = samples.slice(from, from + 3);
  const tail = samples.slice(-3);
  const frames = samples.at(-1)!.frames - samples[0].frames;
  const rate = frames / (samples.at(-1)!.t - samples[0].t);
  const growth = (f: (s: Sample) => number | null) => {
    if (f(samples[0]) === null) return null;
    const a = median(head.map((s) => f(s)!));
    const b = median(tail.map((s) => f(s)!));
    return (b - a) / a;
  };
  const tensorsGrew = samples.at(-1)!.tensors > head[0].tensors;
  const heapGrowth = growth((s) => s.jsHeap);
  const rssGrowth = growth((s) => s.rss)!;
  grew = tensorsGrew || rssGrowth > 0.1 || (heapGrowth ?? 0) > 0.1;
  const pct = (g: number | null) => (g === null ? 'n/a' : `${g >= 0 ? '+' : ''}${(100 * g).toFixed(1)} %`);
  console.log(`soak ${engine}: ${frames} frames in ${(samples.at(-1)!.t - samples[0].t).toFixed(0)} s (${rate.toFixed(1)} frames/s); ` +
    `tensors ${head[0].tensors} -> ${samples.at(-1)!.tensors}; from ${head[0].t.toFixed(0)} s on: JS heap ${pct(heapGrowth)}; browser RSS ${mb(median(head.map((s) => s.rss)))} -> ${mb(median(tail.map((s) => s.rss)))} (${pct(rssGrowth)}): ` +
    (grew ? 'GREW' : 'no growth'));
} finally {
  await browser.close();
  await server.close();
}
process.exit(grew ? 1 : 0);
