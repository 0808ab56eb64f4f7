// The public read cache must never show what a write changed: after every kind of
// write, every cached view of it (article, lists, counts, tags, authors, search,
// feeds, sitemap, responses) answers the new state. Each test first proves the URLs
// it watches are really served from the cache, so a passing test is not one where
// nothing was cached. Runs on PGlite, and on PostgreSQL with TEST_DATABASE_URL
// (there also across two app instances, through LISTEN/NOTIFY).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import zlib from 'node:zlib';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { createTestApp, type TestApp, perMinute } from '../../helpers/app.ts';
import { adminRequest, createArticle } from '../../helpers/factories.ts';
import { openDatabase } from '../../../src/db/client.ts';
import { testDatabaseKind } from '../../helpers/db.ts';
import { ResponseCache } from '../../../src/http/cache/response-cache.ts';
import { compress } from '../../../src/http/cache/encodings.ts';

let t: TestApp;
/** what a committed write that public reads can see does */
const contentChanged = () => t.services.events.emit(t.database.db, { type: 'taxonomy.changed', data: { kind: 'tag', slugs: [] } });

// test routes: a public read whose data we control, held at a gate
let version = 1;
let calls = 0;
let gate: Promise<void> = Promise.resolve();
let open = () => {};
const closeGate = () => {
  gate = new Promise((r) => (open = r));
};

beforeAll(async () => {
  t = await createTestApp(
    { commentModeration: 'manual', commentMinIntervalSeconds: 0, rateLimitWrites: perMinute(10_000) },
    {
      beforeReady: (app: FastifyInstance) => {
        app.get('/test/held', { config: { publicCache: true }, schema: { hide: true } }, async () => {
          const v = version; // "the database read" happens before the gate
          calls++;
          await gate;
          return { v };
        });
      },
    },
  );
  await adminRequest(t, 'POST', '/v1/admin/authors', { name: 'Ada Lovelace' });
  await createArticle(t, { title: 'Alpha', markdown: 'The first words about engines.', tags: ['Caching'], authorSlug: 'ada-lovelace' });
  await createArticle(t, { title: 'Beta', markdown: 'Second.', tags: ['Other'] });
});
afterAll(() => t.close());

const get = (url: string, headers: Record<string, string> = {}) => t.app.inject({ method: 'GET', url, headers });
const json = async (url: string) => (await get(url)).json();
const stats = () => t.app.responseCache.snapshot();

/** Reads each URL until it is cached, and proves the next read is a hit. */
async function prime(...urls: string[]) {
  for (const url of urls) {
    await get(url);
    const before = stats().hits;
    const res = await get(url);
    expect(res.statusCode, url).toBe(200);
    expect(stats().hits, `${url} is served from the cache`).toBe(before + 1);
  }
}

const titles = async (url: string) => (await json(url)).data.map((a: { title: string }) => a.title);
const total = async (url = '/v1/articles') => Number((await get(url)).headers['x-total-count']);
const tagCount = async (slug: string) => (await json(`/v1/tags/${slug}`)).count;

const WATCHED = ['/v1/articles', '/v1/articles?tag=caching', '/v1/tags', '/v1/tags/caching', '/v1/authors/ada-lovelace', '/feed.xml', '/feed.json', '/sitemap.xml'];

