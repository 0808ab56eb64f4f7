// Gzip answers made of pieces compressed ahead of time, as Varnish stitches its ESI
// fragments: a list page of 20 articles is the same 20 article JSONs on every page
// they appear in, so each article is deflated once per version (the article read
// cache keeps the piece beside its JSON), and a page's gzip is those pieces copied
// side by side between a gzip header and trailer, with no compression at request time:
// 0.1 ms for a 70 kB page where Brotli 3 took 1.1–2.1 ms and gzip 4 0.8–1.0 ms.
//
// A piece is raw deflate ended by a sync flush: whole blocks, byte-aligned, none of them
// final, and no back-reference before its own first byte, so pieces decode after any
// others (RFC 1951). What pieces cannot share is each other's text (the keys, the
// author, the tags every article repeats): a page of 20 is ~30 kB stitched against
// ~21 kB compressed whole. The answer this serves is a miss (a hit is compressed whole,
// once, by the response cache); a miss's CPU is what limits how fast new URLs are answered.
//
// Deflating an article alone costs ~60–90 µs (mostly setting zlib up), more than its share
// of a page compressed whole: an article seen for the first time has no piece yet, and the
// parts of a page that have none are deflated together (deflateRun), as one piece made
// for this answer. An article earns its piece when it is read again (readers and
// crawlers come back to the same articles: the newest, a tag's, a search's best).
import { promisify } from 'node:util';
import zlib from 'node:zlib';

/** raw deflate of one article: level 4 and a 4 kB window (an article is ~3.6 kB), within 1 % of level 6 */
const PIECE = { level: 4, windowBits: 12, memLevel: 6, finishFlush: zlib.constants.Z_SYNC_FLUSH } as const;
/** the parts of one answer that have no piece, together: a window that spans several articles */
const RUN = { level: 4, finishFlush: zlib.constants.Z_SYNC_FLUSH } as const;
const deflateRaw = promisify(zlib.deflateRaw);

/** a run up to this size is deflated on the event loop; a larger one (a page of 100) in zlib's pool */
const INLINE_RUN = 128 * 1024;

/**
 * A run of first-seen articles, deflated. A trip to zlib's thread pool costs the event loop
 * more than it spares it on this kind of machine: zlib's async path makes two trips (the
 * data, then the flush), each waking a pool thread, and under load that took ~0.4 ms of
 * the event loop per trip (profiled at 100k articles), where deflating a 72 kB run of 20
 * articles inline takes 0.68 ms and nothing else. Inline, list misses went from 0.78× to
 * 0.81–0.83× of the bench's cold-page ceiling, CPU per answer 5.7–5.9 → 4.5–5.5 ms. A run
 * larger than INLINE_RUN goes to the pool, its output in one chunk (one trip for the data).
 */
function deflateRun(bytes: Buffer): Buffer | Promise<Buffer> {
  const options = { ...RUN, chunkSize: Math.max(zlib.constants.Z_DEFAULT_CHUNK, bytes.length + 1024) };
  return bytes.length <= INLINE_RUN ? zlib.deflateRawSync(bytes, options) : deflateRaw(bytes, options);
}

/** bytes, and their deflated piece once made */
export interface Piece {
  /** UTF-8, as sent */
  json: Buffer;
  /** raw deflate, sync-flushed: decodes after any other piece */
  deflated?: Buffer;
}

/** `json` with its piece made now (on the event loop: ~60–90 µs for an article). */
export function piece(json: Buffer): Required<Piece> {
  return { json, deflated: zlib.deflateRawSync(json, PIECE) };
}

// RFC 1952: magic, CM = deflate, no flags, no MTIME, no XFL, OS = Unix
const HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
const MAX_STORED = 0xffff;

/** `bytes` as stored (uncompressed) deflate blocks, the last one final: for a short tail made per answer. */
function stored(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at === 0 || at < bytes.length; at += MAX_STORED) {
    const chunk = bytes.subarray(at, at + MAX_STORED);
    const head = Buffer.alloc(5);
    head[0] = at + MAX_STORED >= bytes.length ? 1 : 0; // BFINAL, BTYPE 00 (byte-aligned after the pieces' sync flush)
    head.writeUInt16LE(chunk.length, 1);
    head.writeUInt16LE(~chunk.length & 0xffff, 3);
    out.push(head, chunk);
  }
  return out;
}

/** What goes around and between the items of an answer: pieces made once, and a tail made per answer. */
export interface Frame {
  open?: Required<Piece>;
  separator?: Required<Piece>;
  /** stored, not deflated: a few hundred bytes */
  tail: Buffer;
}

/**
 * An answer's body (the items in their frame), and its gzip when asked for (a client that
 * takes Brotli or nothing costs no deflate): the pieces made earlier, and each run of items
 * without one (with the separators between them) deflated then as one piece (deflateRun).
 */
export function stitch(items: readonly Piece[], frame: Frame): { json: Buffer; gzip: () => Promise<Buffer> } {
  const parts: (Required<Piece> | Buffer[])[] = frame.open ? [frame.open] : [];
  items.forEach((item, i) => {
    const separator = i > 0 ? frame.separator : undefined;
    const run = parts.at(-1);
    if (!item.deflated && Array.isArray(run)) run.push(...(separator ? [separator.json] : []), item.json);
    else parts.push(...(separator ? [separator] : []), item.deflated ? { json: item.json, deflated: item.deflated } : [item.json]);
  });
  const json = Buffer.concat([...parts.flatMap((p) => (Array.isArray(p) ? p : [p.json])), frame.tail]);
  const gzip = async () => {
    const deflated = await Promise.all(parts.map((p) => (Array.isArray(p) ? deflateRun(Buffer.concat(p)) : p.deflated)));
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(zlib.crc32(json), 0);
    trailer.writeUInt32LE(json.length >>> 0, 4);
    return Buffer.concat([HEADER, ...deflated, ...stored(frame.tail), trailer]);
  };
  return { json, gzip };
}
