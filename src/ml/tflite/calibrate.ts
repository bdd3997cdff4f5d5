import * as tf from '@tensorflow/tfjs';
import type { TfliteGraph } from './graph';
import type { Ranges } from './lower';

/** Images to calibrate int8 on: the pool's sample or reference images (never a test split), uint8 NHWC. */
export interface CalibrationImages {
  images: Uint8Array;
  count: number;
}

/**
 * The value range of every activation of the graph on the calibration images, read from the float
 * LayersModel itself (each graph activation names the layer whose output it is).
 */
export async function calibrationRanges(model: tf.LayersModel, g: TfliteGraph, cal: CalibrationImages, batch = 64): Promise<Ranges> {
  const wanted = [...new Set(g.tensors.filter((t) => t.role === 'activation').map((t) => t.layer!))];
  const probe = tf.model({ inputs: model.inputs, outputs: wanted.map((n) => model.getLayer(n).output as tf.SymbolicTensor) });
  const [, size, , channels] = model.inputs[0].shape as number[];
  const per = size * size * channels;
  const lo = new Array<number>(wanted.length).fill(Infinity);
  const hi = new Array<number>(wanted.length).fill(-Infinity);
  for (let s = 0; s < cal.count; s += batch) {
    const n = Math.min(batch, cal.count - s);
    const stats = tf.tidy(() => {
      const x = tf.tensor4d(cal.images.subarray(s * per, (s + n) * per), [n, size, size, channels], 'int32').toFloat();
      const outs = [probe.predict(x) as tf.Tensor | tf.Tensor[]].flat();
      return tf.stack(outs.flatMap((o) => [o.min(), o.max()]));
    });
    const v = await stats.data();
    stats.dispose();
    wanted.forEach((_, k) => { lo[k] = Math.min(lo[k], v[2 * k]); hi[k] = Math.max(hi[k], v[2 * k + 1]); });
  }
  const byLayer = new Map(wanted.map((n, k) => [n, [lo[k], hi[k]] as [number, number]]));
  const ranges: Ranges = new Map();
  g.tensors.forEach((t, i) => { if (t.role === 'activation') ranges.set(i, byLayer.get(t.layer!)!); });
  return ranges;
}
