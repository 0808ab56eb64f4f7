import fp from 'fastify-plugin';
import helmet from '@fastify/helmet';
import cors from '@fastify/cors';
import type { FastifyInstance, FastifyRequest } from 'fastify';

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Security headers on every answer, request ids, and CORS open for reads only. */
export default fp(
  async function securityPlugin(app: FastifyInstance) {
    await app.register(helmet, {
      // pages set their own CSP (the frontend, Swagger UI); API answers get the strictest one below
      contentSecurityPolicy: false,
      crossOriginResourcePolicy: { policy: 'cross-origin' },
      crossOriginEmbedderPolicy: false,
    });
    await app.register(cors, {
      hook: 'onRequest',
      delegator: (req: FastifyRequest, cb) =>
        cb(null, READ_METHODS.has(req.method)
          ? {
              origin: '*',
              methods: ['GET', 'HEAD'],
              allowedHeaders: ['If-None-Match', 'If-Modified-Since', 'Accept', 'Content-Type'],
              exposedHeaders: ['Link', 'X-Total-Count', 'ETag', 'X-Request-Id', 'Retry-After', 'X-Pingback', 'Location'],
              maxAge: 86_400,
            }
          : { origin: false }),
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
