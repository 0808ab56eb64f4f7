// SQL for the /v1/changes log (see changes.table.ts for the shape).
import { and, asc, eq, lt, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { contentChanges } from './changes.table.ts';

export interface ChangeRow {
  articleId: number;
  slug: string;
  change: 'upsert' | 'delete';
  xid: number;
  seq: number;
  at: Date;
}

/** Moves an article's row to the end of the log as `change`, in the caller's transaction. `onlyIfPublished`: skip it unless the article is public now. */
export async function recordChange(db: Db, a: { id: number; slug: string }, change: 'upsert' | 'delete', opts: { onlyIfPublished?: boolean } = {}): Promise<void> {
  const source = opts.onlyIfPublished
    ? sql`select id, slug from articles where id = ${a.id} and status = 'published'`
    : sql`select ${a.id}::int, ${a.slug}::text`;
  await db.execute(sql`
    insert into content_changes (article_id, slug, change, xid, seq, at)
    select s.*, ${change}, (pg_current_xact_id()::text)::bigint, nextval('content_changes_seq'), now() from (${source}) s
    on conflict (article_id) do update
      set slug = excluded.slug, change = excluded.change, xid = excluded.xid, seq = excluded.seq, at = excluded.at`);
}

/** An upsert for every published article a WordPress import wrote since `since` (imported or updated). */
export async function recordImported(db: Db, since: Date): Promise<void> {
  await db.execute(sql`
    insert into content_changes (article_id, slug, change, xid, seq, at)
    select a.id, a.slug, 'upsert', (pg_current_xact_id()::text)::bigint, nextval('content_changes_seq'), now()
    from (select a.id, a.slug from articles a
          join wordpress_imports w on w.kind = 'post' and w.local_id = a.id
          where a.status = 'published' and w.imported_at >= ${since.toISOString()}::timestamptz
          order by a.published_at, a.id) a
    on conflict (article_id) do update
      set slug = excluded.slug, change = excluded.change, xid = excluded.xid, seq = excluded.seq, at = excluded.at`);
}

/**
 * The horizon of the log: below it, no transaction that could still add a row is running.
 * The snapshot's xmin is that for the whole cluster, so a long transaction in another
 * database (a report, another app, a `pg_dump`) would hold the feed back for as long as it
 * runs. A transaction writes in one database only: the transactions in progress at this
 * snapshot that are seen running in another database now are left out. Any other one, this
 * database's or one that ended meanwhile (whose database is then unknown), still counts,
 * and none at all leaves the snapshot's xmax. xids compare modulo 2^32: pg_stat_activity
 * gives them without their epoch. Without the right to see other sessions' xids, nothing is
 * left out: the horizon is the snapshot's xmin, as before.
 */
const HORIZON = sql`(select coalesce(
    (select min(x.v) from pg_snapshot_xip(s.s) as xip(x), lateral (select (xip.x::text)::bigint as v) x
     where x.v % 4294967296 not in (
       select (backend_xid::text)::bigint from pg_stat_activity where backend_xid is not null and datname is distinct from current_database())),
    (pg_snapshot_xmax(s.s)::text)::bigint)
  from pg_current_snapshot() as s(s))`;

/**
 * The changes after (xid, seq), in (xid, seq) order, among the rows whose writing
 * transaction is older than every transaction of this database still running: that set
 * never grows below a cursor already handed out (every later writer gets a larger xid).
 */
export async function changesAfter(db: Db, after: [number, number], limit: number): Promise<ChangeRow[]> {
  const { xid, seq } = contentChanges;
  return db
    .select({ articleId: contentChanges.articleId, slug: contentChanges.slug, change: contentChanges.change, xid, seq, at: contentChanges.at })
    .from(contentChanges)
    .where(and(sql`(${xid}, ${seq}) > (${after[0]}::bigint, ${after[1]}::bigint)`, lt(xid, HORIZON)))
    .orderBy(asc(xid), asc(seq))
    .limit(limit);
}

/** Forgets tombstones older than `days`; returns how many. */
export async function pruneTombstones(db: Db, days: number): Promise<number> {
  const rows = await db
    .delete(contentChanges)
    .where(and(eq(contentChanges.change, 'delete'), lt(contentChanges.at, sql`now() - (${days} * interval '1 day')`)))
    .returning({ articleId: contentChanges.articleId });
  return rows.length;
}
