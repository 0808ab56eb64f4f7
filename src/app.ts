// buildApp(services) → a Fastify instance. It never listens and never reads the
// environment; its register list below is the table of contents of the HTTP surface.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Services } from './compose.ts';
import problemPlugin, { errorMessageKeyword, problemPages, sendProblem } from './http/problem.plugin.ts';
import securityPlugin, { corsHeadersFor } from './http/security.plugin.ts';
import nulGuard from './http/nul-guard.ts';
import openapiPlugin from './http/openapi.plugin.ts';
import { healthRoutes } from './site/health.routes.ts';
import { requireAdminToken, scoped } from './http/auth.ts';
import { authAdminRoutes } from './auth/auth.routes.ts';
import { announcementAdminRoutes } from './social/announcements/announcements.routes.ts';
import responseCachePlugin from './http/cache/response-cache.ts';
import { cacheFastPath } from './http/cache/fast-path.ts';
import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';
import bodyParsers from './http/body-parsers.ts';
import { siteRoutes } from './site/site.routes.ts';
import { articleComponentSchemas } from './articles/articles.schemas.ts';
import { articleAdminRoutes, articlePublicRoutes } from './articles/articles.routes.ts';
import { taxonomyAdminRoutes, taxonomyPublicRoutes } from './taxonomy/taxonomy.routes.ts';
import { taxonomyComponentSchemas } from './taxonomy/taxonomy.schemas.ts';
import { feedRoutes } from './feeds/feeds.routes.ts';
import { linkbackDiscovery, linkbackRoutes, pingAdminRoutes } from './linkbacks/linkbacks.ts';
import { frontendPlugin } from './frontend/frontend.plugin.ts';
import rateLimitPlugin from './http/rate-limit.ts';
import { responseAdminRoutes, responsePublicRoutes } from './comments/responses.routes.ts';
import { responseComponentSchemas } from './comments/responses.schemas.ts';
import { redirectRoutes } from './redirects/redirects.routes.ts';
import { mediaComponentSchemas } from './media/media.schemas.ts';
import { mediaAdminRoutes, mediaFileRoutes } from './media/media.routes.ts';
import { webhookAdminRoutes, webhookComponentSchemas } from './webhooks/webhooks.routes.ts';
import { changesComponentSchemas, changesRoutes } from './feeds/changes.routes.ts';
import { previewAdminRoutes, previewPublicRoutes } from './articles/previews.routes.ts';
import { deskPlugin } from './desk/desk.plugin.ts';
import { DeskServices } from './desk/desk.services.ts';

export interface BuildOptions {
  /** a pino logger shared with the workers; none → silent */
  loggerInstance?: FastifyServerOptions['loggerInstance'];
  /** tests: add routes before the app is sealed */
  beforeReady?: (app: FastifyInstance) => void | Promise<void>;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** The caller's X-Request-Id when it is a sane token, else a new UUID. */
function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

export async function buildApp(services: Services, opts: BuildOptions = {}): Promise<FastifyInstance> {
  const fastPath = cacheFastPath(requestIdOf);
  const app = Fastify({
    ...(opts.loggerInstance ? { loggerInstance: opts.loggerInstance } : { logger: false }),
    bodyLimit: 1024 * 1024,
    // client addresses key the write limits: trust X-Forwarded-For only from configured proxies (TRUST_PROXY)
    trustProxy: services.config.trustProxy as boolean | string[], // a hop count works at run time; the type omits it
    requestIdHeader: false,
    genReqId: requestIdOf,
    // repeated public reads are written from the response cache before Fastify sees them
    serverFactory: fastPath.serverFactory,
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
  // public reads: ETag/304, kept in memory and written by the fast path on a hit;
  // cleared on every committed content event (and across processes on PostgreSQL)
  await app.register(responseCachePlugin, {
    events: services.events,
    bus: services.bus,
    fastPath,
    maxBytes: services.config.responseCacheMB * 1024 * 1024,
    // a hit answers each request's Origin as the security plugin would
    corsHeaders: (origin) => corsHeadersFor(services.config.corsOrigins, origin),
  });
  await app.register(securityPlugin, { corsOrigins: services.config.corsOrigins });
  await app.register(nulGuard);
  await app.register(openapiPlugin);
  await app.register(problemPages);
  await app.register(rateLimitPlugin, { limit: services.config.rateLimitWrites, store: services.limits });
  await app.register(formbody, { bodyLimit: 64 * 1024 });
  await app.register(bodyParsers);
  // multipart/form-data: streamed by the routes that take it (uploads; the comment POST's text fields); defaults: at most 64 kB per field
  await app.register(multipart, { limits: { fieldNameSize: 100, fieldSize: 64 * 1024, fields: 50, parts: 60 } });
  for (const schema of [...mediaComponentSchemas, ...articleComponentSchemas, ...taxonomyComponentSchemas, ...responseComponentSchemas, ...webhookComponentSchemas, ...changesComponentSchemas]) app.addSchema(schema);

  const { database, config, articles } = services;
  const db = database.db;
  const linkbackEndpoints = linkbackDiscovery(config);
  const discoveryHeaders = linkbackEndpoints.headers;

  await app.register(healthRoutes, { db, kind: database.kind });
  await app.register(siteRoutes, { config, endpoints: linkbackEndpoints });
  await app.register(articlePublicRoutes, { articles, config, discoveryHeaders });
  await app.register(taxonomyPublicRoutes, { taxonomy: services.taxonomy });
  await app.register(feedRoutes, { articles, config, media: services.media });
  // /xmlrpc (+ .php), /webmention, /webmention/{id}: other blogs' front doors, in a scope of their own
  await app.register(linkbackRoutes, { linkbacks: services.linkbacks, config });
  await app.register(responsePublicRoutes, { responses: services.responses, config });
  await app.register(redirectRoutes, { db, config });
  await app.register(mediaFileRoutes, { media: services.media });
  await app.register(changesRoutes, { changes: services.changes });
  await app.register(previewPublicRoutes, { previews: services.previews });

  // everything under /v1/admin needs a token; its scope covers the plugin's (unwrapped: `admin`)
  await app.register(
    async (admin) => {
      requireAdminToken(admin, database.db);
      await admin.register(scoped('any', authAdminRoutes));
      await admin.register(announcementAdminRoutes, { announcements: services.announcements });
      await admin.register(scoped('content', articleAdminRoutes), { articles });
      await admin.register(scoped('content', taxonomyAdminRoutes), { taxonomy: services.taxonomy });
      await admin.register(pingAdminRoutes, { pings: services.linkbacks.outgoing });
      await admin.register(scoped('moderation', responseAdminRoutes), { responses: services.responses });
      await admin.register(scoped('content', mediaAdminRoutes), { media: services.media, maxBytes: config.media.maxBytes });
      await admin.register(webhookAdminRoutes, { webhooks: services.webhooks });
      await admin.register(scoped('content', previewAdminRoutes), { previews: services.previews });
    },
    { prefix: '/v1/admin' },
  );

  // the editor's desk (§16): pages for people, on the services the admin API uses
  if (config.frontend) await app.register(deskPlugin, { desk: new DeskServices(services), config, prefix: '/desk' });

  // the reference frontend, a client of the routes above; its catch-all page route comes last
  if (config.frontend) await app.register(frontendPlugin, { config, discoveryHeaders });

  await opts.beforeReady?.(app);

  return app;
}
