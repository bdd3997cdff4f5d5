import type * as tf from '@tensorflow/tfjs';

/**
 * Floating-point operations of one forward pass for one image, counting a multiply-add as two:
 * convolutions and dense layers only (normalisation, activations and additions are a few percent).
 */
export function modelFlops(model: tf.LayersModel): number {
  let flops = 0;
  for (const layer of model.layers) {
    const kind = layer.getClassName();
    const out = layer.outputShape as number[];
    const w = layer.getWeights()[0];
    if (!w) continue;
    if (kind === 'Conv2D') flops += 2 * out[1] * out[2] * w.size;
    else if (kind === 'DepthwiseConv2D') flops += 2 * out[1] * out[2] * w.size;
    else if (kind === 'Dense') flops += 2 * w.size;
  }
  return flops;
}
