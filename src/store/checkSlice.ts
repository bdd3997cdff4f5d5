import type { StateCreator } from 'zustand';
import { loadSample, type Sample } from '../io/sample';
import { compileTflite, startLiteRt, tfliteLogits } from '../io/litert';
import { saveBytes, zipModel } from '../io/modelZip';
import { measureAccuracy } from '../ml/run/accuracy';
import type { WeightPrecision } from '../ml/export/exportModel';
import { loadModelFiles } from '../ml/pool/loadModelFiles';
import { pickImages } from '../ml/run/imageInput';
import { argmaxRows } from '../ml/run/predict';
import type { TaskModel } from '../ml/taskModel';
import type { Pool } from '../ml/pool';
import { channelCount, imageKind } from '../ml/pool/poolManifest';
import type { EngineHandles } from './engine';
import type { AppState } from './index';

export interface CheckResult {
  modelVersion: number;
  images: number;
  correct: number;
  top1: number;
  crossExpertErrors: number;
  /** The model's classes, in its output order. */
  labels: string[];
  /** Every checked image: its sample index with the true and predicted labels. */
  outcomes: Outcome[];
  /** The outcomes whose prediction is wrong. */
  mistakes: Outcome[];
  /** With the "none of these" detector: the matrix gains NONE_OF_THESE as a row (images of other classes) and a column. */
  unknown: CheckUnknown | null;
}

export interface CheckUnknown {
  threshold: number;
  knownImages: number;
  knownKept: number;
  otherImages: number;
  othersRejected: number;
}

/** The row and column of the built-in check for images of classes outside the model. */
export const NONE_OF_THESE = 'none of these';
/** Images of other classes the check runs, spread evenly over the sample. */
const MAX_OTHER_IMAGES = 1000;

export interface Outcome {
  sample: number;
  truth: string;
  predicted: string;
}

export type DownloadPrecision = WeightPrecision | 'int8';

/** One download's size and, where the page can run it, its top-1 on the built-in sample. */
export interface PrecisionOption {
  format: ModelFormat;
  precision: DownloadPrecision;
  bytes: number;
  /** null: not run in the page (ONNX: the same float graph as TF.js, checked against it in the tests). */
  top1: number | null;
}

export interface CheckSlice {
  check: CheckResult | null;
  checkBusy: boolean;
  checkError: string | null;
  precisions: PrecisionOption[] | null;
  /** The modelVersion the precisions were measured for. */
  precisionsVersion: number;
  exportBusy: boolean;
  exportError: string | null;
  /** The built-in sample (images of the pool's classes), downloaded once. */
  getSample: () => Promise<Sample>;
  runCheck: () => Promise<void>;
  comparePrecisions: () => Promise<void>;
  downloadModel: (precision: DownloadPrecision, format?: ModelFormat) => Promise<void>;
}

export type ModelFormat = 'tfjs' | 'onnx' | 'tflite';

/** The precisions each download format offers, in the panel's order. */
export const FORMAT_PRECISIONS: Record<ModelFormat, DownloadPrecision[]> = {
  tfjs: ['float32', 'float16', 'uint8'],
  onnx: ['float32', 'float16'],
  tflite: ['float32', 'float16', 'int8'],
};

/** Where the page serves LiteRT.js's wasm (copied from @litertjs/core by scripts/vite-app-plugins.ts). */
const LITERT_DIR = `${import.meta.env.BASE_URL}litert/`;

const calibrationOf = (s: Sample) => ({ images: s.images, count: s.count, about: `sample images of the pool (${s.about})` });

/**
 * Marks the chosen classes' images the detector turns away as NONE_OF_THESE, and adds images of the
 * other classes (truth NONE_OF_THESE) with what the model says of them.
 */
async function detectorOutcomes(c: TaskModel, s: Sample, outcomes: Outcome[]): Promise<CheckUnknown> {
  const threshold = c.unknown!.threshold;
  const per = c.imageBytes;
  const mine = await c.predictKnown(pickImages(s.images, per, outcomes.map((o) => o.sample)), outcomes.length);
  outcomes.forEach((o, i) => mine[i] < threshold && (o.predicted = NONE_OF_THESE));
  const chosen = new Set(c.plan.classIndices);
  const all = Array.from(s.labels.keys()).filter((i) => !chosen.has(s.labels[i]));
  const step = Math.max(1, all.length / MAX_OTHER_IMAGES);
  const others = Array.from({ length: Math.min(all.length, MAX_OTHER_IMAGES) }, (_, k) => all[Math.floor(k * step)]);
  const { logits, known } = await c.predictWithKnown(pickImages(s.images, per, others), others.length);
  const said = argmaxRows(logits, c.labels.length, c.labels.length);
  others.forEach((sample, i) => outcomes.push({ sample, truth: NONE_OF_THESE, predicted: known[i] < threshold ? NONE_OF_THESE : c.labels[said[i]] }));
  const kept = mine.filter((p) => p >= threshold).length;
  const rejected = Array.from(known).filter((p) => p < threshold).length;
  return {
    threshold, knownImages: mine.length, knownKept: mine.length ? kept / mine.length : NaN,
    otherImages: others.length, othersRejected: others.length ? rejected / others.length : NaN,
  };
}

