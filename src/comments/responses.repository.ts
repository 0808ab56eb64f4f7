// SQL for the conversation of articles.
import { and, count, desc, eq, inArray, isNull, notInArray, sql, type SQL } from 'drizzle-orm';
import { prepared, type Db } from '../db/client.ts';
import type { ModerationPolicy } from '../config.ts';
import { statusFor } from './moderation.ts';
import { articles } from '../articles/articles.table.ts';
import { responses, type ResponseStatus, type ResponseType, type SocialKind, type SocialNetwork } from './responses.table.ts';

export type ResponseRow = typeof responses.$inferSelect;
export type ResponseInsert = typeof responses.$inferInsert;
/** a new response; its status may be an SQL expression the INSERT evaluates (the moderation verdict) */
export type NewResponse = Omit<ResponseInsert, 'status'> & { status: ResponseStatus | SQL };

export async function insertResponse(db: Db, values: NewResponse): Promise<ResponseRow> {
  const [row] = await db.insert(responses).values(values).returning();
  return row;
}

/** What a new mention carries; its status is the policy's verdict, computed by the INSERT. */
export interface NewMention {
  articleId: number;
  type: 'pingback' | 'webmention';
  sourceUrl: string;
  targetUrl: string;
  authorName: string;
  authorUrl: string | null;
  html: string;
  ip: string | null;
  userAgent: string | null;
}

/**
 * Stores a mention unless this source already has one on this article (then null): one
 * statement, no race. Prepared once per policy: it is the write every pingback makes.
 */
export async function insertMention(db: Db, policy: ModerationPolicy, values: NewMention): Promise<ResponseRow | null> {
  const statement = prepared(db, `insert-mention:${policy}`, (d) => {
    const p = <K extends keyof NewMention>(name: K) => sql.placeholder(name);
    return d
      .insert(responses)
      .values({
        articleId: p('articleId'),
        type: p('type'),
        status: statusFor(policy, { sourceUrl: p('sourceUrl'), linkCount: 0 }),
        sourceUrl: p('sourceUrl'),
        targetUrl: p('targetUrl'),
        authorName: p('authorName'),
        authorUrl: p('authorUrl'),
        authorEmail: null,
        html: p('html'),
        ip: p('ip'),
        userAgent: p('userAgent'),
      })
      .onConflictDoNothing({ target: [responses.articleId, responses.sourceUrl], where: sql`${responses.sourceUrl} IS NOT NULL` })
      .returning()
      .prepare(`insert_mention_${policy.replace('-', '_')}`);
  });
  const [row] = await statement.execute({ ...values });
  return row ?? null;
}

/** The mention (pingback, webmention, or the social response it became) from this source on this article, if any. */
export async function findMention(db: Db, articleId: number, sourceUrl: string): Promise<{ id: number } | null> {
  const [row] = await db
    .select({ id: responses.id })
    .from(responses)
    .where(and(eq(responses.articleId, articleId), eq(responses.sourceUrl, sourceUrl)))
    .limit(1);
  return row ?? null;
}

/** A mention's source said something new: its title, link and excerpt. */
export async function refreshMention(db: Db, id: number, v: { authorName: string; authorUrl: string | null; html: string; targetUrl: string }): Promise<ResponseRow> {
  const [row] = await db
    .update(responses)
    .set({ ...v, updatedAt: sql`now()` })
    .where(eq(responses.id, id))
    .returning();
  return row;
}

/** Deletes the responses from `sourceUrl` on an article; returns them. */
export async function deleteMentions(db: Db, articleId: number, sourceUrl: string): Promise<ResponseRow[]> {
  return db
    .delete(responses)
    .where(and(eq(responses.articleId, articleId), eq(responses.sourceUrl, sourceUrl)))
    .returning();
}

export async function findResponse(db: Db, id: number): Promise<ResponseRow | null> {
  const [row] = await db.select().from(responses).where(eq(responses.id, id)).limit(1);
  return row ?? null;
}

/** Approved responses of an article, oldest first (the order a thread is read in). */
export async function listApproved(db: Db, articleId: number, opts: { type?: ResponseType; kind?: SocialKind; limit: number; offset: number }) {
  const where = and(
    eq(responses.articleId, articleId),
    eq(responses.status, 'approved'),
    opts.type ? eq(responses.type, opts.type) : undefined,
    opts.kind ? eq(responses.kind, opts.kind) : undefined,
  );
  const [rows, [{ n }]] = await Promise.all([
    db.select().from(responses).where(where).orderBy(responses.createdAt, responses.id).limit(opts.limit).offset(opts.offset),
    db.select({ n: count() }).from(responses).where(where),
  ]);
  return { rows, total: Number(n) };
}

