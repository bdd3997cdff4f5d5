import type { StateCreator } from 'zustand';
import type { Sample } from '../io/sample';
import type { UnknownCalibration } from '../ml/taskModel';
import type { EngineHandles } from './engine';
import type { AppState } from './index';

export interface UnknownSlice {
  /** Build models with the "none of these" detector (every expert runs beside the chosen ones). */
  detectUnknown: boolean;
  /** What the threshold calibrated on the pool's sample does there; null until measured, or without a sample. */
  unknownCalibration: UnknownCalibration | null;
  unknownNote: string | null;
  /** The p(known) under which an image is "none of these": the calibrated one until the user moves the slider. */
  unknownThreshold: number;
  setDetectUnknown: (on: boolean) => Promise<void>;
  setUnknownThreshold: (threshold: number) => void;
  /** Sets the new model's threshold from the pool's sample (95 % of the chosen classes' images kept). */
  calibrateUnknown: () => Promise<void>;
}

export const createUnknownSlice = (engine: EngineHandles, getSample: () => Promise<Sample>): StateCreator<AppState, [], [], UnknownSlice> => (set, get) => ({
  detectUnknown: false,
  unknownCalibration: null,
  unknownNote: null,
  unknownThreshold: 0,

  setDetectUnknown: async (on) => {
    set({ detectUnknown: on });
    await get().buildModel();
  },

  setUnknownThreshold: (threshold) => {
    const c = engine.model;
    if (!c?.unknown) return;
    c.unknown.threshold = threshold;
    set({ unknownThreshold: threshold });
    void get().repredictUploads();
  },

  calibrateUnknown: async () => {
    const c = engine.model;
    set({ unknownCalibration: null, unknownNote: null, unknownThreshold: 0 });
    if (!c?.unknown) return;
    try {
      const s = await getSample();
      const cal = await c.calibrateUnknown(s.images, s.labels);
      if (engine.model !== c) return; // a newer model was built meanwhile
      // A shared model's threshold is part of it: it replaces the calibrated one once.
      const shared = get().recipeThreshold;
      if (shared !== null) c.unknown.threshold = shared;
      set({ unknownCalibration: cal, unknownThreshold: c.unknown.threshold, recipeThreshold: null });
      void get().repredictUploads();
    } catch (e) {
      const shared = get().recipeThreshold;
      if (shared !== null && engine.model === c) {
        c.unknown.threshold = shared; // a shared model's threshold needs no calibration
        return set({ unknownThreshold: shared, recipeThreshold: null });
      }
      const why = (e as Error).message;
      if (engine.model === c) set({ unknownNote: `"None of these" is off for this model: its threshold is set on the pool's sample images. ${why}` });
    }
  },
});
