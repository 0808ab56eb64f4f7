// The outbound guard: the only way Inkwell fetches a URL that someone else chose
// (a pingback source, a Webmention source, a page we link to, an endpoint it advertises).
//
// What it enforces, on every request and on every redirect hop:
// - http and https only, no credentials in the URL, no `localhost` names;
// - the address is checked when the socket connects, not before: request-filtering-agent
//   wraps the connection's own DNS lookup and refuses every ipaddr.js range other than
//   `unicast` (loopback, private, link-local/cloud metadata, CGNAT, IPv4-mapped and
//   NAT64/6to4/Teredo IPv6, unspecified, multicast, reserved…). Checking at connect
//   time is what defeats DNS rebinding: there is no second lookup to race against.
//   ipaddr.js calls the deprecated IPv4-compatible range `::/96` (RFC 4291 §2.5.5.1;
//   `[::127.0.0.1]` is `[::7f00:1]`) unicast, so this guard refuses it itself: in the URL
//   and in every DNS answer the connection's lookup returns;
//   Connections are kept alive for a few seconds and reused for the same host and port:
//   a reused socket is still the one whose address was checked when it connected, and
//   every new connection is checked anew (a blog that sends three pingbacks for three of
//   our articles is fetched over one connection; measured ~0.35 ms less per pingback);
// - one deadline for the whole exchange (redirects and body included), a byte cap on
//   the decoded body (the first N bytes are kept, the rest is never read), a redirect
//   cap, and bodies read only for the content types the caller accepts (text by default).
//
// `allowPrivate` (OUTBOUND_ALLOW_PRIVATE) lifts the range check for tests and local demos;
// the unspecified address (0.0.0.0, ::) stays refused even then.
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import zlib from 'node:zlib';
import type { LookupFunction } from 'node:net';
import type { Readable } from 'node:stream';
import ipaddr from 'ipaddr.js';
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from 'request-filtering-agent';
import { MAX_URL_LENGTH, parseExternalUrl } from './external-url.ts';
import { is, trimEndWhere } from './trim.ts';

export type OutboundErrorCode =
  /** not an absolute http(s) URL, credentials in it, or longer than MAX_URL_LENGTH */
  | 'invalid-url'
  /** the host is (or resolves to) an address we do not talk to */
  | 'forbidden-address'
  /** DNS failure, refused, reset, TLS failure, bad HTTP */
  | 'network'
  | 'timeout'
  | 'too-many-redirects'
  /** the caller's signal fired */
  | 'aborted';

