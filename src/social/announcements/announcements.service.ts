// Announcements on every configured network: the publishing listener that queues them
// (inside the publish transaction, so the rows commit or roll back with the article),
// one worker per network on the job kernel, and what editors can ask: the list and a retry.
import type { ContentEvents } from '../../events/content-events.ts';
import type { Config } from '../../config.ts';
import type { Db } from '../../db/client.ts';
import { enqueue, type JobRunner, type Logger } from '../../jobs/kernel.ts';
import type { PublishedArticle, PublishingListener } from '../../articles/publishing.ts';
import { AppError, notFound } from '../../http/errors.ts';
import { fits, renderAnnouncement } from './announcement-text.ts';
import { NETWORKS, type AnnouncementStatus, type Network } from './announcements.table.ts';
import {
  assignJob,
  cancelPending,
  findWork,
  findAnnouncement,
  insertAnnouncement,
  listAnnouncements,
  markQueued,
  requeueCancelled,
  requeueForRetry,
  type Announcement,
} from './announcements.repository.ts';
import { liftPause, networkState } from './network-state.repository.ts';
import { announceHandler, DEFAULT_TUNING, type AnnounceTuning, type PostedListener } from './announce.worker.ts';
import type { Announcer } from './network.ts';

/** Job attempts only count unexpected errors (a database outage): every planned wait is a reschedule. */
const JOB_MAX_ATTEMPTS = 25;

export interface SendingState {
  /** the network's credentials are set */
  configured: boolean;
  /** why nothing is being sent (the network refused the credentials…), null when sending */
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
  /** called when a post went out on a network that is polled for reactions: compose.ts hands the backfeed's `enqueueBackfeed` */
  posted: PostedListener;
}

/** Builds a network's announcer from the configuration and the worker's tuning. */
export type AnnouncerFactory = (deps: { config: Config; db: Db; log: Logger; tuning: AnnounceTuning }) => Announcer;

export class AnnouncementService implements PublishingListener {
  private readonly tuning: AnnounceTuning;
  private readonly events: ContentEvents;
  private readonly posted: PostedListener;
  private readonly announcers = new Map<Network, Announcer>();

  constructor(
    private readonly config: Config,
    private readonly db: Db,
    private readonly log: Logger,
    factories: AnnouncerFactory[],
    opts: AnnouncementOptions,
  ) {
    this.tuning = { ...DEFAULT_TUNING, ...opts.tuning };
    this.events = opts.events;
    this.posted = opts.posted;
    for (const make of factories) {
      const a = make({ config, db, log, tuning: this.tuning });
      this.announcers.set(a.network, a);
    }
  }

  /** Registers one worker per network. One send at a time per process and network: limits are per account, and bursts look like spam. */
  registerWorker(jobs: JobRunner): void {
    for (const announcer of this.announcers.values()) {
      jobs.register({
        kind: announcer.jobKind,
        concurrency: 1,
        // a lease outlives the longest attempt, so a live worker is never taken over mid-request
        leaseMs: 60_000,
        handler: announceHandler({
          db: this.db,
          config: this.config,
          log: this.log,
          tuning: this.tuning,
          announcer,
          wake: (ids) => this.wake(ids),
          events: this.events,
          posted: this.posted,
        }),
      });
    }
  }

  private announcer(network: Network): Announcer {
    const a = this.announcers.get(network);
    if (!a) throw new Error(`no announcer for ${network}`);
    return a;
  }

  // --- publishing listener -------------------------------------------------------

