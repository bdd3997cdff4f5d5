import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { PoolSource } from '../ml/pool/poolFetch';

/** Pool files read from a folder on disk. */
export function folderSource(dir: string): PoolSource {
  const root = path.resolve(dir);
  return {
    describe: root,
    async read(rel) {
      try {
        return new Uint8Array(await readFile(path.join(root, rel)));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw e;
      }
    },
  };
}
