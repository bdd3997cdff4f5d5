import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import vm from 'node:vm';
import { startLiteRt } from '../io/litert';

/**
 * LiteRT.js in Node. Its loader is written for pages and workers (it injects a <script>, or calls
 * importScripts, then fetches the .wasm by URL); these few globals give it a worker-like scope that
 * reads files from node_modules/@litertjs/core/wasm.
 */
export function startLiteRtNode(): Promise<unknown> {
  const require = createRequire(import.meta.url);
  const wasmDir = join(dirname(require.resolve('@litertjs/core')), '..', 'wasm');
  const g = globalThis as Record<string, unknown>;
  g.self ??= globalThis;
  g.importScripts ??= (url: string) => vm.runInThisContext(readFileSync(fileURLToPath(url), 'utf8'), { filename: String(url) });
  g.require ??= require;
  g.__dirname ??= wasmDir;
  if (!g.__poeFileFetch) {
    const webFetch = globalThis.fetch;
    g.__poeFileFetch = true;
    globalThis.fetch = (async (u: RequestInfo | URL, o?: RequestInit) => {
      const s = typeof u === 'string' ? u : u instanceof URL ? u.href : u.url;
      if (s.startsWith('file:')) return new Response(readFileSync(fileURLToPath(s)), { headers: { 'content-type': 'application/wasm' } });
      return webFetch(u, o);
    }) as typeof fetch;
  }
  // Its wasm logs INFO lines at start and looks for a WebGPU device Node does not have: keep those off the console.
  const saved = { log: console.log, warn: console.warn, error: console.error };
  for (const k of ['log', 'warn', 'error'] as const) {
    const print = saved[k];
    console[k] = (...a: unknown[]) => {
      if (typeof a[0] === 'string' && (/^(INFO|WARNING): /.test(a[0]) || a[0].startsWith('Failed to create default WebGPU device'))) return;
      print(...a);
    };
  }
  return startLiteRt(pathToFileURL(wasmDir).href + '/').finally(() => {
    Object.assign(console, saved);
    // Emscripten modules loaded later (tfjs-backend-wasm) would take a global importScripts for a worker's.
    delete g.importScripts;
  });
}
