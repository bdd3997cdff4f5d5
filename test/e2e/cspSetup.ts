import { afterAll, expect } from 'vitest';
import { cspViolations } from '../../harness/chromium';

// The production build carries a Content-Security-Policy (scripts/vite-app-plugins.ts): whatever a
// test file did in the browser, no page may have been refused anything by it.
afterAll(() => {
  expect(cspViolations).toEqual([]);
});
