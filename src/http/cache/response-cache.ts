// An in-process cache of public read responses: the exact bytes, status and headers
// of a 200 answer to `GET <url>` on a route marked `config: { publicCache: true }`,
// replayed without touching the database, the handler or the serialiser.
//
// Correctness rests on three rules:
//  1. Exact local invalidation. Every committed write that public reads can see
//     emits a content event (src/events/content-events.ts); we then drop *everything*.
//     Clearing all is provably exact (no reasoning about which lists, counts,
//     tags, feeds or sitemaps an edit touches) and cheap: writes are rare next to
//     reads, and the next read of each URL refills it.
//  2. No stale refill. A read that began before a write may finish after it with
//     old data. Each miss remembers the cache generation it started in, and its
//     answer is stored only if no invalidation happened meanwhile.
//  3. Several processes. On PostgreSQL other Inkwell processes write too, so each
//     process turns its local content events into `NOTIFY inkwell_content_changed`
//     and LISTENs on that channel through the bus of db/notify.ts (one dedicated
//     connection, re-listened after a reconnect; we clear everything on every
//     (re)listen, which covers notifications lost while disconnected). NOTIFY rather than a short TTL
//     because it keeps read-your-writes across processes (an editor publishes on
//     one process and reloads on another: ~1 ms later every process has dropped
//     its copy) while the hit rate stays near 100 %; a 1–2 s TTL would serve old
//     pages for up to that long and recompute every hot URL every second in every
//     process. A TTL remains as a safety net (`ttlMs`, 30 s by default) for what
//     no event announces: a write made by hand in psql, or a process that dies
//     between its COMMIT and its NOTIFY. It is within the `max-age=60` that the
//     Cache-Control header already grants every browser and CDN. At expiry one
//     request recomputes the answer while the others still get the expired copy,
//     so a slow page (a deep OFFSET page) does not stall every reader every 30 s.
//     PGlite is one process's database: the local events are the whole story.
//
// The key is the request URL (path + query string), shared by GET and HEAD; the
// answer must therefore depend on nothing else in the request (no Accept-Language,
// no cookies, no per-request nonce). A fresh hit is written by the fast path ahead of
// Fastify (fast-path.ts), replaying the headers the whole pipeline produced on the miss
// (security headers, CORS for reads — the same for every GET —, ETag, Cache-Control,
// Link, X-Total-Count…) with this request's own id, and answering If-None-Match with
// 304 itself. The onRequest hook below answers what the fast path leaves to Fastify: an
// expired entry while another request recomputes it, or the answer a concurrent miss
// of the same URL was waiting for (the handler runs once for them all). The bodies kept
// are bounded (32 MB by default, least recently used out first). One onSend hook tags
// the answer (etag.ts: ETag, Cache-Control, 304) and keeps its body in the same step,
// so what is stored is what was tagged, whatever the other plugins' hooks do.
//
// Answers are served compressed when the client accepts it (encodings.ts), the first one
// included: a miss is compressed for its client before it is sent (off the event loop, in
// zlib's thread pool) and that encoding is kept with the entry; a hit that asks for an
// encoding not made yet waits for it, and every request that asks for the same encoding
// meanwhile waits for the same compression (one per entry and encoding, never N). So no
// client that accepts br or gzip gets the identity bytes of a compressible answer. A
// handler may offer the gzip of its answer made along with it (an article list stitched
// from pieces deflated once per article, stitched-gzip.ts): a miss whose client likes
// gzip as much as Brotli is sent those bytes, compressed by nobody. The
// encodings are kept with their entry (their bytes count toward the bound). Every answer
// of a cached route says `Vary: Accept-Encoding`, and an encoded answer (and the 304 that
// stands for it) carries the weak form of the ETag (W/"…"), so caches never confuse the
// two and If-None-Match matches either.
import { changeOf, EVERYTHING, type Change, type ContentEvents } from '../../events/content-events.ts';
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { compress, isCompressible, negotiate, offeredFor, varyAcceptEncoding, type Coding } from './encodings.ts';
import { conditional, weak } from './etag.ts';
import { writeEntry, type FastPath } from './fast-path.ts';

import type { NotifyBus } from '../../db/notify.ts';

export interface ResponseCacheOptions {
  /** the content event stream: every committed change public reads can see */
  events: ContentEvents;
  /** cross-process invalidation: used when it is shared (PostgreSQL); PGlite is one process */
  bus?: NotifyBus;
  /** safety net: an entry is never served older than this (ms) */
  ttlMs?: number;
  /** total body bytes kept; least recently used entries go first */
  maxBytes?: number;
  /** answers bigger than this are not kept (a full sitemap…) */
  maxEntryBytes?: number;
  /** CORS: the headers answering a request's Origin (cached routes are public), set per hit; none → kept as stored */
  corsHeaders?: (origin: string | undefined) => Record<string, string>;
  /** the server's handler that writes hits ahead of Fastify (app.ts passes the one its serverFactory uses) */
  fastPath?: FastPath;
}

