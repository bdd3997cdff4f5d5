import { isPoeError, PoeError } from '../src/ml/errors';
import { pickImages } from '../src/ml/run/imageInput';
import { openPool, useNodeBackend, type NodeBackend, type Pool } from '../src/node';
import { fatal, parseArgs } from './lib/args';
import { dataDir, readSplit } from './lib/cifar';
import { readTestSet, type TestSet } from './lib/testSet';
import { evaluateCustom } from './lib/customEval';
import type { Calibration } from '../src/ml/custom/customTrain';
import { DEFAULT_POOL_DIR } from './lib/paths';
import { poolCalibration } from './lib/calibration';
import { evaluateTflite, withoutCalibrationImages, type TfliteResult } from './lib/tfliteEval';
import type { TflitePrecision } from '../src/ml/export/tflite/export';
import { detectorCost, evaluateUnknown, poolLogits, type UnknownResult } from './lib/unknownEval';
import { UNKNOWN_TEMPERATURE } from '../src/ml/graph/consolidate';
import { loadSample } from '../src/io/sample';
import { folderSource } from '../src/node';

const USAGE = `usage: npm run evaluate -- --query people,vehicles_1,vehicles_2 [--pool DIR] [--data DIR] [--json]
       npm run evaluate -- --combinations a,b,c,d,e,f --size 3 [--json]

Top-1 accuracy of the consolidated model on the test images of the queried classes. --data names the
dataset the pool was built from: CIFAR-100 binary files (the default), IDX files (t10k-*-ubyte[.gz]) or an
image folder (test/<class>/*.png|jpg), scaled to the pool's input as the app scales images.
--combinations evaluates every --size subset of the names and prints the mean and standard deviation.
--backend wasm (default) or cpu.
--format tflite [--precision float32,float16,int8] exports each query as .tflite files, runs them with
Google's LiteRT.js and prints their top-1 beside the TF.js model's, on the test images minus the pool's
sample images (int8 calibrates on those, as the app does). --no-equalize skips int8's cross-layer
equalisation (to measure what it brings).
--unknown measures the "none of these" detector: known = the query's test images, unknown = every
other test image; AUROC and FPR at 95 % TPR for max softmax, energy and the pool's p(known), the known
images' top-1, and the threshold the app calibrates on the pool's sample (whose images are left out).
--report-split val measures on the CIFAR-100 validation split instead (where settings are chosen);
--temperature T scores with another temperature than the app's (2). It also times the first query's model
at batch 1 with and without the detector.

       npm run evaluate -- --query people,vehicles_1 --custom apple --shots 20 [--json]
--custom CLASS treats a CIFAR-100 class outside the query as the user's own class: trains a custom
expert on --shots of its training images (negatives: --negatives-per-class training images of each
other class), then reports the new class's recall and the query's top-1 before and after, beside a
Teachable-Machine-style head trained on --shots images of every class. --report-split val measures on
the validation split (for choosing settings); --calibration none,stats,joint compares calibrations;
--steps, --lr, --hidden, --stats-weight, --neg-weight, --margin, --negatives-per-step, --seed override the training settings.`;

interface QueryResult { query: string[]; classes: number; images: number; top1: number; crossExpertErrors: number; buildMs: number }

/** The test images of the pool's classes, labelled by pool class index (images of other classes left out). */
function poolTestImages(pool: Pool, set: TestSet): { images: Uint8Array; labels: number[] } {
  const index = new Map(pool.manifest.classes.map((c) => [c.name, c.index]));
  const keep = set.labels.flatMap((l, i) => (index.has(l) ? [i] : []));
  if (!keep.length) throw new PoeError('DATA_MISSING', `None of the test images belongs to a class of the pool ${pool.manifest.name} (the data's classes: ${[...new Set(set.labels)].slice(0, 5).join(', ')}, ...).`);
  const per = set.images.length / set.count;
  return { images: pickImages(set.images, per, keep), labels: keep.map((i) => index.get(set.labels[i])!) };
}

