// Hostile and broken uploads: each a 4xx problem, nothing stored (no row, no file), the process alive.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { testConfig } from '../../src/config.ts';
import { filesUnder, multipart, photo, pngDeclaring, tempDir, upload } from './support.ts';

describe('bad uploads', () => {
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

  async function expectNothingStored() {
    const list = await t.app.inject({ method: 'GET', url: '/v1/admin/media', headers: t.auth });
    expect(list.json().meta.pagination.total).toBe(0);
    expect(filesUnder(dir)).toEqual([]);
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  }

  function expectProblem(res: { statusCode: number; headers: Record<string, unknown>; json(): unknown }, status: number, detail: RegExp) {
    expect(res.statusCode).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect((res.json() as { detail: string }).detail).toMatch(detail);
  }

  it('a text file named .png → 415', async () => {
    expectProblem(await upload(t, 'hello, I am not a picture\n'.repeat(20), { filename: 'cat.png', contentType: 'image/png' }), 415, /not an image/);
    await expectNothingStored();
  });

  it('an SVG (it can carry scripts) → 415', async () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script><rect width="10" height="10"/></svg>';
    expectProblem(await upload(t, svg, { filename: 'logo.svg', contentType: 'image/svg+xml' }), 415, /SVG/);
    await expectNothingStored();
  });

  it('a PNG declaring 20,000 × 20,000 pixels → 413 from its header, before decoding', async () => {
    const started = performance.now();
    expectProblem(await upload(t, pngDeclaring(20_000, 20_000), { filename: 'bomb.png', contentType: 'image/png' }), 413, /400\.0 megapixels\); at most 40 megapixels/);
    expect(performance.now() - started).toBeLessThan(5000);
    await expectNothingStored();
  });

  it('a truncated JPEG → 400', async () => {
    const jpeg = await photo(1200, 800, 'jpeg');
    expectProblem(await upload(t, jpeg.subarray(0, Math.floor(jpeg.length * 0.6))), 400, /could not be decoded/);
    await expectNothingStored();
  });

  it('0 bytes → 400', async () => {
    expectProblem(await upload(t, Buffer.alloc(0)), 400, /empty/);
    await expectNothingStored();
  });

  it('25 MB → 413 (MEDIA_MAX_BYTES is 20 MB)', async () => {
    const big = Buffer.alloc(25 * 1024 * 1024, 0xff);
    expectProblem(await upload(t, big), 413, /larger than 20 MB/);
    await expectNothingStored();
  });

  it('two files in one body → 400', async () => {
    const jpeg = await photo(400, 300);
    const body = multipart([
      { name: 'file', filename: 'a.jpg', contentType: 'image/jpeg', data: jpeg },
      { name: 'file', filename: 'b.jpg', contentType: 'image/jpeg', data: jpeg },
    ]);
    const res = await t.app.inject({ method: 'POST', url: '/v1/admin/media', headers: { ...t.auth, ...body.headers }, payload: body.payload });
    expectProblem(res, 400, /exactly one file/);
    await expectNothingStored();
  });

  it('no file, a wrong field, JSON instead of multipart, no token → 400, 400, 415, 401', async () => {
    const onlyAlt = multipart([{ name: 'alt', data: 'just words' }]);
    expectProblem(await t.app.inject({ method: 'POST', url: '/v1/admin/media', headers: { ...t.auth, ...onlyAlt.headers }, payload: onlyAlt.payload }), 400, /No file/);
    const wrong = multipart([{ name: 'image', filename: 'a.jpg', data: await photo(100, 100) }]);
    expectProblem(await t.app.inject({ method: 'POST', url: '/v1/admin/media', headers: { ...t.auth, ...wrong.headers }, payload: wrong.payload }), 400, /field named `file`/);
    expectProblem(await t.app.inject({ method: 'POST', url: '/v1/admin/media', headers: t.auth, payload: { file: 'x' } }), 415, /multipart/);
    const ok = multipart([{ name: 'file', filename: 'a.jpg', data: await photo(100, 100) }]);
    expect((await t.app.inject({ method: 'POST', url: '/v1/admin/media', headers: ok.headers, payload: ok.payload })).statusCode).toBe(401);
    await expectNothingStored();
  });

  it('a body cut off in the middle of the file → 400', async () => {
    const body = multipart([{ name: 'file', filename: 'a.jpg', contentType: 'image/jpeg', data: await photo(600, 400) }]);
    const cut = body.payload.subarray(0, body.payload.length - 200);
    const res = await t.app.inject({ method: 'POST', url: '/v1/admin/media', headers: { ...t.auth, ...body.headers }, payload: cut });
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.statusCode).toBeLessThan(500);
    await expectNothingStored();
  });
});
