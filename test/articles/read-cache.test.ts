// The article read cache (src/articles/articles.read-cache.ts): public pages assembled
// from articles serialised once per version, with totals counted once per filter. The
// apps here keep no whole answers (RESPONSE_CACHE_MB=0), so every read below is a
// cache miss built from the read cache: each change must show at once, as it does
// through the response cache.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestApp, perMinute, type TestApp } from '../helpers/app.ts';
import { adminRequest, createArticle } from '../helpers/factories.ts';
import { testDatabaseKind } from '../helpers/db.ts';
import { openDatabase } from '../../src/db/client.ts';
import { ArticleReadCache } from '../../src/articles/articles.read-cache.ts';
import { piece } from '../../src/http/cache/stitched-gzip.ts';
import { ARTICLE_FIELDS } from '../../src/articles/articles.query.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ responseCacheMB: 0, commentModeration: 'manual', commentMinIntervalSeconds: 0, rateLimitWrites: perMinute(10_000) });
  await adminRequest(t, 'POST', '/v1/admin/authors', { name: 'Rosalind Franklin' });
  await createArticle(t, { title: 'Read cache one', markdown: 'First *body*, with “quotes” and é.', tags: ['Helix', 'Crystals'], authorSlug: 'rosalind-franklin' });
  await createArticle(t, { title: 'Read cache two', markdown: 'Second body.', tags: ['Helix'] });
  await createArticle(t, { title: 'Read cache three', markdown: 'Third body.' });
});
afterAll(() => t.close());

const get = (url: string) => t.app.inject({ method: 'GET', url });
const json = async (url: string) => {
  const res = await get(url);
  expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
  return res.json();
};
type Listed = { slug: string; title: string; tags: { slug: string; name: string }[]; author: { name: string } | null; counts: { comments: number } };
const listed = async (slug: string, url = '/v1/articles') => ((await json(url)).data as Listed[]).find((a) => a.slug === slug);