async function evaluateQuery(pool: Pool, test: { images: Uint8Array; labels: number[] }, query: string[]): Promise<QueryResult> {
  const c = pool.consolidate(query);
  try {
    const r = await c.evaluate(test.images, test.labels);
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
    { query: '', combinations: '', size: '', pool: DEFAULT_POOL_DIR, data: '', json: false, backend: 'wasm',
      format: 'tfjs', precision: 'float32,int8', 'no-equalize': false, unknown: false, temperature: '', custom: '', shots: '20', 'negatives-per-class': '20', calibration: 'none,stats,joint', 'report-split': 'test',
      steps: '', lr: '', hidden: '', 'stats-weight': '', 'neg-weight': '', margin: '', 'negatives-per-step': '', seed: '1' }, USAGE);
  if (args.custom) return mainCustom(args);
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
  await useNodeBackend(args.backend as NodeBackend);
  const pool = await openPool(args.pool);
  if (args.unknown) return mainUnknown(pool, queries, args);
  const test = poolTestImages(pool, readTestSet(dataDir(args.data || undefined), pool.manifest));
  if (args.format === 'tflite') return mainTflite(pool, test, queries, String(args.precision), String(args.pool), Boolean(args.json), String(args.backend), !args['no-equalize']);
  if (args.format !== 'tfjs') fatal(`--format must be tfjs (the in-memory model) or tflite, not "${args.format}"`);
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

async function mainUnknown(pool: Pool, queries: string[][], args: Record<string, string | boolean>) {
  const split = String(args['report-split']);
  if (split !== 'test' && split !== 'val') fatal('--report-split must be test or val');
  const sample = await loadSample(folderSource(String(args.pool)));
  let data: { images: Uint8Array; labels: number[] };
  let about: string;
  if (split === 'val') {
    const v = readSplit(dataDir(String(args.data) || undefined), 'val');
    data = { images: v.images, labels: Array.from(v.fine) };
    about = `${v.count} validation images (the last 5,000 of the training set)`;
  } else {
    const all = poolTestImages(pool, readTestSet(dataDir(String(args.data) || undefined), pool.manifest));
    const cal = sample ? { images: sample.images, count: sample.count, about: '', sample } : { images: new Uint8Array(0), count: 0, about: '', sample: null };
    const kept = withoutCalibrationImages(all, cal);
    data = kept;
    about = `${kept.labels.length} test images (${kept.removed} left out: the pool's sample images, which set the threshold)`;
  }
  if (!args.json) console.log(about);
  const temperature = args.temperature === '' ? UNKNOWN_TEMPERATURE : Number(args.temperature);
  if (!(temperature > 0)) fatal('--temperature must be a positive number');
  // The pool's logits once; each query's scores are columns of them (the detector's own graph is held equal to this in tests).
  const all = await poolLogits(pool, data);
  const onSample = sample ? await poolLogits(pool, { images: sample.images, labels: sample.labels }) : null;
  const results: UnknownResult[] = [];
  for (const q of queries) {
    const r = evaluateUnknown(pool, all, q, onSample, temperature);
    results.push(r);
    if (!args.json) console.log(`[${q.join(', ')}] ${r.known} known, ${r.unknown} unknown; known top-1 ${pct(r.knownTop1)} %; AUROC / FPR95: `
      + Object.entries(r.scores).map(([k, v]) => `${k} ${pct(v.auroc)} / ${pct(v.fpr95)} %`).join(', ')
      + (r.calibrated ? `; calibrated on the sample: keeps ${pct(r.calibrated.knownKept)} % of known, rejects ${pct(r.calibrated.unknownRejected)} % of unknown` : ''));
  }
  const mean = (f: (r: UnknownResult) => number) => results.reduce((a, r) => a + f(r), 0) / results.length;
  const cost = await detectorCost(pool, queries[0], data.images, Math.min(200, data.labels.length));
  const summary = {
    temperature, costBatch1ImagesPerSecond: { query: queries[0], modelAlone: cost.plain, withDetector: cost.detector },
    knownTop1: mean((r) => r.knownTop1),
    ...Object.fromEntries((['maxSoftmax', 'energy', 'pool'] as const).map((k) => [k, { auroc: mean((r) => r.scores[k].auroc), fpr95: mean((r) => r.scores[k].fpr95) }])),
    ...(results[0].calibrated ? { calibrated: { knownKept: mean((r) => r.calibrated!.knownKept), unknownRejected: mean((r) => r.calibrated!.unknownRejected) } } : {}),
  } as Record<string, unknown>;
  if (args.json) return console.log(JSON.stringify({ pool: { name: pool.manifest.name, version: pool.manifest.version }, split, images: about, queries: results.length, summary, results }, null, 2));
  const s = summary as { knownTop1: number; maxSoftmax: { auroc: number; fpr95: number }; energy: { auroc: number; fpr95: number }; pool: { auroc: number; fpr95: number } };
  console.log(`mean over ${results.length} queries: known top-1 ${pct(s.knownTop1)} %; AUROC / FPR95: max softmax ${pct(s.maxSoftmax.auroc)} / ${pct(s.maxSoftmax.fpr95)} %, `
    + `energy ${pct(s.energy.auroc)} / ${pct(s.energy.fpr95)} %, pool ${pct(s.pool.auroc)} / ${pct(s.pool.fpr95)} % (T = ${temperature})`);
  const c = summary.calibrated as { knownKept: number; unknownRejected: number } | undefined;
  if (c) console.log(`threshold calibrated on the sample: keeps ${pct(c.knownKept)} % of known, rejects ${pct(c.unknownRejected)} % of unknown`);
  console.log(`batch 1 [${queries[0].join(', ')}]: ${cost.plain.toFixed(0)} images/s alone, ${cost.detector.toFixed(0)} with the detector (${(cost.detector / cost.plain).toFixed(2)}x)`);
}

async function mainTflite(pool: Pool, all: { images: Uint8Array; labels: number[] }, queries: string[][], precisionList: string, poolDir: string, json: boolean, backend: string, equalize: boolean) {
  const precisions = list(precisionList) as TflitePrecision[];
  if (!precisions.length || precisions.some((p) => !['float32', 'float16', 'int8'].includes(p))) fatal('--precision takes float32, float16 and/or int8 with --format tflite');
  const cal = await poolCalibration(poolDir);
  const test = withoutCalibrationImages(all, cal);
  if (!json) console.log(`${test.labels.length} test images (${test.removed} left out: the ${cal.about}, which calibrate int8)`);
  const results: TfliteResult[] = [];
  for (const q of queries) {
    const r = await evaluateTflite(pool, test, q, precisions, cal, equalize);
    results.push(r);
    if (!json) console.log(`[${q.join(', ')}] ${r.images} images of ${r.classes} classes: TF.js ${pct(r.tfjsTop1)} %; `
      + r.tflite.map((t) => `${t.precision} ${pct(t.top1)} % (${Math.abs(t.dropPoints) < 0.005 ? '±' : t.dropPoints > 0 ? '-' : '+'}${Math.abs(t.dropPoints).toFixed(2)}, ${(t.bytes / 1024).toFixed(0)} KiB)`).join('; '));
  }
  const summary = precisions.map((p) => {
    const drops = results.map((r) => r.tflite.find((t) => t.precision === p)!.dropPoints);
    return { precision: p, meanDropPoints: drops.reduce((a, b) => a + b, 0) / drops.length, maxDropPoints: Math.max(...drops) };
  });
  if (json) console.log(JSON.stringify({ pool: { name: pool.manifest.name, version: pool.manifest.version }, backend, runtime: 'LiteRT.js (@litertjs/core, wasm)',
    testImages: test.labels.length, leftOut: test.removed, calibration: cal.about, int8Equalized: equalize, results, summary }, null, 2));
  else for (const s of summary) console.log(`${s.precision}: mean drop ${s.meanDropPoints.toFixed(2)} points, largest ${s.maxDropPoints.toFixed(2)} over ${results.length} queries`);
}

async function mainCustom(args: Record<string, string | boolean>) {
  if (!args.query) fatal('--custom needs --query', USAGE);
  const num = (key: string, min: number, integer = true) => {
    const v = Number(args[key]);
    if (!Number.isFinite(v) || v < min || (integer && !Number.isInteger(v))) fatal(`--${key} must be ${integer ? 'an integer' : 'a number'} >= ${min}`);
    return v;
  };
  const opt = (key: string, min: number, integer = true) => (args[key] === '' ? undefined : num(key, min, integer));
  const calibrations = list(String(args.calibration)) as Calibration[];
  if (!calibrations.length || calibrations.some((c) => !['none', 'stats', 'joint'].includes(c))) fatal('--calibration takes none, stats and/or joint');
  const split = String(args['report-split']);
  if (split !== 'test' && split !== 'val') fatal('--report-split must be test or val');
  const dir = dataDir(String(args.data) || undefined);
  const train = readSplit(dir, 'train');
  const report = readSplit(dir, split);
  await useNodeBackend(args.backend as NodeBackend);
  const pool = await openPool(String(args.pool));
  const r = await evaluateCustom(pool, train, report, {
    query: list(String(args.query)), custom: String(args.custom), shots: num('shots', 1), negativesPerClass: num('negatives-per-class', 1), calibrations,
    seed: num('seed', 0),
    train: { steps: opt('steps', 1), learningRate: opt('lr', 0, false), hidden: opt('hidden', 1), statsWeight: opt('stats-weight', 0, false),
      negativeWeight: opt('neg-weight', 0, false), margin: opt('margin', 0, false),
      negativesPerStep: opt('negatives-per-step', 1) },
  });
  const out = { pool: { name: pool.manifest.name, version: pool.manifest.version }, backend: args.backend, reportSplit: split, ...r };
  if (args.json) return console.log(JSON.stringify(out, null, 2));
  console.log(`custom class "${r.custom}" from ${r.shots} training images, beside [${r.query.join(', ')}] (${split} split; ${r.reportImages.others} + ${r.reportImages.mine} images)`);
  for (const c of r.calibrations)
    console.log(`  calibration ${c.calibration.padEnd(5)}: new-class recall ${pct(c.newClassRecall)} %, others' top-1 ${pct(r.othersTop1Before)} -> ${pct(c.othersTop1After)} %, cross-expert errors ${c.crossExpertErrors} (stolen ${c.stolen}, lost ${c.lost}), trained in ${c.trainSeconds.toFixed(2)} s`);
  console.log(`  baseline (one softmax head, ${r.shots} images per class): new-class recall ${pct(r.baseline.newClassRecall)} %, others' top-1 ${pct(r.baseline.othersTop1)} %, trained in ${r.baseline.trainSeconds.toFixed(2)} s`);
  console.log(`  negatives prepared once in ${r.negativesPrepSeconds.toFixed(2)} s (${r.negatives} training images)`);
}

main().catch((e) => fatal(isPoeError(e) ? `${e.message} [${e.code}]` : (e as Error).stack ?? String(e)));
