import { mkdir, writeFile, access, constants } from 'node:fs/promises';
import path from 'node:path';
import { consolidate } from '../src/ml/consolidate';
import { isPoeError } from '../src/ml/errors';
import { modelFiles, type WeightPrecision } from '../src/ml/exportModel';
import { fatal, parseArgs } from './lib/args';
import { loadPoolFromDir } from './lib/folderSource';
import { useNodeBackend } from './lib/nodeBackend';
import { DEFAULT_POOL_DIR } from './lib/paths';

const USAGE = `usage: npm run consolidate -- --classes apple,cup,people --out DIR [--pool DIR] [--precision float32|float16|uint8]

Consolidates the pool's library and the experts covering the named classes and/or superclasses
into one TensorFlow.js LayersModel; writes model.json, weights.bin and metadata.json into DIR.`;

async function main() {
  const args = parseArgs(process.argv.slice(2), { classes: '', out: '', pool: DEFAULT_POOL_DIR, precision: 'float32' }, USAGE);
  if (!args.classes) fatal('--classes is required (comma-separated class and/or superclass names)', USAGE);
  if (!args.out) fatal('--out is required (the folder to write the model into)', USAGE);
  if (!['float32', 'float16', 'uint8'].includes(args.precision)) fatal(`--precision must be float32, float16 or uint8, not "${args.precision}"`);
  const out = path.resolve(args.out);
  try {
    await mkdir(out, { recursive: true });
    await access(out, constants.W_OK);
  } catch (e) {
    fatal(`cannot write to ${out}: ${(e as Error).message}`);
  }
  await useNodeBackend('wasm');
  const pool = await loadPoolFromDir(args.pool);
  const c = consolidate(pool, args.classes.split(','));
  const files = await modelFiles(c, pool.manifest, args.precision as WeightPrecision);
  for (const [name, content] of Object.entries(files)) await writeFile(path.join(out, name), content);
  console.log(`consolidated ${c.labels.length} classes from ${c.plan.parts.length} expert(s) of pool ${pool.manifest.name} v${pool.manifest.version}`);
  console.log(`  experts: ${c.plan.parts.map((p) => (p.whole ? p.expert : `${p.expert} (${p.keep.length} of its classes)`)).join(', ')}`);
  console.log(`  labels:  ${c.labels.join(', ')}`);
  console.log(`  ${c.params.toLocaleString('en-US')} parameters, built in ${c.buildMs.toFixed(1)} ms, weights ${files['weights.bin'].byteLength.toLocaleString('en-US')} bytes (${args.precision})`);
  console.log(`  wrote ${Object.keys(files).join(', ')} to ${out}`);
}

main().catch((e) => fatal(isPoeError(e) ? `${e.message} [${e.code}]` : (e as Error).stack ?? String(e)));
