// Property-based: whatever a client sends to a public route, the answer is never a
// 5xx and every error is problem+json. Routes come from the OpenAPI document, so a
// new route is fuzzed the day it lands.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, perMinute } from '../helpers/app.ts';
import { createArticle } from '../helpers/factories.ts';

let t: TestApp;
let doc: { paths: Record<string, Record<string, { security?: unknown[] }>> };
let slug: string;

beforeAll(async () => {
  t = await createTestApp({ commentMinIntervalSeconds: 0, rateLimitWrites: perMinute(100_000) });
  slug = (await createArticle(t, { title: 'Fuzz target', tags: ['fuzz'] })).slug;
  doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
});
afterAll(() => t.close());

const RUNS = Number(process.env.FUZZ_RUNS ?? 60);

function publicOperations(method: 'get' | 'post') {
  return Object.entries(doc.paths)
    .filter(([, ops]) => ops[method] && !ops[method].security)
    .map(([path]) => path);
}

const fill = (path: string, value: string) => path.replace(/\{slug\}/g, value).replace(/\{[^}]+\}/g, value);

function expectWellFormed(res: { statusCode: number; headers: Record<string, unknown>; body: string }, what: string) {
  expect(res.statusCode, `${what} → ${res.statusCode} ${res.body.slice(0, 200)}`).toBeLessThan(500);
  if (res.statusCode >= 400) {
    expect(res.headers['content-type'], what).toMatch(/^application\/problem\+json/);
    const body = JSON.parse(res.body);
    expect(typeof body.title === 'string' && typeof body.detail === 'string' && body.status === res.statusCode, what).toBe(true);
    expect(res.body, what).not.toMatch(/\bat [\w.<>]+ \(|node_modules|SELECT |INSERT |syntax error/);
  }
}

const queryValue = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.integer().map(String),
  fc.constantFrom('', '-1', '0', '1e309', 'NaN', 'null', '[]', '{}', '%00', '\u0000', 'a\u0000b', '2026-02-30', '9999-12-31T23:59:59Z', "' OR 1=1 --", '<script>', '../..', 'a'.repeat(600), '.'.repeat(600), 'a.'.repeat(300)),
);

/** URLs around the 2,048-character cap, with runs of dots, dashes and slashes where parsers and link finders backtrack. */
const hostileUrl = fc
  .tuple(
    fc.constantFrom('http://a', 'https://', 'http://a.b/', 'http://[::', 'http://a', ''),
    fc.constantFrom('.', '-', '/', 'a.', '..a', '@', '%2e'),
    fc.integer({ min: 1, max: 5000 }),
    fc.constantFrom('b/x', '', 'b', '.', '/x?y=1'),
  )
  .map(([head, run, n, tail]) => head + run.repeat(n) + tail);
const queryKey = fc.oneof(fc.constantFrom('page', 'limit', 'after', 'tag', 'author', 'q', 'since', 'until', 'order', 'type', 'x'), fc.string({ minLength: 1, maxLength: 10 }));

