import { PoeError } from '../errors';

/** Base64 of bytes, in chunks (String.fromCharCode(...) cannot take a megabyte at once). */
export function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** Bytes of base64 text; throws on characters outside the alphabet. */
export function fromBase64(text: string): Uint8Array {
  const s = atob(text);
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

/** The URL-safe alphabet without padding (RFC 4648 section 5): what a link's fragment carries untouched. */
export const toBase64Url = (bytes: Uint8Array): string => toBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

export function fromBase64Url(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) throw new PoeError('RECIPE_INVALID', 'This text is not base64url.');
  return fromBase64(text.replace(/-/g, '+').replace(/_/g, '/'));
}
