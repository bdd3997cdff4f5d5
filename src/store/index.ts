import { useStore } from 'zustand';
import { persist, createJSONStorage } from 'zustand/middleware';
import { createStore } from 'zustand/vanilla';
import { createModelSlice, type ModelSlice } from './modelSlice';
import { createPoolSlice, type PoolSlice } from './poolSlice';
import { createSelectionSlice, type SelectionSlice } from './selectionSlice';
import { createUploadsSlice, type UploadsSlice } from './uploadsSlice';
import { createCheckSlice, type CheckSlice } from './checkSlice';
import { createWebcamSlice, type WebcamSlice } from './webcamSlice';
import { createCustomSlice, type CustomSlice } from './customSlice';
import { createPoolOpenSlice, type PoolOpenSlice } from './poolOpenSlice';

export type AppState = PoolSlice & SelectionSlice & ModelSlice & UploadsSlice & CheckSlice & WebcamSlice & CustomSlice & PoolOpenSlice;

/** localStorage may be blocked (privacy modes); the app then keeps the selection in memory only. */
function safeLocalStorage() {
  try {
    localStorage.setItem('poe-probe', '1');
    localStorage.removeItem('poe-probe');
    return localStorage;
  } catch {
    const mem = new Map<string, string>();
    return { getItem: (k: string) => mem.get(k) ?? null, setItem: (k: string, v: string) => void mem.set(k, v), removeItem: (k: string) => void mem.delete(k) };
  }
}

export const appStore = createStore<AppState>()(
  persist(
    (...a) => ({ ...createPoolSlice(...a), ...createSelectionSlice(...a), ...createModelSlice(...a), ...createUploadsSlice(...a), ...createCheckSlice(...a), ...createWebcamSlice(...a), ...createCustomSlice(...a), ...createPoolOpenSlice(...a) }),
    {
      name: 'poe-studio',
      version: 1,
      storage: createJSONStorage(safeLocalStorage),
      // Small JSON only: the pool's bytes live in IndexedDB, never here.
      partialize: (s) => ({ selected: s.selected, poolId: s.poolId, preferredBackend: s.preferredBackend }),
    },
  ),
);

export function useAppStore<T>(selector: (s: AppState) => T): T {
  return useStore(appStore, selector);
}
