import type { StateCreator } from 'zustand';
import { readCustomClasses, writeCustomClasses } from '../io/customCache';
import { decodeImageFile } from '../io/imageFile';
import { rgbToDataUrl, saveText } from '../io/pixels';
import { MIN_CUSTOM_SHOTS } from '../ml/custom/customExpert';
import type { StoredCustomClass } from '../ml/custom/customFile';
import type { CustomClassInfo } from '../ml/custom/customClasses';
import { imageShape } from '../ml/pool/poolManifest';
import type { Sample } from '../io/sample';
import type { EngineHandles } from './engine';
import type { AppState } from './index';

export type { CustomClassInfo } from '../ml/custom/customClasses';

export interface CustomSlice {
  customClasses: CustomClassInfo[];
  /** Images waiting to train a new class (or to be added to one on retraining): thumbnails as data URLs. */
  customDraft: string[];
  customBusy: { label: string; phase: 'preparing' | 'training'; progress: number } | null;
  customError: string | null;
  addCustomFiles: (files: File[]) => Promise<void>;
  /** Adds the webcam's latest frame (the model's view) to the draft, if it is a new frame; true if added. */
  captureCustomFrame: () => boolean;
  clearCustomDraft: () => void;
  /** Trains a new class from the draft, or retrains `id` on its images plus the draft. */
  trainCustom: (label: string, id?: string) => Promise<void>;
  renameCustom: (id: string, label: string) => Promise<void>;
  removeCustom: (id: string) => Promise<void>;
  exportCustom: () => void;
  importCustom: (file: File) => Promise<void>;
  /** Puts the stored classes into the freshly loaded pool (called by loadPool). */
  restoreCustom: () => Promise<void>;
  /** Adds classes a shared link or project carries (Pool.customClasses.add: one already here is kept, gaining images it lacked). */
  adoptCustomClasses: (classes: StoredCustomClass[]) => Promise<void>;
}

const concat = (parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
};

