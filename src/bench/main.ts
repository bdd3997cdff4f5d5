// The in-browser half of `npm run bench`: the same measurements as in Node, on this browser's backend.
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { httpSource } from '../io/httpSource';
import { configureWasm, selectBackend, type BackendName } from '../ml/backend';
import { benchBackend } from '../ml/benchmark';
import { fetchPool } from '../ml/poolFetch';
import { prepareGraph } from '../ml/poolGraph';
import { instantiatePool } from '../ml/poolModels';
import { POOLS_BASE_URL } from '../config';

declare global {
  interface Window { benchResult?: unknown; benchError?: string }
}

async function run() {
  configureWasm({ 'tfjs-backend-wasm.wasm': wasmPlain, 'tfjs-backend-wasm-simd.wasm': wasmSimd, 'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded });
  const params = new URLSearchParams(location.search);
  const backend = (params.get('backend') ?? 'wasm') as BackendName;
  const status = await selectBackend(backend);
  if (status.active !== backend) throw new Error(`backend ${backend} unavailable: ${status.skipped.map((s) => s.reason).join('; ')}`);
  const index = await (await fetch(`${POOLS_BASE_URL}index.json`)).json();
  const pool = await instantiatePool(await fetchPool(httpSource(POOLS_BASE_URL + index.default)));
  prepareGraph(pool);
  const result = await benchBackend(pool, { quick: params.get('quick') === '1' });
  return { ...result, crossOriginIsolated: globalThis.crossOriginIsolated, userAgent: navigator.userAgent };
}

run().then(
  (r) => {
    window.benchResult = r;
    document.getElementById('out')!.textContent = JSON.stringify(r, null, 2);
  },
  (e) => {
    window.benchError = String((e as Error).stack ?? e);
    document.getElementById('out')!.textContent = window.benchError;
  },
);
