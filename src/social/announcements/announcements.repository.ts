// SQL for announcements. Every state change a worker makes is conditional on the
// row still being what it read (same wake-up job, same attempt), so a late or
// duplicate worker can never overwrite a newer outcome.
import { and, count, desc, eq, gte, inArray, ne, or, sql, type SQL } from 'drizzle-orm';
import { intArrayLiteral, prepared, type Db } from '../../db/client.ts';
import { articles } from '../../articles/articles.table.ts';
import { announcements, NETWORKS, PENDING_STATUSES, type AnnouncementStatus, type Network } from './announcements.table.ts';

export interface Announcement {
  id: number;
  articleId: number | null;
  articleSlug: string | null;
  articleTitle: string | null;
  network: Network;
  text: string;
  weightedLength: number;
  remoteKey: string | null;
  status: AnnouncementStatus;
  ambiguous: boolean;
  attempts: number;
  nextAttemptAt: Date | null;
  lastAttemptAt: Date | null;
  lastError: string | null;
  postId: string | null;
  url: string | null;
  expiresAt: Date;
  postedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** What a worker needs: the row, its wake-up job and whether the article is still public. */
export interface AnnouncementWork extends Announcement {
  jobId: number | null;
  articleStatus: string | null;
  articleExcerpt: string | null;
  articlePublishedAt: Date | null;
}

/** The columns of an announcement, with its article's slug and title (the article may be gone: left join). */
const ANNOUNCEMENT = {
  id: announcements.id,
  articleId: announcements.articleId,
  articleSlug: articles.slug,
  articleTitle: articles.title,
  network: announcements.network,
  text: announcements.text,
  weightedLength: announcements.weightedLength,
  remoteKey: announcements.remoteKey,
  status: announcements.status,
  ambiguous: announcements.ambiguous,
  attempts: announcements.attempts,
  nextAttemptAt: announcements.nextAttemptAt,
  lastAttemptAt: announcements.lastAttemptAt,
  lastError: announcements.lastError,
  postId: announcements.postId,
  url: announcements.url,
  expiresAt: announcements.expiresAt,
  postedAt: announcements.postedAt,
  createdAt: announcements.createdAt,
  updatedAt: announcements.updatedAt,
};

const WORK = {
  ...ANNOUNCEMENT,
  jobId: announcements.jobId,
  articleStatus: articles.status,
  articleExcerpt: articles.excerpt,
  articlePublishedAt: articles.publishedAt,
};

function select<T extends typeof ANNOUNCEMENT>(db: Db, columns: T) {
  return db.select(columns).from(announcements).leftJoin(articles, eq(articles.id, announcements.articleId));
}

export interface NewAnnouncement {
  articleId: number;
  network: Network;
  text: string;
  weightedLength: number;
  remoteKey: string | null;
  status: AnnouncementStatus;
  lastError: string | null;
  expiresAt: Date;
}

/** Inserts the article's announcement unless it has one: returns the new id, or null when one existed. */
export async function insertAnnouncement(db: Db, a: NewAnnouncement): Promise<number | null> {
  const [row] = await db
    .insert(announcements)
    .values({ ...a, nextAttemptAt: a.status === 'queued' ? sql`now()` : null })
    .onConflictDoNothing({ target: [announcements.articleId, announcements.network] })
    .returning({ id: announcements.id });
  return row?.id ?? null;
}

/** Hands the row to a (new) wake-up job; any older job becomes a no-op. */
export async function assignJob(db: Db, id: number, jobId: number): Promise<void> {
  await db.execute(sql`update announcements set job_id = ${jobId}, updated_at = now() where id = ${id}`);
}

/** Cancels what has not been sent of an article that stopped being public. An attempt in flight is left to finish. */
export async function cancelPending(db: Db, articleId: number, reason: string): Promise<number> {
  const rows = await db
    .update(announcements)
    .set({ status: 'cancelled', lastError: reason, nextAttemptAt: null, updatedAt: sql`now()` })
    .where(and(eq(announcements.articleId, articleId), inArray(announcements.status, ['queued', 'paused'])))
    .returning({ id: announcements.id });
  return rows.length;
}

/** Back to the queue: rows cancelled by an unpublish, when the article is public again. */
export async function requeueCancelled(db: Db, articleId: number): Promise<{ id: number; network: Network }[]> {
  return db
    .update(announcements)
    .set({ status: 'queued', lastError: null, nextAttemptAt: sql`now()`, updatedAt: sql`now()` })
    .where(and(eq(announcements.articleId, articleId), eq(announcements.status, 'cancelled')))
    .returning({ id: announcements.id, network: announcements.network });
}

export async function findWork(db: Db, id: number): Promise<AnnouncementWork | null> {
  const [row] = await select(db, WORK).where(eq(announcements.id, id));
  return row ?? null;
}

export async function findAnnouncement(db: Db, id: number): Promise<Announcement | null> {
  const [row] = await select(db, ANNOUNCEMENT).where(eq(announcements.id, id));
  return row ?? null;
}

/**
 * Marks the row as being sent, for this job only. A row found already `sending`
 * was being sent when its worker died: that attempt may have reached the network,
 * so the row becomes ambiguous (the next attempt first makes sure it did not land).
 */
export async function claimForSending(db: Db, id: number, jobId: number): Promise<{ attempt: number; ambiguous: boolean } | null> {
  const [row] = await db
    .update(announcements)
    .set({
      ambiguous: sql`${announcements.ambiguous} or ${announcements.status} = 'sending'`,
      status: 'sending',
      attempts: sql`${announcements.attempts} + 1`,
      lastAttemptAt: sql`now()`,
      nextAttemptAt: null,
      updatedAt: sql`now()`,
    })
    .where(and(eq(announcements.id, id), eq(announcements.jobId, jobId), inArray(announcements.status, PENDING_STATUSES)))
    .returning({ attempt: announcements.attempts, ambiguous: announcements.ambiguous });
  return row ?? null;
}

/**
 * claimForSending, unless the network's posts this calendar month (UTC; posted or in
 * flight) reached `limit`. Counted and claimed under a lock on the network's row, so
 * two processes cannot both take the last post of the month.
 */
export async function claimWithinMonthlyLimit(
  db: Db,
  id: number,
  jobId: number,
  network: Network,
  limit: number,
): Promise<{ attempt: number; ambiguous: boolean } | null | 'over'> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`insert into announcement_networks (network) values (${network}) on conflict (network) do nothing`);
    await tx.execute(sql`select network from announcement_networks where network = ${network} for update`);
    const monthStart = sql`date_trunc('month', now() at time zone 'UTC') at time zone 'UTC'`;
    const [{ n }] = await tx
      .select({ n: count() })
      .from(announcements)
      .where(
        and(
          eq(announcements.network, network),
          ne(announcements.id, id),
          or(and(eq(announcements.status, 'posted'), gte(announcements.postedAt, monthStart)), eq(announcements.status, 'sending')),
        ),
      );
    if (n >= limit) return 'over';
    return claimForSending(tx, id, jobId);
  });
}

