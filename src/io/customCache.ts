import { createStore, get, set, type UseStore } from 'idb-keyval';
import type { StoredCustomClass } from '../ml/customFile';

/** The user's own classes, per pool name, in IndexedDB (weights and training images: binary, so not localStorage). */
const DB_NAME = 'poe-studio-custom';
const STORE_NAME = 'classes';
export const CUSTOM_CACHE_VERSION = 1;

let store: UseStore | null = null;
function db(): UseStore {
  if (!store) {
    if (typeof indexedDB === 'undefined') throw new Error('IndexedDB is not available in this browser');
    store = createStore(DB_NAME, STORE_NAME);
  }
  return store;
}

const keyFor = (poolName: string) => `custom:v${CUSTOM_CACHE_VERSION}:${poolName}`;

export async function readCustomClasses(poolName: string): Promise<StoredCustomClass[]> {
  if (typeof indexedDB === 'undefined') return []; // nothing can have been saved
  return (await get<StoredCustomClass[]>(keyFor(poolName), db())) ?? [];
}

export async function writeCustomClasses(poolName: string, classes: StoredCustomClass[]): Promise<void> {
  await set(keyFor(poolName), classes, db());
}
