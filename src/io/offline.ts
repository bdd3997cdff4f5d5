/**
 * Registers the service worker and stores the files this page has already loaded (HTML, script,
 * styles, wasm, samples) in its cache, so that the next visit works with the network cut.
 */
export async function enableOffline(): Promise<void> {
  if (!('serviceWorker' in navigator) || !('caches' in globalThis)) return;
  try {
    await navigator.serviceWorker.register(`${import.meta.env.BASE_URL}sw.js`);
    const urls = new Set<string>([location.pathname]);
    for (const e of performance.getEntriesByType('resource')) {
      const u = new URL(e.name);
      if (u.origin === location.origin && !u.pathname.includes('/pools/')) urls.add(u.pathname);
    }
    const cache = await caches.open('poe-app-v1');
    await Promise.all([...urls].map((u) => cache.add(u).catch(() => undefined)));
  } catch {
    // Offline use is a bonus: the app works online without it.
  }
}
