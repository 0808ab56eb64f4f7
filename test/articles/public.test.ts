import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { adminRequest, createArticle } from '../helpers/factories.ts';

let t: TestApp;
const get = (url: string, headers: Record<string, string> = {}) => t.app.inject({ method: 'GET', url, headers });

/** Sets published_at directly: the API stamps "now", tests need a calendar. */
async function backdate(id: number, iso: string) {
  await t.database.db.execute(sql`update articles set published_at = ${iso}::timestamptz where id = ${id}`);
}

beforeAll(async () => {
  t = await createTestApp();
  await adminRequest(t, 'POST', '/v1/admin/authors', { name: 'Grace Hopper' });
  const specs = [
    { title: 'Résumé writing for engineers', markdown: 'How to write a CV that gets read.', tags: ['Careers'], date: '2026-01-05T10:00:00Z', authorSlug: 'grace-hopper' },
    { title: 'Compilers for everyone', markdown: 'A gentle tour of parsing. Also a note on résumés.', tags: ['Programming'], date: '2026-02-10T10:00:00Z', authorSlug: 'grace-hopper' },
    { title: 'Debugging stories', markdown: 'The moth in the relay.', tags: ['Programming', 'History'], date: '2026-03-15T10:00:00Z' },
    { title: 'Notes on São Paulo', markdown: 'Travel notes.', tags: ['Travel'], date: '2026-04-20T10:00:00Z' },
  ];
  for (const s of specs) {
    const a = await createArticle(t, { title: s.title, markdown: s.markdown, tags: s.tags, authorSlug: s.authorSlug });
    await backdate(a.id, s.date);
  }
  for (let i = 1; i <= 21; i++) {
    const a = await createArticle(t, { title: `Filler ${i}`, markdown: `Filler body ${i}.` });
    await backdate(a.id, new Date(Date.UTC(2025, 0, i, 12)).toISOString());
  }
  await createArticle(t, { title: 'Secret draft', status: 'draft' });
  await createArticle(t, { title: 'Future piece', status: 'scheduled', publishAt: '2099-01-01T00:00:00Z' });
  await createArticle(t, { title: 'Old archive', status: 'archived' });
});
afterAll(() => t.close());

