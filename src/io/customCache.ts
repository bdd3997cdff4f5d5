import { get, set } from 'idb-keyval';
import { lazyIdbStore } from './idbStore';
import type { StoredCustomClass } from '../ml/custom/customFile';

/** The user's own classes, per pool name, in IndexedDB (weights and training images: binary, so not localStorage). */
const DB_NAME = 'poe-studio-custom';
const STORE_NAME = 'classes';
export const CUSTOM_CACHE_VERSION = 1;

const { run } = lazyIdbStore(DB_NAME, STORE_NAME);

const keyFor = (poolName: string) => `custom:v${CUSTOM_CACHE_VERSION}:${poolName}`;

export async function readCustomClasses(poolName: string): Promise<StoredCustomClass[]> {
  if (typeof indexedDB === 'undefined') return []; // nothing can have been saved
  return (await run((d) => get<StoredCustomClass[]>(keyFor(poolName), d))) ?? [];
}

export async function writeCustomClasses(poolName: string, classes: StoredCustomClass[]): Promise<void> {
  await run((d) => set(keyFor(poolName), classes, d));
}