export interface AdminFilter {
  status?: ResponseStatus;
  type?: ResponseType;
  articleId?: number;
}

export async function listForAdmin(db: Db, f: AdminFilter, page: { limit: number; offset: number }) {
  const parts: (SQL | undefined)[] = [
    f.status ? eq(responses.status, f.status) : undefined,
    f.type ? eq(responses.type, f.type) : undefined,
    f.articleId ? eq(responses.articleId, f.articleId) : undefined,
  ];
  const where = and(...parts);
  const [rows, [{ n }]] = await Promise.all([
    db
      .select({ response: responses, articleSlug: articles.slug, articleTitle: articles.title })
      .from(responses)
      .innerJoin(articles, eq(articles.id, responses.articleId))
      .where(where)
      .orderBy(desc(responses.createdAt), desc(responses.id))
      .limit(page.limit)
      .offset(page.offset),
    db.select({ n: count() }).from(responses).where(where),
  ]);
  return { rows, total: Number(n) };
}

export async function setStatus(db: Db, id: number, status: ResponseStatus): Promise<ResponseRow | null> {
  const [row] = await db.update(responses).set({ status, updatedAt: sql`now()` }).where(eq(responses.id, id)).returning();
  return row ?? null;
}

export async function deleteResponse(db: Db, id: number): Promise<ResponseRow | null> {
  const [row] = await db.delete(responses).where(eq(responses.id, id)).returning();
  return row ?? null;
}

/** The same person saying the same thing on the same article: a double submit or a bot. */
export async function isDuplicate(db: Db, articleId: number, email: string, html: string): Promise<boolean> {
  const rows = await db
    .select({ id: responses.id })
    .from(responses)
    .where(and(eq(responses.articleId, articleId), eq(responses.type, 'comment'), eq(responses.authorEmail, email), eq(responses.html, html)))
    .limit(1);
  return rows.length > 0;
}

export async function findForAdmin(db: Db, id: number) {
  const [row] = await db
    .select({ response: responses, articleSlug: articles.slug, articleTitle: articles.title })
    .from(responses)
    .innerJoin(articles, eq(articles.id, responses.articleId))
    .where(eq(responses.id, id))
    .limit(1);
  return row ?? null;
}

/**
 * A social response, one per original (article, socialKey). A repeat refreshes what the
 * original says now and keeps its status; a webmention's earlier plain mention from the
 * same source page is turned into this response rather than duplicated.
 */
export async function upsertSocial(db: Db, values: NewResponse & { socialKey: string }): Promise<ResponseRow> {
  const refresh = {
    type: values.type,
    network: values.network,
    kind: values.kind,
    socialKey: values.socialKey,
    authorName: values.authorName,
    authorUrl: values.authorUrl,
    authorPhoto: values.authorPhoto,
    originalUrl: values.originalUrl,
    html: values.html,
    updatedAt: sql`now()`,
  };
  if (values.sourceUrl) {
    const [bySource] = await db
      .update(responses)
      .set({ ...refresh, targetUrl: values.targetUrl })
      .where(and(eq(responses.articleId, values.articleId), eq(responses.sourceUrl, values.sourceUrl)))
      .returning();
    if (bySource) return bySource;
  }
  const [row] = await db
    .insert(responses)
    .values(values)
    .onConflictDoUpdate({
      target: [responses.articleId, responses.socialKey],
      targetWhere: sql`${responses.socialKey} IS NOT NULL`,
      set: { ...refresh, sourceUrl: sql`coalesce(excluded.source_url, ${responses.sourceUrl})`, targetUrl: sql`coalesce(excluded.target_url, ${responses.targetUrl})` },
    })
    .returning();
  return row;
}

/** Social responses of one network on an article whose keys are not in `seen`: withdrawn likes, deleted replies. */
export async function deleteSocialExcept(db: Db, articleId: number, network: SocialNetwork, kinds: SocialKind[], seen: string[]): Promise<ResponseRow[]> {
  return db
    .delete(responses)
    .where(
      and(
        eq(responses.articleId, articleId),
        eq(responses.type, 'social'),
        eq(responses.network, network),
        inArray(responses.kind, kinds),
        isNull(responses.sourceUrl),
        seen.length ? notInArray(responses.socialKey, seen) : undefined,
      ),
    )
    .returning();
}
