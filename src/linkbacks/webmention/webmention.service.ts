// Receiving Webmentions (W3C Recommendation §3.2): cheap checks at once (400 with the
// reason), then 202 and a status resource; the source is fetched later, by a job, with
// the same guard and verification core as pingbacks. A later request for the same
// source and target re-verifies: the mention is refreshed, or removed when the source is
// gone (410) or no longer links.
import { randomBytes } from 'node:crypto';
import type { Config } from '../../config.ts';
import type { Db } from '../../db/client.ts';
import { enqueue, type Logger } from '../../jobs/kernel.ts';
import { AppError } from '../../http/errors.ts';
import { OutboundError, type Outbound } from '../../lib/outbound.ts';
import type { ResponsesService } from '../../comments/responses.service.ts';
import { findMention } from '../../comments/responses.repository.ts';
import { checkSource, mentionHtml, sameResource } from '../verify/source.ts';
import { resolveTarget, type Caller, type TargetHooks } from '../verify/targets.ts';
import { MAX_URL_LENGTH, parseExternalUrl } from '../../lib/external-url.ts';
import { networkOf } from '../verify/microformats.ts';
import { findRequest, insertRequest, noteRequest, settleRequest, type WebmentionRequest } from './webmention.repository.ts';
import type { WebmentionStatus } from './webmention.table.ts';

export const WEBMENTION_VERIFY_JOB = 'webmention.verify';
/** the Recommendation's own suggestions (§4): a few seconds, the first megabyte, a handful of redirects */
export const WEBMENTION_FETCH_TIMEOUT_MS = 5000;
export const WEBMENTION_MAX_REDIRECTS = 5;
/** an unreachable source is tried this many times (kernel backoff in between) before the request is rejected */
export const WEBMENTION_MAX_ATTEMPTS = 4;

export interface WebmentionDeps {
  db: Db;
  config: Config;
  outbound: Outbound;
  log: Logger;
  userAgent: string;
  /** wakes the job runner after a commit, so verification starts at once */
  nudge?: () => void;
  /** the conversation: stores and removes mentions under the moderation policy */
  responses: ResponsesService;
}

export interface WebmentionView {
  id: string;
  status: WebmentionStatus;
  source: string;
  target: string;
  detail: string | null;
  createdAt: Date;
  updatedAt: Date;
}