describe('GET /v1/articles', () => {
  it('lists published articles newest first with pagination meta, Link and X-Total-Count', async () => {
    const res = await get('/v1/articles?limit=10');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.data).toHaveLength(10);
    expect(body.data[0].title).toBe('Notes on São Paulo');
    expect(body.meta.pagination).toMatchObject({ page: 1, limit: 10, pages: 3, total: 25, next: 2, prev: null });
    expect(res.headers['x-total-count']).toBe('25');
    const link = String(res.headers.link);
    expect(link).toContain('<http://api.test/v1/articles?limit=10&page=2>; rel="next"');
    expect(link).toContain('rel="last"');
    expect(link).toContain('rel="first"');
    const dates = body.data.map((a: { publishedAt: string }) => a.publishedAt);
    expect([...dates].sort().reverse()).toEqual(dates);
  });

  it('returns the article shape of the contract', async () => {
    const a = (await get('/v1/articles?limit=1')).json().data[0];
    expect(Object.keys(a).sort()).toEqual(
      ['announcement', 'author', 'commentsOpen', 'counts', 'excerpt', 'featureImage', 'html', 'id', 'pingsOpen', 'publishedAt', 'readingTimeMinutes', 'slug', 'status', 'syndication', 'tags', 'title', 'updatedAt', 'url'].sort(),
    );
    expect(a.url).toBe('http://blog.test/notes-on-sao-paulo/');
    expect(a.counts).toEqual({ comments: 0, pingbacks: 0, webmentions: 0, likes: 0, reposts: 0, replies: 0 });
    expect(a.featureImage).toBeNull();
    expect(a.status).toBe('published');
  });

  it('never shows drafts, scheduled or archived articles', async () => {
    const all = (await get('/v1/articles?limit=100')).json().data.map((a: { title: string }) => a.title);
    expect(all).not.toContain('Secret draft');
    expect(all).not.toContain('Future piece');
    expect(all).not.toContain('Old archive');
    for (const slug of ['secret-draft', 'future-piece', 'old-archive']) expect((await get(`/v1/articles/${slug}`)).statusCode).toBe(404);
  });

  it('pages: the last page, and a page past the end is empty', async () => {
    const last = (await get('/v1/articles?limit=10&page=3')).json();
    expect(last.data).toHaveLength(5);
    expect(last.meta.pagination).toMatchObject({ next: null, prev: 2 });
    const past = (await get('/v1/articles?limit=10&page=9')).json();
    expect(past.data).toEqual([]);
  });

  it('walks every article exactly once with the keyset cursor, even while new ones are published', async () => {
    const seen: string[] = [];
    let url = '/v1/articles?limit=7';
    let published = false;
    for (let i = 0; i < 10; i++) {
      const res = await get(url);
      expect(res.statusCode).toBe(200);
      const body = res.json();
      seen.push(...body.data.map((a: { slug: string }) => a.slug));
      if (!published) {
        await createArticle(t, { title: 'Breaking news during paging' });
        published = true;
      }
      if (!body.meta.pagination.nextCursor) break;
      expect(body.meta.pagination.page).toBe(url.includes('after=') ? null : 1);
      url = `/v1/articles?limit=7&after=${body.meta.pagination.nextCursor}`;
    }
    expect(seen).toHaveLength(25);
    expect(new Set(seen).size).toBe(25);
    expect(seen).not.toContain('breaking-news-during-paging');
    await adminRequest(t, 'DELETE', `/v1/admin/articles/${(await get('/v1/articles/breaking-news-during-paging')).json().id}`);
  });

  it('filters by tag, author, since and until', async () => {
    const byTag = (await get('/v1/articles?tag=programming')).json().data.map((a: { title: string }) => a.title);
    expect(byTag).toEqual(['Debugging stories', 'Compilers for everyone']);
    const byAuthor = (await get('/v1/articles?author=grace-hopper')).json().data.map((a: { title: string }) => a.title);
    expect(byAuthor).toEqual(['Compilers for everyone', 'Résumé writing for engineers']);
    const window = (await get('/v1/articles?since=2026-02-10&until=2026-03-15')).json().data.map((a: { title: string }) => a.title);
    expect(window).toEqual(['Debugging stories', 'Compilers for everyone']);
    const precise = (await get('/v1/articles?since=2026-02-10T10:00:01Z')).json().data.map((a: { title: string }) => a.title);
    expect(precise).toEqual(['Notes on São Paulo', 'Debugging stories']);
  });

  it('searches full text, accent-insensitive, ranked with the title above the body', async () => {
    const res = await get('/v1/articles?q=resume');
    const titles = res.json().data.map((a: { title: string }) => a.title);
    expect(titles).toEqual(['Résumé writing for engineers', 'Compilers for everyone']);
    const accented = (await get(`/v1/articles?q=${encodeURIComponent('são paulo')}`)).json().data.map((a: { title: string }) => a.title);
    expect(accented).toEqual(['Notes on São Paulo']);
    const plain = (await get('/v1/articles?q=sao')).json().data.map((a: { title: string }) => a.title);
    expect(plain).toEqual(['Notes on São Paulo']);
    const excluded = (await get(`/v1/articles?q=${encodeURIComponent('resume -compilers')}`)).json().data.map((a: { title: string }) => a.title);
    expect(excluded).toEqual(['Résumé writing for engineers']);
    const byDate = (await get('/v1/articles?q=resume&order=-publishedAt')).json().data.map((a: { title: string }) => a.title);
    expect(byDate).toEqual(['Compilers for everyone', 'Résumé writing for engineers']);
    expect((await get('/v1/articles?q=zzzznotaword')).json().meta.pagination.total).toBe(0);
  });

  it.each([
    ['unknown parameter', '/v1/articles?foo=1', '/query/foo'],
    ['limit above 100', '/v1/articles?limit=101', '/query/limit'],
    ['limit 0', '/v1/articles?limit=0', '/query/limit'],
    ['page 0', '/v1/articles?page=0', '/query/page'],
    ['non-numeric page', '/v1/articles?page=abc', '/query/page'],
    ['invalid date', '/v1/articles?since=yesterday', '/query/since'],
    ['impossible date', '/v1/articles?until=2026-13-45', '/query/until'],
    ['forged cursor', '/v1/articles?after=bm9wZQ', '/query/after'],
    ['garbage cursor', '/v1/articles?after=%00%01', '/query/after'],
    ['relevance without q', '/v1/articles?order=relevance', '/query/order'],
    ['unknown order', '/v1/articles?order=title', '/query/order'],
  ])('answers 400 problem+json for %s', async (_name, url, pointer) => {
    const res = await get(url);
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json().errors.map((e: { pointer: string }) => e.pointer)).toContain(pointer);
  });

  it('refuses a cursor from another query', async () => {
    const cursor = (await get('/v1/articles?limit=2')).json().meta.pagination.nextCursor;
    const res = await get(`/v1/articles?limit=2&tag=programming&after=${cursor}`);
    expect(res.statusCode).toBe(400);
    expect(res.json().detail).toMatch(/different query/);
  });
});

