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
// The key is the request URL (path + query string), shared by GET and HEAD; the
// answer must therefore depend on nothing else in the request (no Accept-Language,
// no cookies, no per-request nonce). Register this plugin before the others: its
// onRequest hook then answers a hit before any other hook runs, replaying the
// headers the whole pipeline produced on the miss (security headers, CORS for
// reads — the same for every GET —, ETag, Cache-Control, Link, X-Total-Count…)
// with this request's own id, and answering If-None-Match with 304 itself.
// Concurrent misses of one URL run the handler once (the others wait for it), and
// the bodies kept are bounded (32 MB by default, least recently used out first).
//
// Hits are served compressed when the client accepts it (Accept-Encoding, br over
// gzip), as nginx would in front of WordPress: a list page of 20 articles is ~70 kB of
// JSON and ~15 kB of Brotli. Each encoding of an entry is made once, off the event loop
// (zlib's thread pool), the first time a client asks for it — that request and those
// that arrive before it is ready get the identity bytes — and kept with the entry (its
// bytes count toward the bound). Every answer of a cached route says
// `Vary: Accept-Encoding`, and an encoded answer carries the weak form of the ETag
// (W/"…"), so caches never confuse the two and If-None-Match matches either.
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { Negotiator } from '@fastify/accept-negotiator';
import type { ContentEvents } from '../events/content-events.ts';
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
  /** the content event stream: every committed change public reads can see */
  events: ContentEvents;
  /** cross-process invalidation (PostgreSQL); none for a single process */
  bus?: ChangeBus;
  /** safety net: an entry is never served older than this (ms) */
  ttlMs?: number;
  /** total body bytes kept; least recently used entries go first */
  maxBytes?: number;
  /** answers bigger than this are not kept (a full sitemap…) */
  maxEntryBytes?: number;
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
  /** encodings being made */
  encoding?: Set<Coding>;
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
    this.bytes += entry.body.length;
    this.stats.stores++;
    this.evict();
    return true;
  }

  /**
   * The bytes to send for `entry` to a client accepting `acceptEncoding`: an encoding
   * made earlier, or the identity bytes (starting to make the encoding for next time).
   */
  representation(key: string, entry: Entry, acceptEncoding: string | undefined): { body: Buffer; coding?: Coding } {
    if (!entry.compressible || !acceptEncoding) return { body: entry.body };
    const coding = negotiator.negotiate(acceptEncoding);
    if (!coding) return { body: entry.body };
    const made = entry.encoded?.[coding];
    if (made) return { body: made, coding };
    if (!entry.encoding?.has(coding)) {
      (entry.encoding ??= new Set()).add(coding);
      compressors[coding](entry.body).then(
        (bytes) => {
          entry.encoding?.delete(coding);
          // dropped or replaced meanwhile: nothing to keep
          if (this.entries.get(key) !== entry) return;
          (entry.encoded ??= {})[coding] = bytes;
          this.bytes += bytes.length;
          this.evict();
        },
        () => entry.encoding?.delete(coding),
      );
    }
    return { body: entry.body };
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
type Tracked = FastifyRequest & { [kGeneration]?: number; [kSettle]?: () => void; [kIfNoneMatch]?: string; [kBody]?: Buffer };

const cacheable = (req: FastifyRequest) =>
  (req.method === 'GET' || req.method === 'HEAD') && req.routeOptions.config?.publicCache === true;

/** Writes a stored answer (or its 304) to the socket: the stored headers, this request's id, the encoding it accepts. */
function writeEntry(cache: ResponseCache, req: IncomingMessage, res: ServerResponse, e: Entry, requestId: string): void {
  const headers: Record<string, string | number | string[]> = { ...e.headers, 'x-request-id': requestId };
  const url = req.url ?? '/';
  const { body, coding } = cache.representation(url, e, req.headers['accept-encoding']);
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

function replay(cache: ResponseCache, req: FastifyRequest, reply: FastifyReply, e: Entry): void {
  // registered first (app.ts), no other hook has set a header yet: the stored ones are the answer's
  reply.hijack();
  writeEntry(cache, req.raw, reply.raw, e, String(req.id));
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
  cache.stats.hits++;
  writeEntry(cache, req, res, e, requestId());
  return true;
}

export default fp<ResponseCacheOptions>(
  async function responseCachePlugin(app: FastifyInstance, opts: ResponseCacheOptions) {
    const cache = new ResponseCache(opts.ttlMs ?? 30_000, opts.maxBytes ?? 32 * 1024 * 1024, opts.maxEntryBytes ?? 2 * 1024 * 1024);
    app.decorate('responseCache', cache);

    const stopListening = opts.events.onCommit(() => {
      cache.invalidate();
      opts.bus?.publish();
    });
    if (opts.bus) {
      await opts.bus.subscribe(
        () => cache.invalidate(),
        () => cache.invalidate(),
      );
    }
    app.addHook('onClose', async () => {
      stopListening();
      await opts.bus?.close();
    });

    // registered before the other plugins, so a hit is answered before any other hook runs
    app.addHook('onRequest', async (req: Tracked, reply) => {
      if (!cacheable(req)) return;
      const key = req.url;
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
        replay(cache, req, reply, hit);
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
        const etag = typeof headers.etag === 'string' ? headers.etag : undefined;
        const compressible = body.length >= MIN_COMPRESS && COMPRESSIBLE.test(String(headers['content-type'] ?? '')) && !headers['content-encoding'];
        cache.store(req.url, generation, { status: 200, headers, body, etag, storedAt: Date.now(), compressible });
      }
      req[kSettle]?.();
    });
  },
  { name: 'response-cache' },
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
