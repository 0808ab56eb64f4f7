import { bigint, integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { media } from '../../media/media.table.ts';

export const IMPORT_KINDS = ['post', 'comment'] as const;
export type ImportKind = (typeof IMPORT_KINDS)[number];

/**
 * What each WordPress id became here, per source site: the key that makes a second
 * import of the same export a no-op and a newer export add only what is new. Kept apart
 * from articles and responses (no columns added there): `local_id` is an article id for
 * posts and a response id for comments; a row whose local row was deleted is imported again.
 */
export const wordpressImports = pgTable(
  'wordpress_imports',
  {
    /** the source site: its base blog URL without scheme, e.g. `example.com/blog` */
    site: text('site').notNull(),
    kind: text('kind').$type<ImportKind>().notNull(),
    wpId: bigint('wp_id', { mode: 'number' }).notNull(),
    localId: integer('local_id').notNull(),
    /** SHA-256 of what the export said last time: unchanged → nothing to do */
    digest: text('digest').notNull(),
    /** the local row's version (articles) or update time (responses) right after the import wrote it: differs → edited here since */
    stamp: text('stamp').notNull(),
    importedAt: timestamp('imported_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.site, t.kind, t.wpId] })],
);

/**
 * Images an import re-hosted (`--media`), by the address they had: a second import finds
 * them here and fetches nothing. A library image deleted here takes its row along, and is
 * fetched again by the next import that meets its address. Failures are not kept: the next
 * import tries them again.
 */
export const wordpressMedia = pgTable('wordpress_media', {
  /** the image's address on the old site, absolute, as the post referred to it */
  sourceUrl: text('source_url').primaryKey(),
  mediaId: integer('media_id')
    .notNull()
    .references(() => media.id, { onDelete: 'cascade' }),
  importedAt: timestamp('imported_at', { withTimezone: true }).notNull().defaultNow(),
});
