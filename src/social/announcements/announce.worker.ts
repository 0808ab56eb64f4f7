// The worker, shared by every network: one job run = at most one attempt to post
// one announcement. The network's announcer does the sending and reads its failures;
// everything else (states, backoff, pauses, holds, expiry, the monthly cap) is here.
//
// Exactly-once: the row is marked `sending` (committed) before the request, so a
// worker that dies mid-request leaves evidence; every attempt whose answer we did not
// hear makes the row `ambiguous`. What a resend then does is the network's answer to
// "did it land?": Mastodon looks for the status on the account, then resends with the
// same Idempotency-Key; Bluesky asks getRecord for the fixed record key; X resends the
// identical text, which X refuses as a duplicate when the earlier attempt landed.
//
// Waiting is the job kernel's: the handler throws RescheduleJob with the time to come
// back (backoff, rate-limit reset, pause recheck) and keeps the row's nextAttemptAt in
// step so editors see the same time.
import type { ContentEvents } from '../../events/content-events.ts';
import type { Db } from '../../db/client.ts';
import { backoffMs, RescheduleJob, type Job, type Logger } from '../../jobs/kernel.ts';
import type { Config } from '../../config.ts';
import { permalinkFor } from '../../articles/permalink.ts';
import { PENDING_STATUSES } from './announcements.table.ts';
import {
  claimForSending,
  claimWithinMonthlyLimit,
  findWork,
  pausedIds,
  recordAttempt,
  settle,
  type Outcome,
} from './announcements.repository.ts';
import { holdNetwork, liftPause, networkState, pauseNetwork } from './network-state.repository.ts';
import type { Announcer, Failure } from './network.ts';

export interface AnnounceTuning {
  /** idle timeout of one request to a network */
  requestTimeoutMs: number;
  /** the most one attempt may take in all; keep it well under the job lease */
  deadlineMs: number;
  /** first retry after a transient failure; doubles up to the cap, with jitter */
  backoffBaseMs: number;
  backoffCapMs: number;
  /** how often a paused announcement looks whether the pause was lifted (new credentials) */
  pauseRecheckMs: number;
  /** spread after a rate-limit reset, so several processes do not all ask at the same second */
  holdJitterMs: number;
}

export const DEFAULT_TUNING: AnnounceTuning = {
  requestTimeoutMs: 10_000,
  deadlineMs: 25_000,
  backoffBaseMs: 30_000,
  backoffCapMs: 3_600_000,
  pauseRecheckMs: 10 * 60_000,
  holdJitterMs: 30_000,
};

export interface AnnounceDeps {
  db: Db;
  config: Pick<Config, 'siteUrl' | 'permalink'>;
  log: Logger;
  tuning: AnnounceTuning;
  announcer: Announcer;
  /** gives paused rows a fresh wake-up job (sending works again) */
  wake(ids: number[]): Promise<void>;
  /** an announcement's public status changing is announced here (article responses show it: caches must forget) */
  events: ContentEvents;
  posted: PostedListener;
}

/** Hears that an announcement was posted on a network polled for reactions (the backfeed queues its polls). */
export type PostedListener = (db: Db, announcementId: number, postedAt: Date) => Promise<void>;

const MAYBE_POSTED = ' An earlier attempt went unanswered, so it may have been posted.';

const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The first instant of the next calendar month, UTC: when a monthly cap resets. */
export function nextMonthStart(now = new Date()): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
}

