// buildApp(services) → a Fastify instance. It never listens and never reads the
// environment; its register list below is the table of contents of the HTTP surface.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Services } from './compose.ts';
import problemPlugin, { errorMessageKeyword, problemPages, sendProblem } from './http/problem.plugin.ts';
import securityPlugin, { corsHeadersFor } from './http/security.plugin.ts';
import nulGuard from './http/nul-guard.ts';
import openapiPlugin from './http/openapi.plugin.ts';
import { healthRoutes } from './site/health.routes.ts';
import { requireAdminToken } from './http/auth.ts';
import { authAdminRoutes } from './auth/auth.routes.ts';
import { announcementAdminRoutes } from './social/twitter/announcements.routes.ts';
import cachingPlugin from './http/caching.ts';
import responseCachePlugin, { changeBusFor, compressMisses, serveFromCache } from './http/response-cache.ts';
import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';
import bodyParsers from './http/body-parsers.ts';
import { siteRoutes } from './site/site.routes.ts';
import { articleComponentSchemas } from './articles/articles.schemas.ts';
import { articleAdminRoutes, articlePublicRoutes } from './articles/articles.routes.ts';
import { taxonomyAdminRoutes, taxonomyComponentSchemas, taxonomyPublicRoutes } from './taxonomy/taxonomy.routes.ts';
import { feedRoutes } from './feeds/feeds.routes.ts';
import { discoveryHeaders as pingDiscoveryHeaders } from './pingback/discovery.ts';
import { linkbackRoutes } from './pingback/linkbacks.ts';
import { pingAdminRoutes } from './pingback/pings.admin.routes.ts';
import { frontendPlugin } from './frontend/frontend.plugin.ts';
import rateLimitPlugin from './http/rate-limit.ts';
import { responseAdminRoutes, responseComponentSchemas, responsePublicRoutes } from './comments/responses.routes.ts';

export interface BuildOptions {
  /** a pino logger shared with the workers; none → silent */
  loggerInstance?: FastifyServerOptions['loggerInstance'];
  /** tests: add routes before the app is sealed */
  beforeReady?: (app: FastifyInstance) => void | Promise<void>;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** the levels at which Fastify writes an access-log line per request */
const LOGS_REQUESTS = new Set(['trace', 'debug', 'info']);

/** The caller's X-Request-Id when it is a sane token, else a new UUID. */
function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

export async function buildApp(services: Services, opts: BuildOptions = {}): Promise<FastifyInstance> {
  let fromCache: ((req: IncomingMessage, res: ServerResponse) => boolean) | undefined;
  const app = Fastify({
    ...(opts.loggerInstance ? { loggerInstance: opts.loggerInstance } : { logger: false }),
    bodyLimit: 1024 * 1024,
    // client addresses key the write limits: trust X-Forwarded-For only from configured proxies (TRUST_PROXY)
    trustProxy: services.config.trustProxy as boolean | string[], // a hop count works at run time; the type omits it
    requestIdHeader: false,
    genReqId: requestIdOf,
    // repeated public reads are written from the response cache before Fastify sees them
    serverFactory: (handler) =>
      createServer((req, res) => {
        if (fromCache?.(req, res)) return;
        handler(req, res);
      }),
    // allErrors: a 400 names every invalid field at once (bodies are bounded by bodyLimit and arrays by maxItems);
    // verbose: errors carry their schema, for the `x-error` messages (problem.plugin.ts)
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: true, verbose: true },
      plugins: [errorMessageKeyword],
    },
    return503OnClosing: true,
    // Node closes idle keep-alive sockets on close() itself; 'idle' here also cut requests whose bodies were still arriving
    forceCloseConnections: false,
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 200 },
    // malformed URLs (bad percent-encoding…) never reach a route: answer them as problems too
    frameworkErrors: (err, _req, reply) => sendProblem(reply, 'bad-request', `The URL is malformed: ${err.message}`),
  }).withTypeProvider<TypeBoxTypeProvider>();

  await app.register(problemPlugin);
  // first: answers repeated public reads from memory before any other hook runs;
  // cleared on every 'content-changed' (and across processes on PostgreSQL)
  await app.register(responseCachePlugin, {
    events: services.events,
    bus: changeBusFor(services.database, (err) => app.log.warn({ err }, 'response cache: NOTIFY failed')),
    // a hit answers each request's Origin as the security plugin would
    corsHeaders: (origin) => corsHeadersFor(services.config.corsOrigins, origin),
  });
  // the fast path: a hit costs what a bare server's answer costs (one access-log line when
  // the log level is info, as Fastify writes for the requests it handles); closing, every
  // request goes through Fastify, which answers new ones 503
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  fromCache = (req, res) => {
    if (closing) return false;
    const started = performance.now();
    let reqId = '';
    // the id is made only for a hit: a miss gets its own from Fastify (genReqId)
    if (!serveFromCache(app.responseCache, req, res, () => (reqId = requestIdOf(req)))) return false;
    if (LOGS_REQUESTS.has(app.log.level)) {
      app.log.info({ reqId, req: { method: req.method, url: req.url }, remoteAddress: req.socket.remoteAddress, res: { statusCode: res.statusCode }, responseTime: performance.now() - started, cache: 'hit' }, 'request completed');
    }
    return true;
  };
  await app.register(securityPlugin, { corsOrigins: services.config.corsOrigins });
  await app.register(nulGuard);
  await app.register(openapiPlugin);
  await app.register(problemPages);
  await app.register(cachingPlugin);
  await app.register(compressMisses);
  await app.register(rateLimitPlugin, { limit: services.config.rateLimitWrites });
  await app.register(formbody, { bodyLimit: 64 * 1024 });
  await app.register(bodyParsers);
  // multipart/form-data: parsed by the routes that take it (the comment POST's text fields); at most 64 kB per field
  await app.register(multipart, { limits: { fieldNameSize: 100, fieldSize: 64 * 1024, fields: 50, parts: 60 } });
  for (const schema of [...articleComponentSchemas, ...taxonomyComponentSchemas, ...responseComponentSchemas]) app.addSchema(schema);

  const { database, config, articles } = services;
  const db = database.db;
  const contentChanged = () => services.events.emit('content-changed');
  const discoveryHeaders = () => pingDiscoveryHeaders(config);

  await app.register(healthRoutes, { db, kind: database.kind });
  await app.register(siteRoutes, { config });
  await app.register(articlePublicRoutes, { articles, config, discoveryHeaders });
  await app.register(taxonomyPublicRoutes, { db });
  await app.register(feedRoutes, { articles, config, db });
  // /xmlrpc (+ .php), /webmention, /webmention/{id}: other blogs' front doors, in a scope of their own
  await app.register(linkbackRoutes, { linkbacks: services.linkbacks, config });
  await app.register(responsePublicRoutes, { responses: services.responses, config });

  // everything under /v1/admin needs a token
  await app.register(
    async (admin) => {
      requireAdminToken(admin, database.db);
      await admin.register(authAdminRoutes);
      await admin.register(announcementAdminRoutes, { announcements: services.announcements });
      await admin.register(articleAdminRoutes, { articles });
      await admin.register(taxonomyAdminRoutes, { db, onChange: contentChanged });
      await admin.register(pingAdminRoutes, { pings: services.linkbacks.outgoing });
      await admin.register(responseAdminRoutes, { responses: services.responses });
    },
    { prefix: '/v1/admin' },
  );

  // the reference frontend, a client of the routes above; its catch-all page route comes last
  if (config.frontend) await app.register(frontendPlugin, { config });

  await opts.beforeReady?.(app);

  return app;
}
