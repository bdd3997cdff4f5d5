// PoE Studio service worker. Each build stamps its id and its file list here (scripts/vite-app-plugins.ts),
// so a deploy is a new worker that installs the new build's files in a cache of its own while the open
// tabs keep running the old build from theirs. The page says "a new version is ready"; its reload button
// activates the new worker, and the reload then gets app and pool checks of the new build only, never
// an old bundle with new files. Pools are not handled here (the app keeps them, verified, in IndexedDB), except
// their sample images and class pictures, kept like the icons: the last good copy when offline.
const BUILD = '__BUILD_ID__';
const APP_FILES = [/* __APP_FILES__ */];
const PREFIX = 'poe-app-';
const CACHE = PREFIX + BUILD;

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(APP_FILES.map((u) => new Request(u, { cache: 'reload' })));
    // The first worker of this browser takes over at once; an update waits for the page to ask.
    if (!self.registration.active) await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) if (key.startsWith(PREFIX) && key !== CACHE) await caches.delete(key);
    await self.clients.claim();
  })());
});

self.addEventListener('message', (event) => {
  if (event.data === 'skip-waiting') self.skipWaiting();
  if (event.data === 'build-id') event.ports[0]?.postMessage(BUILD);
});

// A plain static host sends no COOP/COEP headers, so the page is not cross-origin isolated and wasm
// gets no worker threads. The page this worker serves carries them, so from the second visit on
// (once the worker controls the page) it is isolated wherever the app is hosted. Every file the app
// loads is its own or fetched with CORS, which require-corp allows.
const ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
function isolated(res) {
  if (res.type === 'opaqueredirect' || res.headers.has('Cross-Origin-Embedder-Policy')) return res;
  const headers = new Headers(res.headers);
  for (const [k, v] of Object.entries(ISOLATION)) headers.set(k, v);
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  // A pool's files live verified in IndexedDB; its sample images and class pictures are cached here like the icons.
  const poolFile = url.pathname.includes('/pools/') && !/\/(sample\.(json|bin)|class-thumbs\.(json|png))$/.test(url.pathname);
  if (req.method !== 'GET' || url.origin !== self.location.origin || poolFile || url.pathname.endsWith('/sw.js')) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    // This build's own files (the page itself included) come from this build's cache: one version per tab.
    const own = await cache.match(req, { ignoreSearch: req.mode === 'navigate', ignoreVary: true });
    if (own && req.mode === 'navigate') return isolated(own);
    if (own && APP_FILES.includes(url.pathname)) return own;
    // Anything else (a pool's sample, icons): network first, the last good copy when offline.
    try {
      const res = await fetch(req);
      if (res.ok) await cache.put(req, res.clone());
      return req.mode === 'navigate' ? isolated(res) : res;
    } catch (err) {
      if (own) return req.mode === 'navigate' ? isolated(own) : own;
      throw err;
    }
  })());
});
