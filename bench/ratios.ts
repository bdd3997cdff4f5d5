// The ratio section of `npm run bench`: TF.js (compiled plan), TF.js (LayersModel.predict), ONNX Runtime
// Web and PyTorch on the 5-expert model, each in a process of its own that waits idle between blocks.
// Per batch size and thread count, every repetition runs one short block of each peer, in an order
// rotated each time; a ratio is the median of the per-repetition ratios. The CPU used outside the
// bench during each block is measured, and repetitions taken beside foreign load are dropped and counted.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../harness/chromium';
import type { PreviewServer } from '../harness/previewServer';
import { stat, type Stat } from '../src/bench/benchmark';
import type { Block, PeerKind } from '../src/bench/peer';
import { REPO_ROOT } from '../cli/lib/paths';
import { withForeignLoad } from './load';

export type PeerName = 'plan' | 'layers' | 'ort' | 'pytorch';
const PEERS: PeerName[] = ['plan', 'layers', 'ort', 'pytorch'];

interface Peer {
  name: PeerName;
  runtime: string;
  block(batch: number, ms: number): Promise<Block>;
  close(): Promise<void>;
}

export interface RatioOptions {
  threads: number[];
  batches: number[];
  repetitions: number;
  passes: number;
  /** Foreign CPU (cores) above which a block's repetition is dropped. */
  maxForeignCores: number;
  log: (s: string) => void;
}

export interface ConfigFigures {
  batch: number;
  threads: number;
  /** Images per second per peer, over the kept repetitions. */
  rates: Record<PeerName, Stat>;
  /** plan / each other peer, the median (min, max) of per-repetition ratios. */
  ratios: Record<Exclude<PeerName, 'plan'>, Stat>;
  kept: number;
  dropped: number;
  /** The foreign load seen in each block, cores (kept and dropped). */
  foreignCores: Stat;
}

export interface PassFigures {
  configs: ConfigFigures[];
  /** GFLOP/s of TF.js's 1024^3 matMul per thread count, and the plan's at batch 32 as a share of it. */
  ceiling: { threads: number; gflops: Stat; modelGflops: number; share: number }[];
}

export interface RatioFigures {
  runtimes: Record<string, string>;
  flopsPerImage: number;
  passes: PassFigures[];
  /** Per ratio, the largest relative difference between passes: (max - min) / mean of the pass medians. */
  spread: { batch: number; threads: number; ratio: string; values: number[]; spread: number }[];
}

async function browserPeer(base: string, kind: PeerKind, threads: number): Promise<Peer & { ceiling(ms: number): Promise<number>; flops: number }> {
  const browser: Browser = await launchChromium([], { webgpu: false });
  const page: Page = await browser.newPage();
  await page.goto(`${base}bench.html?peer=${kind}&threads=${threads}`);
  await page.waitForFunction(() => window.benchPeer || window.benchError, null, { timeout: 120_000, polling: 200 });
  const err = await page.evaluate(() => window.benchError);
  if (err) throw new Error(`bench peer ${kind} (${threads} threads): ${err}`);
  const info = await page.evaluate(() => ({ runtime: window.benchPeer!.runtime, flops: window.benchPeer!.flops }));
  return {
    name: kind,
    ...info,
    block: (batch, ms) => page.evaluate(([b, m]) => window.benchPeer!.block(b, m), [batch, ms] as const),
    ceiling: (ms) => page.evaluate((m) => window.benchPeer!.ceiling(m), ms),
    close: () => browser.close(),
  };
}

async function pytorchPeer(poolDir: string): Promise<Peer & { setThreads(t: number): void }> {
  const proc: ChildProcessWithoutNullStreams = spawn('/usr/bin/python3', [path.join(REPO_ROOT, 'experts', 'tools', 'bench_peer.py'), '--pool', poolDir, '--experts', '5']);
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error(`the PyTorch peer stopped: ${stderr.slice(-500)}`);
    return JSON.parse(value as string);
  };
  const ready = await next();
  let threads = 1;
  return {
    name: 'pytorch',
    runtime: ready.ready,
    setThreads: (t) => void (threads = t),
    block: async (batch, ms) => {
      proc.stdin.write(`${JSON.stringify({ batch, threads, ms })}\n`);
      const r = await next();
      if (r.threads !== threads) throw new Error(`PyTorch ran ${r.threads} threads, not ${threads}`);
      return { images: r.images, seconds: r.seconds };
    },
    close: async () => {
      proc.stdin.end();
      await new Promise((r) => proc.once('exit', r));
    },
  };
}

const rotate = <T>(xs: T[], k: number) => xs.map((_, i) => xs[(i + k) % xs.length]);

