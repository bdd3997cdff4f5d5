import type * as tf from '@tensorflow/tfjs';
import { PoeError } from '../errors';
import type { LoadedPool } from '../pool/loadedPool';
import { channelCount } from '../pool/poolManifest';
import { trainCustomClass } from './customClass';
import { checkLabel, customExperts, registerCustomExpert, renameCustomExpert, unregisterCustomExpert } from './customExpert';
import { disposeNegatives, libraryFeatures, poolColumns, prepareNegatives, type LogitStats, type NegativeSet } from './customFeatures';
import { customClassesFile, parseCustomClassesFile, type StoredCustomClass } from './customFile';
import type { CustomExpertSpec } from './customSpec';
import type { TrainOptions } from './customTrain';

/** Labelled images of the pool's classes (class indices, e.g. the pool's sample): what custom classes are calibrated against. */
export interface NegativeImages {
  images: Uint8Array;
  labels: ArrayLike<number>;
  count: number;
}

export interface CustomTrainOptions extends Omit<TrainOptions, 'excludeColumns'> {
  /** The class this retrains (its id): the new expert gets a new id; free the old one with remove() once no model uses it. */
  replaces?: string;
  /** Pool classes (names) left out of the calibration, e.g. one held out to play the user's class. */
  excludeClasses?: string[];
}

/** One of the user's classes as listed: `usable` is false for a class trained on another version of the pool. */
export interface CustomClassInfo {
  id: string;
  label: string;
  shots: number;
  trainMs: number;
  usable: boolean;
}

/**
 * The user's own classes in a pool, owned like tfjs-models' knn-classifier owns its examples: each
 * class keeps its weights and its training images (to retrain), consolidates like a built-in expert
 * (its id is the name to select), and travels as one JSON file. Classes made for another version of
 * the pool are kept apart (not usable) until retrained on their images.
 */
export class CustomClasses implements ReadonlyMap<string, { spec: CustomExpertSpec }> {
  readonly #pool: LoadedPool;
  readonly #images = new Map<string, Uint8Array>();
  readonly #stale = new Map<string, StoredCustomClass>();
  #negativeSource: (() => Promise<NegativeImages>) | null = null;
  #negatives: Promise<NegativeSet> | null = null;

  constructor(pool: LoadedPool) {
    this.#pool = pool;
  }

