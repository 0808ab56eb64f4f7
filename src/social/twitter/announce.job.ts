// The worker: one job run = at most one POST /2/tweets for one announcement.
//
// Exactly-once is impossible against an API without idempotency keys; what we can
// promise is "at most one visible post": the row is marked `sending` (committed)
// before the request, so a worker that dies mid-request leaves evidence; every
// attempt whose answer we did not hear makes the row `ambiguous`; retries resend the
// identical stored text, and X refuses identical text with 403 "duplicate content",
// which after an ambiguous attempt means "the earlier attempt was posted".
//
// Waiting is the job kernel's: the handler throws RescheduleJob with the time to come
// back (backoff, rate-limit reset, pause recheck) and keeps the row's nextAttemptAt in
// step so editors see the same time.
import type { TwitterApi, TwitterRateLimit } from 'twitter-api-v2';
import type { ContentEvents } from '../../events/content-events.ts';
import type { Config } from '../../config.ts';
import type { Db } from '../../db/client.ts';
import { backoffMs, RescheduleJob, type Job, type Logger } from '../../jobs/kernel.ts';
import { PENDING_STATUSES } from './announcements.table.ts';
import {
  claimForSending,
  findWork,
  holdNetwork,
  liftPause,
  networkState,
  pausedIds,
  pauseNetwork,
  recordAttempt,
  settle,
  type Outcome,
} from './announcements.repository.ts';
import { classifyXFailure, credentialsFingerprint, postTweet, tweetUrl, type XFailure } from './x-client.ts';

export const ANNOUNCE_JOB_KIND = 'announce.x';
export const NETWORK = 'x';

export interface AnnounceTuning {
  /** idle timeout of one request to X */
  requestTimeoutMs: number;
  /** the most one request may take in all; keep it well under the job lease */
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
  config: Pick<Config, 'twitter' | 'siteTwitter' | 'announceMaxAgeHours'>;
  log: Logger;
  tuning: AnnounceTuning;
  /** the X client, built once per process; undefined without credentials */
  client(): TwitterApi | undefined;
  /** gives paused rows a fresh wake-up job (sending works again) */
  wake(ids: number[]): Promise<void>;
  /** an announcement's public status changing is announced here (article responses show it: caches must forget) */
  events: ContentEvents;
}

const MAYBE_POSTED = ' An earlier attempt went unanswered, so it may have been posted.';

