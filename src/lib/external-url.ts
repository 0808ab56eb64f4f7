// URLs that strangers hand us (pingback and webmention sources and targets, a commenter's
// website) are parsed only when they are of a sane length: the WHATWG parser and every
// check after it are then bounded, whatever the body limit lets through. 2,048 is what
// browsers and search engines have long treated as the practical URL limit.

/** The longest URL Inkwell accepts from outside, checked before any parsing. */
export const MAX_URL_LENGTH = 2048;

/** An absolute URL (or one relative to `base`) from outside: null when longer than MAX_URL_LENGTH or not a URL. */
export function parseExternalUrl(raw: string, base?: string | URL): URL | null {
  if (raw.length > MAX_URL_LENGTH) return null;
  return URL.parse(raw, base === undefined ? undefined : String(base));
}
