import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { PoeError } from '../../src/ml/errors';
import { DEFAULT_DATA_DIR } from './paths';

const RECORD_BYTES = 3074;

export interface CifarSplit {
  /** NHWC uint8 RGB images, 32 x 32. */
  images: Uint8Array;
  fine: Uint8Array;
  coarse: Uint8Array;
  count: number;
}

export function dataDir(override?: string): string {
  const dir = path.resolve(override || process.env.POE_DATA_DIR || DEFAULT_DATA_DIR);
  if (!existsSync(dir) && override)
    throw new PoeError('DATA_MISSING', `No dataset at ${dir}: --data takes a folder of CIFAR-100 binary files, IDX files or an image folder (test/<class>/*.png).`);
  if (!existsSync(dir))
    throw new PoeError('DATA_MISSING', `CIFAR-100 not found at ${dir}. Pass --data DIR or set POE_DATA_DIR to the folder holding test.bin.gz.`);
  return dir;
}

/** Reads the CIFAR-100 test split (test.bin or test.bin.gz) as NHWC images. */
export function readTestSplit(dir: string): CifarSplit {
  return readSplit(dir, 'test');
}

/**
 * 'train' is the builder's training split: all training records but the last 5,000, which are the
 * validation split ('val').
 */
export function readSplit(dir: string, split: 'train' | 'val' | 'test'): CifarSplit {
  const file = split === 'test' ? 'test' : 'train';
  const names = readdirSync(dir).filter((f) => new RegExp(`^${file}(\\.\\d+)?\\.bin(\\.gz)?$`).test(f)).sort();
  if (!names.length) throw new PoeError('DATA_MISSING', `No ${file}.bin or ${file}.bin.gz in ${dir}.`);
  const all = Buffer.concat(names.map((name) => {
    const raw = readFileSync(path.join(dir, name));
    return name.endsWith('.gz') ? gunzipSync(raw) : raw;
  }));
  const val = all.length - 5000 * RECORD_BYTES;
  const buf = split === 'train' ? all.subarray(0, val) : split === 'val' ? all.subarray(val) : all;
  const name = names.join('+');
  if (buf.length % RECORD_BYTES) throw new PoeError('DATA_MISSING', `${name} is not a CIFAR-100 binary file (size ${buf.length}).`);
  const count = buf.length / RECORD_BYTES;
  const images = new Uint8Array(count * 3072);
  const fine = new Uint8Array(count);
  const coarse = new Uint8Array(count);
  for (let r = 0; r < count; r++) {
    const o = r * RECORD_BYTES;
    coarse[r] = buf[o];
    fine[r] = buf[o + 1];
    for (let p = 0; p < 1024; p++)
      for (let c = 0; c < 3; c++) images[r * 3072 + p * 3 + c] = buf[o + 2 + c * 1024 + p];
  }
  return { images, fine, coarse, count };
}
