import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { zipSync } from 'fflate';
import { fetchPool } from '../../src/ml/pool/poolFetch';
import { instantiatePool, disposePool } from '../../src/ml/pool/poolModels';
import { zipPoolSource } from '../../src/io/localPoolSource';

/** A pool folder's files in memory, by path relative to the folder. */
export type PoolFiles = Map<string, Uint8Array>;

export function readPoolDir(dir: string, prefix = ''): PoolFiles {
  const out: PoolFiles = new Map();
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) readPoolDir(full, `${prefix}${name}/`).forEach((v, k) => out.set(k, v));
    else out.set(prefix + name, new Uint8Array(readFileSync(full)));
  }
  return out;
}

export const json = (files: PoolFiles, p: string) => JSON.parse(new TextDecoder().decode(files.get(p)));
export const bytesOf = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));

/** Replaces a file and records its new size and SHA-256 in pool.json, as a hostile pool's author would. */
export function replaceFile(files: PoolFiles, p: string, bytes: Uint8Array): PoolFiles {
  const out = new Map(files);
  out.set(p, bytes);
  const m = json(out, 'pool.json');
  const entries = [m.library.files.model, m.library.files.weights, ...m.experts.flatMap((e: { files: { model: unknown; weights: unknown } }) => [e.files.model, e.files.weights]), m.reference];
  for (const e of entries as { path: string; bytes: number; sha256: string }[])
    if (e?.path === p) Object.assign(e, { bytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') });
  out.set('pool.json', bytesOf(m));
  return out;
}

export function zipOf(files: PoolFiles, folder = ''): Uint8Array {
  return zipSync(Object.fromEntries([...files].map(([k, v]) => [folder + k, v])), { level: 1 });
}

/** Opens a pool zip the way the app does; returns the error's code and message, or 'OK' and the pool's expert count. */
export async function openZip(zip: Uint8Array, name = 'pool.zip'): Promise<{ code: string; message: string; experts?: number }> {
  try {
    const pool = await instantiatePool(await fetchPool(zipPoolSource(zip, name)));
    const experts = pool.experts.size;
    disposePool(pool);
    return { code: 'OK', message: '', experts };
  } catch (e) {
    const err = e as { code?: string; message: string };
    return { code: err.code ?? `UNCODED ${(e as Error).name}`, message: err.message };
  }
}
