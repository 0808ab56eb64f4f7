// Polling our own posts (§13): one `backfeed.poll` job per announcement posted on Mastodon,
// Bluesky or (with X_BACKFEED=on) X. Each run asks the network for the post's replies, likes
// and reposts (and, on Bluesky, posts by others linking the article; on X, quotes), stores them as social responses,
// removes what was withdrawn (only after a poll in which every call succeeded), and
// reschedules itself on the schedule of schedule.ts until the post is a month old.
// A network answering garbage or an error: what is stored stays, the next poll comes
// at its usual time; a 429 waits for the network's reset.
import { and, eq, gt, inArray, isNotNull, sql } from 'drizzle-orm';
import type { Config } from '../../config.ts';
import type { Db } from '../../db/client.ts';
import { enqueue, RescheduleJob, type Job, type JobRunner, type Logger } from '../../jobs/kernel.ts';
import { permalinkFor } from '../../articles/permalink.ts';
import type { ResponsesService } from '../../comments/responses.service.ts';
import { socialKeyOf } from '../../comments/responses.service.ts';
import type { SocialKind, SocialNetwork } from '../../comments/responses.table.ts';
import { findWork } from '../announcements/announcements.repository.ts';
import { announcements, type Network } from '../announcements/announcements.table.ts';
import type { Failure } from '../announcements/network.ts';
import { nextPollAt } from './schedule.ts';

export const BACKFEED_JOB = 'backfeed.poll';
const MONTH_MS = 30 * 24 * 3_600_000;

/** One reaction to our post, as a network reports it. */
export interface Reaction {
  kind: SocialKind;
  author: { name: string; url: string | null; photo: string | null };
  text: string;
  published: Date | null;
  /** the reply's or mention's public page (likes and reposts: the post they are about) */
  url: string | null;
  /** a reply to a reply: the parent's public page (replies come parents first) */
  parentUrl?: string | null;
}

/** What a poll needs to know about the post. */
export interface PolledPost {
  postId: string;
  url: string | null;
  articleUrl: string;
  postedAt: Date;
}

/** A poll's reactions, and the kinds the network showed in full (only those can have been withdrawn: a list cut after a few pages proves nothing of who is missing). */
export interface Collected {
  reactions: Reaction[];
  complete: SocialKind[];
}

export interface Poller {
  network: SocialNetwork & Network;
  configured: boolean;
  /** every reaction; throws when any call failed */
  collect(post: PolledPost, signal: AbortSignal): Promise<Collected>;
  classify(err: unknown, now?: number): Failure;
}

export interface BackfeedDeps {
  db: Db;
  config: Pick<Config, 'siteUrl' | 'permalink'>;
  log: Logger;
  responses: Pick<ResponsesService, 'storeSocial' | 'removeSocialExcept'>;
  pollers: Poller[];
  /** one poll's time limit */
  deadlineMs?: number;
}

/** Queues the polls of a posted announcement (idempotent while one is queued). */
export async function enqueueBackfeed(db: Db, announcementId: number, postedAt: Date): Promise<void> {
  await enqueue(db, {
    kind: BACKFEED_JOB,
    key: `announcement:${announcementId}`,
    payload: { announcementId },
    runAt: nextPollAt(postedAt, postedAt) ?? new Date(),
  });
}


export function backfeedHandler(deps: BackfeedDeps): (job: Job) => Promise<void> {
  const { db, config, log, responses } = deps;
  const pollers = new Map(deps.pollers.map((p) => [p.network, p]));
  return async function poll(job: Job): Promise<void> {
    const id = Number(job.payload.announcementId);
    const a = await findWork(db, id);
    if (!a || a.status !== 'posted' || !a.postId || a.articleId === null || a.articleStatus !== 'published') return;
    const poller = pollers.get(a.network);
    if (!poller?.configured) return;
    const postedAt = a.postedAt ?? a.createdAt;
    const now = new Date();
    if (now.getTime() - postedAt.getTime() >= MONTH_MS) return;
    const next = () => nextPollAt(postedAt, new Date());
    const articleId = a.articleId;
    const articleUrl = permalinkFor(config, { id: articleId, slug: a.articleSlug ?? '', publishedAt: a.articlePublishedAt });

    let collected: Collected;
    try {
      collected = await poller.collect({ postId: a.postId, url: a.url, articleUrl, postedAt }, AbortSignal.timeout(deps.deadlineMs ?? 50_000));
    } catch (err) {
      const failure = poller.classify(err);
      if (failure.kind === 'rate-limited') {
        log.warn({ announcementId: id, network: a.network, reason: failure.reason }, 'backfeed: rate limited, polling again at the reset');
        throw new RescheduleJob(new Date(failure.until), failure.reason);
      }
      log.warn({ announcementId: id, network: a.network, failure }, 'backfeed: the poll failed; what is stored stays');
      const at = next();
      if (!at) return;
      throw new RescheduleJob(at, failure.reason);
    }

    const seen: string[] = [];
    const ids = new Map<string, number>();
    for (const r of collected.reactions) {
      const parentId = r.parentUrl ? (ids.get(r.parentUrl) ?? null) : null;
      const input = { articleId, network: poller.network, kind: r.kind, author: r.author, text: r.text, published: r.published, originalUrl: r.url, parentId };
      const key = socialKeyOf(input);
      if (!key || seen.includes(key)) continue;
      const row = await responses.storeSocial(db, input);
      if (!row) continue;
      seen.push(key);
      if (r.url) ids.set(r.url, row.id);
    }
    const removed = collected.complete.length ? await responses.removeSocialExcept(db, articleId, poller.network, collected.complete, seen) : 0;
    log.info({ announcementId: id, network: a.network, reactions: seen.length, removed }, 'backfeed: polled');
    const at = next();
    if (at) throw new RescheduleJob(at, 'next poll');
  };
}

/** Registers the worker and, as a safety net, queues polls for posted announcements younger than a month. */
export function registerBackfeed(jobs: JobRunner, deps: BackfeedDeps): void {
  jobs.register({ kind: BACKFEED_JOB, concurrency: 1, leaseMs: 60_000, handler: backfeedHandler(deps) });
  const networks = deps.pollers.filter((p) => p.configured).map((p) => p.network);
  if (!networks.length) return;
  queueRecentPolls(deps.db, networks).catch((err: unknown) => deps.log.warn({ err }, 'backfeed: could not queue the polls of recent announcements'));
}

/** Announcements posted on these networks in the last 30 days that never had a poll job (posted before the backfeed existed, or the job was lost) get one; returns how many. */
export async function queueRecentPolls(db: Db, networks: Network[]): Promise<number> {
  const an = announcements;
  const postedAt = sql`coalesce(${an.postedAt}, ${an.createdAt})`.mapWith(an.createdAt);
  const rows = await db
    .select({ id: an.id, postedAt })
    .from(an)
    .where(
      and(
        eq(an.status, 'posted'),
        isNotNull(an.postId),
        inArray(an.network, networks),
        gt(postedAt, sql`now() - interval '30 days'`),
        // the outer row named in full: Drizzle writes a one-table select's columns unqualified
        sql`not exists (select 1 from jobs j where j.kind = ${BACKFEED_JOB} and j.key = 'announcement:' || announcements.id)`,
      ),
    );
  for (const r of rows) await enqueueBackfeed(db, r.id, r.postedAt);
  return rows.length;
}
