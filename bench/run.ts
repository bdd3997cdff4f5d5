// npm run bench: query latency, inference speed, pool loading, sizes and memory in Node and headless
// Chromium, against per-query training (TF.js and PyTorch), measured side by side in one run, and the
// ratio section (bench/ratios.ts): TF.js against ONNX Runtime Web and PyTorch, each in its own process.
// Prints tables and writes bench/results.json. `--only ratios` measures the ratio section alone.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { benchBackend, type BackendBench } from '../src/bench/benchmark';
import { modelFlops } from '../src/bench/flops';
import { onnxModel } from '../src/ml/export/onnxExport';
import { openPool, useNodeBackend } from '../src/node';
import { fatal, parseArgs } from '../cli/lib/args';
import { startPreview } from '../harness/previewServer';
import { dataDir, readTestSplit } from '../cli/lib/cifar';
import { DEFAULT_POOL_DIR, REPO_ROOT } from '../cli/lib/paths';
import { benchBrowser, type BrowserFigures } from './browser';
import { report, type PytorchPeer, type TrainingBaseline } from './report';
import { measureRatios, type RatioFigures } from './ratios';
import { againstPrevious, previousRunReport, ratioReport } from './ratioReport';

const USAGE = 'usage: npm run bench -- [--pool DIR] [--data DIR] [--skip-browser] [--skip-training] [--budget-s 600] [--only ratios] [--passes 2] [--repetitions 12] [--out bench/results.json]';
const args = parseArgs(process.argv.slice(2),
  { pool: DEFAULT_POOL_DIR, data: '', 'skip-browser': false, 'skip-training': false, 'budget-s': '600', only: '', passes: '2', repetitions: '12', out: path.join(REPO_ROOT, 'bench', 'results.json') }, USAGE);
if (args.only && args.only !== 'ratios') fatal(`--only takes "ratios", not "${args.only}"`, USAGE);
const RATIO_PORT = 4186;

async function ratios(): Promise<RatioFigures> {
  log('ratios: TF.js, ONNX Runtime Web and PyTorch, each in its own process…');
  const preview = await startPreview(RATIO_PORT);
  try {
    return await measureRatios(preview, args.pool, { threads: [1, 2], batches: [1, 32], repetitions: Number(args.repetitions), passes: Number(args.passes), maxForeignCores: 0.25, log });
  } finally {
    await preview.close();
  }
}

/** --only ratios: measures the ratio section alone and replaces it in an existing results file. */
async function onlyRatios() {
  const r = await ratios();
  const previous = existsSync(args.out) ? JSON.parse(readFileSync(args.out, 'utf8')) : {};
  const vsPrevious = againstPrevious(r, previous.ratios);
  writeFileSync(args.out, JSON.stringify({ ...previous, ratios: r, ratiosDate: new Date().toISOString(), ratiosAgainstPreviousRun: vsPrevious }, null, 2));
  console.log(ratioReport(r));
  console.log(previousRunReport(vsPrevious));
  console.log(`\nwrote the ratios into ${path.relative(process.cwd(), args.out)}`);
}
const log = (s: string) => console.error(s);
const TRAINING_QUERY = ['people', 'vehicles_1'];

async function main() {
  const started = Date.now();
  await useNodeBackend('wasm');
  const pool = await openPool(args.pool);
  const data = dataDir(args.data || undefined);
  const node: BackendBench[] = [];
  for (const backend of ['wasm', 'cpu'] as const) {
    log(`node ${backend}…`);
    await useNodeBackend(backend);
    pool.prepare();
    node.push(await benchBackend(pool, { quick: backend === 'cpu' }));
  }
  await useNodeBackend('wasm');

  log('sizes and FLOPs…');
  const sizes = [] as { experts: number; float32: number; float16: number; uint8: number; onnxFloat32: number; onnxFloat16: number; flops: number }[];
  for (const n of [1, 5, 20].filter((k) => k <= pool.manifest.experts.length)) {
    const c = pool.consolidate(pool.manifest.experts.slice(0, n).map((e) => e.name));
    const row = { experts: n, float32: 0, float16: 0, uint8: 0, flops: modelFlops(c.model),
      onnxFloat32: onnxModel(c, pool.manifest, 'float32').byteLength, onnxFloat16: onnxModel(c, pool.manifest, 'float16').byteLength };
    for (const p of ['float32', 'float16', 'uint8'] as const) {
      const f = await c.export(p);
      row[p] = f['weights.bin'].byteLength + f['model.json'].length + f['metadata.json'].length;
    }
    sizes.push(row);
    c.dispose();
  }

  const training: TrainingBaseline[] = [];
  const test = readTestSplit(data);
  const c = pool.consolidate(TRAINING_QUERY);
  const target = (await c.evaluate(test.images, test.fine)).top1;
  c.dispose();
  if (!args['skip-training']) {
    const budget = Number(args['budget-s']);
    log(`Transfer baseline, the tuned recipe of experts/RESULTS.md (target ${(100 * target).toFixed(1)} %, budget ${budget} s each)…`);
    const pyTrain = spawnSync('/usr/bin/python3', [path.join(REPO_ROOT, 'experts', 'tools', 'bench_transfer.py'), '--pool', args.pool, '--query', TRAINING_QUERY.join(','),
      '--target', String(target), '--budget-s', String(budget), ...(args.data ? ['--data', args.data] : [])], { encoding: 'utf8' });
    if (pyTrain.status === 0) training.push(JSON.parse(pyTrain.stdout));
    else log(`PyTorch baseline failed: ${pyTrain.stderr.slice(-500)}`);
  }

  log('PyTorch inference peer…');
  const py = spawnSync('/usr/bin/python3', [path.join(REPO_ROOT, 'experts', 'tools', 'bench_inference.py'), '--pool', args.pool], { encoding: 'utf8' });
  if (py.status !== 0) throw new Error(`PyTorch inference peer failed: ${py.stderr.slice(-500)}`);
  const pytorch = JSON.parse(py.stdout) as PytorchPeer;

  let browser: BrowserFigures | null = null;
  let ratioFigures: RatioFigures | null = null;
  if (!args['skip-browser']) {
    log('headless chromium…');
    browser = await benchBrowser(log);
    ratioFigures = await ratios();
  }
  const results = {
    date: new Date().toISOString(),
    machine: `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, TF.js ${tf.version.tfjs}`,
    pool: { name: pool.manifest.name, version: pool.manifest.version, bytes: pool.bytes },
    node, browser, pytorch, sizes, consolidatedTop1: { query: TRAINING_QUERY, top1: target }, training, ratios: ratioFigures,
    seconds: (Date.now() - started) / 1000,
  };
  const previous = existsSync(args.out) ? JSON.parse(readFileSync(args.out, 'utf8')) : {};
  const vsPrevious = ratioFigures ? againstPrevious(ratioFigures, previous.ratios) : [];
  mkdirSync(path.dirname(args.out), { recursive: true });
  writeFileSync(args.out, JSON.stringify({ ...results, ratiosAgainstPreviousRun: vsPrevious }, null, 2));
  console.log(report(results));
  if (ratioFigures) console.log(`${ratioReport(ratioFigures)}\n${previousRunReport(vsPrevious)}`);
  console.log(`\nwrote ${path.relative(process.cwd(), args.out)} (${results.seconds.toFixed(0)} s)`);
}

(args.only ? onlyRatios() : main()).catch((e) => {
  console.error(e);
  process.exit(1);
});
