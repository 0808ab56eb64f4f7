import { sql, type Placeholder } from 'drizzle-orm';
import { type AnyPgColumn, index, integer, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { articles } from '../articles/articles.table.ts';

export const RESPONSE_TYPES = ['comment', 'pingback', 'webmention', 'social'] as const;
export type ResponseType = (typeof RESPONSE_TYPES)[number];
export const RESPONSE_STATUSES = ['pending', 'approved', 'spam', 'trash'] as const;
export type ResponseStatus = (typeof RESPONSE_STATUSES)[number];
/** what a social response is (§13): the microformats2 response properties, else a mention */
export const SOCIAL_KINDS = ['reply', 'like', 'repost', 'bookmark', 'mention'] as const;
export type SocialKind = (typeof SOCIAL_KINDS)[number];
/** where it happened; `web` for a webmention whose source has microformats */
export const SOCIAL_NETWORKS = ['mastodon', 'bluesky', 'x', 'web'] as const;
export type SocialNetwork = (typeof SOCIAL_NETWORKS)[number];

/**
 * The host of a mention's source page ("example.com:8080"), lower-cased: what the
 * "first-time" policy keys on. Written once here so the query and its index match; applied
 * to a new mention's URL as well, so both sides of the comparison are the same expression.
 */
export const sourceHostOf = (sourceUrl: AnyPgColumn | Placeholder | string) => sql`lower(split_part(split_part(${sourceUrl}, '://', 2), '/', 1))`;

/** The whole conversation of an article: reader comments, pingbacks and webmentions. */
export const responses = pgTable(
  'responses',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    articleId: integer('article_id')
      .notNull()
      .references(() => articles.id, { onDelete: 'cascade' }),
    type: text('type').$type<ResponseType>().notNull(),
    status: text('status').$type<ResponseStatus>().notNull().default('pending'),
    parentId: integer('parent_id').references((): AnyPgColumn => responses.id, { onDelete: 'set null' }),
    /** 0 for top level, parent's depth + 1 below */
    depth: integer('depth').notNull().default(0),
    authorName: text('author_name').notNull(),
    /** comments only; never public */
    authorEmail: text('author_email'),
    authorUrl: text('author_url'),
    /** sanitised HTML, safe to render as is */
    html: text('html').notNull(),
    /** pingbacks and webmentions: the page that links to us */
    sourceUrl: text('source_url'),
    /** pingbacks and webmentions: our URL it links to */
    targetUrl: text('target_url'),
    /** social responses: where it happened (mastodon, bluesky, x; web for a webmention with microformats) */
    network: text('network').$type<SocialNetwork>(),
    /** social responses: reply, like, repost, bookmark, mention */
    kind: text('kind').$type<SocialKind>(),
    /** social responses: the author's picture (an h-card photo, a network avatar) */
    authorPhoto: text('author_photo'),
    /** social responses: the original post's public address */
    originalUrl: text('original_url'),
    /**
     * social responses: one per original. A reply or mention is keyed by its post's URL, a
     * like or repost by kind and the author's profile URL, so a like seen by polling and again
     * through a Bridgy webmention is one response.
     */
    socialKey: text('social_key'),
    /** never public */
    ip: text('ip'),
    userAgent: text('user_agent'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('responses_public_idx').on(t.articleId, t.createdAt, t.id).where(sql`${t.status} = 'approved'`),
    /** every response of an article whatever its status: the duplicate-comment check, and ON DELETE CASCADE from articles */
    index('responses_article_idx').on(t.articleId, t.authorEmail),
    index('responses_admin_idx').on(t.status, t.createdAt.desc()),
    index('responses_email_idx').on(t.authorEmail).where(sql`${t.status} = 'approved'`),
    index('responses_ip_idx').on(t.ip, t.createdAt.desc()),
    /** "first-time" for mentions: has this host an approved mention already? */
    index('responses_source_host_idx')
      .using('btree', sourceHostOf(t.sourceUrl))
      .where(sql`${t.status} = 'approved' AND ${t.sourceUrl} IS NOT NULL`),
    /** one mention per source page per article, whichever protocol brought it */
    uniqueIndex('responses_source_idx').on(t.articleId, t.sourceUrl).where(sql`${t.sourceUrl} IS NOT NULL`),
    /** one social response per original (see socialKey) */
    uniqueIndex('responses_social_key_idx').on(t.articleId, t.socialKey).where(sql`${t.socialKey} IS NOT NULL`),
  ],
);