describe('what the cache serves', () => {
  it('replays the same status, headers and bytes as the first answer', async () => {
    const miss = await get('/v1/articles?limit=1&page=1');
    const hit = await get('/v1/articles?limit=1&page=1');
    expect(hit.statusCode).toBe(200);
    expect(hit.body).toBe(miss.body);
    const strip = (h: Record<string, unknown>) => {
      const { 'x-request-id': _id, date: _d, connection: _c, 'keep-alive': _k, ...rest } = h;
      return rest;
    };
    expect(strip(hit.headers)).toEqual(strip(miss.headers));
    expect(hit.headers['x-request-id']).not.toBe(miss.headers['x-request-id']);
  });

  it('answers If-None-Match with 304 and HEAD without a body, from the cache', async () => {
    await prime('/v1/articles/alpha');
    const etag = String((await get('/v1/articles/alpha')).headers.etag);
    const before = stats().hits;
    const notModified = await get('/v1/articles/alpha', { 'if-none-match': etag });
    expect(notModified.statusCode).toBe(304);
    expect(notModified.body).toBe('');
    expect(notModified.headers.etag).toBe(etag);
    const head = await t.app.inject({ method: 'HEAD', url: '/v1/articles/alpha' });
    expect(head.statusCode).toBe(200);
    expect(head.body).toBe('');
    expect(head.headers.etag).toBe(etag);
    expect(stats().hits).toBe(before + 2);
  });

  it('fills itself from conditional requests too, and answers them alike on a miss and a hit', async () => {
    const etag = String((await get('/v1/articles/alpha')).headers.etag);
    await contentChanged();
    const missStores = stats().stores;
    const miss = await get('/v1/articles/alpha', { 'if-none-match': etag });
    expect(miss.statusCode).toBe(304);
    expect(stats().stores).toBe(missStores + 1);
    const hits = stats().hits;
    const hit = await get('/v1/articles/alpha', { 'if-none-match': etag });
    expect(hit.statusCode).toBe(304);
    expect(stats().hits).toBe(hits + 1);
    const strip = ({ 'x-request-id': _id, date: _d, ...rest }: Record<string, unknown>) => rest;
    expect(strip(hit.headers)).toEqual(strip(miss.headers));
    await contentChanged();
    const stale = await get('/v1/articles/alpha', { 'if-none-match': '"something-else"' });
    expect(stale.statusCode).toBe(200);
    expect(stale.json().slug).toBe('alpha');
  });

  it('keeps errors, redirects and admin reads out of it', async () => {
    expect((await get('/v1/articles/gamma')).statusCode).toBe(404);
    await createArticle(t, { title: 'Gamma', status: 'draft' });
    const before = stats().stores;
    await get('/v1/articles/gamma');
    await get('/v1/admin/articles', t.auth);
    expect(stats().stores).toBe(before);
  });
});

