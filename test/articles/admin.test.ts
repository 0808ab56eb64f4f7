import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { adminRequest, createArticle } from '../helpers/factories.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

describe('admin: writing articles', () => {
  it('creates from Markdown: sanitised HTML, derived excerpt, reading time, unicode-aware slug, tags created', async () => {
    const res = await adminRequest(t, 'POST', '/v1/admin/articles', {
      title: 'Héllo Wörld',
      markdown: '# Intro\n\nA *lovely* day. <script>alert(1)</script> [bad](javascript:alert(1)) <img src=x onerror=alert(1)>\n\n' + 'word '.repeat(600),
      tags: ['News', 'Deep Dives', 'news'],
    });
    expect(res.statusCode).toBe(201);
    expect(res.headers.location).toMatch(/^\/v1\/admin\/articles\/\d+$/);
    expect(res.headers.etag).toMatch(/^"article-\d+-v\d+"$/);
    const a = res.json();
    expect(a.slug).toBe('hello-woerld');
    expect(a.status).toBe('draft');
    expect(a.html).toContain('<em>lovely</em>');
    expect(a.html).not.toMatch(/<script|javascript:|onerror/i);
    expect(a.excerpt.startsWith('Intro A lovely day.')).toBe(true);
    expect(a.excerpt.length).toBeLessThanOrEqual(280);
    expect(a.customExcerpt).toBe(false);
    expect(a.readingTimeMinutes).toBe(3);
    expect(a.tags).toEqual([
      { slug: 'news', name: 'News' },
      { slug: 'deep-dives', name: 'Deep Dives' },
    ]);
    expect(a.publishedAt).toBeNull();
    expect(a.markdown).toContain('# Intro');
  });

  it('keeps letters of scripts without transliteration in slugs and makes generated slugs unique', async () => {
    const a = await createArticle(t, { title: '日本語のタイトル', status: 'draft' });
    expect(a.slug).toBe('日本語のタイトル');
    const b = await createArticle(t, { title: 'Same Title', status: 'draft' });
    const c = await createArticle(t, { title: 'Same title!', status: 'draft' });
    expect(b.slug).toBe('same-title');
    expect(c.slug).toBe('same-title-2');
  });

  it('accepts HTML and sanitises it', async () => {
    const a = await createArticle(t, { markdown: undefined, html: '<p onclick="x()">Hi <a href="https://example.com/x">there</a></p><iframe src="https://evil"></iframe>', status: 'draft' });
    expect(a.html).toBe('<p>Hi <a href="https://example.com/x">there</a></p>');
  });

  it('answers 409 for a slug that is taken, and 400 with field errors for bad input', async () => {
    await createArticle(t, { title: 'Taken', slug: 'taken', status: 'draft' });
    const dup = await adminRequest(t, 'POST', '/v1/admin/articles', { title: 'Other', slug: 'taken' });
    expect(dup.statusCode).toBe(409);
    expect(dup.headers['content-type']).toMatch(/problem\+json/);

    const cases: [Record<string, unknown>, string][] = [
      [{}, '/body/title'],
      [{ title: '' }, '/body/title'],
      [{ title: '   ' }, '/body/title'],
      [{ title: 'x'.repeat(301) }, '/body/title'],
      [{ title: 'x', slug: 'Not A Slug' }, '/body/slug'],
      [{ title: 'x', markdown: 'a', html: '<p>b</p>' }, '/body/html'],
      [{ title: 'x', status: 'scheduled' }, '/body/publishAt'],
      [{ title: 'x', status: 'live' }, '/body/status'],
      [{ title: 'x', publishAt: 'tomorrow', status: 'scheduled' }, '/body/publishAt'],
      [{ title: 'x', authorSlug: 'nobody' }, '/body/authorSlug'],
      [{ title: 'x', tags: [''] }, '/body/tags/0'],
      [{ title: 'x', surprise: true }, '/body/surprise'],
    ];
    for (const [payload, pointer] of cases) {
      const res = await adminRequest(t, 'POST', '/v1/admin/articles', payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().errors.map((e: { pointer: string }) => e.pointer), JSON.stringify(payload)).toContain(pointer);
    }
    const list = await adminRequest(t, 'GET', '/v1/admin/articles?q=surprise');
    expect(list.json().data).toEqual([]);
  });

  it('rejects an enormous body with 413 and stores nothing', async () => {
    const before = (await adminRequest(t, 'GET', '/v1/admin/articles')).json().meta.pagination.total;
    const res = await adminRequest(t, 'POST', '/v1/admin/articles', { title: 'Huge', markdown: 'x'.repeat(1_100_000) });
    expect(res.statusCode).toBe(413);
    const after = (await adminRequest(t, 'GET', '/v1/admin/articles')).json().meta.pagination.total;
    expect(after).toBe(before);
  });

  it('PATCH with If-Match: applies with the current ETag, 412 on a lost update, nothing half-written', async () => {
    const a = await createArticle(t, { title: 'Versioned', status: 'draft' });
    const read = await adminRequest(t, 'GET', `/v1/admin/articles/${a.id}`);
    const etag = read.headers.etag as string;
    const first = await adminRequest(t, 'PATCH', `/v1/admin/articles/${a.id}`, { title: 'Versioned (edited)' }, { 'if-match': etag });
    expect(first.statusCode).toBe(200);
    expect(first.headers.etag).not.toBe(etag);
    const lost = await adminRequest(t, 'PATCH', `/v1/admin/articles/${a.id}`, { title: 'Stale edit', markdown: 'new body' }, { 'if-match': etag });
    expect(lost.statusCode).toBe(412);
    expect(lost.headers['content-type']).toMatch(/problem\+json/);
    const now = (await adminRequest(t, 'GET', `/v1/admin/articles/${a.id}`)).json();
    expect(now.title).toBe('Versioned (edited)');
    expect(now.html).toBe('<p>Some words.</p>');
  });

  it('a renamed slug answers 301 to the new one and stays reserved', async () => {
    const a = await createArticle(t, { title: 'Old name', slug: 'old-name' });
    const res = await adminRequest(t, 'PATCH', `/v1/admin/articles/${a.id}`, { slug: 'new-name' });
    expect(res.statusCode).toBe(200);
    const old = await t.app.inject({ method: 'GET', url: '/v1/articles/old-name' });
    expect(old.statusCode).toBe(301);
    expect(old.headers.location).toBe('/v1/articles/new-name');
    expect((await t.app.inject({ method: 'GET', url: '/v1/articles/new-name' })).statusCode).toBe(200);
    const clash = await adminRequest(t, 'POST', '/v1/admin/articles', { title: 'Old name', slug: 'old-name' });
    expect(clash.statusCode).toBe(409);
  });

  it('lists any status for admins, filtered by status, with no-store', async () => {
    const res = await adminRequest(t, 'GET', '/v1/admin/articles?status=draft&limit=100');
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json().data.length).toBeGreaterThan(0);
    expect(res.json().data.every((a: { status: string }) => a.status === 'draft')).toBe(true);
  });

  it('deletes: 204, then 404', async () => {
    const a = await createArticle(t, { title: 'Doomed' });
    expect((await adminRequest(t, 'DELETE', `/v1/admin/articles/${a.id}`)).statusCode).toBe(204);
    expect((await adminRequest(t, 'GET', `/v1/admin/articles/${a.id}`)).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'GET', url: `/v1/articles/${a.slug}` })).statusCode).toBe(404);
    expect((await adminRequest(t, 'DELETE', `/v1/admin/articles/${a.id}`)).statusCode).toBe(404);
  });

  it('every admin article route needs a token', async () => {
    for (const [method, url] of [
      ['GET', '/v1/admin/articles'],
      ['POST', '/v1/admin/articles'],
      ['GET', '/v1/admin/articles/1'],
      ['PATCH', '/v1/admin/articles/1'],
      ['DELETE', '/v1/admin/articles/1'],
      ['POST', '/v1/admin/articles/1/publish'],
      ['POST', '/v1/admin/articles/1/unpublish'],
      ['POST', '/v1/admin/tags'],
      ['POST', '/v1/admin/authors'],
    ] as const) {
      const res = await t.app.inject({ method, url, payload: method === 'GET' || method === 'DELETE' ? undefined : { title: 'x' } });
      expect(res.statusCode, `${method} ${url}`).toBe(401);
    }
  });
});

