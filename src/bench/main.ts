// The in-browser half of `npm run bench`: the same measurements as in Node, on this browser's backend,
// with ONNX Runtime Web as a peer on wasm. `?check=onnx` instead checks the ONNX export against TF.js.
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { loadSample } from '../io/sample';
import { httpSource } from '../io/httpSource';
import { configureWasm, selectBackend, type BackendName } from '../ml/run/backend';
import { benchBackend } from './benchmark';
import { onnxModel } from '../ml/export/onnxExport';
import type { Pool } from '../ml/pool';
import { argmaxRows } from '../ml/run/predict';
import { openPool } from '../index';
import { POOLS_BASE_URL } from '../config';
import { configureOrt, ortLogits, ortSession, ortThroughput, ortVersion } from './onnxRuntime';
import { startPeer, type PeerApi, type PeerKind } from './peer';
import type { WasmThreadSetting } from '../ml/run/wasmThreads';

declare global {
  interface Window { benchResult?: unknown; benchError?: string; benchPeer?: PeerApi }
}

async function defaultPoolUrl(): Promise<string> {
  const index = await (await fetch(`${POOLS_BASE_URL}index.json`)).json();
  return POOLS_BASE_URL + index.default;
}

async function ortPeer(pool: Pool, quick: boolean) {
  const throughput = [];
  for (const n of [1, 5, 20].filter((k) => k <= pool.manifest.experts.length))
    for (const batch of [1, 32]) throughput.push(await ortThroughput(pool, n, batch, quick ? 2 : 5, quick ? 300 : 400));
  return { runtime: ortVersion(), throughput };
}

/** ONNX Runtime Web on the ONNX export vs TF.js on the same consolidated model. */
async function onnxCheck(pool: Pool) {
  const ref = pool.reference!;
  const size = pool.manifest.input.sizePx;
  const all = pool.consolidate(pool.manifest.experts.map((e) => e.name));
  const want = await all.predictLogits(ref.images, ref.count);
  const got = await ortLogits(await ortSession(onnxModel(all, pool.manifest)), ref.images, ref.count, size);
  const maxAbsDiff = want.reduce((m, v, i) => Math.max(m, Math.abs(v - got[i])), 0);
  all.dispose();
  const sample = await loadSample(httpSource(await defaultPoolUrl()));
  if (!sample) throw new Error('the default pool carries no sample images');
  const c = pool.consolidate(['people', 'vehicles_1', 'apple', 'cup', 'flowers']);
  const k = c.labels.length;
  const a = argmaxRows(await c.predictLogits(sample.images, sample.count), k);
  const b = argmaxRows(await ortLogits(await ortSession(onnxModel(c, pool.manifest)), sample.images, sample.count, size, sample.channels), k);
  c.dispose();
  return { runtime: ortVersion(), referenceImages: ref.count, logits: want.length, maxAbsDiff, sampleImages: sample.count, sampleTop1Agree: a.filter((v, i) => v === b[i]).length };
}

async function run() {
  configureWasm({ 'tfjs-backend-wasm.wasm': wasmPlain, 'tfjs-backend-wasm-simd.wasm': wasmSimd, 'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded });
  configureOrt();
  const params = new URLSearchParams(location.search);
  const peer = params.get('peer') as PeerKind | null;
  if (peer) {
    // A peer of the ratio section: TF.js on the threads asked for; ONNX Runtime with them and TF.js (which only loads the pool) on one.
    const threads = Number(params.get('threads') ?? 1);
    configureOrt(threads);
    const status = await selectBackend('wasm', (peer === 'ort' ? 1 : threads) as WasmThreadSetting);
    if (status.wasm && peer !== 'ort' && status.wasm.threads !== threads) throw new Error(`asked for ${threads} wasm threads, got ${status.wasm.threads}: ${status.wasm.limit ?? ''}`);
    window.benchPeer = await startPeer(await openPool(await defaultPoolUrl()), peer, threads);
    return { peer: window.benchPeer.runtime };
  }
  const backend = (params.get('backend') ?? 'wasm') as BackendName;
  const quick = params.get('quick') === '1';
  const status = await selectBackend(backend);
  if (status.active !== backend) throw new Error(`backend ${backend} unavailable: ${status.skipped.map((s) => s.reason).join('; ')}`);
  const pool = await openPool(await defaultPoolUrl());
  if (params.get('check') === 'onnx') return onnxCheck(pool);
  const result = await benchBackend(pool, { quick });
  const onnxRuntime = backend === 'wasm' && params.get('ort') !== '0' ? await ortPeer(pool, quick) : undefined;
  return { ...result, onnxRuntime, crossOriginIsolated: globalThis.crossOriginIsolated, userAgent: navigator.userAgent };
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
