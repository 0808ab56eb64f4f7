// The fast path: the HTTP server's own request handler writes a fresh hit straight to the
// socket, before Fastify routes the request or builds its request object, so a hit costs
// what a bare server's answer costs. Anything else (a miss, an expired entry, another
// method, a server that is closing) goes through Fastify, where the response cache's
// hooks handle it and Fastify answers new requests 503 while closing. An entry exists
// only for a URL a public-cache route answered, so this serves nothing a route would not.
// A hit writes one access-log line when the log level is info or finer, as Fastify
// writes for the requests it handles.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { matchesIfNoneMatch, weak } from './etag.ts';
import type { Entry, Representation, ResponseCache } from './response-cache.ts';

/** the levels at which Fastify writes an access-log line per request */
const LOGS_REQUESTS = new Set(['trace', 'debug', 'info']);

/**
 * Writes a stored answer (or its 304) to the socket: the stored headers, this request's id,
 * the encoding it accepts. The first request for an encoding not made yet waits for it (a
 * promise, shared with the others that ask meanwhile); otherwise it is written at once.
 */
export function writeEntry(cache: ResponseCache, key: string, req: IncomingMessage, res: ServerResponse, e: Entry, requestId: string): void | Promise<void> {
  const headers: Record<string, string | number | string[]> = { ...e.headers, 'x-request-id': requestId };
  if (cache.corsHeaders) Object.assign(headers, cache.corsHeaders(typeof req.headers.origin === 'string' ? req.headers.origin : undefined));
  const coding = cache.codingFor(e, req.headers['accept-encoding']);
  if (coding && e.etag) headers.etag = weak(e.etag);
  if (e.etag && matchesIfNoneMatch(req.headers['if-none-match'], e.etag)) {
    // the same 304 a miss gets (response-cache.ts): the answer's headers, no body
    headers['content-length'] = 0;
    res.writeHead(304, headers);
    res.end();
    return;
  }
  const send = ({ body, coding }: Representation) => {
    if (coding) headers['content-encoding'] = coding;
    else if (e.etag) headers.etag = e.etag;
    headers['content-length'] = body.length;
    res.writeHead(e.status, headers);
    if (req.method === 'HEAD') res.end();
    else res.end(body);
  };
  const representation = cache.representation(key, e, coding);
  if (representation instanceof Promise) return representation.then(send);
  send(representation);
}

export interface FastPath {
  /** for Fastify's `serverFactory` option: a server whose handler answers hits itself */
  serverFactory(handler: (req: IncomingMessage, res: ServerResponse) => void): Server;
  /** binds the server's handler to the app's cache and logger (the response cache plugin calls it) */
  attach(app: FastifyInstance, cache: ResponseCache): void;
}

/** A fast path; `requestId` makes the id of a hit (the caller's X-Request-Id when sane, as Fastify's genReqId). */
export function cacheFastPath(requestId: (req: IncomingMessage) => string): FastPath {
  let serve: ((req: IncomingMessage, res: ServerResponse) => boolean) | undefined;
  return {
    serverFactory: (handler) =>
      createServer((req, res) => {
        if (serve?.(req, res)) return;
        handler(req, res);
      }),
    attach(app, cache) {
      let closing = false;
      app.addHook('preClose', async () => {
        closing = true;
      });
      serve = (req, res) => {
        if (closing || (req.method !== 'GET' && req.method !== 'HEAD') || !req.url) return false;
        const started = performance.now();
        const e = cache.get(req.url);
        if (!e) return false;
        cache.stats.hits++;
        // the id is made only for a hit: a miss gets its own from Fastify (genReqId)
        const reqId = requestId(req);
        const log = () => {
          if (!LOGS_REQUESTS.has(app.log.level)) return;
          app.log.info(
            { reqId, req: { method: req.method, url: req.url }, remoteAddress: req.socket.remoteAddress, res: { statusCode: res.statusCode }, responseTime: performance.now() - started, cache: 'hit' },
            'request completed',
          );
        };
        const written = writeEntry(cache, req.url, req, res, e, reqId);
        if (written) void written.then(log);
        else log();
        return true;
      };
    },
  };
}
