import { index, integer, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { articles } from '../../articles/articles.table.ts';

export const OUTGOING_PING_STATUSES = ['queued', 'sent', 'failed', 'unsupported'] as const;
/**
 * queued: waiting for its (next) attempt · sent: the other side accepted it (2xx, a pingback
 * success or fault 48 "already registered") · failed: refused, or retries ran out ·
 * unsupported: the target advertises neither Webmention nor pingback.
 */
export type OutgoingPingStatus = (typeof OUTGOING_PING_STATUSES)[number];
export type PingProtocol = 'webmention' | 'pingback';
/** linked: the article links to the target · unlinked: an update removed the link (Webmention lets the target drop us) */
export type PingReason = 'linked' | 'unlinked';

/**
 * The outbox of pings: one row per (article, external link), inserted in the publishing
 * transaction and re-queued when an update adds or removes the link.
 */
export const outgoingPings = pgTable(
  'outgoing_pings',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    articleId: integer('article_id')
      .notNull()
      .references(() => articles.id, { onDelete: 'cascade' }),
    /** our permalink, as of the last queueing */
    sourceUrl: text('source_url').notNull(),
    /** the link exactly as written in the article (receivers look for that string) */
    targetUrl: text('target_url').notNull(),
    reason: text('reason').$type<PingReason>().notNull().default('linked'),
    status: text('status').$type<OutgoingPingStatus>().notNull().default('queued'),
    /** what discovery found on the last attempt */
    protocol: text('protocol').$type<PingProtocol>(),
    endpoint: text('endpoint'),
    /** attempts since the last (re)queueing */
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    /** what the other side answered on success (status line, pingback message) */
    result: text('result'),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }),
    /** the job in charge of this row; an older job that still runs finds itself superseded and stops */
    jobId: integer('job_id'),
    sentAt: timestamp('sent_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('outgoing_pings_article_target_idx').on(t.articleId, t.targetUrl),
    index('outgoing_pings_status_idx').on(t.status, t.updatedAt.desc()),
  ],
);
