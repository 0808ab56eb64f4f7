import { index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { articles } from '../articles/articles.table.ts';

/**
 * Old addresses of articles (a WordPress permalink, `/?p=123`): the reference frontend
 * answers them with 301 to the article's permalink, and GET /v1/redirects tells other
 * frontends. `path` is normalised by `redirectKey` (redirect-path.ts).
 */
export const redirects = pgTable(
  'redirects',
  {
    path: text('path').primaryKey(),
    articleId: integer('article_id')
      .notNull()
      .references(() => articles.id, { onDelete: 'cascade' }),
    /** where the address came from, e.g. `wordpress:example.com` */
    origin: text('origin').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('redirects_article_idx').on(t.articleId)],
);
