import react from '@vitejs/plugin-react';
import { defaultClientConditions, defineConfig } from 'vite';
import { contentSecurityPolicy, liteRtRuntime, serviceWorkerBuild } from './scripts/vite-app-plugins.ts';

// Cross-origin isolation lets the wasm backend use threads (SharedArrayBuffer).
const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

export default defineConfig({
  plugins: [react(), contentSecurityPolicy(), serviceWorkerBuild(), liteRtRuntime()],
  // ONNX Runtime Web's default build spawns its thread workers from its own (bundled) script URL, which
  // inside our chunks runs app code in a worker; this variant loads its glue from a file of its own.
  resolve: { conditions: ['onnxruntime-web-use-extern-wasm', ...defaultClientConditions] },
  server: { port: 5173, headers: isolation },
  preview: { port: 4173, headers: isolation },
  // No minification: tfjs-backend-wasm builds its thread workers from function source text, which minified names break.
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 8192,
    minify: false,
    rollupOptions: { input: { main: 'index.html', bench: 'bench.html' } },
  },
});