const view = (r: WebmentionRequest): WebmentionView => ({
  id: r.id,
  status: r.status,
  source: r.source,
  target: r.target,
  detail: r.detail,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

const bad = (detail: string) => new AppError('bad-request', detail);

export class WebmentionService {
  constructor(private readonly deps: WebmentionDeps) {}

  /** The synchronous checks of §3.2.1, then a queued verification. */
  async receive(
    input: { source: string; target: string },
    caller: Caller,
    hooks: TargetHooks = {},
  ): Promise<WebmentionView> {
    const { db, config, outbound } = this.deps;
    let source: URL;
    try {
      source = outbound.checkUrl(input.source.trim());
    } catch (e) {
      throw bad(e instanceof OutboundError && e.code === 'invalid-url' ? 'source must be an absolute http(s) URL without credentials.' : 'source is not a public address.');
    }
    source.hash = '';
    const target = parseExternalUrl(input.target.trim());
    if (!target) throw bad(`target must be an absolute URL of at most ${MAX_URL_LENGTH} characters.`);
    if (sameResource(source, target)) throw bad('source and target must be different pages.');
    const resolved = await resolveTarget(db, config, target.href);
    if (!resolved.ok) {
      throw bad(
        resolved.reason === 'not-ours' ? 'target is not a page of this site.' : resolved.reason === 'not-found' ? 'target is not a published article.' : 'target does not accept webmentions.',
      );
    }
    await hooks.admitTarget?.(resolved.article.id);

    const request = await db.transaction(async (tx) => {
      const row = await insertRequest(tx, {
        id: randomBytes(16).toString('base64url'),
        source: source.href,
        target: target.href,
        articleId: resolved.article.id,
        ip: caller.ip,
        userAgent: caller.userAgent?.slice(0, 254) ?? null,
      });
      await enqueue(tx, { kind: WEBMENTION_VERIFY_JOB, key: row.id, payload: { requestId: row.id }, maxAttempts: WEBMENTION_MAX_ATTEMPTS });
      return row;
    });
    this.deps.nudge?.();
    return view(request);
  }

  async status(id: string): Promise<WebmentionView | null> {
    const row = await findRequest(this.deps.db, id);
    return row ? view(row) : null;
  }

  /**
   * The verification job (§3.2.2, §3.2.4). Idempotent: a request that is no longer
   * queued is left alone. Throws to be retried when the source could not be reached.
   */
  async verify(requestId: string, opts: { lastAttempt: boolean; signal?: AbortSignal }): Promise<void> {
    const { db, config, outbound, log } = this.deps;
    const request = await findRequest(db, requestId);
    if (!request || request.status !== 'queued') return;
    const resolved = await resolveTarget(db, config, request.target);
    if (!resolved.ok) return settleRequest(db, request.id, 'rejected', 'The target is no longer a published article that accepts webmentions.');

    const check = await checkSource(outbound, request.source, request.target, {
      timeoutMs: WEBMENTION_FETCH_TIMEOUT_MS,
      maxRedirects: WEBMENTION_MAX_REDIRECTS,
      userAgent: `${this.deps.userAgent}; Webmention verification`,
      match: 'media',
      microformats: true,
      signal: opts.signal,
    });
    const articleId = resolved.article.id;
    const entry = check.ok ? check.entry : null;
    const network = entry ? networkOf(request.source, entry.url) : 'web';
    // a reaction (reply, like, repost, bookmark), or anything Bridgy brings from a network, is a
    // social response; a blog post that only links to us (an h-entry mention on the web) stays a
    // webmention shown as today, its title and the words around the link
    if (check.ok && entry && (entry.kind !== 'mention' || network !== 'web')) {
      const author = entry.author ?? { name: check.title, url: null, photo: null };
      const social = await this.deps.responses.storeSocial(db, {
        articleId,
        network,
        kind: entry.kind,
        author,
        text: entry.text || (entry.kind === 'mention' ? check.excerpt : ''),
        published: entry.published,
        originalUrl: entry.url,
        sourceUrl: request.source,
        targetUrl: resolved.url.href,
      });
      if (social) {
        log.info({ requestId, responseId: social.id, kind: entry.kind }, 'webmention accepted');
        return settleRequest(db, request.id, 'accepted', `The ${entry.kind} was recorded.`, social.id);
      }
    }
    if (check.ok) {
      const existed = await findMention(db, articleId, request.source);
      // a repeat refreshes the mention (author, excerpt); a new one goes through moderation
      const mention = await this.deps.responses.storeMention(
        db,
        {
          articleId,
          type: 'webmention',
          sourceUrl: request.source,
          targetUrl: resolved.url.href,
          authorName: check.title,
          authorUrl: request.source,
          html: mentionHtml(check.excerpt),
          ip: request.ip,
          userAgent: request.userAgent,
        },
        { update: true },
      );
      // another process stored this source between our look and our insert: the retry updates it
      if (!mention) throw new Error(`webmention ${requestId}: a concurrent request stored ${request.source} first`);
      log.info({ requestId, responseId: mention.id, updated: !!existed }, 'webmention accepted');
      return settleRequest(db, request.id, 'accepted', existed ? 'The mention was updated.' : 'The mention was recorded.', mention.id);
    }
    switch (check.reason) {
      case 'gone':
      case 'no-link': {
        const removed = await this.deps.responses.removeMention(db, articleId, request.source);
        const why = check.reason === 'gone' ? 'The source answered 410 Gone' : 'The source does not link to the target';
        return settleRequest(db, request.id, removed ? 'removed' : 'rejected', removed ? `${why}; the earlier mention was removed.` : `${why}.`);
      }
      case 'not-found':
      case 'not-text':
        return settleRequest(db, request.id, 'rejected', `${check.detail[0].toUpperCase()}${check.detail.slice(1)}.`);
      case 'unreachable':
      case 'upstream': {
        // one public wording for every network failure: the status resource is no port-scan oracle either
        const detail = check.reason === 'upstream' ? 'The source server answered with an error.' : 'The source could not be retrieved.';
        log.info({ requestId, reason: check.reason, detail: check.detail, lastAttempt: opts.lastAttempt }, 'webmention source not fetched');
        if (opts.lastAttempt) return settleRequest(db, request.id, 'rejected', detail);
        await noteRequest(db, request.id, `${detail} Trying again later.`);
        throw new Error(`${check.reason}: ${check.detail}`);
      }
    }
  }
}