describe('NUL bytes, which PostgreSQL cannot store in text, stop at the edge (SPEC §17)', () => {
  it('in a path: 404; in a query: 400 naming the parameter', async () => {
    for (const url of ['/v1/articles/%00', '/%00/', '/tags/%00/', '/v1/tags/%00', '/v1/authors/%00', `/v1/articles/%00/responses`, '/v1/articles/a%00b/responses']) {
      const res = await t.app.inject({ method: 'GET', url });
      expectWellFormed(res, url);
      expect(res.statusCode, url).toBe(404);
    }
    for (const [url, name] of [['/v1/articles?q=%00', 'q'], ['/v1/articles?tag=%00', 'tag'], ['/v1/articles?author=x%00y', 'author'], [`/v1/articles/${slug}/responses?type=%00`, 'type']]) {
      const res = await t.app.inject({ method: 'GET', url });
      expectWellFormed(res, url);
      expect(res.statusCode, url).toBe(400);
      expect(res.json().errors, url).toEqual([{ pointer: `/query/${name}`, message: 'must not contain NUL characters (%00)' }]);
    }
  });

  it('in a body: 400 naming the field (JSON, forms, a webmention, an admin write)', async () => {
    const comment = { authorName: 'Nul', authorEmail: 'nul@example.com', body: 'a\u0000b' };
    const cases = [
      { url: '/v1/articles/%00/comments', type: 'application/json', payload: JSON.stringify(comment), status: 404 },
      { url: `/v1/articles/${slug}/comments`, type: 'application/json', payload: JSON.stringify(comment), status: 400, pointer: '/body/body' },
      { url: `/v1/articles/${slug}/comments`, type: 'application/x-www-form-urlencoded', payload: 'authorName=N%00ul&authorEmail=nul%40example.com&body=hi', status: 400, pointer: '/body/authorName' },
      { url: '/webmention', type: 'application/x-www-form-urlencoded', payload: `source=https%3A%2F%2Fexample.org%2F&target=http%3A%2F%2Fblog.test%2F${slug}%2F%00`, status: 400, pointer: '/body/target' },
      { url: '/v1/admin/articles', type: 'application/json', payload: JSON.stringify({ title: 'T\u0000', markdown: 'M', tags: ['a\u0000'] }), status: 400, pointer: '/body/title', auth: true },
    ];
    for (const c of cases) {
      const res = await t.app.inject({ method: 'POST', url: c.url, headers: { 'content-type': c.type, ...(c.auth ? t.auth : {}) }, payload: c.payload });
      expectWellFormed(res, c.url);
      expect(res.statusCode, `${c.url} ${res.body}`).toBe(c.status);
      if (c.pointer) expect(res.json().errors[0], c.url).toEqual({ pointer: c.pointer, message: 'must not contain NUL characters (U+0000)' });
    }
    const admin = await t.app.inject({ method: 'POST', url: '/v1/admin/articles', headers: { 'content-type': 'application/json', ...t.auth }, payload: JSON.stringify({ title: 'T\u0000', markdown: 'M', tags: ['a\u0000'] }) });
    expect(admin.json().errors.map((e: { pointer: string }) => e.pointer)).toEqual(['/body/title', '/body/tags/0']);
  });
});

describe('numbers that are not finite (1e309, Infinity) stop at the edge as 400s', () => {
  it('in a query and in a JSON body: 400 naming the field, never a database error', async () => {
    for (const [url, name] of [['/v1/articles?page=1e309', 'page'], ['/v1/articles?limit=Infinity', 'limit'], [`/v1/articles/${slug}/responses?page=1e309`, 'page'], ['/v1/articles?page=-1e309', 'page']]) {
      const res = await t.app.inject({ method: 'GET', url });
      expectWellFormed(res, url);
      expect(res.statusCode, `${url} ${res.body}`).toBe(400);
      expect(res.json().errors.map((e: { pointer: string }) => e.pointer), url).toContain(`/query/${name}`);
    }
    const res = await t.app.inject({ method: 'POST', url: `/v1/articles/${slug}/comments`, headers: { 'content-type': 'application/json' }, payload: '{"authorName":"Big","authorEmail":"big@example.com","body":"hi","parentId":1e309}' });
    expectWellFormed(res, 'comment parentId 1e309');
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().errors.map((e: { pointer: string }) => e.pointer)).toContain('/body/parentId');
  });
});

/**
 * A `..` segment can take a URL out of the API (`/problems/..?page=` is `/?page=`, the
 * reference frontend's home, as any HTTP client resolves it): the API's rules (problem+json)
 * hold where the resolved path is the API's; everywhere, never a 5xx.
 */
