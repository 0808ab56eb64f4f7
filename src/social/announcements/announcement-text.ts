// The announcement text: a template filled in and fitted into a network's length
// rule (each network's folder says how it counts: X weighted characters, Mastodon
// characters with links as 23, Bluesky graphemes). When it does not fit, the optional
// parts give way in this order: the excerpt is shortened, then hashtags dropped from
// the end, then the title shortened with "…". The URL is never touched: an
// announcement without a working link is worthless.
import twitter from 'twitter-text';
import { trimEndWhere } from '../../lib/trim.ts';

/** How a network measures a text, and how much it takes. */
export interface LengthRule {
  /** the network's name, for messages */
  network: string;
  /** the variable the template came from, for messages */
  templateVariable: string;
  max: number;
  /** what the length is counted in, for messages ("weighted characters", "graphemes") */
  unit: string;
  measure(text: string): number;
  /** false for text the network refuses whatever its length (X: invalid characters) */
  acceptable?(text: string): boolean;
}

const ELLIPSIS = '…';
const PLACEHOLDER = /\{(title|url|excerpt|tags|author)\}/g;

export interface AnnouncementInput {
  title: string;
  url: string;
  excerpt: string;
  author: { name: string } | null;
  tags: { name: string }[];
}

export type RenderedAnnouncement =
  | { valid: true; text: string; weightedLength: number }
  | { valid: false; text: string; weightedLength: number; problem: string };

/** Whether `text` may be posted under `rule`. */
export function fits(text: string, rule: LengthRule): boolean {
  return text.length > 0 && rule.measure(text) <= rule.max && (rule.acceptable?.(text) ?? true);
}

const oneLine = (s: string) => s.normalize('NFC').replace(/\s+/g, ' ').trim();

/**
 * A tag name as a hashtag X will recognise, or null when nothing usable is left.
 * Only letters, marks, digits and "_" survive ("Node.js" → "#Nodejs", "Web Dev" →
 * "#WebDev"); an all-digit tag is not a hashtag on X, so it is dropped.
 */
export function toHashtag(name: string): string | null {
  const body = name.normalize('NFC').replace(/[^\p{L}\p{M}\p{N}_]/gu, '');
  if (!body || /^\p{N}+$/u.test(body)) return null;
  const tag = `#${body}`;
  // the last word is twitter-text's: what it would not link is not a hashtag
  return twitter.extractHashtags(tag).length === 1 && twitter.extractHashtags(tag)[0] === body ? tag : null;
}

function hashtagsOf(tags: { name: string }[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const t of tags) {
    const h = toHashtag(t.name);
    if (h && !seen.has(h.toLowerCase())) {
      seen.add(h.toLowerCase());
      out.push(h);
    }
  }
  return out;
}

interface Parts {
  title: string;
  url: string;
  excerpt: string;
  tags: string[];
  author: string;
}

function fill(template: string, p: Parts): string {
  const filled = template.replace(PLACEHOLDER, (_m, name: string) =>
    name === 'tags' ? p.tags.join(' ') : p[name as 'title' | 'url' | 'excerpt' | 'author'],
  );
  // an empty placeholder must not leave double spaces or blank lines behind
  return filled
    .normalize('NFC')
    .split('\n')
    .map((line) => line.replace(/[ \t]+/g, ' ').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const graphemes = (s: string) => Array.from(segmenter.segment(s), (g) => g.segment);

/**
 * `value` cut to the longest prefix (whole graphemes, preferably whole words) + "…"
 * for which `build` still fits; null when not even the ellipsis alone fits.
 */
function shorten(value: string, build: (v: string) => string, rule: LengthRule): string | null {
  const g = graphemes(value);
  const cut = (n: number) => trimEndWhere(g.slice(0, n).join(''), (ch) => /^[\s,;:.\-–—]$/u.test(ch)) + ELLIPSIS;
  // binary search for the longest fitting prefix; the length is not strictly monotonic
  // (a prefix can stop or start looking like a domain), so only tested lengths are kept
  let lo = 0;
  let hi = g.length - 1;
  let best = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (fits(build(cut(mid)), rule)) {
      best = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  if (best < 0) return null;
  // prefer ending on a word boundary when one is near (scripts without spaces keep the raw cut)
  if (best < g.length && !/\s/u.test(g[best] ?? '')) {
    const window = g.slice(Math.max(0, best - 20), best);
    const space = window.map((c) => /\s/u.test(c)).lastIndexOf(true);
    if (space >= 0) {
      const n = Math.max(0, best - 20) + space;
      if (n >= best / 2 && fits(build(cut(n)), rule)) return cut(n);
    }
  }
  return cut(best);
}

/** Renders the template for an article and fits it into the network's rule. */
export function renderAnnouncement(template: string, input: AnnouncementInput, rule: LengthRule): RenderedAnnouncement {
  const parts: Parts = {
    title: oneLine(input.title),
    url: input.url,
    excerpt: oneLine(input.excerpt),
    tags: hashtagsOf(input.tags),
    author: oneLine(input.author?.name ?? ''),
  };
  const done = (text: string): RenderedAnnouncement => ({ valid: true, text, weightedLength: rule.measure(text) });
  let text = fill(template, parts);
  if (fits(text, rule)) return done(text);

  const uses = (name: string) => template.includes(`{${name}}`);
  if (uses('excerpt') && parts.excerpt) {
    parts.excerpt = shorten(parts.excerpt, (v) => fill(template, { ...parts, excerpt: v }), rule) ?? '';
    text = fill(template, parts);
    if (fits(text, rule)) return done(text);
  }
  if (uses('tags')) {
    while (parts.tags.length) {
      parts.tags = parts.tags.slice(0, -1);
      text = fill(template, parts);
      if (fits(text, rule)) return done(text);
    }
  }
  if (uses('title') && parts.title) {
    const title = shorten(parts.title, (v) => fill(template, { ...parts, title: v }), rule);
    if (title !== null) return done(fill(template, { ...parts, title }));
    parts.title = '';
  }
  text = fill(template, parts);
  if (fits(text, rule)) return done(text);
  const length = rule.measure(text);
  return {
    valid: false,
    text,
    weightedLength: length,
    problem: !text
      ? 'The announcement text is empty.'
      : length > rule.max
        ? `${rule.templateVariable} leaves no room: its fixed text and the link alone take ${length} of ${rule.max} ${rule.unit}. Shorten the template.`
        : `The announcement text contains characters ${rule.network} does not accept.`,
  };
}
