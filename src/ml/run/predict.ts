import * as tf from '@tensorflow/tfjs';

export interface Prediction {
  label: string;
  index: number;
  probability: number;
}

/** What predictLogits runs: a LayersModel, or a compiled plan of one (run/plan.ts). */
export interface Predictor {
  predict(x: tf.Tensor): tf.Tensor | tf.Tensor[];
  readonly inputs: readonly { shape: (number | null)[] }[];
  readonly outputs: readonly { shape: (number | null)[] }[];
}

/** Logits for `count` NHWC uint8 images of size x size x the model's input channels, run in batches; returns a Float32Array [count, classes]. */
export async function predictLogits(model: Predictor, images: Uint8Array, count: number, sizePx: number, batch = 256): Promise<Float32Array> {
  const classes = (model.outputs[0].shape[1] as number) ?? 0;
  const out = new Float32Array(count * classes);
  const channels = (model.inputs[0].shape[3] as number) ?? 3;
  const per = sizePx * sizePx * channels;
  for (let s = 0; s < count; s += batch) {
    const n = Math.min(batch, count - s);
    const logits = tf.tidy(() => {
      const x = tf.tensor4d(images.subarray(s * per, (s + n) * per), [n, sizePx, sizePx, channels], 'int32').toFloat();
      return model.predict(x) as tf.Tensor;
    });
    out.set(await logits.data(), s * classes);
    logits.dispose();
    // On wasm a batch runs on the page's thread: let it draw and take input between batches.
    if (s + batch < count) await new Promise((r) => setTimeout(r, 0));
  }
  return out;
}

/** The largest of the first `classes` values of each row; `stride` values a row (more than classes when a p(known) column follows). */
export function argmaxRows(logits: Float32Array, classes: number, stride = classes): Int32Array {
  const rows = logits.length / stride;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits[r * stride + c] > logits[r * stride + best]) best = c;
    out[r] = best;
  }
  return out;
}

/** The k most probable classes of one logit row, with softmax probabilities. */
export function topK(row: ArrayLike<number>, labels: readonly string[], k: number): Prediction[] {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) max = Math.max(max, row[i]);
  const exp = Array.from(row, (v) => Math.exp(v - max));
  const sum = exp.reduce((a, b) => a + b, 0);
  return exp
    .map((e, index) => ({ index, label: labels[index], probability: e / sum }))
    .sort((a, b) => b.probability - a.probability)
    .slice(0, k);
}
