// A reader's plain text → safe HTML: escaped, paragraphs and line breaks kept,
// URLs linked with rel="nofollow ugc" (so links in comments pass no ranking).
import linkifyStr from 'linkify-string';
import sanitizeHtml from 'sanitize-html';
import { stripControls } from '../lib/html.ts';

const COMMENT_POLICY: sanitizeHtml.IOptions = {
  allowedTags: ['p', 'br', 'a'],
  allowedAttributes: { a: ['href', 'rel'] },
  allowedSchemes: ['http', 'https'],
  allowProtocolRelative: false,
  transformTags: { a: sanitizeHtml.simpleTransform('a', { rel: 'nofollow ugc' }) },
};

export function cleanText(s: string): string {
  return stripControls(s).normalize('NFC');
}

export function commentToHtml(body: string): string {
  const text = cleanText(body).replace(/\r\n?/g, '\n').trim();
  const paragraphs = text.split(/\n{2,}/).map((p) => p.trim()).filter(Boolean);
  const html = paragraphs
    .map((p) => {
      const linked = linkifyStr(p, { rel: 'nofollow ugc', validate: { email: false }, defaultProtocol: 'https' });
      return `<p>${linked.replace(/\n/g, '<br>')}</p>`;
    })
    .join('\n');
  return sanitizeHtml(html, COMMENT_POLICY);
}

/** What WordPress lets commenters write (its `$allowedtags`), kept when comments come over from it. */
const WORDPRESS_COMMENT_POLICY: sanitizeHtml.IOptions = {
  ...COMMENT_POLICY,
  allowedTags: [...(COMMENT_POLICY.allowedTags as string[]), 'abbr', 'acronym', 'b', 'blockquote', 'cite', 'code', 'del', 'em', 'i', 'q', 's', 'strike', 'strong'],
  allowedAttributes: { a: ['href', 'rel'], abbr: ['title'], acronym: ['title'], blockquote: ['cite'], q: ['cite'] },
};

/** A comment written on WordPress (HTML, paragraphs by `autop` already): sanitised like a reader's, WordPress's tags kept. */
export function wordpressCommentToHtml(html: string): string {
  return sanitizeHtml(cleanText(html), WORDPRESS_COMMENT_POLICY).trim();
}

/** How many links a comment body holds: the moderation policy holds link-heavy ones. */
export function countLinks(html: string): number {
  return (html.match(/<a\s/g) ?? []).length;
}