export class OutboundError extends Error {
  override name = 'OutboundError';
  constructor(
    readonly code: OutboundErrorCode,
    message: string,
    readonly url: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Media types whose bodies are read by default: text, nothing else. */
export const TEXT_TYPES = ['text/*', 'application/xhtml+xml'] as const;

export interface OutboundOptions {
  /** OUTBOUND_ALLOW_PRIVATE: allow loopback and private addresses (tests, local demos) */
  allowPrivate: boolean;
  /** addresses or CIDRs let through even when private (an operator's known internal blog; tests) */
  allowAddresses?: string[];
  /** names Inkwell; callers may replace it per request */
  userAgent: string;
  timeoutMs?: number;
  maxBytes?: number;
  maxRedirects?: number;
  /** name resolution for every connection (default: the system's); tests inject DNS answers */
  lookup?: LookupFunction;
}

export interface FetchOptions {
  method?: 'GET' | 'HEAD' | 'POST';
  headers?: Record<string, string>;
  /** POST body, sent as is (set its content-type in headers) */
  body?: string;
  /** overall deadline for the exchange, redirects and body included */
  timeoutMs?: number;
  /** cap on the decoded body; what is beyond it is never read */
  maxBytes?: number;
  /** GET and HEAD follow redirects by default, POST does not (a 3xx is returned as is) */
  followRedirects?: boolean;
  maxRedirects?: number;
  /** media types (`text/*` style wildcards allowed) whose bodies are read; others come back with `bodyRead: false` */
  accept?: readonly string[];
  /** cancels the exchange (e.g. on shutdown) */
  signal?: AbortSignal;
  /** keep the body as bytes (`bytes`), not decoded to text: an image */
  binary?: boolean;
}

export interface OutboundResponse {
  /** the URL that answered, after redirects */
  url: string;
  status: number;
  /** lower-case names, every value of every occurrence */
  headers: Record<string, string[]>;
  /** media type without parameters, lower case ('' when absent) */
  contentType: string;
  body: string;
  /** the body's bytes, with `binary` (and `body` stays empty) */
  bytes?: Buffer;
  /** false when the content type was not accepted (the body was not read) or for HEAD */
  bodyRead: boolean;
  /** true when the body was longer than maxBytes and was cut */
  truncated: boolean;
  /** every URL redirected to, in order */
  redirects: string[];
}

/** First value of a header, or undefined. */
export function firstHeader(res: Pick<OutboundResponse, 'headers'>, name: string): string | undefined {
  return res.headers[name.toLowerCase()]?.[0];
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const DEFAULTS = { timeoutMs: 5000, maxBytes: 1024 * 1024, maxRedirects: 5 };
const IDLE_SOCKET_MS = 4000;

/** A kept-alive connection the server had closed while it was idle: the request never reached it. */
class StaleSocketError extends Error {}

export class Outbound {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  /** handed to every connection; the agent checks what it answers */
  private readonly lookup: LookupFunction | undefined;

  constructor(private readonly opts: OutboundOptions) {
    this.lookup = opts.allowPrivate ? opts.lookup : refusingIpv4Compatible(opts.lookup ?? dns.lookup);
    const filter = {
      keepAlive: true,
      // idle connections close after this (sooner when the server says so in Keep-Alive)
      timeout: IDLE_SOCKET_MS,
      maxFreeSockets: 16,
      allowPrivateIPAddress: opts.allowPrivate,
      allowMetaIPAddress: false,
      allowIPAddressList: opts.allowAddresses ?? [],
    };
    this.httpAgent = new RequestFilteringHttpAgent(filter);
    this.httpsAgent = new RequestFilteringHttpsAgent(filter);
  }

  /**
   * Checks what can be checked without the network: an absolute http(s) URL of at most
   * MAX_URL_LENGTH characters (measured before parsing), no
   * credentials, and not one of the special-use names under `localhost` (RFC 6761) that
   * the system resolver may hand to DNS (`localhost.`, `x.localhost`): they mean this
   * machine, whatever a DNS server answers. Plain `localhost` goes through the resolver
   * (the hosts file) and is refused by the address check like any loopback address.
   * Returns the parsed URL.
   */
  checkUrl(raw: string | URL): URL {
    const text = String(raw);
    if (text.length > MAX_URL_LENGTH) throw new OutboundError('invalid-url', `longer than ${MAX_URL_LENGTH} characters`, text.slice(0, MAX_URL_LENGTH));
    const url = parseExternalUrl(text);
    if (!url) throw new OutboundError('invalid-url', 'not an absolute URL', text);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OutboundError('invalid-url', `scheme ${url.protocol} is not allowed`, text);
    if (url.username || url.password) throw new OutboundError('invalid-url', 'credentials in the URL are not allowed', text);
    const name = url.hostname.toLowerCase();
    if (!this.opts.allowPrivate && name.startsWith('[') && isIpv4Compatible(name.slice(1, -1))) {
      throw new OutboundError('forbidden-address', `${url.hostname} is an IPv4-compatible IPv6 address`, text);
    }
    // trailing dots: one pass (a regex like /\.+$/ is quadratic on a long run of dots inside the name)
    const bare = trimEndWhere(name, is('.'));
    if (!this.opts.allowPrivate && name !== 'localhost' && (bare === 'localhost' || bare.endsWith('.localhost'))) {
      throw new OutboundError('forbidden-address', `${url.hostname} is a local name`, text);
    }
    return url;
  }

  /** Fetches a URL under the guard. HTTP error statuses are answers, not exceptions; see OutboundError for what throws. */
  async fetch(raw: string | URL, options: FetchOptions = {}): Promise<OutboundResponse> {
    let url = this.checkUrl(raw);
    let method = options.method ?? 'GET';
    let body = options.body;
    const follow = options.followRedirects ?? method !== 'POST';
    const maxRedirects = options.maxRedirects ?? this.opts.maxRedirects ?? DEFAULTS.maxRedirects;
    const maxBytes = options.maxBytes ?? this.opts.maxBytes ?? DEFAULTS.maxBytes;
    const timeoutMs = options.timeoutMs ?? this.opts.timeoutMs ?? DEFAULTS.timeoutMs;
    const accept = options.accept ?? TEXT_TYPES;

    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), timeoutMs);
    const signal = options.signal ? AbortSignal.any([deadline.signal, options.signal]) : deadline.signal;
    const redirects: string[] = [];
    const fail = (err: unknown, at: URL): OutboundError => {
      if (err instanceof OutboundError) return err;
      if (deadline.signal.aborted) return new OutboundError('timeout', `no complete answer within ${timeoutMs} ms`, at.href, { cause: err });
      if (options.signal?.aborted) return new OutboundError('aborted', 'cancelled', at.href, { cause: err });
      const message = err instanceof Error ? err.message : String(err);
      // request-filtering-agent's refusal ("DNS lookup 10.0.0.1(…) is not allowed. Because, It is private IP address.")
      if (/ is not allowed\. Because/.test(message)) return new OutboundError('forbidden-address', 'the address is not allowed', at.href, { cause: err });
      return new OutboundError('network', message, at.href, { cause: err });
    };

    try {
      for (;;) {
        let res: http.IncomingMessage;
        try {
          res = await this.send(url, method, this.headersFor(options, body), body, signal);
        } catch (e) {
          throw fail(e, url);
        }
        const status = res.statusCode ?? 0;
        const location = res.headers.location;
        if (follow && REDIRECT_STATUSES.has(status) && location) {
          res.destroy();
          if (redirects.length >= maxRedirects) throw new OutboundError('too-many-redirects', `more than ${maxRedirects} redirects`, url.href);
          const next = parseExternalUrl(location, url);
          if (!next) throw new OutboundError('invalid-url', `unparseable or longer than ${MAX_URL_LENGTH} characters: the redirect Location`, url.href);
          url = this.checkUrl(next);
          redirects.push(url.href);
          if (status === 303 || ((status === 301 || status === 302) && method === 'POST')) {
            method = 'GET';
            body = undefined;
          }
          continue;
        }

        const headers: Record<string, string[]> = {};
        for (const [k, v] of Object.entries(res.headersDistinct)) if (v) headers[k] = v;
        const contentType = (res.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
        const out: OutboundResponse = { url: url.href, status, headers, contentType, body: '', bodyRead: false, truncated: false, redirects };
        if (method === 'HEAD' || !accepts(accept, contentType)) {
          res.destroy();
          return out;
        }
        try {
          const { buffer, truncated } = await readCapped(res, maxBytes);
          if (options.binary) out.bytes = buffer;
          else out.body = decode(buffer, res.headers['content-type']);
          out.bodyRead = true;
          out.truncated = truncated;
        } catch (e) {
          throw fail(e, url);
        }
        return out;
      }
    } finally {
      clearTimeout(timer);
    }
  }

  private headersFor(options: FetchOptions, body: string | undefined): Record<string, string> {
    const h: Record<string, string> = {
      'user-agent': this.opts.userAgent,
      accept: 'text/html, application/xhtml+xml;q=0.9, text/plain;q=0.8, */*;q=0.1',
      'accept-encoding': 'gzip, br',
    };
    for (const [k, v] of Object.entries(options.headers ?? {})) h[k.toLowerCase()] = v;
    if (body === undefined) delete h['content-type'];
    else h['content-length'] = String(Buffer.byteLength(body));
    return h;
  }

  private async send(url: URL, method: string, headers: Record<string, string>, body: string | undefined, signal: AbortSignal): Promise<http.IncomingMessage> {
    try {
      return await this.sendOnce(url, method, headers, body, signal);
    } catch (e) {
      // a reused connection the server closed meanwhile: GET and HEAD are safe to send again, on a new one
      if (!(e instanceof StaleSocketError)) throw e;
      if (signal.aborted || (method !== 'GET' && method !== 'HEAD')) throw e.cause;
      return this.sendOnce(url, method, headers, body, signal);
    }
  }

  private sendOnce(url: URL, method: string, headers: Record<string, string>, body: string | undefined, signal: AbortSignal): Promise<http.IncomingMessage> {
    const isHttps = url.protocol === 'https:';
    return new Promise((resolve, reject) => {
      const req = (isHttps ? https : http).request(url, {
        method,
        headers,
        agent: isHttps ? this.httpsAgent : this.httpAgent,
        // handed to the agent's connection, which wraps it with the address check
        ...(this.lookup ? { lookup: this.lookup } : {}),
        signal,
      });
      let answered = false;
      req.once('response', (res) => {
        answered = true;
        resolve(res);
      });
      // kept for the request's whole life: an error after the response (the deadline
      // destroying it mid-body) must find a listener, and then reaches the body reader
      req.on('error', (err: NodeJS.ErrnoException) => {
        const stale = !answered && req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE');
        reject(stale ? new StaleSocketError('stale keep-alive connection', { cause: err }) : err);
      });
      req.end(body);
    });
  }
}

const IPV4_COMPATIBLE = ipaddr.parseCIDR('::/96');

/** In the deprecated IPv4-compatible range `::/96` (which holds `::` and `::1` too, refused anyway). */
function isIpv4Compatible(address: string): boolean {
  const parsed = ipaddr.isValid(address) ? ipaddr.parse(address) : null;
  return parsed?.kind() === 'ipv6' && parsed.match(IPV4_COMPATIBLE);
}

/** A lookup that fails, as the agent does for its ranges, when an answer is IPv4-compatible IPv6. */
function refusingIpv4Compatible(lookup: LookupFunction): LookupFunction {
  return ((hostname: string, options: dns.LookupOptions, cb: (err: Error | null, address?: unknown, family?: number) => void) => {
    lookup(hostname, options, (err, address, family) => {
      if (err) return cb(err);
      const answers = typeof address === 'string' ? [address] : (address as dns.LookupAddress[]).map((a) => a.address);
      if (answers.some(isIpv4Compatible)) return cb(new OutboundError('forbidden-address', `${hostname} resolves to an IPv4-compatible IPv6 address`, hostname));
      cb(null, address, family);
    });
  }) as LookupFunction;
}

function accepts(accept: readonly string[], type: string): boolean {
  if (!type) return false;
  return accept.some((a) => (a.endsWith('/*') ? type.startsWith(a.slice(0, -1)) : a === type));
}

async function readCapped(res: http.IncomingMessage, maxBytes: number): Promise<{ buffer: Buffer; truncated: boolean }> {
  const encoding = String(res.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  let stream: Readable = res;
  // decoded bytes count toward the cap, so a compression bomb stops at maxBytes too
  if (encoding === 'gzip' || encoding === 'x-gzip') stream = res.pipe(zlib.createGunzip());
  else if (encoding === 'br') stream = res.pipe(zlib.createBrotliDecompress());
  else if (encoding === 'deflate') stream = res.pipe(zlib.createInflate());
  else if (encoding !== 'identity' && encoding !== '') throw new Error(`unsupported content-encoding ${encoding}`);
  if (stream !== res) res.once('error', (e) => stream.destroy(e));

  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (size + chunk.length > maxBytes) {
        chunks.push(chunk.subarray(0, maxBytes - size));
        size = maxBytes;
        truncated = true;
        break;
      }
      chunks.push(chunk);
      size += chunk.length;
    }
  } finally {
    res.destroy();
    if (stream !== res) stream.destroy();
  }
  return { buffer: Buffer.concat(chunks, size), truncated };
}

function decode(buffer: Buffer, contentTypeHeader: string | undefined): string {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentTypeHeader ?? '')?.[1];
  if (charset) {
    try {
      return new TextDecoder(charset).decode(buffer);
    } catch {
      // unknown label: fall through to UTF-8
    }
  }
  return new TextDecoder('utf-8').decode(buffer);
}
