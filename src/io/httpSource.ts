import { PoeError } from '../ml/errors';
import type { PoolSource } from '../ml/pool/poolFetch';

/** Pool files over HTTP(S), same origin or CORS, with byte-level progress from the response stream. */
export function httpSource(baseUrl: string): PoolSource {
  const base = baseUrl.endsWith('/') ? baseUrl : baseUrl + '/';
  return {
    describe: base,
    async read(path, onBytes, maxBytes) {
      let res: Response;
      try {
        res = await fetch(base + path, { cache: 'no-cache', credentials: 'same-origin' });
      } catch (e) {
        throw new PoeError('NETWORK',
          `Could not download ${path} from ${base}: the server could not be reached, or it does not let this site read its files (CORS) (${(e as Error).message}).`);
      }
      if (res.status === 404) return null;
      if (!res.ok) throw new PoeError('NETWORK', `Could not download ${path}: the server answered ${res.status} ${res.statusText}.`);
      const tooBig = () => new PoeError('FILE_SIZE', `Pool file ${path} is larger than the ${maxBytes} bytes expected: it was replaced or the server sends something else.`);
      const declared = Number(res.headers.get('content-length') ?? NaN);
      if (maxBytes !== undefined && declared > maxBytes && !res.headers.get('content-encoding')) {
        await res.body?.cancel();
        throw tooBig();
      }
      if (!res.body) return new Uint8Array(await res.arrayBuffer());
      const reader = res.body.getReader();
      const chunks: Uint8Array[] = [];
      let loaded = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        loaded += value.byteLength;
        // A server that sends more than the manifest promised (or never stops) is cut off here.
        if (maxBytes !== undefined && loaded > maxBytes) {
          await reader.cancel();
          throw tooBig();
        }
        onBytes?.(loaded);
      }
      const out = new Uint8Array(loaded);
      let at = 0;
      for (const c of chunks) {
        out.set(c, at);
        at += c.byteLength;
      }
      return out;
    },
  };
}
