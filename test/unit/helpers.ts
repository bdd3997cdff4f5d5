import path from 'node:path';
import { REPO_ROOT, DEFAULT_POOL_DIR } from '../../cli/lib/paths';

export { readReference } from '../../harness/reference';
export { REPO_ROOT, DEFAULT_POOL_DIR };
export const FIXTURE_POOL_DIR = path.join(REPO_ROOT, 'test', '.tmp', 'fixture-pool');
