import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { REPO_ROOT } from '../../cli/lib/paths';

const PORT = Number(process.env.E2E_PORT ?? 4179);
let server: ChildProcess | undefined;

async function waitFor(url: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      if ((await fetch(url)).ok) return;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`vite preview did not answer at ${url} within ${ms} ms`);
}

/** Builds the app and serves the production build with `vite preview`, as a user would get it. */
export default async function setup(project: TestProject) {
  const vite = path.join(REPO_ROOT, 'node_modules', '.bin', 'vite');
  // vitest sets NODE_ENV=test, which would make Vite build React's development bundle and PROD false.
  const env = { ...process.env, NODE_ENV: 'production' };
  execFileSync(vite, ['build', '--logLevel', 'warn'], { cwd: REPO_ROOT, stdio: 'inherit', env });
  server = spawn(vite, ['preview', '--port', String(PORT), '--strictPort', '--host', '127.0.0.1'], { cwd: REPO_ROOT, stdio: 'ignore', env });
  const url = `http://127.0.0.1:${PORT}/`;
  await waitFor(url, 30_000);
  project.provide('baseUrl', url);
  return () => {
    server?.kill();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    baseUrl: string;
  }
}