export interface Outcome {
  status: AnnouncementStatus;
  lastError: string | null;
  nextAttemptAt?: Date | null;
  /** sticky: once ambiguous, always ambiguous */
  ambiguous?: boolean;
  postId?: string | null;
  url?: string | null;
}

/** Updates the row `where` still holds for; false when it moved on. */
async function updateIf(db: Db, where: SQL | undefined, o: Outcome): Promise<boolean> {
  const rows = await db
    .update(announcements)
    .set({
      status: o.status,
      lastError: o.lastError,
      nextAttemptAt: o.nextAttemptAt ?? null,
      ambiguous: sql`${announcements.ambiguous} or ${o.ambiguous ?? false}::boolean`,
      postId: sql`coalesce(${o.postId ?? null}::text, ${announcements.postId})`,
      url: sql`coalesce(${o.url ?? null}::text, ${announcements.url})`,
      postedAt: o.status === 'posted' ? sql`now()` : sql`${announcements.postedAt}`,
      updatedAt: sql`now()`,
    })
    .where(where)
    .returning({ id: announcements.id });
  return rows.length > 0;
}

/** Records the outcome of attempt `attempt`; false when the row has moved on without us. */
export async function recordAttempt(db: Db, id: number, attempt: number, o: Outcome): Promise<boolean> {
  return updateIf(db, and(eq(announcements.id, id), eq(announcements.attempts, attempt), eq(announcements.status, 'sending')), o);
}

