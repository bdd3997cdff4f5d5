import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, DEFAULT_POOL_DIR } from '../../cli/lib/paths';

export { REPO_ROOT, DEFAULT_POOL_DIR };
export const FIXTURE_POOL_DIR = path.join(REPO_ROOT, 'test', '.tmp', 'fixture-pool');

export interface Reference {
  images: Uint8Array;
  count: number;
  labels: number[];
  logits: Record<string, number[][]>;
}

/** The PyTorch side's reference.json of a pool: images and each expert's logits on them. */
export function readReference(poolDir: string): Reference {
  const r = JSON.parse(readFileSync(path.join(poolDir, 'reference.json'), 'utf8'));
  const images = new Uint8Array(Buffer.from(r.images.base64, 'base64'));
  return { images, count: r.images.shape[0], labels: r.labels, logits: r.logits };
}
