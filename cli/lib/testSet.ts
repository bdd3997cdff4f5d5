// The test split of the three kinds of data the builder reads (experts/poe/datasets.py), as a pool's evaluate() takes
// it: CIFAR-100 binary files, IDX files (the MNIST family) or an image folder (test/<class>/*.png|jpg).
import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { PoeError } from '../../src/ml/errors';
import { modelInput } from '../../src/ml/run/imageInput';
import { channelCount, imageKind, type PoolManifest } from '../../src/ml/pool/poolManifest';
import { readTestSplit } from './cifar';

export interface TestSet {
  kind: 'cifar100' | 'idx' | 'folder';
  /** NHWC uint8 at the pool's size and channels. */
  images: Uint8Array;
  /** Each image's class name (matched to the pool's classes by name). */
  labels: string[];
  count: number;
}

const missing = (dir: string, what: string) => new PoeError('DATA_MISSING', `${dir} holds ${what}: --data takes a folder of CIFAR-100 binary files (test.bin.gz), `
  + 'IDX files (t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz], optional classes.txt) or an image folder (test/<class>/*.png|jpg).');

function readMaybeGz(file: string): Buffer {
  const raw = readFileSync(file);
  return file.endsWith('.gz') ? gunzipSync(raw) : raw;
}

function idxFile(dir: string, what: 'images' | 'labels'): string | null {
  const base = what === 'images' ? 't10k-images-idx3-ubyte' : 't10k-labels-idx1-ubyte';
  return [base, `${base}.gz`].map((f) => path.join(dir, f)).find((f) => existsSync(f)) ?? null;
}

/** An IDX array: magic 0x0000 0x08 (uint8) rank, then rank big-endian sizes, then the data. */
function readIdx(file: string): { dims: number[]; data: Uint8Array } {
  const b = readMaybeGz(file);
  if (b.length < 4 || b[0] !== 0 || b[1] !== 0 || b[2] !== 8) throw new PoeError('DATA_MISSING', `${file} is not an IDX file of unsigned bytes.`);
  const dims = Array.from({ length: b[3] }, (_, i) => b.readUInt32BE(4 + 4 * i));
  const data = new Uint8Array(b.buffer, b.byteOffset + 4 + 4 * dims.length, dims.reduce((a, d) => a * d, 1));
  return { dims, data };
}

/** Pixels of any size and channels -> the pool's size and channels, as the app scales them (centre square, luma for grey). */
function toPool(data: Uint8Array | Float32Array, width: number, height: number, channels: number, m: PoolManifest): Uint8Array {
  const size = m.input.sizePx;
  const out = tf.tidy(() => modelInput(tf.tensor3d(Float32Array.from(data), [height, width, channels]), size, channelCount(m.input)).round().clipByValue(0, 255));
  const px = Uint8Array.from(out.dataSync());
  out.dispose();
  return px;
}

function idxTestSet(dir: string, m: PoolManifest): TestSet {
  const images = readIdx(idxFile(dir, 'images')!);
  const labels = readIdx(idxFile(dir, 'labels') ?? (() => { throw missing(dir, 'IDX test images but no t10k-labels-idx1-ubyte'); })());
  const [count, h, w, c = 1] = images.dims;
  if (labels.dims[0] !== count) throw new PoeError('DATA_MISSING', `${dir}: ${count} test images but ${labels.dims[0]} labels.`);
  const namesFile = path.join(dir, 'classes.txt');
  const names = existsSync(namesFile) ? readFileSync(namesFile, 'utf8').split('\n').map((l) => l.trim()).filter(Boolean) : m.classes.map((k) => k.name);
  const same = h === m.input.sizePx && w === h && c === channelCount(m.input);
  const per = m.input.sizePx ** 2 * channelCount(m.input);
  const out = same ? images.data : new Uint8Array(count * per);
  if (!same) for (let i = 0; i < count; i++) out.set(toPool(images.data.subarray(i * h * w * c, (i + 1) * h * w * c), w, h, c, m), i * per);
  // Without classes.txt the labels are the pool's class indices (the builder numbers classes the same way).
  const byIndex = new Map(m.classes.map((k) => [k.index, k.name]));
  return { kind: 'idx', images: out, labels: Array.from(labels.data, (l) => (existsSync(namesFile) ? names[l] : byIndex.get(l)) ?? `label ${l}`), count };
}

function decodeImage(file: string): { data: Uint8Array; width: number; height: number } {
  const bytes = readFileSync(file);
  try {
    if (/\.png$/i.test(file)) {
      const png = PNG.sync.read(bytes);
      return { data: new Uint8Array(png.data), width: png.width, height: png.height };
    }
    const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
    return { data: img.data, width: img.width, height: img.height };
  } catch (e) {
    throw new PoeError('IMAGE_INVALID', `${file} could not be decoded (${(e as Error).message}).`);
  }
}

function folderTestSet(dir: string, m: PoolManifest): TestSet {
  const root = path.join(dir, 'test');
  const classes = readdirSync(root).filter((c) => statSync(path.join(root, c)).isDirectory()).sort();
  const files = classes.flatMap((c) => readdirSync(path.join(root, c)).filter((f) => /\.(png|jpe?g)$/i.test(f)).sort().map((f) => ({ c, file: path.join(root, c, f) })));
  if (!files.length) throw missing(dir, 'a test/ folder with no .png or .jpg images in class folders');
  const per = m.input.sizePx ** 2 * channelCount(m.input);
  const images = new Uint8Array(files.length * per);
  files.forEach(({ file }, i) => {
    const { data, width, height } = decodeImage(file);
    images.set(toPool(data, width, height, 4, m), i * per);
  });
  return { kind: 'folder', images, labels: files.map((f) => f.c), count: files.length };
}

/** The test images at `dir` for the pool `m`, whichever of the three kinds is there. */
export function readTestSet(dir: string, m: PoolManifest): TestSet {
  if (!existsSync(dir)) throw new PoeError('DATA_MISSING', `No dataset at ${dir}.`);
  if (readdirSync(dir).some((f) => /^test(\.\d+)?\.bin(\.gz)?$/.test(f))) {
    if (m.input.sizePx !== 32 || channelCount(m.input) !== 3)
      throw new PoeError('DATA_MISSING', `${dir} holds CIFAR-100 (32 x 32 RGB), but the pool ${m.name} takes ${imageKind(m.input)} images.`);
    const t = readTestSplit(dir);
    const names = new Map(m.classes.map((k) => [k.index, k.name]));
    return { kind: 'cifar100', images: t.images, labels: Array.from(t.fine, (l) => names.get(l) ?? `label ${l}`), count: t.count };
  }
  if (idxFile(dir, 'images')) return idxTestSet(dir, m);
  if (existsSync(path.join(dir, 'test'))) return folderTestSet(dir, m);
  throw missing(dir, 'no test split this tool reads');
}
