// SQL for the WordPress import's own table: what each WordPress id became here.
import { eq, inArray, sql } from 'drizzle-orm';
import { queryRows, type Db } from '../../db/client.ts';
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
  const current =
    kind === 'post'
      ? sql`(select a.version::text from articles a where a.id = m.local_id)`
      : sql`(select (extract(epoch from r.updated_at) * 1000)::bigint::text from responses r where r.id = m.local_id)`;
  const rows = await queryRows<{ wp_id: string | number; local_id: number; digest: string; stamp: string; current: string | null }>(
    db,
    sql`select m.wp_id, m.local_id, m.digest, m.stamp, ${current} as current from wordpress_imports m
        where m.site = ${site} and m.kind = ${kind} and m.wp_id in (${sql.join(wpIds.map((id) => sql`${id}`), sql`, `)})`,
  );
  return new Map(rows.map((r) => [Number(r.wp_id), { localId: Number(r.local_id), digest: r.digest, stamp: r.stamp, current: r.current }]));
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