export interface Entry {
  status: number;
  headers: Record<string, string | number | string[]>;
  body: Buffer;
  etag: string | undefined;
  storedAt: number;
  /** worth compressing (encodings.ts) */
  compressible?: boolean;
  /** the encodings made so far */
  encoded?: Partial<Record<Coding, Buffer>>;
  /** encodings being made: every request that wants one meanwhile waits for the same compression */
  encoding?: Map<Coding, Promise<Representation>>;
}

/** The bytes sent for an entry, and their Content-Encoding (none: the identity bytes). */
export interface Representation {
  body: Buffer;
  coding?: Coding;
}

/** An entry's bytes: its body and the encodings made of it. */
const sizeOf = (e: Entry) => e.body.length + (e.encoded?.br?.length ?? 0) + (e.encoded?.gzip?.length ?? 0);

export interface ResponseCacheStats {
  hits: number;
  misses: number;
  stores: number;
  invalidations: number;
  entries: number;
  bytes: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** the public read cache (tests and diagnostics) */
    responseCache: ResponseCache;
  }
}

const CORS_HEADERS = ['access-control-allow-origin', 'access-control-expose-headers'];

/** Headers that belong to one exchange, not to the answer. */
const PER_EXCHANGE = new Set(['x-request-id', 'content-length', 'date', 'connection', 'keep-alive', 'transfer-encoding', 'set-cookie']);

export class ResponseCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<void>>();
  private bytes = 0;
  private generation = 0;
  readonly stats = { hits: 0, misses: 0, stores: 0, invalidations: 0 };

  constructor(
    readonly ttlMs: number,
    readonly maxBytes: number,
    readonly maxEntryBytes: number,
    readonly corsHeaders?: (origin: string | undefined) => Record<string, string>,
  ) {}

  /** The generation a miss starts in; `store` refuses answers computed across an invalidation. */
  get currentGeneration(): number {
    return this.generation;
  }

  /** A fresh entry; an expired one stays for `stale` until its refresh replaces it. */
  get(key: string, now = Date.now()): Entry | undefined {
    const e = this.entries.get(key);
    if (!e || now - e.storedAt > this.ttlMs) return undefined;
    // least recently used order: Map iteration order is insertion order
    this.entries.delete(key);
    this.entries.set(key, e);
    return e;
  }

  /**
   * The entry even when its TTL has passed: served while one request recomputes it, so
   * a slow page does not stall every reader at each expiry. Invalidation removes entries
   * outright, so nothing a write changed is ever served from here.
   */
  stale(key: string): Entry | undefined {
    return this.entries.get(key);
  }

  store(key: string, generation: number, entry: Entry): boolean {
    if (generation !== this.generation || entry.body.length > this.maxEntryBytes) return false;
    const old = this.entries.get(key);
    if (old) this.delete(key, old);
    this.entries.set(key, entry);
    this.bytes += sizeOf(entry);
    this.stats.stores++;
    this.evict();
    return true;
  }

  /** The encoding a client accepting `acceptEncoding` gets for `entry`, if any. */
  codingFor(entry: Entry, acceptEncoding: string | undefined): Coding | undefined {
    return entry.compressible ? negotiate(acceptEncoding) : undefined;
  }

  /**
   * The bytes to send for `entry` in `coding`: the identity bytes, an encoding made earlier,
   * or — the first time that encoding is asked for — a promise of it, made once off the event
   * loop for this request and every one that asks meanwhile. A failed compression (never
   * seen) answers the identity bytes.
   */
  representation(key: string, entry: Entry, coding: Coding | undefined): Representation | Promise<Representation> {
    if (!coding) return { body: entry.body };
    const made = entry.encoded?.[coding];
    if (made) return { body: made, coding };
    let pending = entry.encoding?.get(coding);
    if (!pending) {
      pending = compress[coding](entry.body).then(
        (bytes) => {
          this.keepEncoding(key, entry, coding, bytes);
          return { body: bytes, coding };
        },
        () => {
          entry.encoding?.delete(coding);
          return { body: entry.body };
        },
      );
      (entry.encoding ??= new Map()).set(coding, pending);
    }
    return pending;
  }

  private keepEncoding(key: string, entry: Entry, coding: Coding, bytes: Buffer): void {
    entry.encoding?.delete(coding);
    (entry.encoded ??= {})[coding] = bytes;
    // dropped or replaced meanwhile: its bytes no longer count
    if (this.entries.get(key) !== entry) return;
    this.bytes += bytes.length;
    this.evict();
  }

  /** Drops every entry and refuses answers computed before now. */
  invalidate(): void {
    this.generation++;
    this.entries.clear();
    this.bytes = 0;
    this.stats.invalidations++;
  }

  snapshot(): ResponseCacheStats {
    return { ...this.stats, entries: this.entries.size, bytes: this.bytes };
  }

  /** Single flight: concurrent misses of one URL wait for the first instead of all querying. */
  leaderFor(key: string): Promise<void> | undefined {
    return this.inflight.get(key);
  }

  lead(key: string): () => void {
    let done!: () => void;
    const p = new Promise<void>((resolve) => (done = resolve));
    this.inflight.set(key, p);
    return () => {
      if (this.inflight.get(key) === p) this.inflight.delete(key);
      done();
    };
  }

  private evict(): void {
    for (const [k, e] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.delete(k, e);
    }
  }

  private delete(key: string, e: Entry): void {
    this.entries.delete(key);
    this.bytes -= sizeOf(e);
  }
}

