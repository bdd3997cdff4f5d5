import { useStore } from 'zustand';
import { persist, createJSONStorage } from 'zustand/middleware';
import { createStore } from 'zustand/vanilla';
import type { StateCreator } from 'zustand';
import { createModelSlice, type ModelSlice } from './modelSlice';
import { createPoolSlice, type PoolSlice } from './poolSlice';
import { createSelectionSlice, type SelectionSlice } from './selectionSlice';
import { createUploadsSlice, type UploadsSlice } from './uploadsSlice';
import { createCheckSlice, sampleLoader, type CheckSlice } from './checkSlice';
import { createWebcamSlice, type WebcamSlice } from './webcamSlice';
import { createCustomSlice, type CustomSlice } from './customSlice';
import { createPoolOpenSlice, type PoolOpenSlice } from './poolOpenSlice';
import { createUnknownSlice, type UnknownSlice } from './unknownSlice';
import { createShareSlice, type ShareSlice } from './shareSlice';
import type { EngineHandles } from './engine';

export type AppState = PoolSlice & SelectionSlice & ModelSlice & UploadsSlice & CheckSlice & WebcamSlice & CustomSlice & PoolOpenSlice & UnknownSlice & ShareSlice;

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

/** Every slice of the app's state; each store owns its engine objects (the open pool and model). */
function appState(): StateCreator<AppState> {
  const engine: EngineHandles = { pool: null, model: null, source: null };
  const getSample = sampleLoader(engine);
  return (...a) => ({
    ...createPoolSlice(engine)(...a), ...createSelectionSlice(engine)(...a), ...createModelSlice(engine)(...a),
    ...createUploadsSlice(engine)(...a), ...createCheckSlice(engine, getSample)(...a), ...createWebcamSlice(engine)(...a),
    ...createCustomSlice(engine, getSample)(...a), ...createPoolOpenSlice(...a), ...createUnknownSlice(engine, getSample)(...a),
    ...createShareSlice(engine)(...a),
  });
}

/** A store with its own engine objects, persisting the selections, pool id and backend preference under `name`. */
export function createAppStore(name = 'poe-studio') {
  return createStore<AppState>()(
    persist(appState(), {
      name,
      version: 1,
      storage: createJSONStorage(safeLocalStorage),
      // Small JSON only: the pool's bytes live in IndexedDB, never here.
      partialize: (s) => ({ selected: s.selected, selections: s.selections, poolId: s.poolId, preferredBackend: s.preferredBackend, preferredWasmThreads: s.preferredWasmThreads, detectUnknown: s.detectUnknown }),
    }),
  );
}

export const appStore = createAppStore();

export function useAppStore<T>(selector: (s: AppState) => T): T {
  return useStore(appStore, selector);
}
