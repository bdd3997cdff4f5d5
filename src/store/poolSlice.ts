import type { StateCreator } from 'zustand';
import { httpSource } from '../io/httpSource';
import { readCachedPool, writeCachedPool } from '../io/poolCache';
import { POOLS_BASE_URL } from '../config';
import { fetchPool, type FileProgress, type PoolBundle } from '../ml/poolFetch';
import { disposePool, instantiatePool } from '../ml/poolModels';
import { prepareGraph } from '../ml/poolGraph';
import type { PoolManifest } from '../ml/poolManifest';
import { parseReference } from '../ml/reference';
import { runtime } from './runtime';
import type { AppState } from './index';

export type PoolStatus = 'idle' | 'downloading' | 'loading' | 'ready' | 'error';

export interface PoolSlice {
  poolId: string | null;
  poolStatus: PoolStatus;
  poolProgress: FileProgress[];
  manifest: PoolManifest | null;
  poolBytes: number;
  poolSource: 'network' | 'cache' | null;
  poolLoadMs: number;
  poolError: string | null;
  /** Something worth telling the user that did not stop the pool from working (e.g. cache unavailable). */
  poolNotice: string | null;
  loadPool: (options?: { forceDownload?: boolean }) => Promise<void>;
  clearCacheAndReload: () => Promise<void>;
  /** Looks for a newer version of the pool online; installs it (verified) and switches to it. */
  checkForPoolUpdate: () => Promise<void>;
}

async function defaultPoolId(): Promise<string> {
  const res = await fetch(`${POOLS_BASE_URL}index.json`, { cache: 'no-cache' });
  if (!res.ok) throw new Error(`The list of pools (${POOLS_BASE_URL}index.json) could not be downloaded: ${res.status}.`);
  const index = (await res.json()) as { default?: string };
  if (!index.default) throw new Error('The list of pools names no default pool.');
  return index.default;
}

export const createPoolSlice: StateCreator<AppState, [], [], PoolSlice> = (set, get) => ({
  poolId: null,
  poolStatus: 'idle',
  poolProgress: [],
  manifest: null,
  poolBytes: 0,
  poolSource: null,
  poolLoadMs: 0,
  poolError: null,
  poolNotice: null,

  loadPool: async ({ forceDownload = false } = {}) => {
    const t0 = performance.now();
    set({ poolStatus: 'loading', poolError: null, poolNotice: null, poolProgress: [] });
    const notices: string[] = [];
    try {
      let poolId = get().poolId;
      let bundle: PoolBundle | null = null;
      let source: 'network' | 'cache' = 'cache';
      if (!forceDownload && poolId) {
        const cached = await readCachedPool(poolId);
        if (cached.problem) notices.push(cached.problem);
        bundle = cached.bundle;
      }
      if (!bundle) {
        // Network first for the pool list; if offline, fall back to whatever pool was cached last.
        try {
          poolId = await defaultPoolId();
        } catch (e) {
          if (!poolId) throw e;
        }
        if (!forceDownload) {
          const cached = await readCachedPool(poolId!);
          if (cached.problem) notices.push(cached.problem);
          bundle = cached.bundle;
        }
      }
      if (!bundle || forceDownload) {
        source = 'network';
        set({ poolStatus: 'downloading', poolId });
        bundle = await fetchPool(httpSource(POOLS_BASE_URL + poolId), (p) => set({ poolProgress: p }));
        const saved = await writeCachedPool(poolId!, bundle);
        if (!saved.ok) notices.push(`The pool works from memory but was not saved for offline use: ${saved.reason}.`);
      }
      set({ poolStatus: 'loading' });
      const pool = await instantiatePool(bundle);
      if (runtime.model) runtime.model.dispose();
      runtime.model = null;
      if (runtime.pool) disposePool(runtime.pool);
      runtime.pool = pool;
      runtime.reference = pool.manifest.reference ? parseReference(bundle.files.get(pool.manifest.reference.path)!) : null;
      set({
        poolId, poolStatus: 'ready', manifest: pool.manifest, poolBytes: pool.bytes, poolSource: source,
        poolLoadMs: performance.now() - t0, poolNotice: notices.join(' ') || null,
      });
      await get().restoreCustom(); // the user's own classes, before the selection is checked against the pool
      get().dropUnknownSelection();
      await get().buildModel();
      // Graft the remaining experts while the user looks at the page, so later queries pay nothing for them.
      setTimeout(() => runtime.pool === pool && prepareGraph(pool), 0);
      if (source === 'cache') void get().checkForPoolUpdate();
    } catch (e) {
      // A failed load leaves the previous pool (if any) and the cache untouched.
      set({ poolStatus: runtime.pool ? 'ready' : 'error', poolError: (e as Error).message, poolNotice: notices.join(' ') || null });
    }
  },

  checkForPoolUpdate: async () => {
    const current = get().manifest;
    let online: { version?: string };
    let id: string;
    try {
      id = await defaultPoolId();
      const res = await fetch(`${POOLS_BASE_URL}${id}/pool.json`, { cache: 'no-cache' });
      if (!res.ok) return;
      online = await res.json();
    } catch {
      return; // offline or the server is unreachable: keep using the cached pool
    }
    if (id === get().poolId && online.version === current?.version) return;
    try {
      const bundle = await fetchPool(httpSource(POOLS_BASE_URL + id));
      const saved = await writeCachedPool(id, bundle);
      if (!saved.ok) return;
      set({ poolId: id });
      await get().loadPool();
      set({ poolNotice: `A newer pool was installed: ${bundle.manifest.name} v${bundle.manifest.version} (was v${current?.version}).` });
    } catch (e) {
      set({ poolNotice: `A newer pool (v${online.version}) is available, but its download failed, so v${current?.version} stays in use: ${(e as Error).message}` });
    }
  },

  // Downloads and verifies first; the cached copy is replaced only by a good one, never lost to a bad download.
  clearCacheAndReload: () => get().loadPool({ forceDownload: true }),

});
