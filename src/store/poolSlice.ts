import type { StateCreator } from 'zustand';
import { httpSource } from '../io/httpSource';
import { indexedDbPoolCache } from '../io/poolCache';
import { POOLS_BASE_URL } from '../config';
import { openFromSource, type Pool, type PoolStatus as EngineStatus } from '../ml/pool';
import type { FileProgress, PoolSource } from '../ml/pool/poolFetch';
import type { PoolManifest } from '../ml/pool/poolManifest';
import { swapPool, type EngineHandles } from './engine';
import type { AppState } from './index';

export type PoolStatus = 'idle' | 'downloading' | 'loading' | 'ready' | 'error';

/** A pool the app ships (public/pools/index.json's "pools"). */
export interface BuiltinPool {
  id: string;
  title: string;
  about: string;
}

export interface PoolSlice {
  /** The built-in pool in use or last used (persisted: the choice survives a reload). */
  poolId: string | null;
  /** The built-in pools to choose from; empty until the list is read. */
  builtinPools: BuiltinPool[];
  /** Each pool's last selection, by pool name (persisted), restored when the pool is back in use. */
  selections: Record<string, string[]>;
  poolStatus: PoolStatus;
  poolProgress: FileProgress[];
  manifest: PoolManifest | null;
  poolBytes: number;
  poolSource: 'network' | 'cache' | null;
  poolLoadMs: number;
  poolError: string | null;
  /** Something worth telling the user that did not stop the pool from working (e.g. cache unavailable). */
  poolNotice: string | null;
  loadPool: (options?: { forceDownload?: boolean; id?: string }) => Promise<void>;
  /** Switches to another built-in pool; the current one stays in use if it cannot be opened. */
  chooseBuiltinPool: (id: string) => Promise<void>;
  clearCacheAndReload: () => Promise<void>;
  /** Looks for a newer version of the pool online; installs it (verified) and switches to it. */
  checkForPoolUpdate: () => Promise<void>;
  /** Puts an opened pool in use: custom classes, selection and model follow it (also used by poolOpenSlice). */
  installPool: (pool: Pool, state: Partial<AppState>, source: PoolSource | null) => Promise<void>;
}

interface PoolIndex {
  default: string;
  pools: BuiltinPool[];
}

async function poolIndex(): Promise<PoolIndex> {
  const res = await fetch(`${POOLS_BASE_URL}index.json`, { cache: 'no-cache' });
  if (!res.ok) throw new Error(`The list of pools (${POOLS_BASE_URL}index.json) could not be downloaded: ${res.status}.`);
  const index = (await res.json()) as { default?: string; pools?: unknown };
  if (!index.default) throw new Error('The list of pools names no default pool.');
  const pools = Array.isArray(index.pools)
    ? index.pools.filter((p): p is BuiltinPool => typeof p?.id === 'string' && typeof p?.title === 'string').map((p) => ({ id: p.id, title: p.title, about: String(p.about ?? '') }))
    : [];
  return { default: index.default, pools };
}

