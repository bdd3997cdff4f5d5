import { copyFileSync, createReadStream, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Plugin } from 'vite';

/**
 * The production build's Content-Security-Policy, as a <meta> tag so that it holds on any static
 * host. What each source is for:
 * - script-src 'self' blob: 'wasm-unsafe-eval': our bundles; tfjs-backend-wasm compiles its .wasm
 *   and starts its thread workers from blob: URLs of its own source text (no eval, no inline script).
 * - worker-src 'self' blob:: the service worker; those wasm thread workers.
 * - connect-src: our own files and the wasm binaries, plus pools the user opens by address (?pool=):
 *   any https host, or http on this machine (a pool served while developing one).
 * - img-src / media-src blob: data:: upload thumbnails, the built-in sample, the webcam stream.
 * - style-src 'self': our one stylesheet; React sets style properties through the CSSOM, which CSP allows.
 * Not in the dev server (npm start): Vite's hot reload injects inline scripts there.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' blob: 'wasm-unsafe-eval'",
  "worker-src 'self' blob:",
  "connect-src 'self' blob: data: https: http://127.0.0.1:* http://localhost:*",
  "img-src 'self' blob: data:",
  "media-src 'self' blob: mediastream:",
  "style-src 'self'",
  "font-src 'self'",
  "manifest-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
].join('; ');

export function contentSecurityPolicy(): Plugin {
  return {
    name: 'poe-csp',
    apply: 'build',
    transformIndexHtml: () => [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: CONTENT_SECURITY_POLICY }, injectTo: 'head-prepend' }],
  };
}

/** An id that differs for every build (or POE_BUILD_ID), shown in the page and stamped into the service worker. */
export const BUILD_ID = process.env.POE_BUILD_ID ?? new Date().toISOString().replace(/[-:.]/g, '').slice(0, 15) + '-' + Math.random().toString(36).slice(2, 6);

function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? listFiles(full, `${prefix}${name}/`) : [prefix + name];
  });
}

/**
 * Stamps the build id and the list of the build's own files into dist/sw.js, so that every deploy
 * is a new service worker that installs the new app beside the old one (see public/sw.js). Pools
 * and the built-in sample are left out: IndexedDB and the network handle those.
 */
export function serviceWorkerBuild(): Plugin {
  let outDir = 'dist';
  let base = '/';
  let building = false;
  return {
    name: 'poe-sw-build',
    config: () => ({ define: { __POE_BUILD_ID__: JSON.stringify(BUILD_ID) } }),
    configResolved(config) {
      outDir = path.resolve(config.root, config.build.outDir);
      base = config.base;
      building = config.command === 'build';
    },
    closeBundle() {
      if (!building) return;
      const sw = path.join(outDir, 'sw.js');
      // The app's files only: not the bench page and its ONNX Runtime, not pools or the sample (see above).
      const skip = /^(sw\.js|bench\.html|assets\/(bench|ort)-.*|pools\/.*|litert\/.*|.*\.map)$/;
      const files = listFiles(outDir).filter((f) => !skip.test(f));
      const urls = ['', ...files.filter((f) => f !== 'index.html')].map((f) => base + f);
      writeFileSync(sw, readFileSync(sw, 'utf8').replace("'__BUILD_ID__'", JSON.stringify(BUILD_ID)).replace('[/* __APP_FILES__ */]', JSON.stringify(urls)));
    },
  };
}

/**
 * LiteRT.js's runtime, served at litert/ (dev server) and copied into dist/litert/ (build): the two
 * single-threaded CPU builds its loader chooses between (relaxed SIMD or not). About 19 MB, fetched only
 * when the Download panel runs a .tflite file, so the service worker does not precache it.
 */
export function liteRtRuntime(): Plugin {
  const wasmDir = path.join(path.dirname(createRequire(import.meta.url).resolve('@litertjs/core')), '..', 'wasm');
  const files = ['litert_wasm_internal.js', 'litert_wasm_internal.wasm', 'litert_wasm_compat_internal.js', 'litert_wasm_compat_internal.wasm'];
  let outDir = 'dist';
  return {
    name: 'poe-litert',
    configResolved(config) {
      outDir = path.resolve(config.root, config.build.outDir);
    },
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const name = req.url?.split('?')[0].match(/\/litert\/([\w.]+)$/)?.[1];
        if (!name || !files.includes(name)) return next();
        res.setHeader('Content-Type', name.endsWith('.wasm') ? 'application/wasm' : 'text/javascript');
        createReadStream(path.join(wasmDir, name)).pipe(res);
      });
    },
    closeBundle() {
      if (!existsSync(outDir)) return;
      mkdirSync(path.join(outDir, 'litert'), { recursive: true });
      for (const f of files) copyFileSync(path.join(wasmDir, f), path.join(outDir, 'litert', f));
    },
  };
}
