// WordPress's stored text → the HTML Inkwell keeps. Posts: block comments removed
// (`<!-- wp:paragraph -->`: the block editor already wrote the HTML between them),
// `[caption]` → `<figure>`, WordPress's own paragraph rules (`autop`, as its
// `the_content` filter applies them) for classic posts, then the article sanitiser.
// Comments: `autop` then the comment sanitiser. Dates: WordPress's "Y-m-d H:i:s".
import { autop } from '@wordpress/autop';
import { htmlToText, sanitizeArticleHtml, stripBidi } from '../../lib/html.ts';
import { wordpressCommentToHtml } from '../../comments/comment-html.ts';

/**
 * Removes the block editor's `<!-- wp:… -->` and `<!-- /wp:… -->` comments in one pass
 * (no lazy regex: a run of unclosed comment openers must stay linear).
 */
function stripBlockComments(content: string): string {
  let out = '';
  let at = 0;
  for (;;) {
    const open = content.indexOf('<!--', at);
    if (open === -1) break;
    const close = content.indexOf('-->', open + 4);
    if (close === -1) break;
    const block = /^\s+\/?wp:/.test(content.slice(open + 4, close));
    out += content.slice(at, block ? open : close + 3);
    at = close + 3;
  }
  return out + content.slice(at);
}
/** the image (maybe inside a link) at the start of a caption, and the text after it */
const CAPTION_MEDIA = /^\s*((?:<a\s[^>]*>\s*)?<img\s[^>]*>(?:\s*<\/a>)?)([\s\S]*)$/;
const CAPTION_ATTR = /\bcaption=(?:"([^"]*)"|'([^']*)')/;

/** Was this written in the block editor? Its HTML is complete; `autop` must not run on it. */
export function isBlockContent(content: string): boolean {
  return /<!--\s+wp:/.test(content);
}

/** `[caption …]<img>text[/caption]` (and WordPress 3.0's `caption="text"` form) → `<figure>` with a `<figcaption>`. */
export function captionsToFigures(content: string): string {
  // one pass with indexOf, not a lazy regex: unclosed shortcodes must stay linear
  let out = '';
  let at = 0;
  for (;;) {
    const open = content.indexOf('[caption', at);
    if (open === -1) break;
    const attrsEnd = content.indexOf(']', open);
    const close = attrsEnd === -1 ? -1 : content.indexOf('[/caption]', attrsEnd);
    if (close === -1) break;
    out += content.slice(at, open) + captionToFigure(content.slice(open + '[caption'.length, attrsEnd), content.slice(attrsEnd + 1, close));
    at = close + '[/caption]'.length;
  }
  return out + content.slice(at);
}

function captionToFigure(attrs: string, inner: string): string {
  const m = CAPTION_MEDIA.exec(inner);
  if (!m) return inner;
  const attr = CAPTION_ATTR.exec(attrs);
  const text = (attr ? (attr[1] ?? attr[2]) : m[2]).trim();
  return `<figure>${m[1]}${text ? `<figcaption>${text}</figcaption>` : ''}</figure>`;
}

/** A post's `content:encoded` as sanitised HTML. */
export function postToHtml(content: string): string {
  const blocks = isBlockContent(content);
  let html = captionsToFigures(stripBlockComments(content));
  // the block editor's HTML stands between its comments: only the blank lines they leave go
  html = blocks ? html.replace(/\n\s*\n(\s*\n)+/g, '\n\n') : autop(html);
  return sanitizeArticleHtml(html);
}

/** A comment's, pingback's or trackback's content as sanitised HTML. */
export function commentToSafeHtml(content: string): string {
  return wordpressCommentToHtml(autop(content.replace(/\r\n?/g, '\n')));
}

/** Text WordPress stored HTML-escaped (term names, titles, display names) as plain text. */
export function plainText(s: string): string {
  return stripBidi(htmlToText(s)).trim();
}

const WP_DATE = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/;

/** WordPress's "Y-m-d H:i:s" read as UTC; null for `0000-00-00 00:00:00`, empty or invalid. */
export function wpDate(s: string): Date | null {
  const m = WP_DATE.exec(s.trim());
  if (!m || m[1] === '0000') return null;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
  return Number.isNaN(d.getTime()) ? null : d;
}

/**
 * A date WordPress stored as local time and GMT. Drafts have no GMT date
 * (`0000-00-00 00:00:00`); then the local one is turned into UTC with the site's offset
 * as the export shows it elsewhere (`offset`: local minus GMT of the nearest item or
 * comment with both), or read as UTC when the export never shows one.
 */
export class SiteClock {
  private offsetMs: number | null = null;

  date(gmt: string, local: string): Date | null {
    const g = wpDate(gmt);
    const l = wpDate(local);
    if (g && l) this.offsetMs = l.getTime() - g.getTime();
    if (g) return g;
    if (!l) return null;
    return new Date(l.getTime() - (this.offsetMs ?? 0));
  }
}