describe('compressed answers', () => {
  /** a read that asks for an encoding: the first such request already gets it */
  async function encoded(url: string, acceptEncoding: string) {
    const res = await get(url, { 'accept-encoding': acceptEncoding });
    expect(res.headers['content-encoding'], `${url} ${acceptEncoding}`).toBeDefined();
    return res;
  }

  it('the first request that accepts compression gets it: on the miss, and on the first hit of each other encoding', async () => {
    const url = '/v1/articles?limit=2&page=1';
    const miss = await get(url, { 'accept-encoding': 'gzip;q=0.5, br' });
    expect(miss.headers['content-encoding']).toBe('br');
    expect(String(miss.headers.vary)).toMatch(/accept-encoding/i);
    const plain = await get(url);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(zlib.brotliDecompressSync(miss.rawPayload).toString()).toBe(plain.body);
    expect(miss.headers.etag).toBe(`W/${plain.headers.etag}`);
    expect(Number(miss.headers['content-length'])).toBe(miss.rawPayload.length);
    const gz = await get(url, { 'accept-encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(zlib.gunzipSync(gz.rawPayload).toString()).toBe(plain.body);
    // the miss's encoding was kept with the entry, and the entry's ETag is the identity answer's
    expect((await get(url, { 'accept-encoding': 'br' })).rawPayload.equals(miss.rawPayload)).toBe(true);
    expect((await get(url)).headers.etag).toBe(plain.headers.etag);
    // /openapi.json (~70 kB) too, on its first request
    const doc = await get('/openapi.json', { 'accept-encoding': 'gzip' });
    expect(doc.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(zlib.gunzipSync(doc.rawPayload).toString()).openapi).toBe('3.1.0');
  });

  it('a list or article miss whose client likes gzip as much as Brotli gets gzip stitched from per-article pieces; its hits are compressed whole', async () => {
    const words = 'Stitched engines keep their pieces of gzip beside the article. '.repeat(40);
    await createArticle(t, { title: 'Stitched one', markdown: words, tags: ['Stitched'] });
    await createArticle(t, { title: 'Stitched two', markdown: words, tags: ['Stitched'] });
    for (const url of ['/v1/articles?limit=2&page=1&tag=stitched', '/v1/articles?q=stitched+engines', '/v1/articles/stitched-one']) {
      const miss = await get(url, { 'accept-encoding': 'gzip, deflate, br' });
      expect(miss.headers['content-encoding'], url).toBe('gzip');
      const plain = await get(url);
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(zlib.gunzipSync(miss.rawPayload).toString(), url).toBe(plain.body);
      expect(miss.headers.etag).toBe(`W/${plain.headers.etag}`);
      expect(Number(miss.headers['content-length'])).toBe(miss.rawPayload.length);
      // a hit: Brotli, as the client likes it as much, and the hit's gzip is made whole (not the stitched bytes)
      expect((await get(url, { 'accept-encoding': 'gzip, deflate, br' })).headers['content-encoding']).toBe('br');
      const gz = await get(url, { 'accept-encoding': 'gzip' });
      expect(zlib.gunzipSync(gz.rawPayload).toString()).toBe(plain.body);
      expect(gz.rawPayload.equals(miss.rawPayload)).toBe(false);
    }
    // a client that prefers Brotli gets Brotli on the miss too
    const url = '/v1/articles?limit=1&page=2&tag=stitched';
    const miss = await get(url, { 'accept-encoding': 'br, gzip;q=0.8' });
    expect(miss.headers['content-encoding']).toBe('br');
    expect(zlib.brotliDecompressSync(miss.rawPayload).toString()).toBe((await get(url)).body);
  });

  it('a conditional miss answers the 304 of the encoded answer, as a hit does', async () => {
    const url = '/v1/articles?limit=20';
    const plain = await get(url);
    await contentChanged();
    const miss = await get(url, { 'accept-encoding': 'br', 'if-none-match': String(plain.headers.etag) });
    expect(miss.statusCode).toBe(304);
    expect(miss.headers['content-encoding']).toBeUndefined();
    const hit = await get(url, { 'accept-encoding': 'br', 'if-none-match': String(plain.headers.etag) });
    expect(hit.statusCode).toBe(304);
    expect(hit.headers.etag).toBe(`W/${plain.headers.etag}`);
    expect(miss.headers.etag).toBe(hit.headers.etag);
    // the conditional miss stored the identity answer under its strong ETag
    expect((await get(url)).headers.etag).toBe(plain.headers.etag);
  });

  it('serves Brotli or gzip as the client prefers, the same document once decoded, with a weak ETag that revalidates', async () => {
    const url = '/v1/articles?limit=2';
    const plain = await get(url);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(String(plain.headers.vary)).toMatch(/accept-encoding/i);

    const br = await encoded(url, 'gzip, deflate, br');
    expect(br.headers['content-encoding']).toBe('br');
    expect(zlib.brotliDecompressSync(br.rawPayload).toString()).toBe(plain.body);
    expect(Number(br.headers['content-length'])).toBe(br.rawPayload.length);
    expect(br.rawPayload.length).toBeLessThan(plain.rawPayload.length);
    expect(String(br.headers.vary)).toMatch(/accept-encoding/i);
    expect(br.headers.etag).toBe(`W/${plain.headers.etag}`);

    const gz = await encoded(url, 'br;q=0.5, gzip');
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(zlib.gunzipSync(gz.rawPayload).toString()).toBe(plain.body);

    // either ETag revalidates either representation
    for (const inm of [String(plain.headers.etag), String(br.headers.etag)]) {
      const res = await get(url, { 'accept-encoding': 'br', 'if-none-match': inm });
      expect(res.statusCode).toBe(304);
      expect(res.headers['content-encoding']).toBeUndefined();
      expect(res.body).toBe('');
    }
  });

  it('sends identity bytes to a client that accepts no encoding, and never encodes what is too small to gain', async () => {
    const url = '/v1/articles?limit=3';
    await encoded(url, 'br');
    for (const ae of ['identity', 'br;q=0, gzip;q=0', 'compress']) {
      const res = await get(url, { 'accept-encoding': ae });
      expect(res.headers['content-encoding'], ae).toBeUndefined();
      expect(res.json().data.length).toBeGreaterThan(0);
    }
    await prime('/v1/tags/caching');
    const small = await get('/v1/tags/caching');
    expect(small.rawPayload.length).toBeLessThan(1024);
    for (let i = 0; i < 5; i++) expect((await get('/v1/tags/caching', { 'accept-encoding': 'br' })).headers['content-encoding']).toBeUndefined();
  });

  it('counts the encodings in the byte budget and drops them with their entry on a write', async () => {
    const url = '/v1/articles?limit=4';
    await prime(url);
    const before = stats().bytes;
    const br = await encoded(url, 'br');
    expect(stats().bytes).toBe(before + br.rawPayload.length);
    await createArticle(t, { title: 'Compressed news' });
    // a fresh miss, compressed for its client: the old encoding went with the old entry
    const after = await get(url, { 'accept-encoding': 'br' });
    expect(after.headers['content-encoding']).toBe('br');
    expect(JSON.parse(zlib.brotliDecompressSync(after.rawPayload).toString()).data[0].title).toBe('Compressed news');
    const again = await encoded(url, 'br');
    expect(JSON.parse(zlib.brotliDecompressSync(again.rawPayload).toString()).data[0].title).toBe('Compressed news');
  });
});

describe('no stale read after a write', () => {
  it('create: a new published article shows in the lists, counts, tag, author, feeds and sitemap', async () => {
    await prime(...WATCHED);
    const n = await total();
    const tagged = await tagCount('caching');
    const byAda = (await json('/v1/authors/ada-lovelace')).count;
    expect((await get('/v1/articles/delta')).statusCode).toBe(404);
    await createArticle(t, { title: 'Delta', markdown: 'Fresh.', tags: ['Caching'], authorSlug: 'ada-lovelace' });
    expect(await total()).toBe(n + 1);
    expect((await titles('/v1/articles'))[0]).toBe('Delta');
    expect(await titles('/v1/articles?tag=caching')).toContain('Delta');
    expect(await tagCount('caching')).toBe(tagged + 1);
    expect((await json('/v1/tags')).data.find((x: { slug: string }) => x.slug === 'caching').count).toBe(tagged + 1);
    expect((await json('/v1/authors/ada-lovelace')).count).toBe(byAda + 1);
    expect((await get('/feed.xml')).body).toContain('Delta');
    expect((await json('/feed.json')).items[0].title).toBe('Delta');
    expect((await get('/sitemap.xml')).body).toContain('/delta/');
    expect((await get('/v1/articles/delta')).statusCode).toBe(200);
  });

  it('a draft stays invisible; publishing it shows it everywhere', async () => {
    const draft = await createArticle(t, { title: 'Epsilon', status: 'draft', tags: ['Caching'] });
    await prime(...WATCHED);
    expect(await titles('/v1/articles')).not.toContain('Epsilon');
    const n = await total();
    expect((await adminRequest(t, 'POST', `/v1/admin/articles/${draft.id}/publish`)).statusCode).toBe(200);
    expect(await total()).toBe(n + 1);
    expect((await titles('/v1/articles'))[0]).toBe('Epsilon');
    expect(await titles('/v1/articles?tag=caching')).toContain('Epsilon');
    expect((await get('/feed.xml')).body).toContain('Epsilon');
    expect((await get('/sitemap.xml')).body).toContain('/epsilon/');
  });

  it('edit: the article, lists, search and feeds show the new title and body; the old ETag no longer matches', async () => {
    const id = (await json('/v1/articles/alpha')).id;
    const url = '/v1/articles?q=turbines';
    await prime('/v1/articles/alpha', url, ...WATCHED);
    const oldEtag = String((await get('/v1/articles/alpha')).headers.etag);
    expect((await json(url)).data).toEqual([]);
    const res = await adminRequest(t, 'PATCH', `/v1/admin/articles/${id}`, { title: 'Alpha, revised', markdown: 'Now about turbines.' });
    expect(res.statusCode).toBe(200);
    const now = await get('/v1/articles/alpha');
    expect(now.json().title).toBe('Alpha, revised');
    expect(now.json().html).toContain('turbines');
    expect((await get('/v1/articles/alpha', { 'if-none-match': oldEtag })).statusCode).toBe(200);
    expect(await titles('/v1/articles')).toContain('Alpha, revised');
    expect(await titles('/v1/articles?tag=caching')).toContain('Alpha, revised');
    expect(await titles(url)).toEqual(['Alpha, revised']);
    expect((await get('/feed.xml')).body).toContain('Alpha, revised');
    expect((await get('/feed.json')).body).toContain('turbines');
  });

  it('a slug change: the old slug redirects, the new one answers', async () => {
    const id = (await json('/v1/articles/beta')).id;
    await prime('/v1/articles/beta', '/v1/articles');
    await adminRequest(t, 'PATCH', `/v1/admin/articles/${id}`, { slug: 'beta-two' });
    const old = await get('/v1/articles/beta');
    expect(old.statusCode).toBe(301);
    expect(old.headers.location).toBe('/v1/articles/beta-two');
    expect((await json('/v1/articles')).data.map((a: { slug: string }) => a.slug)).toContain('beta-two');
  });

  it('unpublish: gone from the article, lists, counts, tag, author, feeds and sitemap', async () => {
    const id = (await json('/v1/articles/delta')).id;
    await prime('/v1/articles/delta', ...WATCHED);
    const n = await total();
    const tagged = await tagCount('caching');
    const byAda = (await json('/v1/authors/ada-lovelace')).count;
    expect((await adminRequest(t, 'POST', `/v1/admin/articles/${id}/unpublish`)).statusCode).toBe(200);
    expect((await get('/v1/articles/delta')).statusCode).toBe(404);
    expect(await total()).toBe(n - 1);
    expect(await titles('/v1/articles')).not.toContain('Delta');
    expect(await titles('/v1/articles?tag=caching')).not.toContain('Delta');
    expect(await tagCount('caching')).toBe(tagged - 1);
    expect((await json('/v1/authors/ada-lovelace')).count).toBe(byAda - 1);
    expect((await get('/feed.xml')).body).not.toContain('Delta');
    expect((await get('/sitemap.xml')).body).not.toContain('/delta/');
  });

  it('delete: gone everywhere', async () => {
    const id = (await json('/v1/articles/epsilon')).id;
    await prime('/v1/articles/epsilon', ...WATCHED);
    const n = await total();
    expect((await adminRequest(t, 'DELETE', `/v1/admin/articles/${id}`)).statusCode).toBe(204);
    expect((await get('/v1/articles/epsilon')).statusCode).toBe(404);
    expect(await total()).toBe(n - 1);
    expect(await titles('/v1/articles?tag=caching')).not.toContain('Epsilon');
    expect((await get('/feed.json')).body).not.toContain('Epsilon');
    expect((await get('/sitemap.xml')).body).not.toContain('/epsilon/');
  });

  it('tag rename: the article and every list carry the new name', async () => {
    await prime('/v1/articles/alpha', ...WATCHED);
    expect((await adminRequest(t, 'PATCH', '/v1/admin/tags/caching', { name: 'Speed' })).statusCode).toBe(200);
    expect((await json('/v1/articles/alpha')).tags).toEqual([{ slug: 'caching', name: 'Speed' }]);
    expect((await json('/v1/articles?tag=caching')).data[0].tags[0].name).toBe('Speed');
    expect((await json('/v1/tags/caching')).name).toBe('Speed');
    expect((await json('/v1/tags')).data.map((x: { name: string }) => x.name)).toContain('Speed');
    expect((await get('/feed.xml')).body).toContain('Speed');
  });

  it('tag removed from an article, and a tag deleted', async () => {
    const id = (await json('/v1/articles/alpha')).id;
    await prime('/v1/articles/alpha', '/v1/articles?tag=other', '/v1/tags/other', ...WATCHED);
    await adminRequest(t, 'PATCH', `/v1/admin/articles/${id}`, { tags: ['Other'] });
    expect((await json('/v1/articles/alpha')).tags.map((x: { slug: string }) => x.slug)).toEqual(['other']);
    expect(await titles('/v1/articles?tag=caching')).not.toContain('Alpha, revised');
    expect(await titles('/v1/articles?tag=other')).toContain('Alpha, revised');
    await prime('/v1/articles/alpha', '/v1/tags/other');
    expect((await adminRequest(t, 'DELETE', '/v1/admin/tags/other')).statusCode).toBe(204);
    expect((await json('/v1/articles/alpha')).tags).toEqual([]);
    expect((await get('/v1/tags/other')).statusCode).toBe(404);
  });

  it('author change: renaming the author and moving an article to another author', async () => {
    await prime('/v1/articles/alpha', ...WATCHED);
    expect((await adminRequest(t, 'PATCH', '/v1/admin/authors/ada-lovelace', { name: 'Ada King' })).statusCode).toBe(200);
    expect((await json('/v1/articles/alpha')).author).toEqual({ slug: 'ada-lovelace', name: 'Ada King' });
    expect((await json('/v1/articles')).data.find((a: { slug: string }) => a.slug === 'alpha').author.name).toBe('Ada King');
    expect((await json('/v1/authors/ada-lovelace')).name).toBe('Ada King');
    expect((await get('/feed.xml')).body).toContain('Ada King');

    await adminRequest(t, 'POST', '/v1/admin/authors', { name: 'Grace Hopper' });
    await prime('/v1/articles/alpha', '/v1/articles?author=grace-hopper', '/v1/authors/ada-lovelace');
    const byAda = (await json('/v1/authors/ada-lovelace')).count;
    const id = (await json('/v1/articles/alpha')).id;
    await adminRequest(t, 'PATCH', `/v1/admin/articles/${id}`, { authorSlug: 'grace-hopper' });
    expect((await json('/v1/articles/alpha')).author.slug).toBe('grace-hopper');
    expect(await titles('/v1/articles?author=grace-hopper')).toEqual(['Alpha, revised']);
    expect((await json('/v1/authors/ada-lovelace')).count).toBe(byAda - 1);
  });

  it('scheduled publishing by the job shows the article', async () => {
    const s = await createArticle(t, { title: 'Zeta', status: 'scheduled', publishAt: '2099-01-01T00:00:00Z' });
    await prime(...WATCHED);
    // the time comes (the editor's publishAt is in the past now)
    await t.database.db.execute(sql`update articles set publish_at = now() where id = ${s.id}`);
    await t.database.db.execute(sql`update jobs set run_at = now() where key = ${`article:${s.id}`}`);
    await t.services.jobs.drainDue();
    expect((await titles('/v1/articles'))[0]).toBe('Zeta');
    expect((await get('/feed.xml')).body).toContain('Zeta');
    expect((await get('/v1/articles/zeta')).statusCode).toBe(200);
  });

  describe('responses (comments)', () => {
    const comment = (slug: string, body: string) =>
      t.app.inject({ method: 'POST', url: `/v1/articles/${slug}/comments`, payload: { authorName: 'Reader', authorEmail: 'r@example.com', body } });
    const counts = async () => (await json('/v1/articles/zeta')).counts.comments;
    const listed = async () => (await json('/v1/articles')).data.find((a: { slug: string }) => a.slug === 'zeta').counts.comments;
    const thread = async () => (await json('/v1/articles/zeta/responses')).data.map((r: { id: number }) => r.id);

    it('approve, unapprove and delete change the counts and the responses list', async () => {
      const posted = await comment('zeta', 'A thoughtful reply.');
      expect(posted.statusCode).toBe(201);
      expect(posted.json().status).toBe('pending'); // COMMENT_MODERATION=manual
      const id = posted.json().id as number;
      await prime('/v1/articles/zeta', '/v1/articles/zeta/responses', '/v1/articles');
      expect(await counts()).toBe(0);
      expect(await thread()).toEqual([]);

      expect((await adminRequest(t, 'PATCH', `/v1/admin/responses/${id}`, { status: 'approved' })).statusCode).toBe(200);
      expect(await counts()).toBe(1);
      expect(await listed()).toBe(1);
      expect(await thread()).toEqual([id]);

      await prime('/v1/articles/zeta', '/v1/articles/zeta/responses', '/v1/articles');
      expect((await adminRequest(t, 'PATCH', `/v1/admin/responses/${id}`, { status: 'pending' })).statusCode).toBe(200);
      expect(await counts()).toBe(0);
      expect(await listed()).toBe(0);
      expect(await thread()).toEqual([]);

      await adminRequest(t, 'PATCH', `/v1/admin/responses/${id}`, { status: 'approved' });
      await prime('/v1/articles/zeta', '/v1/articles/zeta/responses', '/v1/articles');
      expect((await adminRequest(t, 'DELETE', `/v1/admin/responses/${id}`)).statusCode).toBe(204);
      expect(await counts()).toBe(0);
      expect(await listed()).toBe(0);
      expect(await thread()).toEqual([]);
    });
  });
});

describe('reads that race a write', () => {
  it('an answer computed before a write is served but not kept', async () => {
    version = 1;
    closeGate();
    const inFlight = get('/test/held'); // read the old data, now waiting at the gate
    await vi.waitFor(() => expect(calls).toBeGreaterThan(0));
    version = 2;
    await contentChanged(); // the write commits
    open();
    expect((await inFlight).json()).toEqual({ v: 1 });
    expect((await get('/test/held')).json()).toEqual({ v: 2 });
    expect((await get('/test/held')).json()).toEqual({ v: 2 });
  });

  it('concurrent misses of one URL run the handler once', async () => {
    await contentChanged();
    version = 3;
    calls = 0;
    closeGate();
    const all = Promise.all(Array.from({ length: 5 }, () => get('/test/held')));
    await vi.waitFor(() => expect(calls).toBe(1));
    open();
    const answers = await all;
    expect(answers.map((r) => r.json())).toEqual(Array(5).fill({ v: 3 }));
    expect(calls).toBe(1);
  });
});

describe('the TTL safety net', () => {
  it('after the TTL one request recomputes while the others get the expired copy', async () => {
    await contentChanged();
    version = 10;
    open();
    expect((await get('/test/held')).json()).toEqual({ v: 10 });
    version = 11; // changed without an event: what the TTL is there for
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + t.app.responseCache.ttlMs + 1000);
      calls = 0;
      closeGate();
      const refreshing = get('/test/held');
      await vi.waitFor(() => expect(calls).toBe(1));
      expect((await get('/test/held')).json()).toEqual({ v: 10 });
      open();
      expect((await refreshing).json()).toEqual({ v: 11 });
      expect((await get('/test/held')).json()).toEqual({ v: 11 });
      expect(calls).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('over a real socket: hits are written ahead of Fastify', () => {
  let base = '';
  beforeAll(async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const addr = t.app.server.address();
    base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  });

  /** one exchange, the body exactly as sent */
  const exchange = (method: string, path: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      const req = httpRequest(base + path, { method, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.on('error', reject);
      req.end();
    });
  const strip = ({ 'x-request-id': _id, date: _d, connection: _c, 'keep-alive': _k, ...rest }: IncomingHttpHeaders) => rest;

  it('a client that leaves while it waits for another request computing the same URL leaves nothing stuck behind', async () => {
    await contentChanged();
    version = 20;
    calls = 0;
    closeGate();
    const leader = exchange('GET', '/test/held');
    await vi.waitFor(() => expect(calls).toBe(1));
    const connections = () => new Promise<number>((r) => t.app.server.getConnections((_e, n) => r(n)));
    const follower = httpRequest(`${base}/test/held`);
    follower.on('error', () => {});
    follower.end();
    await vi.waitFor(async () => expect(await connections()).toBe(2));
    follower.destroy(); // gone while it waits for the leader's answer
    await vi.waitFor(async () => expect(await connections()).toBe(1));
    // a write lands meanwhile: the leader's answer is sent, not kept
    version = 21;
    await contentChanged();
    open();
    expect(JSON.parse((await leader).body.toString())).toEqual({ v: 20 });
    // the next reader gets the new answer (the URL is not left waiting for the client that left)
    const next = await Promise.race([exchange('GET', '/test/held'), new Promise<never>((_r, reject) => setTimeout(() => reject(new Error('the URL hangs')), 5000))]);
    expect(JSON.parse(next.body.toString())).toEqual({ v: 21 });
  });

  it('answers a repeated read with the same status, headers and bytes as the handler did, with its own request id', async () => {
    await contentChanged();
    const miss = await exchange('GET', '/v1/articles?limit=5');
    const hits = stats().hits;
    const hit = await exchange('GET', '/v1/articles?limit=5', { 'x-request-id': 'frontend-42' });
    expect(stats().hits).toBe(hits + 1);
    expect(hit.status).toBe(200);
    expect(hit.body.equals(miss.body)).toBe(true);
    expect(strip(hit.headers)).toEqual(strip(miss.headers));
    expect(hit.headers['x-request-id']).toBe('frontend-42');
    const other = await exchange('GET', '/v1/articles?limit=5', { 'x-request-id': 'not a token!' });
    expect(other.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers If-None-Match with 304, HEAD without a body, and an encoding the client accepts', async () => {
    const first = await exchange('GET', '/v1/articles?limit=6');
    const etag = String(first.headers.etag);
    const notModified = await exchange('GET', '/v1/articles?limit=6', { 'if-none-match': etag });
    expect(notModified.status).toBe(304);
    expect(notModified.body.length).toBe(0);
    const head = await exchange('HEAD', '/v1/articles?limit=6');
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(Number(head.headers['content-length'])).toBe(first.body.length);
    // the first hit that accepts an encoding gets it (made while it waits), and so do the next
    const hits = stats().hits;
    const br = await exchange('GET', '/v1/articles?limit=6', { 'accept-encoding': 'br' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(zlib.brotliDecompressSync(br.body).equals(first.body)).toBe(true);
    expect((await exchange('GET', '/v1/articles?limit=6', { 'accept-encoding': 'gzip' })).headers['content-encoding']).toBe('gzip');
    expect(stats().hits).toBe(hits + 2);
  });

  it('the very first request with Accept-Encoding: br gets Brotli, the same bytes once decoded; HEAD and 304 agree', async () => {
    await contentChanged();
    const url = '/v1/articles?limit=8';
    const misses = stats().misses;
    const first = await exchange('GET', url, { 'accept-encoding': 'br' });
    expect(stats().misses).toBe(misses + 1);
    expect(first.status).toBe(200);
    expect(first.headers['content-encoding']).toBe('br');
    expect(String(first.headers.vary)).toMatch(/accept-encoding/i);
    expect(Number(first.headers['content-length'])).toBe(first.body.length);
    const plain = await exchange('GET', url);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.length).toBeGreaterThan(first.body.length);
    expect(zlib.brotliDecompressSync(first.body).equals(plain.body)).toBe(true);
    expect(first.headers.etag).toBe(`W/${plain.headers.etag}`);
    const head = await exchange('HEAD', url, { 'accept-encoding': 'br' });
    expect(head.headers['content-encoding']).toBe('br');
    expect(Number(head.headers['content-length'])).toBe(first.body.length);
    expect(head.body.length).toBe(0);
    const notModified = await exchange('GET', url, { 'accept-encoding': 'br', 'if-none-match': String(plain.headers.etag) });
    expect(notModified.status).toBe(304);
    expect(notModified.headers['content-encoding']).toBeUndefined();
    expect(notModified.headers.etag).toBe(first.headers.etag);
    // the API document, on its first request
    const doc = await exchange('GET', '/openapi.json', { 'accept-encoding': 'br' });
    expect(doc.headers['content-encoding']).toBe('br');
    expect(JSON.parse(zlib.brotliDecompressSync(doc.body).toString()).openapi).toBe('3.1.0');
  });

  it('concurrent first requests for one encoding wait for one compression', async () => {
    await contentChanged();
    const url = '/v1/articles?limit=9';
    const plain = await exchange('GET', url);
    const gzip = vi.spyOn(compress, 'gzip');
    try {
      const all = await Promise.all(Array.from({ length: 6 }, () => exchange('GET', url, { 'accept-encoding': 'gzip' })));
      for (const res of all) {
        expect(res.headers['content-encoding']).toBe('gzip');
        expect(zlib.gunzipSync(res.body).equals(plain.body)).toBe(true);
      }
      expect(gzip).toHaveBeenCalledTimes(1);
    } finally {
      gzip.mockRestore();
    }
  });

  it('never answers a write, and serves no stale read after one', async () => {
    const before = await exchange('GET', '/v1/articles?limit=7');
    await exchange('GET', '/v1/articles?limit=7');
    const post = await exchange('POST', '/v1/articles?limit=7');
    expect(post.status).not.toBe(200);
    await createArticle(t, { title: 'Fresh over the socket' });
    const after = await exchange('GET', '/v1/articles?limit=7');
    expect(JSON.parse(after.body.toString()).data[0].title).toBe('Fresh over the socket');
    expect(after.headers.etag).not.toBe(before.headers.etag);
  });
});

describe('ResponseCache bookkeeping', () => {
  const entry = (size: number, storedAt = 0) => ({ status: 200, headers: {}, body: Buffer.alloc(size), etag: '"x"', storedAt });

  it('stops serving an entry as fresh after the TTL, keeping it to serve while it is recomputed', () => {
    const c = new ResponseCache(1000, 1 << 20, 1 << 20);
    c.store('/a', c.currentGeneration, entry(10, 5000));
    expect(c.get('/a', 5999)).toBeDefined();
    expect(c.get('/a', 6001)).toBeUndefined();
    expect(c.stale('/a')).toBeDefined();
    c.invalidate();
    expect(c.stale('/a')).toBeUndefined();
    expect(c.snapshot().bytes).toBe(0);
  });

  it('evicts the least recently used beyond its byte budget, and skips oversized answers', () => {
    const c = new ResponseCache(60_000, 100, 60);
    c.store('/a', 0, entry(40));
    c.store('/b', 0, entry(40));
    c.get('/a', 0);
    c.store('/c', 0, entry(40));
    expect(c.get('/b', 0)).toBeUndefined();
    expect(c.get('/a', 0)).toBeDefined();
    expect(c.get('/c', 0)).toBeDefined();
    expect(c.store('/big', 0, entry(61))).toBe(false);
    expect(c.snapshot()).toMatchObject({ entries: 2, bytes: 80 });
  });

  it('with a budget of 0 bytes keeps nothing (RESPONSE_CACHE_MB=0): every read is a miss', () => {
    const c = new ResponseCache(60_000, 0, 1000);
    expect(c.store('/a', c.currentGeneration, entry(10))).toBe(true);
    expect(c.get('/a', 0)).toBeUndefined();
    expect(c.snapshot()).toMatchObject({ entries: 0, bytes: 0 });
  });

  it('refuses an answer computed in an older generation', () => {
    const c = new ResponseCache(60_000, 1000, 1000);
    const g = c.currentGeneration;
    c.invalidate();
    expect(c.store('/a', g, entry(1))).toBe(false);
    expect(c.store('/a', c.currentGeneration, entry(1))).toBe(true);
  });
});

describe.skipIf(testDatabaseKind !== 'postgres')('several processes on one PostgreSQL', () => {
  it('a write in one process clears the other process’s cache through NOTIFY, well before the TTL', async () => {
    const other = await openDatabase({ url: t.database.location, dataDir: '', poolSize: 2 });
    const b = await createTestApp({}, { database: other });
    try {
      const readB = (url: string) => b.app.inject({ method: 'GET', url });
      await readB('/v1/articles');
      const before = b.app.responseCache.snapshot().hits;
      const n = Number((await readB('/v1/articles')).headers['x-total-count']);
      expect(b.app.responseCache.snapshot().hits).toBe(before + 1);
      expect(b.app.responseCache.ttlMs).toBeGreaterThanOrEqual(30_000);

      await createArticle(t, { title: 'Eta from process A' }); // written by the other app
      await vi.waitFor(async () => expect(Number((await readB('/v1/articles')).headers['x-total-count'])).toBe(n + 1), { timeout: 5000, interval: 20 });
      expect((await readB('/v1/articles')).json().data[0].title).toBe('Eta from process A');
    } finally {
      await b.close();
      await other.close();
    }
  });
});
