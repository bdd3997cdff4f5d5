import * as tf from '@tensorflow/tfjs';
import { consolidate } from './graph/consolidate';
import { CustomClasses } from './custom/customClasses';
import { isPoeError, PoeError } from './errors';
import type { LoadedPool } from './pool/loadedPool';
import { fetchPool, verifyBundle, type FileProgress, type PoolBundle, type PoolSource } from './pool/poolFetch';
import { prepareGraph } from './graph/poolGraph';
import { disposePool, instantiatePool } from './pool/poolModels';
import { channelCount, type PoolManifest } from './pool/poolManifest';
import { checkAgainstReference, parseReference, type PoolReference, type ReferenceCheck } from './run/reference';
import { TaskModel } from './taskModel';

/** Where a pool's verified files are kept between visits (the app's is IndexedDB: io/poolCache.ts). */
export interface PoolCache {
  read(key: string): Promise<{ bundle: PoolBundle | null; problem?: string }>;
  write(key: string, bundle: PoolBundle): Promise<{ ok: true } | { ok: false; reason: string }>;
}

/** What openPool is doing, in order; 'download' repeats as bytes arrive. */
export type PoolStatus =
  | { phase: 'cache' }
  | { phase: 'download'; files: FileProgress[] }
  | { phase: 'instantiate' }
  | { phase: 'warm-up' }
  | { phase: 'ready'; origin: PoolOrigin; ms: number };

export type PoolOrigin = 'network' | 'cache' | 'memory';

export interface OpenPoolOptions {
  /** Keeps the verified files for next time, under cacheKey (default: the source's location). */
  cache?: PoolCache;
  cacheKey?: string;
  /**
   * 'prefer-cache' (default): a verified cached copy if there is one, else the source.
   * 'prefer-network': the source, falling back to the cache when the network fails.
   * 'reload': the source only; the cached copy is replaced once the new one is verified.
   * 'cache-only': the cached copy or a FILE_MISSING error; the source is not read.
   */
  cacheMode?: 'prefer-cache' | 'prefer-network' | 'reload' | 'cache-only';
  onStatus?: (status: PoolStatus) => void;
  /** Grafts every expert into the shared graph now (tens of ms) so no query pays for it later. Default true. */
  warmUp?: boolean;
}

const internals = new WeakMap<Pool, LoadedPool>();

/** The TF.js models and shared graph behind a Pool: for the engine's own modules and tests, not the public API. */
export function loadedPool(pool: Pool): LoadedPool {
  return internals.get(pool)!;
}

/** A pool (library + experts) loaded and verified, ready to consolidate models. It owns its shared graph. */
export class Pool {
  readonly manifest: PoolManifest;
  /** Total bytes of the pool's files. */
  readonly bytes: number;
  /** PyTorch's outputs on a few images, when the pool carries them (see checkDevice). */
  readonly reference: PoolReference | null;
  readonly origin: PoolOrigin;
  /** Things worth telling a user that did not stop the pool from opening (e.g. it could not be cached). */
  readonly notices: string[];
  /** The user's own classes: train, rename, retrain, remove, save and load; select them by id. */
  readonly customClasses: CustomClasses;
  readonly #loaded: LoadedPool;
  private disposed = false;

  constructor(loaded: LoadedPool, reference: PoolReference | null, origin: PoolOrigin, notices: string[] = []) {
    this.#loaded = loaded;
    internals.set(this, loaded);
    this.customClasses = new CustomClasses(loaded);
    this.manifest = loaded.manifest;
    this.bytes = loaded.bytes;
    this.reference = reference;
    this.origin = origin;
    this.notices = notices;
  }

