// The Bluesky link card's image, wired as the app wires it: the article's feature image,
// a rendition under the PDS's 1,000,000-byte limit read from the media store, uploaded
// with uploadBlob by the real @atproto/api client and referred to by the card's thumb.
// The fake PDS checks the blob as the PDS does when the record refers to it (type sniffed
// from the bytes, size, the limit). No image, an unreadable one, or one the PDS refuses:
// the post goes out with a card without thumb.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { testConfig } from '../../src/config.ts';
import { cardRendition } from '../../src/media/media.service.ts';
import type { StoredVariant } from '../../src/media/media.table.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { FakeBluesky } from '../helpers/fake-bluesky.ts';
import { FakeMastodon } from '../helpers/fake-mastodon.ts';
import { photo, tempDir, upload } from '../media/support.ts';
import { cleanSlate, networksConfig, rowOf } from './networks.support.ts';
import { publishArticle } from '../helpers/factories.ts';

let b: FakeBluesky;
let m: FakeMastodon;
let t: TestApp;
let dir: string;
const db = () => t.database.db;

beforeAll(async () => {
  dir = tempDir();
  m = await FakeMastodon.start();
  b = await FakeBluesky.start();
  t = await createTestApp(networksConfig(m, b, { media: { ...testConfig().media, dir } }));
});
afterAll(async () => {
  await t?.close();
  await m?.close();
  await b?.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  await cleanSlate(db());
  b.reset();
});

async function uploaded(image: Buffer): Promise<{ id: number; hash: string }> {
  const res = await upload(t, image, { alt: 'A card' });
  expect(res.statusCode, res.body).toBeLessThan(300);
  const body = res.json() as { id: number; url: string };
  return { id: body.id, hash: new URL(body.url).pathname.split('/')[2] };
}

/** Publishes an article showing this library image, and runs the announcements. */
async function announceWith(featureImageId: number | null, title: string) {
  const a = await publishArticle(t.services, { title, featureImage: featureImageId });
  await t.services.jobs.drainDue();
  const row = await rowOf(db(), a.id, 'bluesky');
  const post = b.posts.find((p) => p.rkey === row.remote_key);
  return { a, row, external: (post?.record.embed as { external: Record<string, unknown> } | undefined)?.external };
}

describe('the Bluesky card’s image', () => {
  it('an article with a feature image: uploadBlob gets a ~1280 px JPEG under 1 MB, declared as what it is, and the thumb refers to that blob', async () => {
    const image = await uploaded(await photo(1600, 1000, 'jpeg'));
    const { a, row, external } = await announceWith(image.id, 'With a feature image');
    expect(row.status).toBe('posted');
    const uploads = b.calls('com.atproto.repo.uploadBlob');
    expect(uploads).toHaveLength(1);
    expect(uploads[0].headers['content-type']).toBe('image/jpeg');
    expect(uploads[0].headers.authorization).toMatch(/^Bearer access-/);
    const [blob] = b.blobs;
    expect(blob.sniffed).toBe('image/jpeg');
    expect(blob.bytes.length).toBeLessThanOrEqual(1_000_000);
    // the 1280 px rendition from the store, byte for byte
    expect(await sharp(blob.bytes).metadata()).toMatchObject({ format: 'jpeg', width: 1280, height: 800 });
    expect(blob.bytes.equals((await t.services.media.storage.bytes(`${image.hash}/1280.jpeg`))!)).toBe(true);
    expect(external).toEqual({
      uri: `https://blog.example.com/${a.slug}/`,
      title: 'With a feature image',
      description: a.excerpt,
      thumb: { $type: 'blob', ref: { $link: blob.cid }, mimeType: 'image/jpeg', size: blob.bytes.length },
    });
  });

  it('a PNG smaller than the card: its own width, in WebP (no JPEG of a PNG is made)', async () => {
    const image = await uploaded(await photo(600, 400, 'png'));
    const { external } = await announceWith(image.id, 'A small PNG');
    const [blob] = b.blobs;
    expect(await sharp(blob.bytes).metadata()).toMatchObject({ width: 600 });
    expect(blob.sniffed).toBe('image/webp');
    expect(external?.thumb).toMatchObject({ mimeType: 'image/webp', size: blob.bytes.length });
  });

  it('an article without one: no upload, a card without thumb', async () => {
    const { row, external } = await announceWith(null, 'No picture');
    expect(row.status).toBe('posted');
    expect(b.calls('com.atproto.repo.uploadBlob')).toHaveLength(0);
    expect(external).not.toHaveProperty('thumb');
    expect(external).toMatchObject({ title: 'No picture' });
  });

  it('an image whose files are gone from the store: the post goes out, its card without thumb', async () => {
    const image = await uploaded(await photo(900, 500, 'jpeg'));
    rmSync(join(dir, image.hash), { recursive: true, force: true });
    const { row, external } = await announceWith(image.id, 'Files lost');
    expect(row).toMatchObject({ status: 'posted', attempts: 1 });
    expect(b.calls('com.atproto.repo.uploadBlob')).toHaveLength(0);
    expect(external).not.toHaveProperty('thumb');
  });

  it('an image the PDS refuses (400): the post goes out, its card without thumb', async () => {
    const image = await uploaded(await photo(800, 500, 'jpeg'));
    b.route('com.atproto.repo.uploadBlob', (_req, res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'InvalidRequest', message: 'Blob rejected' }));
    });
    try {
      const { row, external } = await announceWith(image.id, 'Refused picture');
      expect(row.status).toBe('posted');
      expect(b.calls('com.atproto.repo.uploadBlob')).toHaveLength(1);
      expect(external).not.toHaveProperty('thumb');
    } finally {
      b.unroute('com.atproto.repo.uploadBlob');
    }
  });
});

describe('cardRendition', () => {
  const v = (width: number, format: StoredVariant['format'], bytes: number): StoredVariant => ({ width, height: width / 2, format, bytes });
  const variants = [320, 640, 960, 1280, 1920].flatMap((w) => [v(w, 'webp', w * 300), v(w, 'avif', w * 200), v(w, 'jpeg', w * 900)]);

  it('the widest JPEG up to 1280 px under the limit, then WebP, never over the limit, never AVIF', () => {
    expect(cardRendition({ variants }, 1_000_000)).toEqual(v(1280, 'webp', 1280 * 300)); // the 1280 JPEG is 1,152,000 bytes
    expect(cardRendition({ variants }, 2_000_000)).toEqual(v(1280, 'jpeg', 1280 * 900));
    expect(cardRendition({ variants: variants.filter((x) => x.format !== 'webp') }, 1_000_000)).toEqual(v(960, 'jpeg', 960 * 900));
    expect(cardRendition({ variants: [v(320, 'avif', 10), v(320, 'jpeg', 2_000_000)] }, 1_000_000)).toBeNull();
  });
});
