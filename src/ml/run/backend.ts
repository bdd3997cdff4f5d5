import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { PoeError } from '../errors';
import { startWasmThreads, type WasmThreadSetting, type WasmThreads } from './wasmThreads';

export type BackendName = 'webgpu' | 'webgl' | 'wasm' | 'cpu';
export const BACKEND_ORDER: BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

export interface BackendStatus {
  active: BackendName;
  /** Why each faster backend than the active one is not in use. */
  skipped: { name: BackendName; reason: string }[];
  /** On wasm in a browser: the XNNPACK threads in use and how they were chosen. */
  wasm?: WasmThreads;
}

/** Where the wasm binaries are served from (the app passes Vite asset URLs). */
export function configureWasm(paths: Record<string, string> | string): void {
  setWasmPaths(paths as Parameters<typeof setWasmPaths>[0]);
}

const inBrowser = () => typeof window !== 'undefined' && typeof document !== 'undefined';

async function tryBackend(name: BackendName, threads: WasmThreadSetting, status: Partial<BackendStatus>): Promise<string | null> {
  if (name === 'webgpu' && !(globalThis.navigator as Navigator & { gpu?: unknown })?.gpu)
    return 'this browser has no WebGPU (navigator.gpu is missing)';
  try {
    if (name === 'wasm' && inBrowser()) {
      status.wasm = await startWasmThreads(threads);
      return null;
    }
    if (await tf.setBackend(name)) {
      await tf.ready();
      return null;
    }
    return 'it failed to initialise';
  } catch (e) {
    return `it failed to initialise: ${(e as Error).message}`;
  }
}

/**
 * Activates `preferred`, or with 'auto' the fastest that works (WebGPU, WebGL, WASM, CPU).
 * A preferred backend that fails falls back down the list; the reasons are reported. On wasm in a
 * browser, `wasmThreads` sets its worker threads ('auto': measured at start-up, see wasmThreads.ts).
 */
export async function selectBackend(preferred: BackendName | 'auto' = 'auto', wasmThreads: WasmThreadSetting = 'auto'): Promise<BackendStatus> {
  const start = preferred === 'auto' ? 0 : BACKEND_ORDER.indexOf(preferred);
  const skipped: BackendStatus['skipped'] = [];
  for (const name of BACKEND_ORDER.slice(start)) {
    const status: Partial<BackendStatus> = {};
    const reason = await tryBackend(name, wasmThreads, status);
    if (reason === null) return { active: name, skipped, ...status };
    skipped.push({ name, reason });
  }
  throw new PoeError('BACKEND_UNAVAILABLE', `No TensorFlow.js backend could start: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
}

export const activeBackend = (): string => tf.getBackend();