export const createCustomSlice = (engine: EngineHandles, getSample: () => Promise<Sample>): StateCreator<AppState, [], [], CustomSlice> => (set, get) => {
  /** UI state only: the draft's pixels and the last webcam frame taken. The classes live in the engine (Pool.customClasses). */
  const draft: Uint8Array[] = [];
  let lastFrame: Uint8Array | null = null;
  /** The pool name the draft was decoded for. */
  let draftFor: string | null = null;
  /** The classes of the last pool saved, also in memory: reopening it (a backend switch) restores them where IndexedDB is unavailable. */
  let carried: { pool: string; records: StoredCustomClass[] } | null = null;

  const info = (): CustomClassInfo[] => engine.pool?.customClasses.list() ?? [];
  const persist = async () => {
    const pool = engine.pool;
    set({ customClasses: info() });
    if (!pool) return;
    const records = pool.customClasses.records();
    carried = { pool: pool.manifest.name, records };
    try {
      await writeCustomClasses(pool.manifest.name, records);
    } catch (e) {
      set({ customError: `Your classes work now but were not saved in this browser: ${(e as Error).message}` });
    }
  };
  const size = () => imageShape(get().manifest?.input).size;
  const channels = () => imageShape(get().manifest?.input).channels;
  const perImage = () => size() * size() * channels();
  const addToDraft = (pixels: Uint8Array) => {
    draft.push(pixels);
    set({ customDraft: [...get().customDraft, rgbToDataUrl(pixels, size())] });
    void engine.pool?.customClasses.prepare().catch(() => undefined); // get ready while the user collects images
  };
  /**
   * Trains a class (a new one, or a fresh expert replacing `replaces`), swaps it into the selection,
   * rebuilds the model, and only then frees the expert it replaces, which the old model still used.
   */
  const train = async (label: string, images: Uint8Array, replaces?: string) => {
    const pool = engine.pool!;
    set({ customBusy: { label, phase: 'preparing', progress: 0 }, customError: null });
    let spec;
    try {
      await pool.customClasses.prepare();
      set({ customBusy: { label, phase: 'training', progress: 0 } });
      spec = await pool.customClasses.train(label, images, { replaces, onProgress: (progress) => set({ customBusy: { label, phase: 'training', progress } }) });
    } finally {
      set({ customBusy: null });
    }
    const { selected } = get();
    const swapped = replaces && selected.includes(replaces) ? selected.map((n) => (n === replaces ? spec.id : n)) : selected;
    set({ selected: swapped.includes(spec.id) || replaces ? swapped : [...swapped, spec.id] });
    await get().buildModel();
    if (replaces) pool.customClasses.remove(replaces);
    await persist();
    return spec;
  };
  /** Classes trained on another version of the pool are retrained on their images, in the background. */
  const retrainStale = (stale: StoredCustomClass[]) => {
    const blind = stale.filter((c) => c.images.length === 0);
    const n = blind.length > 1;
    if (blind.length)
      set({ customError: `${blind.map((c) => `“${c.spec.label}”`).join(', ')} came from a shared link without ${n ? 'their' : 'its'} training images and ${n ? 'were' : 'was'} made for another version of this pool, so ${n ? 'they are' : 'it is'} left out. Open the project file that has the images, or train ${n ? 'them' : 'it'} again.` });
    const able = stale.filter((c) => c.images.length > 0);
    if (!able.length) return;
    void (async () => {
      for (const c of able) await train(c.spec.label, c.images, c.spec.id).catch((e) => set({ customError: (e as Error).message }));
    })();
  };
  return {
    customClasses: [],
    customDraft: [],
    customBusy: null,
    customError: null,

    addCustomFiles: async (files) => {
      set({ customError: null });
      const problems: string[] = [];
      for (const f of files) {
        try {
          addToDraft((await decodeImageFile(f, size(), channels(), { thumbnail: false })).pixels);
        } catch (e) {
          problems.push(`${f.name}: ${(e as Error).message}`);
        }
      }
      if (problems.length) set({ customError: problems.join(' ') });
    },

    captureCustomFrame: () => {
      const frame = get().webcamCrop;
      if (!frame || frame === lastFrame) return false;
      lastFrame = frame;
      addToDraft(frame.slice());
      return true;
    },

    clearCustomDraft: () => {
      draft.length = 0;
      set({ customDraft: [] });
    },

    trainCustom: async (label, id) => {
      const pool = engine.pool;
      if (!pool || get().customBusy) return;
      const images = concat([...(id ? [pool.customClasses.images(id) ?? new Uint8Array(0)] : []), ...draft]);
      const count = images.length / perImage();
      if (count < MIN_CUSTOM_SHOTS) {
        set({ customError: `Add at least ${MIN_CUSTOM_SHOTS} images (you have ${count}): hold the capture button in front of the webcam, or upload photos.` });
        return;
      }
      try {
        await train(label, images, id);
        get().clearCustomDraft();
      } catch (e) {
        set({ customError: (e as Error).message });
      }
    },

    renameCustom: async (id, label) => {
      const pool = engine.pool;
      if (!pool) return;
      try {
        pool.customClasses.rename(id, label);
        set({ customError: null });
        await persist();
        await get().buildModel();
      } catch (e) {
        set({ customError: (e as Error).message });
      }
    },

    removeCustom: async (id) => {
      const pool = engine.pool;
      set({ selected: get().selected.filter((n) => n !== id) });
      await get().buildModel(); // the old model may use the expert: replace it first
      pool?.customClasses.remove(id);
      await persist();
    },

    exportCustom: () => {
      if (engine.pool) saveText(engine.pool.customClasses.toJSON(), 'poe-custom-classes.json');
    },

    importCustom: async (file) => {
      const pool = engine.pool;
      if (!pool) return;
      try {
        const { stale } = pool.customClasses.fromJSON(await file.text());
        set({ customError: null });
        await persist();
        retrainStale(stale);
      } catch (e) {
        set({ customError: (e as Error).message });
      }
    },

    restoreCustom: async () => {
      const pool = engine.pool;
      if (!pool) return;
      const name = pool.manifest.name;
      if (draftFor !== name) {
        get().clearCustomDraft(); // decoded for another pool's input
        draftFor = name;
      }
      pool.customClasses.setNegatives(async () => {
        const s = await getSample();
        return { images: s.images, labels: s.labels, count: s.count };
      });
      let records: StoredCustomClass[] = carried?.pool === name ? carried.records : [];
      if (!records.length) {
        try {
          records = await readCustomClasses(name);
        } catch (e) {
          set({ customError: `Your saved classes could not be read: ${(e as Error).message}` });
        }
      }
      const { stale } = pool.customClasses.add(records);
      set({ customClasses: info() });
      retrainStale(stale);
    },

    adoptCustomClasses: async (classes) => {
      if (!engine.pool) return;
      engine.pool.customClasses.add(classes);
      await persist();
    },
  };
};
