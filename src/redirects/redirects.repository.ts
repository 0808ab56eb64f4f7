// SQL for old addresses.
import { sql } from 'drizzle-orm';
import { queryRows, type Db } from '../db/client.ts';
import { redirects } from './redirects.table.ts';

/** Remembers old addresses of an article; an address that already leads elsewhere is kept as it is. Returns how many were new. */
export async function addRedirects(db: Db, articleId: number, origin: string, keys: string[]): Promise<number> {
  if (!keys.length) return 0;
  const rows = await db
    .insert(redirects)
    .values([...new Set(keys)].map((path) => ({ path, articleId, origin })))
    .onConflictDoNothing({ target: redirects.path })
    .returning({ path: redirects.path });
  return rows.length;
}

/** Which of these addresses lead to another article already. */
export async function redirectsElsewhere(db: Db, articleId: number | null, keys: string[]): Promise<string[]> {
  if (!keys.length) return [];
  const rows = await queryRows<{ path: string }>(
    db,
    sql`select path from redirects where path in (${sql.join(keys.map((k) => sql`${k}`), sql`, `)})
        ${articleId === null ? sql`` : sql`and article_id <> ${articleId}`}`,
  );
  return rows.map((r) => r.path);
}

/** The published article an old address leads to. */
export async function findRedirectTarget(db: Db, key: string): Promise<{ id: number; slug: string; publishedAt: Date | null } | null> {
  const rows = await queryRows<{ id: number; slug: string; published_at: string | Date | null }>(
    db,
    sql`select a.id, a.slug, a.published_at from redirects r join articles a on a.id = r.article_id
        where r.path = ${key} and a.status = 'published'`,
  );
  const r = rows[0];
  if (!r) return null;
  return { id: Number(r.id), slug: String(r.slug), publishedAt: r.published_at === null ? null : new Date(r.published_at) };
}
