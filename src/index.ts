/**
 * The PoE Studio engine for browsers and bundlers: open a pool, consolidate a model for chosen classes,
 * classify, evaluate, export. No React, no app state. Node programs get the same API from './node'.
 */
import { httpSource } from './io/httpSource';
import { PoeError } from './ml/errors';
import { openFromSource, type OpenPoolOptions, type Pool } from './ml/pool';
import type { PoolBundle, PoolSource } from './ml/pool/poolFetch';

/** Opens the pool at a URL (its folder, holding pool.json), or from any PoolSource. */
export function openPool(source: string | URL | PoolSource | PoolBundle, options?: OpenPoolOptions): Promise<Pool> {
  if (typeof source === 'string' || source instanceof URL) {
    const base = typeof location === 'undefined' ? undefined : location.href;
    let url: string;
    try {
      url = new URL(String(source), base).href;
    } catch {
      return Promise.reject(new PoeError('POOL_URL', `"${String(source)}" is not a pool address: give an absolute http(s) URL${base ? ' or one relative to this page' : ''}.`));
    }
    return openFromSource(httpSource(url), options);
  }
  return openFromSource(source, options);
}

export { indexedDbPoolCache } from './io/poolCache';
export { selectBackend, configureWasm, type BackendName, type BackendStatus } from './ml/run/backend';
export * from './engine';
