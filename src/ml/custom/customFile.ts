import { CUSTOM_FILE_FORMAT, newCustomId, weightCount, type CustomExpertSpec } from './customExpert';
import { fromBase64, toBase64 } from '../util/base64';
import { PoeError } from '../errors';

/** A custom class as kept (IndexedDB) and carried (export file): the trained expert and its images, to retrain. */
export interface StoredCustomClass {
  spec: CustomExpertSpec;
  /** The user's training images, NHWC uint8 of the pool's input size, concatenated. */
  images: Uint8Array;
}

export const CUSTOM_FILE_VERSION = 1;

/** One JSON file holding custom classes (weights and training images), to move them to another device or browser. */
export function customClassesFile(classes: StoredCustomClass[]): string {
  return JSON.stringify({
    format: CUSTOM_FILE_FORMAT,
    formatVersion: CUSTOM_FILE_VERSION,
    classes: classes.map(({ spec, images }) => ({
      ...spec,
      weights: toBase64(new Uint8Array(spec.weights.buffer, spec.weights.byteOffset, spec.weights.byteLength)),
      images: toBase64(images),
    })),
  });
}

const bad = (why: string): never => {
  throw new PoeError('MODEL_INVALID', `This is not a PoE Studio custom-classes file: ${why}.`);
};

/** Parses and checks an export file; every class gets a fresh id so importing twice never clashes. */
export function parseCustomClassesFile(text: string, sizePx: number, channels = 3): StoredCustomClass[] {
  const per = sizePx * sizePx * channels;
  let raw: { format?: string; formatVersion?: number; classes?: Record<string, unknown>[] };
  try {
    raw = JSON.parse(text);
  } catch {
    return bad('it is not JSON');
  }
  if (raw?.format !== CUSTOM_FILE_FORMAT) bad(`its format is "${String(raw?.format)}"`);
  if (raw.formatVersion !== CUSTOM_FILE_VERSION) bad(`it has version ${raw.formatVersion}; this app reads version ${CUSTOM_FILE_VERSION}`);
  if (!Array.isArray(raw.classes)) bad('it lists no classes');
  return raw.classes!.map((c, i) => {
    const where = `class ${i + 1}`;
    if (typeof c.label !== 'string' || !c.label.trim()) bad(`${where} has no name`);
    const shape = c.featureShape as number[];
    if (!Array.isArray(shape) || shape.length !== 3 || shape.some((d) => !Number.isInteger(d) || d < 1)) bad(`${where} has no feature shape`);
    if (!Number.isInteger(c.hidden) || (c.hidden as number) < 1) bad(`${where} has no hidden width`);
    let bytes: Uint8Array;
    let images: Uint8Array;
    try {
      bytes = fromBase64(String(c.weights));
      images = fromBase64(String(c.images ?? ''));
    } catch {
      return bad(`${where} has damaged data`);
    }
    const weights = new Float32Array(bytes.slice().buffer, 0, Math.floor(bytes.length / 4));
    if (bytes.length % 4 || weights.length !== weightCount(shape[2], c.hidden as number)) bad(`${where} has ${weights.length} weights`);
    if (images.length % per) bad(`${where}'s images are not ${sizePx} x ${sizePx} ${channels === 1 ? 'grey' : 'RGB'}: the file was made for another pool`);
    const spec: CustomExpertSpec = {
      id: newCustomId(),
      label: c.label as string,
      hidden: c.hidden as number,
      featureShape: shape,
      weights,
      pool: (c.pool as CustomExpertSpec['pool']) ?? { name: '?', version: '?' },
      shots: images.length / per,
      calibration: String(c.calibration ?? 'joint'),
      trainMs: Number(c.trainMs) || 0,
      createdAt: String(c.createdAt ?? new Date().toISOString()),
    };
    return { spec, images };
  });
}

