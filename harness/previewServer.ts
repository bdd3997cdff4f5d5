import { execFileSync, spawn } from 'node:child_process';
import net, { type AddressInfo } from 'node:net';
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

const VITE = path.join(REPO_ROOT, 'node_modules', '.bin', 'vite');
// Under vitest NODE_ENV is "test", which would make Vite build React's development bundle and PROD false.
const productionEnv = () => ({ ...process.env, NODE_ENV: 'production' });

/** Builds the app and serves the production build with `vite preview` on the port given, as a user would get it. */
export async function startPreview(port: number): Promise<PreviewServer> {
  execFileSync(VITE, ['build', '--logLevel', 'warn'], { cwd: REPO_ROOT, stdio: 'inherit', env: productionEnv() });
  return servePreview(port);
}

/** A port the OS says is free; ephemeral ports are also clear of the ones fetch refuses (e.g. 4190). */
export async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const { port } = probe.address() as AddressInfo;
  await new Promise((r) => probe.close(r));
  return port;
}

/** Serves the build already in dist/ (e.g. a second server, to stop mid-test), on a free port unless given one. */
export async function servePreview(port?: number): Promise<PreviewServer> {
  port ??= await freePort();
  const server = spawn(VITE, ['preview', '--port', String(port), '--strictPort', '--host', '127.0.0.1'], { cwd: REPO_ROOT, stdio: 'ignore', env: productionEnv() });
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
