import { TensorType, type FlatModel } from './write';

const ELEMENT_BYTES: Partial<Record<TensorType, number>> = {
  [TensorType.FLOAT32]: 4, [TensorType.FLOAT16]: 2, [TensorType.INT32]: 4, [TensorType.UINT8]: 1, [TensorType.INT64]: 8, [TensorType.INT8]: 1,
};
const ALIGN = 16; // TFLite Micro aligns each tensor in its arena to 16 bytes

/**
 * Peak bytes of activations alive at once when the operators run in order (every tensor without
 * constant data lives from the op that writes it, or the start for inputs, to the last op that reads
 * it, or the end for outputs), each rounded up to 16 bytes. A lower bound for a tensor arena.
 */
export function peakActivationBytes(m: FlatModel): number {
  const size = (i: number) => {
    const t = m.tensors[i];
    const bytes = t.shape.reduce((a, b) => a * b, 1) * (ELEMENT_BYTES[t.type] ?? 4);
    return Math.ceil(bytes / ALIGN) * ALIGN;
  };
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  m.inputs.forEach((i) => first.set(i, 0));
  m.ops.forEach((o, k) => {
    o.outputs.forEach((i) => { if (!first.has(i)) first.set(i, k); last.set(i, Math.max(last.get(i) ?? k, k)); });
    o.inputs.forEach((i) => { if (i >= 0 && !m.tensors[i].data) last.set(i, k); });
  });
  m.outputs.forEach((i) => last.set(i, m.ops.length));
  let peak = 0;
  for (let k = 0; k < m.ops.length; k++) {
    let live = 0;
    for (const [i, start] of first) if (start <= k && (last.get(i) ?? start) >= k) live += size(i);
    peak = Math.max(peak, live);
  }
  return peak;
}
