// The verification core shared by pingback and Webmention: fetch the source page
// through the outbound guard, find a link to the target in it, and take from it what a
// reader sees of the mention (the page title as author, the words around the link).
import { OutboundError, type Outbound } from '../../lib/outbound.ts';
import { documentBase, parseHtml, resolveUrl, type AnyNode, type CheerioAPI, type Element } from '../../lib/html-links.ts';
import { readEntry, type SocialEntry } from './microformats.ts';
import { cleanLine, escapeHtml } from '../../lib/html.ts';

export type SourceFailure =
  /** no answer: DNS, refused, timeout, forbidden address… (one reason, deliberately: no port-scan oracle) */
  | 'unreachable'
  /** 410 Gone: the source was deleted */
  | 'gone'
  /** 404 and other 4xx */
  | 'not-found'
  /** 5xx: the source's server failed */
  | 'upstream'
  /** not a text document */
  | 'not-text'
  /** no link to the target */
  | 'no-link';

export type SourceCheck =
  | { ok: true; title: string; excerpt: string; finalUrl: string; entry?: SocialEntry | null }
  | { ok: false; reason: SourceFailure; detail: string };

export interface CheckOptions {
  timeoutMs: number;
  maxRedirects?: number;
  userAgent?: string;
  headers?: Record<string, string>;
  /** what counts as a mention: `links` = `<a>`/`<area>` (pingback); `media` adds img/video/audio/source (Webmention) */
  match: 'links' | 'media';
  /** Webmention: also read the page's microformats2 h-entry (§13) */
  microformats?: boolean;
  signal?: AbortSignal;
}

const EXCERPT_SIDE = 100;
const TITLE_MAX = 200;

/** Fetches `source` and looks for `target` in it. Never throws for anything the source does. */
export async function checkSource(outbound: Outbound, source: string, target: string, opts: CheckOptions): Promise<SourceCheck> {
  let res;
  try {
    res = await outbound.fetch(source, {
      timeoutMs: opts.timeoutMs,
      maxRedirects: opts.maxRedirects,
      headers: { ...(opts.userAgent ? { 'user-agent': opts.userAgent } : {}), ...opts.headers },
      signal: opts.signal,
    });
  } catch (e) {
    const detail = e instanceof OutboundError ? `${e.code}: ${e.message}` : String(e);
    return { ok: false, reason: 'unreachable', detail };
  }
  if (res.status === 410) return { ok: false, reason: 'gone', detail: 'the source answered 410 Gone' };
  if (res.status >= 500) return { ok: false, reason: 'upstream', detail: `the source answered ${res.status}` };
  if (res.status < 200 || res.status >= 300) return { ok: false, reason: 'not-found', detail: `the source answered ${res.status}` };
  if (!res.bodyRead) return { ok: false, reason: 'not-text', detail: `the source is ${res.contentType || 'of no stated type'}, not a text document` };

  const targetUrl = resolveUrl(target, res.url);
  if (!targetUrl) return { ok: false, reason: 'no-link', detail: 'the target is not a URL' };
  const found =
    res.contentType === 'text/html' || res.contentType === 'application/xhtml+xml'
      ? findInHtml(res.body, res.url, targetUrl, opts.match)
      : findInText(res.body, target);
  if (!found) return { ok: false, reason: 'no-link', detail: 'the source does not link to the target' };
  const host = new URL(res.url).host;
  const entry = opts.microformats && res.contentType !== 'text/plain' ? readEntry(res.body, res.url, targetUrl.href) : undefined;
  // a page without a title is named after its host, so the mention still has an author
  return { ok: true, title: cleanLine(found.title, TITLE_MAX) || host, excerpt: found.excerpt, finalUrl: res.url, entry };
}

/** Same resource: equal URLs once the fragment is dropped. */
export function sameResource(a: URL, b: URL): boolean {
  const x = new URL(a);
  const y = new URL(b);
  x.hash = '';
  y.hash = '';
  return x.href === y.href;
}

const MEDIA = 'img[src], video[src], audio[src], source[src]';

