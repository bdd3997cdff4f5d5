import type { PoolSource } from '../ml/poolFetch';

/** Pool files over HTTP(S), with byte-level progress from the response stream. */
export function httpSource(baseUrl: string): PoolSource {
  const base = baseUrl.endsWith('/') ? baseUrl : baseUrl + '/';
  return {
    describe: base,
    async read(path, onBytes) {
      let res: Response;
      try {
        res = await fetch(base + path, { cache: 'no-cache' });
      } catch (e) {
        throw new Error(`Could not download ${path}: the network request failed (${(e as Error).message}).`);
      }
      if (res.status === 404) return null;
      if (!res.ok) throw new Error(`Could not download ${path}: the server answered ${res.status} ${res.statusText}.`);
      if (!res.body) return new Uint8Array(await res.arrayBuffer());
      const reader = res.body.getReader();
      const chunks: Uint8Array[] = [];
      let loaded = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        loaded += value.byteLength;
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