export const createPoolSlice = (engine: EngineHandles): StateCreator<AppState, [], [], PoolSlice> => (set, get) => {
  const cache = indexedDbPoolCache();
  let loadSeq = 0;
  const readIndex = () => poolIndex().then((index) => {
    set({ builtinPools: index.pools });
    return index;
  });
  const open = (id: string, cacheMode: 'prefer-cache' | 'reload', seq: number) =>
    openFromSource(httpSource(POOLS_BASE_URL + id), {
      cache, cacheKey: id, cacheMode, warmUp: false,
      onStatus: (s: EngineStatus) => {
        if (seq !== loadSeq) return; // a newer load is under way
        if (s.phase === 'download') set({ poolStatus: 'downloading', poolProgress: s.files });
        if (s.phase === 'instantiate') set({ poolStatus: 'loading' });
      },
    });

  return {
    poolId: null,
    builtinPools: [],
    selections: {},
    poolStatus: 'idle',
    poolProgress: [],
    manifest: null,
    poolBytes: 0,
    poolSource: null,
    poolLoadMs: 0,
    poolError: null,
    poolNotice: null,

    loadPool: async ({ forceDownload = false, id: chosen } = {}) => {
      const t0 = performance.now();
      const seq = ++loadSeq;
      set({ poolStatus: 'loading', poolError: null, poolNotice: null, poolProgress: [] });
      const remembered = chosen ?? get().poolId;
      try {
        let id = remembered;
        let pool: Pool | null = null;
        // The pool used last opens from the cache without asking for the list of pools (read after it, for the
        // switcher and the update check); a damaged cached copy is replaced by a download, and the notice says so.
        if (remembered && !forceDownload) pool = await open(remembered, 'prefer-cache', seq).catch(() => null);
        if (!pool) {
          // Offline, the pool list cannot be read: the remembered pool is tried from the cache.
          id = await readIndex().then((index) => (remembered && index.pools.some((p) => p.id === remembered) ? remembered : index.default)).catch((e) => {
            if (!remembered) throw e;
            return remembered;
          });
          pool = await open(id!, forceDownload ? 'reload' : 'prefer-cache', seq);
        } else if (!get().builtinPools.length) void readIndex().catch(() => undefined);
        if (seq !== loadSeq) return pool.dispose(); // superseded (e.g. a backend switch) while it opened
        await get().installPool(pool, {
          poolId: id, poolOrigin: null, poolSource: pool.origin === 'cache' ? 'cache' : 'network', poolLoadMs: performance.now() - t0,
          poolNotice: pool.notices.join(' ') || null,
        }, httpSource(POOLS_BASE_URL + id));
        if (pool.origin === 'cache') void get().checkForPoolUpdate();
      } catch (e) {
        if (seq !== loadSeq) return;
        // A failed load leaves the previous pool (if any) and the cache untouched.
        set({ poolStatus: engine.pool ? 'ready' : 'error', poolError: (e as Error).message });
      }
    },

    chooseBuiltinPool: async (id) => {
      if (id === get().poolId && !get().poolOrigin && engine.pool) return;
      await get().loadPool({ id });
    },

    installPool: async (pool, state, source) => {
      const before = get().manifest?.name;
      const { selected, selections } = get();
      const saved = before ? { ...selections, [before]: selected } : selections;
      swapPool(engine, pool, source);
      // Each pool keeps its own selection: the one left here is saved, the new pool's last one comes back.
      const name = pool.manifest.name;
      const mine = before === undefined || before === name ? selected : (saved[name] ?? []);
      set({ ...state, selections: saved, selected: mine, poolStatus: 'ready', manifest: pool.manifest, poolBytes: pool.bytes, poolError: null });
      await get().restoreCustom(); // the user's own classes, before the selection is checked against the pool
      await get().applyPendingRecipe(); // a shared link or project for this pool sets the selection
      get().dropUnknownSelection();
      await get().buildModel();
      // Graft the remaining experts while the user looks at the page, so later queries pay nothing for them.
      setTimeout(() => engine.pool === pool && pool.prepare(), 0);
    },

    checkForPoolUpdate: async () => {
      const current = get().manifest;
      const id = get().poolId;
      if (!id || get().poolOrigin) return; // only a built-in pool is updated from here
      let online: { version?: string };
      try {
        const res = await fetch(`${POOLS_BASE_URL}${id}/pool.json`, { cache: 'no-cache' });
        if (!res.ok) return;
        online = await res.json();
      } catch {
        return; // offline or the server is unreachable: keep using the cached pool
      }
      if (online.version === current?.version) return;
      let pool: Pool;
      try {
        pool = await openFromSource(httpSource(POOLS_BASE_URL + id), { cache, cacheKey: id, cacheMode: 'reload', warmUp: false });
      } catch (e) {
        set({ poolNotice: `A newer pool (v${online.version}) is available, but its download failed, so v${current?.version} stays in use: ${(e as Error).message}` });
        return;
      }
      if (pool.notices.length) return pool.dispose(); // not saved for offline use: keep the cached one
      if (id !== get().poolId || get().poolOrigin) return pool.dispose(); // the user switched pools meanwhile
      try {
        await get().installPool(pool, {
          poolId: id, poolSource: 'network',
          poolNotice: `A newer pool was installed: ${pool.manifest.name} v${pool.manifest.version} (was v${current?.version}).`,
        }, httpSource(POOLS_BASE_URL + id));
      } catch (e) {
        set({ poolNotice: `A newer pool (v${online.version}) was downloaded but could not be put in use: ${(e as Error).message}` });
      }
    },

    // Downloads and verifies first; the cached copy is replaced only by a good one, never lost to a bad download.
    clearCacheAndReload: () => get().loadPool({ forceDownload: true }),
  };
};
