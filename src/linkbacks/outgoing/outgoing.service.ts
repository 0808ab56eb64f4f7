// Outgoing pings: when an article is published, every external link in it gets a row in
// the outbox (same transaction) and a job; the job discovers the target's endpoint
// (Webmention first, else pingback) and sends. When a published article changes, links
// that were added get pinged and links that were removed get a Webmention again, so the
// other side can drop the mention (Webmention §3.1.4; pingback has no way to say it).
import type { Config } from '../../config.ts';
import type { Db } from '../../db/client.ts';
import type { PublishedArticle, PublishingListener } from '../../articles/publishing.ts';
import { backoffMs, enqueue, RescheduleJob, type Job, type JobContext, type Logger } from '../../jobs/kernel.ts';
import type { Outbound } from '../../lib/outbound.ts';
import { anchorHrefs } from '../../lib/html-links.ts';
import { endpointIn, fetchForDiscovery, type Endpoint } from '../verify/discovery.ts';
import {
  countPings,
  findPing,
  insertPing,
  listPings,
  pingsOfArticle,
  recordAttempt,
  requeuePing,
  type OutgoingPing,
  type PingFilter,
} from './outgoing.repository.ts';
import type { PingReason } from './outgoing.table.ts';
import { SendError, sendErrorFrom, sendPing } from './send.ts';
import { isHttpUrl } from '../../lib/url.ts';

export const PING_SEND_JOB = 'ping.send';
/** attempts per (re)queueing; with the backoff below, about two hours of trying */
export const PING_MAX_ATTEMPTS = 8;
/** at most this many links of one article are pinged */
export const MAX_LINKS_PER_ARTICLE = 100;

export interface OutgoingDeps {
  db: Db;
  config: Config;
  outbound: Outbound;
  log: Logger;
  /** first retry after about this long, doubling each time (full jitter), at most 6 h */
  retryBaseMs?: number;
}

/** The external links of an article body, as written: absolute http(s), not to this site, in order, once each. */
export function externalLinks(html: string, config: Pick<Config, 'siteUrl' | 'apiUrl'>): string[] {
  const own = new Set([new URL(config.siteUrl).origin, new URL(config.apiUrl).origin]);
  const out: string[] = [];
  for (const href of anchorHrefs(html)) {
    let url: URL;
    try {
      url = new URL(href); // no base: a relative link is one of ours
    } catch {
      continue;
    }
    if (!isHttpUrl(url) || own.has(url.origin)) continue;
    out.push(href);
    if (out.length >= MAX_LINKS_PER_ARTICLE) break;
  }
  return out;
}

export class OutgoingPings {
  constructor(private readonly deps: OutgoingDeps) {}

  /** Subscribe this to publishing. */
  listener(): PublishingListener {
    return {
      onPublished: async (tx, article) => {
        const links = externalLinks(article.html, this.deps.config);
        const known = await pingsOfArticle(tx, article.id);
        for (const target of links) if (!known.has(target)) await this.queueNew(tx, article, target, 'linked');
      },
      onUpdated: async (tx, article, { previousHtml }) => {
        const now = new Set(externalLinks(article.html, this.deps.config));
        const before = new Set(externalLinks(previousHtml, this.deps.config));
        const known = await pingsOfArticle(tx, article.id);
        for (const target of now) {
          if (before.has(target)) continue;
          const row = known.get(target);
          if (row) await this.requeue(tx, row.id, { sourceUrl: article.url, reason: 'linked' });
          else await this.queueNew(tx, article, target, 'linked');
        }
        // a removed link is worth a message only to a target that heard from us before
        for (const target of before) {
          const row = known.get(target);
          if (!now.has(target) && row) await this.requeue(tx, row.id, { sourceUrl: article.url, reason: 'unlinked' });
        }
      },
    };
  }

  private async queueNew(tx: Db, article: PublishedArticle, target: string, reason: PingReason): Promise<void> {
    const id = await insertPing(tx, { articleId: article.id, sourceUrl: article.url, targetUrl: target, reason });
    if (id !== null) await this.requeue(tx, id, {});
  }

