import { consolidate } from '../src/ml/consolidate';
import { isPoeError, PoeError } from '../src/ml/errors';
import { measureAccuracy } from '../src/ml/accuracy';
import type { LoadedPool } from '../src/ml/poolModels';
import { fatal, parseArgs } from './lib/args';
import { dataDir, readTestSplit, type CifarSplit } from './lib/cifar';
import { loadPoolFromDir } from './lib/folderSource';
import { useNodeBackend, type NodeBackend } from './lib/nodeBackend';
import { DEFAULT_POOL_DIR } from './lib/paths';

const USAGE = `usage: npm run evaluate -- --query people,vehicles_1,vehicles_2 [--pool DIR] [--data DIR] [--json]
       npm run evaluate -- --combinations a,b,c,d,e,f --size 3 [--json]

Top-1 accuracy of the consolidated model on the CIFAR-100 test images of the queried classes.
--combinations evaluates every --size subset of the names and prints the mean and standard deviation.
--backend wasm (default) or cpu.`;

interface QueryResult { query: string[]; classes: number; images: number; top1: number; crossExpertErrors: number; buildMs: number }

async function evaluateQuery(pool: LoadedPool, test: CifarSplit, query: string[]): Promise<QueryResult> {
  const c = consolidate(pool, query);
  try {
    const r = await measureAccuracy(c, test.images, test.fine, pool.manifest.input.sizePx);
    return { query, classes: c.labels.length, images: r.images, top1: r.top1, crossExpertErrors: r.crossExpertErrors, buildMs: c.buildMs };
  } finally {
    c.dispose();
  }
}

function subsets<T>(items: T[], k: number): T[][] {
  if (k === 0) return [[]];
  if (items.length < k) return [];
  const [head, ...rest] = items;
  return [...subsets(rest, k - 1).map((s) => [head, ...s]), ...subsets(rest, k)];
}

const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);
const pct = (x: number) => (100 * x).toFixed(2);

async function main() {
  const args = parseArgs(process.argv.slice(2),
    { query: '', combinations: '', size: '', pool: DEFAULT_POOL_DIR, data: '', json: false, backend: 'wasm' }, USAGE);
  if (!args.query === !args.combinations) fatal('give exactly one of --query or --combinations', USAGE);
  if (args.backend !== 'wasm' && args.backend !== 'cpu') fatal(`--backend must be wasm or cpu, not "${args.backend}"`);
  let queries: string[][];
  if (args.query) queries = [list(args.query)];
  else {
    const names = list(args.combinations);
    const k = Number(args.size);
    if (!Number.isInteger(k) || k < 1 || k > names.length) fatal(`--size must be an integer from 1 to ${names.length} (the number of names given)`);
    queries = subsets(names, k);
  }
  if (queries.some((q) => q.length === 0)) throw new PoeError('SELECTION_EMPTY', 'The query names no class or superclass.');
  const test = readTestSplit(dataDir(args.data || undefined));
  await useNodeBackend(args.backend as NodeBackend);
  const pool = await loadPoolFromDir(args.pool);
  const results: QueryResult[] = [];
  for (const q of queries) {
    const r = await evaluateQuery(pool, test, q);
    results.push(r);
    if (!args.json) console.log(`${pct(r.top1)} %  top-1 on ${r.images} test images of ${r.classes} classes  [${q.join(', ')}]  (cross-expert errors ${r.crossExpertErrors}, built in ${r.buildMs.toFixed(1)} ms)`);
  }
  const accs = results.map((r) => r.top1);
  const mean = accs.reduce((a, b) => a + b, 0) / accs.length;
  const std = accs.length > 1 ? Math.sqrt(accs.reduce((a, b) => a + (b - mean) ** 2, 0) / (accs.length - 1)) : 0;
  const summary = { pool: { name: pool.manifest.name, version: pool.manifest.version }, backend: args.backend, queries: results.length, meanTop1: mean, stdTop1: std, results };
  if (args.json) console.log(JSON.stringify(summary, null, 2));
  else if (results.length > 1) console.log(`mean top-1 ${pct(mean)} % ± ${pct(std)} (sample std) over ${results.length} queries of size ${queries[0].length}`);
}

main().catch((e) => fatal(isPoeError(e) ? `${e.message} [${e.code}]` : (e as Error).stack ?? String(e)));
