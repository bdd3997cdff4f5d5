import * as tf from '@tensorflow/tfjs';
import { PoeError } from '../errors';

type LayerCtor = { new (config: object): tf.layers.Layer };

/** The only layer that consumes `layer`'s output, if exactly one does. */
function soleConsumer(layer: tf.layers.Layer): tf.layers.Layer | null {
  return layer.outboundNodes.length === 1 ? layer.outboundNodes[0].outboundLayer : null;
}

const className = (l: tf.layers.Layer | null) => (l ? l.getClassName() : '');

/**
 * conv -> BatchNormalization (-> ReLU) as one conv with bias (and fused ReLU), exact up to float
 * rounding: w' = w * gamma / sqrt(var + eps) per output channel, b' = (b - mean) * that + beta.
 * Returns null when the pattern does not apply.
 */
function foldConvBn(conv: tf.layers.Layer, name: string): { layer: tf.layers.Layer; weights: tf.Tensor[]; skipped: tf.layers.Layer[] } | null {
  const bn = soleConsumer(conv);
  if (className(conv) !== 'Conv2D' || className(bn) !== 'BatchNormalization' || bn!.inboundNodes[0].inboundLayers.length !== 1) return null;
  const bnConfig = bn!.getConfig() as { epsilon: number; axis: number | number[] };
  if (![-1, 3].includes(Array.isArray(bnConfig.axis) ? bnConfig.axis[0] : bnConfig.axis)) return null;
  const relu = soleConsumer(bn!);
  const fuseRelu = className(relu) === 'Activation' && (relu!.getConfig() as { activation: string }).activation === 'relu';
  const [kernel, convBias] = conv.getWeights();
  const [gamma, beta, mean, variance] = bn!.getWeights();
  const weights = tf.tidy(() => {
    const scale = gamma.div(variance.add(bnConfig.epsilon).sqrt());
    const bias = (convBias ?? tf.zerosLike(mean)).sub(mean).mul(scale).add(beta);
    return [kernel.mul(scale), bias];
  });
  const config = { ...conv.getConfig(), name, useBias: true, activation: fuseRelu ? 'relu' : 'linear' };
  const layer = new (conv.constructor as unknown as LayerCtor)(config);
  return { layer, weights, skipped: fuseRelu ? [bn!, relu!] : [bn!] };
}

/**
 * Re-creates a loaded part model's layers on top of `input`, names prefixed, sharing the part's
 * weight tensors (no copy). With `fold`, each conv -> BatchNorm (-> ReLU) becomes one fused conv,
 * which is faster and equal up to float rounding. New layers are appended to `created`, in order.
 * Returns the symbolic output of the part's last layer.
 */
export function graftPart(part: tf.LayersModel, input: tf.SymbolicTensor, prefix: string, created: tf.layers.Layer[], fold = false): tf.SymbolicTensor {
  const out = new Map<string, tf.SymbolicTensor>();
  out.set(part.inputLayers[0].name, input);
  const pending: { layer: tf.layers.Layer; weights: tf.Tensor[]; own: boolean }[] = [];
  for (const layer of part.layers) {
    if (out.has(layer.name)) continue; // the input layer, or a layer folded into a conv
    const inbound = layer.inboundNodes[0].inboundLayers.map((l) => {
      const t = out.get(l.name);
      if (!t) throw new PoeError('MODEL_INVALID', `Layer ${layer.name} comes before its input ${l.name}: the part's graph cannot be grafted.`);
      return t;
    });
    const x = inbound.length === 1 ? inbound[0] : inbound;
    const folded = fold ? foldConvBn(layer, prefix + layer.name) : null;
    if (folded) {
      const y = folded.layer.apply(x) as tf.SymbolicTensor;
      [layer, ...folded.skipped].forEach((l) => out.set(l.name, y));
      pending.push({ layer: folded.layer, weights: folded.weights, own: true });
      created.push(folded.layer);
      continue;
    }
    const fresh = new (layer.constructor as unknown as LayerCtor)({ ...layer.getConfig(), name: prefix + layer.name });
    out.set(layer.name, fresh.apply(x) as tf.SymbolicTensor);
    pending.push({ layer: fresh, weights: layer.getWeights(), own: false });
    created.push(fresh);
  }
  for (const p of pending) {
    if (p.weights.length) p.layer.setWeights(p.weights);
    if (p.own) p.weights.forEach((w) => w.dispose());
  }
  return out.get(part.layers[part.layers.length - 1].name)!;
}
