// One per-client budget for every public write (comments, pingbacks, webmentions):
// @fastify/rate-limit registered once, not globally; write routes opt in with the
// shared `publicWriteLimit` preHandler so they all draw from the same bucket.
import fp from 'fastify-plugin';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';
import type { RateLimit } from '../config.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** preHandler: counts the request against the client's public-write budget (RATE_LIMIT_WRITES) */
    publicWriteLimit: preHandlerAsyncHookHandler;
  }
}

export default fp(
  async function rateLimitPlugin(app: FastifyInstance, opts: { limit: RateLimit }) {
    await app.register(rateLimit, {
      global: false,
      max: opts.limit.max,
      timeWindow: opts.limit.windowMs,
      keyGenerator: (req) => req.ip,
      errorResponseBuilder: (_req, ctx) => {
        const err = new Error(
          `Too many writes from your address: at most ${opts.limit.text}. Try again in ${Math.ceil(ctx.ttl / 1000)} s.`,
        ) as Error & { statusCode: number };
        err.statusCode = 429;
        return err;
      },
    });
    app.decorate('publicWriteLimit', app.rateLimit() as unknown as preHandlerAsyncHookHandler);
  },
  { name: 'rate-limit' },
);
