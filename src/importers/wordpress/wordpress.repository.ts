// SQL for the WordPress import's own table: what each WordPress id became here.
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { media } from '../../media/media.table.ts';
import { wordpressImports, wordpressMedia, type ImportKind } from './wordpress.table.ts';

export interface Mapping {
  localId: number;
  digest: string;
  stamp: string;
  /** the local row's stamp now; null when it was deleted here */
  current: string | null;
}

/**
 * The local rows of these WordPress ids, with their stamps now: an article's version,
 * a response's update time in milliseconds.
 */
export async function findMappings(db: Db, site: string, kind: ImportKind, wpIds: number[]): Promise<Map<number, Mapping>> {
  if (!wpIds.length) return new Map();
  const m = wordpressImports;
  // the outer row named in full: Drizzle writes a one-table select's columns unqualified
  const current =
    kind === 'post'
      ? sql<string | null>`(select a.version::text from articles a where a.id = wordpress_imports.local_id)`
      : sql<string | null>`(select (extract(epoch from r.updated_at) * 1000)::bigint::text from responses r where r.id = wordpress_imports.local_id)`;
  const rows = await db
    .select({ wpId: m.wpId, localId: m.localId, digest: m.digest, stamp: m.stamp, current })
    .from(m)
    .where(and(eq(m.site, site), eq(m.kind, kind), inArray(m.wpId, wpIds)));
  return new Map(rows.map(({ wpId, ...mapping }) => [wpId, mapping]));
}

export async function saveMappings(db: Db, site: string, kind: ImportKind, rows: { wpId: number; localId: number; digest: string; stamp: string }[]): Promise<void> {
  if (!rows.length) return;
  await db
    .insert(wordpressImports)
    .values(rows.map((r) => ({ site, kind, ...r })))
    .onConflictDoUpdate({
      target: [wordpressImports.site, wordpressImports.kind, wordpressImports.wpId],
      set: { localId: sql`excluded.local_id`, digest: sql`excluded.digest`, stamp: sql`excluded.stamp`, importedAt: sql`now()` },
    });
}

/** The library images these addresses were re-hosted as (`--media`), by address. */
export async function findRehosted(db: Db, urls: string[]): Promise<Map<string, Pick<typeof media.$inferSelect, 'id' | 'hash' | 'width' | 'format'>>> {
  if (!urls.length) return new Map();
  const rows = await db
    .select({ url: wordpressMedia.sourceUrl, id: media.id, hash: media.hash, width: media.width, format: media.format })
    .from(wordpressMedia)
    .innerJoin(media, eq(media.id, wordpressMedia.mediaId))
    .where(inArray(wordpressMedia.sourceUrl, urls));
  return new Map(rows.map(({ url, ...m }) => [url, m]));
}

export async function saveRehosted(db: Db, url: string, mediaId: number): Promise<void> {
  await db
    .insert(wordpressMedia)
    .values({ sourceUrl: url, mediaId })
    .onConflictDoUpdate({ target: wordpressMedia.sourceUrl, set: { mediaId, importedAt: sql`now()` } });
}
