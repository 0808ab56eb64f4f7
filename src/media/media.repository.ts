// SQL for the media library, and the two questions it asks of articles: who uses an image, and an article's feature image.
import { asc, count, desc, eq, inArray, or, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { articles } from '../articles/articles.table.ts';
import { media } from './media.table.ts';

export type MediaRecord = typeof media.$inferSelect;
export type MediaInsert = typeof media.$inferInsert;

export async function findMediaById(db: Db, id: number): Promise<MediaRecord | null> {
  const [row] = await db.select().from(media).where(eq(media.id, id));
  return row ?? null;
}

export async function findMediaByHash(db: Db, hash: string): Promise<MediaRecord | null> {
  const [row] = await db.select().from(media).where(eq(media.hash, hash));
  return row ?? null;
}

export async function findMediaByHashes(db: Db, hashes: string[]): Promise<MediaRecord[]> {
  if (!hashes.length) return [];
  return db.select().from(media).where(inArray(media.hash, hashes));
}

export async function findMediaByIds(db: Db, ids: number[]): Promise<MediaRecord[]> {
  if (!ids.length) return [];
  return db.select().from(media).where(inArray(media.id, ids));
}

export async function listMedia(db: Db, opts: { limit: number; offset: number }): Promise<{ rows: MediaRecord[]; total: number }> {
  const [rows, [{ n }]] = await Promise.all([
    db.select().from(media).orderBy(desc(media.createdAt), desc(media.id)).limit(opts.limit).offset(opts.offset),
    db.select({ n: count() }).from(media),
  ]);
  return { rows, total: n };
}

export async function insertMedia(db: Db, values: MediaInsert): Promise<MediaRecord> {
  const [row] = await db.insert(media).values(values).returning();
  return row;
}

export async function updateMediaAlt(db: Db, id: number, alt: string): Promise<MediaRecord | null> {
  const [row] = await db.update(media).set({ alt }).where(eq(media.id, id)).returning();
  return row ?? null;
}

export async function deleteMedia(db: Db, id: number): Promise<void> {
  await db.delete(media).where(eq(media.id, id));
}

/** An article's feature image, or null (no such article, or none). */
export async function findFeatureImageOf(db: Db, articleId: number): Promise<MediaRecord | null> {
  const [row] = await db.select().from(media).where(sql`${media.id} = (select feature_image_id from articles where id = ${articleId})`);
  return row ?? null;
}

/** Articles (any status) that show this image: as their feature image, or inside their HTML. */
export async function articlesUsingMedia(db: Db, m: Pick<MediaRecord, 'id' | 'hash'>): Promise<{ id: number; slug: string }[]> {
  return db
    .select({ id: articles.id, slug: articles.slug })
    .from(articles)
    .where(or(eq(articles.featureImageId, m.id), sql`strpos(${articles.html}, ${`/media/${m.hash}/`}) > 0`))
    .orderBy(asc(articles.id))
    .limit(20);
}
