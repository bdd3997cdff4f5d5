import type { Stat } from '../src/bench/benchmark';
import type { RatioFigures } from './ratios';

const f = (x: number, d = 2) => x.toFixed(d);
const s = (x: Stat, d = 2) => `${f(x.median, d)} (${f(x.min, d)}–${f(x.max, d)})`;
const verdict = (ok: boolean) => (ok ? 'MET' : 'MISSED');

/** The targets of issue 44, each checked in every pass. */
export function ratioTargets(r: RatioFigures): { target: string; figures: string; met: boolean }[] {
  const out: { target: string; figures: string; met: boolean }[] = [];
  const threads = [...new Set(r.passes[0].configs.map((c) => c.threads))];
  const most = Math.max(...threads);
  const each = (batch: number, t: number, ratio: 'ort' | 'pytorch', min: number) => {
    const values = r.passes.map((p) => p.configs.find((c) => c.batch === batch && c.threads === t)?.ratios[ratio].median);
    if (values.some((v) => v === undefined)) return;
    out.push({ target: `batch ${batch}, ${t} thread${t > 1 ? 's' : ''} each: TF.js >= ${min}x ${ratio === 'ort' ? 'ONNX Runtime Web' : 'PyTorch'}`,
      figures: values.map((v) => `${f(v!)}x`).join(', '), met: values.every((v) => v! >= min) });
  };
  for (const t of threads) each(1, t, 'ort', 1.25);
  for (const t of threads) each(1, t, 'pytorch', 4);
  each(32, most, 'pytorch', 0.9);
  for (const t of threads) each(32, t, 'ort', 1.25);
  for (const t of threads) {
    const shares = r.passes.map((p) => p.ceiling.find((c) => c.threads === t)!.share);
    out.push({ target: `batch 32, ${t} thread${t > 1 ? 's' : ''}: the model at >= 60 % of the wasm matMul ceiling`, figures: shares.map((v) => `${(100 * v).toFixed(0)} %`).join(', '), met: shares.every((v) => v >= 0.6) });
  }
  const worst = r.spread.reduce((a, b) => (b.spread > a.spread ? b : a), r.spread[0]);
  if (r.passes.length > 1)
    out.push({ target: 'every ratio within 10 % between passes', figures: `largest ${(100 * worst.spread).toFixed(1)} % (${worst.ratio}, batch ${worst.batch}, ${worst.threads} threads)`, met: worst.spread <= 0.1 });
  return out;
}

export function ratioReport(r: RatioFigures): string {
  const out = ['', 'Ratios on the 5-expert model (Chromium wasm; each peer in its own process, idle between blocks; per-repetition ratios,',
    `median (min–max); ${(r.flopsPerImage / 1e6).toFixed(1)} MFLOP an image). Runtimes: ${Object.entries(r.runtimes).map(([k, v]) => `${k}: ${v}`).join('; ')}`];
  r.passes.forEach((p, i) => {
    out.push(`pass ${i + 1}:`);
    for (const c of p.configs)
      out.push(`  batch ${String(c.batch).padStart(2)}, ${c.threads}t: plan ${f(c.rates.plan.median, 0)} img/s | x ORT ${s(c.ratios.ort)} | x PyTorch ${s(c.ratios.pytorch)} | x layers ${s(c.ratios.layers)} | ` +
        `${c.kept} kept, ${c.dropped} dropped (foreign load max ${f(c.foreignCores.max)} cores)`);
    for (const c of p.ceiling)
      out.push(`  ceiling ${c.threads}t: 1024^3 matMul ${f(c.gflops.median, 1)} GFLOP/s, model at batch 32 ${f(c.modelGflops, 1)} GFLOP/s = ${(100 * c.share).toFixed(0)} %`);
  });
  out.push('Targets (every pass):');
  for (const t of ratioTargets(r)) out.push(`  ${verdict(t.met).padEnd(6)} ${t.target}: ${t.figures}`);
  return out.join('\n');
}

/** Each ratio's mean over passes here against the previous run's (bench/results.json before this run): relative differences. */
export function againstPrevious(now: RatioFigures, before: RatioFigures | undefined): { ratio: string; batch: number; threads: number; before: number; now: number; difference: number }[] {
  if (!before?.spread) return [];
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return now.spread.flatMap((s) => {
    const old = before.spread.find((b) => b.ratio === s.ratio && b.batch === s.batch && b.threads === s.threads);
    if (!old) return [];
    const [a, b] = [mean(old.values), mean(s.values)];
    return [{ ratio: s.ratio, batch: s.batch, threads: s.threads, before: a, now: b, difference: Math.abs(b - a) / ((a + b) / 2) }];
  });
}

export function previousRunReport(rows: ReturnType<typeof againstPrevious>): string {
  if (!rows.length) return '';
  const worst = rows.reduce((a, b) => (b.difference > a.difference ? b : a));
  const out = ['Against the previous run in the results file (mean over passes, before -> now):'];
  for (const r of rows) out.push(`  batch ${String(r.batch).padStart(2)}, ${r.threads}t ${r.ratio.padEnd(12)} ${f(r.before)} -> ${f(r.now)} (${(100 * r.difference).toFixed(1)} %)`);
  out.push(`  ${verdict(worst.difference <= 0.1).padEnd(6)} every ratio within 10 % of the previous run: largest ${(100 * worst.difference).toFixed(1)} % (${worst.ratio}, batch ${worst.batch}, ${worst.threads} threads)`);
  return out.join('\n');
}
