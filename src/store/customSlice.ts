import type { StateCreator } from 'zustand';
import { readCustomClasses, writeCustomClasses } from '../io/customCache';
import { decodeImageFile } from '../io/imageFile';
import { rgbToDataUrl, saveText } from '../io/pixels';
import { MIN_CUSTOM_SHOTS } from '../ml/custom/customExpert';
import { trainCustomClass } from '../ml/custom/customClass';
import { customClassesFile, parseCustomClassesFile, type StoredCustomClass } from '../ml/custom/customFile';
import { prepareNegatives, type NegativeSet } from '../ml/custom/customFeatures';
import type { Pool } from '../ml/pool';
import { imageShape } from '../ml/pool/poolManifest';
import type { Sample } from '../io/sample';
import type { EngineHandles } from './engine';
import type { AppState } from './index';

export interface CustomClassInfo {
  id: string;
  label: string;
  shots: number;
  trainMs: number;
}

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
  /** Adds classes a shared link or project carries; one already here (same id) is kept, gaining images it lacked. */
  adoptCustomClasses: (classes: StoredCustomClass[]) => Promise<void>;
  /** The stored classes (weights and training images), e.g. for a project file. */
  storedCustomClasses: () => ReadonlyMap<string, StoredCustomClass>;
}

const concat = (parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
};

/** The label, or "label (2)", "label (3)"... when a pool class or another custom class has it. */
function freeLabel(label: string, taken: Set<string>): string {
  let free = label;
  for (let k = 2; taken.has(free); k++) free = `${label} (${k})`;
  taken.add(free);
  return free;
}

