// HTTP caching for public reads, in one place: a strong ETag over the exact bytes sent,
// 304 on If-None-Match, and Cache-Control tuned for browsers and CDNs. Routes opt in with
// `config: { publicCache: true }`. The response cache's onSend hook calls `conditional`
// for every answer of such a route (a miss), and the fast path answers a hit's
// If-None-Match with `matchesIfNoneMatch`, so a miss and a hit answer alike.
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** a public read: ETag, Cache-Control public, 304, kept by the response cache */
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

/** The weak form of an ETag: what an encoded representation of the same answer carries. */
export const weak = (etag: string) => (etag.startsWith('W/') ? etag : `W/${etag}`);

/** Does If-None-Match (a list, or *) match this ETag? Weak comparison, as RFC 9110 says for GET. */
export function matchesIfNoneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const bare = etag.replace(/^W\//, '');
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === bare);
}

/**
 * A 200 answer of a public read: tags it (ETag, Cache-Control) and, when the request's
 * If-None-Match matches, turns it into a 304 without a body. Returns the payload to send.
 */
export function conditional(req: FastifyRequest, reply: FastifyReply, payload: string | Buffer): string | Buffer {
  const etag = etagOf(payload);
  reply.header('etag', etag).header('cache-control', PUBLIC_CACHE_CONTROL);
  if (!matchesIfNoneMatch(req.headers['if-none-match'], etag)) return payload;
  reply.code(304);
  reply.removeHeader('content-length');
  return '';
}
