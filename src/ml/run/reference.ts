import { consolidate } from '../graph/consolidate';
import { compilePlan } from './plan';
import { argmaxRows, predictLogits } from './predict';
import type { LoadedPool } from '../pool/poolModels';

/** The PyTorch side's reference.json: test images and every expert's logits on them. */
export interface PoolReference {
  images: Uint8Array;
  count: number;
  labels: number[];
  logits: Record<string, number[][]>;
}

export interface ReferenceCheck {
  images: number;
  logits: number;
  maxAbsDiff: number;
  top1Agree: number;
}

function base64Bytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function parseReference(bytes: Uint8Array): PoolReference {
  const r = JSON.parse(new TextDecoder().decode(bytes));
  return { images: base64Bytes(r.images.base64), count: r.images.shape[0], labels: r.labels, logits: r.logits };
}

/** PyTorch's logits for the columns of a plan, row-major [count, columns]. */
export function referenceColumns(ref: PoolReference, parts: { expert: string; keep: number[] }[]): Float32Array {
  const out: number[] = [];
  for (let i = 0; i < ref.count; i++) for (const p of parts) for (const k of p.keep) out.push(ref.logits[p.expert][i][k]);
  return Float32Array.from(out);
}

/**
 * Runs every expert of the pool on the reference images with the active backend, through the compiled plan
 * models predict with (run/plan.ts), and compares with PyTorch.
 */
export async function checkAgainstReference(pool: LoadedPool, ref: PoolReference): Promise<ReferenceCheck> {
  const c = consolidate(pool, pool.manifest.experts.map((e) => e.name));
  const plan = compilePlan(c.model);
  try {
    const got = await predictLogits(plan ?? c.model, ref.images, ref.count, pool.manifest.input.sizePx);
    const want = referenceColumns(ref, c.plan.parts);
    let maxAbsDiff = 0;
    want.forEach((w, i) => (maxAbsDiff = Math.max(maxAbsDiff, Math.abs(w - got[i]))));
    const k = c.labels.length;
    const a = argmaxRows(got, k);
    const b = argmaxRows(want, k);
    return { images: ref.count, logits: want.length, maxAbsDiff, top1Agree: a.filter((v, i) => v === b[i]).length };
  } finally {
    plan?.dispose();
    c.dispose();
  }
}
