// The encodings a hit may be served in: Brotli or gzip, as the client's Accept-Encoding
// prefers (br over gzip), as nginx would in front of WordPress: a list page of 20 articles
// is ~70 kB of JSON and ~15 kB of Brotli. Each encoding of an entry is made once, off the
// event loop (zlib's thread pool); the store keeps it with the entry (response-cache.ts).
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { Negotiator } from '@fastify/accept-negotiator';

export type Coding = 'br' | 'gzip';

/** below this, headers outweigh what compression saves */
const MIN_COMPRESS = 1024;
const COMPRESSIBLE = /^(text\/|application\/(json|[\w.+-]+\+json|xml|[\w.+-]+\+xml|javascript))/i;
const negotiator = new Negotiator<Coding>({ supportedValues: ['br', 'gzip'] });
const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);

/** Brotli 5 and gzip 6: within a few per cent of the best ratio at a small part of its cost */
export const compress: Record<Coding, (b: Buffer) => Promise<Buffer>> = {
  br: (b) => brotli(b, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 5, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: b.length } }),
  gzip: (b) => gzip(b, { level: 6 }),
};

/** Worth compressing: a text type, not encoded already, at least MIN_COMPRESS bytes. */
export function isCompressible(body: Buffer, headers: Record<string, unknown>): boolean {
  return body.length >= MIN_COMPRESS && COMPRESSIBLE.test(String(headers['content-type'] ?? '')) && !headers['content-encoding'];
}

/** The encoding a client accepting `acceptEncoding` prefers among ours, if any. */
export function negotiate(acceptEncoding: string | undefined): Coding | undefined {
  return (acceptEncoding && negotiator.negotiate(acceptEncoding)) || undefined;
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
