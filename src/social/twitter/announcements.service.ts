// Announcements on X: the publishing listener that queues them (inside the publish
// transaction, so the row commits or rolls back with the article), the worker's
// registration on the job kernel, and what editors can ask: the list and a retry.
import type { TwitterApi } from 'twitter-api-v2';
import type { ContentEvents } from '../../events/content-events.ts';
import twitter from 'twitter-text';
import type { Config } from '../../config.ts';
import type { Db } from '../../db/client.ts';
import { enqueue, type JobRunner, type Logger } from '../../jobs/kernel.ts';
import type { PublishedArticle, PublishingListener } from '../../articles/publishing.ts';
import { AppError, notFound } from '../../http/errors.ts';
import { renderAnnouncement, MAX_WEIGHTED_LENGTH } from './announcement-text.ts';
import type { AnnouncementStatus } from './announcements.table.ts';
import {
  assignJob,
  cancelPending,
  findWork,
  findAnnouncement,
  insertAnnouncement,
  liftPause,
  listAnnouncements,
  markQueued,
  networkState,
  requeueCancelled,
  requeueForRetry,
  type Announcement,
} from './announcements.repository.ts';
import { ANNOUNCE_JOB_KIND, announceHandler, DEFAULT_TUNING, NETWORK, type AnnounceTuning } from './announce.job.ts';
import { createXClient } from './x-client.ts';

/** Job attempts only count unexpected errors (a database outage): every planned wait is a reschedule. */
const JOB_MAX_ATTEMPTS = 25;

export interface SendingState {
  /** TWITTER_* are set */
  configured: boolean;
  /** why nothing is being sent (X refused the credentials…), null when sending */
  pausedReason: string | null;
  pausedAt: Date | null;
  /** rate limit: nothing is sent before this time */
  holdUntil: Date | null;
  holdReason: string | null;
}

export interface AnnouncementOptions {
  tuning?: Partial<AnnounceTuning>;
  /** an announcement's public status changing outside a publish is announced here (articles show it: caches must forget) */
  events: ContentEvents;
}

export class AnnouncementService implements PublishingListener {
  private readonly tuning: AnnounceTuning;
  private readonly events: ContentEvents;
  private xClient: TwitterApi | undefined;

  constructor(
    private readonly config: Config,
    private readonly db: Db,
    private readonly log: Logger,
    opts: AnnouncementOptions,
  ) {
    this.tuning = { ...DEFAULT_TUNING, ...opts.tuning };
    this.events = opts.events;
  }

  /** Registers the worker. One send at a time per process: X's limits are per account, and bursts look like spam. */
  registerWorker(jobs: JobRunner): void {
    jobs.register({
      kind: ANNOUNCE_JOB_KIND,
      concurrency: 1,
      // a lease outlives the longest request, so a live worker is never taken over mid-request
      leaseMs: 60_000,
      handler: announceHandler({
        db: this.db,
        config: this.config,
        log: this.log,
        tuning: this.tuning,
        client: () => this.client(),
        wake: (ids) => this.wake(ids),
        events: this.events,
      }),
    });
  }

  private client(): TwitterApi | undefined {
    if (!this.config.twitter) return undefined;
    this.xClient ??= createXClient(this.config.twitter, { baseUrl: this.config.twitterApiUrl, timeoutMs: this.tuning.requestTimeoutMs });
    return this.xClient;
  }

  // --- publishing listener -------------------------------------------------------

  async onPublished(tx: Db, article: PublishedArticle, info: { firstTime: boolean }): Promise<void> {
    if (!info.firstTime) {
      // public again after an unpublish: what the unpublish cancelled goes back to the queue
      // (same row, same text: republishing never adds a second announcement)
      if (!article.announce) return;
      for (const id of await requeueCancelled(tx, article.id)) await this.queueJob(tx, id);
      return;
    }
    if (!article.announce) return;

    const rendered = renderAnnouncement(this.config.announceTemplate, article);
    const maxAgeMs = this.config.announceMaxAgeHours * 3_600_000;
    const expiresAt = new Date(article.publishedAt.getTime() + maxAgeMs);
    let status: AnnouncementStatus = 'queued';
    let lastError: string | null = null;
    if (!rendered.valid) {
      status = 'failed';
      lastError = `Not sent: ${rendered.problem}`;
    } else if (!this.config.twitter) {
      status = 'skipped';
      lastError =
        'No X credentials are configured (TWITTER_APP_KEY, TWITTER_APP_SECRET, TWITTER_ACCESS_TOKEN, TWITTER_ACCESS_SECRET): nothing was sent. Configure them and retry to announce it.';
    } else if (expiresAt.getTime() <= Date.now()) {
      // backdated or imported: announcing old news as new is what users of other tools complained about
      status = 'expired';
      lastError = `Published more than ${this.config.announceMaxAgeHours} h ago (ANNOUNCE_MAX_AGE_HOURS): too old to announce.`;
    }
    const id = await insertAnnouncement(tx, {
      articleId: article.id,
      network: NETWORK,
      text: rendered.text,
      weightedLength: rendered.weightedLength,
      status,
      lastError,
      expiresAt,
    });
    if (id !== null && status === 'queued') await this.queueJob(tx, id);
  }

