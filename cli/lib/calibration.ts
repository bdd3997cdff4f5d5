import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { loadSample, type Sample } from '../../src/io/sample';
import { parseReference } from '../../src/ml/run/reference';
import { folderSource } from '../../src/node';

export interface PoolCalibration {
  images: Uint8Array;
  count: number;
  about: string;
  /** The sample, when that is what calibrates (its images are left out of measurements). */
  sample: Sample | null;
}

/** What int8 calibrates on, as the app does: the pool's sample images, or its reference images when it has no sample. */
export async function poolCalibration(poolDir: string): Promise<PoolCalibration> {
  const sample = await loadSample(folderSource(poolDir));
  if (sample) return { images: sample.images, count: sample.count, about: `sample images of the pool (${sample.about})`, sample };
  const file = path.join(poolDir, 'reference.json');
  if (!existsSync(file)) return { images: new Uint8Array(0), count: 0, about: 'no images', sample: null };
  const ref = parseReference(new Uint8Array(readFileSync(file)));
  return { images: ref.images, count: ref.count, about: 'reference images of the pool', sample: null };
}
