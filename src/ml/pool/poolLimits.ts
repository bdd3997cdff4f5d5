import { PoeError } from '../errors';

/**
 * Limits on a pool from elsewhere (a URL, a folder, a zip). The built-in pool is far inside every one
 * (1.7 MB, 42 files, 20 experts, 100 classes, names up to 13 characters); they exist so that a hostile
 * or broken pool is refused with a sentence before it can exhaust memory or the stack.
 */
export const MAX_POOL_TOTAL_BYTES = 100_000_000;
/** Files in a pool zip or folder, whether the manifest names them or not. */
export const MAX_POOL_ENTRIES = 1000;
export const MAX_POOL_EXPERTS = 256;
export const MAX_POOL_CLASSES = 4096;
export const MAX_CLASS_NAME_CHARS = 64;
export const MAX_MANIFEST_BYTES = 4_000_000;
/** model.json of one part; the built-in pool's largest is 25 kB. */
export const MAX_MODEL_JSON_BYTES = 4_000_000;
export const MAX_REFERENCE_BYTES = 20_000_000;
/** Nesting of objects and arrays in any JSON file of a pool; the built-in pool's deepest is 9. */
export const MAX_JSON_DEPTH = 64;
/** Items in one JSON array or keys in one object. */
export const MAX_JSON_ITEMS = 100_000;
export const MAX_MODEL_LAYERS = 2000;

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(bytes < 1e6 ? 2 : 0)} MB`;

export function limitError(message: string): PoeError {
  return new PoeError('POOL_LIMIT', message);
}

export function checkTotalBytes(bytes: number, what: string): void {
  if (bytes > MAX_POOL_TOTAL_BYTES)
    throw limitError(`${what} is ${mb(bytes)}; pools up to ${mb(MAX_POOL_TOTAL_BYTES)} are accepted.`);
}

/**
 * Parses JSON bytes after checking their size, UTF-8, nesting depth and the length of every array
 * and object, in one pass over the bytes and without recursion, so that a nesting bomb or a
 * billion-item array is refused before JSON.parse or any walker sees it. Syntax errors become
 * PoeError(syntaxCode) with `${what} is not valid JSON (...)`.
 */
export function parseJsonWithLimits(bytes: Uint8Array, what: string, maxBytes: number, syntaxCode: 'MANIFEST_INVALID' | 'MODEL_INVALID'): unknown {
  if (bytes.byteLength > maxBytes) throw limitError(`${what} is ${mb(bytes.byteLength)}; at most ${mb(maxBytes)} is accepted.`);
  scanJsonShape(bytes, what);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new PoeError(syntaxCode, `${what} is not valid JSON (it is not UTF-8 text).`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new PoeError(syntaxCode, `${what} is not valid JSON (${(e as Error).message}).`);
  }
}

const OPEN_ARRAY = 0x5b, CLOSE_ARRAY = 0x5d, OPEN_OBJECT = 0x7b, CLOSE_OBJECT = 0x7d, COMMA = 0x2c, QUOTE = 0x22, BACKSLASH = 0x5c;

function scanJsonShape(bytes: Uint8Array, what: string): void {
  const items: number[] = []; // commas seen at each open level
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (inString) {
      if (b === BACKSLASH) i++;
      else if (b === QUOTE) inString = false;
      continue;
    }
    if (b === QUOTE) inString = true;
    else if (b === OPEN_ARRAY || b === OPEN_OBJECT) {
      items.push(0);
      if (items.length > MAX_JSON_DEPTH)
        throw limitError(`${what} nests lists or objects more than ${MAX_JSON_DEPTH} levels deep; it was refused.`);
    } else if (b === CLOSE_ARRAY || b === CLOSE_OBJECT) items.pop();
    else if (b === COMMA && items.length > 0 && ++items[items.length - 1] >= MAX_JSON_ITEMS)
      throw limitError(`${what} has a list or object of more than ${MAX_JSON_ITEMS.toLocaleString('en')} items; it was refused.`);
  }
}