function expectWellFormedWhere(url: string, res: { statusCode: number; headers: Record<string, unknown>; body: string }) {
  const resolved = new URL(url, 'http://inkwell.test').pathname;
  if (/^\/(v1|problems)\//.test(resolved)) expectWellFormed(res, `GET ${url}`);
  else expect(res.statusCode, `GET ${url} (${resolved}) → ${res.statusCode}`).toBeLessThan(500);
}

describe('fuzzing public REST routes', () => {
  it('a `..` that leaves the API is judged by where it lands (the counterexample CI found)', async () => {
    const url = '/problems/..?page=';
    const res = await t.app.inject({ method: 'GET', url });
    expectWellFormedWhere(url, res);
    expect(res.headers['content-type']).toMatch(/^text\/html/); // the frontend's page, not an API answer
  });

  it('GET routes with random query strings and path values never fail', async () => {
    const paths = publicOperations('get');
    expect(paths.length).toBeGreaterThan(5);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...paths),
        fc.oneof(fc.constant(slug), fc.string({ maxLength: 30 }), fc.constantFrom('%', '%E0%A4%A', '..', '🦄', 'a'.repeat(300), '%00', 'a%00b')),
        fc.array(fc.tuple(queryKey, queryValue), { maxLength: 5 }),
        async (path, segment, pairs) => {
          const qs = pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
          const pathValue = /%|\.\./.test(segment) ? segment : encodeURIComponent(segment);
          const url = `${fill(path, pathValue)}${qs ? `?${qs}` : ''}`;
          const res = await t.app.inject({ method: 'GET', url });
          expectWellFormedWhere(url, res);
        },
      ),
      { numRuns: RUNS * 3 },
    );
  });

  it('POST /v1/articles/{slug}/comments with arbitrary JSON never fails', async () => {
    const field = fc.oneof(fc.string({ maxLength: 50 }), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 }), fc.object({ maxDepth: 1 }));
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.anything({ maxDepth: 3 }),
          fc.record({ authorName: field, authorEmail: field, body: field, authorUrl: field, parentId: field, website: field }, { requiredKeys: [] }),
        ),
        async (payload) => {
          const res = await t.app.inject({ method: 'POST', url: `/v1/articles/${slug}/comments`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(payload) ?? 'null' });
          expectWellFormed(res, `POST comment ${JSON.stringify(payload)?.slice(0, 200)}`);
        },
      ),
      { numRuns: RUNS * 2 },
    );
  });

  it('long URLs and dot runs in every URL a stranger sends (comment authorUrl, webmention, pingback) never fail', async () => {
    const xml = (source: string, to: string) =>
      `<?xml version="1.0"?><methodCall><methodName>pingback.ping</methodName><params><param><value><string>${source}</string></value></param><param><value><string>${to}</string></value></param></params></methodCall>`;
    await fc.assert(
      // never our article as the target: a source that parses would be fetched (at once for a
      // pingback, by the job a webmention queues), and tests reach no host but loopback
      fc.asyncProperty(hostileUrl, hostileUrl, async (a, b) => {
        const comment = await t.app.inject({ method: 'POST', url: `/v1/articles/${slug}/comments`, payload: { authorName: 'F', authorEmail: 'f@example.com', authorUrl: a, body: `${b} ${a}`.slice(0, 10_000) } });
        expectWellFormed(comment, `comment authorUrl ${a.slice(0, 60)}… (${a.length})`);
        const webmention = await t.app.inject({ method: 'POST', url: '/webmention', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ source: a, target: b }).toString() });
        expectWellFormed(webmention, `webmention ${a.slice(0, 60)}… (${a.length})`);
        const ping = await t.app.inject({ method: 'POST', url: '/xmlrpc', headers: { 'content-type': 'text/xml' }, payload: xml(a, b) });
        expect(ping.statusCode).toBe(200);
        expect(ping.body).toMatch(/<methodResponse>/);
      }),
      { numRuns: RUNS },
    );
  });

  it('POST public write routes with random bytes and content types never fail', async () => {
    const paths = publicOperations('post');
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...paths),
        fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/xml', 'text/plain', 'multipart/form-data; boundary=x', 'application/json; charset=utf-16', ''),
        fc.oneof(fc.string({ maxLength: 300 }), fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('latin1')), fc.constantFrom('{', '{"a":', '[', 'a=1&a=2&a[b]=3', '%ZZ', '\u0000')),
        async (path, type, body) => {
          const res = await t.app.inject({ method: 'POST', url: fill(path, slug), headers: type ? { 'content-type': type } : {}, payload: body });
          if (path === '/xmlrpc' || path === '/xmlrpc.php') {
            expect(res.statusCode).toBeLessThan(500);
            return;
          }
          expectWellFormed(res, `POST ${path} (${type}) ${JSON.stringify(body).slice(0, 100)}`);
        },
      ),
      { numRuns: RUNS * 2 },
    );
  });
});
