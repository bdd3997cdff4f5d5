import { APP_CACHE } from '../buildInfo';

/** How often an open tab asks whether a new build was deployed (also whenever it becomes visible). */
const UPDATE_CHECK_MS = 15 * 60 * 1000;

/**
 * Registers the service worker (public/sw.js) and stores the files this page has already loaded
 * (the built-in sample among them) in this build's cache, so that the next visit works with the
 * network cut. Calls onUpdateReady when a newer build has installed and waits for applyAppUpdate().
 */
export async function enableOffline(onUpdateReady: () => void): Promise<void> {
  if (!('serviceWorker' in navigator) || !('caches' in globalThis)) return;
  try {
    const reg = await navigator.serviceWorker.register(`${import.meta.env.BASE_URL}sw.js`);
    watchForUpdate(reg, onUpdateReady);
    const urls = new Set<string>([location.pathname]);
    for (const e of performance.getEntriesByType('resource')) {
      const u = new URL(e.name);
      if (u.origin === location.origin && !u.pathname.includes('/pools/')) urls.add(u.pathname);
    }
    const cache = await caches.open(APP_CACHE);
    await Promise.all([...urls].map((u) => cache.add(u).catch(() => undefined)));
  } catch {
    // Offline use is a bonus: the app works online without it.
  }
}

function watchForUpdate(reg: ServiceWorkerRegistration, onUpdateReady: () => void): void {
  // A worker waiting while this page is controlled is a newer build, installed beside this one.
  const ready = () => reg.waiting && navigator.serviceWorker.controller && onUpdateReady();
  ready();
  reg.addEventListener('updatefound', () => {
    const w = reg.installing;
    w?.addEventListener('statechange', () => w.state === 'installed' && ready());
  });
  const check = () => void reg.update().catch(() => undefined);
  setInterval(check, UPDATE_CHECK_MS);
  document.addEventListener('visibilitychange', () => document.visibilityState === 'visible' && check());
}

/** Activates the waiting build and reloads into it once it controls the page. */
export async function applyAppUpdate(): Promise<void> {
  const reg = await navigator.serviceWorker.getRegistration();
  if (!reg?.waiting) return location.reload();
  navigator.serviceWorker.addEventListener('controllerchange', () => location.reload(), { once: true });
  reg.waiting.postMessage('skip-waiting');
}
