import { unzipSync, type UnzipFileInfo } from 'fflate';
import { PoeError } from '../ml/errors';
import { MANIFEST_PATH, type PoolSource } from '../ml/pool/poolFetch';
import { MAX_POOL_ENTRIES, MAX_POOL_TOTAL_BYTES, checkTotalBytes, limitError } from '../ml/pool/poolLimits';

/**
 * Pools from the user's disk: a zip (dropped or picked) or a folder (picked). Both are checked before
 * any file is read: every entry's path must stay inside the archive (no "..", no absolute or drive
 * paths, no backslashes or control characters), there are at most MAX_POOL_ENTRIES entries and at
 * most MAX_POOL_TOTAL_BYTES in all. The pool is the shallowest folder holding a pool.json.
 */

/** Throws PATH_INVALID for an entry name that could point outside the archive's own folder. */
export function checkEntryPath(name: string, where: string): void {
  const segments = name.split('/');
  // eslint-disable-next-line no-control-regex
  const bad = name.length === 0 || name.length > 1024 || name.startsWith('/') || /^[A-Za-z]:/.test(name) || /[\\\u0000-\u001f]/.test(name)
    || segments.some((s) => s === '..');
  if (bad)
    throw new PoeError('PATH_INVALID',
      `${where} holds an entry whose path leaves its folder (${JSON.stringify(name.slice(0, 80))}); it was refused and nothing from it was used.`);
}

/** The folder holding the shallowest pool.json among the entry names ('' for the top level). */
export function poolRoot(names: string[], where: string): string {
  const manifests = names.filter((n) => n === MANIFEST_PATH || n.endsWith('/' + MANIFEST_PATH));
  if (manifests.length === 0) throw new PoeError('FILE_MISSING', `No pool manifest (${MANIFEST_PATH}) in ${where}.`);
  const depth = (n: string) => n.split('/').length;
  const best = manifests.reduce((a, b) => (depth(b) < depth(a) ? b : a));
  return best.slice(0, best.length - MANIFEST_PATH.length);
}

function checkEntries(names: string[], where: string): void {
  if (names.length > MAX_POOL_ENTRIES) throw limitError(`${where} holds ${names.length} files; pools of up to ${MAX_POOL_ENTRIES} files are accepted.`);
  for (const n of names) checkEntryPath(n, where);
}

function tooBig(size: number, maxBytes: number | undefined): boolean {
  return size > MAX_POOL_TOTAL_BYTES || (maxBytes !== undefined && size > maxBytes);
}
function sizeError(path: string, size: number): PoeError {
  return new PoeError('FILE_SIZE', `Pool file ${path} has ${size} bytes, more than its manifest says: it was replaced.`);
}

/** A pool inside a zip archive's bytes. Only the central directory is read here; entries are inflated on first read. */
export function zipPoolSource(zip: Uint8Array, fileName: string): PoolSource {
  const where = `the zip ${fileName}`;
  checkTotalBytes(zip.byteLength, `The zip ${fileName}`);
  const infos: UnzipFileInfo[] = [];
  try {
    unzipSync(zip, { filter: (f) => (infos.push(f), false) });
  } catch (e) {
    throw new PoeError('ARCHIVE_INVALID', `${fileName} is not a readable zip archive (${(e as Error).message}).`);
  }
  const files = infos.filter((f) => !f.name.endsWith('/'));
  checkEntries(infos.map((f) => f.name), where);
  checkTotalBytes(files.reduce((n, f) => n + f.originalSize, 0), `Unpacked, ${where}`);
  const root = poolRoot(files.map((f) => f.name), where);
  const byPath = new Map(files.filter((f) => f.name.startsWith(root)).map((f) => [f.name.slice(root.length), f]));
  let inflated: Record<string, Uint8Array> | null = null;
  return {
    describe: where,
    async read(path, onBytes, maxBytes) {
      const info = byPath.get(path);
      if (!info) return null;
      if (tooBig(info.originalSize, maxBytes)) throw sizeError(path, info.originalSize);
      if (!inflated) {
        try {
          // Sizes were bounded above from the central directory; fflate allocates by them.
          inflated = unzipSync(zip, { filter: (f) => f.name.startsWith(root) && byPath.has(f.name.slice(root.length)) });
        } catch (e) {
          throw new PoeError('ARCHIVE_INVALID', `${fileName} is a damaged zip archive (${(e as Error).message}).`);
        }
      }
      const bytes = inflated[root + path];
      if (!bytes) return null;
      onBytes?.(bytes.byteLength);
      return bytes;
    },
  };
}

/** The slice of File that a folder source needs (a browser File or a test double with real bytes). */
export interface LocalFile {
  name: string;
  webkitRelativePath?: string;
  size: number;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** A pool in a folder the user picked (input webkitdirectory): files are read only when the manifest names them. */
export function folderPoolSource(files: LocalFile[], folderName?: string): PoolSource {
  const names = files.map((f) => f.webkitRelativePath || f.name);
  const where = `the folder ${folderName ?? names[0]?.split('/')[0] ?? ''}`.trim();
  checkEntries(names, where);
  const root = poolRoot(names, where);
  const byPath = new Map<string, LocalFile>();
  names.forEach((n, i) => n.startsWith(root) && byPath.set(n.slice(root.length), files[i]));
  return {
    describe: where,
    async read(path, onBytes, maxBytes) {
      const f = byPath.get(path);
      if (!f) return null;
      if (tooBig(f.size, maxBytes)) throw sizeError(path, f.size);
      const bytes = new Uint8Array(await f.arrayBuffer());
      onBytes?.(bytes.byteLength);
      return bytes;
    },
  };
}
