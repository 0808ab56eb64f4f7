// SQL for old addresses.
import { and, eq, inArray, ne } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { articles } from '../articles/articles.table.ts';
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
  const rows = await db
    .select({ path: redirects.path })
    .from(redirects)
    .where(and(inArray(redirects.path, keys), articleId === null ? undefined : ne(redirects.articleId, articleId)));
  return rows.map((r) => r.path);
}

/** The published article an old address leads to. */
export async function findRedirectTarget(db: Db, key: string): Promise<{ id: number; slug: string; publishedAt: Date | null } | null> {
  const [row] = await db
    .select({ id: articles.id, slug: articles.slug, publishedAt: articles.publishedAt })
    .from(redirects)
    .innerJoin(articles, eq(articles.id, redirects.articleId))
    .where(and(eq(redirects.path, key), eq(articles.status, 'published')));
  return row ?? null;
}
