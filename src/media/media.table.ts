import { index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

export const MEDIA_FORMATS = ['jpeg', 'png', 'webp', 'avif', 'gif'] as const;
export type MediaFormat = (typeof MEDIA_FORMATS)[number];

/** One stored rendition: `/media/{hash}/{width}.{format}` */
export interface StoredVariant {
  width: number;
  height: number;
  format: MediaFormat;
  bytes: number;
}

/** The media library: one row per distinct image; its files live in the store under `{hash}/`. */
export const media = pgTable(
  'media',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    /** content address: a hash of the uploaded bytes (and the pipeline's version) */
    hash: text('hash').notNull().unique(),
    /** the original's format, kept for its full-size copy and one set of variants */
    format: text('format').$type<MediaFormat>().notNull(),
    /** of the full-size copy, upright (EXIF orientation applied) */
    width: integer('width').notNull(),
    height: integer('height').notNull(),
    /** bytes of the full-size copy (metadata stripped) */
    bytes: integer('bytes').notNull(),
    alt: text('alt').notNull().default(''),
    variants: jsonb('variants').$type<StoredVariant[]>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('media_created_idx').on(t.createdAt.desc(), t.id.desc())],
);