const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export function announceHandler(deps: AnnounceDeps): (job: Job) => Promise<void> {
  const { db, config, log, tuning } = deps;

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

    if (row.articleStatus !== 'published') {
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

    const client = deps.client();
    const fingerprint = credentialsFingerprint(config.twitter);
    if (!client) {
      const reason = 'No X credentials are configured (TWITTER_APP_KEY, TWITTER_APP_SECRET, TWITTER_ACCESS_TOKEN, TWITTER_ACCESS_SECRET): waiting for them.';
      return wait({ status: 'paused', lastError: reason, nextAttemptAt: new Date(now + tuning.pauseRecheckMs) }, reason);
    }

    const net = await networkState(db, NETWORK);
    if (net.pausedReason) {
      if (net.pausedCredentials === fingerprint) {
        return wait({ status: 'paused', lastError: net.pausedReason, nextAttemptAt: new Date(now + tuning.pauseRecheckMs) }, net.pausedReason);
      }
      // these are not the credentials X refused (the operator changed them): try them
      if (await liftPause(db, NETWORK, net.pausedCredentials ?? undefined)) {
        log.info({ network: NETWORK }, 'announcements: credentials changed, sending resumes');
        await deps.wake((await pausedIds(db, NETWORK)).filter((x) => x !== id));
      }
    }
    if (net.holdUntil && net.holdUntil.getTime() > now) {
      const at = new Date(net.holdUntil.getTime() + Math.random() * tuning.holdJitterMs);
      const reason = `${net.holdReason ?? 'Waiting for the X rate limit to reset'}; next attempt after ${iso(net.holdUntil)}.`;
      return wait({ status: 'queued', lastError: reason, nextAttemptAt: at }, reason);
    }

    const claim = await claimForSending(db, id, job.id);
    if (!claim) return; // changed under us (retried, cancelled): the newer state rules

    let failure: XFailure;
    try {
      const posted = await postTweet(client, row.text, tuning.deadlineMs);
      const url = tweetUrl(posted.id, config.siteTwitter);
      if (await recordAttempt(db, id, claim.attempt, { status: 'posted', lastError: null, tweetId: posted.id, url })) await changed('posted');
      else log.warn({ announcementId: id, tweetId: posted.id }, 'announcements: posted, but the row had moved on');
      log.info({ announcementId: id, articleId: row.articleId, tweetId: posted.id, attempt: claim.attempt }, 'announcement posted');
      await holdIfExhausted(db, posted.rateLimit);
      // sending works: announcements paused by an earlier refusal need not wait for their recheck
      const paused = await pausedIds(db, NETWORK);
      if (paused.length) await deps.wake(paused);
      return;
    } catch (err) {
      failure = classifyXFailure(err);
    }

    const record = async (o: Outcome): Promise<void> => {
      if (await recordAttempt(db, id, claim.attempt, o)) await changed(o.status);
      else log.warn({ announcementId: id, outcome: o.status }, 'announcements: outcome not recorded, the row had moved on');
    };
    log.warn({ announcementId: id, attempt: claim.attempt, failure }, 'announcement attempt failed');

    switch (failure.kind) {
      case 'duplicate':
        if (claim.ambiguous) {
          await record({
            status: 'posted',
            lastError: `Posted by an earlier attempt whose answer was lost: X refused the identical resend as a duplicate (${failure.reason}). The post's id is unknown; find it on the account's timeline.`,
          });
        } else {
          await record({ status: 'failed', lastError: `X refused the text as a duplicate of a post already on the account, not made by Inkwell (${failure.reason}).` });
        }
        return;
      case 'auth': {
        await pauseNetwork(db, NETWORK, failure.reason, fingerprint);
        const at = new Date(Date.now() + tuning.pauseRecheckMs);
        await record({ status: 'paused', lastError: failure.reason, nextAttemptAt: at });
        throw new RescheduleJob(at, failure.reason);
      }
      case 'rate-limited': {
        const reset = new Date(failure.until);
        await holdNetwork(db, NETWORK, reset, failure.reason);
        const at = new Date(failure.until + Math.random() * tuning.holdJitterMs);
        await record({ status: 'queued', lastError: `${failure.reason}; next attempt after ${iso(reset)}.`, nextAttemptAt: at });
        throw new RescheduleJob(at, failure.reason);
      }
      case 'transient': {
        const at = new Date(Date.now() + backoffMs(claim.attempt, tuning.backoffBaseMs, tuning.backoffCapMs));
        const resend = failure.ambiguous || claim.ambiguous ? ' The identical text will be resent; X refuses a second copy.' : '';
        await record({ status: 'queued', lastError: `${failure.reason}.${resend}`, nextAttemptAt: at, ambiguous: failure.ambiguous });
        throw new RescheduleJob(at, failure.reason);
      }
      case 'rejected':
        await record({ status: 'failed', lastError: `${failure.reason}.${claim.ambiguous ? MAYBE_POSTED : ''}` });
        return;
    }
  };
}

/** A success that used up a window: hold everyone until its reset instead of earning a 429. */
async function holdIfExhausted(db: Db, rl: TwitterRateLimit | undefined): Promise<void> {
  const windows = [rl, rl?.day, rl?.userDay].filter((w): w is NonNullable<typeof w> => !!w && w.remaining === 0 && Number.isFinite(w.reset));
  if (!windows.length) return;
  const until = new Date(Math.max(...windows.map((w) => w.reset * 1000)));
  if (until.getTime() > Date.now()) await holdNetwork(db, NETWORK, until, 'The X rate limit was used up by the last post');
}
