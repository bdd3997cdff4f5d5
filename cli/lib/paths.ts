import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const POOLS_DIR = path.join(REPO_ROOT, 'public', 'pools');
/** The built-in pool the app and the CLI use unless told otherwise: named by public/pools/index.json. */
export const DEFAULT_POOL_DIR = path.join(POOLS_DIR, JSON.parse(readFileSync(path.join(POOLS_DIR, 'index.json'), 'utf8')).default);
export const DEFAULT_DATA_DIR = path.resolve(REPO_ROOT, '..', 'shared', 'datasets', 'cifar-100-binary');
