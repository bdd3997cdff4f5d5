import QRCode from 'qrcode';
import type { StateCreator } from 'zustand';
import { saveText } from '../io/pixels';
import { isCustomName } from '../ml/custom/customExpert';
import { isPoeError } from '../ml/errors';
import type { Pool } from '../ml/pool';
import { poolFingerprint } from '../ml/pool/poolFingerprint';
import { parseProjectFile, parseRecipeFragment, projectFile, recipeFragment, type Recipe, type RecipePool } from '../ml/share/recipe';
import { makeRecipe, recipeCustomClasses, recipeMismatch } from '../ml/share/recipePool';
import type { EngineHandles } from './engine';
import type { AppState } from './index';

/** What a QR code can hold in bytes at the lowest error correction (version 40-L). */
const QR_MAX_CHARS = 2953;
const MAX_PROJECT_BYTES = 64 << 20;

export interface ShareInfo {
  link: string;
  /** An SVG data URL, or null when the link is too long for a QR code (qrNote says so). */
  qr: string | null;
  qrNote: string | null;
}

export interface RecipeNotice {
  kind: 'applied' | 'needs-pool' | 'mismatch' | 'error' | 'opening';
  code?: string;
  message: string;
  /** Same pool name, every name present: the model can be built from this pool's version anyway. */
  canForce?: boolean;
  /** The selection before the recipe replaced it can come back. */
  canUndo?: boolean;
}

export interface ShareSlice {
  share: ShareInfo | null;
  shareError: string | null;
  recipeNotice: RecipeNotice | null;
  /** The "none of these" threshold a recipe set, applied once the new model is calibrated. */
  recipeThreshold: number | null;
  /** Writes the model's recipe into a link (fragment only) and a QR code. */
  makeShareLink: () => Promise<void>;
  closeShare: () => void;
  saveProject: (withImages: boolean) => Promise<void>;
  openProjectFile: (file: File) => Promise<void>;
  /** Reads a #model=... fragment and builds its model (opening its pool first where the link names one). */
  openRecipeLink: (hash: string) => Promise<void>;
  /** After the pool is loaded: opens a pending recipe's pool when it names one that is not in use. */
  followRecipe: () => Promise<void>;
  /** Called by installPool: a pending recipe that fits the new pool sets the selection; true when it did. */
  applyPendingRecipe: () => Promise<boolean>;
  buildRecipeAnyway: () => Promise<void>;
  undoRecipe: () => Promise<void>;
  dismissRecipeNotice: () => void;
}

