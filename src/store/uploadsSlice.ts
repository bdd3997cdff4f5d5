import type { StateCreator } from 'zustand';
import { decodeImageFile } from '../io/imageFile';
import { imageShape } from '../ml/pool/poolManifest';
import type { Prediction } from '../ml/run/predict';
import type { EngineHandles } from './engine';
import type { AppState } from './index';

export interface Upload {
  id: number;
  name: string;
  thumbUrl: string | null;
  status: 'decoding' | 'ready' | 'error';
  error: string | null;
  predictions: Prediction[];
  /** The detector's p(known), and whether it says "none of these" (null: the model has no detector). */
  known: number | null;
  unknown: boolean;
}

export interface UploadsSlice {
  uploads: Upload[];
  addFiles: (files: File[]) => Promise<void>;
  repredictUploads: () => Promise<void>;
  clearUploads: () => void;
}

/** An upload's pixels as decoded for a pool's input (size and channels), and its file, to decode again for another pool. */
interface Decoded {
  file: File;
  pixels: Uint8Array;
  size: number;
  channels: number;
}

export const createUploadsSlice = (engine: EngineHandles): StateCreator<AppState, [], [], UploadsSlice> => (set, get) => {
  /** Decoded pixels stay outside the state (they are re-used on every model rebuild). */
  const decoded = new Map<number, Decoded>();
  let nextId = 1;
  const predict = async (d: Decoded): Promise<Pick<Upload, 'predictions' | 'known' | 'unknown'>> => {
    const c = engine.model;
    return c ? c.identify({ data: d.pixels, width: d.size, height: d.size }, 3) : { predictions: [], known: null, unknown: false };
  };
  const patch = (id: number, p: Partial<Upload>) => set({ uploads: get().uploads.map((u) => (u.id === id ? { ...u, ...p } : u)) });
  /** Decodes (again, when the pool's input changed since) and predicts one upload. */
  const run = async (id: number, file: File) => {
    const { size, channels } = imageShape(get().manifest?.input);
    let d = decoded.get(id);
    if (!d || d.size !== size || d.channels !== channels) {
      const img = await decodeImageFile(file, size, channels);
      d = { file, pixels: img.pixels, size, channels };
      decoded.set(id, d);
      patch(id, { thumbUrl: img.thumbUrl });
    }
    patch(id, { status: 'ready', ...(await predict(d)) });
  };
  return {
    uploads: [],
    addFiles: async (files) => {
      const fresh = files.map((f) => ({ id: nextId++, name: f.name, thumbUrl: null, status: 'decoding' as const, error: null, predictions: [], known: null, unknown: false }));
      set({ uploads: [...fresh, ...get().uploads] });
      // One at a time keeps the page responsive with hundreds of files.
      for (let i = 0; i < files.length; i++) {
        try {
          await run(fresh[i].id, files[i]);
        } catch (e) {
          patch(fresh[i].id, { status: 'error', error: (e as Error).message });
        }
      }
    },
    repredictUploads: async () => {
      for (const u of get().uploads) {
        const d = decoded.get(u.id);
        if (d) await run(u.id, d.file).catch((e) => patch(u.id, { status: 'error', error: (e as Error).message }));
      }
    },
    clearUploads: () => {
      decoded.clear();
      set({ uploads: [] });
    },
  };
};
