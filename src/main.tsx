import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { configureWasm, BACKEND_ORDER, type BackendName } from './ml/run/backend';
import { WASM_THREAD_SETTINGS } from './ml/run/wasmThreads';
import { enableOffline } from './io/offline';
import { isRecipeFragment } from './ml/share/recipe';
import { appStore } from './store';
import { App } from './ui/App';
import './ui/app.css';

configureWasm({ 'tfjs-backend-wasm.wasm': wasmPlain, 'tfjs-backend-wasm-simd.wasm': wasmSimd, 'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded });

// ?backend=wasm (etc.) overrides the saved preference, for testing and for links that must be reproducible.
const forced = new URLSearchParams(location.search).get('backend');
if (forced && (BACKEND_ORDER as string[]).includes(forced)) appStore.setState({ preferredBackend: forced as BackendName });
const threads = new URLSearchParams(location.search).get('threads');
const setting = WASM_THREAD_SETTINGS.find((t) => String(t) === threads);
if (setting) appStore.setState({ preferredWasmThreads: setting });

// Uploaded images are re-predicted whenever the consolidated model changes.
appStore.subscribe((s, prev) => {
  if (s.modelVersion !== prev.modelVersion) void s.repredictUploads();
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

/** A shared model (#model=...): read once, then taken off the address so a reload keeps the user's later changes. */
function takeRecipeFragment(): string | null {
  if (!isRecipeFragment(location.hash)) return null;
  const hash = location.hash;
  history.replaceState(history.state, '', location.pathname + location.search);
  return hash;
}

void (async () => {
  await appStore.getState().initBackend();
  void appStore.getState().requestPersistentStorage();
  const shared = takeRecipeFragment();
  // A link pasted into this tab's address bar later (during loading too: it waits for the pool).
  addEventListener('hashchange', () => {
    const hash = takeRecipeFragment();
    if (hash) void appStore.getState().openRecipeLink(hash);
  });
  if (shared) await appStore.getState().openRecipeLink(shared);
  await appStore.getState().loadPool();
  // ?pool=<folder URL>: the built-in pool stays in use unless that pool passes every check.
  const poolUrl = new URLSearchParams(location.search).get('pool');
  if (poolUrl) await appStore.getState().openPoolFromUrl(poolUrl);
  await appStore.getState().followRecipe();
  if (import.meta.env.PROD) await enableOffline(() => appStore.setState({ appUpdateReady: true }));
})();