export function announceHandler(deps: AnnounceDeps): (job: Job) => Promise<void> {
  const { db, config, log, tuning, announcer } = deps;
  const network = announcer.network;

  return async function announce(job: Job): Promise<void> {
    const id = Number(job.payload.announcementId);
    const row = await findWork(db, id);
    // gone, superseded by a newer wake-up (an editor's retry), or already final
    if (!row || row.jobId !== job.id || !PENDING_STATUSES.includes(row.status)) return;

    // a row still `sending` was being sent when its worker died: that attempt may have landed
    const interrupted = row.status === 'sending';
    const maybe = row.ambiguous || interrupted ? MAYBE_POSTED : '';
    const changed = async (status: string) => {
      if (status !== row.status) await deps.events.emit(db, { type: 'announcement.changed', data: { articleId: row.articleId } });
    };
    const wait = async (o: Outcome & { nextAttemptAt: Date }, why: string): Promise<never> => {
      if (await settle(db, id, job.id, { ...o, ambiguous: interrupted })) await changed(o.status);
      throw new RescheduleJob(o.nextAttemptAt, why);
    };
    const now = Date.now();

    if (row.articleStatus !== 'published' || row.articleId === null) {
      const what = row.articleId === null ? 'The article was deleted' : 'The article was unpublished';
      if (await settle(db, id, job.id, { status: 'cancelled', lastError: `${what} before it was announced.${maybe}`, ambiguous: interrupted })) await changed('cancelled');
      return;
    }
    if (now >= row.expiresAt.getTime()) {
      const last = row.lastError ? ` Last error: ${row.lastError}` : '';
      const settled = await settle(db, id, job.id, {
        status: 'expired',
        lastError: `Not sent by ${iso(row.expiresAt)} (ANNOUNCE_MAX_AGE_HOURS): too old to announce.${last}`,
        ambiguous: interrupted,
      });
      if (settled) await changed('expired');
      return;
    }

    const fingerprint = announcer.credentialsFingerprint();
    if (!announcer.configured) {
      const reason = `${announcer.missingCredentials}: waiting for them.`;
      return wait({ status: 'paused', lastError: reason, nextAttemptAt: new Date(now + tuning.pauseRecheckMs) }, reason);
    }

    const net = await networkState(db, network);
    if (net.pausedReason) {
      if (net.pausedCredentials === fingerprint) {
        return wait({ status: 'paused', lastError: net.pausedReason, nextAttemptAt: new Date(now + tuning.pauseRecheckMs) }, net.pausedReason);
      }
      // these are not the credentials the network refused (the operator changed them): try them
      if (await liftPause(db, network, net.pausedCredentials ?? undefined)) {
        log.info({ network }, 'announcements: credentials changed, sending resumes');
        await deps.wake((await pausedIds(db, network)).filter((x) => x !== id));
      }
    }
    if (net.holdUntil && net.holdUntil.getTime() > now) {
      const at = new Date(net.holdUntil.getTime() + Math.random() * tuning.holdJitterMs);
      const reason = `${net.holdReason ?? `Waiting for the ${announcer.label} rate limit to reset`}; next attempt after ${iso(net.holdUntil)}.`;
      return wait({ status: 'queued', lastError: reason, nextAttemptAt: at }, reason);
    }

    let claim: { attempt: number; ambiguous: boolean } | null;
    if (announcer.monthlyLimit !== undefined) {
      // counted and claimed under one lock, so two processes cannot both take the last post of the month
      const r = await claimWithinMonthlyLimit(db, id, job.id, network, announcer.monthlyLimit);
      if (r === 'over') {
        const resume = nextMonthStart();
        const reason = `${announcer.label} monthly limit reached (${announcer.monthlyLimit} posts in ${iso(new Date()).slice(0, 7)}, X_MONTHLY_LIMIT); sending resumes on ${iso(resume).slice(0, 10)}.`;
        return wait({ status: 'paused', lastError: reason, nextAttemptAt: new Date(resume.getTime() + Math.random() * tuning.holdJitterMs) }, reason);
      }
      claim = r;
    } else {
      claim = await claimForSending(db, id, job.id);
    }
    if (!claim) return; // changed under us (retried, cancelled): the newer state rules

    let failure: Failure;
    try {
      const sent = await announcer.send(
        {
          id,
          text: row.text,
          remoteKey: row.remoteKey,
          ambiguous: claim.ambiguous,
          createdAt: row.createdAt,
          article: {
            id: row.articleId,
            title: row.articleTitle ?? '',
            excerpt: row.articleExcerpt ?? '',
            url: permalinkFor(config, { id: row.articleId, slug: row.articleSlug ?? '', publishedAt: row.articlePublishedAt }),
          },
        },
        tuning.deadlineMs,
      );
      const outcome: Outcome = { status: 'posted', lastError: sent.note ?? null, postId: sent.postId, url: sent.url };
      if (await recordAttempt(db, id, claim.attempt, outcome)) {
        await changed('posted');
        // from now on, reactions to the post are polled (§13); on X only with X_BACKFEED=on
        if (announcer.polled !== false) await deps.posted(db, id, new Date());
      } else log.warn({ announcementId: id, network, postId: sent.postId }, 'announcements: posted, but the row had moved on');
      log.info({ announcementId: id, network, articleId: row.articleId, postId: sent.postId, attempt: claim.attempt }, 'announcement posted');
      if (sent.holdUntil && sent.holdUntil.until.getTime() > Date.now()) await holdNetwork(db, network, sent.holdUntil.until, sent.holdUntil.reason);
      // sending works: announcements paused by an earlier refusal need not wait for their recheck
      const paused = await pausedIds(db, network);
      if (paused.length) await deps.wake(paused);
      return;
    } catch (err) {
      failure = announcer.classify(err);
    }

    const record = async (o: Outcome): Promise<void> => {
      if (await recordAttempt(db, id, claim.attempt, o)) await changed(o.status);
      else log.warn({ announcementId: id, outcome: o.status }, 'announcements: outcome not recorded, the row had moved on');
    };
    log.warn({ announcementId: id, network, attempt: claim.attempt, failure }, 'announcement attempt failed');

    switch (failure.kind) {
      case 'duplicate':
        if (claim.ambiguous) {
          await record({
            status: 'posted',
            lastError: `Posted by an earlier attempt whose answer was lost: ${announcer.label} refused the identical resend as a duplicate (${failure.reason}). The post's id is unknown; find it on the account's timeline.`,
          });
        } else {
          await record({ status: 'failed', lastError: `${announcer.label} refused the text as a duplicate of a post already on the account, not made by Inkwell (${failure.reason}).` });
        }
        return;
      case 'auth': {
        await pauseNetwork(db, network, failure.reason, fingerprint);
        const at = new Date(Date.now() + tuning.pauseRecheckMs);
        await record({ status: 'paused', lastError: failure.reason, nextAttemptAt: at });
        throw new RescheduleJob(at, failure.reason);
      }
      case 'rate-limited': {
        const reset = new Date(failure.until);
        await holdNetwork(db, network, reset, failure.reason);
        const at = new Date(failure.until + Math.random() * tuning.holdJitterMs);
        await record({ status: 'queued', lastError: `${failure.reason}; next attempt after ${iso(reset)}.`, nextAttemptAt: at });
        throw new RescheduleJob(at, failure.reason);
      }
      case 'transient': {
        const at = new Date(Date.now() + backoffMs(claim.attempt, tuning.backoffBaseMs, tuning.backoffCapMs));
        const resend = failure.ambiguous || claim.ambiguous ? ` ${announcer.resendNote}` : '';
        await record({ status: 'queued', lastError: `${failure.reason}.${resend}`, nextAttemptAt: at, ambiguous: failure.ambiguous });
        throw new RescheduleJob(at, failure.reason);
      }
      case 'rejected':
        await record({ status: 'failed', lastError: `${failure.reason}.${claim.ambiguous ? MAYBE_POSTED : ''}` });
        return;
    }
  };
}
