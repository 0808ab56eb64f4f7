// Links in HTML, read with a real HTML parser (cheerio over parse5), never with
// regexes: comments, escaped markup, attribute order, quoting and entities then
// behave as in a browser.
import { load, type CheerioAPI } from 'cheerio';
import type { AnyNode, Element } from 'domhandler';

export type { CheerioAPI, AnyNode, Element };

export function parseHtml(html: string): CheerioAPI {
  return load(html);
}

/** The `href` of every `<a>`, trimmed and as written (entities decoded), in document order, without repeats. */
export function anchorHrefs(html: string): string[] {
  const $ = load(html);
  const seen = new Set<string>();
  $('a[href]').each((_i, el) => {
    const href = ($(el).attr('href') ?? '').trim();
    if (href) seen.add(href);
  });
  return [...seen];
}

/** Resolves a URL reference; null when it does not make an absolute URL. */
export function resolveUrl(ref: string, base: string | URL): URL | null {
  try {
    return new URL(ref.trim(), base);
  } catch {
    return null;
  }
}

/** The document's base URL: `<base href>` resolved against where the page came from. */
export function documentBase($: CheerioAPI, pageUrl: string): string {
  const href = $('base[href]').first().attr('href');
  return (href && resolveUrl(href, pageUrl)?.href) || pageUrl;
}

/** Does a `rel` attribute value hold this link type? (a space-separated, case-insensitive token list) */
export function relHas(rel: string | undefined, type: string): boolean {
  return (rel ?? '').toLowerCase().split(/[\t\n\f\r ]+/).includes(type.toLowerCase());
}

/**
 * The first `<link>` or `<a>` (in document order) whose rel holds `type` and that has an
 * `href`, resolved against the document base. An empty href is the page itself.
 */
export function firstRelLink($: CheerioAPI, type: string, pageUrl: string): string | null {
  const base = documentBase($, pageUrl);
  let found: string | null = null;
  $('link[href], a[href]').each((_i, el) => {
    if (!relHas($(el).attr('rel'), type)) return;
    const url = resolveUrl($(el).attr('href') ?? '', base);
    if (!url) return;
    url.hash = '';
    found = url.href;
    return false;
  });
  return found;
}
