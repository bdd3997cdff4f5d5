import { createReadStream, existsSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.json': 'application/json',
  '.wasm': 'application/wasm', '.svg': 'image/svg+xml', '.png': 'image/png', '.webmanifest': 'application/manifest+json', '.bin': 'application/octet-stream',
};

export interface StaticServer {
  url: string;
  /** Serve another folder from now on (a new deploy). */
  setRoot(dir: string): void;
  close(): Promise<void>;
}

/**
 * A plain static host: files and content types, no COOP/COEP or other headers (the CSP travels in
 * the page itself), optionally CORS for every origin, as a CDN serving a pool would send.
 */
export async function startStaticServer(root: string, { cors = false } = {}): Promise<StaticServer> {
  let dir = root;
  const server = http.createServer((req, res) => {
    const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    let file = path.join(dir, pathname);
    if (!file.startsWith(dir)) return void res.writeHead(403).end();
    if (existsSync(file) && statSync(file).isDirectory()) file = path.join(file, 'index.html');
    if (!existsSync(file)) return void res.writeHead(404, cors ? { 'access-control-allow-origin': '*' } : {}).end();
    res.writeHead(200, {
      'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-cache',
      ...(cors ? { 'access-control-allow-origin': '*' } : {}),
    });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    setRoot: (d) => void (dir = d),
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
