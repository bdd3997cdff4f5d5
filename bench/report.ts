import type { BackendBench, Stat } from '../src/ml/benchmark';
import type { BrowserFigures } from './browser';
import type { TrainingBaseline } from './transferTfjs';

interface Results {
  machine: string;
  pool: { name: string; version: string; bytes: number };
  node: BackendBench[];
  browser: BrowserFigures | null;
  sizes: { experts: number; float32: number; float16: number; uint8: number }[];
  consolidatedTop1: { query: string[]; top1: number };
  training: TrainingBaseline[];
}

const f = (x: number, d = 1) => x.toFixed(d);
const s = (x: Stat, d = 1) => `${f(x.median, d)} (${f(x.min, d)}–${f(x.max, d)})`;
const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
const row = (cells: string[], widths: number[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');

export function report(r: Results): string {
  const out: string[] = [`PoE Studio benchmark — ${r.machine}`, `pool ${r.pool.name} v${r.pool.version}, ${kb(r.pool.bytes)}`, ''];
  const envs = [...r.node.map((b) => ({ env: `node ${b.backend}`, b })), ...(r.browser?.backends ?? []).map((b) => ({ env: `chromium ${b.backend}`, b }))];
  out.push('Query latency, ms: median (min–max). assemble = graph from a selection; weights = attaching the library and experts');
  out.push('(paid once per pool at load, shown cold); first = first prediction; total = selection -> first prediction, as in the app.');
  const w = [16, 20, 20, 20, 20, 20];
  out.push(row(['backend', 'query', 'assemble', 'weights (cold)', 'first inference', 'total'], w));
  for (const { env, b } of envs)
    for (const q of b.queries) out.push(row([env, q.query, s(q.assembleMs, 2), s(q.weightsMs), s(q.firstInferenceMs), s(q.totalMs)], w));
  out.push('', 'Inference, images/s: median (min–max)');
  out.push(row(['backend', 'experts', 'batch 1', 'batch 32'], [16, 8, 22, 22]));
  for (const { env, b } of envs)
    for (const n of [...new Set(b.throughput.map((t) => t.experts))]) {
      const t = (batch: number) => b.throughput.find((x) => x.experts === n && x.batch === batch)!.imagesPerSecond;
      out.push(row([env, String(n), s(t(1), 0), s(t(32), 0)], [16, 8, 22, 22]));
    }
  out.push('', 'Memory: tensors / bytes after building n=5, and after N frames');
  for (const { env, b } of envs)
    out.push(`  ${env.padEnd(16)} ${b.memory.afterBuild.tensors} / ${b.memory.afterBuild.bytes}  ->  after ${b.memory.frames} frames: ${b.memory.afterFrames.tensors} / ${b.memory.afterFrames.bytes}`);
  out.push('', 'Model size (model.json + weights + metadata)');
  for (const z of r.sizes) out.push(`  n=${String(z.experts).padEnd(3)} float32 ${kb(z.float32)}, float16 ${kb(z.float16)}, uint8 ${kb(z.uint8)}`);
  if (r.browser) {
    out.push('', `Pool loading in Chromium (ms): cold, network -> IndexedDB -> ready ${s(r.browser.poolLoadColdMs, 0)}; warm, IndexedDB -> ready ${s(r.browser.poolLoadWarmMs, 0)}`);
    out.push(`Webcam loop in Chromium (wasm, n=5, fake 30 fps camera): ${s(r.browser.webcamFps)} frames/s`);
    for (const [b, e] of Object.entries(r.browser.errors)) out.push(`chromium ${b} failed: ${e.split('\n')[0]}`);
  }
  const wasm = r.browser?.backends.find((b) => b.backend === 'wasm') ?? r.node.find((b) => b.backend === 'wasm')!;
  const where = r.browser?.backends.some((b) => b.backend === 'wasm') ? 'chromium wasm' : 'node wasm (no browser run)';
  const q2 = wasm.queries.find((q) => q.experts === r.consolidatedTop1.query.length && q.query.includes('expert'))!;
  out.push('', `Against per-query training: query ${r.consolidatedTop1.query.join(' + ')}, consolidated top-1 ${f(100 * r.consolidatedTop1.top1)} % in ${f(q2.totalMs.median)} ms (${where})`);
  const targets: [string, boolean, string][] = [];
  for (const t of r.training) {
    const secs = t.reachedTargetSeconds ?? t.seconds;
    const ratio = (secs * 1000) / q2.totalMs.median;
    const reached = t.reachedTargetSeconds !== null;
    out.push(`  ${t.framework}: ${reached ? `reached ${f(100 * t.target)} % after ${f(secs)} s` : `did not reach ${f(100 * t.target)} % within ${f(t.budgetSeconds, 0)} s (best ${f(100 * t.best)} %)`}, ${t.epochs} epochs -> consolidation is ${reached ? '' : 'at least '}${ratio.toFixed(0)}x faster`);
    targets.push([`>= 1000x faster than training (${t.framework.split(' ')[0]})`, ratio >= 1000, `${ratio.toFixed(0)}x`]);
  }
  for (const q of wasm.queries) {
    const limit = q.experts <= 5 ? 10 : q.experts >= 20 ? 25 : Infinity;
    if (limit !== Infinity && q.query.includes('expert')) targets.push([`query latency n=${q.experts} <= ${limit} ms (${where})`, q.totalMs.median <= limit, `${f(q.totalMs.median)} ms`]);
  }
  const b1 = wasm.throughput.find((t) => t.experts === 5 && t.batch === 1);
  if (b1) targets.push([`>= 300 images/s at batch 1, n=5 (${where})`, b1.imagesPerSecond.median >= 300, `${f(b1.imagesPerSecond.median, 0)} images/s`]);
  if (r.browser) targets.push(['warm pool load <= 100 ms', r.browser.poolLoadWarmMs.median <= 100, `${f(r.browser.poolLoadWarmMs.median, 0)} ms`]);
  const growth = envs.every(({ b }) => b.memory.afterFrames.tensors === b.memory.afterBuild.tensors && b.memory.afterFrames.bytes === b.memory.afterBuild.bytes);
  targets.push(['zero tensor growth over the frames, every backend', growth, growth ? 'none' : 'GROWTH']);
  out.push('', 'Targets');
  for (const [name, ok, value] of targets) out.push(`  ${ok ? 'MET   ' : 'MISSED'}  ${name}: ${value}`);
  return out.join('\n');
}
