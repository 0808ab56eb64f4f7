// One spelling of an old address, for storing it and for looking it up: the path,
// percent-decoded, lower-cased, without trailing slash; `/?p=123` (WordPress's
// address of any post by id, on any path ending in `/` or `/index.php`) as such.
// Other query parameters never matter (`utm_*`…).
import { is, trimEndWhere } from '../lib/trim.ts';

/** The lookup key of an old path or URL, or null when it cannot be one (not a path, the home page). */
export function redirectKey(pathOrUrl: string): string | null {
  if (pathOrUrl.length > 2048) return null;
  let url: URL;
  try {
    // a path is appended, not resolved: `//host/x` stays a path
    url = new URL(pathOrUrl.startsWith('/') ? `http://redirect.invalid${pathOrUrl}` : pathOrUrl);
  } catch {
    return null;
  }
  const p = url.searchParams.get('p');
  if (p !== null && /^\d{1,18}$/.test(p) && /^(\/|.*\/index\.php)$/.test(url.pathname)) return `/?p=${BigInt(p)}`;
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    path = url.pathname;
  }
  path = trimEndWhere(path.toLowerCase(), is('/'));
  return path === '' || path.includes('\u0000') ? null : path;
}