  async onPublished(tx: Db, article: PublishedArticle, info: { firstTime: boolean }): Promise<void> {
    if (!article.announce) return;
    if (!info.firstTime) {
      // public again after an unpublish: what the unpublish cancelled goes back to the queue
      // (same rows, same text: republishing never adds a second announcement)
      for (const { id, network } of await requeueCancelled(tx, article.id)) await this.queueJob(tx, id, network);
      return;
    }
    const maxAgeMs = this.config.announceMaxAgeHours * 3_600_000;
    const expiresAt = new Date(article.publishedAt.getTime() + maxAgeMs);
    for (const announcer of this.announcers.values()) {
      // a network without credentials gets no announcement; X records it as skipped, as it always did
      if (!announcer.configured && !announcer.recordSkipped) continue;
      const rendered = renderAnnouncement(announcer.template, article, announcer.lengthRule);
      let status: AnnouncementStatus = 'queued';
      let lastError: string | null = null;
      if (!rendered.valid) {
        status = 'failed';
        lastError = `Not sent: ${rendered.problem}`;
      } else if (!announcer.configured) {
        status = 'skipped';
        lastError = `${announcer.missingCredentials}: nothing was sent. Configure them and retry to announce it.`;
      } else if (expiresAt.getTime() <= Date.now()) {
        // backdated or imported: announcing old news as new is what users of other tools complained about
        status = 'expired';
        lastError = `Published more than ${this.config.announceMaxAgeHours} h ago (ANNOUNCE_MAX_AGE_HOURS): too old to announce.`;
      }
      const id = await insertAnnouncement(tx, {
        articleId: article.id,
        network: announcer.network,
        text: rendered.text,
        weightedLength: rendered.weightedLength,
        remoteKey: announcer.newRemoteKey?.() ?? null,
        status,
        lastError,
        expiresAt,
      });
      if (id !== null && status === 'queued') await this.queueJob(tx, id, announcer.network);
    }
  }

  async onUnpublished(tx: Db, article: { id: number; slug: string }): Promise<void> {
    await cancelPending(tx, article.id, 'The article was unpublished before it was announced; publishing it again queues the announcement again.');
  }

  private async queueJob(tx: Db, id: number, network: Network): Promise<void> {
    const kind = this.announcer(network).jobKind;
    const jobId = await enqueue(tx, { kind, payload: { announcementId: id }, maxAttempts: JOB_MAX_ATTEMPTS });
    if (jobId === null) throw new Error('enqueue without a key returned no job');
    await assignJob(tx, id, jobId);
  }

  /** Paused rows get a fresh wake-up job now instead of at their next recheck. */
  private async wake(ids: number[]): Promise<void> {
    for (const id of ids) {
      await this.db.transaction(async (tx) => {
        const row = await findWork(tx, id);
        if (!row) return;
        await markQueued(tx, [id]);
        await this.queueJob(tx, id, row.network);
      });
    }
  }

  // --- editors -------------------------------------------------------------------

  async list(q: { status?: AnnouncementStatus; network?: Network; articleId?: number; page: number; limit: number }) {
    const { items, total } = await listAnnouncements(this.db, { ...q, offset: (q.page - 1) * q.limit });
    return { items, total, sending: await this.sendingState() };
  }

  /** Whether each network is sending right now, and if not why. */
  async sendingState(): Promise<Record<Network, SendingState>> {
    const out = {} as Record<Network, SendingState>;
    for (const network of NETWORKS) {
      const net = await networkState(this.db, network);
      const holding = net.holdUntil && net.holdUntil.getTime() > Date.now();
      out[network] = {
        configured: this.announcers.get(network)?.configured ?? false,
        pausedReason: net.pausedReason,
        pausedAt: net.pausedAt,
        holdUntil: holding ? net.holdUntil : null,
        holdReason: holding ? net.holdReason : null,
      };
    }
    return out;
  }

  /**
   * Puts a failed, paused, expired, cancelled or skipped announcement back in the
   * queue with the same text (and the same key) and a fresh deadline. Never a posted
   * one: that would post it twice. Retrying a paused one lifts the network's pause:
   * the editor says the credentials are fixed.
   */
  async retry(id: number): Promise<Announcement> {
    const retried = await this.db.transaction(async (tx) => {
      const row = await findWork(tx, id);
      if (!row) throw notFound(`Announcement ${id}`);
      const announcer = this.announcer(row.network);
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
      if (!announcer.configured) {
        throw new AppError('conflict', `${announcer.missingCredentials}: set them and restart before retrying.`);
      }
      if (!fits(row.text, announcer.lengthRule)) {
        const rule = announcer.lengthRule;
        throw new AppError('conflict', `The stored text cannot be posted (${rule.measure(row.text)} of ${rule.max} ${rule.unit}).`);
      }
      if (row.status === 'paused') await liftPause(tx, row.network);
      const expiresAt = new Date(Date.now() + this.config.announceMaxAgeHours * 3_600_000);
      if (!(await requeueForRetry(tx, id, expiresAt))) throw new AppError('conflict', `Announcement ${id} changed meanwhile; reload and try again.`);
      await this.queueJob(tx, id, row.network);
      const updated = await findAnnouncement(tx, id);
      return updated!;
    });
    await this.events.emit(this.db, { type: 'announcement.changed', data: { articleId: retried.articleId } });
    return retried;
  }
}
