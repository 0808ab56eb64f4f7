// The S3 path against a real S3-compatible server on 127.0.0.1 (s3rver, started here),
// through the real AWS SDK: uploads land in the bucket, files stream out of it with
// ranges and revalidation passed through, deletes empty it, and a store that fails
// half-way keeps nothing.
import { rmSync } from 'node:fs';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { pino } from 'pino';
import S3rver from 's3rver';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig, type MediaS3Config } from '../../src/config.ts';
import { MediaService } from '../../src/media/media.service.ts';

import { FolderStorage, type MediaStorage } from '../../src/media/storage.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { adminRequest } from '../helpers/factories.ts';
import { filesUnder, photo, tempDir, upload } from './support.ts';

const BUCKET = 'inkwell-media';

describe('media on an S3-compatible bucket', () => {
  let server: S3rver;
  let dir: string;
  let s3: MediaS3Config;
  let client: S3Client;
  let t: TestApp;

  const keysInBucket = async () =>
    ((await client.send(new ListObjectsV2Command({ Bucket: BUCKET }))).Contents ?? []).map((o) => o.Key!).sort();

  beforeAll(async () => {
    dir = tempDir('inkwell-s3rver-');
    server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, configureBuckets: [{ name: BUCKET }] });
    const { port } = await server.run();
    // s3rver's fixed credentials
    s3 = { bucket: BUCKET, endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } };
    client = new S3Client({ region: s3.region, endpoint: s3.endpoint, forcePathStyle: true, credentials: s3.credentials });
    t = await createTestApp({ media: { ...testConfig().media, dir: '/nonexistent/never-used', s3 } });
  });
  afterAll(async () => {
    await t?.close();
    client?.destroy();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('an upload lands in the bucket, is served from it (Range, If-None-Match, HEAD) and deleted from it', async () => {
    const res = await upload(t, await photo(1400, 700), { alt: 'From the bucket' });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json() as { id: number; url: string; variants: { width: number; format: string; url: string }[] };
    const hash = new URL(body.url).pathname.split('/')[2];
    const expected = [...new Set([...body.variants.map((v) => `${hash}/${v.width}.${v.format}`), `${hash}/1400.jpeg`])].sort();
    expect(await keysInBucket()).toEqual(expected);
    // read whole (a link card's image): the stored bytes, and null for a key the bucket lacks
    const whole = await t.services.media.storage.bytes(`${hash}/640.jpeg`);
    expect((await sharp(whole!).metadata()).width).toBe(640);
    expect(await t.services.media.storage.bytes(`${hash}/320.gif`)).toBeNull();

    const url = new URL(body.variants.find((v) => v.format === 'avif' && v.width === 640)!.url).pathname;
    const full = await t.app.inject({ method: 'GET', url });
    expect(full.statusCode).toBe(200);
    expect(full.headers['content-type']).toBe('image/avif');
    expect(full.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(Number(full.headers['content-length'])).toBe(full.rawPayload.length);
    const etag = String(full.headers.etag);
    expect(etag).toMatch(/^".+"$/);

    const part = await t.app.inject({ method: 'GET', url, headers: { range: 'bytes=10-19' } });
    expect(part.statusCode).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 10-19/${full.rawPayload.length}`);
    expect(part.rawPayload.equals(full.rawPayload.subarray(10, 20))).toBe(true);

    expect((await t.app.inject({ method: 'GET', url, headers: { 'if-none-match': etag } })).statusCode).toBe(304);
    const head = await t.app.inject({ method: 'HEAD', url });
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-length']).toBe(String(full.rawPayload.length));
    expect((await t.app.inject({ method: 'GET', url: `/media/${hash}/321.webp` })).statusCode).toBe(404);

    expect((await adminRequest(t, 'DELETE', `/v1/admin/media/${body.id}`)).statusCode).toBe(204);
    expect(await keysInBucket()).toEqual([]);
    expect((await t.app.inject({ method: 'GET', url })).statusCode).toBe(404);
  });

  it('a bucket that refuses the files (no such bucket): 503, no row, and the process carries on', async () => {
    const down = await createTestApp({ media: { ...testConfig().media, s3: { ...s3, bucket: 'no-such-bucket' } } });
    try {
      const res = await upload(down, await photo(500, 300));
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('10');
      expect((await adminRequest(down, 'GET', '/v1/admin/media')).json().meta.pagination.total).toBe(0);
      expect((await down.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await down.close();
    }
  });
});

describe('a store that fails half-way', () => {
  it('keeps nothing: the files written before the failure are removed, no row is written', async () => {
    const root = tempDir();
    const folder = new FolderStorage(root);
    let puts = 0;
    const flaky: MediaStorage = {
      kind: 'folder',
      put: async (key, data) => {
        if (++puts === 5) throw new Error('disk full');
        return folder.put(key, data);
      },
      remove: (keys) => folder.remove(keys),
      read: (key, req) => folder.read(key, req),
      bytes: (key) => folder.bytes(key),
    };
    const t = await createTestApp();
    try {
      const media = new MediaService({ db: t.database.db, config: t.config, storage: flaky, log: pino({ level: 'silent' }), events: t.services.events });
      const jpeg = await photo(1000, 600);
      const { writeFileSync } = await import('node:fs');
      const path = `${root}/upload.jpg`;
      writeFileSync(path, jpeg);
      await expect(media.create({ path, bytes: jpeg.length, hash: 'ab'.repeat(16), alt: '' })).rejects.toMatchObject({ status: 503 });
      expect(puts).toBeGreaterThanOrEqual(5);
      expect(filesUnder(root)).toEqual(['upload.jpg']);
      expect((await media.list({})).meta.pagination.total).toBe(0);
    } finally {
      await t.close();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
