import type { StateCreator } from 'zustand';
import { activeBackend, selectBackend, type BackendName, type BackendStatus } from '../ml/backend';
import { checkAgainstReference, type ReferenceCheck } from '../ml/reference';
import { consolidate } from '../ml/consolidate';
import { memoryStats, type MemoryStats } from '../ml/memory';
import { predictLogits } from '../ml/predict';
import { runtime } from './runtime';
import type { AppState } from './index';

export interface ModelInfo {
  labels: string[];
  experts: { name: string; classes: number; whole: boolean }[];
  params: number;
  bytes: number;
  buildMs: number;
  /** Graph assembly plus the first (warm-up) prediction, in milliseconds. */
  readyMs: number;
}

export interface ModelSlice {
  preferredBackend: BackendName | 'auto';
  backend: BackendStatus | null;
  backendError: string | null;
  model: ModelInfo | null;
  modelError: string | null;
  /** Increments on each rebuild, so consumers can re-run predictions. */
  modelVersion: number;
  memory: MemoryStats | null;
  refreshMemory: () => void;
  deviceCheck: (ReferenceCheck & { backend: string }) | null;
  deviceCheckError: string | null;
  /** Runs the pool's reference images on the active backend and compares with PyTorch's logits. */
  checkDevice: () => Promise<void>;
  initBackend: () => Promise<void>;
  setBackend: (b: BackendName | 'auto') => Promise<void>;
  buildModel: () => Promise<void>;
}

let buildSeq = 0;

export const createModelSlice: StateCreator<AppState, [], [], ModelSlice> = (set, get) => ({
  preferredBackend: 'auto',
  backend: null,
  backendError: null,
  model: null,
  modelError: null,
  modelVersion: 0,
  memory: null,
  refreshMemory: () => set({ memory: memoryStats() }),
  deviceCheck: null,
  deviceCheckError: null,

  checkDevice: async () => {
    set({ deviceCheck: null, deviceCheckError: null });
    if (!runtime.pool || !runtime.reference) {
      set({ deviceCheckError: 'This pool carries no reference outputs to check against.' });
      return;
    }
    try {
      const r = await checkAgainstReference(runtime.pool, runtime.reference);
      set({ deviceCheck: { ...r, backend: activeBackend() } });
    } catch (e) {
      set({ deviceCheckError: (e as Error).message });
    }
  },

  initBackend: async () => {
    try {
      set({ backend: await selectBackend(get().preferredBackend), backendError: null });
    } catch (e) {
      set({ backendError: (e as Error).message });
    }
  },

  setBackend: async (b) => {
    set({ preferredBackend: b, deviceCheck: null });
    await get().initBackend();
    // Weights live on the old backend: reload the pool's models onto the new one.
    if (get().manifest) await get().loadPool();
  },

  buildModel: async () => {
    const seq = ++buildSeq;
    const pool = runtime.pool;
    const { selected } = get();
    const replace = (next: typeof runtime.model) => {
      if (runtime.model && runtime.model !== next) runtime.model.dispose();
      runtime.model = next;
    };
    if (!pool || selected.length === 0) {
      replace(null);
      set({ model: null, modelError: null, modelVersion: get().modelVersion + 1 });
      return;
    }
    try {
      const t0 = performance.now();
      const c = consolidate(pool, selected);
      const size = pool.manifest.input.sizePx;
      await predictLogits(c.model, new Uint8Array(size * size * 3), 1, size); // warm-up so the first real frame is fast
      if (seq !== buildSeq) {
        c.dispose(); // a newer selection started its own build meanwhile
        return;
      }
      replace(c);
      set({
        model: {
          labels: c.labels,
          experts: c.plan.parts.map((p) => ({ name: p.custom ? `“${pool.custom?.get(p.expert)?.spec.label}” (yours)` : p.expert, classes: p.keep.length, whole: p.whole })),
          params: c.params,
          bytes: c.params * 4,
          buildMs: c.buildMs,
          readyMs: performance.now() - t0,
        },
        modelError: null,
        modelVersion: get().modelVersion + 1,
        memory: memoryStats(),
      });
    } catch (e) {
      replace(null);
      set({ model: null, modelError: (e as Error).message, modelVersion: get().modelVersion + 1 });
    }
  },
});
