// Discovery, both ways.
// - Ours: what article responses must carry so other blogs find our endpoints.
// - Theirs: given a page we link to, where to send the ping. Webmention first (the
//   Recommendation's algorithm: the first `Link` header with rel=webmention, else the first
//   <link>/<a> with it in document order, relative URLs resolved against the final URL
//   after redirects, query strings kept), else pingback (the first X-Pingback header, else
//   <link rel="pingback">). Pingback's own spec suggests a regex for the <link>; we parse
//   the HTML instead, like WordPress accepts any attribute order and quoting, but unlike
//   it we do not find links inside comments or escaped markup.
import LinkHeader from 'http-link-header';
import type { Config } from '../../config.ts';
import { firstHeader, type Outbound, type OutboundResponse } from '../../lib/outbound.ts';
import { documentBase, firstRelLink, parseHtml, relHas, resolveUrl } from '../../lib/html-links.ts';

/** Where other blogs send pingbacks: `${API_URL}/xmlrpc` (absolute, as the spec requires). */
export const pingbackUrl = (config: Pick<Config, 'apiUrl'>) => `${config.apiUrl}/xmlrpc`;
/** Where other blogs send webmentions: `${API_URL}/webmention`. */
export const webmentionUrl = (config: Pick<Config, 'apiUrl'>) => `${config.apiUrl}/webmention`;

/**
 * The headers every article response (GET and HEAD, API and frontend) carries so that
 * other blogs discover our endpoints: `X-Pingback` and `Link: <…>; rel="webmention"`.
 * Set them with `reply.headers(discoveryHeaders(config))`; Fastify's automatic HEAD
 * routes carry what the GET handler sets.
 */
export function discoveryHeaders(config: Pick<Config, 'apiUrl'>): { 'X-Pingback': string; Link: string } {
  return { 'X-Pingback': pingbackUrl(config), Link: `<${webmentionUrl(config)}>; rel="webmention"` };
}

export interface Endpoint {
  protocol: 'webmention' | 'pingback';
  url: string;
}

/** Finds the endpoint in a fetched page (the target of one of our links), or null when it advertises none. */
export function endpointIn(page: OutboundResponse): Endpoint | null {
  const $ = page.bodyRead && /html/.test(page.contentType) ? parseHtml(page.body) : null;

  for (const value of page.headers.link ?? []) {
    let refs: LinkHeader.Reference[];
    try {
      refs = LinkHeader.parse(value).refs;
    } catch {
      continue; // one malformed Link header must not hide the others
    }
    const ref = refs.find((r) => relHas(r.rel, 'webmention'));
    const url = ref && resolveUrl(ref.uri, page.url);
    if (url) return { protocol: 'webmention', url: url.href };
  }
  const inHtml = $ && firstRelLink($, 'webmention', page.url);
  if (inHtml) return { protocol: 'webmention', url: inHtml };

  const header = firstHeader(page, 'x-pingback');
  const fromHeader = header && resolveUrl(header, page.url);
  if (fromHeader) return { protocol: 'pingback', url: fromHeader.href };
  if ($) {
    const base = documentBase($, page.url);
    let found: string | null = null;
    $('link[href]').each((_i, el) => {
      if (!relHas($(el).attr('rel'), 'pingback')) return;
      found = resolveUrl($(el).attr('href') ?? '', base)?.href ?? null;
      if (found) return false;
    });
    if (found) return { protocol: 'pingback', url: found };
  }
  return null;
}

/** Fetches a target page under the guard (following redirects) for discovery. */
export function fetchForDiscovery(outbound: Outbound, target: string, opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<OutboundResponse> {
  return outbound.fetch(target, { accept: ['text/html', 'application/xhtml+xml'], timeoutMs: opts.timeoutMs ?? 5000, signal: opts.signal });
}
