// The library after an upload: its files served (ETag, 304, ranges, immutable), its admin
// routes, and the articles that use it (feature image, images in the HTML, feeds).
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { adminRequest, createArticle } from '../helpers/factories.ts';
import { testConfig } from '../../src/config.ts';
import { filesUnder, photo, tempDir, upload } from './support.ts';

interface MediaBody {
  id: number;
  url: string;
  width: number;
  height: number;
  alt: string;
  srcset: string;
  variants: { width: number; format: string; url: string }[];
}

describe('the media library', () => {
  let t: TestApp;
  let dir: string;
  let image: MediaBody;
  const path = (url: string) => new URL(url).pathname;

  beforeAll(async () => {
    dir = tempDir();
    t = await createTestApp({ media: { ...testConfig().media, dir }, siteIcon: 'https://cdn.example.org/icon.png' });
    const res = await upload(t, await photo(1000, 750), { alt: 'A lighthouse' });
    expect(res.statusCode, res.body).toBe(201);
    image = res.json();
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('files: immutable caching, ETag and 304, single ranges (206, 416), HEAD, 404 for an unknown one', async () => {
    const url = path(image.variants.find((v) => v.format === 'webp' && v.width === 640)!.url);
    const full = await t.app.inject({ method: 'GET', url });
    expect(full.statusCode).toBe(200);
    expect(full.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(full.headers['accept-ranges']).toBe('bytes');
    expect(full.headers['access-control-allow-origin']).toBe('*');
    const etag = String(full.headers.etag);
    expect(etag).toMatch(/^(W\/)?".+"$/);

    const again = await t.app.inject({ method: 'GET', url, headers: { 'if-none-match': etag } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');

    const part = await t.app.inject({ method: 'GET', url, headers: { range: 'bytes=0-99' } });
    expect(part.statusCode).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 0-99/${full.rawPayload.length}`);
    expect(part.rawPayload.equals(full.rawPayload.subarray(0, 100))).toBe(true);
    const tail = await t.app.inject({ method: 'GET', url, headers: { range: 'bytes=-10' } });
    expect(tail.rawPayload.equals(full.rawPayload.subarray(-10))).toBe(true);
    expect((await t.app.inject({ method: 'GET', url, headers: { range: `bytes=${full.rawPayload.length + 10}-` } })).statusCode).toBe(416);

    const head = await t.app.inject({ method: 'HEAD', url });
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-length']).toBe(String(full.rawPayload.length));
    expect(head.body).toBe('');

    expect((await t.app.inject({ method: 'GET', url: `/media/${'0'.repeat(32)}/640.webp` })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'GET', url: '/media/../../etc/passwd' })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'GET', url: `/media/${'a'.repeat(32)}/640.svg` })).statusCode).toBe(400);
  });

  it('admin: list, get, alt text edit', async () => {
    const list = await adminRequest(t, 'GET', '/v1/admin/media');
    expect(list.statusCode).toBe(200);
    expect(list.json().data.map((m: MediaBody) => m.id)).toContain(image.id);
    expect((await adminRequest(t, 'GET', `/v1/admin/media/${image.id}`)).json()).toEqual(image);
    const patched = await adminRequest(t, 'PATCH', `/v1/admin/media/${image.id}`, { alt: '  The lighthouse at dusk ' });
    expect(patched.statusCode).toBe(200);
    expect(patched.json().alt).toBe('The lighthouse at dusk');
    expect((await adminRequest(t, 'GET', '/v1/admin/media/99999')).statusCode).toBe(404);
    expect((await adminRequest(t, 'PATCH', `/v1/admin/media/${image.id}`, { alt: 'x', extra: 1 })).statusCode).toBe(400);
    image = patched.json();
  });

  it('articles: featureImage in, { id, url, alt, width, height, srcset } out; null when none; an unknown id is 400', async () => {
    const none = await createArticle(t, { title: 'No picture' });
    expect(none.featureImage).toBeNull();
    const bad = await adminRequest(t, 'POST', '/v1/admin/articles', { title: 'Bad', markdown: 'x', featureImage: 424242 });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].pointer).toBe('/body/featureImage');

    const a = await createArticle(t, { title: 'With a picture', featureImage: image.id });
    const pub = (await t.app.inject({ method: 'GET', url: `/v1/articles/${a.slug}` })).json();
    expect(pub.featureImage).toEqual({ id: image.id, url: image.url, alt: 'The lighthouse at dusk', width: 1000, height: 750, srcset: image.srcset });
    expect(pub.featureImage.srcset.split(', ').map((s: string) => s.split(' ')[1])).toEqual(['320w', '640w', '960w', '1000w']);

    // the alt text edited in the library shows at once on public reads (the response cache is told)
    await adminRequest(t, 'PATCH', `/v1/admin/media/${image.id}`, { alt: 'Lighthouse' });
    expect((await t.app.inject({ method: 'GET', url: `/v1/articles/${a.slug}` })).json().featureImage.alt).toBe('Lighthouse');
    image.alt = 'Lighthouse';

    // and it can be removed again
    const cleared = await adminRequest(t, 'PATCH', `/v1/admin/articles/${a.id}`, { featureImage: null });
    expect(cleared.json().featureImage).toBeNull();
    await adminRequest(t, 'PATCH', `/v1/admin/articles/${a.id}`, { featureImage: image.id });
  });

  it('a library image inside article HTML gets srcset, sizes, width, height and loading="lazy"; others are left alone', async () => {
    const src960 = image.variants.find((v) => v.width === 960 && v.format === 'jpeg')!.url;
    const relative = path(image.url);
    const a = await createArticle(t, {
      title: 'Inline images',
      markdown: `Look:\n\n![](${src960})\n\nand ![my own words](${relative})\n\nand ![elsewhere](https://img.example.org/x.jpg)`,
    });
    const html = (await t.app.inject({ method: 'GET', url: `/v1/articles/${a.slug}` })).json().html as string;
    const imgs = html.match(/<img [^>]*>/g)!;
    expect(imgs).toHaveLength(3);
    expect(imgs[0]).toContain(`src="${src960}"`);
    expect(imgs[0]).toContain('alt="Lighthouse"');
    expect(imgs[0]).toContain('width="960" height="720"');
    expect(imgs[0]).toContain('loading="lazy"');
    expect(imgs[0]).toContain('sizes="(max-width: 960px) 100vw, 960px"');
    expect(imgs[0]).toMatch(/srcset="[^"]*\/320\.webp 320w, [^"]*\/640\.webp 640w, [^"]*\/960\.webp 960w"/);
    // a relative library URL becomes absolute (feeds need it); the editor's alt text wins
    expect(imgs[1]).toContain(`src="${image.url}"`);
    expect(imgs[1]).toContain('alt="my own words"');
    expect(imgs[1]).toContain('width="1000" height="750"');
    expect(imgs[2]).not.toContain('srcset');
    expect(imgs[2]).not.toContain('loading');
  });

  it('feeds carry the feature image: RSS enclosure, Atom enclosure link, JSON Feed image', async () => {
    const rss = (await t.app.inject({ method: 'GET', url: '/feed.xml' })).body;
    const enclosure = rss.match(/<enclosure [^>]*>/g)!.find((e) => e.includes(`url="${image.url}"`))!;
    expect(enclosure).toContain('type="image/jpeg"');
    expect(enclosure).toMatch(/length="[1-9]\d*"/);
    const atom = (await t.app.inject({ method: 'GET', url: '/feed.atom' })).body;
    expect(atom).toContain(`<link rel="enclosure" href="${image.url}"`);
    const json = (await t.app.inject({ method: 'GET', url: '/feed.json' })).json();
    expect(json.items.find((i: { title: string }) => i.title === 'With a picture').image).toBe(image.url);
    expect(json.items.find((i: { title: string }) => i.title === 'No picture').image).toBeUndefined();
  });

  it('/v1/site names the site icon (SITE_ICON)', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/v1/site' })).json().icon).toBe('https://cdn.example.org/icon.png');
  });

  it('DELETE: 409 while an article uses it (feature image or HTML, any status), then 204 and the files are gone', async () => {
    const res = await adminRequest(t, 'DELETE', `/v1/admin/media/${image.id}`);
    expect(res.statusCode).toBe(409);
    expect(res.json().detail).toMatch(/used by 2 articles/);

    const list = (await adminRequest(t, 'GET', '/v1/admin/articles')).json().data as { id: number; title: string }[];
    const featured = list.find((a) => a.title === 'With a picture')!;
    await adminRequest(t, 'PATCH', `/v1/admin/articles/${featured.id}`, { featureImage: null });
    const inline = list.find((a) => a.title === 'Inline images')!;
    // a draft still counts
    await adminRequest(t, 'POST', `/v1/admin/articles/${inline.id}/unpublish`);
    expect((await adminRequest(t, 'DELETE', `/v1/admin/media/${image.id}`)).statusCode).toBe(409);
    await adminRequest(t, 'PATCH', `/v1/admin/articles/${inline.id}`, { markdown: 'No images now.' });

    const before = filesUnder(dir).length;
    expect((await adminRequest(t, 'DELETE', `/v1/admin/media/${image.id}`)).statusCode).toBe(204);
    expect(filesUnder(dir).length).toBe(before - 1 - image.variants.length + 1); // the original is also the 1000 px JPEG variant
    expect(existsSync(join(dir, path(image.url).split('/')[2]))).toBe(false);
    expect((await t.app.inject({ method: 'GET', url: path(image.url) })).statusCode).toBe(404);
    expect((await adminRequest(t, 'GET', `/v1/admin/media/${image.id}`)).statusCode).toBe(404);
  });
});
