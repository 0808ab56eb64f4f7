import { index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { articles } from './articles.table.ts';

/** Draft preview tokens: only their SHA-256 is kept; deleting the article deletes them. */
export const previewTokens = pgTable(
  'preview_tokens',
  {
    tokenHash: text('token_hash').primaryKey(),
    articleId: integer('article_id')
      .notNull()
      .references(() => articles.id, { onDelete: 'cascade' }),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('preview_tokens_article_idx').on(t.articleId)],
);
