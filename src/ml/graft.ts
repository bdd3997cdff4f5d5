import * as tf from '@tensorflow/tfjs';

type LayerCtor = { new (config: object): tf.layers.Layer };

/**
 * Re-creates a loaded part model's layers on top of `input`, names prefixed, sharing the part's
 * weight tensors (no copy). The new layers are appended to `created`, in order.
 * Returns the symbolic output of the part's last layer.
 */
export function graftPart(part: tf.LayersModel, input: tf.SymbolicTensor, prefix: string, created: tf.layers.Layer[]): tf.SymbolicTensor {
  const out = new Map<string, tf.SymbolicTensor>();
  out.set(part.inputLayers[0].name, input);
  const pairs: [tf.layers.Layer, tf.layers.Layer][] = [];
  for (const layer of part.layers) {
    if (out.has(layer.name)) continue; // the input layer
    const inbound = layer.inboundNodes[0].inboundLayers.map((l) => {
      const t = out.get(l.name);
      if (!t) throw new Error(`graft: layer ${layer.name} comes before its input ${l.name}`);
      return t;
    });
    const fresh = new (layer.constructor as unknown as LayerCtor)({ ...layer.getConfig(), name: prefix + layer.name });
    out.set(layer.name, fresh.apply(inbound.length === 1 ? inbound[0] : inbound) as tf.SymbolicTensor);
    pairs.push([fresh, layer]);
    created.push(fresh);
  }
  for (const [fresh, original] of pairs) {
    const w = original.getWeights();
    if (w.length) fresh.setWeights(w);
  }
  return out.get(part.layers[part.layers.length - 1].name)!;
}
