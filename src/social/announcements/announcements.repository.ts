// SQL for announcements. Every state change a worker makes is conditional on the
// row still being what it read (same wake-up job, same attempt), so a late or
// duplicate worker can never overwrite a newer outcome.
import { sql, type SQL } from 'drizzle-orm';
import { intArray, queryRows, readRows, type Db } from '../../db/client.ts';
import { NETWORKS, type AnnouncementStatus, type Network } from './announcements.table.ts';

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

export interface NetworkState {
  pausedReason: string | null;
  pausedAt: Date | null;
  pausedCredentials: string | null;
  holdUntil: Date | null;
  holdReason: string | null;
}

type Row = Record<string, unknown>;
const date = (v: unknown): Date | null => (v === null || v === undefined ? null : v instanceof Date ? v : new Date(String(v)));
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

const SELECT = sql`
  select an.id, an.article_id, a.slug as article_slug, a.title as article_title, a.status as article_status,
         a.excerpt as article_excerpt, a.published_at as article_published_at,
         an.network, an.text, an.weighted_length, an.remote_key, an.status, an.ambiguous, an.attempts, an.next_attempt_at,
         an.last_attempt_at, an.last_error, an.post_id, an.url, an.job_id, an.expires_at, an.posted_at,
         an.created_at, an.updated_at
  from announcements an left join articles a on a.id = an.article_id`;

function toWork(r: Row): AnnouncementWork {
  return {
    id: Number(r.id),
    articleId: r.article_id === null ? null : Number(r.article_id),
    articleSlug: str(r.article_slug),
    articleTitle: str(r.article_title),
    articleStatus: str(r.article_status),
    articleExcerpt: str(r.article_excerpt),
    articlePublishedAt: date(r.article_published_at),
    network: String(r.network) as Network,
    text: String(r.text),
    weightedLength: Number(r.weighted_length),
    remoteKey: str(r.remote_key),
    status: r.status as AnnouncementStatus,
    ambiguous: Boolean(r.ambiguous),
    attempts: Number(r.attempts),
    nextAttemptAt: date(r.next_attempt_at),
    lastAttemptAt: date(r.last_attempt_at),
    lastError: str(r.last_error),
    postId: str(r.post_id),
    url: str(r.url),
    jobId: r.job_id === null ? null : Number(r.job_id),
    expiresAt: date(r.expires_at)!,
    postedAt: date(r.posted_at),
    createdAt: date(r.created_at)!,
    updatedAt: date(r.updated_at)!,
  };
}

function toAnnouncement(r: Row): Announcement {
  const { jobId: _j, articleStatus: _s, articleExcerpt: _e, articlePublishedAt: _p, ...rest } = toWork(r);
  return rest;
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
  const rows = await queryRows<{ id: number }>(
    db,
    sql`insert into announcements (article_id, network, text, weighted_length, remote_key, status, last_error, expires_at, next_attempt_at)
        values (${a.articleId}, ${a.network}, ${a.text}, ${a.weightedLength}, ${a.remoteKey}, ${a.status}, ${a.lastError},
                ${a.expiresAt.toISOString()}::timestamptz, ${a.status === 'queued' ? sql`now()` : null})
        on conflict (article_id, network) do nothing
        returning id`,
  );
  return rows[0] ? Number(rows[0].id) : null;
}

/** Hands the row to a (new) wake-up job; any older job becomes a no-op. */
export async function assignJob(db: Db, id: number, jobId: number): Promise<void> {
  await db.execute(sql`update announcements set job_id = ${jobId}, updated_at = now() where id = ${id}`);
}

/** Cancels what has not been sent of an article that stopped being public. An attempt in flight is left to finish. */
export async function cancelPending(db: Db, articleId: number, reason: string): Promise<number> {
  const rows = await queryRows(
    db,
    sql`update announcements set status = 'cancelled', last_error = ${reason}, next_attempt_at = null, updated_at = now()
        where article_id = ${articleId} and status in ('queued', 'paused') returning id`,
  );
  return rows.length;
}

/** Back to the queue: rows cancelled by an unpublish, when the article is public again. */
export async function requeueCancelled(db: Db, articleId: number): Promise<{ id: number; network: Network }[]> {
  const rows = await queryRows<{ id: number; network: Network }>(
    db,
    sql`update announcements set status = 'queued', last_error = null, next_attempt_at = now(), updated_at = now()
        where article_id = ${articleId} and status = 'cancelled' returning id, network`,
  );
  return rows.map((r) => ({ id: Number(r.id), network: r.network }));
}

export async function findWork(db: Db, id: number): Promise<AnnouncementWork | null> {
  const rows = await queryRows(db, sql`${SELECT} where an.id = ${id}`);
  return rows[0] ? toWork(rows[0]) : null;
}

