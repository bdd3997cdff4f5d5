import type { StateCreator } from 'zustand';
import { activeBackend, selectBackend, type BackendName, type BackendStatus } from '../ml/run/backend';
import type { WasmThreadSetting } from '../ml/run/wasmThreads';
import type { ReferenceCheck } from '../ml/run/reference';
import { memoryStats, type MemoryStats } from '../ml/run/memory';
import type { TaskModel } from '../ml/taskModel';
import type { EngineHandles } from './engine';
import type { AppState } from './index';

export interface ModelInfo {
  labels: string[];
  experts: { name: string; classes: number; whole: boolean }[];
  params: number;
  bytes: number;
  buildMs: number;
  /** Compiling the plan predictions run through (run/plan.ts), in milliseconds. */
  compileMs: number;
  /** Graph assembly plus the first (warm-up) prediction, in milliseconds. */
  readyMs: number;
}

export interface ModelSlice {
  preferredBackend: BackendName | 'auto';
  /** XNNPACK worker threads on wasm: 'auto' measures 1 against the most the page can have at start-up. */
  preferredWasmThreads: WasmThreadSetting;
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
  setWasmThreads: (t: WasmThreadSetting) => Promise<void>;
  buildModel: () => Promise<void>;
}

export const createModelSlice = (engine: EngineHandles): StateCreator<AppState, [], [], ModelSlice> => (set, get) => {
  let buildSeq = 0;
  return {
    preferredBackend: 'auto',
    preferredWasmThreads: 'auto',
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
      if (!engine.pool) return set({ deviceCheckError: 'No pool is loaded yet, so there is nothing to check.' });
      try {
        const r = await engine.pool.checkDevice();
        set({ deviceCheck: { ...r, backend: activeBackend() } });
      } catch (e) {
        set({ deviceCheckError: (e as Error).message });
      }
    },

    initBackend: async () => {
      try {
        set({ backend: await selectBackend(get().preferredBackend, get().preferredWasmThreads), backendError: null });
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

    setWasmThreads: async (t) => {
      set({ preferredWasmThreads: t, deviceCheck: null });
      if (get().backend?.active !== 'wasm') return;
      await get().initBackend();
      if (get().manifest) await get().loadPool(); // the weights lived in the wasm instance just replaced
    },

    buildModel: async () => {
      const seq = ++buildSeq;
      const pool = engine.pool;
      const { selected } = get();
      const replace = (next: TaskModel | null) => {
        if (engine.model && engine.model !== next) engine.model.dispose();
        engine.model = next;
      };
      if (!pool || selected.length === 0) {
        replace(null);
        set({ model: null, modelError: null, modelVersion: get().modelVersion + 1 });
        return;
      }
      try {
        const t0 = performance.now();
        const c = pool.consolidate(selected, { unknown: get().detectUnknown });
        await c.predictLogits(new Uint8Array(c.imageBytes), 1); // warm-up so the first real frame is fast
        if (seq !== buildSeq) {
          c.dispose(); // a newer selection started its own build meanwhile
          return;
        }
        replace(c);
        set({
          model: {
            labels: c.labels,
            experts: c.plan.parts.map((p) => ({ name: p.custom ? `“${pool.customClasses.get(p.expert)?.spec.label}” (yours)` : p.expert, classes: p.keep.length, whole: p.whole })),
            params: c.params,
            bytes: c.bytes,
            buildMs: c.buildMs,
            compileMs: c.compileMs,
            readyMs: performance.now() - t0,
          },
          modelError: null,
          modelVersion: get().modelVersion + 1,
          memory: memoryStats(),
        });
        void get().calibrateUnknown();
      } catch (e) {
        if (seq !== buildSeq) return; // a newer build owns the model now
        replace(null);
        set({ model: null, modelError: (e as Error).message, modelVersion: get().modelVersion + 1 });
      }
    },
  };
};
