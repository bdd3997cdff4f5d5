import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DownloadedFile, UploadFile } from './engine';

/** Writes uploads to a fresh temporary folder, for drivers that take file paths. */
export function writeUploads(files: UploadFile[]): string[] {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'poe-upload-'));
  return files.map((f) => {
    const p = path.join(dir, f.name);
    writeFileSync(p, f.buffer);
    return p;
  });
}

const PARTIAL = /\.(part|download)$|^\.|\.crdownload$/;

/** Waits for a file that was not in `before` to appear in dir, complete (no partial suffix, size steady). */
export async function newFileIn(dir: string, before: Set<string>, timeoutMs = 60_000): Promise<DownloadedFile> {
  const end = Date.now() + timeoutMs;
  let last = -1;
  while (Date.now() < end) {
    const fresh = existsSync(dir) ? readdirSync(dir).filter((f) => !before.has(f)) : [];
    const partial = fresh.some((f) => PARTIAL.test(f));
    const done = fresh.filter((f) => !PARTIAL.test(f));
    if (done.length === 1 && !partial) {
      const size = statSync(path.join(dir, done[0])).size;
      if (size > 0 && size === last) return { name: done[0], bytes: readFileSync(path.join(dir, done[0])) };
      last = size;
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`no download appeared in ${dir} within ${timeoutMs} ms`);
}

export const listing = (dir: string) => new Set(existsSync(dir) ? readdirSync(dir) : []);
