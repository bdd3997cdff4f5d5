/** The PoE Studio engine for Node: as index.ts, with pools opened from folders and the wasm backend. */
import { httpSource } from './io/httpSource';
import { openFromSource, type OpenPoolOptions, type Pool } from './ml/pool';
import type { PoolBundle, PoolSource } from './ml/poolFetch';
import { folderSource } from './node/folderSource';

/** Opens the pool in a folder on disk (or at an http(s) URL, or from any PoolSource). */
export function openPool(source: string | PoolSource | PoolBundle, options?: OpenPoolOptions): Promise<Pool> {
  if (typeof source === 'string') return openFromSource(/^https?:\/\//.test(source) ? httpSource(source) : folderSource(source), options);
  return openFromSource(source, options);
}

export { useNodeBackend, type NodeBackend } from './node/backend';
export { folderSource } from './node/folderSource';
export * from './engine';
