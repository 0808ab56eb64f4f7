// Images made by sharp in the test (no binary fixtures) and multipart bodies built by hand,
// byte for byte, as a browser's form or curl -F sends them.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import type { TestApp } from '../helpers/app.ts';

export interface Part {
  name: string;
  filename?: string;
  contentType?: string;
  data: Buffer | string;
}

export function multipart(parts: Part[]): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----inkwell${randomBytes(8).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = `form-data; name="${p.name}"${p.filename !== undefined ? `; filename="${p.filename}"` : ''}`;
    const type = p.filename !== undefined ? `Content-Type: ${p.contentType ?? 'application/octet-stream'}\r\n` : '';
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${type}\r\n`), Buffer.from(p.data), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

/** POST /v1/admin/media with one file (and an optional alt text) */
export function upload(t: TestApp, data: Buffer | string, opts: { filename?: string; contentType?: string; alt?: string; extra?: Part[] } = {}) {
  const parts: Part[] = [{ name: 'file', filename: opts.filename ?? 'photo.jpg', contentType: opts.contentType ?? 'image/jpeg', data }];
  if (opts.alt !== undefined) parts.push({ name: 'alt', data: opts.alt });
  const body = multipart([...parts, ...(opts.extra ?? [])]);
  return t.app.inject({ method: 'POST', url: '/v1/admin/media', headers: { ...t.auth, ...body.headers }, payload: body.payload });
}

/** A photo-like image: a gradient with a few shapes (compresses like a photo, encodes fast). */
export async function photo(width: number, height: number, format: 'jpeg' | 'png' | 'webp' | 'avif' | 'gif' = 'jpeg', opts: { exif?: boolean } = {}): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#2a6f97"/><stop offset="1" stop-color="#f4a259"/></linearGradient></defs>
    <rect width="100%" height="100%" fill="url(#g)"/>
    <circle cx="${width * 0.3}" cy="${height * 0.4}" r="${Math.min(width, height) / 5}" fill="#fff8e7"/>
    <rect x="${width * 0.55}" y="${height * 0.5}" width="${width / 3}" height="${height / 4}" fill="#264653"/></svg>`;
  let s = sharp(Buffer.from(svg)).flatten();
  if (opts.exif) s = s.withExif({ IFD0: { Artist: 'Secret Photographer', Copyright: 'GPS 48.8584 N 2.2945 E' } });
  return s.toFormat(format).toBuffer();
}

/** A PNG whose header declares width × height, followed by a few bytes of nothing: a decompression bomb's shape. */
export function pngDeclaring(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolour
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', Buffer.alloc(64))]);
}

export const tempDir = (prefix = 'inkwell-media-test-') => mkdtempSync(join(tmpdir(), prefix));

/** Every file under dir (relative paths), for "nothing half-stored" checks. */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p, `${rel}${n}/`);
      else out.push(`${rel}${n}`);
    }
  };
  walk(dir, '');
  return out;
}
