// Page and keyset pagination: the meta block, RFC 8288 Link headers, opaque cursors.
import { createHash } from 'node:crypto';

export interface PageMeta {
  page: number | null;
  limit: number;
  pages: number;
  total: number;
  next: number | null;
  prev: number | null;
  nextCursor: string | null;
  /** a broad search's total (and so `pages`) is the planner's estimate, not a count */
  estimated?: true;
}

export class CursorError extends Error {}

/**
 * A cursor is the sort key of the last item seen plus a fingerprint of the query it
 * belongs to, base64url-encoded. It is opaque to clients; a cursor that does not
 * decode, or that comes from another query, is refused.
 */
export function encodeCursor(key: (string | number)[], fingerprint: string): string {
  return Buffer.from(JSON.stringify({ k: key, f: fingerprint })).toString('base64url');
}

export function decodeCursor(cursor: string, fingerprint: string, shape: ('date' | 'int')[]): (string | number)[] {
  let parsed: unknown;
  try {
    if (!/^[A-Za-z0-9_-]{1,512}$/.test(cursor)) throw new Error();
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new CursorError('The cursor is not one this API issued.');
  }
  const p = parsed as { k?: unknown; f?: unknown };
  if (!Array.isArray(p.k) || p.k.length !== shape.length || typeof p.f !== 'string') throw new CursorError('The cursor is not one this API issued.');
  if (p.f !== fingerprint) throw new CursorError('The cursor belongs to a different query (filters or order changed); start again without `after`.');
  p.k.forEach((v, i) => {
    const ok = shape[i] === 'int' ? Number.isSafeInteger(v) : typeof v === 'string' && !Number.isNaN(Date.parse(v));
    if (!ok) throw new CursorError('The cursor is not one this API issued.');
  });
  return p.k as (string | number)[];
}

/** A short fingerprint of the parameters that define a result set (not its position). */
export function fingerprint(parts: Record<string, unknown>): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 12);
}

/** Pagination metadata; without `hasMore`, a page-numbered list has more when `page * limit < total`. */
export function pageMeta(opts: { page: number | null; limit: number; total: number; nextCursor?: string | null; hasMore?: boolean; estimated?: boolean }): PageMeta {
  const pages = Math.max(1, Math.ceil(opts.total / opts.limit));
  const { page } = opts;
  return {
    page,
    limit: opts.limit,
    pages,
    total: opts.total,
    next: page !== null && page < pages ? page + 1 : null,
    prev: page !== null && page > 1 ? Math.min(page - 1, pages) : null,
    nextCursor: (opts.hasMore ?? (page !== null && page * opts.limit < opts.total)) ? (opts.nextCursor ?? null) : null,
    ...(opts.estimated ? { estimated: true as const } : {}),
  };
}

/** RFC 8288 Link header with next/prev/first/last, keeping the request's other parameters. */
export function linkHeader(baseUrl: string, path: string, query: Record<string, unknown>, meta: PageMeta): string {
  const make = (changes: Record<string, string | number | undefined>) => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries({ ...query, ...changes })) {
      if (v === undefined || v === null || v === '') continue;
      for (const item of Array.isArray(v) ? v : [v]) params.append(k, String(item));
    }
    const qs = params.toString();
    return `${baseUrl}${path}${qs ? `?${qs}` : ''}`;
  };
  const links: string[] = [];
  const rel = (url: string, name: string) => links.push(`<${url}>; rel="${name}"`);
  if (meta.page === null) {
    if (meta.nextCursor) rel(make({ after: meta.nextCursor, page: undefined }), 'next');
    rel(make({ after: undefined, page: undefined }), 'first');
  } else {
    if (meta.next) rel(make({ page: meta.next }), 'next');
    if (meta.prev) rel(make({ page: meta.prev }), 'prev');
    rel(make({ page: 1 }), 'first');
    rel(make({ page: meta.pages }), 'last');
  }
  return links.join(', ');
}
