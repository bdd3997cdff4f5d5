import type { GraphTensor, TfliteGraph } from './graph';
import type { Calibration } from './calibrate';

/**
 * Cross-layer equalisation (Nagel et al., 2019) before int8: a pre-activation BN (a per-channel scale with a
 * fused ReLU) leaves some channels with a far smaller range than others, and one int8 scale per tensor then
 * gives them few steps. ReLU commutes with a positive scale, so channel c of such a tensor is multiplied
 * by s_c = sqrt(w_c / a_c) (a_c: its largest value, w_c: the largest weight reading it in the convolutions
 * that read it) and those weights divided by s_c: the float model is unchanged and both ranges become
 * sqrt(a_c w_c). Returns a graph with new weight arrays and the calibration adjusted to match.
 */
export function equalize(g: TfliteGraph, cal: Calibration): { graph: TfliteGraph; calibration: Calibration } {
  const tensors: GraphTensor[] = g.tensors.map((t) => ({ ...t }));
  const ranges = new Map(cal.ranges);
  const channelMax = new Map(cal.channelMax);
  for (const o of g.ops) {
    if (o.op !== 'DEPTHWISE_CONV_2D' || o.activation !== 'RELU' || o.depthMultiplier !== 1) continue;
    const out = o.outputs[0];
    const readers = g.ops.filter((r) => r.inputs.includes(out));
    const a = channelMax.get(out);
    if (!a || out === g.output || !readers.length || readers.some((r) => r.op !== 'CONV_2D' || r.inputs.indexOf(out) !== 0 || r.inputs.lastIndexOf(out) !== 0)) continue;
    const channels = a.length;
    const w = new Float32Array(channels);
    for (const r of readers) {
      const k = tensors[r.inputs[1]];
      const cin = k.shape[3];
      k.values!.forEach((v, i) => { const c = i % cin; w[c] = Math.max(w[c], Math.abs(v)); });
    }
    const s = Float32Array.from(a, (ac, c) => (ac > 0 && w[c] > 0 ? Math.sqrt(w[c] / ac) : 1));
    const [kernel, bias] = [tensors[o.inputs[1]], tensors[o.inputs[2]]];
    tensors[o.inputs[1]] = { ...kernel, values: kernel.values!.map((v, i) => v * s[i % channels]) };
    tensors[o.inputs[2]] = { ...bias, values: bias.values!.map((v, c) => v * s[c]) };
    for (const r of readers) {
      const k = tensors[r.inputs[1]];
      const cin = k.shape[3];
      tensors[r.inputs[1]] = { ...k, values: k.values!.map((v, i) => v / s[i % cin]) };
    }
    const scaled = a.map((v, c) => v * s[c]);
    channelMax.set(out, scaled);
    ranges.set(out, [0, Math.max(...scaled)]);
  }
  return { graph: { ...g, tensors }, calibration: { ranges, channelMax } };
}
