// SPEC §11 "CORS on everything public": a frontend on another origin reads every public
// answer, the comment POST's 201 and every problem included, and the feeds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { createArticle } from '../helpers/factories.ts';

const ORIGIN = 'https://frontend.example';
const comment = { authorName: 'Ada', authorEmail: 'ada@example.com', body: 'From another origin' };

describe('CORS_ORIGINS=* (the default)', () => {
  let t: TestApp;
  let slug: string;
  beforeAll(async () => {
    t = await createTestApp({ commentMinIntervalSeconds: 0, rateLimitWrites: { max: 3, windowMs: 60_000, text: '3/minute' } });
    slug = (await createArticle(t, { title: 'Cors' })).slug;
  });
  afterAll(() => t.close());

  const post = (payload: unknown, url = `/v1/articles/${slug}/comments`) =>
    t.app.inject({ method: 'POST', url, headers: { origin: ORIGIN, 'content-type': 'application/json' }, payload: JSON.stringify(payload) });

  it('the comment POST: 201, 400, 404, 409 and 429 all carry Access-Control-Allow-Origin', async () => {
    const created = await post(comment);
    expect(created.statusCode).toBe(201);
    expect(created.headers['access-control-allow-origin']).toBe('*');
    expect(String(created.headers['access-control-expose-headers'])).toMatch(/X-Request-Id/);
    const invalid = await post({});
    expect(invalid.statusCode).toBe(400);
    expect(invalid.headers['access-control-allow-origin']).toBe('*');
    const missing = await post(comment, '/v1/articles/no-such-article/comments');
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['access-control-allow-origin']).toBe('*');
    const twice = await post(comment);
    expect(twice.statusCode).toBe(409);
    expect(twice.headers['access-control-allow-origin']).toBe('*');
    const limited = await post(comment);
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['access-control-allow-origin']).toBe('*');
    expect(limited.headers['retry-after']).toBeDefined();
  });

  it('reads, unknown routes, the feeds and the sitemap; not the admin API', async () => {
    for (const url of ['/v1/articles', `/v1/articles/${slug}`, '/v1/articles?bogus=1', '/v1/nothing-here', '/feed.xml', '/feed.json', '/sitemap.xml']) {
      for (let i = 0; i < 2; i++) {
        // twice: the second read of a cacheable URL is a response-cache hit
        const res = await t.app.inject({ method: 'GET', url, headers: { origin: ORIGIN } });
        expect(res.headers['access-control-allow-origin'], `${url} #${i}`).toBe('*');
      }
    }
    const admin = await t.app.inject({ method: 'GET', url: '/v1/admin/articles', headers: { origin: ORIGIN, ...t.auth } });
    expect(admin.statusCode).toBe(200);
    expect(admin.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('the preflight of a JSON comment POST allows it and the headers SPEC §11 lists', async () => {
    const res = await t.app.inject({
      method: 'OPTIONS',
      url: `/v1/articles/${slug}/comments`,
      headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-request-id' },
    });
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(String(res.headers['access-control-allow-methods'])).toMatch(/POST/);
    const allowed = String(res.headers['access-control-allow-headers']).toLowerCase().split(/,\s*/);
    for (const h of ['content-type', 'if-none-match', 'if-match', 'x-request-id']) expect(allowed).toContain(h);
    const read = await t.app.inject({ method: 'GET', url: '/v1/articles', headers: { origin: ORIGIN } });
    const exposed = String(read.headers['access-control-expose-headers']).toLowerCase().split(/,\s*/);
    for (const h of ['etag', 'link', 'x-total-count', 'location', 'retry-after', 'ratelimit-remaining', 'x-request-id']) expect(exposed).toContain(h);
  });
});

describe('CORS_ORIGINS as a list', () => {
  let t: TestApp;
  let slug: string;
  const OTHER = 'http://localhost:5173';
  beforeAll(async () => {
    t = await createTestApp({ commentMinIntervalSeconds: 0, corsOrigins: [ORIGIN, OTHER] });
    slug = (await createArticle(t, { title: 'Cors list' })).slug;
  });
  afterAll(() => t.close());

  it('answers the matching origin with Vary: Origin, on misses and on cache hits alike; others get none', async () => {
    const url = `/v1/articles/${slug}`;
    for (const origin of [ORIGIN, OTHER, 'https://evil.example', ORIGIN]) {
      const res = await t.app.inject({ method: 'GET', url, headers: { origin } });
      expect(res.statusCode).toBe(200);
      expect(res.headers['access-control-allow-origin'], origin).toBe(origin === 'https://evil.example' ? undefined : origin);
      expect(String(res.headers.vary)).toMatch(/Origin/);
    }
    expect(t.app.responseCache.snapshot().hits).toBeGreaterThanOrEqual(3);
    const created = await t.app.inject({ method: 'POST', url: `/v1/articles/${slug}/comments`, headers: { origin: OTHER }, payload: comment });
    expect(created.statusCode).toBe(201);
    expect(created.headers['access-control-allow-origin']).toBe(OTHER);
  });

  it('a bad CORS_ORIGINS entry stops the start with a message naming it', async () => {
    const { loadConfig } = await import('../../src/config.ts');
    expect(() => loadConfig({ CORS_ORIGINS: 'https://a.example/path' })).toThrow(/CORS_ORIGINS has "https:\/\/a.example\/path"/);
    expect(loadConfig({ CORS_ORIGINS: 'https://a.example, http://127.0.0.1:8080' }).corsOrigins).toEqual(['https://a.example', 'http://127.0.0.1:8080']);
  });
});
