// An in-process cache of public read responses: the exact bytes, status and headers
// of a 200 answer to `GET <url>` on a route marked `config: { publicCache: true }`,
// replayed without touching the database, the handler or the serialiser.
//
// Correctness rests on three rules:
//  1. Exact local invalidation. Every committed write that public reads can see
//     emits 'content-changed' on `services.events`; we then drop *everything*.
//     Clearing all is provably exact (no reasoning about which lists, counts,
//     tags, feeds or sitemaps an edit touches) and cheap: writes are rare next to
//     reads, and the next read of each URL refills it.
//  2. No stale refill. A read that began before a write may finish after it with
//     old data. Each miss remembers the cache generation it started in, and its
//     answer is stored only if no invalidation happened meanwhile.
//  3. Several processes. On PostgreSQL other Inkwell processes write too, so each
//     process turns its local 'content-changed' into `NOTIFY inkwell_content_changed`
//     and LISTENs on that channel (postgres.js keeps one dedicated connection and
//     re-listens after a reconnect; we clear everything on every (re)listen, which
//     covers notifications lost while disconnected). NOTIFY rather than a short TTL
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
// The key is the request URL (path + query string; for routes that name the parameters
// they read, `cacheQuery`, only those), shared by GET and HEAD; the
// answer must therefore depend on nothing else in the request (no Accept-Language,
// no cookies, no per-request nonce). Register this plugin before the others: its
// onRequest hook then answers a hit before any other hook runs, replaying the
// headers the whole pipeline produced on the miss (security headers, ETag,
// Cache-Control, Link, X-Total-Count…; CORS headers are set per request's Origin)
// with this request's own id, and answering If-None-Match with 304 itself.
// Concurrent misses of one URL run the handler once (the others wait for it), and
// the bodies kept are bounded (32 MB by default, least recently used out first).
//
// Answers are served compressed when the client accepts it (Accept-Encoding, br over
// gzip), as nginx would in front of WordPress: a list page of 20 articles is ~70 kB of
// JSON and ~15 kB of Brotli. Each encoding of an entry is made once, off the event loop
// (zlib's thread pool), the first time a client asks for it: on the miss itself
// (`compressMisses`), or on the first hit that wants another encoding, which waits for it
// (as do those that arrive meanwhile) — no client that accepts compression gets the
// identity bytes. Encodings are kept with the entry (their bytes count toward the bound). Every answer of a cached route says
// `Vary: Accept-Encoding`, and an encoded answer carries the weak form of the ETag
// (W/"…"), so caches never confuse the two and If-None-Match matches either.
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { Negotiator } from '@fastify/accept-negotiator';
import type { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { matchesIfNoneMatch } from './caching.ts';
import type { Database } from '../db/client.ts';

/** Tells other processes that content changed, and hears them do so. */
export interface ChangeBus {
  /** announce a local change to the others */
  publish(): void;
  /** `onChange`: another process changed content; `onReset`: (re)connected, anything may have been missed */
  subscribe(onChange: () => void, onReset: () => void): Promise<void>;
  close(): Promise<void>;
}

export interface ResponseCacheOptions {
  /** emits 'content-changed' after every committed write that public reads can see */
  events: EventEmitter;
  /** cross-process invalidation (PostgreSQL); none for a single process */
  bus?: ChangeBus;
  /** safety net: an entry is never served older than this (ms) */
  ttlMs?: number;
  /** total body bytes kept; least recently used entries go first */
  maxBytes?: number;
  /** answers bigger than this are not kept (a full sitemap…) */
  maxEntryBytes?: number;
  /** CORS: the headers answering a request's Origin (cached routes are public), set per hit; none → kept as stored */
  corsHeaders?: (origin: string | undefined) => Record<string, string>;
}

type Coding = 'br' | 'gzip';

interface Entry {
  status: number;
  headers: Record<string, string | number | string[]>;
  body: Buffer;
  etag: string | undefined;
  storedAt: number;
  /** worth compressing: a text type, at least MIN_COMPRESS bytes */
  compressible?: boolean;
  /** the encodings made so far */
  encoded?: Partial<Record<Coding, Buffer>>;
  /** encodings being made: a hit that wants one waits for it instead of getting the identity bytes */
  encoding?: Map<Coding, Promise<void>>;
}

/** below this, headers outweigh what compression saves */
const MIN_COMPRESS = 1024;
const COMPRESSIBLE = /^(text\/|application\/(json|[\w.+-]+\+json|xml|[\w.+-]+\+xml|javascript))/i;
const negotiator = new Negotiator<Coding>({ supportedValues: ['br', 'gzip'] });
const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);
/** Brotli 5 and gzip 6: within a few per cent of the best ratio at a small part of its cost */
const compressors: Record<Coding, (b: Buffer) => Promise<Buffer>> = {
  br: (b) => brotli(b, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 5, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: b.length } }),
  gzip: (b) => gzip(b, { level: 6 }),
};

