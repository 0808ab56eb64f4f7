// Reading a list request: the public list's query parameters → the repository's filter,
// order, page or keyset cursor, and the sparse field list. Bad combinations answer 400.
import { AppError, type FieldError } from '../http/errors.ts';
import { CursorError, decodeCursor, fingerprint } from '../lib/pagination.ts';
import type { ListFilter, ListOrder } from './articles.repository.ts';
import { Article, type ListArticlesParams } from './articles.schemas.ts';

export const invalid = (errors: FieldError[]) => new AppError('validation', errors.map((e) => `${e.pointer} ${e.message}`).join('; '), { errors });

/** Parses an ISO 8601 date or date-time; a bare date is midnight UTC (`endOfDay` → the next midnight). */
function parseDateParam(value: string, name: string, endOfDay = false): Date {
  const m = /^\d{4}-\d{2}-\d{2}$/.exec(value);
  const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;
  const d = m ? new Date(`${value}T00:00:00Z`) : iso.test(value) ? new Date(value) : new Date(NaN);
  if (Number.isNaN(d.getTime())) throw invalid([{ pointer: `/query/${name}`, message: 'must be an ISO 8601 date (2026-01-31) or date-time (2026-01-31T12:00:00Z)' }]);
  if (m && endOfDay) d.setUTCDate(d.getUTCDate() + 1);
  return d;
}

/** The fields `fields=` may name: the public article shape's, read from its schema (new fields join by themselves). */
export const ARTICLE_FIELDS = Object.keys(Article.properties);

/** `fields=title,slug` → the names, or a 400 that lists the valid ones. */
export function parseFields(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const names = [...new Set(raw.split(',').map((f) => f.trim()).filter(Boolean))];
  const unknown = names.filter((f) => !ARTICLE_FIELDS.includes(f));
  if (unknown.length || !names.length) {
    const what = unknown.length ? `has unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((f) => `"${f}"`).join(', ')}` : 'names no field';
    throw invalid([{ pointer: '/query/fields', message: `${what}; valid fields: ${ARTICLE_FIELDS.join(', ')}` }]);
  }
  return names;
}

export interface PublicListQuery {
  filter: ListFilter;
  order: ListOrder;
  limit: number;
  /** null when walking by cursor */
  page: number | null;
  after: [string, number] | undefined;
  fields: string[] | undefined;
  /** binds a cursor to the filters it was made for */
  fingerprint: string;
}

export function parsePublicListQuery(params: ListArticlesParams): PublicListQuery {
  const limit = params.limit ?? 20;
  const order: ListOrder = params.order ?? (params.q ? 'relevance' : '-publishedAt');
  if (order === 'relevance' && !params.q) throw invalid([{ pointer: '/query/order', message: 'relevance needs a search query `q`' }]);
  if (params.after && params.page) throw invalid([{ pointer: '/query/after', message: 'use either `after` or `page`, not both' }]);
  if (params.after && order === 'relevance') throw invalid([{ pointer: '/query/after', message: 'keyset paging works with date orders; use `page` with relevance' }]);
  const fields = parseFields(params.fields);
  const filter: ListFilter = {
    status: 'published',
    ids: params.id?.split(',').map(Number),
    tag: params.tag,
    author: params.author,
    q: params.q?.trim() || undefined,
    since: params.since ? parseDateParam(params.since, 'since') : undefined,
    until: params.until ? parseDateParam(params.until, 'until', true) : undefined,
  };
  const fp = fingerprint({ tag: filter.tag, author: filter.author, q: filter.q, since: params.since, until: params.until, order });
  let after: [string, number] | undefined;
  if (params.after) {
    try {
      const [at, id] = decodeCursor(params.after, fp, ['date', 'int']);
      after = [String(at), Number(id)];
    } catch (e) {
      if (e instanceof CursorError) throw invalid([{ pointer: '/query/after', message: e.message }]);
      throw e;
    }
  }
  return { filter, order, limit, page: after ? null : (params.page ?? 1), after, fields, fingerprint: fp };
}