describe('GET /v1/articles/{slug}', () => {
  it('answers the article with discovery headers, on GET and HEAD', async () => {
    for (const method of ['GET', 'HEAD'] as const) {
      const res = await t.app.inject({ method, url: '/v1/articles/debugging-stories' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['x-pingback']).toBe('http://api.test/xmlrpc');
      expect(res.headers.link).toBe('<http://api.test/webmention>; rel="webmention"');
    }
    const a = (await get('/v1/articles/debugging-stories')).json();
    expect(a.tags).toEqual([
      { slug: 'programming', name: 'Programming' },
      { slug: 'history', name: 'History' },
    ]);
  });

  it('answers 404 problem+json for unknown and odd slugs', async () => {
    for (const slug of ['nope', '%3Cscript%3E', '..%2F..%2Fetc', 'a'.repeat(199), '%F0%9F%92%A9']) {
      const res = await get(`/v1/articles/${slug}`);
      expect(res.statusCode, slug).toBe(404);
      expect(res.headers['content-type']).toMatch(/problem\+json/);
    }
  });
});

describe('HTTP caching', () => {
  it('public reads carry a strong ETag and Cache-Control, and answer 304 to If-None-Match', async () => {
    for (const url of ['/v1/articles', '/v1/articles/debugging-stories', '/v1/tags', '/v1/tags/programming', '/v1/authors/grace-hopper', '/v1/site', '/feed.xml', '/sitemap.xml']) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(200);
      expect(res.headers.etag, url).toMatch(/^"[\w-]+"$/);
      expect(res.headers['cache-control'], url).toMatch(/public, max-age=\d+, stale-while-revalidate=\d+/);
      const again = await get(url, { 'if-none-match': res.headers.etag as string });
      expect(again.statusCode, url).toBe(304);
      expect(again.body).toBe('');
    }
  });

  it('the ETag changes when the content does', async () => {
    const before = await get('/v1/articles/debugging-stories');
    const id = before.json().id;
    await adminRequest(t, 'PATCH', `/v1/admin/articles/${id}`, { markdown: 'The moth in the relay, revisited.' });
    const after = await get('/v1/articles/debugging-stories', { 'if-none-match': before.headers.etag as string });
    expect(after.statusCode).toBe(200);
    expect(after.json().html).toContain('revisited');
  });

  it('admin answers are never cached', async () => {
    const res = await adminRequest(t, 'GET', '/v1/admin/articles');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('CORS exposes the paging headers to browsers', async () => {
    const res = await get('/v1/articles', { origin: 'https://frontend.example' });
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(String(res.headers['access-control-expose-headers'])).toMatch(/Link.*X-Total-Count|X-Total-Count.*Link/);
  });
});

describe('tags, authors and site', () => {
  it('lists tags with published counts', async () => {
    const tags = (await get('/v1/tags')).json().data;
    expect(tags.find((x: { slug: string }) => x.slug === 'programming')).toMatchObject({ name: 'Programming', count: 2 });
  });
  it('GET /v1/site describes the site and its endpoints', async () => {
    expect((await get('/v1/site')).json()).toMatchObject({
      url: 'http://blog.test',
      pingbackUrl: 'http://api.test/xmlrpc',
      webmentionUrl: 'http://api.test/webmention',
      feeds: { rss: 'http://api.test/feed.xml', atom: 'http://api.test/feed.atom', json: 'http://api.test/feed.json' },
    });
  });
  it('404s for unknown tags and authors', async () => {
    expect((await get('/v1/tags/nope')).statusCode).toBe(404);
    expect((await get('/v1/authors/nope')).statusCode).toBe(404);
  });
});