export const createShareSlice = (engine: EngineHandles): StateCreator<AppState, [], [], ShareSlice> => (set, get) => {
  let pending: Recipe | null = null;
  let before: { pool: string; selected: string[]; detectUnknown: boolean } | null = null;
  const fingerprints = new WeakMap<Pool, Promise<string>>();
  const fingerprintOf = (pool: Pool) => {
    let f = fingerprints.get(pool);
    if (!f) fingerprints.set(pool, (f = poolFingerprint(pool.manifest)));
    return f;
  };
  const fail = (e: unknown) => set({ recipeNotice: { kind: 'error', code: isPoeError(e) ? e.code : 'UNEXPECTED', message: (e as Error).message } });

  /** The recipe of the model in use, with the custom classes' images when asked. */
  const currentRecipe = async (withImages: boolean): Promise<Recipe> => {
    const pool = engine.pool;
    const model = engine.model;
    if (!pool || !model) throw new Error('Build a model first: pick some classes.');
    const { poolId, poolOrigin, selected } = get();
    const where: Partial<RecipePool> = poolOrigin === null && poolId ? { builtin: poolId } : poolOrigin?.startsWith('http') ? { url: poolOrigin } : {};
    const custom = new Map([...pool.customClasses].map(([id, c]) => [id, { spec: c.spec, images: withImages ? pool.customClasses.images(id) : undefined }]));
    return makeRecipe({ name: pool.manifest.name, version: pool.manifest.version, fingerprint: await fingerprintOf(pool), ...where },
      selected, custom, model.unknown ? model.unknown.threshold : null);
  };

  /** Replaces the selection by the recipe's (exact: with its custom classes and threshold). */
  const adopt = async (r: Recipe, exact: boolean) => {
    const pool = engine.pool!;
    if (exact) await get().adoptCustomClasses(recipeCustomClasses(r, pool.manifest));
    const selected = exact ? r.selected : r.selected.filter((n) => !isCustomName(n));
    const dropped = r.selected.length - selected.length;
    set({
      selected,
      detectUnknown: r.unknown !== null,
      recipeThreshold: exact ? (r.unknown?.threshold ?? null) : null,
      recipeNotice: {
        kind: 'applied',
        canUndo: before?.pool === pool.manifest.name,
        message: exact
          ? `Opened the shared model: ${r.selected.length} name${r.selected.length === 1 ? '' : 's'} from the pool "${r.pool.name}" v${r.pool.version}${r.custom.length ? `, with ${r.custom.length} class${r.custom.length === 1 ? '' : 'es'} of its maker's own` : ''}${r.unknown ? ', "none of these" on' : ''}.`
          : `Built the shared selection from this pool's version (v${pool.manifest.version}); its predictions may differ from the shared model's${dropped ? `, and ${dropped} custom class${dropped === 1 ? '' : 'es'} trained on v${r.pool.version} ${dropped === 1 ? 'was' : 'were'} left out` : ''}.`,
      },
    });
  };

  const start = async (r: Recipe) => {
    pending = r;
    // At start-up no pool is loaded yet: the saved selection belongs to the link's pool only if that is the one remembered.
    const was = get().manifest?.name ?? (r.pool.builtin && r.pool.builtin === get().poolId ? r.pool.name : '');
    before = { pool: was, selected: get().selected, detectUnknown: get().detectUnknown };
    if (!engine.pool) {
      // At start-up, before any pool is loaded: load the link's built-in pool first instead of the last one used.
      if (r.pool.builtin) set({ poolId: r.pool.builtin });
      return;
    }
    await get().followRecipe();
  };

  return {
    share: null,
    shareError: null,
    recipeNotice: null,
    recipeThreshold: null,

    makeShareLink: async () => {
      set({ shareError: null });
      try {
        const link = `${location.origin}${location.pathname}${await recipeFragment(await currentRecipe(false))}`;
        let qr: string | null = null;
        let qrNote: string | null = null;
        if (link.length > QR_MAX_CHARS) {
          qrNote = `This link is too long for a QR code (${link.length.toLocaleString('en-US')} characters; a QR code holds at most ${QR_MAX_CHARS.toLocaleString('en-US')}): your own classes' weights travel in it. Send the link, or save a project.`;
        } else {
          const svg = await QRCode.toString(link, { type: 'svg', errorCorrectionLevel: link.length > 1200 ? 'L' : 'M', margin: 2 });
          qr = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
        }
        set({ share: { link, qr, qrNote } });
      } catch (e) {
        set({ share: null, shareError: (e as Error).message });
      }
    },

    closeShare: () => set({ share: null, shareError: null }),

    saveProject: async (withImages) => {
      set({ shareError: null });
      try {
        const r = await currentRecipe(withImages);
        saveText(projectFile(r, withImages), `poe-project-${r.pool.name}-${r.selected.length}.json`);
      } catch (e) {
        set({ shareError: (e as Error).message });
      }
    },

    openProjectFile: async (file) => {
      try {
        if (file.size > MAX_PROJECT_BYTES)
          return set({ recipeNotice: { kind: 'error', code: 'RECIPE_INVALID', message: `${file.name} is ${(file.size / 2 ** 20).toFixed(0)} MB, larger than any PoE Studio project (at most 64 MB). Nothing was changed.` } });
        await start(parseProjectFile(await file.text()));
      } catch (e) {
        fail(e);
      }
    },

    openRecipeLink: async (hash) => {
      try {
        await start(await parseRecipeFragment(hash));
      } catch (e) {
        fail(e);
      }
    },

    followRecipe: async () => {
      const r = pending;
      const pool = engine.pool;
      if (!r || !pool) return;
      if (pool.manifest.name === r.pool.name) {
        if (await get().applyPendingRecipe()) await get().buildModel();
        return;
      }
      const inUse = get().poolOrigin === null ? get().poolId : null;
      if (r.pool.builtin && r.pool.builtin !== inUse && get().builtinPools.some((p) => p.id === r.pool.builtin)) {
        set({ recipeNotice: { kind: 'opening', message: `Opening the built-in pool "${r.pool.builtin}" for the shared model…` } });
        await get().chooseBuiltinPool(r.pool.builtin);
      } else if (r.pool.url && r.pool.url !== get().poolOrigin) {
        set({ recipeNotice: { kind: 'opening', message: `Opening the shared model's pool at ${r.pool.url}…` } });
        await get().openPoolFromUrl(r.pool.url);
      }
      if (pending !== r) return; // applied by installPool
      const opened = get().poolOpenError ?? (get().poolError ? { message: get().poolError! } : null);
      const mismatch = recipeMismatch(r, engine.pool!.manifest, await fingerprintOf(engine.pool!));
      set({
        recipeNotice: {
          kind: mismatch?.sameName ? 'mismatch' : 'needs-pool', code: 'RECIPE_POOL', canForce: mismatch?.sameName && !mismatch.missing.length,
          message: `${mismatch?.message ?? ''}${opened ? ` Opening it failed: ${opened.message}` : ''}`,
        },
      });
    },

    applyPendingRecipe: async () => {
      const r = pending;
      const pool = engine.pool;
      if (!r || !pool) return false;
      const mismatch = recipeMismatch(r, pool.manifest, await fingerprintOf(pool));
      if (mismatch) {
        // Told by followRecipe (which may still open the right pool); here only the same pool's other version.
        if (mismatch.sameName) set({ recipeNotice: { kind: 'mismatch', code: 'RECIPE_POOL', message: mismatch.message, canForce: !mismatch.missing.length } });
        return false;
      }
      pending = null;
      await adopt(r, true);
      return true;
    },

    buildRecipeAnyway: async () => {
      const r = pending;
      if (!r || !engine.pool) return;
      pending = null;
      await adopt(r, false);
      await get().buildModel();
    },

    undoRecipe: async () => {
      if (!before) return;
      set({ selected: before.selected, detectUnknown: before.detectUnknown, recipeThreshold: null, recipeNotice: null });
      before = null;
      get().dropUnknownSelection();
      await get().buildModel();
    },

    dismissRecipeNotice: () => {
      pending = null;
      set({ recipeNotice: null });
    },
  };
};
