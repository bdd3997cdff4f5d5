import * as tf from '@tensorflow/tfjs';
import type { TfliteGraph } from './graph';
import type { Ranges } from './lower';

/** Images to calibrate int8 on: the pool's sample or reference images (never a test split), uint8 NHWC. */
export interface CalibrationImages {
  images: Uint8Array;
  count: number;
}

export interface Calibration {
  /** Per activation tensor (graph index): smallest and largest value. */
  ranges: Ranges;
  /** Per 4-D activation tensor: each channel's largest value. */
  channelMax: Map<number, Float32Array>;
}

/**
 * The value range of every activation of the graph on the calibration images, read from the float
 * LayersModel itself (each graph activation names the layer whose output it is).
 */
export async function calibrate(model: tf.LayersModel, g: TfliteGraph, cal: CalibrationImages, batch = 64): Promise<Calibration> {
  const wanted = [...new Set(g.tensors.filter((t) => t.role === 'activation').map((t) => t.layer!))];
  const probe = tf.model({ inputs: model.inputs, outputs: wanted.map((n) => model.getLayer(n).output as tf.SymbolicTensor) });
  const [, size, , channels] = model.inputs[0].shape as number[];
  const per = size * size * channels;
  const lo = new Array<number>(wanted.length).fill(Infinity);
  const hi = new Array<number>(wanted.length).fill(-Infinity);
  const chMax: (Float32Array | null)[] = wanted.map(() => null);
  for (let s = 0; s < cal.count; s += batch) {
    const n = Math.min(batch, cal.count - s);
    const stats = tf.tidy(() => {
      const x = tf.tensor4d(cal.images.subarray(s * per, (s + n) * per), [n, size, size, channels], 'int32').toFloat();
      const outs = [probe.predict(x) as tf.Tensor | tf.Tensor[]].flat();
      return outs.map((o) => tf.concat([tf.stack([o.min(), o.max()]), o.rank === 4 ? o.max([0, 1, 2]) : tf.zeros([0])]));
    });
    const values = await Promise.all(stats.map((t) => t.data() as Promise<Float32Array>));
    stats.forEach((t) => t.dispose());
    values.forEach((v, k) => {
      lo[k] = Math.min(lo[k], v[0]);
      hi[k] = Math.max(hi[k], v[1]);
      if (v.length > 2) {
        const m = v.subarray(2);
        chMax[k] = chMax[k] ? chMax[k]!.map((a, c) => Math.max(a, m[c])) : Float32Array.from(m);
      }
    });
  }
  const byLayer = new Map(wanted.map((n, k) => [n, k]));
  const ranges: Ranges = new Map();
  const channelMax = new Map<number, Float32Array>();
  g.tensors.forEach((t, i) => {
    if (t.role !== 'activation') return;
    const k = byLayer.get(t.layer!)!;
    ranges.set(i, [lo[k], hi[k]]);
    if (chMax[k]) channelMax.set(i, chMax[k]!);
  });
  return { ranges, channelMax };
}
