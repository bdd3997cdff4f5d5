import * as tf from '@tensorflow/tfjs';
import { checkLabel, MIN_CUSTOM_SHOTS, newCustomId, registerCustomExpert, type CustomExpertSpec } from './customExpert';
import { libraryFeatures, poolLogits, type NegativeSet } from './customFeatures';
import { trainCustomExpert, type TrainOptions } from './customTrain';
import { PoeError } from '../errors';
import { roundToFloat16 } from '../util/float16';
import type { LoadedPool } from '../pool/poolModels';

const now = () => (globalThis.performance ?? Date).now();

export interface CustomClassInput {
  label: string;
  /** NHWC uint8 images of the pool's input size. */
  images: Uint8Array;
  count: number;
  /** The id of the class this retrains: its name may be reused; the new expert gets a new id. */
  replaces?: string;
}

/**
 * Trains a custom expert from the user's images (and their mirror images) against the negatives,
 * and adds it to the pool. Returns its spec (what is stored and exported).
 */
export async function trainCustomClass(pool: LoadedPool, neg: NegativeSet, input: CustomClassInput, options: TrainOptions = {}): Promise<CustomExpertSpec> {
  const t0 = now();
  const label = checkLabel(pool, input.label, input.replaces);
  if (input.count < MIN_CUSTOM_SHOTS)
    throw new PoeError('IMAGE_INVALID', `Add at least ${MIN_CUSTOM_SHOTS} images of "${label}" (you have ${input.count}).`);
  const straight = await libraryFeatures(pool, input.images, input.count);
  const flipped = await libraryFeatures(pool, input.images, input.count, { flip: true });
  const positives = tf.concat([straight, flipped]);
  straight.dispose();
  flipped.dispose();
  try {
    const logits = await poolLogits(pool, input.images, input.count);
    const both = new Float32Array(logits.length * 2);
    both.set(logits);
    both.set(logits, logits.length); // a mirror image gets the same pool threshold, close enough for calibration
    const r = await trainCustomExpert(positives, both, neg, options);
    const spec: CustomExpertSpec = {
      id: newCustomId(),
      label,
      hidden: r.hidden,
      featureShape: (pool.library.outputs[0].shape as number[]).slice(1),
      // Halves from the start: a shared link (float16) then rebuilds exactly the model its maker had.
      weights: roundToFloat16(r.weights),
      pool: { name: pool.manifest.name, version: pool.manifest.version },
      shots: input.count,
      calibration: options.calibration ?? 'joint',
      trainMs: now() - t0,
      createdAt: new Date().toISOString(),
    };
    registerCustomExpert(pool, spec);
    return spec;
  } finally {
    positives.dispose();
  }
}
