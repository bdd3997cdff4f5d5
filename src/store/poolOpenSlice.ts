import type { StateCreator } from 'zustand';
import { httpSource } from '../io/httpSource';
import { folderPoolSource, zipPoolSource, type LocalFile } from '../io/localPoolSource';
import { indexedDbPoolCache } from '../io/poolCache';
import { poolFolderUrl } from '../io/poolUrl';
import { isPoeError } from '../ml/errors';
import { openFromSource } from '../ml/pool';
import type { FileProgress, PoolSource } from '../ml/pool/poolFetch';
import { checkTotalBytes } from '../ml/pool/poolLimits';
import type { AppState } from './index';

/**
 * Opening another pool: ?pool=<URL>, a picked folder or a dropped zip. The new pool is downloaded,
 * verified (checksums, limits, contents) and turned into models before anything changes; only then
 * does it replace the working pool and, for a URL, go to the cache. Any failure leaves the working
 * pool in place and shows a coded message.
 */
export interface PoolOpenSlice {
  /** Where the pool in use came from when it is not the built-in one (a URL, "the zip x.zip", "the folder y"). */
  poolOrigin: string | null;
  poolOpenStatus: 'idle' | 'opening' | 'error';
  poolOpenProgress: FileProgress[];
  poolOpenError: { code: string; message: string } | null;
  /** navigator.storage.persist()'s answer; null before asking or where the browser has no such API. */
  storagePersisted: boolean | null;
  /** A newer build of the app is installed and waits for a reload (io/offline.ts). */
  appUpdateReady: boolean;
  openPoolFromUrl: (raw: string) => Promise<void>;
  openPoolFromZip: (file: LocalFile) => Promise<void>;
  openPoolFromFolder: (files: LocalFile[]) => Promise<void>;
  requestPersistentStorage: () => Promise<void>;
}

/** Cache key of a pool opened by URL; zips and folders are the user's own files and are not copied. */
export const urlPoolCacheId = (folderUrl: string) => `url:${folderUrl}`;

export const createPoolOpenSlice: StateCreator<AppState, [], [], PoolOpenSlice> = (set, get) => {
  let openSeq = 0;
  async function open(make: () => PoolSource | Promise<PoolSource>, origin: () => string, cacheId?: () => string): Promise<void> {
    const seq = ++openSeq;
    set({ poolOpenStatus: 'opening', poolOpenError: null, poolOpenProgress: [] });
    try {
      const source = await make();
      // A pool opened by URL before is in the cache and is used when its address cannot be reached.
      const pool = await openFromSource(source, {
        cache: cacheId ? indexedDbPoolCache() : undefined, cacheKey: cacheId?.(), cacheMode: 'prefer-network', warmUp: false,
        onStatus: (s) => s.phase === 'download' && seq === openSeq && set({ poolOpenProgress: s.files }),
      });
      if (seq !== openSeq) return pool.dispose(); // a later open won
      await get().installPool(pool, {
        poolSource: 'network', poolNotice: pool.notices.join(' ') || null, poolOrigin: origin(), poolOpenStatus: 'idle', poolOpenProgress: [],
      }, source);
    } catch (e) {
      if (seq !== openSeq) return;
      const code = isPoeError(e) ? e.code : 'UNEXPECTED';
      set({ poolOpenStatus: 'error', poolOpenProgress: [], poolOpenError: { code, message: `${(e as Error).message} The pool in use was kept.` } });
    }
  }

  return {
    poolOrigin: null,
    poolOpenStatus: 'idle',
    poolOpenProgress: [],
    poolOpenError: null,
    storagePersisted: null,
    appUpdateReady: false,

    openPoolFromUrl: (raw) => {
      let url = '';
      return open(() => httpSource((url = poolFolderUrl(raw, location.href))), () => url, () => urlPoolCacheId(url));
    },
    openPoolFromZip: (file) => open(async () => {
      checkTotalBytes(file.size, `The zip ${file.name}`);
      return zipPoolSource(new Uint8Array(await file.arrayBuffer()), file.name);
    }, () => `the zip ${file.name}`),
    openPoolFromFolder: (files) => {
      let where = '';
      return open(() => {
        const source = folderPoolSource(files);
        where = source.describe;
        return source;
      }, () => where);
    },

    requestPersistentStorage: async () => {
      const storage = typeof navigator === 'undefined' ? undefined : navigator.storage;
      if (!storage?.persist) return;
      try {
        set({ storagePersisted: (await storage.persisted()) || (await storage.persist()) });
      } catch {
        set({ storagePersisted: false });
      }
    },
  };
};