describe('pages from the read cache', () => {
  it('are what the schema serialises, the first time and from the cache, lists and single reads alike', async () => {
    const cold = await get('/v1/articles?limit=3');
    const warm = await get('/v1/articles?limit=3');
    expect(warm.body).toBe(cold.body);
    // the same articles through the object path (every field named: views, then JSON.stringify)
    const objects = await json(`/v1/articles?limit=3&fields=${ARTICLE_FIELDS.join(',')}`);
    expect(JSON.parse(cold.body)).toEqual(objects);
    expect(cold.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(Number(cold.headers['x-total-count'])).toBe(objects.meta.pagination.total);
    const one = await get('/v1/articles/read-cache-one');
    expect(one.json()).toEqual(await json(`/v1/articles/read-cache-one?fields=${ARTICLE_FIELDS.join(',')}`));
    expect(one.json()).toMatchObject({ title: 'Read cache one', author: { name: 'Rosalind Franklin' }, tags: [{ name: 'Helix' }, { name: 'Crystals' }] });
    expect(one.body).toContain('“quotes” and é');
    expect(t.services.articles.readCacheSnapshot().articles).toBeGreaterThanOrEqual(3);
  });

  it('show an edit, a renamed tag and author, and an approved comment at once', async () => {
    await get('/v1/articles');
    const { id } = await json('/v1/articles/read-cache-two');
    expect((await adminRequest(t, 'PATCH', `/v1/admin/articles/${id}`, { title: 'Read cache two, revised' })).statusCode).toBe(200);
    expect((await listed('read-cache-two'))?.title).toBe('Read cache two, revised');
    expect((await json('/v1/articles/read-cache-two')).title).toBe('Read cache two, revised');

    // neither changes the article's version: only the content event can tell the cache
    expect((await adminRequest(t, 'PATCH', '/v1/admin/tags/helix', { name: 'Double helix' })).statusCode).toBe(200);
    expect((await listed('read-cache-one'))?.tags[0]).toEqual({ slug: 'helix', name: 'Double helix' });
    expect((await adminRequest(t, 'PATCH', '/v1/admin/authors/rosalind-franklin', { name: 'R. E. Franklin' })).statusCode).toBe(200);
    expect((await json('/v1/articles/read-cache-one')).author.name).toBe('R. E. Franklin');

    const posted = await t.app.inject({ method: 'POST', url: '/v1/articles/read-cache-three/comments', payload: { authorName: 'Reader', authorEmail: 'r@example.com', body: 'Nice.' } });
    expect(posted.statusCode).toBe(201);
    expect((await listed('read-cache-three'))?.counts.comments).toBe(0);
    expect((await adminRequest(t, 'PATCH', `/v1/admin/responses/${posted.json().id}`, { status: 'approved' })).statusCode).toBe(200);
    expect((await listed('read-cache-three'))?.counts.comments).toBe(1);
    expect((await json('/v1/articles/read-cache-three')).counts.comments).toBe(1);
  });

  it('keep every other article through a comment, a like or an announcement: only that article is read again', async () => {
    const before = await json('/v1/articles?limit=100');
    const kept = t.services.articles.readCacheSnapshot();
    expect(kept.articles).toBe(before.data.length);
    const target = before.data.find((a: Listed) => a.slug === 'read-cache-one') as Listed;
    const posted = await t.app.inject({ method: 'POST', url: '/v1/articles/read-cache-one/comments', payload: { authorName: 'Reader', authorEmail: 'r@example.com', body: 'Kept?' } });
    expect(posted.statusCode).toBe(201);
    expect((await adminRequest(t, 'PATCH', `/v1/admin/responses/${posted.json().id}`, { status: 'approved' })).statusCode).toBe(200);
    // the commented article dropped, the others, the page orders and the totals kept
    expect(t.services.articles.readCacheSnapshot()).toMatchObject({ articles: kept.articles - 1, orders: kept.orders, counts: kept.counts });
    const after = await json('/v1/articles?limit=100');
    expect(after.data.find((a: Listed) => a.slug === 'read-cache-one').counts.comments).toBe(target.counts.comments + 1);
    expect(after.data.filter((a: Listed) => a.slug !== 'read-cache-one')).toEqual(before.data.filter((a: Listed) => a.slug !== 'read-cache-one'));
    expect((await json('/v1/articles/read-cache-one')).counts.comments).toBe(target.counts.comments + 1);
    // removed again: the count goes back down at once
    expect((await adminRequest(t, 'PATCH', `/v1/admin/responses/${posted.json().id}`, { status: 'spam' })).statusCode).toBe(200);
    expect((await listed('read-cache-one', '/v1/articles?limit=100'))?.counts.comments).toBe(target.counts.comments);
  });

  it('keep every other article through a publish, an edit and an unpublish: lists and totals show it at once', async () => {
    const before = await json('/v1/articles?limit=100');
    const kept = t.services.articles.readCacheSnapshot();
    expect(kept.articles).toBe(before.data.length);
    const created = await createArticle(t, { title: 'Read cache keeps the others', tags: ['Helix'] });
    // nothing of the new article was kept; the page orders and totals went, every article stayed
    expect(t.services.articles.readCacheSnapshot()).toMatchObject({ articles: kept.articles, orders: 0, counts: 0 });
    const published = await json('/v1/articles?limit=100');
    expect(published.data[0].slug).toBe('read-cache-keeps-the-others');
    expect(published.meta.pagination.total).toBe(before.meta.pagination.total + 1);
    expect(published.data.slice(1)).toEqual(before.data);

    const target = before.data[0] as Listed & { id: number };
    expect((await adminRequest(t, 'PATCH', `/v1/admin/articles/${target.id}`, { title: `${target.title}, edited` })).statusCode).toBe(200);
    // the edited article dropped too
    expect(t.services.articles.readCacheSnapshot()).toMatchObject({ articles: kept.articles, orders: 0, counts: 0 });
    const edited = await json('/v1/articles?limit=100');
    expect(edited.data.find((a: Listed) => a.slug === target.slug).title).toBe(`${target.title}, edited`);
    expect(edited.data.filter((a: Listed) => a.slug !== target.slug)).toEqual(published.data.filter((a: Listed) => a.slug !== target.slug));
    expect((await json(`/v1/articles/${target.slug}`)).title).toBe(`${target.title}, edited`);

    expect((await adminRequest(t, 'POST', `/v1/admin/articles/${created.id}/unpublish`)).statusCode).toBe(200);
    const unpublished = await json('/v1/articles?limit=100');
    expect(unpublished.data.map((a: Listed) => a.slug)).not.toContain('read-cache-keeps-the-others');
    expect(unpublished.meta.pagination.total).toBe(before.meta.pagination.total);
    expect((await get('/v1/articles/read-cache-keeps-the-others')).statusCode).toBe(404);
    expect((await adminRequest(t, 'PATCH', `/v1/admin/articles/${target.id}`, { title: target.title })).statusCode).toBe(200);
  });

  it('a page by number is the slice the database gives, at every depth and past the end, and moves when an article is published', async () => {
    const pages = async () => {
      for (let page = 1; page <= 4; page++) {
        const fromOrder = await json(`/v1/articles?limit=2&page=${page}`);
        const fromSql = await json(`/v1/articles?limit=2&page=${page}&fields=id,publishedAt`); // OFFSET in SQL
        expect(fromOrder.data.map((a: { id: number }) => a.id), `page ${page}`).toEqual(fromSql.data.map((a: { id: number }) => a.id));
        expect(fromOrder.meta, `page ${page}`).toEqual(fromSql.meta);
      }
    };
    await pages();
    const secondBefore = (await json('/v1/articles?limit=2&page=2')).data[0].id;
    const created = await createArticle(t, { title: 'Read cache shifts the pages' });
    await pages();
    expect((await json('/v1/articles?limit=2&page=1')).data[0].id).toBe(created.id);
    expect((await json('/v1/articles?limit=2&page=2')).data[1].id).toBe(secondBefore);
    expect((await json('/v1/articles?limit=2&page=99')).data).toEqual([]);
    expect(t.services.articles.readCacheSnapshot().orders).toBeGreaterThan(0);
  });

  it('count again after a publish or an unpublish (X-Total-Count, per filter)', async () => {
    const total = async (url: string) => Number((await get(url)).headers['x-total-count']);
    const all = await total('/v1/articles');
    const helix = await total('/v1/articles?tag=helix');
    const created = await createArticle(t, { title: 'Read cache four', tags: ['Helix'] });
    expect(await total('/v1/articles')).toBe(all + 1);
    expect(await total('/v1/articles?tag=helix')).toBe(helix + 1);
    const cursor = (await json('/v1/articles?limit=2')).meta.pagination.nextCursor as string;
    expect((await adminRequest(t, 'POST', `/v1/admin/articles/${created.id}/unpublish`)).statusCode).toBe(200);
    // counted afresh while walking by cursor: every article of the filter, not only those after the cursor
    expect(await total(`/v1/articles?limit=2&after=${cursor}`)).toBe(all);
    expect(await total('/v1/articles')).toBe(all);
    expect(await total('/v1/articles?tag=helix')).toBe(helix);
    expect((await get('/v1/articles/read-cache-four')).statusCode).toBe(404);
  });
});

describe('ArticleReadCache', () => {
  const bytes = (s: string) => piece(Buffer.from(s));
  /** what an article takes of the budget: its JSON and its gzip piece */
  const ten = bytes('1234567890');
  const size = ten.json.length + ten.deflated.length;

  it('keeps nothing a read computed before a change, and nothing of another version', () => {
    const c = new ArticleReadCache(1000);
    const before = c.currentGeneration;
    c.invalidate();
    c.keepArticle(before, 1, 1, bytes('{"old":true}'));
    c.keepCount(before, 'all', { n: 5, estimated: false });
    expect(c.article(1, 1)).toBeUndefined();
    expect(c.count('all')).toBeUndefined();
    c.keepArticle(c.currentGeneration, 1, 2, bytes('{"v":2}'));
    expect(c.article(1, 1)).toBeUndefined();
    expect(c.article(1, 2)?.json.toString()).toBe('{"v":2}');
  });

  it('holds its byte budget, least recently used out first, and serves no total past its TTL and no article past the longer one', () => {
    let now = 0;
    const c = new ArticleReadCache(2 * size, 1000, () => now, 5000);
    const g = c.currentGeneration;
    c.keepArticle(g, 1, 1, ten);
    c.keepArticle(g, 2, 1, ten);
    expect(c.article(1, 1)).toBeDefined(); // 1 is now the most recently used
    c.keepArticle(g, 3, 1, ten);
    expect(c.article(2, 1)).toBeUndefined();
    expect(c.snapshot()).toMatchObject({ articles: 2, bytes: 2 * size });
    c.keepCount(g, 'all', { n: 3, estimated: false });
    now = 1001;
    expect(c.count('all')).toBeUndefined();
    expect(c.article(1, 1)).toBeDefined();
    now = 5001;
    expect(c.article(1, 1)).toBeUndefined();
  });

  it('holds in memory what it counts: a piece cut from a larger buffer is kept in bytes of its own, its two parts in one', () => {
    const c = new ArticleReadCache(1000);
    const slab = Buffer.alloc(16_384, 'x');
    const deflated = piece(Buffer.from('{"a":1}')).deflated;
    c.keepArticle(c.currentGeneration, 1, 1, { json: slab.subarray(100, 107), deflated });
    const kept = c.article(1, 1)!;
    expect(kept.json.toString()).toBe('xxxxxxx');
    expect(kept.deflated.equals(deflated)).toBe(true);
    expect(kept.deflated.buffer).toBe(kept.json.buffer);
    expect(kept.json.buffer.byteLength).toBe(7 + deflated.length);
    expect(c.snapshot().bytes).toBe(7 + deflated.length);
  });

  /** articles 1 and 2 kept, and the total of 'all' */
  const twoArticlesCounted = () => {
    const c = new ArticleReadCache(1000);
    const g = c.currentGeneration;
    c.keepArticle(g, 1, 1, bytes('{"a":1}'));
    c.keepArticle(g, 2, 1, bytes('{"b":1}'));
    c.keepCount(g, 'all', { n: 2, estimated: false });
    return { c, g };
  };
  /** what article 2 counts for in the budget */
  const secondSize = bytes('{"b":1}').json.length + bytes('{"b":1}').deflated.length;

  it('a change in one article drops that article alone, and still refuses what reads under way computed', () => {
    const { c, g } = twoArticlesCounted();
    c.invalidate({ article: 1, lists: false });
    expect(c.article(1, 1)).toBeUndefined();
    expect(c.article(2, 1)?.json.toString()).toBe('{"b":1}');
    expect(c.count('all')).toEqual({ n: 2, estimated: false });
    expect(c.snapshot().bytes).toBe(secondSize);
    // a read that began before the change read article 1 as it was: not kept
    c.keepArticle(g, 1, 1, bytes('{"a":"old"}'));
    expect(c.article(1, 1)).toBeUndefined();
  });

  it('a publish or an edit drops its article, every page order and total, and keeps the other articles', () => {
    const { c, g } = twoArticlesCounted();
    c.keepOrder(g, 'all', { ids: Int32Array.of(2, 1), versions: Int32Array.of(1, 1), publishedAt: Float64Array.of(2, 1) });
    c.invalidate({ article: 1, lists: true });
    expect(c.article(1, 1)).toBeUndefined();
    expect(c.article(2, 1)?.json.toString()).toBe('{"b":1}');
    expect(c.count('all')).toBeUndefined();
    expect(c.order('all')).toBeUndefined();
    expect(c.snapshot()).toMatchObject({ articles: 1, counts: 0, orders: 0, bytes: secondSize });
    // anything else: everything
    c.invalidate();
    expect(c.snapshot()).toMatchObject({ articles: 0, bytes: 0 });
  });

  it('keeps what a slug names through a response, and drops it with every publish, edit or unpublish, or after the TTL', () => {
    let now = 0;
    const c = new ArticleReadCache(1000, 1000, () => now);
    const stamp = { id: 1, version: 3, publishedAt: new Date(0) };
    c.keepStamp(c.currentGeneration - 1, 'stale', stamp);
    expect(c.stamp('stale')).toBeUndefined();
    c.keepStamp(c.currentGeneration, 'one', stamp);
    c.invalidate({ article: 1, lists: false });
    expect(c.stamp('one')).toEqual(stamp);
    c.invalidate({ article: 2, lists: true });
    expect(c.stamp('one')).toBeUndefined();
    c.keepStamp(c.currentGeneration, 'one', stamp);
    now = 1001;
    expect(c.stamp('one')).toBeUndefined();
  });

  it('with a budget of 0 (ARTICLE_CACHE_MB=0) keeps nothing, counts neither', () => {
    const c = new ArticleReadCache(0);
    c.keepArticle(c.currentGeneration, 1, 1, bytes('{}'));
    c.keepCount(c.currentGeneration, 'all', { n: 1, estimated: false });
    expect(c.snapshot()).toMatchObject({ articles: 0, counts: 0 });
  });
});

describe.skipIf(testDatabaseKind !== 'postgres')('several processes on one PostgreSQL', () => {
  it('a comment approved in one process shows in the other’s pages through NOTIFY, though no article version changed', async () => {
    const other = await openDatabase({ url: t.database.location, dataDir: '', poolSize: 2 });
    const b = await createTestApp({ responseCacheMB: 0 }, { database: other });
    try {
      const readB = async (url: string) => (await b.app.inject({ method: 'GET', url })).json();
      const countB = async () => ((await readB('/v1/articles')).data as Listed[]).find((a) => a.slug === 'read-cache-one')?.counts.comments;
      const before = await countB();
      expect((await readB('/v1/articles/read-cache-one')).counts.comments).toBe(before);
      const kept = b.services.articles.readCacheSnapshot();
      const posted = await t.app.inject({ method: 'POST', url: '/v1/articles/read-cache-one/comments', payload: { authorName: 'Reader', authorEmail: 'r@example.com', body: 'From A.' } });
      await adminRequest(t, 'PATCH', `/v1/admin/responses/${posted.json().id}`, { status: 'approved' });
      // the NOTIFY names the article: B drops it alone, and keeps its other articles, page orders and totals
      await vi.waitFor(() => expect(b.services.articles.readCacheSnapshot().generation).toBeGreaterThan(kept.generation), { timeout: 5000, interval: 20 });
      expect(b.services.articles.readCacheSnapshot()).toMatchObject({ articles: kept.articles - 1, orders: kept.orders, counts: kept.counts });
      expect(await countB()).toBe((before ?? 0) + 1);
      expect((await readB('/v1/articles/read-cache-one')).counts.comments).toBe((before ?? 0) + 1);
      // an edit: B drops that article, its page orders, totals and slugs, and keeps its other articles
      await readB('/v1/articles?limit=100');
      expect((await readB('/v1/articles/read-cache-two')).title).toBe((await json('/v1/articles/read-cache-two')).title);
      const keptB = b.services.articles.readCacheSnapshot();
      expect(keptB.stamps).toBeGreaterThan(0);
      const { id } = await json('/v1/articles/read-cache-two');
      expect((await adminRequest(t, 'PATCH', `/v1/admin/articles/${id}`, { title: 'Read cache two, from A' })).statusCode).toBe(200);
      await vi.waitFor(() => expect(b.services.articles.readCacheSnapshot().generation).toBeGreaterThan(keptB.generation), { timeout: 5000, interval: 20 });
      expect(b.services.articles.readCacheSnapshot()).toMatchObject({ articles: keptB.articles - 1, orders: 0, counts: 0, stamps: 0 });
      expect(((await readB('/v1/articles')).data as Listed[]).find((a) => a.slug === 'read-cache-two')?.title).toBe('Read cache two, from A');
      expect((await readB('/v1/articles/read-cache-two')).title).toBe('Read cache two, from A');
      // a renamed tag shows in articles whose versions did not change: everything dropped there
      expect((await adminRequest(t, 'PATCH', '/v1/admin/tags/crystals', { name: 'Crystal structures' })).statusCode).toBe(200);
      await vi.waitFor(async () => expect((await readB('/v1/articles/read-cache-one')).tags.map((x: { name: string }) => x.name)).toContain('Crystal structures'), { timeout: 5000, interval: 20 });
    } finally {
      await b.close();
      await other.close();
    }
  });
});