export async function measureRatios(preview: PreviewServer, poolDir: string, o: RatioOptions): Promise<RatioFigures> {
  o.log('  ratio peers: 3 Chromium pages per thread count and one PyTorch process…');
  const torch = await pytorchPeer(poolDir);
  const browserPeers = new Map<number, Awaited<ReturnType<typeof browserPeer>>[]>();
  const runtimes: Record<string, string> = { pytorch: torch.runtime };
  let flopsPerImage = 0;
  try {
    for (const t of o.threads) {
      const peers = [];
      for (const kind of ['plan', 'layers', 'ort'] as PeerKind[]) peers.push(await browserPeer(preview.url, kind, t));
      browserPeers.set(t, peers);
      for (const p of peers) runtimes[`${p.name} ${t}t`] = p.runtime;
      flopsPerImage = peers[0].flops;
    }
    const passes: PassFigures[] = [];
    for (let pass = 0; pass < o.passes; pass++) {
      const configs: ConfigFigures[] = [];
      const ceiling: PassFigures['ceiling'] = [];
      for (const t of o.threads) {
        torch.setThreads(t);
        const peers: Peer[] = [...browserPeers.get(t)!, torch];
        const byName = new Map(peers.map((p) => [p.name, p]));
        const gflops: number[] = [];
        for (let i = 0; i < 3; i++) {
          const { result, foreignCores } = await withForeignLoad(() => browserPeers.get(t)![0].ceiling(1000));
          if (foreignCores <= o.maxForeignCores) gflops.push(result);
        }
        for (const batch of o.batches) {
          const ms = batch === 1 ? 500 : 600;
          for (const p of peers) await p.block(batch, ms); // warm-up, discarded
          const rates: Record<PeerName, number[]> = { plan: [], layers: [], ort: [], pytorch: [] };
          const foreign: number[] = [];
          let kept = 0, dropped = 0;
          for (let attempt = 0; kept < o.repetitions && attempt < 3 * o.repetitions; attempt++) {
            const rep: Partial<Record<PeerName, number>> = {};
            let loaded = false;
            for (const name of rotate(PEERS, attempt)) {
              const { result, foreignCores } = await withForeignLoad(() => byName.get(name)!.block(batch, ms));
              foreign.push(foreignCores);
              if (foreignCores > o.maxForeignCores) loaded = true;
              rep[name] = result.images / result.seconds;
            }
            if (loaded) {
              dropped++;
              continue;
            }
            kept++;
            for (const name of PEERS) rates[name].push(rep[name]!);
          }
          if (kept === 0) throw new Error(`every repetition at batch ${batch}, ${t} threads ran beside foreign CPU load over ${o.maxForeignCores} cores: the machine is busy`);
          const per = (other: PeerName) => stat(rates.plan.map((v, i) => v / rates[other][i]));
          configs.push({
            batch, threads: t, kept, dropped, foreignCores: stat(foreign),
            rates: { plan: stat(rates.plan), layers: stat(rates.layers), ort: stat(rates.ort), pytorch: stat(rates.pytorch) },
            ratios: { layers: per('layers'), ort: per('ort'), pytorch: per('pytorch') },
          });
          o.log(`  pass ${pass + 1}, batch ${batch}, ${t} thread(s): plan ${stat(rates.plan).median.toFixed(0)} img/s; ` +
            `x${per('ort').median.toFixed(2)} ORT, x${per('pytorch').median.toFixed(2)} PyTorch, x${per('layers').median.toFixed(2)} layers (${kept} kept, ${dropped} dropped)`);
        }
        const b32 = configs.find((c) => c.threads === t && c.batch === Math.max(...o.batches))!;
        const g = stat(gflops.length ? gflops : [NaN]);
        const modelGflops = (b32.rates.plan.median * flopsPerImage) / 1e9;
        ceiling.push({ threads: t, gflops: g, modelGflops, share: modelGflops / g.median });
      }
      passes.push({ configs, ceiling });
    }
    const spread: RatioFigures['spread'] = [];
    for (const c of passes[0].configs)
      for (const ratio of ['ort', 'pytorch', 'layers'] as const) {
        const values = passes.map((p) => p.configs.find((x) => x.batch === c.batch && x.threads === c.threads)!.ratios[ratio].median);
        const mean = values.reduce((a, b) => a + b, 0) / values.length;
        spread.push({ batch: c.batch, threads: c.threads, ratio: `plan/${ratio}`, values, spread: (Math.max(...values) - Math.min(...values)) / mean });
      }
    return { runtimes, flopsPerImage, passes, spread };
  } finally {
    await torch.close();
    for (const peers of browserPeers.values()) for (const p of peers) await p.close();
  }
}
