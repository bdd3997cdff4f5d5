import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '../cli/lib/paths';

export interface PreviewServer {
  url: string;
  close(): Promise<void>;
}

const START_TIMEOUT_MS = 30_000;

async function waitUntilAnswering(url: string): Promise<void> {
  const end = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < end) {
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`vite preview did not answer at ${url} within ${START_TIMEOUT_MS} ms`);
}

/** Builds the app and serves the production build with `vite preview` on the port given, as a user would get it. */
export async function startPreview(port: number): Promise<PreviewServer> {
  const vite = path.join(REPO_ROOT, 'node_modules', '.bin', 'vite');
  // Under vitest NODE_ENV is "test", which would make Vite build React's development bundle and PROD false.
  const env = { ...process.env, NODE_ENV: 'production' };
  execFileSync(vite, ['build', '--logLevel', 'warn'], { cwd: REPO_ROOT, stdio: 'inherit', env });
  const server = spawn(vite, ['preview', '--port', String(port), '--strictPort', '--host', '127.0.0.1'], { cwd: REPO_ROOT, stdio: 'ignore', env });
  const exited = new Promise<void>((r) => server.once('exit', () => r()));
  const close = async () => {
    if (server.exitCode === null && server.signalCode === null) server.kill();
    await exited;
  };
  const url = `http://127.0.0.1:${port}/`;
  try {
    await waitUntilAnswering(url);
  } catch (e) {
    await close();
    throw e;
  }
  return { url, close };
}
