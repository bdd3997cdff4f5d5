import * as tf from '@tensorflow/tfjs';

type LayerCtor = { new (config: object): tf.layers.Layer };

/**
 * Re-creates a loaded part model's layers on top of `input`, names prefixed, sharing the part's
 * weight tensors (no copy). `replace` may swap in a different layer (and weights) by layer name.
 * Returns the symbolic output of the part's last layer.
 */
export function graftPart(
  part: tf.LayersModel,
  input: tf.SymbolicTensor,
  prefix: string,
  replace?: (layer: tf.layers.Layer, name: string) => { layer: tf.layers.Layer; weights: tf.Tensor[] } | undefined,
): tf.SymbolicTensor {
  const out = new Map<string, tf.SymbolicTensor>();
  out.set(part.inputLayers[0].name, input);
  const pending: { layer: tf.layers.Layer; weights: tf.Tensor[]; dispose: boolean }[] = [];
  for (const layer of part.layers) {
    if (out.has(layer.name)) continue; // the input layer
    const inbound = layer.inboundNodes[0].inboundLayers.map((l) => {
      const t = out.get(l.name);
      if (!t) throw new Error(`graft: layer ${layer.name} comes before its input ${l.name}`);
      return t;
    });
    const name = prefix + layer.name;
    const swapped = replace?.(layer, name);
    const fresh = swapped?.layer ?? new (layer.constructor as unknown as LayerCtor)({ ...layer.getConfig(), name });
    out.set(layer.name, fresh.apply(inbound.length === 1 ? inbound[0] : inbound) as tf.SymbolicTensor);
    pending.push(swapped ? { layer: fresh, weights: swapped.weights, dispose: true } : { layer: fresh, weights: layer.getWeights(), dispose: false });
  }
  for (const p of pending) {
    if (p.weights.length) p.layer.setWeights(p.weights);
    if (p.dispose) p.weights.forEach((w) => w.dispose());
  }
  return out.get(part.layers[part.layers.length - 1].name)!;
}
