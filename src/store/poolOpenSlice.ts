import type { StateCreator } from 'zustand';
import { httpSource } from '../io/httpSource';
import { folderPoolSource, zipPoolSource, type LocalFile } from '../io/localPoolSource';
import { readCachedPool, writeCachedPool } from '../io/poolCache';
import { poolFolderUrl } from '../io/poolUrl';
import { isPoeError } from '../ml/errors';
import { fetchPool, type FileProgress, type PoolBundle, type PoolSource } from '../ml/poolFetch';
import { disposePool, instantiatePool } from '../ml/poolModels';
import { prepareGraph } from '../ml/poolGraph';
import { checkTotalBytes } from '../ml/poolLimits';
import { parseReference } from '../ml/reference';
import { runtime } from './runtime';
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

let openSeq = 0;

export const createPoolOpenSlice: StateCreator<AppState, [], [], PoolOpenSlice> = (set, get) => {
  async function open(make: () => PoolSource | Promise<PoolSource>, origin: () => string, cacheId?: () => string): Promise<void> {
    const seq = ++openSeq;
    set({ poolOpenStatus: 'opening', poolOpenError: null, poolOpenProgress: [] });
    const notices: string[] = [];
    try {
      let bundle: PoolBundle;
      try {
        bundle = await fetchPool(await make(), (p) => seq === openSeq && set({ poolOpenProgress: p }));
      } catch (e) {
        // Offline (or the host is down): a pool opened from this URL before is in the cache, verified again on reading.
        const cached = cacheId && isPoeError(e) && e.code === 'NETWORK' ? await readCachedPool(cacheId()) : null;
        if (!cached?.bundle) throw e;
        bundle = cached.bundle;
        notices.push('The pool’s address could not be reached, so its copy in this browser is used.');
      }
      const pool = await instantiatePool(bundle);
      const reference = bundle.manifest.reference ? parseReference(bundle.files.get(bundle.manifest.reference.path)!) : null;
      if (seq !== openSeq) return disposePool(pool); // a later open won
      if (cacheId) {
        const saved = await writeCachedPool(cacheId(), bundle);
        if (!saved.ok) notices.push(`The pool works from memory but was not saved for offline use: ${saved.reason}.`);
      }
      runtime.model?.dispose();
      runtime.model = null;
      if (runtime.pool) disposePool(runtime.pool);
      runtime.pool = pool;
      runtime.reference = reference;
      set({
        poolStatus: 'ready', manifest: pool.manifest, poolBytes: pool.bytes, poolSource: 'network', poolError: null,
        poolNotice: notices.join(' ') || null, poolOrigin: origin(), poolOpenStatus: 'idle', poolOpenProgress: [],
      });
      await get().restoreCustom(); // as after loadPool: the user's own classes, before the selection is checked
      get().dropUnknownSelection();
      await get().buildModel();
      setTimeout(() => runtime.pool === pool && prepareGraph(pool), 0);
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
