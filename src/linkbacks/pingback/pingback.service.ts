// Receiving pingbacks (Pingback 1.0 §3). Unlike everything else that talks to the
// outside world, pingback.ping must verify inside the request, because its faults are
// the answer: so the source is fetched under a strict deadline (WordPress gives up after
// 3 s) and a byte cap, and every way it can fail to arrive is the same fault 0x10 with the
// same words, so the endpoint tells nobody which hosts and ports answer.
import type { Config } from '../../config.ts';
import type { Db } from '../../db/client.ts';
import type { Logger } from '../../jobs/kernel.ts';
import { OutboundError, type Outbound } from '../../lib/outbound.ts';
import type { ResponsesService } from '../../comments/responses.service.ts';
import { approvedSources } from '../verify/mentions.repository.ts';
import { checkSource, mentionHtml, sameResource, type SourceFailure } from '../verify/source.ts';
import { resolveTarget, type Caller, type TargetHooks } from '../verify/targets.ts';
import { MAX_URL_LENGTH } from '../../lib/external-url.ts';
import { FAULT, XmlRpcFault } from '../xmlrpc/xmlrpc.codec.ts';

/** The whole verification (redirects, body) must end within this, well inside WordPress's 3 s. */
export const PINGBACK_FETCH_TIMEOUT_MS = 2000;
/** WordPress follows none; a few spare blogs behind an http→https or slash redirect. */
export const PINGBACK_MAX_REDIRECTS = 3;

export interface PingbackDeps {
  db: Db;
  config: Config;
  outbound: Outbound;
  log: Logger;
  /** names Inkwell; "verifying pingback from <ip>" is appended, as WordPress does, so victims of forged pings can trace them */
  userAgent: string;
  /** the conversation: stores mentions under the moderation policy */
  responses: ResponsesService;
}

const UNREACHABLE = 'The source URI does not exist or could not be retrieved.';

const SOURCE_FAULTS: Record<SourceFailure, [number, string]> = {
  unreachable: [FAULT.sourceNotFound, UNREACHABLE],
  'not-found': [FAULT.sourceNotFound, UNREACHABLE],
  gone: [FAULT.sourceNotFound, UNREACHABLE],
  upstream: [FAULT.upstream, 'The source server answered with an error; try again later.'],
  'not-text': [FAULT.noLinkToTarget, 'The source URI is not a text document, so it cannot be used as a source.'],
  'no-link': [FAULT.noLinkToTarget, 'The source URI does not contain a link to the target URI, so it cannot be used as a source.'],
};

export class PingbackService {
  constructor(private readonly deps: PingbackDeps) {}

  /** pingback.ping: verifies and records; the success string, or an XmlRpcFault. */
  async ping(source: string, target: string, caller: Caller, hooks: TargetHooks = {}): Promise<string> {
    const { db, config, outbound, log } = this.deps;
    let sourceUrl: URL;
    try {
      sourceUrl = outbound.checkUrl(source);
    } catch (e) {
      const syntax = e instanceof OutboundError && e.code === 'invalid-url';
      throw new XmlRpcFault(FAULT.sourceNotFound, syntax ? `The source URI is not an http(s) URL of at most ${MAX_URL_LENGTH} characters without credentials.` : UNREACHABLE);
    }
    sourceUrl.hash = '';

    const resolved = await resolveTarget(db, config, target, { mentionFrom: sourceUrl.href });
    if (!resolved.ok) {
      throw new XmlRpcFault(resolved.reason === 'not-found' ? FAULT.targetNotFound : FAULT.targetInvalid, resolved.detail);
    }
    const { article } = resolved;
    if (sameResource(sourceUrl, resolved.url)) throw new XmlRpcFault(FAULT.generic, 'The source and the target are the same page.');
    await hooks.admitTarget?.(article.id);
    if (resolved.mentioned) throw new XmlRpcFault(FAULT.alreadyRegistered, 'The pingback has already been registered.');

    const started = Date.now();
    const check = await checkSource(outbound, sourceUrl.href, target, {
      timeoutMs: PINGBACK_FETCH_TIMEOUT_MS,
      maxRedirects: PINGBACK_MAX_REDIRECTS,
      userAgent: `${this.deps.userAgent}; verifying pingback from ${caller.ip}`,
      headers: { 'x-pingback-forwarded-for': caller.ip },
      match: 'links',
    });
    if (!check.ok) {
      log.info({ source: sourceUrl.href, target, reason: check.reason, detail: check.detail, ms: Date.now() - started }, 'pingback refused');
      const [code, message] = SOURCE_FAULTS[check.reason];
      throw new XmlRpcFault(code, message);
    }

    // null: this source already has a response on this article (a twin request stored it first)
    const stored = await this.deps.responses.storeMention(db, {
      articleId: article.id,
      type: 'pingback',
      sourceUrl: sourceUrl.href,
      targetUrl: resolved.url.href,
      authorName: check.title,
      authorUrl: sourceUrl.href,
      html: mentionHtml(check.excerpt),
      ip: caller.ip,
      userAgent: caller.userAgent?.slice(0, 254) ?? null,
    });
    if (!stored) throw new XmlRpcFault(FAULT.alreadyRegistered, 'The pingback has already been registered.');
    log.info({ responseId: stored.id, articleId: article.id, source: sourceUrl.href, status: stored.status, ms: Date.now() - started }, 'pingback registered');
    const held = stored.status !== 'approved' ? ' (awaiting moderation)' : '';
    return `Pingback from ${sourceUrl.href} to ${resolved.url.href} registered${held}. Keep the web talking! :-)`;
  }

  /**
   * pingback.extensions.getPingbacks: the pages that link to an article. Only approved
   * mentions (pingbacks and webmentions): pending ones may be spam, and this is public.
   */
  async getPingbacks(url: string): Promise<string[]> {
    const resolved = await resolveTarget(this.deps.db, this.deps.config, url, { requireOpen: false });
    if (!resolved.ok) throw new XmlRpcFault(resolved.reason === 'not-found' ? FAULT.targetNotFound : FAULT.targetInvalid, resolved.detail);
    return approvedSources(this.deps.db, resolved.article.id);
  }
}
