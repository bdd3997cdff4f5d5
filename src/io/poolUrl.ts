import { PoeError } from '../ml/errors';

/**
 * The pool folder a ?pool= value names: an http(s) URL, absolute or relative to the page, of a
 * folder holding pool.json (or of the pool.json itself). Returned with a trailing slash; anything
 * else (javascript:, data:, file:, user names or passwords in the URL) is refused with POOL_URL.
 */
export function poolFolderUrl(raw: string, pageUrl: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim(), pageUrl);
  } catch {
    throw new PoeError('POOL_URL', `"${raw.slice(0, 200)}" is not a web address of a pool folder.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new PoeError('POOL_URL', `Pools are opened from http or https addresses only, not ${url.protocol.slice(0, 20)}.`);
  if (url.username || url.password)
    throw new PoeError('POOL_URL', 'A pool address may not carry a user name or password.');
  url.hash = '';
  url.search = '';
  if (url.pathname.endsWith('/pool.json')) url.pathname = url.pathname.slice(0, -'pool.json'.length);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url.href;
}
