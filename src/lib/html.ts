// Turning what editors and readers write into HTML that is safe to render as is.
// Markdown through `marked`, everything through `sanitize-html` with one allow-list.
import { Marked } from 'marked';
import sanitizeHtml from 'sanitize-html';
import { isTrailingPunctuation, trimEndWhere } from './trim.ts';

const marked = new Marked({ gfm: true, breaks: false, async: false });

/** What an article body may contain: prose, code, tables, images, links — no scripts, styles, forms or frames. */
const ARTICLE_POLICY: sanitizeHtml.IOptions = {
  allowedTags: [
    'p', 'br', 'hr', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'blockquote', 'pre', 'code', 'kbd', 'samp', 'var',
    'em', 'strong', 'b', 'i', 'u', 's', 'del', 'ins', 'mark', 'small', 'sub', 'sup', 'abbr', 'cite', 'q', 'dfn', 'time',
    'ul', 'ol', 'li', 'dl', 'dt', 'dd', 'a', 'img', 'figure', 'figcaption', 'picture', 'source',
    'table', 'thead', 'tbody', 'tfoot', 'tr', 'th', 'td', 'caption', 'colgroup', 'col', 'details', 'summary', 'span', 'div',
  ],
  allowedAttributes: {
    a: ['href', 'title', 'rel', 'hreflang'],
    img: ['src', 'srcset', 'sizes', 'alt', 'title', 'width', 'height', 'loading'],
    source: ['srcset', 'media', 'type'],
    abbr: ['title'],
    time: ['datetime'],
    q: ['cite'],
    blockquote: ['cite'],
    code: ['class'],
    pre: ['class'],
    th: ['colspan', 'rowspan', 'align', 'scope'],
    td: ['colspan', 'rowspan', 'align'],
    ol: ['start', 'reversed'],
    li: ['value'],
    '*': ['id', 'lang', 'dir'],
  },
  allowedClasses: { code: [/^language-[\w-]+$/], pre: [/^language-[\w-]+$/] },
  allowedSchemes: ['http', 'https', 'mailto', 'tel'],
  allowedSchemesByTag: { img: ['http', 'https', 'data'] },
  allowedSchemesAppliedToAttributes: ['href', 'src', 'cite', 'srcset'],
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
  // dropped along with their content, not just their tags
  nonTextTags: ['script', 'style', 'textarea', 'option', 'noscript', 'iframe', 'object', 'embed', 'template', 'svg', 'math'],
};

/** Bidirectional overrides and isolates: they can make text read differently from what it is. */
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/g;

export function stripBidi(s: string): string {
  return s.replace(BIDI_CONTROLS, '');
}

/**
 * What never belongs in text someone will display (a comment, a name, an excerpt): C0
 * controls but tab, LF and CR; DEL and the C1 controls; zero-width spaces and joiners,
 * the line and paragraph separators, the BOM and the noncharacters U+FFFE/U+FFFF.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const INVISIBLE = /[\u0000-\u0008\v\f\u000E-\u001F\u007F-\u009F\u200B-\u200D\u2028\u2029\uFEFF\uFFFE\uFFFF]/g;

/** The text without invisible characters and bidirectional controls (see INVISIBLE and BIDI_CONTROLS). */
export function stripControls(s: string): string {
  return stripBidi(s).replace(INVISIBLE, '');
}

export function sanitizeArticleHtml(html: string): string {
  return sanitizeHtml(stripBidi(html), ARTICLE_POLICY).trim();
}

export function markdownToHtml(markdown: string): string {
  return sanitizeArticleHtml(marked.parse(markdown) as string);
}

/** Plain text of an HTML fragment: block boundaries become spaces, entities decoded. */
export function htmlToText(html: string): string {
  const text = sanitizeHtml(html.replace(/<\/(p|div|h\d|li|blockquote|pre|tr|figcaption|dt|dd)>|<br\s*\/?>/gi, '$& '), {
    allowedTags: [],
    allowedAttributes: {},
    nonTextTags: ['script', 'style', 'textarea', 'option', 'noscript'],
  });
  return decodeEntities(text).replace(/\s+/g, ' ').trim();
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };
/** HTML character references (named: the few HTML needs; numeric: all) as the characters they stand for. */
export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
    if (e[0] === '#') {
      const cp = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return Number.isFinite(cp) && cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
    }
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

/** The first ~`max` characters of the text, cut at a word boundary, with an ellipsis when cut. */
export function excerptOf(text: string, max = 280): string {
  const t = text.replace(/\s+/g, ' ').trim();
  if (t.length <= max) return t;
  const cut = t.slice(0, max - 1);
  const at = cut.lastIndexOf(' ');
  return trimEndWhere(at > max * 0.6 ? cut.slice(0, at) : cut, isTrailingPunctuation) + '…';
}

/** Minutes to read at 230 words a minute (CJK counted by characters at 500/minute), at least 1. */
export function readingTimeMinutes(text: string): number {
  const cjk = (text.match(/[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/gu) ?? []).length;
  const words = text.replace(/[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/gu, ' ').split(/\s+/).filter(Boolean).length;
  return Math.max(1, Math.round(words / 230 + cjk / 500));
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** One line of text from a foreign page or answer: collapsed whitespace, no control characters, at most `max` characters. */
export function cleanLine(s: string, max: number): string {
  const t = stripControls(s).replace(/\s+/g, ' ').trim();
  return t.length > max ? t.slice(0, max - 1).trimEnd() + '…' : t;
}

/** Escapes text for an HTML text node or a quoted attribute. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}
