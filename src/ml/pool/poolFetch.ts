import { MAX_POOL_FILE_BYTES } from '../constants';
import { PoeError } from '../errors';
import { checkPoolContents } from './poolContents';
import { MAX_MANIFEST_BYTES, parseJsonWithLimits } from './poolLimits';
import { poolFiles, validateManifest, type PoolFile, type PoolManifest } from './poolManifest';
import { sha256Hex } from '../util/sha256';

/** Where pool files come from: a folder on disk, a URL, or a cache. Paths are relative to the pool root. */
export interface PoolSource {
  /** Human-readable location, used in error messages. */
  describe: string;
  /**
   * Returns the file's bytes, or null when it does not exist. onBytes reports download progress.
   * A source may stop early and throw PoeError FILE_SIZE when a file turns out larger than maxBytes.
   */
  read(path: string, onBytes?: (loaded: number) => void, maxBytes?: number): Promise<Uint8Array | null>;
}

export interface FileProgress {
  path: string;
  loaded: number;
  total: number;
}
export type ProgressFn = (files: FileProgress[]) => void;

export interface PoolBundle {
  manifest: PoolManifest;
  /** Verified bytes of every file the manifest names, by path. */
  files: Map<string, Uint8Array>;
}

export const MANIFEST_PATH = 'pool.json';

export function parseManifestBytes(bytes: Uint8Array, where: string): PoolManifest {
  return validateManifest(parseJsonWithLimits(bytes, `Pool manifest ${where}`, MAX_MANIFEST_BYTES, 'MANIFEST_INVALID'));
}

/** Checks one file's size and SHA-256 against the manifest; throws a PoeError naming the file. */
export async function verifyFile(entry: PoolFile, bytes: Uint8Array): Promise<void> {
  if (bytes.byteLength !== entry.bytes)
    throw new PoeError('FILE_SIZE',
      `Pool file ${entry.path} has ${bytes.byteLength} bytes, but the manifest says ${entry.bytes}: it is truncated or was replaced.`);
  const digest = await sha256Hex(bytes);
  if (digest !== entry.sha256)
    throw new PoeError('FILE_CHECKSUM', `Pool file ${entry.path} fails its checksum: the file is corrupted or was modified.`);
}

/**
 * Reads pool.json and every file it names from source, verifying sizes and checksums, then what the
 * files hold (poolContents.ts). Nothing is returned, so nothing can be cached or used, unless all pass.
 */
export async function fetchPool(source: PoolSource, onProgress?: ProgressFn): Promise<PoolBundle> {
  const raw = await source.read(MANIFEST_PATH, undefined, MAX_MANIFEST_BYTES);
  if (!raw) throw new PoeError('FILE_MISSING', `No pool manifest (${MANIFEST_PATH}) at ${source.describe}.`);
  const manifest = parseManifestBytes(raw, `at ${source.describe}`);
  const entries = poolFiles(manifest);
  const big = entries.find((e) => e.bytes > MAX_POOL_FILE_BYTES);
  if (big) throw new PoeError('FILE_SIZE', `Pool file ${big.path} claims ${big.bytes} bytes, more than the ${MAX_POOL_FILE_BYTES} allowed.`);
  const progress: FileProgress[] = entries.map((e) => ({ path: e.path, loaded: 0, total: e.bytes }));
  // Once one file fails, the others' late progress must not make the download look alive again.
  let failed = false;
  const report = () => !failed && onProgress?.(progress.map((p) => ({ ...p })));
  report();
  const files = new Map<string, Uint8Array>();
  files.set(MANIFEST_PATH, raw);
  await Promise.all(
    entries.map(async (entry, i) => {
      const bytes = await source.read(entry.path, (loaded) => {
        progress[i].loaded = loaded;
        report();
      }, entry.bytes);
      if (!bytes) throw new PoeError('FILE_MISSING', `Pool file ${entry.path} is missing from ${source.describe}.`);
      await verifyFile(entry, bytes);
      progress[i].loaded = entry.bytes;
      report();
      files.set(entry.path, bytes);
    }),
  ).catch((e) => {
    failed = true;
    throw e;
  });
  checkPoolContents(manifest, files);
  return { manifest, files };
}

/** Re-verifies a bundle (e.g. one read back from a cache) against its own manifest. */
export async function verifyBundle(files: Map<string, Uint8Array>, where: string): Promise<PoolBundle> {
  const raw = files.get(MANIFEST_PATH);
  if (!raw) throw new PoeError('FILE_MISSING', `No pool manifest in ${where}.`);
  const manifest = parseManifestBytes(raw, `in ${where}`);
  for (const entry of poolFiles(manifest)) {
    const bytes = files.get(entry.path);
    if (!bytes) throw new PoeError('FILE_MISSING', `Pool file ${entry.path} is missing from ${where}.`);
    await verifyFile(entry, bytes);
  }
  checkPoolContents(manifest, files);
  return { manifest, files };
}