/** The pool's sample images, read once per pool; a failed read is tried again next time. */
export function sampleLoader(engine: EngineHandles): () => Promise<Sample> {
  const samples = new WeakMap<Pool, Promise<Sample>>();
  return () => {
    const pool = engine.pool;
    const source = engine.source;
    if (!pool || !source) return Promise.reject(new Error('No pool is open.'));
    let sample = samples.get(pool);
    if (!sample) {
      sample = loadSample(source).then((s) => {
        if (!s) throw new NoSampleError(`This pool (${pool.manifest.name}) carries no sample images (sample.json), which the built-in check measures on and custom classes calibrate against: try its models on your own images with the webcam or uploads.`);
        if (s.sizePx !== pool.manifest.input.sizePx || s.channels !== channelCount(pool.manifest.input))
          throw new Error(`The pool's sample images are ${s.sizePx} x ${s.sizePx} with ${s.channels} channel(s), but the pool takes ${imageKind(pool.manifest.input)}.`);
        return s;
      });
      sample.catch(() => samples.delete(pool));
      samples.set(pool, sample);
    }
    return sample;
  };
}

/** The pool has no sample images: the check and custom-class calibration say so instead of failing. */
export class NoSampleError extends Error {}

export const createCheckSlice = (engine: EngineHandles, getSample: () => Promise<Sample>): StateCreator<AppState, [], [], CheckSlice> => (set, get) => ({
  check: null,
  checkBusy: false,
  checkError: null,
  precisions: null,
  precisionsVersion: -1,
  exportBusy: false,
  exportError: null,
  getSample,

  runCheck: async () => {
    const c = engine.model;
    if (!c) return;
    const version = get().modelVersion;
    set({ checkBusy: true, checkError: null });
    try {
      const s = await getSample();
      const r = await c.evaluate(s.images, s.labels);
      const wrong = new Map(r.mistakes.map((m) => [m.index, m.predicted]));
      const outcomes: Outcome[] = r.evaluated.map((sample) => {
        const truth = s.classNames[s.labels[sample]];
        return { sample, truth, predicted: wrong.get(sample) ?? truth };
      });
      // top-1 is the classes' own (nothing rejected); the detector's verdicts go into the matrix beside it.
      const unknown = c.unknown ? await detectorOutcomes(c, s, outcomes) : null;
      set({
        check: {
          modelVersion: version, images: r.images, correct: r.correct, top1: r.top1, crossExpertErrors: r.crossExpertErrors,
          labels: unknown ? [...c.labels, NONE_OF_THESE] : c.labels, outcomes, mistakes: outcomes.filter((o) => o.predicted !== o.truth), unknown,
        },
      });
    } catch (e) {
      set({ checkError: (e as Error).message });
    } finally {
      set({ checkBusy: false });
    }
  },

  comparePrecisions: async () => {
    const c = engine.model;
    if (!c) return;
    const version = get().modelVersion;
    set({ exportBusy: true, exportError: null, precisions: null });
    try {
      const s = await getSample();
      const out: PrecisionOption[] = [];
      const publish = () => set({ precisions: [...out], precisionsVersion: version });
      for (const precision of ['float32', 'float16', 'uint8'] as const) {
        const files = await c.export(precision);
        const m = await loadModelFiles(files);
        try {
          const r = await measureAccuracy({ model: m, labels: c.labels, plan: c.plan }, s.images, s.labels, s.sizePx, s.channels);
          out.push({ format: 'tfjs', precision, bytes: files['weights.bin'].byteLength + files['model.json'].length, top1: r.top1 });
        } finally {
          m.dispose();
        }
      }
      for (const precision of ['float32', 'float16'] as const)
        out.push({ format: 'onnx', precision, bytes: (await c.export(precision, 'onnx') as { 'model.onnx': Uint8Array })['model.onnx'].byteLength, top1: null });
      publish();
      // The .tflite files run in Google's LiteRT.js: int8 is measured, not estimated.
      await startLiteRt(LITERT_DIR);
      for (const precision of ['float32', 'float16', 'int8'] as const) {
        const files = await c.exportTflite(precision, precision === 'int8' ? calibrationOf(s) : undefined);
        const m = await compileTflite(files['model.tflite']);
        try {
          const r = await measureAccuracy({ labels: c.labels, plan: c.plan, logits: (x, n) => tfliteLogits(m, x, n) }, s.images, s.labels, s.sizePx, s.channels);
          out.push({ format: 'tflite', precision, bytes: files['model.tflite'].byteLength, top1: r.top1 });
        } finally {
          m.delete();
        }
        publish();
      }
    } catch (e) {
      set({ exportError: (e as Error).message });
    } finally {
      set({ exportBusy: false });
    }
  },

  downloadModel: async (precision, format = 'tfjs') => {
    const c = engine.model;
    const pool = engine.pool;
    if (!c || !pool) return;
    set({ exportBusy: true, exportError: null });
    try {
      if (!FORMAT_PRECISIONS[format].includes(precision)) throw new Error(`${format} downloads take ${FORMAT_PRECISIONS[format].join(', ')}, not ${precision}.`);
      const files = format === 'tflite'
        ? await c.exportTflite(precision as 'float32' | 'float16' | 'int8', precision === 'int8' ? calibrationOf(await getSample()) : undefined)
        : await c.export(precision as WeightPrecision, format);
      const name = `poe-${c.labels.length}-classes-${precision}${format === 'tfjs' ? '' : `-${format}`}.zip`;
      saveBytes(zipModel(files, c.labels, pool.manifest.name), name);
    } catch (e) {
      set({ exportError: `The download could not be prepared: ${(e as Error).message}` });
    } finally {
      set({ exportBusy: false });
    }
  },
});
