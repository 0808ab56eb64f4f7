import { sql } from 'drizzle-orm';
import { boolean, index, integer, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { articles } from '../../articles/articles.table.ts';

export const ANNOUNCEMENT_STATUSES = ['queued', 'sending', 'posted', 'failed', 'paused', 'cancelled', 'expired', 'skipped'] as const;
export type AnnouncementStatus = (typeof ANNOUNCEMENT_STATUSES)[number];

/** The networks Inkwell announces on, in the order readers see them ("Also on Mastodon · Bluesky · X"). */
export const NETWORKS = ['mastodon', 'bluesky', 'x'] as const;
export type Network = (typeof NETWORKS)[number];

/** Statuses a worker may still act on; every other status is final until an editor retries. */
export const PENDING_STATUSES: readonly AnnouncementStatus[] = ['queued', 'sending', 'paused'];

/**
 * The outbox of announcements: one row per (article, network), inserted in the
 * transaction that first publishes the article. The text is rendered once, here, and
 * never again; so is `remoteKey`, the network's handle on "this very post" (Mastodon's
 * Idempotency-Key, Bluesky's record key). X has no such key: resending the identical
 * text after an unanswered attempt is what lets X's duplicate check stop a second post.
 */
export const announcements = pgTable(
  'announcements',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    /** null once the article is deleted: the row stays, so a posted tweet is not forgotten */
    articleId: integer('article_id').references(() => articles.id, { onDelete: 'set null' }),
    network: text('network').$type<Network>().notNull().default('x'),
    text: text('text').notNull(),
    /** as the network counts it: X weighted (URLs 23, CJK and emoji 2), Mastodon characters (URLs 23), Bluesky graphemes */
    weightedLength: integer('weighted_length').notNull(),
    /** fixed when queued, sent with every attempt: Mastodon's Idempotency-Key, Bluesky's record key (a TID); null on X */
    remoteKey: text('remote_key'),
    status: text('status').$type<AnnouncementStatus>().notNull(),
    /** true once an attempt may have reached the network without us hearing the answer (timeout, reset, 5xx, crash) */
    ambiguous: boolean('ambiguous').notNull().default(false),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }),
    lastAttemptAt: timestamp('last_attempt_at', { withTimezone: true }),
    /** why it is not posted (yet), for the editor; also the note when posted without a known id */
    lastError: text('last_error'),
    /** the post's id on its network (a string: X ids exceed 2^53; Bluesky: the at:// URI) */
    postId: text('post_id'),
    /** the post's public web page: the syndication link */
    url: text('url'),
    /** the wake-up job in charge of this row; an older job that runs finds it superseded and stops */
    jobId: integer('job_id'),
    /** not sent by then → expired: stale news is worse than none */
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    postedAt: timestamp('posted_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    /** at most one announcement per article and network, whoever (and however often) publishes it */
    uniqueIndex('announcements_article_network_idx').on(t.articleId, t.network),
    index('announcements_status_idx').on(t.status, t.createdAt.desc()),
    index('announcements_pending_idx').on(t.network, t.status).where(sql`${t.status} IN ('queued','sending','paused')`),
  ],
);

/**
 * Per-network sending state shared by every process: paused after a network refused
 * the credentials (until they change or an editor retries), held until a rate-limit
 * reset, so queued rows wait without each spending a request to learn it, and the
 * network's login session (Bluesky), so restarts and other processes reuse it.
 */
export const announcementNetworks = pgTable('announcement_networks', {
  network: text('network').primaryKey(),
  pausedReason: text('paused_reason'),
  pausedAt: timestamp('paused_at', { withTimezone: true }),
  /** fingerprint of the credentials the network refused; other credentials lift the pause */
  pausedCredentials: text('paused_credentials'),
  holdUntil: timestamp('hold_until', { withTimezone: true }),
  holdReason: text('hold_reason'),
  /** JSON of the network's session (Bluesky: access and refresh JWTs, did, handle); never a password */
  session: text('session'),
  /** the calendar month (UTC, "2026-12") `backfeedReads` counts in */
  backfeedMonth: text('backfeed_month'),
  /** reads the backfeed spent on this network in `backfeedMonth` (X: capped by X_BACKFEED_MONTHLY_READS) */
  backfeedReads: integer('backfeed_reads').notNull().default(0),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