const weak = (etag: string) => (etag.startsWith('W/') ? etag : `W/${etag}`);

/** Adds Accept-Encoding to a Vary header value (once). */
export function varyAcceptEncoding(current: unknown): string {
  const list = (Array.isArray(current) ? current.join(',') : typeof current === 'string' ? current : '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  if (list.includes('*') || list.some((t) => t.toLowerCase() === 'accept-encoding')) return list.join(', ');
  return [...list, 'Accept-Encoding'].join(', ');
}

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
    this.bytes += entry.body.length + (entry.encoded?.br?.length ?? 0) + (entry.encoded?.gzip?.length ?? 0);
    this.stats.stores++;
    this.evict();
    return true;
  }

  /**
   * The bytes to send for `entry` to a client accepting `acceptEncoding`: the identity
   * bytes, an encoding made earlier, or — the first time a client asks for that encoding —
   * `pending`, resolved once it is made (off the event loop, in zlib's thread pool), so
   * that no client that accepts compression gets the uncompressed bytes.
   */
  representation(key: string, entry: Entry, acceptEncoding: string | undefined): { body: Buffer; coding?: Coding } | { pending: Promise<void> } {
    if (!entry.compressible || !acceptEncoding) return { body: entry.body };
    const coding = negotiator.negotiate(acceptEncoding);
    if (!coding) return { body: entry.body };
    const made = entry.encoded?.[coding];
    if (made) return { body: made, coding };
    let pending = entry.encoding?.get(coding);
    if (!pending) {
      pending = compressors[coding](entry.body).then(
        (bytes) => {
          entry.encoding?.delete(coding);
          (entry.encoded ??= {})[coding] = bytes;
          // dropped or replaced meanwhile: its bytes no longer count
          if (this.entries.get(key) !== entry) return;
          this.bytes += bytes.length;
          this.evict();
        },
        () => {
          // cannot compress (never seen): the identity bytes from now on
          entry.encoding?.delete(coding);
          entry.compressible = false;
        },
      );
      (entry.encoding ??= new Map()).set(coding, pending);
    }
    return { pending };
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
    this.bytes -= e.body.length + (e.encoded?.br?.length ?? 0) + (e.encoded?.gzip?.length ?? 0);
  }
}

const kGeneration = Symbol('responseCache.generation');
const kSettle = Symbol('responseCache.settle');
const kIfNoneMatch = Symbol('responseCache.ifNoneMatch');
const kBody = Symbol('responseCache.body');
const kEncoded = Symbol('responseCache.encoded');
const kStrongEtag = Symbol('responseCache.strongEtag');
type Tracked = FastifyRequest & {
  [kGeneration]?: number;
  [kSettle]?: () => void;
  [kIfNoneMatch]?: string;
  [kBody]?: Buffer;
  [kEncoded]?: { coding: Coding; bytes: Buffer };
  [kStrongEtag]?: string;
};

const cacheable = (req: FastifyRequest) =>
  (req.method === 'GET' || req.method === 'HEAD') && req.routeOptions.config?.publicCache === true;

