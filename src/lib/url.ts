// URLs the web can follow: http and https, nothing else (no javascript:, data:, file:, mailto:).

/** Is this an http: or https: URL? */
export const isHttpUrl = (u: URL): boolean => u.protocol === 'http:' || u.protocol === 'https:';

/** `raw` as an absolute http(s) URL, or null when it is not one. */
export function parseHttpUrl(raw: string): URL | null {
  const u = URL.parse(raw);
  return u && isHttpUrl(u) ? u : null;
}
