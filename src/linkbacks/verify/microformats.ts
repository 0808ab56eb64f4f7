// Reading a source page's microformats2 (https://microformats.org/wiki/h-entry): what
// Bridgy publishes for a reaction on Mastodon, Bluesky or X, and what IndieWeb blogs
// publish for a reply, like or repost. The page's h-entry says what kind of response it is
// (`u-in-reply-to`, `u-like-of`, `u-repost-of`, `u-bookmark-of` naming our article; else a
// mention), its h-card who made it, and its content, date and original address the rest.
// Everything here comes from a stranger's page: every string is bounded, every URL must be
// http(s), and nothing is kept as HTML (the text is re-rendered as a comment's is).
import { mf2 } from 'microformats-parser';
import { cleanLine, htmlToText } from '../../lib/html.ts';
import type { SocialKind, SocialNetwork } from '../../comments/responses.table.ts';


export interface SocialAuthor {
  name: string;
  url: string | null;
  photo: string | null;
}

export interface SocialEntry {
  kind: SocialKind;
  author: SocialAuthor | null;
  /** plain text of the content (replies and mentions), bounded */
  text: string;
  published: Date | null;
  /** the original post's address (u-url, else u-syndication) */
  url: string | null;
}

/** URLs from outside are bounded before anything else reads them (SECURITY.md). */
const URL_MAX = 2048;
const NAME_MAX = 100;
export const SOCIAL_TEXT_MAX = 2000;

type Property = ReturnType<typeof mf2>['items'][number]['properties'][string][number];
type Item = ReturnType<typeof mf2>['items'][number];

const isItem = (p: Property): p is Item => typeof p === 'object' && p !== null && 'properties' in p;

/** The string a property stands for: a plain value, an image's URL, an embedded item's url or value. */
function valueOf(p: Property | undefined): string | null {
  if (p === undefined) return null;
  if (typeof p === 'string') return p;
  if (isItem(p)) {
    const url = p.properties.url?.[0];
    if (typeof url === 'string') return url;
    return typeof p.value === 'string' ? p.value : null;
  }
  if ('html' in p) return p.value;
  return p.value ?? null;
}

/** An absolute http(s) URL without credentials, at most 2,048 characters; else null. */
export function httpUrl(raw: string | null | undefined, base?: string): string | null {
  if (!raw || raw.length > URL_MAX) return null;
  try {
    const u = new URL(raw.trim(), base);
    if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.username || u.password) return null;
    return u.href.length > URL_MAX ? null : u.href;
  } catch {
    return null;
  }
}

const withoutHash = (u: string) => u.replace(/#.*$/s, '');

function firstUrl(props: Item['properties'], names: string[], base: string): string | null {
  for (const name of names) {
    for (const p of props[name] ?? []) {
      const url = httpUrl(valueOf(p), base);
      if (url) return url;
    }
  }
  return null;
}

function authorOf(item: Item, base: string): SocialAuthor | null {
  const raw = item.properties.author?.[0];
  if (raw === undefined) return null;
  if (!isItem(raw)) {
    const text = valueOf(raw) ?? '';
    const url = httpUrl(text, base);
    return url ? { name: cleanLine(new URL(url).host, NAME_MAX), url, photo: null } : text ? { name: cleanLine(text, NAME_MAX), url: null, photo: null } : null;
  }
  const url = firstUrl(raw.properties, ['url', 'uid'], base);
  const nameRaw = valueOf(raw.properties.name?.[0]) ?? (typeof raw.value === 'string' ? raw.value : '');
  const name = cleanLine(nameRaw, NAME_MAX) || (url ? new URL(url).host : '');
  if (!name) return null;
  return { name, url, photo: firstUrl(raw.properties, ['photo'], base) };
}

/** Does any value of these properties name the target (fragments ignored)? */
function names(props: Item['properties'], prop: string, target: string, base: string): boolean {
  return (props[prop] ?? []).some((p) => {
    const url = httpUrl(valueOf(p), base);
    return url !== null && withoutHash(url) === target;
  });
}

function entries(items: Item[]): Item[] {
  const out: Item[] = [];
  const stack = [...items].reverse();
  // depth-first in document order, with an explicit stack: a hostile page may nest deeply
  while (stack.length && out.length < 50) {
    const item = stack.pop()!;
    if (item.type?.includes('h-entry')) out.push(item);
    for (const child of [...(item.children ?? [])].reverse()) stack.push(child);
  }
  return out;
}

/**
 * The response a page's h-entry describes, or null when the page has none. Prefers the
 * entry that names the target in one of its response properties, then the first entry.
 */
export function readEntry(html: string, pageUrl: string, targetUrl: string): SocialEntry | null {
  let doc;
  try {
    doc = mf2(html, { baseUrl: pageUrl });
  } catch {
    return null;
  }
  const target = withoutHash(targetUrl);
  const found = entries(doc.items);
  if (!found.length) return null;
  const RESPONSE_PROPS: [string, SocialKind][] = [
    ['in-reply-to', 'reply'],
    ['like-of', 'like'],
    ['repost-of', 'repost'],
    ['bookmark-of', 'bookmark'],
  ];
  let kind: SocialKind = 'mention';
  let entry = found[0];
  outer: for (const candidate of found) {
    for (const [prop, k] of RESPONSE_PROPS) {
      if (names(candidate.properties, prop, target, pageUrl)) {
        entry = candidate;
        kind = k;
        break outer;
      }
    }
  }
  const props = entry.properties;
  const content = props.content?.[0] ?? props.summary?.[0] ?? (kind === 'mention' ? props.name?.[0] : undefined);
  // e-content's own text runs paragraphs together; its HTML read as text keeps them apart
  const raw = content !== undefined && typeof content === 'object' && 'html' in content ? htmlToText(content.html) : valueOf(content);
  const text = cleanLine(raw ?? '', SOCIAL_TEXT_MAX);
  const publishedRaw = valueOf(props.published?.[0]);
  const published = publishedRaw ? new Date(publishedRaw.slice(0, 64)) : null;
  return {
    kind,
    author: authorOf(entry, pageUrl),
    text,
    published: published && !Number.isNaN(published.getTime()) ? published : null,
    url: firstUrl(props, ['url', 'syndication'], pageUrl),
  };
}


/**
 * Which network a webmention's reaction happened on. Bridgy's source pages say it in their
 * path (`https://brid.gy/like/mastodon/…`, `/comment/bluesky/…`, `/repost/twitter/…`);
 * an original on bsky.app, x.com or twitter.com says it by its host; everything else is the
 * web (an IndieWeb site, or a network Inkwell does not know).
 */
export function networkOf(sourceUrl: string, originalUrl: string | null): SocialNetwork {
  const source = new URL(sourceUrl);
  if (source.hostname === 'brid.gy' || source.hostname === 'brid-gy.appspot.com') {
    const silo = source.pathname.split('/')[2];
    if (silo === 'mastodon' || silo === 'bluesky') return silo;
    if (silo === 'twitter') return 'x';
  }
  const host = originalUrl ? new URL(originalUrl).hostname : '';
  if (host === 'bsky.app') return 'bluesky';
  if (host === 'x.com' || host === 'twitter.com' || host.endsWith('.twitter.com')) return 'x';
  return 'web';
}
