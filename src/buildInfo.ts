/** This build's id (scripts/vite-app-plugins.ts): shown in the page, and the name of its service worker cache. */
declare const __POE_BUILD_ID__: string;
export const BUILD_ID: string = typeof __POE_BUILD_ID__ === 'string' ? __POE_BUILD_ID__ : 'dev';
export const APP_CACHE = `poe-app-${BUILD_ID}`;
