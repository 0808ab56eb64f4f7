import { bigint, index, integer, pgSequence, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';

/**
 * The /v1/changes log: one row per article that is or was public, holding its latest
 * change (an upsert, or a delete tombstone). A change moves the row to the end: its
 * `xid` (the writing transaction's id) and `seq` are renewed in the writing transaction.
 * Readers see only rows whose transaction is older than every transaction of this
 * database still running (see changes.repository.ts), so the (xid, seq) order never grows behind a cursor.
 */
/** orders the changes of one transaction */
export const contentChangesSeq = pgSequence('content_changes_seq');

export const contentChanges = pgTable(
  'content_changes',
  {
    articleId: integer('article_id').primaryKey(),
    slug: text('slug').notNull(),
    change: text('change').$type<'upsert' | 'delete'>().notNull(),
    /** pg_current_xact_id() of the writing transaction, as a number */
    xid: bigint('xid', { mode: 'number' })
      .notNull()
      .default(sql`(pg_current_xact_id()::text)::bigint`),
    /** order within one transaction */
    seq: bigint('seq', { mode: 'number' }).notNull(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('content_changes_cursor_idx').on(t.xid, t.seq), index('content_changes_tombstones_idx').on(t.at).where(sql`change = 'delete'`)],
);
