/** The PoE Studio engine for Node: as index.ts, with pools opened from folders and the wasm backend. */
import * as tf from '@tensorflow/tfjs';
import { httpSource } from './io/httpSource';
import { openFromSource, type OpenPoolOptions, type Pool } from './ml/pool';
import type { PoolBundle, PoolSource } from './ml/pool/poolFetch';
import { useNodeBackend } from './node/backend';
import { folderSource } from './node/folderSource';

/**
 * Opens the pool in a folder on disk (or at an http(s) URL, or from any PoolSource). Where no TensorFlow.js backend
 * was chosen yet (useNodeBackend, or tf.setBackend), the wasm backend is started first and pool.notices says so.
 */
export async function openPool(source: string | PoolSource | PoolBundle, options?: OpenPoolOptions): Promise<Pool> {
  const started = (tf.engine() as unknown as { backendName?: string }).backendName ? null : await useNodeBackend('wasm').then(() => 'wasm');
  const pool = typeof source === 'string'
    ? await openFromSource(/^https?:\/\//.test(source) ? httpSource(source) : folderSource(source), options)
    : await openFromSource(source, options);
  if (started) pool.notices.push(`No TensorFlow.js backend was chosen, so openPool started ${started} (call useNodeBackend('cpu') first for the reference backend).`);
  return pool;
}

export { useNodeBackend, type NodeBackend } from './node/backend';
export { folderSource } from './node/folderSource';
export * from './engine';