  // Read access as a map of the usable classes, by id.
  get size(): number { return customExperts(this.#pool).size; }
  get(id: string): { spec: CustomExpertSpec } | undefined { return customExperts(this.#pool).get(id); }
  has(id: string): boolean { return customExperts(this.#pool).has(id); }
  keys(): MapIterator<string> { return customExperts(this.#pool).keys(); }
  values(): MapIterator<{ spec: CustomExpertSpec }> { return customExperts(this.#pool).values(); }
  entries(): MapIterator<[string, { spec: CustomExpertSpec }]> { return customExperts(this.#pool).entries(); }
  [Symbol.iterator](): MapIterator<[string, { spec: CustomExpertSpec }]> { return this.entries(); }
  forEach(fn: (value: { spec: CustomExpertSpec }, key: string, map: ReadonlyMap<string, { spec: CustomExpertSpec }>) => void): void {
    for (const [k, v] of this) fn(v, k, this);
  }

  /** Every class, usable ones first, in the order they were added. */
  list(): CustomClassInfo[] {
    const info = (spec: CustomExpertSpec, usable: boolean) => ({ id: spec.id, label: spec.label, shots: spec.shots, trainMs: spec.trainMs, usable });
    return [...[...this.values()].map((c) => info(c.spec, true)), ...[...this.#stale.values()].map((c) => info(c.spec, false))];
  }

  /** A class's training images (NHWC uint8 of the pool's input), if it has them. */
  images(id: string): Uint8Array | undefined {
    return this.#images.get(id) ?? this.#stale.get(id)?.images;
  }

  /** Where calibration images come from (read once, when the first class trains or prepare() is called). */
  setNegatives(source: NegativeImages | (() => Promise<NegativeImages>)): void {
    this.#dropNegatives();
    this.#negativeSource = typeof source === 'function' ? source : () => Promise.resolve(source);
  }

  /** Prepares the calibration set now (features and pool logits: a second or two), e.g. while the user collects images. */
  async prepare(): Promise<{ images: number; prepareMs: number; poolLogitStats: LogitStats }> {
    const n = await this.#negativeSet();
    return { images: n.count, prepareMs: n.prepareMs, poolLogitStats: n.stats };
  }

  /**
   * Trains a class from at least 10 images (and their mirror images) and adds it; returns its spec.
   * With `replaces`, the images are the whole new training set and the old class stays until remove().
   */
  async train(label: string, images: Uint8Array, options: CustomTrainOptions = {}): Promise<CustomExpertSpec> {
    const per = this.#imageBytes();
    if (images.length % per) throw new PoeError('IMAGE_INVALID', `Training images must be ${per} bytes each (the pool's input); got ${images.length} bytes.`);
    const { replaces, excludeClasses = [], ...train } = options;
    const columns = poolColumns(this.#pool);
    const excludeColumns = excludeClasses.map((name) => {
      const c = this.#pool.manifest.classes.find((k) => k.name === name);
      if (!c) throw new PoeError('SELECTION_UNKNOWN', `excludeClasses names "${name}", which is not a class of this pool.`);
      return columns.get(c.index)!;
    });
    const neg = await this.#negativeSet();
    // A stale class being retrained holds its label; free it for its successor.
    const stale = replaces ? this.#stale.get(replaces) : undefined;
    const spec = await trainCustomClass(this.#pool, neg, { label, images, count: images.length / per, replaces: stale ? undefined : replaces },
      { ...train, excludeColumns });
    this.#images.set(spec.id, images);
    if (stale) this.#stale.delete(replaces!);
    return spec;
  }

  /** Retrains a class on its own images plus `more`; the old class stays until remove(id). */
  retrain(id: string, more: Uint8Array = new Uint8Array(0), options: Omit<CustomTrainOptions, 'replaces'> = {}): Promise<CustomExpertSpec> {
    const label = this.get(id)?.spec.label ?? this.#stale.get(id)?.spec.label;
    if (!label) return Promise.reject(new PoeError('SELECTION_UNKNOWN', 'That class no longer exists.'));
    const old = this.images(id) ?? new Uint8Array(0);
    const images = new Uint8Array(old.length + more.length);
    images.set(old);
    images.set(more, old.length);
    return this.train(label, images, { ...options, replaces: id });
  }

  rename(id: string, label: string): CustomExpertSpec {
    const stale = this.#stale.get(id);
    if (stale) {
      stale.spec = { ...stale.spec, label: checkLabel(this.#pool, label, id) };
      return stale.spec;
    }
    renameCustomExpert(this.#pool, id, label);
    return this.get(id)!.spec;
  }

  /** Frees a class; dispose the models that use it first. */
  remove(id: string): void {
    unregisterCustomExpert(this.#pool, id);
    this.#images.delete(id);
    this.#stale.delete(id);
  }

  /**
   * Adds stored classes (from IndexedDB, a file, a shared link). A class of this pool's version becomes
   * usable at once; one made for another version is kept apart and returned, to retrain on its images.
   * A class already here (same id) is kept, gaining images it lacked. Clashing labels get " (2)"...
   */
  add(classes: StoredCustomClass[]): { added: CustomExpertSpec[]; stale: StoredCustomClass[] } {
    const added: CustomExpertSpec[] = [];
    const stale: StoredCustomClass[] = [];
    const taken = new Set([...this.#pool.manifest.classes.map((c) => c.name), ...this.#pool.manifest.experts.map((e) => e.name), ...this.list().map((c) => c.label)]);
    for (const c of classes) {
      const id = c.spec.id;
      if (this.has(id)) {
        if (!this.#images.get(id)?.length && c.images.length) this.#images.set(id, c.images);
        continue;
      }
      const before = this.#stale.get(id);
      let label = before?.spec.label ?? c.spec.label;
      if (!before) for (let k = 2; taken.has(label); k++) label = `${c.spec.label} (${k})`;
      taken.add(label);
      const images = c.images.length ? c.images : (before?.images ?? c.images);
      const spec = { ...c.spec, label };
      if (spec.pool.version === this.#pool.manifest.version && spec.pool.name === this.#pool.manifest.name) {
        registerCustomExpert(this.#pool, spec);
        this.#stale.delete(id);
        this.#images.set(id, images);
        added.push(spec);
      } else {
        this.#stale.set(id, { spec, images });
        stale.push({ spec, images });
      }
    }
    return { added, stale };
  }

  /** Every class with its images, usable or not: what IndexedDB keeps and the JSON file carries. */
  records(): StoredCustomClass[] {
    return [...[...this.values()].map((c) => ({ spec: c.spec, images: this.#images.get(c.spec.id) ?? new Uint8Array(0) })), ...this.#stale.values()];
  }

  /** The classes as one JSON file (weights and training images), to move them to another device or browser. */
  toJSON(): string {
    return customClassesFile(this.records());
  }

  /** Reads a file made by toJSON() (checked: format, version, sizes); every class gets a fresh id. See add(). */
  fromJSON(text: string): { added: CustomExpertSpec[]; stale: StoredCustomClass[] } {
    const input = this.#pool.manifest.input;
    return this.add(parseCustomClassesFile(text, input.sizePx, channelCount(input)));
  }

  /**
   * The features a custom class trains on (the library's output, averaged 2 x 2) for NHWC uint8 images of
   * the pool's input, optionally mirrored: for training a head of your own on the pool's library.
   */
  features(images: Uint8Array, count = images.length / this.#imageBytes(), options: { flip?: boolean } = {}): Promise<tf.Tensor4D> {
    return libraryFeatures(this.#pool, images, count, options);
  }

  /** Frees every class and the calibration set. */
  dispose(): void {
    for (const id of [...this.keys()]) unregisterCustomExpert(this.#pool, id);
    this.#images.clear();
    this.#stale.clear();
    this.#dropNegatives();
  }

  #imageBytes(): number {
    const input = this.#pool.manifest.input;
    return input.sizePx * input.sizePx * channelCount(input);
  }

  #negativeSet(): Promise<NegativeSet> {
    if (!this.#negatives) {
      const source = this.#negativeSource;
      if (!source) return Promise.reject(new PoeError('DATA_MISSING', 'Custom classes are calibrated against images of the pool\'s classes: call setNegatives() with some (the pool\'s sample, for instance) first.'));
      const made = source().then((n) => prepareNegatives(this.#pool, n.images, n.labels, n.count));
      made.catch(() => this.#negatives === made && (this.#negatives = null)); // a failed read is tried again next time
      this.#negatives = made;
    }
    return this.#negatives;
  }

  #dropNegatives(): void {
    const old = this.#negatives;
    this.#negatives = null;
    void old?.then(disposeNegatives, () => undefined);
  }
}
