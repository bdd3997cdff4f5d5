// PoE Studio service worker: network first, and the last good copy when offline, for the app's own
// files. Pools are not handled here: the app keeps them, verified, in IndexedDB.
const CACHE = 'poe-app-v1';

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== self.location.origin || url.pathname.includes('/pools/')) return;
  event.respondWith(
    (async () => {
      const cache = await caches.open(CACHE);
      try {
        const res = await fetch(req);
        if (res.ok) await cache.put(req, res.clone());
        return res;
      } catch (err) {
        const hit = await cache.match(req, { ignoreSearch: req.mode === 'navigate', ignoreVary: true });
        if (hit) return hit;
        throw err;
      }
    })(),
  );
});