/** Changes a row no attempt is running for (cancel, expire, wait); false when it moved on. */
export async function settle(db: Db, id: number, jobId: number, o: Outcome): Promise<boolean> {
  return updateIf(db, and(eq(announcements.id, id), eq(announcements.jobId, jobId), inArray(announcements.status, PENDING_STATUSES)), o);
}

/** An editor's retry: back to the queue with a fresh deadline, keeping the text. */
export async function requeueForRetry(db: Db, id: number, expiresAt: Date): Promise<boolean> {
  const rows = await db
    .update(announcements)
    .set({ status: 'queued', nextAttemptAt: sql`now()`, expiresAt, updatedAt: sql`now()` })
    .where(and(eq(announcements.id, id), inArray(announcements.status, ['failed', 'paused', 'expired', 'cancelled', 'skipped'])))
    .returning({ id: announcements.id });
  return rows.length > 0;
}

/** Paused rows of a network, to wake once sending works again. */
export async function pausedIds(db: Db, network: Network): Promise<number[]> {
  const rows = await db
    .select({ id: announcements.id })
    .from(announcements)
    .where(and(eq(announcements.network, network), eq(announcements.status, 'paused')))
    .orderBy(announcements.id);
  return rows.map((r) => r.id);
}

export async function markQueued(db: Db, ids: number[]): Promise<void> {
  if (!ids.length) return;
  await db.execute(
    sql`update announcements set status = 'queued', next_attempt_at = now(), updated_at = now()
        where id in (${sql.join(ids.map((id) => sql`${id}`), sql`, `)}) and status = 'paused'`,
  );
}

// --- reads for editors and for the article API --------------------------------

export interface ListQuery {
  status?: AnnouncementStatus;
  network?: Network;
  articleId?: number;
  limit: number;
  offset: number;
}

export async function listAnnouncements(db: Db, q: ListQuery): Promise<{ items: Announcement[]; total: number }> {
  const cond = and(
    q.status ? eq(announcements.status, q.status) : undefined,
    q.network ? eq(announcements.network, q.network) : undefined,
    q.articleId !== undefined ? eq(announcements.articleId, q.articleId) : undefined,
  );
  const items = await select(db, ANNOUNCEMENT)
    .where(cond)
    .orderBy(desc(announcements.createdAt), desc(announcements.id))
    .limit(q.limit)
    .offset(q.offset);
  const [{ n }] = await db.select({ n: count() }).from(announcements).where(cond);
  return { items, total: n };
}

export interface AnnouncementSummary {
  status: AnnouncementStatus;
  /** the post on X, once known */
  url: string | null;
}

export interface Syndication {
  network: Network;
  /** the post's public page */
  url: string;
}

export interface ArticleAnnouncements {
  /** the announcement on X (the article's `announcement` field, kept as it was); null when none */
  announcement: AnnouncementSummary | null;
  /** every posted announcement with a known page, Mastodon · Bluesky · X */
  syndication: Syndication[];
}

/**
 * The announcements of each article, for article responses: one query for a whole
 * page of articles. Articles without any announcement are absent from the map.
 */
export async function announcementsFor(db: Db, articleIds: number[]): Promise<Map<number, ArticleAnnouncements>> {
  const out = new Map<number, ArticleAnnouncements>();
  const ids = [...new Set(articleIds)].filter((id) => Number.isInteger(id));
  if (!ids.length) return out;
  // a hot public read (every page of articles): one prepared statement whatever the number of ids
  const statement = prepared(db, 'announcements-for', (d) =>
    d
      .select({ articleId: announcements.articleId, network: announcements.network, status: announcements.status, url: announcements.url })
      .from(announcements)
      .where(sql`${announcements.articleId} = any(${sql.placeholder('ids')}::bigint[])`)
      .prepare('announcements_for'),
  );
  const rows = await statement.execute({ ids: intArrayLiteral(ids) });
  rows.sort((a, b) => NETWORKS.indexOf(a.network) - NETWORKS.indexOf(b.network));
  for (const r of rows) {
    const id = r.articleId;
    if (id === null) continue;
    const entry = out.get(id) ?? { announcement: null, syndication: [] };
    if (r.network === 'x') entry.announcement = { status: r.status, url: r.url };
    if (r.status === 'posted' && r.url) entry.syndication.push({ network: r.network, url: r.url });
    out.set(id, entry);
  }
  return out;
}
