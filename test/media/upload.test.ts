import { rmSync } from 'node:fs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { testConfig } from '../../src/config.ts';
import { filesUnder, photo, tempDir, upload } from './support.ts';

describe('POST /v1/admin/media', () => {
  let t: TestApp;
  let dir: string;
  beforeAll(async () => {
    dir = tempDir();
    t = await createTestApp({ media: { ...testConfig().media, dir } });
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a 4000 × 3000 photo → 201 with its variants: 320–1920 px in WebP, AVIF and JPEG, metadata stripped', async () => {
    const jpeg = await photo(4000, 3000, 'jpeg', { exif: true });
    expect((await sharp(jpeg).metadata()).exif).toBeDefined();
    const res = await upload(t, jpeg, { alt: 'A sunset over the harbour' });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({ width: 4000, height: 3000, alt: 'A sunset over the harbour', format: 'jpeg' });
    expect(body.url).toMatch(/^http:\/\/api\.test\/media\/[a-f0-9]{32}\/4000\.jpeg$/);
    expect(res.headers.location).toBe(`/v1/admin/media/${body.id}`);
    const variants = body.variants as { width: number; height: number; format: string; url: string }[];
    expect(variants.map((v) => `${v.width}.${v.format}`).sort()).toEqual(
      [320, 640, 960, 1280, 1920].flatMap((w) => ['webp', 'avif', 'jpeg'].map((f) => `${w}.${f}`)).sort(),
    );
    expect(variants.find((v) => v.width === 1920)!.height).toBe(1440);
    expect(body.srcset).toContain('/320.webp 320w');

    // every file is really there, in its format and size, without the EXIF
    for (const v of [...variants, { url: body.url, width: 4000, format: 'jpeg' }]) {
      const file = await t.app.inject({ method: 'GET', url: new URL(v.url).pathname });
      expect(file.statusCode, v.url).toBe(200);
      expect(file.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(file.headers['content-type']).toBe(`image/${v.format}`);
      const meta = await sharp(file.rawPayload).metadata();
      expect(meta.format === 'heif' ? 'avif' : meta.format).toBe(v.format);
      expect(meta.width).toBe(v.width);
      expect(meta.exif).toBeUndefined();
      expect(file.rawPayload.includes(Buffer.from('Secret Photographer'))).toBe(false);
    }
    expect(filesUnder(dir)).toHaveLength(16);
  }, 240_000);

  it('never upscales: a 800 px image gets 320, 640 and its own 800', async () => {
    const res = await upload(t, await photo(800, 500, 'png'), { filename: 'x.png', contentType: 'image/png' });
    expect(res.statusCode, res.body).toBe(201);
    const widths = [...new Set((res.json().variants as { width: number }[]).map((v) => v.width))];
    expect(widths).toEqual([320, 640, 800]);
    expect((res.json().variants as { format: string }[]).map((v) => v.format)).toContain('png');
  });

  it('the same bytes again answer 200 with the same image, and nothing is stored twice', async () => {
    const gif = await photo(300, 200, 'gif');
    const first = await upload(t, gif, { filename: 'a.gif', contentType: 'image/gif' });
    expect(first.statusCode, first.body).toBe(201);
    const before = filesUnder(dir).length;
    const again = await upload(t, gif, { filename: 'b.gif', contentType: 'image/gif' });
    expect(again.statusCode).toBe(200);
    expect(again.json().id).toBe(first.json().id);
    expect(filesUnder(dir).length).toBe(before);
  });

  it('WebP and AVIF uploads are accepted by their bytes, whatever their name says', async () => {
    for (const format of ['webp', 'avif'] as const) {
      const res = await upload(t, await photo(400, 300, format), { filename: 'image.jpg', contentType: 'image/jpeg' });
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json().format).toBe(format);
    }
  });
});