export const createCustomSlice = (engine: EngineHandles, getSample: () => Promise<Sample>): StateCreator<AppState, [], [], CustomSlice> => (set, get) => {
  /** Off-state data: draft pixels, each class's training images, negatives per loaded pool. */
  const draft: Uint8Array[] = [];
  let lastFrame: Uint8Array | null = null;
  const stored = new Map<string, StoredCustomClass>();
  /** The pool name whose classes `stored` holds. */
  let storedFor: string | null = null;
  const negatives = new WeakMap<Pool, Promise<NegativeSet>>();
  /** Calibration negatives: the built-in sample (pool classes), prepared once per loaded pool. */
  const negativesFor = (pool: Pool): Promise<NegativeSet> => {
    let n = negatives.get(pool);
    if (!n) {
      n = getSample().then((s) => prepareNegatives(pool.loaded, s.images, s.labels, s.count));
      n.catch(() => negatives.delete(pool));
      negatives.set(pool, n);
    }
    return n;
  };
  const takenLabels = (pool: Pool) => new Set([...pool.manifest.classes.map((c) => c.name), ...pool.manifest.experts.map((e) => e.name), ...info().map((c) => c.label)]);
  const info = (): CustomClassInfo[] => [...stored.values()].map(({ spec }) => ({ id: spec.id, label: spec.label, shots: spec.shots, trainMs: spec.trainMs }));
  const persist = async () => {
    const pool = engine.pool;
    set({ customClasses: info() });
    if (!pool) return;
    try {
      await writeCustomClasses(pool.manifest.name, [...stored.values()]);
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
    if (engine.pool) void negativesFor(engine.pool).catch(() => undefined); // get ready while the user collects images
  };
  /**
   * Trains a class (a new one, or a fresh expert replacing `replaces`), swaps it into the selection,
   * rebuilds the model, and only then frees the expert it replaces, which the old model still used.
   */
  const train = async (label: string, images: Uint8Array, replaces?: string) => {
    const pool = engine.pool!;
    const per = perImage();
    set({ customBusy: { label, phase: 'preparing', progress: 0 }, customError: null });
    let spec;
    try {
      const neg = await negativesFor(pool);
      set({ customBusy: { label, phase: 'training', progress: 0 } });
      spec = await trainCustomClass(pool.loaded, neg, { label, images, count: images.length / per, replaces },
        { onProgress: (progress) => set({ customBusy: { label, phase: 'training', progress } }) });
    } finally {
      set({ customBusy: null });
    }
    if (replaces) stored.delete(replaces);
    stored.set(spec.id, { spec, images });
    const { selected } = get();
    const swapped = replaces && selected.includes(replaces) ? selected.map((n) => (n === replaces ? spec.id : n)) : selected;
    set({ selected: swapped.includes(spec.id) || replaces ? swapped : [...swapped, spec.id] });
    await get().buildModel();
    if (replaces) pool.removeCustomClass(replaces);
    await persist();
    return spec;
  };
  /** Classes trained on another version of the pool are retrained on their images, in the background. */
  const retrainStale = (stale: StoredCustomClass[]) => {
    const blind = stale.filter((c) => c.images.length === 0);
    if (blind.length)
      set({ customError: `${blind.map((c) => `“${c.spec.label}”`).join(', ')} came from a shared link without ${blind.length > 1 ? 'their' : 'its'} training images and ${blind.length > 1 ? 'were' : 'was'} made for another version of this pool, so ${blind.length > 1 ? 'they are' : 'it is'} left out. Open the project file that has the images, or train ${blind.length > 1 ? 'them' : 'it'} again.` });
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
          const img = await decodeImageFile(f, size(), channels());
          URL.revokeObjectURL(img.thumbUrl);
          addToDraft(img.pixels);
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
      if (!engine.pool || get().customBusy) return;
      const old = id ? stored.get(id) : undefined;
      const images = concat([...(old ? [old.images] : []), ...draft]);
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
      const s = stored.get(id);
      if (!pool || !s) return;
      try {
        s.spec = pool.renameCustomClass(id, label);
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
      if (pool) pool.removeCustomClass(id);
      stored.delete(id);
      await persist();
    },

    exportCustom: () => saveText(customClassesFile([...stored.values()]), 'poe-custom-classes.json'),

    importCustom: async (file) => {
      const pool = engine.pool;
      if (!pool) return;
      try {
        const classes = parseCustomClassesFile(await file.text(), size(), channels());
        const taken = takenLabels(pool);
        const stale: StoredCustomClass[] = [];
        for (const c of classes) {
          c.spec.label = freeLabel(c.spec.label, taken);
          stored.set(c.spec.id, c);
          if (c.spec.pool.version === pool.manifest.version) pool.addCustomClass(c.spec);
          else stale.push(c);
        }
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
      if (storedFor !== pool.manifest.name) {
        // Another pool: its own classes (saved per pool name), and a draft decoded for the old pool's input is dropped.
        stored.clear();
        get().clearCustomDraft();
        storedFor = pool.manifest.name;
      }
      try {
        if (stored.size === 0) for (const c of await readCustomClasses(pool.manifest.name)) stored.set(c.spec.id, c);
      } catch (e) {
        set({ customError: `Your saved classes could not be read: ${(e as Error).message}` });
      }
      const stale: StoredCustomClass[] = [];
      for (const c of stored.values()) {
        if (c.spec.pool.version !== pool.manifest.version) stale.push(c);
        else pool.addCustomClass(c.spec);
      }
      set({ customClasses: info() });
      retrainStale(stale);
    },

    adoptCustomClasses: async (classes) => {
      const pool = engine.pool;
      if (!pool) return;
      const taken = takenLabels(pool);
      for (const c of classes) {
        const have = stored.get(c.spec.id);
        if (have && pool.customClasses.has(c.spec.id)) {
          if (!have.images.length && c.images.length) have.images = c.images;
          continue;
        }
        // New here, or kept from an older pool version and left out: the recipe's weights fit this pool.
        c.spec.label = have ? have.spec.label : freeLabel(c.spec.label, taken);
        if (have && !c.images.length) c.images = have.images;
        pool.addCustomClass(c.spec);
        stored.set(c.spec.id, c);
      }
      await persist();
    },

    storedCustomClasses: () => stored,
  };
};