export async function findAnnouncement(db: Db, id: number): Promise<Announcement | null> {
  const rows = await queryRows(db, sql`${SELECT} where an.id = ${id}`);
  return rows[0] ? toAnnouncement(rows[0]) : null;
}

/**
 * Marks the row as being sent, for this job only. A row found already `sending`
 * was being sent when its worker died: that attempt may have reached the network,
 * so the row becomes ambiguous (the next attempt first makes sure it did not land).
 */
export async function claimForSending(db: Db, id: number, jobId: number): Promise<{ attempt: number; ambiguous: boolean } | null> {
  const rows = await queryRows<{ attempts: number; ambiguous: boolean }>(
    db,
    sql`update announcements
        set ambiguous = ambiguous or status = 'sending', status = 'sending', attempts = attempts + 1,
            last_attempt_at = now(), next_attempt_at = null, updated_at = now()
        where id = ${id} and job_id = ${jobId} and status in ('queued', 'paused', 'sending')
        returning attempts, ambiguous`,
  );
  return rows[0] ? { attempt: Number(rows[0].attempts), ambiguous: Boolean(rows[0].ambiguous) } : null;
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
    const [{ n }] = await queryRows<{ n: number }>(
      tx,
      sql`select count(*)::int as n from announcements
          where network = ${network} and id <> ${id}
            and ((status = 'posted' and posted_at >= date_trunc('month', now() at time zone 'UTC') at time zone 'UTC')
                 or status = 'sending')`,
    );
    if (Number(n) >= limit) return 'over';
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

function setOutcome(o: Outcome): SQL {
  return sql`status = ${o.status}, last_error = ${o.lastError},
             next_attempt_at = ${o.nextAttemptAt ? o.nextAttemptAt.toISOString() : null}::timestamptz,
             ambiguous = ambiguous or ${o.ambiguous ?? false}::boolean,
             post_id = coalesce(${o.postId ?? null}::text, post_id), url = coalesce(${o.url ?? null}::text, url),
             posted_at = ${o.status === 'posted' ? sql`now()` : sql`posted_at`}, updated_at = now()`;
}

/** Records the outcome of attempt `attempt`; false when the row has moved on without us. */
export async function recordAttempt(db: Db, id: number, attempt: number, o: Outcome): Promise<boolean> {
  const rows = await queryRows(
    db,
    sql`update announcements set ${setOutcome(o)} where id = ${id} and attempts = ${attempt} and status = 'sending' returning id`,
  );
  return rows.length > 0;
}

/** Changes a row no attempt is running for (cancel, expire, wait); false when it moved on. */
export async function settle(db: Db, id: number, jobId: number, o: Outcome): Promise<boolean> {
  const rows = await queryRows(
    db,
    sql`update announcements set ${setOutcome(o)}
        where id = ${id} and job_id = ${jobId} and status in ('queued', 'paused', 'sending') returning id`,
  );
  return rows.length > 0;
}

/** An editor's retry: back to the queue with a fresh deadline, keeping the text. */
export async function requeueForRetry(db: Db, id: number, expiresAt: Date): Promise<boolean> {
  const rows = await queryRows(
    db,
    sql`update announcements set status = 'queued', next_attempt_at = now(), expires_at = ${expiresAt.toISOString()}::timestamptz,
          updated_at = now()
        where id = ${id} and status in ('failed', 'paused', 'expired', 'cancelled', 'skipped') returning id`,
  );
  return rows.length > 0;
}

/** Paused rows of a network, to wake once sending works again. */
export async function pausedIds(db: Db, network: Network): Promise<number[]> {
  const rows = await queryRows<{ id: number }>(db, sql`select id from announcements where network = ${network} and status = 'paused' order by id`);
  return rows.map((r) => Number(r.id));
}

export async function markQueued(db: Db, ids: number[]): Promise<void> {
  if (!ids.length) return;
  await db.execute(
    sql`update announcements set status = 'queued', next_attempt_at = now(), updated_at = now()
        where id in (${sql.join(ids.map((id) => sql`${id}`), sql`, `)}) and status = 'paused'`,
  );
}

// --- per-network state ---------------------------------------------------------

export async function networkState(db: Db, network: Network): Promise<NetworkState> {
  const rows = await queryRows(db, sql`select * from announcement_networks where network = ${network}`);
  const r = rows[0];
  return {
    pausedReason: str(r?.paused_reason),
    pausedAt: date(r?.paused_at),
    pausedCredentials: str(r?.paused_credentials),
    holdUntil: date(r?.hold_until),
    holdReason: str(r?.hold_reason),
  };
}

export async function pauseNetwork(db: Db, network: Network, reason: string, credentials: string): Promise<void> {
  await db.execute(
    sql`insert into announcement_networks (network, paused_reason, paused_at, paused_credentials)
        values (${network}, ${reason}, now(), ${credentials})
        on conflict (network) do update set paused_reason = excluded.paused_reason, paused_at = excluded.paused_at,
          paused_credentials = excluded.paused_credentials, updated_at = now()`,
  );
}

/** Lifts the pause; with `credentials`, only if it is still the pause of those credentials. True when this call lifted it. */
export async function liftPause(db: Db, network: Network, credentials?: string): Promise<boolean> {
  const rows = await queryRows(
    db,
    sql`update announcement_networks set paused_reason = null, paused_at = null, paused_credentials = null, updated_at = now()
        where network = ${network} and paused_reason is not null
          ${credentials === undefined ? sql`` : sql`and paused_credentials = ${credentials}`}
        returning network`,
  );
  return rows.length > 0;
}

/** Nobody sends before `until`; a later hold already in place wins. */
export async function holdNetwork(db: Db, network: Network, until: Date, reason: string): Promise<void> {
  await db.execute(
    sql`insert into announcement_networks (network, hold_until, hold_reason)
        values (${network}, ${until.toISOString()}::timestamptz, ${reason})
        on conflict (network) do update set
          hold_reason = case when announcement_networks.hold_until is null or announcement_networks.hold_until < excluded.hold_until
                             then excluded.hold_reason else announcement_networks.hold_reason end,
          hold_until = greatest(announcement_networks.hold_until, excluded.hold_until), updated_at = now()`,
  );
}

/**
 * Spends `n` of the network's backfeed reads for this calendar month (UTC) if they fit
 * under `cap`; false, spending nothing, when they do not. One conditional upsert, so
 * processes sharing the database never spend the same last read twice; a new month
 * starts from zero.
 */
export async function spendBackfeedReads(db: Db, network: Network, n: number, cap: number): Promise<boolean> {
  if (n > cap) return false;
  const month = sql`to_char(now() at time zone 'UTC', 'YYYY-MM')`;
  const rows = await queryRows<{ backfeed_reads: number }>(
    db,
    sql`insert into announcement_networks (network, backfeed_month, backfeed_reads) values (${network}, ${month}, ${n})
        on conflict (network) do update set
          backfeed_reads = case when announcement_networks.backfeed_month = excluded.backfeed_month
                                then announcement_networks.backfeed_reads + ${n} else ${n} end,
          backfeed_month = excluded.backfeed_month, updated_at = now()
        where announcement_networks.backfeed_month is distinct from excluded.backfeed_month
           or announcement_networks.backfeed_reads + ${n} <= ${cap}
        returning backfeed_reads`,
  );
  return rows.length > 0;
}

// --- reads for editors and for the article API --------------------------------

// --- a network's stored session (Bluesky): shared by restarts and processes ---------

export async function loadSession(db: Db, network: Network): Promise<string | null> {
  const rows = await queryRows<{ session: string | null }>(db, sql`select session from announcement_networks where network = ${network}`);
  return rows[0]?.session ?? null;
}

export async function storeSession(db: Db, network: Network, session: string | null): Promise<void> {
  await db.execute(
    sql`insert into announcement_networks (network, session) values (${network}, ${session})
        on conflict (network) do update set session = excluded.session, updated_at = now()`,
  );
}

export interface ListQuery {
  status?: AnnouncementStatus;
  network?: Network;
  articleId?: number;
  limit: number;
  offset: number;
}

export async function listAnnouncements(db: Db, q: ListQuery): Promise<{ items: Announcement[]; total: number }> {
  const where = [sql`true`];
  if (q.status) where.push(sql`an.status = ${q.status}`);
  if (q.network) where.push(sql`an.network = ${q.network}`);
  if (q.articleId !== undefined) where.push(sql`an.article_id = ${q.articleId}`);
  const cond = sql.join(where, sql` and `);
  const rows = await queryRows(db, sql`${SELECT} where ${cond} order by an.created_at desc, an.id desc limit ${q.limit} offset ${q.offset}`);
  const [{ n }] = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from announcements an where ${cond}`);
  return { items: rows.map(toAnnouncement), total: Number(n) };
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
  const rows = await readRows<{ article_id: number; network: Network; status: AnnouncementStatus; url: string | null }>(
    db,
    sql`select article_id, network, status, url from announcements where article_id = any(${intArray(ids)})`,
  );
  rows.sort((a, b) => NETWORKS.indexOf(a.network) - NETWORKS.indexOf(b.network));
  for (const r of rows) {
    const id = Number(r.article_id);
    const entry = out.get(id) ?? { announcement: null, syndication: [] };
    if (r.network === 'x') entry.announcement = { status: r.status, url: r.url ?? null };
    if (r.status === 'posted' && r.url) entry.syndication.push({ network: r.network, url: r.url });
    out.set(id, entry);
  }
  return out;
}
