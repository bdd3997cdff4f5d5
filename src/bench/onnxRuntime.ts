// ONNX Runtime Web in the browser, as a peer of TF.js in `npm run bench` and as a check of the ONNX export.
import * as ort from 'onnxruntime-web/wasm';
import ortWasm from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import ortGlue from 'onnxruntime-web/ort-wasm-simd-threaded.mjs?url';
import { measureRate, type Stat } from './benchmark';
import { onnxModel } from '../ml/export/onnxExport';
import type { Pool } from '../ml/pool';
import { channelCount } from '../ml/pool/poolManifest';

export function configureOrt(threads = navigator.hardwareConcurrency || 1): void {
  ort.env.wasm.wasmPaths = { wasm: ortWasm, mjs: ortGlue };
  ort.env.wasm.numThreads = globalThis.crossOriginIsolated ? threads : 1;
}

export async function ortSession(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
}

export async function ortLogits(session: ort.InferenceSession, images: Uint8Array, count: number, sizePx: number, channels = 3): Promise<Float32Array> {
  const x = new ort.Tensor('float32', Float32Array.from(images.subarray(0, count * sizePx * sizePx * channels)), [count, sizePx, sizePx, channels]);
  const out = await session.run({ pixels: x });
  return out.logits.data as Float32Array;
}

export interface OrtThroughput {
  experts: number;
  batch: number;
  imagesPerSecond: Stat;
}

/** ONNX Runtime Web's images per second on the ONNX export of the first n experts' consolidated model. */
export async function ortThroughput(pool: Pool, n: number, batch: number, rounds = 5, ms = 400): Promise<OrtThroughput> {
  const size = pool.manifest.input.sizePx;
  const channels = channelCount(pool.manifest.input);
  const c = pool.consolidate(pool.manifest.experts.slice(0, n).map((e) => e.name));
  const session = await ortSession(onnxModel(c, pool.manifest));
  c.dispose();
  const x = new ort.Tensor('float32', Float32Array.from({ length: batch * size * size * channels }, () => Math.random() * 255), [batch, size, size, channels]);
  const imagesPerSecond = await measureRate(() => session.run({ pixels: x }), batch, rounds, ms);
  await session.release();
  return { experts: n, batch, imagesPerSecond };
}

export function ortVersion(): string {
  return `ONNX Runtime Web ${ort.env.versions.web ?? ''} (wasm, ${ort.env.wasm.numThreads} threads)`;
}
