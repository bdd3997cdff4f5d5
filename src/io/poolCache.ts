import { del, get, keys, set } from 'idb-keyval';
import { lazyIdbStore } from './idbStore';
import type { PoolCache } from '../ml/pool';
import { verifyBundle, type PoolBundle } from '../ml/pool/poolFetch';

/** Bump when the cached layout changes; old entries are then ignored and removed. */
export const POOL_CACHE_VERSION = 1;
const DB_NAME = 'poe-studio';
const STORE_NAME = 'pools';

export type CacheOutcome = { ok: true } | { ok: false; reason: string };

const { db, run: withDb } = lazyIdbStore(DB_NAME, STORE_NAME);

const keyFor = (poolId: string) => `pool:v${POOL_CACHE_VERSION}:${poolId}`;

interface CachedPool {
  version: string;
  files: [string, Uint8Array][];
  savedAt: string;
}

/** The cached bundle of pool `poolId`, re-verified; null when absent, unreadable or corrupted (which is then dropped). */
export async function readCachedPool(poolId: string): Promise<{ bundle: PoolBundle | null; problem?: string }> {
  let entry: CachedPool | undefined;
  try {
    entry = await withDb((d) => get<CachedPool>(keyFor(poolId), d));
  } catch (e) {
    return { bundle: null, problem: `the pool cache could not be read (${(e as Error).message})` };
  }
  if (!entry) return { bundle: null };
  try {
    return { bundle: await verifyBundle(new Map(entry.files), 'the browser cache') };
  } catch (e) {
    await del(keyFor(poolId), db()).catch(() => undefined);
    return { bundle: null, problem: `the cached pool was damaged and has been discarded (${(e as Error).message})` };
  }
}

/** Stores a verified bundle; replaces any older version of the same pool only once the new one is written. */
export async function writeCachedPool(poolId: string, bundle: PoolBundle): Promise<CacheOutcome> {
  try {
    const entry: CachedPool = { version: bundle.manifest.version, files: [...bundle.files], savedAt: new Date().toISOString() };
    await withDb((d) => set(keyFor(poolId), entry, d));
    for (const k of await keys(db())) if (typeof k === 'string' && k.startsWith('pool:') && k !== keyFor(poolId) && k.endsWith(`:${poolId}`)) await del(k, db());
    return { ok: true };
  } catch (e) {
    const err = e as DOMException;
    const reason = err?.name === 'QuotaExceededError' ? 'the browser storage quota is full' : `IndexedDB refused the write (${err?.message ?? String(e)})`;
    return { ok: false, reason };
  }
}

/** The pool cache in this browser's IndexedDB, for openPool's `cache` option. */
export function indexedDbPoolCache(): PoolCache {
  return { read: readCachedPool, write: writeCachedPool };
}
