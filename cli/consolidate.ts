import { mkdir, writeFile, access, constants } from 'node:fs/promises';
import path from 'node:path';
import { isPoeError } from '../src/ml/errors';
import type { WeightPrecision } from '../src/ml/export/exportModel';
import { ONNX_OPSET } from '../src/ml/export/onnxExport';
import { openPool, useNodeBackend } from '../src/node';
import { fatal, parseArgs } from './lib/args';
import { DEFAULT_POOL_DIR } from './lib/paths';
import { poolCalibration } from './lib/calibration';
import type { TflitePrecision } from '../src/ml/export/tflite/export';

const USAGE = `usage: npm run consolidate -- --classes apple,cup,people --out DIR [--pool DIR] [--format tfjs|onnx|tflite] [--precision float32|float16|uint8|int8]

Consolidates the pool's library and the experts covering the named classes and/or superclasses
into one model. --format tfjs (default) writes a TensorFlow.js LayersModel: model.json, weights.bin
and metadata.json; --format onnx writes model.onnx (opset ${ONNX_OPSET}) and metadata.json; --format tflite
writes model.tflite (LiteRT / TFLite) and metadata.json. uint8 weights are for tfjs only; int8 (full-integer,
calibrated on the pool's sample images, for TFLite Micro) is for tflite only and also writes model_data.h/.cc.`;

async function main() {
  const args = parseArgs(process.argv.slice(2), { classes: '', out: '', pool: DEFAULT_POOL_DIR, precision: 'float32', format: 'tfjs' }, USAGE);
  if (!args.classes) fatal('--classes is required (comma-separated class and/or superclass names)', USAGE);
  if (!args.out) fatal('--out is required (the folder to write the model into)', USAGE);
  if (!['tfjs', 'onnx', 'tflite'].includes(args.format)) fatal(`--format must be tfjs, onnx or tflite, not "${args.format}"`);
  const precisions = { onnx: ['float32', 'float16'], tflite: ['float32', 'float16', 'int8'], tfjs: ['float32', 'float16', 'uint8'] }[args.format]!;
  if (!precisions.includes(args.precision)) fatal(`--precision must be ${precisions.join(', ').replace(/, (\w+)$/, ' or $1')} for --format ${args.format}, not "${args.precision}"`);
  const out = path.resolve(args.out);
  try {
    await mkdir(out, { recursive: true });
    await access(out, constants.W_OK);
  } catch (e) {
    fatal(`cannot write to ${out}: ${(e as Error).message}`);
  }
  await useNodeBackend('wasm');
  const pool = await openPool(args.pool, { warmUp: false });
  const c = pool.consolidate(args.classes.split(','));
  const files: Record<string, string | Uint8Array> = args.format === 'tflite'
    ? { ...(await c.exportTflite(args.precision as TflitePrecision, args.precision === 'int8' ? await poolCalibration(args.pool) : undefined)) }
    : { ...(await c.export(args.precision as WeightPrecision, args.format as 'tfjs' | 'onnx')) };
  for (const [name, content] of Object.entries(files)) await writeFile(path.join(out, name), content);
  const mainFile = { onnx: 'model.onnx', tflite: 'model.tflite', tfjs: 'weights.bin' }[args.format]!;
  const weightBytes = files[mainFile].length;
  console.log(`consolidated ${c.labels.length} classes from ${c.plan.parts.length} expert(s) of pool ${pool.manifest.name} v${pool.manifest.version}`);
  console.log(`  experts: ${c.plan.parts.map((p) => (p.whole ? p.expert : `${p.expert} (${p.keep.length} of its classes)`)).join(', ')}`);
  console.log(`  labels:  ${c.labels.join(', ')}`);
  console.log(`  ${c.params.toLocaleString('en-US')} parameters, built in ${c.buildMs.toFixed(1)} ms, ${mainFile} ${weightBytes.toLocaleString('en-US')} bytes (${args.precision})`);
  if (args.format === 'tflite') {
    const t = JSON.parse(files['metadata.json'] as string).tflite;
    console.log(`  operators: ${t.operators.join(', ')}; tensor arena: ${t.tensorArenaBytes.toLocaleString('en-US')} bytes of activations at peak (suggested ${t.suggestedArenaBytes.toLocaleString('en-US')})`);
    if (t.calibration) console.log(`  int8 calibrated on ${t.calibration}`);
  }
  console.log(`  wrote ${Object.keys(files).join(', ')} to ${out}`);
}

main().catch((e) => fatal(isPoeError(e) ? `${e.message} [${e.code}]` : (e as Error).stack ?? String(e)));
