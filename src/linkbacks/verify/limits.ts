// Rate limits for the open-web front doors (/xmlrpc and /webmention), both on
// RATE_LIMIT_WRITES and @fastify/rate-limit (registered once for the app by
// http/rate-limit.ts):
// - per client: the one public-write budget comments draw from too (SPEC §2);
// - per target article: a flood aimed at one article may come from many addresses, and
//   every accepted request costs us a fetch.
// The two protocols answer differently (a fault for XML-RPC, 429 for Webmention), so the
// routes ask for a verdict instead of letting the plugin reply.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RateLimit } from '../../config.ts';

export interface Verdict {
  allowed: boolean;
  /** seconds until the window resets, when refused */
  retryAfter: number;
}

export interface LinkbackLimits {
  /** counts one write of this client against the shared public-write budget */
  client(req: FastifyRequest, reply: FastifyReply): Promise<Verdict>;
  /** counts one request aimed at this article */
  target(req: FastifyRequest, articleId: number): Promise<Verdict>;
}

const ALLOWED: Verdict = { allowed: true, retryAfter: 0 };

export function linkbackLimits(scope: FastifyInstance, limit: RateLimit): LinkbackLimits {
  // the key of the per-target limiter is the article, which the request only reveals once parsed
  const targetKeys = new WeakMap<FastifyRequest, string>();
  const perTarget = scope.createRateLimit({ max: limit.max, timeWindow: limit.windowMs, keyGenerator: (req) => targetKeys.get(req) ?? 'unknown' });
  return {
    client: async (req, reply) => {
      try {
        await scope.publicWriteLimit.call(scope, req, reply);
        return ALLOWED;
      } catch (e) {
        if ((e as { statusCode?: number }).statusCode !== 429) throw e;
        // the plugin has set Retry-After on the reply already
        return { allowed: false, retryAfter: Math.max(1, Number(reply.getHeader('retry-after')) || 1) };
      }
    },
    target: async (req, articleId) => {
      targetKeys.set(req, `article:${articleId}`);
      const r = await perTarget(req);
      return r.isAllowed || !r.isExceeded ? ALLOWED : { allowed: false, retryAfter: Math.max(1, r.ttlInSeconds) };
    },
  };
}
