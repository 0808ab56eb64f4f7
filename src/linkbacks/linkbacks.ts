// Blog-to-blog, assembled: the outbound guard, pingback and Webmention receiving, and
// outgoing pings, built once from the configuration and wired to publishing and to the
// job runner. The folder's entry: only the composition root (`composeLinkbacks`) and
// app.ts (`linkbackRoutes` public, `pingAdminRoutes` admin, the discovery facts) import it.
// Inside, pingback/ and webmention/ share through verify/ and never import each other.
import { PACKAGE } from '../paths.ts';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.ts';
import type { Db } from '../db/client.ts';
import type { PublishingEvents } from '../articles/publishing.ts';
import type { ResponsesService } from '../comments/responses.service.ts';
import type { JobRunner, Logger } from '../jobs/kernel.ts';
import type { Outbound } from '../lib/outbound.ts';
import { WebmentionService, WEBMENTION_VERIFY_JOB } from './webmention/webmention.service.ts';
import { webmentionRoutes } from './webmention/webmention.routes.ts';
import { linkbackLimits } from './verify/limits.ts';
import { OutgoingPings, PING_SEND_JOB } from './outgoing/outgoing.service.ts';
import { PingbackService } from './pingback/pingback.service.ts';
import { xmlrpcRoutes } from './pingback/xmlrpc.routes.ts';
import { discoveryHeaders, pingbackUrl, webmentionUrl } from './verify/discovery.ts';

export { pingAdminRoutes } from './outgoing/pings.admin.routes.ts';

export interface Linkbacks {
  pingback: PingbackService;
  webmention: WebmentionService;
  outgoing: OutgoingPings;
}


/** "Inkwell/<version> (+<site>)": every request we make names us and where to complain. */
export function inkwellUserAgent(config: Pick<Config, 'siteUrl'>): string {
  return `Inkwell/${PACKAGE.version} (+${config.siteUrl})`;
}

export function composeLinkbacks(deps: {
  config: Config;
  db: Db;
  log: Logger;
  jobs: JobRunner;
  publishing: PublishingEvents;
  /** where mentions are stored, moderated and removed */
  responses: ResponsesService;
  /** the guard every request to another site goes through, naming us as `inkwellUserAgent` */
  outbound: Outbound;
}): Linkbacks {
  const { config, db, log, jobs, publishing, responses, outbound } = deps;
  const userAgent = inkwellUserAgent(config);
  const pingback = new PingbackService({ db, config, outbound, log, userAgent, responses });
  const webmention = new WebmentionService({ db, config, outbound, log, userAgent, nudge: () => jobs.nudge(), responses });
  const outgoing = new OutgoingPings({ db, config, outbound, log });

  publishing.subscribe(outgoing.listener());
  jobs.register({
    kind: WEBMENTION_VERIFY_JOB,
    concurrency: 4,
    handler: (job, ctx) => webmention.verify(String(job.payload.requestId), { lastAttempt: job.attempts >= job.maxAttempts, signal: ctx.signal }),
  });
  jobs.register({ kind: PING_SEND_JOB, concurrency: 4, handler: (job, ctx) => outgoing.send(job, ctx) });
  return { pingback, webmention, outgoing };
}

/** The public front doors: POST /xmlrpc (+ /xmlrpc.php), POST /webmention, GET /webmention/{id}, with their shared rate limits. */
export async function linkbackRoutes(app: FastifyInstance, opts: { linkbacks: Linkbacks; config: Config }): Promise<void> {
  const limits = linkbackLimits(app, opts.config.rateLimitWrites);
  await app.register(xmlrpcRoutes, { pingback: opts.linkbacks.pingback, limits });
  await app.register(webmentionRoutes, { webmention: opts.linkbacks.webmention, limits, apiUrl: opts.config.apiUrl });
}

/** Our endpoints, as other blogs discover them: `/v1/site` lists them, article responses carry them as headers. */
export function linkbackDiscovery(config: Pick<Config, 'apiUrl'>) {
  const headers = discoveryHeaders(config);
  return { pingbackUrl: pingbackUrl(config), webmentionUrl: webmentionUrl(config), headers: (): Record<string, string> => headers };
}