/** Writes a stored answer (or its 304) to the socket: the stored headers, this request's id, the encoding it accepts. */
function writeEntry(cache: ResponseCache, req: IncomingMessage, res: ServerResponse, e: Entry, representation: { body: Buffer; coding?: Coding }, requestId: string): void {
  const headers: Record<string, string | number | string[]> = { ...e.headers, 'x-request-id': requestId };
  if (cache.corsHeaders) Object.assign(headers, cache.corsHeaders(typeof req.headers.origin === 'string' ? req.headers.origin : undefined));
  const { body, coding } = representation;
  if (coding) {
    headers['content-encoding'] = coding;
    if (e.etag) headers.etag = weak(e.etag);
  }
  if (e.etag && matchesIfNoneMatch(req.headers['if-none-match'], e.etag)) {
    // the same 304 the caching plugin sends on a miss: the answer's headers, no body
    delete headers['content-encoding'];
    headers['content-length'] = 0;
    res.writeHead(304, headers);
    res.end();
    return;
  }
  headers['content-length'] = body.length;
  res.writeHead(e.status, headers);
  if (req.method === 'HEAD') res.end();
  else res.end(body);
}

async function replay(cache: ResponseCache, key: string, req: FastifyRequest, reply: FastifyReply, e: Entry): Promise<void> {
  let representation = cache.representation(key, e, req.headers['accept-encoding']);
  if ('pending' in representation) {
    await representation.pending;
    representation = cache.representation(key, e, req.headers['accept-encoding']);
    if ('pending' in representation) representation = { body: e.body };
  }
  // registered first (app.ts), no other hook has set a header yet: the stored ones are the answer's
  reply.hijack();
  writeEntry(cache, req.raw, reply.raw, e, representation, String(req.id));
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
 * The fast path, for the HTTP server ahead of Fastify (app.ts): a fresh entry for this
 * GET or HEAD is written straight to the socket, without routing, request object or
 * hooks; anything else (a miss, an expired entry, another method) returns false and
 * goes through Fastify, where the onRequest hook below handles it. An entry exists only
 * for a URL a public-cache route answered, so this serves nothing a route would not.
 */
export function serveFromCache(cache: ResponseCache, req: IncomingMessage, res: ServerResponse, requestId: () => string): boolean {
  if ((req.method !== 'GET' && req.method !== 'HEAD') || !req.url) return false;
  const e = cache.get(req.url);
  if (!e) return false;
  const representation = cache.representation(req.url, e, req.headers['accept-encoding']);
  // the encoding this client accepts is being made: Fastify's hook waits for it (below)
  if ('pending' in representation) return false;
  cache.stats.hits++;
  writeEntry(cache, req, res, e, representation, requestId());
  return true;
}

export default fp<ResponseCacheOptions>(
  async function responseCachePlugin(app: FastifyInstance, opts: ResponseCacheOptions) {
    const cache = new ResponseCache(opts.ttlMs ?? 30_000, opts.maxBytes ?? 32 * 1024 * 1024, opts.maxEntryBytes ?? 2 * 1024 * 1024, opts.corsHeaders);
    app.decorate('responseCache', cache);

    const onLocalChange = () => {
      cache.invalidate();
      opts.bus?.publish();
    };
    opts.events.on('content-changed', onLocalChange);
    if (opts.bus) {
      await opts.bus.subscribe(
        () => cache.invalidate(),
        () => cache.invalidate(),
      );
    }
    app.addHook('onClose', async () => {
      opts.events.off('content-changed', onLocalChange);
      await opts.bus?.close();
    });

    // registered before the other plugins, so a hit is answered before any other hook runs
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
      // a conditional miss still fills the cache: the handler builds the full answer, we keep
      // it, then hand If-None-Match back to the caching plugin, which answers 304 (onSend below)
      const inm = req.headers['if-none-match'];
      if (req.method === 'GET' && typeof inm === 'string') {
        req[kIfNoneMatch] = inm;
        delete req.headers['if-none-match'];
      }
      if (req.method === 'GET' && !cache.leaderFor(key)) {
        const settle = cache.lead(key);
        req[kSettle] = settle;
        // always release followers, also when the client goes away or the handler fails
        reply.raw.once('close', settle);
      }
    });

    // runs before the caching plugin's onSend: keep the body as the handler made it
    app.addHook('onSend', async (req: Tracked, reply, payload) => {
      if (req[kGeneration] === undefined) return payload;
      // hits of this URL may be encoded: say so on every answer (the identity one too)
      reply.header('vary', varyAcceptEncoding(reply.getHeader('vary')));
      if (req[kIfNoneMatch] !== undefined) req.headers['if-none-match'] = req[kIfNoneMatch];
      if (req.method === 'GET' && reply.statusCode === 200 && (typeof payload === 'string' || Buffer.isBuffer(payload))) {
        req[kBody] = Buffer.from(payload);
      }
      return payload;
    });

    // once the answer is out its headers are final (ETag, Cache-Control, CSP come from later onSend hooks)
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
        const encoded = req[kEncoded];
        if (encoded) {
          // the first client's encoding is kept with the entry; the entry's headers are the identity answer's
          delete headers['content-encoding'];
          if (req[kStrongEtag] !== undefined) headers.etag = req[kStrongEtag];
        }
        const strong = typeof headers.etag === 'string' ? headers.etag : undefined;
        cache.store(cacheKey(req), generation, {
          status: 200,
          headers,
          body,
          etag: strong,
          storedAt: Date.now(),
          compressible: encoded !== undefined || isCompressible(body, headers),
          encoded: encoded ? { [encoded.coding]: encoded.bytes } : undefined,
        });
      }
      req[kSettle]?.();
    });
  },
  { name: 'response-cache' },
);

