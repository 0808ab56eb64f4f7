import { index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { articles } from '../../articles/articles.table.ts';
import { responses } from '../../comments/responses.table.ts';

export const WEBMENTION_STATUSES = ['queued', 'accepted', 'rejected', 'removed'] as const;
/**
 * queued: verification pending · accepted: the source links to the target; the mention is
 * stored (and moderated like any response) · rejected: verification failed (`detail` says why) ·
 * removed: the source is gone (410) or no longer links, so an earlier mention was deleted.
 */
export type WebmentionStatus = (typeof WEBMENTION_STATUSES)[number];

/**
 * One row per received Webmention request: the status resource `/webmention/{id}`.
 * The mention itself lives in `responses` (type 'webmention'), one per source and article.
 */
export const webmentionRequests = pgTable(
  'webmention_requests',
  {
    /** random and opaque, so status URLs cannot be enumerated */
    id: text('id').primaryKey(),
    source: text('source').notNull(),
    target: text('target').notNull(),
    articleId: integer('article_id')
      .notNull()
      .references(() => articles.id, { onDelete: 'cascade' }),
    status: text('status').$type<WebmentionStatus>().notNull().default('queued'),
    detail: text('detail'),
    responseId: integer('response_id').references(() => responses.id, { onDelete: 'set null' }),
    /** never public */
    ip: text('ip'),
    userAgent: text('user_agent'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('webmention_requests_article_idx').on(t.articleId, t.createdAt.desc())],
);