function findInHtml(body: string, pageUrl: string, target: URL, match: CheckOptions['match']): { title: string; excerpt: string } | null {
  const $ = parseHtml(body);
  $('script, style, template').remove();
  const base = documentBase($, pageUrl);
  const selector = match === 'media' ? `a[href], area[href], ${MEDIA}` : 'a[href], area[href]';
  let hit: Element | null = null;
  $(selector).each((_i, el) => {
    const ref = $(el).attr('href') ?? $(el).attr('src') ?? '';
    const url = resolveUrl(ref, base);
    if (url && sameResource(url, target)) {
      hit = el;
      return false;
    }
  });
  if (!hit) return null;
  return { title: $('title').first().text(), excerpt: excerptAround($, hit) };
}

function findInText(body: string, target: string): { title: string; excerpt: string } | null {
  const at = body.indexOf(target);
  if (at === -1) return null;
  return {
    title: '',
    excerpt: joinExcerpt(body.slice(Math.max(0, at - 4 * EXCERPT_SIDE), at), target, body.slice(at + target.length, at + target.length + 4 * EXCERPT_SIDE)),
  };
}

// Elements whose boundaries separate words, and the nearest of which holds the context of a link.
const BLOCKS = new Set([
  'p', 'li', 'dd', 'dt', 'td', 'th', 'caption', 'figcaption', 'blockquote', 'pre', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6',
  'div', 'section', 'article', 'aside', 'header', 'footer', 'main', 'nav', 'figure', 'address', 'body', 'html',
  'ul', 'ol', 'dl', 'table', 'tr', 'form', 'details', 'summary',
]);

const isTag = (n: AnyNode): n is Element => n.type === 'tag' || n.type === 'script' || n.type === 'style';

/**
 * "The words around the link", as WordPress shows a pingback: the text of the link's
 * nearest block, up to 100 characters on each side of the link text. Walks the tree
 * with an explicit stack: a hostile page may nest deeper than the call stack.
 */
function excerptAround($: CheerioAPI, hit: Element): string {
  let block: AnyNode | null = hit.parent;
  while (block && !(isTag(block) && BLOCKS.has(block.name))) block = block.parent;
  const root = block ?? hit;
  const parts = { before: [] as string[], link: [] as string[], after: [] as string[] };
  let phase: 'before' | 'after' = 'before';
  const stack: { node: AnyNode; exit?: boolean }[] = [{ node: root }];
  while (stack.length) {
    const { node, exit } = stack.pop()!;
    if (exit) {
      parts[phase].push(' ');
      continue;
    }
    if (node === hit) {
      const alt = hit.attribs.alt ?? hit.attribs.title ?? '';
      parts.link.push($(hit).text() || alt);
      phase = 'after';
      continue;
    }
    if (node.type === 'text') parts[phase].push(node.data);
    else if (isTag(node)) {
      if (BLOCKS.has(node.name) || node.name === 'br') parts[phase].push(' ');
      if (BLOCKS.has(node.name)) stack.push({ node, exit: true });
      for (let i = node.children.length - 1; i >= 0; i--) stack.push({ node: node.children[i] });
    }
  }
  return joinExcerpt(parts.before.join(''), parts.link.join(''), parts.after.join(''));
}

function joinExcerpt(beforeRaw: string, linkRaw: string, afterRaw: string): string {
  let before = cleanLine(beforeRaw, Infinity);
  let after = cleanLine(afterRaw, Infinity);
  let link = cleanLine(linkRaw, Infinity);
  if (link.length > EXCERPT_SIDE) link = link.slice(0, EXCERPT_SIDE).trimEnd() + '…';
  if (before.length > EXCERPT_SIDE) {
    before = before.slice(-EXCERPT_SIDE);
    const space = before.indexOf(' ');
    if (space !== -1 && space < EXCERPT_SIDE / 2) before = before.slice(space + 1); // start on a whole word
  }
  if (after.length > EXCERPT_SIDE) {
    after = after.slice(0, EXCERPT_SIDE);
    const space = after.lastIndexOf(' ');
    if (space > EXCERPT_SIDE / 2) after = after.slice(0, space);
  }
  // words are separated by spaces, but "link, then" and "(link)" keep their punctuation tight
  let out = before;
  if (link) out += (out && !/[([“‘"']$/.test(out) ? ' ' : '') + link;
  if (after) out += (out && !/^[.,;:!?)\]”’"'…]/.test(after) ? ' ' : '') + after;
  return out;
}

/** The stored body of a mention: the excerpt as escaped text, framed the way WordPress frames it. */
export function mentionHtml(excerpt: string): string {
  return `<p>[…] ${escapeHtml(excerpt)} […]</p>`;
}
