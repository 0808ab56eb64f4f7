import { asc, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
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
  return [...wanted.keys()].flatMap((s) => bySlug.get(s) ?? []);
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

// The `count` of the public views: published articles with the tag, by the author. The outer
// row is named in full (tags.id): in a one-table select Drizzle writes a column unqualified,
// which inside these subqueries would mean the article's id.
const TAG_COLUMNS = {
  slug: tags.slug,
  name: tags.name,
  description: tags.description,
  count: sql`(select count(*)::int from article_tags at join articles a on a.id = at.article_id
              where at.tag_id = tags.id and a.status = 'published')`.mapWith(Number),
};
const AUTHOR_COLUMNS = {
  slug: authors.slug,
  name: authors.name,
  bio: authors.bio,
  url: authors.url,
  count: sql`(select count(*)::int from articles a where a.author_id = authors.id and a.status = 'published')`.mapWith(Number),
};

export async function listTags(db: Db): Promise<TagView[]> {
  return db.select(TAG_COLUMNS).from(tags).orderBy(asc(tags.name), asc(tags.slug));
}

export async function findTag(db: Db, slug: string): Promise<TagView | null> {
  const [row] = await db.select(TAG_COLUMNS).from(tags).where(eq(tags.slug, slug));
  return row ?? null;
}

export async function findAuthor(db: Db, slug: string): Promise<AuthorView | null> {
  const [row] = await db.select(AUTHOR_COLUMNS).from(authors).where(eq(authors.slug, slug));
  return row ?? null;
}

export async function listAuthors(db: Db): Promise<AuthorView[]> {
  return db.select(AUTHOR_COLUMNS).from(authors).orderBy(asc(authors.name));
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