const kGeneration = Symbol('responseCache.generation');
const kSettle = Symbol('responseCache.settle');
const kBody = Symbol('responseCache.body');
const kEncoded = Symbol('responseCache.encoded');
const kStrongEtag = Symbol('responseCache.strongEtag');
type Tracked = FastifyRequest & {
  [kGeneration]?: number;
  [kSettle]?: () => void;
  [kBody]?: Buffer;
  /** the miss's answer as compressed for its client: kept with the entry */
  [kEncoded]?: { coding: Coding; bytes: Buffer; keep: boolean };
  /** the identity answer's (strong) ETag, when the client was sent its weak form */
  [kStrongEtag]?: string;
};

const cacheable = (req: FastifyRequest) =>
  (req.method === 'GET' || req.method === 'HEAD') && req.routeOptions.config?.publicCache === true;

async function replay(cache: ResponseCache, key: string, req: FastifyRequest, reply: FastifyReply, e: Entry): Promise<void> {
  // written to the socket as stored: headers other hooks set on `reply` are not sent
  reply.hijack();
  await writeEntry(cache, key, req.raw, reply.raw, e, String(req.id));
}

/**
 * The cache key of a request: its URL; for a route that names the query parameters it
 * reads (`cacheQuery`: feeds, sitemap, pages), the path and those parameters only, so
 * that `?utm_source=…` and friends neither split the cache nor miss it.
 */
