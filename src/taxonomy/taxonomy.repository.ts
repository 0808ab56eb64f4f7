import { eq, inArray, sql } from 'drizzle-orm';
import { queryRows, type Db } from '../db/client.ts';
import { toSlug } from '../lib/slug.ts';
import { authors, tags } from './taxonomy.table.ts';
import type { AuthorView, TagView } from './taxonomy.schemas.ts';

/** Finds tags by name or slug, creating the missing ones; ids in the order given, without duplicates. */
export async function ensureTags(db: Db, namesOrSlugs: string[]): Promise<number[]> {
  const wanted = new Map<string, string>(); // slug → display name
  for (const raw of namesOrSlugs) {
    const name = raw.trim().replace(/\s+/g, ' ');
    const slug = toSlug(name);
    if (slug && !wanted.has(slug)) wanted.set(slug, name);
  }
  if (!wanted.size) return [];
  await db
    .insert(tags)
    .values([...wanted].map(([slug, name]) => ({ slug, name })))
    .onConflictDoNothing({ target: tags.slug });
  const rows = await db.select({ id: tags.id, slug: tags.slug }).from(tags).where(inArray(tags.slug, [...wanted.keys()]));
  const bySlug = new Map(rows.map((r) => [r.slug, r.id]));
  return [...wanted.keys()].map((s) => bySlug.get(s)!).filter((id) => id !== undefined);
}

/** Which of these tag slugs exist already. */
export async function existingTagSlugs(db: Db, slugs: string[]): Promise<Set<string>> {
  if (!slugs.length) return new Set();
  const rows = await db.select({ slug: tags.slug }).from(tags).where(inArray(tags.slug, slugs));
  return new Set(rows.map((r) => r.slug));
}

export async function authorIdBySlug(db: Db, slug: string): Promise<number | null> {
  const [row] = await db.select({ id: authors.id }).from(authors).where(eq(authors.slug, slug)).limit(1);
  return row?.id ?? null;
}

const TAG_SELECT = sql`select t.slug, t.name, t.description,
  (select count(*)::int from article_tags at join articles a on a.id = at.article_id where at.tag_id = t.id and a.status = 'published') as count
  from tags t`;

export async function listTags(db: Db): Promise<TagView[]> {
  const rows = await queryRows<TagView>(db, sql`${TAG_SELECT} order by t.name, t.slug`);
  return rows.map((r) => ({ ...r, count: Number(r.count) }));
}

export async function findTag(db: Db, slug: string): Promise<TagView | null> {
  const rows = await queryRows<TagView>(db, sql`${TAG_SELECT} where t.slug = ${slug}`);
  return rows[0] ? { ...rows[0], count: Number(rows[0].count) } : null;
}

const AUTHOR_SELECT = sql`select au.slug, au.name, au.bio, au.url,
  (select count(*)::int from articles a where a.author_id = au.id and a.status = 'published') as count
  from authors au`;

export async function findAuthor(db: Db, slug: string): Promise<AuthorView | null> {
  const rows = await queryRows<AuthorView>(db, sql`${AUTHOR_SELECT} where au.slug = ${slug}`);
  return rows[0] ? { ...rows[0], count: Number(rows[0].count) } : null;
}

export async function listAuthors(db: Db): Promise<AuthorView[]> {
  const rows = await queryRows<AuthorView>(db, sql`${AUTHOR_SELECT} order by au.name`);
  return rows.map((r) => ({ ...r, count: Number(r.count) }));
}

export async function insertTag(db: Db, v: { slug: string; name: string; description?: string }): Promise<boolean> {
  const rows = await db.insert(tags).values(v).onConflictDoNothing().returning({ id: tags.id });
  return rows.length > 0;
}

export async function updateTag(db: Db, slug: string, v: { slug?: string; name?: string; description?: string }): Promise<boolean> {
  const rows = await db.update(tags).set({ ...v, updatedAt: sql`now()` }).where(eq(tags.slug, slug)).returning({ id: tags.id });
  return rows.length > 0;
}

export async function deleteTag(db: Db, slug: string): Promise<boolean> {
  const rows = await db.delete(tags).where(eq(tags.slug, slug)).returning({ id: tags.id });
  return rows.length > 0;
}

export async function insertAuthor(db: Db, v: { slug: string; name: string; bio?: string; url?: string | null }): Promise<boolean> {
  const rows = await db.insert(authors).values(v).onConflictDoNothing().returning({ id: authors.id });
  return rows.length > 0;
}

export async function updateAuthor(db: Db, slug: string, v: { slug?: string; name?: string; bio?: string; url?: string | null }): Promise<boolean> {
  const rows = await db.update(authors).set({ ...v, updatedAt: sql`now()` }).where(eq(authors.slug, slug)).returning({ id: authors.id });
  return rows.length > 0;
}

export async function deleteAuthor(db: Db, slug: string): Promise<boolean> {
  const rows = await db.delete(authors).where(eq(authors.slug, slug)).returning({ id: authors.id });
  return rows.length > 0;
}
