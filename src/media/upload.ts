// Receiving an upload: the multipart body is streamed to a temporary file (never held
// in memory), capped at MEDIA_MAX_BYTES, and hashed on the way. Exactly one file, in
// the field `file`; an optional `alt` field; anything else is a 400.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../http/errors.ts';
import { stripBidi } from '../lib/html.ts';
import { PIPELINE_VERSION } from './images.ts';
import type { Upload } from './media.service.ts';

export const ALT_MAX = 1000;

/** An image's content address: SHA-256 of the pipeline's version and the bytes, 32 hex digits. */
function contentHasher() {
  const hash = createHash('sha256').update(`${PIPELINE_VERSION}\n`);
  return { update: (chunk: Buffer) => void hash.update(chunk), hex: () => hash.digest('hex').slice(0, 32) };
}

/** Bytes fetched elsewhere (an import) as an upload: a temporary file; `dispose` removes it (call it in a finally). */
export async function uploadFromBytes(data: Buffer, alt: string): Promise<Upload & { dispose(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'inkwell-upload-'));
  const dispose = () => rm(dir, { recursive: true, force: true });
  try {
    const path = join(dir, 'upload');
    await writeFile(path, data);
    const hash = contentHasher();
    hash.update(data);
    return { path, bytes: data.length, hash: hash.hex(), alt: stripBidi(alt).replace(/\s+/g, ' ').trim().slice(0, ALT_MAX), dispose };
  } catch (e) {
    await dispose();
    throw e;
  }
}

/**
 * Reads the upload into a temporary folder; `dispose` removes it (call it in a finally).
 * `extraFields`: other short text fields a form may send (the desk's CSRF token), in `fields`.
 */
export async function receiveUpload(
  req: FastifyRequest,
  maxBytes: number,
  opts: { extraFields?: string[] } = {},
): Promise<Upload & { fields: Record<string, string>; dispose(): Promise<void> }> {
  if (!req.isMultipart()) throw new AppError('unsupported-media-type', 'Send the image as multipart/form-data, in a field named `file`.');
  const dir = await mkdtemp(join(tmpdir(), 'inkwell-upload-'));
  const dispose = () => rm(dir, { recursive: true, force: true });
  try {
    let file: { path: string; bytes: number; hash: string } | undefined;
    let alt = '';
    const fields: Record<string, string> = {};
    const extra = opts.extraFields ?? [];
    const mb = (n: number) => `${Math.round((n / 1024 / 1024) * 10) / 10} MB`;
    const parts = req.parts({ limits: { fileSize: maxBytes, files: 2, fields: 4, fieldSize: ALT_MAX * 4, parts: 6 } });
    for await (const part of parts) {
      if (part.type === 'field') {
        if (extra.includes(part.fieldname) && !part.valueTruncated) {
          fields[part.fieldname] = String(part.value);
          continue;
        }
        if (part.fieldname !== 'alt') throw new AppError('bad-request', `Unknown field \`${part.fieldname}\`: send \`file\` and, optionally, \`alt\`.`);
        if (part.valueTruncated || String(part.value).length > ALT_MAX) throw new AppError('bad-request', `\`alt\` is longer than ${ALT_MAX} characters.`);
        alt = stripBidi(String(part.value)).replace(/\s+/g, ' ').trim();
        continue;
      }
      if (part.fieldname !== 'file') {
        part.file.resume();
        throw new AppError('bad-request', `The image goes in a field named \`file\`, not \`${part.fieldname}\`.`);
      }
      if (file) {
        part.file.resume();
        throw new AppError('bad-request', 'Send exactly one file per upload.');
      }
      const path = join(dir, 'upload');
      const hash = contentHasher();
      let bytes = 0;
      const count = new Transform({
        transform(chunk: Buffer, _enc, done) {
          bytes += chunk.length;
          hash.update(chunk);
          done(null, chunk);
        },
      });
      await pipeline(part.file, count, createWriteStream(path));
      if (part.file.truncated) throw new AppError('payload-too-large', `The file is larger than ${mb(maxBytes)} (MEDIA_MAX_BYTES).`);
      file = { path, bytes, hash: hash.hex() };
    }
    if (!file) throw new AppError('bad-request', 'No file: send the image in a multipart field named `file`.');
    return { ...file, alt, fields, dispose };
  } catch (e) {
    await dispose();
    throw mapMultipartError(e, maxBytes);
  }
}

/** @fastify/multipart's own limit errors, in our words. */
function mapMultipartError(e: unknown, maxBytes: number): unknown {
  if (e instanceof AppError) return e;
  const code = (e as { code?: string }).code;
  if (code === 'FST_REQ_FILE_TOO_LARGE') return new AppError('payload-too-large', `The file is larger than ${Math.round(maxBytes / 1024 / 1024)} MB (MEDIA_MAX_BYTES).`);
  if (code === 'FST_FILES_LIMIT') return new AppError('bad-request', 'Send exactly one file per upload.');
  if (code === 'FST_PARTS_LIMIT' || code === 'FST_FIELDS_LIMIT') return new AppError('bad-request', 'Too many fields: send `file` and, optionally, `alt`.');
  if (code === 'FST_INVALID_MULTIPART_CONTENT_TYPE') return new AppError('unsupported-media-type', 'Send the image as multipart/form-data.');
  if (code === 'FST_PROTO_VIOLATION') return new AppError('bad-request', 'A field name is not allowed.');
  // busboy: a body cut short or not multipart at all
  if (e instanceof Error && /multipart|boundary|Unexpected end/i.test(e.message)) return new AppError('bad-request', `The multipart body is malformed: ${e.message}`);
  return e;
}
