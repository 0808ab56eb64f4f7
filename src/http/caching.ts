// HTTP caching for public reads: a strong ETag over the exact bytes sent,
// 304 on If-None-Match, and Cache-Control tuned for browsers and CDNs.
// Routes opt in with `config: { publicCache: true }`.
import { createHash } from 'node:crypto';
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** a public read: ETag, Cache-Control public, 304 */
    publicCache?: boolean;
    /**
     * The query parameters the route reads: others (utm_*, fbclid, ref…) are ignored and do
     * not split the response cache. Unset: the whole URL is the key (the /v1 routes refuse
     * unknown parameters with 400).
     */
    cacheQuery?: readonly string[];
  }
}

/** Browsers revalidate after a minute; CDNs may serve stale for 5 more minutes while they do. */
export const PUBLIC_CACHE_CONTROL = 'public, max-age=60, stale-while-revalidate=300, stale-if-error=86400';

export function etagOf(body: string | Buffer): string {
  return `"${createHash('sha1').update(body).digest('base64url')}"`;
}

/** Does If-None-Match (a list, or *) match this ETag? Weak comparison, as RFC 9110 says for GET. */
export function matchesIfNoneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const bare = etag.replace(/^W\//, '');
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === bare);
}

export default fp(
  async function cachingPlugin(app: FastifyInstance) {
    app.addHook('onSend', async (req, reply, payload) => {
      if (!reply.routeOptions.config?.publicCache) return payload;
      if ((req.method !== 'GET' && req.method !== 'HEAD') || reply.statusCode !== 200) return payload;
      if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) return payload;
      const etag = etagOf(payload);
      reply.header('etag', etag).header('cache-control', PUBLIC_CACHE_CONTROL);
      if (matchesIfNoneMatch(req.headers['if-none-match'], etag)) {
        reply.code(304);
        reply.removeHeader('content-length');
        return '';
      }
      return payload;
    });
  },
  { name: 'caching' },
);
