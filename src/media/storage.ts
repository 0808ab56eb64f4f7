// Where media files live, behind one small interface: a folder (one process, or a shared
// volume) or an S3-compatible bucket (several processes serving one site). Keys are
// content addresses, `{hash}/{width}.{format}`: a key's bytes never change, so a file is
// written whole or not at all and never updated.
import { mkdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import send from '@fastify/send';

/** What a read answers: the status (200, 206, 304, 416), the headers that go with it, the bytes. */
export interface StoredRead {
  statusCode: number;
  headers: Record<string, string>;
  body: Readable | null;
}

export interface MediaStorage {
  readonly kind: 'folder' | 's3';
  put(key: string, data: Buffer, contentType: string): Promise<void>;
  /** missing keys are not an error */
  remove(keys: string[]): Promise<void>;
  /** A file for an HTTP GET or HEAD: honours `Range` and `If-None-Match`; null when there is no such file. */
  read(key: string, req: IncomingMessage): Promise<StoredRead | null>;
  /** A whole file's bytes (for sending it elsewhere: a link card's image); null when there is no such file. */
  bytes(key: string): Promise<Buffer | null>;
}

/** Keys are made by us from a hex hash and a width; this guards the folder against anything else. */
const KEY = /^[a-f0-9]{16,64}\/\d{1,5}\.(jpeg|png|webp|avif|gif)$/;
export function checkKey(key: string): string {
  if (!KEY.test(key)) throw new Error(`not a media key: ${key}`);
  return key;
}

export class FolderStorage implements MediaStorage {
  readonly kind = 'folder';
  constructor(readonly root: string) {}

  async put(key: string, data: Buffer): Promise<void> {
    const path = join(this.root, checkKey(key));
    await mkdir(dirname(path), { recursive: true });
    // written aside and renamed: a reader never sees half a file, a crash leaves only a temp file
    const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(temp, data);
      await rename(temp, path);
    } catch (e) {
      await rm(temp, { force: true });
      throw e;
    }
  }

  async remove(keys: string[]): Promise<void> {
    const dirs = new Set<string>();
    for (const key of keys) {
      const path = join(this.root, checkKey(key));
      await rm(path, { force: true });
      dirs.add(dirname(path));
    }
    // the hash's folder goes when it is empty (rmdir refuses a folder that still holds files)
    for (const dir of dirs) await rmdir(dir).catch(() => {});
  }

  async bytes(key: string): Promise<Buffer | null> {
    try {
      return await readFile(join(this.root, checkKey(key)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  async read(key: string, req: IncomingMessage): Promise<StoredRead | null> {
    // ETag and Last-Modified from the file, Range, 304 and 416 by @fastify/send; caching headers are the route's
    const res = await send(req, checkKey(key), { root: this.root, cacheControl: false, contentType: false, dotfiles: 'deny', index: false });
    if (res.type === 'error') {
      res.stream.destroy?.();
      if (res.statusCode === 404) return null;
      if (res.statusCode === 416) return { statusCode: 416, headers: res.headers, body: null };
      throw Object.assign(new Error(`media read failed: ${res.statusCode}`), { statusCode: res.statusCode });
    }
    if (res.type === 'directory') return null;
    return { statusCode: res.statusCode, headers: res.headers, body: res.statusCode === 304 || req.method === 'HEAD' ? (res.stream.destroy(), null) : res.stream };
  }
}