  /**
   * One model for the named superclasses and/or single classes (mixed), train-free. `unknown: true` adds the
   * "none of these" detector (every expert runs; see TaskModel.identify and calibrateUnknown).
   */
  consolidate(names: readonly string[], options: { unknown?: boolean } = {}): TaskModel {
    this.live();
    return new TaskModel(consolidate(this.#loaded, names, options), this.manifest);
  }

  /**
   * Grafts and compiles every expert not prepared yet (see OpenPoolOptions.warmUp). On wasm it then runs one image
   * through all of them: XNNPACK packs each convolution's weights on first use, and no query should pay for that.
   */
  prepare(): void {
    if (this.disposed) return;
    prepareGraph(this.#loaded);
    // Only wasm packs weights on first use; on WebGL and WebGPU this would compile every expert's shaders at once.
    if (tf.getBackend() !== 'wasm') return;
    const all = this.consolidate(this.manifest.experts.map((e) => e.name));
    try {
      all.warmUp();
    } finally {
      all.dispose();
    }
  }

  private live(): void {
    if (this.disposed) throw new PoeError('POOL_DISPOSED', 'This pool was disposed; open it again.');
  }

  /** Runs every expert on the reference images with the active backend and compares with PyTorch's logits. */
  async checkDevice(): Promise<ReferenceCheck> {
    this.live();
    if (!this.reference) throw new PoeError('REFERENCE_MISSING', 'This pool carries no reference outputs (reference.json) to check against.');
    return checkAgainstReference(this.#loaded, this.reference);
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Frees every model and layer of the pool; dispose its TaskModels first. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.customClasses.dispose();
    disposePool(this.#loaded);
  }
}

/** One prediction on a blank image, so the backend compiles its kernels now rather than on the first real image. */
async function warmLibrary(pool: LoadedPool): Promise<void> {
  const size = pool.manifest.input.sizePx;
  const out = tf.tidy(() => pool.library.predict(tf.zeros([1, size, size, channelCount(pool.manifest.input)])) as tf.Tensor);
  await out.data();
  out.dispose();
}

const isSource = (s: PoolSource | PoolBundle): s is PoolSource => typeof (s as PoolSource).read === 'function';

const now = () => (globalThis.performance ?? Date).now();

/**
 * Opens a pool: reads it from the cache or the source, verifies every file (sizes, checksums, contents),
 * caches it, turns it into TF.js models and warms them up, reporting each phase through onStatus.
 * Nothing is cached or returned unless every check passes; errors are PoeErrors with a code.
 */
export async function openFromSource(source: PoolSource | PoolBundle, options: OpenPoolOptions = {}): Promise<Pool> {
  const t0 = now();
  const { cache, cacheMode = 'prefer-cache', onStatus, warmUp = true } = options;
  const notices: string[] = [];
  let bundle: PoolBundle | null = null;
  let origin: PoolOrigin = 'memory';
  let save: (() => Promise<void>) | null = null;
  if (!isSource(source)) bundle = await verifyBundle(source.files, 'the pool given');
  else {
    const key = options.cacheKey ?? source.describe;
    const fromCache = async () => {
      onStatus?.({ phase: 'cache' });
      const cached = await cache!.read(key);
      if (cached.problem) notices.push(cached.problem);
      return cached.bundle;
    };
    if (cache && (cacheMode === 'prefer-cache' || cacheMode === 'cache-only')) bundle = await fromCache();
    if (!bundle && cacheMode === 'cache-only')
      throw new PoeError('FILE_MISSING', `No copy of the pool ${key} is cached${cache ? '' : ' (no cache was given)'}.`);
    origin = bundle ? 'cache' : 'network';
    if (!bundle) {
      try {
        const fetched = (bundle = await fetchPool(source, (files) => onStatus?.({ phase: 'download', files })));
        if (cache) save = async () => {
          const saved = await cache.write(key, fetched);
          if (!saved.ok) notices.push(`The pool works from memory but was not saved for offline use: ${saved.reason}.`);
        };
      } catch (e) {
        const offline = cache && cacheMode === 'prefer-network' && isPoeError(e) && e.code === 'NETWORK';
        if (!offline || !(bundle = await fromCache())) throw e;
        origin = 'cache';
        notices.push('The pool’s address could not be reached, so its copy in this browser is used.');
      }
    }
  }
  onStatus?.({ phase: 'instantiate' });
  const loaded = await instantiatePool(bundle);
  let pool: Pool;
  try {
    const ref = bundle.manifest.reference;
    pool = new Pool(loaded, ref ? parseReference(bundle.files.get(ref.path)!) : null, origin, notices);
    await save?.(); // only a pool TF.js accepted is cached
    if (warmUp) {
      onStatus?.({ phase: 'warm-up' });
      pool.prepare();
      await warmLibrary(loaded);
    }
  } catch (e) {
    disposePool(loaded);
    throw e;
  }
  onStatus?.({ phase: 'ready', origin, ms: now() - t0 });
  return pool;
}
