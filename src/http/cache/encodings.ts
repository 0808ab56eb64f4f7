// The encodings a hit may be served in: Brotli or gzip, as the client's Accept-Encoding
// prefers (br over gzip), as nginx would in front of WordPress: a list page of 20 articles
// is ~70 kB of JSON and ~15 kB of Brotli. Each encoding of an entry is made once, off the
// event loop (zlib's thread pool); the store keeps it with the entry (response-cache.ts).
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { Negotiator } from '@fastify/accept-negotiator';
import type { FastifyReply } from 'fastify';

export type Coding = 'br' | 'gzip';

/** below this, headers outweigh what compression saves */
const MIN_COMPRESS = 1024;
const COMPRESSIBLE = /^(text\/|application\/(json|[\w.+-]+\+json|xml|[\w.+-]+\+xml|javascript))/i;
const negotiator = new Negotiator<Coding>({ supportedValues: ['br', 'gzip'] });
/** when gzip is ready-made (stitched-gzip.ts): gzip where the client likes both as much */
const gzipFirst = new Negotiator<Coding>({ supportedValues: ['gzip', 'br'] });
const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);

/**
 * Brotli 3 and gzip 4: a miss is compressed for its client before it is sent, so this is
 * CPU spent per first read. Measured on a 70 kB list page of 20 articles, 50 at once:
 * Brotli 3 costs 1.1 ms for 20.3 kB, where 4 cost 2.0 ms for 20.1 kB and 5 (our earlier
 * choice) 3.1 ms for 19.0 kB; gzip 4 0.9 ms for 20.1 kB against 2.3 ms for 19.3 kB at 6.
 * Brotli's window is sized to the body: by default the encoder allocates a 4 MB window and
 * its tables for every answer, however small, which cost that page 6.3 ms at quality 5.
 */
const BROTLI_QUALITY = 3;
const GZIP_LEVEL = 4;
const lgwin = (n: number) => Math.min(zlib.constants.BROTLI_MAX_WINDOW_BITS, Math.max(zlib.constants.BROTLI_MIN_WINDOW_BITS, Math.ceil(Math.log2(n + 16))));
export const compress: Record<Coding, (b: Buffer) => Promise<Buffer>> = {
  br: (b) =>
    brotli(b, {
      params: {
        [zlib.constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
        [zlib.constants.BROTLI_PARAM_SIZE_HINT]: b.length,
        [zlib.constants.BROTLI_PARAM_LGWIN]: lgwin(b.length),
      },
    }),
  gzip: (b) => gzip(b, { level: GZIP_LEVEL }),
};

/** Worth compressing: a text type, not encoded already, at least MIN_COMPRESS bytes. */
export function isCompressible(body: Buffer, headers: Record<string, unknown>): boolean {
  return body.length >= MIN_COMPRESS && COMPRESSIBLE.test(String(headers['content-type'] ?? '')) && !headers['content-encoding'];
}

/**
 * The encoding a client accepting `acceptEncoding` prefers among ours, if any: Brotli where it
 * likes both as much (RFC 9110 leaves ties to the server), or the coding `ready` names, whose
 * bytes cost nothing more to send.
 */
export function negotiate(acceptEncoding: string | undefined, ready?: Coding): Coding | undefined {
  return (acceptEncoding && (ready === 'gzip' ? gzipFirst : negotiator).negotiate(acceptEncoding)) || undefined;
}

/** An encoding of an answer's body its handler can make cheaper than compressing it (stitched-gzip.ts). */
export interface Ready {
  coding: Coding;
  make: () => Promise<Buffer>;
}

const offers = new WeakMap<FastifyReply, { body: Buffer; encoded: Ready }>();

/** Offers the response cache (response-cache.ts) `body` in an encoding made its own way, for a client that accepts that coding. */
export function offerEncoded(reply: FastifyReply, body: Buffer, encoded: Ready): void {
  offers.set(reply, { body, encoded });
}

/** The encoding offered for this very payload (not for one another hook put in its place). */
export function offeredFor(reply: FastifyReply, payload: unknown): Ready | undefined {
  const offer = offers.get(reply);
  return offer && offer.body === payload ? offer.encoded : undefined;
}

/** Adds Accept-Encoding to a Vary header value (once). */
export function varyAcceptEncoding(current: unknown): string {
  const list = (Array.isArray(current) ? current.join(',') : typeof current === 'string' ? current : '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  if (list.includes('*') || list.some((t) => t.toLowerCase() === 'accept-encoding')) return list.join(', ');
  return [...list, 'Accept-Encoding'].join(', ');
}
