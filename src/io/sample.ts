import { PoeError } from '../ml/errors';
import { sha256Hex } from '../ml/util/sha256';
import type { PoolSource } from '../ml/pool/poolFetch';

/**
 * A pool's own sample images (sample.json + sample.bin in the pool folder, experts/tools/make_sample.py): test
 * images of its classes, which the built-in check measures on and custom classes calibrate against.
 */
export interface Sample {
  /** uint8 NHWC, sizePx square, `channels` values per pixel. */
  images: Uint8Array;
  /** Each image's pool class index. */
  labels: number[];
  classNames: string[];
  count: number;
  sizePx: number;
  channels: number;
  /** What the images are, in words ("the first 20 test images of each class of ..."). */
  about: string;
}

const MAX_SAMPLE_BYTES = 64 * 1024 * 1024;

/** The pool's sample, or null when the pool carries none (sample.json absent); damaged files throw. */
export async function loadSample(source: PoolSource): Promise<Sample | null> {
  const metaBytes = await source.read('sample.json');
  if (!metaBytes) return null;
  let meta: { about?: unknown; file?: unknown; bytes?: unknown; sha256?: unknown; count?: unknown; sizePx?: unknown; channels?: unknown; labels?: unknown; classNames?: unknown };
  try {
    meta = JSON.parse(new TextDecoder().decode(metaBytes));
  } catch {
    throw new PoeError('MANIFEST_INVALID', `The pool's sample images (${source.describe}/sample.json) are damaged: not JSON.`);
  }
  const channels = meta.channels === 'L' ? 1 : 3;
  const { count, sizePx, bytes } = meta as { count: number; sizePx: number; bytes: number };
  if (typeof meta.file !== 'string' || !/^[A-Za-z0-9._-]+$/.test(meta.file) || !Number.isInteger(count) || !Number.isInteger(sizePx)
    || bytes !== count * sizePx * sizePx * channels || bytes > MAX_SAMPLE_BYTES || !Array.isArray(meta.labels) || meta.labels.length !== count
    || !Array.isArray(meta.classNames))
    throw new PoeError('MANIFEST_INVALID', `The pool's sample images (${source.describe}/sample.json) are damaged: its count, size or labels do not agree.`);
  const images = await source.read(meta.file, undefined, MAX_SAMPLE_BYTES);
  if (!images) throw new PoeError('FILE_MISSING', `The pool's sample images (${meta.file}) could not be downloaded.`);
  if (images.byteLength !== bytes || (await sha256Hex(images)) !== meta.sha256)
    throw new PoeError('FILE_CHECKSUM', 'The pool\'s sample images are damaged (size or checksum mismatch).');
  return { images, labels: meta.labels as number[], classNames: meta.classNames as string[], count, sizePx, channels, about: String(meta.about ?? '') };
}