  /** A new job for the row; any older job finds itself superseded. */
  private async requeue(tx: Db, id: number, patch: { sourceUrl?: string; reason?: PingReason }): Promise<OutgoingPing | null> {
    const jobId = await enqueue(tx, { kind: PING_SEND_JOB, payload: { pingId: id }, maxAttempts: PING_MAX_ATTEMPTS + 2 });
    return requeuePing(tx, id, { ...patch, jobId: jobId! });
  }

  /** The job: discover, send, record. Idempotent: a row that is settled or taken over by a newer job is left alone. */
  async send(job: Job, ctx: JobContext): Promise<void> {
    const { db, outbound, log } = this.deps;
    const ping = await findPing(db, Number(job.payload.pingId));
    if (!ping || ping.status !== 'queued' || ping.jobId !== job.id) return;
    const attempts = ping.attempts + 1;
    let endpoint: Endpoint | null = null;
    try {
      let page;
      try {
        page = await fetchForDiscovery(outbound, ping.targetUrl, { signal: ctx.signal });
      } catch (e) {
        throw sendErrorFrom(e, 'the target could not be fetched');
      }
      if (page.status === 429 || page.status >= 500) throw new SendError(`the target answered ${page.status}`, true);
      endpoint = endpointIn(page);
      if (!endpoint) {
        await recordAttempt(db, ping.id, job.id, { status: 'unsupported', attempts, protocol: null, endpoint: null, lastError: 'The target advertises neither a Webmention nor a pingback endpoint.' });
        return;
      }
      if (ping.reason === 'unlinked' && endpoint.protocol === 'pingback') {
        await recordAttempt(db, ping.id, job.id, { status: 'unsupported', attempts, ...endpoint, lastError: 'The link was removed, and pingback has no way to withdraw a ping (Webmention has).' });
        return;
      }
      const { result } = await sendPing(outbound, endpoint, ping.sourceUrl, ping.targetUrl, ctx.signal);
      await recordAttempt(db, ping.id, job.id, { status: 'sent', attempts, protocol: endpoint.protocol, endpoint: endpoint.url, result, lastError: null, nextAttemptAt: null, sentAt: new Date() });
      log.info({ pingId: ping.id, protocol: endpoint.protocol, target: ping.targetUrl }, 'ping sent');
    } catch (e) {
      if (!(e instanceof SendError)) throw e; // our own failure (database…): the kernel retries the job
      const where = { protocol: endpoint?.protocol ?? null, endpoint: endpoint?.url ?? null };
      if (!e.transient || attempts >= PING_MAX_ATTEMPTS) {
        await recordAttempt(db, ping.id, job.id, { status: 'failed', attempts, ...where, lastError: e.message, nextAttemptAt: null });
        log.warn({ pingId: ping.id, target: ping.targetUrl, err: e.message, attempts }, 'ping failed');
        return;
      }
      const at = new Date(Date.now() + backoffMs(attempts, this.deps.retryBaseMs ?? 60_000, 6 * 3_600_000));
      await recordAttempt(db, ping.id, job.id, { attempts, ...where, lastError: e.message, nextAttemptAt: at });
      throw new RescheduleJob(at, e.message, true);
    }
  }

  async list(filter: PingFilter, page: { page: number; limit: number }): Promise<{ data: OutgoingPing[]; total: number }> {
    const [data, total] = await Promise.all([
      listPings(this.deps.db, filter, { limit: page.limit, offset: (page.page - 1) * page.limit }),
      countPings(this.deps.db, filter),
    ]);
    return { data, total };
  }

  /** Sends again now, whatever the row's state: a new job and a fresh attempt budget. Null when there is no such row. */
  async retry(id: number): Promise<OutgoingPing | null> {
    return this.deps.db.transaction(async (tx) => ((await findPing(tx, id)) ? this.requeue(tx, id, {}) : null));
  }
}