  async onUnpublished(tx: Db, article: { id: number; slug: string }): Promise<void> {
    await cancelPending(tx, article.id, 'The article was unpublished before it was announced; publishing it again queues the announcement again.');
  }

  private async queueJob(tx: Db, id: number): Promise<void> {
    const jobId = await enqueue(tx, { kind: ANNOUNCE_JOB_KIND, payload: { announcementId: id }, maxAttempts: JOB_MAX_ATTEMPTS });
    if (jobId === null) throw new Error('enqueue without a key returned no job');
    await assignJob(tx, id, jobId);
  }

  /** Paused rows get a fresh wake-up job now instead of at their next recheck. */
  private async wake(ids: number[]): Promise<void> {
    for (const id of ids) {
      await this.db.transaction(async (tx) => {
        await markQueued(tx, [id]);
        await this.queueJob(tx, id);
      });
    }
  }

  // --- editors -------------------------------------------------------------------

  async list(q: { status?: AnnouncementStatus; articleId?: number; page: number; limit: number }) {
    const { items, total } = await listAnnouncements(this.db, { ...q, offset: (q.page - 1) * q.limit });
    return { items, total, sending: await this.sendingState() };
  }

  async sendingState(): Promise<SendingState> {
    const net = await networkState(this.db, NETWORK);
    const holding = net.holdUntil && net.holdUntil.getTime() > Date.now();
    return {
      configured: this.config.twitter !== undefined,
      pausedReason: net.pausedReason,
      pausedAt: net.pausedAt,
      holdUntil: holding ? net.holdUntil : null,
      holdReason: holding ? net.holdReason : null,
    };
  }

  /**
   * Puts a failed, paused, expired, cancelled or skipped announcement back in the
   * queue with the same text and a fresh deadline. Never a posted one: that would
   * post it twice. Retrying a paused one lifts the pause: the editor says the
   * credentials are fixed.
   */
  async retry(id: number): Promise<Announcement> {
    const retried = await this.db.transaction(async (tx) => {
      const row = await findWork(tx, id);
      if (!row) throw notFound(`Announcement ${id}`);
      if (row.status === 'posted') {
        throw new AppError('conflict', `Announcement ${id} was already posted${row.url ? ` (${row.url})` : ''}; retrying would post it twice.`);
      }
      if (row.status === 'queued' || row.status === 'sending') {
        const next = row.nextAttemptAt ? `; next attempt at ${row.nextAttemptAt.toISOString()}` : '';
        throw new AppError('conflict', `Announcement ${id} is already ${row.status === 'queued' ? 'queued' : 'being sent'}${next}.`);
      }
      if (row.articleStatus !== 'published') {
        throw new AppError('conflict', `The article of announcement ${id} is not published; publish it first.`);
      }
      if (!this.config.twitter) {
        throw new AppError('conflict', 'No X credentials are configured (TWITTER_*): set them and restart before retrying.');
      }
      const parsed = twitter.parseTweet(row.text);
      if (!parsed.valid || parsed.weightedLength > MAX_WEIGHTED_LENGTH) {
        throw new AppError('conflict', `The stored text cannot be posted (${parsed.weightedLength} of ${MAX_WEIGHTED_LENGTH} weighted characters).`);
      }
      if (row.status === 'paused') await liftPause(tx, NETWORK);
      const expiresAt = new Date(Date.now() + this.config.announceMaxAgeHours * 3_600_000);
      if (!(await requeueForRetry(tx, id, expiresAt))) throw new AppError('conflict', `Announcement ${id} changed meanwhile; reload and try again.`);
      await this.queueJob(tx, id);
      const updated = await findAnnouncement(tx, id);
      return updated!;
    });
    await this.events.emit(this.db, { type: 'announcement.changed', data: { articleId: retried.articleId } });
    return retried;
  }
}
