import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseReference, type PoolReference } from '../src/ml/run/reference';

/** A pool folder's reference.json: labelled test images (and the builder's logits on them). */
export function readReference(poolDir: string): PoolReference {
  return parseReference(new Uint8Array(readFileSync(path.join(poolDir, 'reference.json'))));
}
