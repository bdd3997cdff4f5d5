import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, DEFAULT_POOL_DIR } from '../../cli/lib/paths';
import { parseReference, type PoolReference } from '../../src/ml/reference';

export { REPO_ROOT, DEFAULT_POOL_DIR };
export const FIXTURE_POOL_DIR = path.join(REPO_ROOT, 'test', '.tmp', 'fixture-pool');

export function readReference(poolDir: string): PoolReference {
  return parseReference(new Uint8Array(readFileSync(path.join(poolDir, 'reference.json'))));
}
