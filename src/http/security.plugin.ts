import fp from 'fastify-plugin';
import helmet from '@fastify/helmet';
import cors from '@fastify/cors';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** Browsers on other origins read what the public API says (SPEC §11): these headers too. */
const EXPOSED = ['ETag', 'Link', 'X-Total-Count', 'Location', 'Retry-After', 'RateLimit', 'RateLimit-Policy', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset', 'X-Request-Id', 'X-Pingback'];
/** what a preflight allows: a comment POST in JSON, conditional reads and writes, a request id */
const ALLOWED = ['Content-Type', 'If-None-Match', 'If-Match', 'If-Modified-Since', 'X-Request-Id'];

/**
 * The CORS headers of a simple (non-preflight) public answer to a request from `origin`, as
 * @fastify/cors writes them below: for the response cache, which replays one stored answer
 * to requests from several origins.
 */
export function corsHeadersFor(origins: '*' | string[], origin: string | undefined): Record<string, string> {
  const allow = origins === '*' ? '*' : origin !== undefined && origins.includes(origin) ? origin : undefined;
  return allow ? { 'access-control-allow-origin': allow, 'access-control-expose-headers': EXPOSED.join(', ') } : {};
}

/** no CORS: the admin API, and the editor's desk (pages for people signed in here) */
const ADMIN = /^\/(v1\/admin|desk)(\/|\?|$)/;

/**
 * Security headers on every answer, request ids, and CORS on everything public: every
 * answer but the admin API's (reads, the comment POST, every problem, the feeds), for
 * the origins of CORS_ORIGINS.
 */
export default fp(
  async function securityPlugin(app: FastifyInstance, opts: { corsOrigins: '*' | string[] }) {
    await app.register(helmet, {
      // pages set their own CSP (the frontend, the API reference at /docs); API answers get the strictest one below
      contentSecurityPolicy: false,
      crossOriginResourcePolicy: { policy: 'cross-origin' },
      crossOriginEmbedderPolicy: false,
    });
    const open = {
      // a list answers the matching origin (and says Vary: Origin); * answers any
      origin: opts.corsOrigins === '*' ? '*' : opts.corsOrigins,
      methods: ['GET', 'HEAD', 'POST'],
      allowedHeaders: ALLOWED,
      exposedHeaders: EXPOSED,
      maxAge: 86_400,
    };
    await app.register(cors, {
      hook: 'onRequest',
      delegator: (req: FastifyRequest, cb) => cb(null, ADMIN.test(req.url) ? { origin: false } : open),
    });
    app.addHook('onSend', async (req, reply, payload) => {
      reply.header('x-request-id', req.id);
      const type = String(reply.getHeader('content-type') ?? '');
      if (!reply.hasHeader('content-security-policy') && /json|xml/.test(type)) {
        reply.header('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
      }
      return payload;
    });
  },
  { name: 'security' },
);