function isCompressible(body: Buffer, headers: Record<string, unknown>): boolean {
  return body.length >= MIN_COMPRESS && COMPRESSIBLE.test(String(headers['content-type'] ?? '')) && !headers['content-encoding'];
}

/**
 * A miss of a cached route answers the encoding its client accepts (compressed off the
 * event loop), and the entry keeps those bytes for the hits that follow: the first client
 * does not get the uncompressed answer. Registered after the caching plugin (app.ts), so
 * that the strong ETag is computed over the identity bytes; an encoded answer carries its
 * weak form, as hits do.
 */
export const compressMisses = fp(
  async function compressMisses(app: FastifyInstance) {
    app.addHook('onSend', async (req: Tracked, reply, payload) => {
      const body = req[kBody];
      if (body === undefined || reply.statusCode !== 200 || !isCompressible(body, reply.getHeaders())) return payload;
      const accept = req.headers['accept-encoding'];
      const coding = accept ? negotiator.negotiate(accept) : undefined;
      if (!coding) return payload;
      const bytes = await compressors[coding](body);
      req[kEncoded] = { coding, bytes };
      const etag = reply.getHeader('etag');
      if (typeof etag === 'string') {
        req[kStrongEtag] = etag;
        reply.header('etag', weak(etag));
      }
      reply.header('content-encoding', coding);
      reply.removeHeader('content-length');
      return bytes;
    });
  },
  { name: 'response-cache-compression', dependencies: ['response-cache', 'caching'] },
);

export const CONTENT_CHANNEL = 'inkwell_content_changed';

/** The subset of a postgres.js client the bus needs. */
interface PgListenClient {
  listen(channel: string, onNotify: (payload: string) => void, onListen?: () => void): Promise<{ unlisten(): Promise<void> }>;
  notify(channel: string, payload: string): Promise<unknown>;
}

/**
 * LISTEN/NOTIFY on PostgreSQL through postgres.js: a dedicated listening connection,
 * re-established (and `onReset` called) after a disconnect. Our own notifications
 * come back to us too; they carry this process's id and are ignored (we cleared
 * before sending).
 */
export function postgresChangeBus(client: PgListenClient, onError: (err: unknown) => void = () => {}): ChangeBus {
  const self = randomUUID();
  let listening: { unlisten(): Promise<void> } | undefined;
  return {
    publish() {
      client.notify(CONTENT_CHANNEL, self).catch(onError);
    },
    async subscribe(onChange, onReset) {
      listening = await client.listen(
        CONTENT_CHANNEL,
        (payload) => {
          if (payload !== self) onChange();
        },
        onReset,
      );
    },
    async close() {
      await listening?.unlisten().catch(onError);
      listening = undefined;
    },
  };
}

/** The bus a database needs: LISTEN/NOTIFY on PostgreSQL, none on PGlite (one process). */
export function changeBusFor(database: Database, onError?: (err: unknown) => void): ChangeBus | undefined {
  if (database.kind !== 'postgres') return undefined;
  const client = (database.db as unknown as { $client?: PgListenClient }).$client;
  return client ? postgresChangeBus(client, onError) : undefined;
}