function cacheKey(req: FastifyRequest): string {
  const used = req.routeOptions.config?.cacheQuery;
  const q = req.url.indexOf('?');
  if (!used || q === -1) return req.url;
  const kept = req.url
    .slice(q + 1)
    .split('&')
    .filter((pair) => used.includes(decodeURIComponentSafe(pair.split('=')[0])));
  return kept.length ? `${req.url.slice(0, q)}?${kept.join('&')}` : req.url.slice(0, q);
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * A change's NOTIFY payload: what it shows in (`changeOf`), so that the other processes'
 * article read caches keep the rest: `article 12` (that article's JSON alone), `article 12
 * lists` (it and every list), `article none` (no article), empty (anything). A payload
 * this process cannot read means anything.
 */
const payloadOf = (change: Change) => (change.article === 'all' ? '' : `article ${change.article ?? 'none'}${change.lists ? ' lists' : ''}`);
const changeIn = (payload: string): Change => {
  const m = /^article (\d{1,15}|none)( lists)?$/.exec(payload);
  return m ? { article: m[1] === 'none' ? null : Number(m[1]), lists: m[2] !== undefined } : EVERYTHING;
};

export default fp<ResponseCacheOptions>(
  async function responseCachePlugin(app: FastifyInstance, opts: ResponseCacheOptions) {
    const cache = new ResponseCache(opts.ttlMs ?? SAFETY_TTL_MS, opts.maxBytes ?? 32 * 1024 * 1024, opts.maxEntryBytes ?? 2 * 1024 * 1024, opts.corsHeaders);
    app.decorate('responseCache', cache);
    opts.fastPath?.attach(app, cache);

    const bus = opts.bus?.shared ? opts.bus : undefined;
    const stopInvalidating = opts.events.onAnyChange(() => cache.invalidate());
    const stopPublishing = opts.events.onCommit((event) => {
      bus?.publish(CONTENT_CHANNEL, payloadOf(changeOf(event))).catch((err) => app.log.warn({ err }, 'response cache: NOTIFY failed'));
    });
    // the other processes' changes reach every cache of public reads through the event stream
    // (the article read cache too); our own notifications come back as well: we cleared before sending them
    const unlisten = await bus?.subscribe(CONTENT_CHANNEL, {
      onMessage: (m) => {
        if (!m.own) opts.events.changedElsewhere(changeIn(m.payload));
      },
      onReset: () => opts.events.changedElsewhere(),
    });
    app.addHook('onClose', async () => {
      stopInvalidating();
      stopPublishing();
      await unlisten?.();
    });

    // what the fast path left to Fastify: a miss, or an entry being recomputed
    app.addHook('onRequest', async (req: Tracked, reply) => {
      if (!cacheable(req)) return;
      const key = cacheKey(req);
      let hit = cache.get(key);
      const leader = hit ? undefined : cache.leaderFor(key);
      if (leader) {
        // someone is computing this answer: serve the expired copy if there is one, else wait for theirs
        hit = cache.stale(key);
        if (!hit) {
          await leader;
          hit = cache.get(key);
        }
      }
      if (hit) {
        cache.stats.hits++;
        await replay(cache, key, req, reply, hit);
        return;
      }
      cache.stats.misses++;
      req[kGeneration] = cache.currentGeneration;
      // a client gone meanwhile (while it waited for a leader of its own) leads nothing: its
      // 'close' has fired already, and the URL would wait for it for ever
      if (req.method === 'GET' && !cache.leaderFor(key) && !reply.raw.destroyed) {
        const settle = cache.lead(key);
        req[kSettle] = settle;
        // always release followers, also when the client goes away or the handler fails
        reply.raw.once('close', settle);
      }
    });

    // one step: tag the answer (ETag, Cache-Control, 304 on If-None-Match), keep the body
    // that was tagged, and compress it for a client that accepts it (the entry keeps that
    // encoding); a conditional miss still fills the cache with the full answer
    app.addHook('onSend', async (req: Tracked, reply, payload) => {
      if (!cacheable(req)) return payload;
      // hits of this URL may be encoded: say so on every answer (the identity one too)
      if (req[kGeneration] !== undefined) reply.header('vary', varyAcceptEncoding(reply.getHeader('vary')));
      if (reply.statusCode !== 200 || (typeof payload !== 'string' && !Buffer.isBuffer(payload))) return payload;
      // a Buffer as it is (a page stitched from pieces is made for this answer alone): copying it cost each miss of a page its size again
      const body = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
      if (req[kGeneration] !== undefined && req.method === 'GET') req[kBody] = body;
      // an encoding the handler makes cheaper (a page stitched from gzip pieces): sent where the client likes it as much
      const ready = offeredFor(reply, payload);
      const sent = conditional(req, reply, payload);
      const coding = isCompressible(body, reply.getHeaders()) ? negotiate(req.headers['accept-encoding'], ready?.coding) : undefined;
      if (!coding) return sent;
      const etag = reply.getHeader('etag');
      if (typeof etag === 'string') {
        // an encoded answer (and the 304 standing for it) carries the weak form, as a hit's does (fast-path.ts)
        req[kStrongEtag] = etag;
        reply.header('etag', weak(etag));
      }
      if ((reply.statusCode as number) === 304) return sent;
      // the handler's: not kept with the entry (a hit's encoding is made whole, once: smaller than pieces side by side)
      const made = ready?.coding === coding;
      const bytes = made ? await ready.make() : await compress[coding](body);
      req[kEncoded] = { coding, bytes, keep: !made };
      reply.header('content-encoding', coding);
      reply.removeHeader('content-length');
      return bytes;
    });

    // once the answer is out its headers are final (CSP and the request id come from other plugins' onSend hooks)
    app.addHook('onResponse', async (req: Tracked, reply) => {
      const body = req[kBody];
      const generation = req[kGeneration];
      if (body !== undefined && generation !== undefined) {
        const headers: Entry['headers'] = {};
        for (const [k, v] of Object.entries(reply.getHeaders())) {
          if (v !== undefined && !PER_EXCHANGE.has(k)) headers[k] = v as string | number | string[];
        }
        // with a CORS_ORIGINS list they depend on the request's Origin: set per hit (writeEntry)
        if (cache.corsHeaders) for (const h of CORS_HEADERS) delete headers[h];
        // the entry's headers are the identity answer's; the encoding sent goes along with it
        const encoded = req[kEncoded];
        if (encoded) delete headers['content-encoding'];
        if (req[kStrongEtag] !== undefined) headers.etag = req[kStrongEtag];
        const etag = typeof headers.etag === 'string' ? headers.etag : undefined;
        cache.store(cacheKey(req), generation, {
          status: 200,
          headers,
          body,
          etag,
          storedAt: Date.now(),
          compressible: isCompressible(body, headers),
          encoded: encoded?.keep ? { [encoded.coding]: encoded.bytes } : undefined,
        });
      }
      req[kSettle]?.();
    });
  },
  { name: 'response-cache' },
);

/**
 * The safety net of every cache of public content: what no event announces (a write made by
 * hand in psql, a process that died between its COMMIT and its NOTIFY) shows after this long.
 */
export const SAFETY_TTL_MS = 30_000;

/** The channel on which processes tell each other that public content changed. */
export const CONTENT_CHANNEL = 'inkwell_content_changed';