describe('admin: tags and authors', () => {
  it('creates, updates and deletes authors and tags; articles reference authors by slug', async () => {
    const au = await adminRequest(t, 'POST', '/v1/admin/authors', { name: 'Ada Lovelace', bio: 'Wrote the first program.' });
    expect(au.statusCode).toBe(201);
    expect(au.json()).toMatchObject({ slug: 'ada-lovelace', name: 'Ada Lovelace', count: 0 });
    expect((await adminRequest(t, 'POST', '/v1/admin/authors', { name: 'Ada Lovelace' })).statusCode).toBe(409);
    const a = await createArticle(t, { title: 'By Ada', authorSlug: 'ada-lovelace' });
    expect(a.author).toEqual({ slug: 'ada-lovelace', name: 'Ada Lovelace' });
    const pub = await t.app.inject({ method: 'GET', url: '/v1/authors/ada-lovelace' });
    expect(pub.json().count).toBe(1);

    const tag = await adminRequest(t, 'POST', '/v1/admin/tags', { name: 'Open Web', description: 'Pingbacks and friends' });
    expect(tag.json()).toMatchObject({ slug: 'open-web', count: 0 });
    const renamed = await adminRequest(t, 'PATCH', '/v1/admin/tags/open-web', { name: 'The Open Web' });
    expect(renamed.json().name).toBe('The Open Web');
    expect((await adminRequest(t, 'PATCH', '/v1/admin/tags/nope', { name: 'x' })).statusCode).toBe(404);
    expect((await adminRequest(t, 'DELETE', '/v1/admin/tags/open-web')).statusCode).toBe(204);
    expect((await t.app.inject({ method: 'GET', url: '/v1/tags/open-web' })).statusCode).toBe(404);
  });

  it('the schemas carry the slug rule: a bad slug is named with the other bad fields in one 400', async () => {
    for (const [url, payload, other] of [
      ['/v1/admin/articles', { title: '', slug: 'Not A Slug' }, '/body/title'],
      ['/v1/admin/tags', { name: '', slug: 'Not A Slug' }, '/body/name'],
      ['/v1/admin/authors', { name: '', slug: 'not--a-slug' }, '/body/name'],
    ] as const) {
      const res = await adminRequest(t, 'POST', url, payload);
      expect(res.statusCode, url).toBe(400);
      expect(res.json().errors, url).toEqual(expect.arrayContaining([{ pointer: other, message: expect.any(String) }, { pointer: '/body/slug', message: 'must be lowercase letters, digits and single dashes' }]));
    }
  });
});
