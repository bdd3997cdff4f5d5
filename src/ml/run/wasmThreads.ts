import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { PoeError } from '../errors';

/** How many XNNPACK threads the wasm backend runs: 'auto' measures at start-up, a number is taken as is (up to what the page can have). */
export type WasmThreadSetting = 'auto' | 1 | 2 | 4;
export const WASM_THREAD_SETTINGS: WasmThreadSetting[] = ['auto', 1, 2, 4];

export interface WasmThreads {
  /** Threads in use. */
  threads: number;
  /** The most this page can have. */
  max: number;
  /** Why max is 1, where it is. */
  limit?: string;
  setting: WasmThreadSetting;
  /** With 'auto': ms per warm probe batch at each thread count tried, the one in use chosen from these. */
  probe?: { threads: number; ms: number }[];
}

const MOST = 4;

/** The most XNNPACK threads this page can have: workers sharing memory need cross-origin isolation and SharedArrayBuffer. */
export function wasmThreadLimit(): { max: number; limit?: string } {
  if (!globalThis.crossOriginIsolated)
    return { max: 1, limit: 'the page is not cross-origin isolated (its server sends no COOP/COEP headers), so wasm cannot share memory with worker threads' };
  if (typeof SharedArrayBuffer === 'undefined') return { max: 1, limit: 'this browser has no SharedArrayBuffer, so wasm cannot use worker threads' };
  const cores = globalThis.navigator?.hardwareConcurrency || 1;
  return cores > 1 ? { max: Math.min(MOST, cores) } : { max: 1, limit: 'this device reports one core' };
}

/**
 * (Re)starts the wasm backend with n XNNPACK threads and returns the count it got. tfjs-backend-wasm
 * caps the count at navigator.hardwareConcurrency / 2 (it assumes two hyper-threads a core), which
 * leaves a 2-core phone or laptop on one thread; the cap is read once, when the backend starts, so
 * the count it sees is raised for that moment only.
 */
async function startWasm(n: number): Promise<number> {
  const factory = tf.findBackendFactory('wasm');
  if (!factory) throw new PoeError('BACKEND_UNAVAILABLE', 'the wasm backend is not registered');
  if (tf.findBackend('wasm')) {
    tf.removeBackend('wasm'); // disposes it, workers included; removing also drops its factory
    tf.registerBackend('wasm', factory, 2);
  }
  setThreadsCount(n);
  const nav = globalThis.navigator as Navigator | undefined;
  const raise = n > 1 && nav && Object.getOwnPropertyDescriptor(nav, 'hardwareConcurrency') === undefined;
  if (raise) Object.defineProperty(nav, 'hardwareConcurrency', { value: 2 * n, configurable: true });
  try {
    if (!(await tf.setBackend('wasm'))) throw new PoeError('BACKEND_UNAVAILABLE', 'the wasm backend did not start');
    await tf.ready();
  } finally {
    if (raise) delete (nav as unknown as Record<string, unknown>).hardwareConcurrency;
  }
  return getThreadsCount();
}

/** ms for one warm batch of 32 images through convolutions shaped like the pool models' (median of 5 after 2 warm-ups). */
async function probeMs(): Promise<number> {
  const x = tf.randomUniform([32, 16, 16, 16]) as tf.Tensor4D;
  const w1 = tf.randomNormal([3, 3, 16, 32], 0, 0.1) as tf.Tensor4D;
  const w2 = tf.randomNormal([3, 3, 32, 32], 0, 0.1) as tf.Tensor4D;
  const step = async () => {
    const y = tf.tidy(() => tf.conv2d(tf.relu(tf.conv2d(x, w1, 1, 'same')), w2, 1, 'same').mean());
    await y.data();
    y.dispose();
  };
  await step();
  await step();
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    await step();
    times.push(performance.now() - t0);
  }
  tf.dispose([x, w1, w2]);
  return times.sort((a, b) => a - b)[2];
}

/**
 * Starts the wasm backend with the threads `setting` asks for. 'auto' times a warm batch on one
 * thread and on the most the page can have, and keeps more threads only when they are at least 10 %
 * faster: on a busy machine more threads can be slower than one.
 */
export async function startWasmThreads(setting: WasmThreadSetting = 'auto'): Promise<WasmThreads> {
  const { max, limit } = wasmThreadLimit();
  if (max === 1) return { threads: await startWasm(1), max, limit, setting };
  if (setting !== 'auto') return { threads: await startWasm(Math.min(setting, max)), max, setting };
  const probe = [{ threads: await startWasm(1), ms: await probeMs() }];
  const many = await startWasm(max);
  probe.push({ threads: many, ms: await probeMs() });
  if (probe[1].ms <= 0.9 * probe[0].ms) return { threads: many, max, setting, probe };
  return { threads: await startWasm(1), max, setting, probe };
}
