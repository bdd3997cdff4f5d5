import type { StateCreator } from 'zustand';
import { decodeImageFile } from '../io/imageFile';
import { channelCount } from '../ml/poolManifest';
import type { Prediction } from '../ml/predict';
import type { EngineHandles } from './engine';
import type { AppState } from './index';

export interface Upload {
  id: number;
  name: string;
  thumbUrl: string | null;
  status: 'decoding' | 'ready' | 'error';
  error: string | null;
  predictions: Prediction[];
}

export interface UploadsSlice {
  uploads: Upload[];
  addFiles: (files: File[]) => Promise<void>;
  repredictUploads: () => Promise<void>;
  clearUploads: () => void;
}

export const createUploadsSlice = (engine: EngineHandles): StateCreator<AppState, [], [], UploadsSlice> => (set, get) => {
  /** Decoded pixels stay outside the state (they are re-used on every model rebuild). */
  const pixelsById = new Map<number, Uint8Array>();
  let nextId = 1;
  const predict = async (pixels: Uint8Array): Promise<Prediction[]> => {
    const c = engine.model;
    return c ? c.classify({ data: pixels, width: c.sizePx, height: c.sizePx }, 3) : [];
  };
  const patch = (id: number, p: Partial<Upload>) => set({ uploads: get().uploads.map((u) => (u.id === id ? { ...u, ...p } : u)) });
  return {
    uploads: [],
    addFiles: async (files) => {
      const input = get().manifest?.input;
      const size = input?.sizePx ?? 32;
      const channels = input ? channelCount(input) : 3;
      const fresh = files.map((f) => ({ id: nextId++, name: f.name, thumbUrl: null, status: 'decoding' as const, error: null, predictions: [] }));
      set({ uploads: [...fresh, ...get().uploads] });
      // One at a time keeps the page responsive with hundreds of files.
      for (let i = 0; i < files.length; i++) {
        const id = fresh[i].id;
        try {
          const img = await decodeImageFile(files[i], size, channels);
          pixelsById.set(id, img.pixels);
          patch(id, { thumbUrl: img.thumbUrl, status: 'ready', predictions: await predict(img.pixels) });
        } catch (e) {
          patch(id, { status: 'error', error: (e as Error).message });
        }
      }
    },
    repredictUploads: async () => {
      for (const u of get().uploads) {
        const px = pixelsById.get(u.id);
        if (px) patch(u.id, { predictions: await predict(px) });
      }
    },
    clearUploads: () => {
      get().uploads.forEach((u) => u.thumbUrl && URL.revokeObjectURL(u.thumbUrl));
      pixelsById.clear();
      set({ uploads: [] });
    },
  };
};
