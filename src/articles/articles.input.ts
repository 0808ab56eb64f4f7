// An editor's write, read into what is stored: the body rendered and sanitised, the excerpt, the schedule.
import type { FieldError } from '../http/errors.ts';
import { excerptOf, htmlToText, markdownToHtml, readingTimeMinutes, sanitizeArticleHtml, stripBidi } from '../lib/html.ts';
import type { ArticleStatus } from './articles.table.ts';

export interface RenderedBody {
  markdown: string | null;
  html: string;
  text: string;
  readingTimeMinutes: number;
}

export function renderBody(input: { markdown?: string; html?: string }, errors: FieldError[]): RenderedBody | undefined {
  if (input.markdown !== undefined && input.html !== undefined) {
    errors.push({ pointer: '/body/html', message: 'send either `markdown` or `html`, not both' });
    return undefined;
  }
  const html = input.markdown !== undefined ? markdownToHtml(input.markdown) : sanitizeArticleHtml(input.html ?? '');
  const text = htmlToText(html);
  return { markdown: input.markdown ?? null, html, text, readingTimeMinutes: readingTimeMinutes(text) };
}

/** The editor's own excerpt, or one derived from the text. */
export function excerptFields(excerpt: string | undefined, text: string): { excerpt: string; customExcerpt: boolean } {
  const own = excerpt !== undefined ? stripBidi(excerpt).replace(/\s+/g, ' ').trim() : '';
  return own ? { excerpt: own, customExcerpt: true } : { excerpt: excerptOf(text), customExcerpt: false };
}

/** When a scheduled article goes public (null for any other status). */
export function checkSchedule(status: ArticleStatus, publishAt: string | null | undefined, errors: FieldError[]): Date | null {
  if (status !== 'scheduled') return null;
  if (!publishAt) {
    errors.push({ pointer: '/body/publishAt', message: 'is required when status is scheduled' });
    return null;
  }
  const d = new Date(publishAt);
  if (Number.isNaN(d.getTime())) errors.push({ pointer: '/body/publishAt', message: 'must be an ISO 8601 date-time' });
  return d;
}
