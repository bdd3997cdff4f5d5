import { openPool, useNodeBackend } from './src/node.ts';
import { dataDir, readSplit } from './cli/lib/cifar';
await useNodeBackend('wasm');
const pool = await openPool('public/pools/cifar100');
const SPLIT = (process.env.SPLIT ?? 'val') as 'val';
const set = readSplit(dataDir(undefined), SPLIT);
const labels = Array.from(set.fine);
console.log('split', SPLIT, set.count);
const all = pool.manifest.experts.map((e) => e.name);
const c = pool.consolidate(all);
const t0 = Date.now();
const logits = await c.predictLogits(set.images, set.count);
console.log('full model', c.labels.length, 'classes', Date.now() - t0, 'ms');
const K = c.labels.length;
const colOfClass = new Map(c.plan.classIndices.map((k, j) => [k, j]));
const expertOf = new Map(pool.manifest.experts.flatMap((e) => e.classes.map((k) => [k, e.name])));
const six = ['large_omnivores_and_herbivores', 'medium_mammals', 'people', 'small_mammals', 'vehicles_1', 'vehicles_2'];
function subsets<T>(items: T[], k: number): T[][] { if (k === 0) return [[]]; if (items.length < k) return []; const [h, ...r] = items; return [...subsets(r, k - 1).map((s) => [h, ...s]), ...subsets(r, k)]; }
const lse = (row: Float32Array | number[], cols: number[]) => { let m = -Infinity; for (const j of cols) m = Math.max(m, row[j]); let s = 0; for (const j of cols) s += Math.exp(row[j] - m); return m + Math.log(s); };
function metrics(known: number[], unknown: number[]) {
  // higher score = more known
  const k = [...known].sort((a, b) => a - b); const thr = k[Math.floor(0.05 * k.length)];
  const fpr = unknown.filter((u) => u >= thr).length / unknown.length;
  // AUROC via ranks
  let auc = 0; const u = [...unknown].sort((a, b) => a - b); let j = 0;
  for (const x of k) { while (j < u.length && u[j] < x) j++; auc += j; }
  return { auroc: auc / (k.length * u.length), fpr95: fpr };
}
for (const n of [2, 3, 4, 5, 6]) {
  const res: Record<string, { a: number; f: number }> = {};
  const qs = subsets(six, n);
  for (const q of qs) {
    const selCols = c.plan.classIndices.flatMap((k, j) => (q.includes(expertOf.get(k)!) ? [j] : []));
    const allCols = Array.from({ length: K }, (_, j) => j);
    const scores: Record<string, { known: number[]; unknown: number[] }> = Object.fromEntries(['msp','energy','pool','poolmax','T05','T2','T3','T15'].map((k) => [k, { known: [], unknown: [] }]));
    for (let i = 0; i < set.count; i++) {
      const row = logits.subarray(i * K, (i + 1) * K);
      const isKnown = q.includes(expertOf.get(labels[i])!);
      const sel = lse(row, selCols);
      let selMax = -Infinity; for (const j of selCols) selMax = Math.max(selMax, row[j]);
      let allMax = -Infinity; for (let j = 0; j < K; j++) allMax = Math.max(allMax, row[j]);
      const sc = (T: number) => { const r = Array.from(row, (x) => x / T); return lse(r, selCols) - lse(r, allCols); };
      const v = { msp: 0, energy: sel, pool: sel - lse(row, allCols), poolmax: selMax - allMax, T05: sc(0.5), T2: sc(2), T3: sc(3), T15: sc(1.5) };
      // msp: max softmax over selected = exp(selMax - lse(sel)); use log: selMax - sel
      v.msp = selMax - sel;
      for (const key of Object.keys(v) as (keyof typeof v)[]) scores[key][isKnown ? 'known' : 'unknown'].push(v[key]);
    }
    for (const key of Object.keys(scores)) { const m = metrics(scores[key].known, scores[key].unknown); res[key] ??= { a: 0, f: 0 }; res[key].a += m.auroc / qs.length; res[key].f += m.fpr95 / qs.length; }
  }
  console.log('n', n, Object.entries(res).map(([k, v]) => `${k}: AUROC ${(100 * v.a).toFixed(1)} FPR95 ${(100 * v.f).toFixed(1)}`).join(' | '));
}
