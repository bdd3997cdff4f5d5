import { createStore, type UseStore } from 'idb-keyval';
import { PoeError } from '../ml/errors';

/**
 * One idb-keyval store, opened on first use. run() opens it again once if the open connection was
 * closed under us (the user or the browser cleared the site's storage mid-session: the next use fails
 * with InvalidStateError, and a fresh open recreates the empty database).
 */
export function lazyIdbStore(dbName: string, storeName: string) {
  let store: UseStore | null = null;
  const db = (): UseStore => {
    if (!store) {
      if (typeof indexedDB === 'undefined') throw new PoeError('DATA_MISSING', 'IndexedDB is not available in this browser');
      store = createStore(dbName, storeName);
    }
    return store;
  };
  const run = async <T>(op: (s: UseStore) => Promise<T>): Promise<T> => {
    try {
      return await op(db());
    } catch (e) {
      if ((e as DOMException)?.name !== 'InvalidStateError') throw e;
      store = null;
      return op(db());
    }
  };
  return { db, run };
}
