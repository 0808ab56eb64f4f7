// One per-client budget for every public write (comments, pingbacks, webmentions):
// @fastify/rate-limit registered once, not globally; write routes opt in with the
// shared `publicWriteLimit` preHandler so they all draw from the same bucket. The
// bucket lives in the site's limit store (limits/limits.store.ts): PostgreSQL when
// processes share one, so three processes do not grant three budgets.
import fp from 'fastify-plugin';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';
import type { RateLimit } from '../config.ts';
import type { LimitStore } from '../limits/limits.store.ts';

type Counted = (err: Error | null, res?: { current: number; ttl: number }) => void;

/** @fastify/rate-limit's store interface over a LimitStore (one instance: the plugin is not global, no per-route children). */
function storeAdapter(limits: LimitStore) {
  return class SiteRateLimitStore {
    incr(key: string, cb: Counted, timeWindow: number): void {
      limits.hit(`writes:${key}`, timeWindow).then(
        (r) => cb(null, { current: r.count, ttl: r.ttlMs }),
        (err: Error) => cb(err),
      );
    }
    child(): this {
      return this;
    }
  };
}

declare module 'fastify' {
  interface FastifyInstance {
    /** preHandler: counts the request against the client's public-write budget (RATE_LIMIT_WRITES) */
    publicWriteLimit: preHandlerAsyncHookHandler;
  }
}

export default fp(
  async function rateLimitPlugin(app: FastifyInstance, opts: { limit: RateLimit; store: LimitStore }) {
    await app.register(rateLimit, {
      global: false,
      store: storeAdapter(opts.store) as never,
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
