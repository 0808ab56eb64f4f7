import { load } from 'cheerio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.ts';
import { createTestApp, type TestApp, perMinute } from '../helpers/app.ts';
import { adminRequest, createArticle } from '../helpers/factories.ts';

const apps: TestApp[] = [];
async function appWith(overrides: Partial<Config> = {}) {
  const t = await createTestApp({ commentMinIntervalSeconds: 0, rateLimitWrites: perMinute(1000), ...overrides });
  apps.push(t);
  return t;
}
afterAll(async () => {
  for (const t of apps) await t.close();
});

let ipCounter = 1;
/** Each call looks like a different reader unless an ip is given. */
function comment(t: TestApp, slug: string, payload: Record<string, unknown>, opts: { ip?: string; form?: boolean } = {}) {
  const body = { authorName: 'Reader', authorEmail: 'reader@example.com', body: 'Nice post.', ...payload };
  return t.app.inject({
    method: 'POST',
    url: `/v1/articles/${slug}/comments`,
    remoteAddress: opts.ip ?? `10.0.${Math.floor(ipCounter / 250)}.${ipCounter++ % 250}`,
    ...(opts.form
      ? { headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(body as Record<string, string>).toString() }
      : { payload: body }),
  });
}
const responsesOf = async (t: TestApp, slug: string, q = '') => (await t.app.inject({ method: 'GET', url: `/v1/articles/${slug}/responses${q}` })).json();
const countsOf = async (t: TestApp, slug: string) => (await t.app.inject({ method: 'GET', url: `/v1/articles/${slug}` })).json().counts;

describe('moderation policy', () => {
  it.each([
    ['open', 'new@example.com', 'Plain words.', 'approved'],
    ['open', 'new@example.com', 'Links https://a.example https://b.example https://c.example', 'pending'],
    ['manual', 'new@example.com', 'Plain words.', 'pending'],
    ['first-time', 'new@example.com', 'Plain words.', 'pending'],
  ] as const)('%s: a comment from %s saying %j is %s', async (policy, email, body, expected) => {
    const t = await appWith({ commentModeration: policy });
    const a = await createArticle(t, { title: `Policy ${policy} ${expected}` });
    const res = await comment(t, a.slug, { authorEmail: email, body });
    expect(res.statusCode).toBe(201);
    expect(res.json().status).toBe(expected);
    expect(res.json().message).toMatch(expected === 'approved' ? /published/ : /awaiting moderation/);
  });

  it('first-time: held until an editor approves one, then the same email goes straight through', async () => {
    const t = await appWith({ commentModeration: 'first-time' });
    const a = await createArticle(t, { title: 'First timers' });
    const first = await comment(t, a.slug, { authorEmail: 'Ada@Example.com', body: 'Hello!' });
    expect(first.json().status).toBe('pending');
    expect((await responsesOf(t, a.slug)).data).toEqual([]);
    await adminRequest(t, 'PATCH', `/v1/admin/responses/${first.json().id}`, { status: 'approved' });
    const second = await comment(t, a.slug, { authorEmail: 'ada@example.com', body: 'Me again.' });
    expect(second.json().status).toBe('approved');
    const third = await comment(t, a.slug, { authorEmail: 'ada@example.com', body: 'Spam https://a.example https://b.example https://c.example' });
    expect(third.json().status).toBe('pending');
  });

  it('a filled honeypot is held as spam, silently', async () => {
    const t = await appWith({ commentModeration: 'open' });
    const a = await createArticle(t, { title: 'Honeypot' });
    const res = await comment(t, a.slug, { website: 'http://spam.example', body: 'Buy now' });
    expect(res.statusCode).toBe(201);
    expect(res.json().status).toBe('pending');
    const spam = (await adminRequest(t, 'GET', '/v1/admin/responses?status=spam')).json().data;
    expect(spam.map((r: { id: number }) => r.id)).toEqual([res.json().id]);
  });
});

describe('posting comments', () => {
  let t: TestApp;
  let slug: string;
  beforeAll(async () => {
    t = await appWith({ commentModeration: 'open' });
    slug = (await createArticle(t, { title: 'Conversation' })).slug;
  });

  it('accepts JSON and plain HTML forms; escapes, keeps paragraphs, links URLs with nofollow ugc', async () => {
    const json = await comment(t, slug, { body: 'First line\nsecond line\n\nNew paragraph with https://example.com/page?a=1&b=2 <b>bold?</b>' });
    expect(json.statusCode).toBe(201);
    expect(json.json().html).toBe(
      '<p>First line<br />second line</p>\n<p>New paragraph with <a href="https://example.com/page?a=1&amp;b=2" rel="nofollow ugc">https://example.com/page?a=1&amp;b=2</a> &lt;b&gt;bold?&lt;/b&gt;</p>',
    );
    const form = await comment(t, slug, { body: 'From a form', authorUrl: '', parentId: '' }, { form: true });
    expect(form.statusCode).toBe(201);
    expect(form.json()).toMatchObject({ parentId: null, authorUrl: null });
  });

  it('never returns the email, but an avatar hash', async () => {
    const res = await comment(t, slug, { authorEmail: 'secret-person@example.com', body: 'Hidden email' });
    expect(JSON.stringify(res.json())).not.toContain('secret-person');
    const list = await responsesOf(t, slug);
    expect(JSON.stringify(list)).not.toContain('secret-person');
    expect(list.data.at(-1).avatarUrl).toMatch(/^https:\/\/gravatar\.com\/avatar\/[0-9a-f]{64}/);
  });

  it.each([
    [{ authorName: '' }, '/body/authorName'],
    [{ authorName: '   ' }, '/body/authorName'],
    [{ authorName: 'x'.repeat(101) }, '/body/authorName'],
    [{ authorEmail: 'not-an-email' }, '/body/authorEmail'],
    [{ authorEmail: 'a@b' }, '/body/authorEmail'],
    [{ authorUrl: 'javascript:alert(1)' }, '/body/authorUrl'],
    [{ authorUrl: 'ftp://files.example' }, '/body/authorUrl'],
    [{ body: '' }, '/body/body'],
    [{ body: 'x'.repeat(10_001) }, '/body/body'],
    [{ parentId: 'abc' }, '/body/parentId'],
    [{ parentId: '999999' }, '/body/parentId'],
    [{ extra: 'field' }, '/body/extra'],
  ])('answers 400 with field errors for %j', async (payload, pointer) => {
    const before = (await adminRequest(t, 'GET', '/v1/admin/responses?limit=100')).json().meta.pagination.total;
    const res = await comment(t, slug, payload);
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/problem\+json/);
    expect(res.json().errors.map((e: { pointer: string }) => e.pointer)).toContain(pointer);
    expect((await adminRequest(t, 'GET', '/v1/admin/responses?limit=100')).json().meta.pagination.total).toBe(before);
  });

  it('answers 413 for an oversized body and 415 for an unknown content type', async () => {
    const big = await t.app.inject({ method: 'POST', url: `/v1/articles/${slug}/comments`, payload: { authorName: 'a', authorEmail: 'a@example.com', body: 'x'.repeat(70_000) } });
    expect(big.statusCode).toBe(413);
    const odd = await t.app.inject({ method: 'POST', url: `/v1/articles/${slug}/comments`, headers: { 'content-type': 'text/csv' }, payload: 'a,b' });
    expect(odd.statusCode).toBe(415);
    expect(odd.headers['content-type']).toMatch(/problem\+json/);
  });

  it('409 for the same comment twice', async () => {
    const one = await comment(t, slug, { authorEmail: 'twice@example.com', body: 'Same words.' });
    expect(one.statusCode).toBe(201);
    const two = await comment(t, slug, { authorEmail: 'twice@example.com', body: 'Same words.' });
    expect(two.statusCode).toBe(409);
  });

  it('404 for unknown or unpublished articles, 403 when comments are closed', async () => {
    expect((await comment(t, 'no-such-article', {})).statusCode).toBe(404);
    const draft = await createArticle(t, { title: 'Draft for comments', status: 'draft' });
    expect((await comment(t, draft.slug, {})).statusCode).toBe(404);
    const closed = await createArticle(t, { title: 'Closed', commentsOpen: false });
    const res = await comment(t, closed.slug, {});
    expect(res.statusCode).toBe(403);
    expect(res.json().detail).toMatch(/closed/);
  });
});

describe('threads, counts and the public list', () => {
  it('threads replies via parentId, bounded in depth; lists oldest first; filters by type; counts follow moderation', async () => {
    const t = await appWith({ commentModeration: 'open' });
    const a = await createArticle(t, { title: 'Threads' });
    const root = (await comment(t, a.slug, { body: 'root' })).json();
    let parent = root;
    for (let depth = 1; depth <= 5; depth++) {
      const res = await comment(t, a.slug, { body: `depth ${depth}`, parentId: String(parent.id) });
      expect(res.statusCode).toBe(201);
      expect(res.json().parentId).toBe(parent.id);
      parent = res.json();
    }
    const tooDeep = await comment(t, a.slug, { body: 'depth 6', parentId: String(parent.id) });
    expect(tooDeep.statusCode).toBe(400);
    const numeric = await comment(t, a.slug, { body: 'numeric parent id', parentId: root.id });
    expect(numeric.statusCode).toBe(201);

    const list = await responsesOf(t, a.slug);
    expect(list.data.map((r: { html: string }) => r.html)).toEqual(['<p>root</p>', '<p>depth 1</p>', '<p>depth 2</p>', '<p>depth 3</p>', '<p>depth 4</p>', '<p>depth 5</p>', '<p>numeric parent id</p>']);
    expect(Object.keys(list.data[0]).sort()).toEqual(['author', 'authorName', 'authorUrl', 'avatarUrl', 'createdAt', 'html', 'id', 'kind', 'network', 'parentId', 'type', 'url']);
    expect(await countsOf(t, a.slug)).toEqual({ comments: 7, pingbacks: 0, webmentions: 0, likes: 0, reposts: 0, replies: 0 });
    expect((await responsesOf(t, a.slug, '?type=pingback')).data).toEqual([]);
    const paged = await t.app.inject({ method: 'GET', url: `/v1/articles/${a.slug}/responses?limit=3&page=2` });
    expect(paged.json().data).toHaveLength(3);
    expect(paged.headers['x-total-count']).toBe('7');
    expect(String(paged.headers.link)).toContain('rel="next"');

    // moderation moves the counts, the list and the cached answers
    const etag = (await t.app.inject({ method: 'GET', url: `/v1/articles/${a.slug}` })).headers.etag as string;
    await adminRequest(t, 'PATCH', `/v1/admin/responses/${root.id}`, { status: 'spam' });
    expect(await countsOf(t, a.slug)).toEqual({ comments: 6, pingbacks: 0, webmentions: 0, likes: 0, reposts: 0, replies: 0 });
    const revalidated = await t.app.inject({ method: 'GET', url: `/v1/articles/${a.slug}`, headers: { 'if-none-match': etag } });
    expect(revalidated.statusCode).toBe(200);
    await adminRequest(t, 'PATCH', `/v1/admin/responses/${root.id}`, { status: 'approved' });
    expect((await countsOf(t, a.slug)).comments).toBe(7);
    expect((await adminRequest(t, 'DELETE', `/v1/admin/responses/${root.id}`)).statusCode).toBe(204);
    expect((await countsOf(t, a.slug)).comments).toBe(6);
    const after = (await responsesOf(t, a.slug)).data;
    expect(after.find((r: { html: string }) => r.html === '<p>depth 1</p>').parentId).toBeNull();
    expect((await adminRequest(t, 'DELETE', `/v1/admin/responses/${root.id}`)).statusCode).toBe(404);
  });

  it('rejects replies to a pending response or one of another article', async () => {
    const t = await appWith({ commentModeration: 'manual' });
    const a = await createArticle(t, { title: 'A' });
    const b = await createArticle(t, { title: 'B' });
    const held = (await comment(t, a.slug, { body: 'held' })).json();
    expect((await comment(t, a.slug, { body: 'reply', parentId: String(held.id) })).statusCode).toBe(400);
    await adminRequest(t, 'PATCH', `/v1/admin/responses/${held.id}`, { status: 'approved' });
    expect((await comment(t, b.slug, { body: 'cross', parentId: String(held.id) })).statusCode).toBe(400);
    expect((await comment(t, a.slug, { body: 'fine', parentId: String(held.id) })).statusCode).toBe(201);
  });
});

describe('flood and rate limits', () => {
  it('429 with Retry-After when one client comments again within COMMENT_MIN_INTERVAL', async () => {
    const t = await appWith({ commentMinIntervalSeconds: 30, commentModeration: 'open' });
    const a = await createArticle(t, { title: 'Flood' });
    expect((await comment(t, a.slug, { body: 'one' }, { ip: '192.0.2.7' })).statusCode).toBe(201);
    const again = await comment(t, a.slug, { body: 'two' }, { ip: '192.0.2.7' });
    expect(again.statusCode).toBe(429);
    expect(Number(again.headers['retry-after'])).toBeGreaterThan(25);
    expect(again.headers['content-type']).toMatch(/problem\+json/);
    expect((await comment(t, a.slug, { body: 'other reader' }, { ip: '192.0.2.8' })).statusCode).toBe(201);
  });

  it('the per-client write budget answers 429 with Retry-After beyond RATE_LIMIT_WRITES', async () => {
    const t = await appWith({ rateLimitWrites: perMinute(3) });
    const a = await createArticle(t, { title: 'Budget' });
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) codes.push((await comment(t, a.slug, { body: `n ${i}` }, { ip: '192.0.2.9' })).statusCode);
    expect(codes).toEqual([201, 201, 201, 429, 429]);
    const last = await comment(t, a.slug, { body: 'n 6' }, { ip: '192.0.2.9' });
    expect(Number(last.headers['retry-after'])).toBeGreaterThan(0);
    expect(last.json().detail).toMatch(/3\/minute/);
  });
});

describe('XSS and other hostile content ends up inert', () => {
  const payloads = [
    '<script>alert(1)</script>',
    '<img src=x onerror=alert(1)>',
    '<a href="javascript:alert(1)">click</a>',
    'javascript:alert(1)',
    '<svg/onload=alert(1)>',
    '"><script>alert(1)</script>',
    "'><img src=x onerror=alert(1)>",
    '<iframe src="https://evil.example"></iframe>',
    '<style>body{display:none}</style>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '&lt;script&gt;alert(1)&lt;/script&gt;',
    'Hello \u202Egnp.exe\u202C world',
  ];
  it.each(payloads)('body %j', async (payload) => {
    const t = apps[0] ?? (await appWith());
    const a = await createArticle(t, { title: `XSS ${Math.random()}` });
    await t.app.inject({ method: 'PATCH', url: `/v1/admin/articles/${a.id}`, headers: t.auth, payload: { commentsOpen: true } });
    const res = await comment(t, a.slug, { body: payload, authorName: payload.slice(0, 100), authorEmail: `x${Math.random()}@example.com` });
    expect(res.statusCode).toBe(201);
    const { html, authorName } = res.json();
    // parsed as a browser would: only paragraphs, breaks and http(s) links with safe attributes
    const $ = load(html, null, false);
    $('*').each((_i, el) => {
      const tag = (el as { tagName: string }).tagName;
      expect(['p', 'br', 'a']).toContain(tag);
      for (const [name, value] of Object.entries((el as { attribs: Record<string, string> }).attribs)) {
        expect(['href', 'rel']).toContain(name);
        if (name === 'href') expect(value).toMatch(/^https?:\/\//);
      }
    });
    expect(html).not.toMatch(/[\u202A-\u202E\u2066-\u2069]/);
    expect(authorName).not.toMatch(/[\u202A-\u202E\u2066-\u2069]/);
  });
});

describe('admin moderation API', () => {
  it('lists newest first with filters, shows private fields to editors only, validates input', async () => {
    const t = await appWith({ commentModeration: 'manual' });
    const a = await createArticle(t, { title: 'Queue A' });
    const b = await createArticle(t, { title: 'Queue B' });
    await comment(t, a.slug, { body: 'on a', authorEmail: 'ed@example.com' }, { ip: '198.51.100.1' });
    await comment(t, b.slug, { body: 'on b' });
    const all = (await adminRequest(t, 'GET', '/v1/admin/responses?status=pending')).json();
    expect(all.data.map((r: { html: string }) => r.html)).toEqual(['<p>on b</p>', '<p>on a</p>']);
    const onA = (await adminRequest(t, 'GET', `/v1/admin/responses?article=${a.slug}`)).json().data;
    expect(onA).toHaveLength(1);
    expect(onA[0]).toMatchObject({ authorEmail: 'ed@example.com', ip: '198.51.100.1', articleSlug: a.slug, status: 'pending' });
    expect((await adminRequest(t, 'GET', `/v1/admin/responses?article=${a.id}`)).json().data).toHaveLength(1);
    expect((await adminRequest(t, 'PATCH', `/v1/admin/responses/${onA[0].id}`, { status: 'published' })).statusCode).toBe(400);
    expect((await adminRequest(t, 'PATCH', '/v1/admin/responses/999999', { status: 'approved' })).statusCode).toBe(404);
    expect((await adminRequest(t, 'GET', '/v1/admin/responses?status=nope')).statusCode).toBe(400);
    for (const [method, url] of [['GET', '/v1/admin/responses'], ['PATCH', '/v1/admin/responses/1'], ['DELETE', '/v1/admin/responses/1']] as const) {
      expect((await t.app.inject({ method, url, payload: method === 'PATCH' ? { status: 'approved' } : undefined })).statusCode).toBe(401);
    }
  });
});

describe('behind a reverse proxy', () => {
  it('keys the flood limit on X-Forwarded-For only when TRUST_PROXY names the proxy', async () => {
    for (const [trustProxy, expected] of [
      [false, [201, 429]],
      [['127.0.0.1'], [201, 201]],
    ] as const) {
      const t = await appWith({ commentMinIntervalSeconds: 30, commentModeration: 'open', trustProxy: trustProxy as false | string[] });
      const a = await createArticle(t, { title: `Proxy ${String(trustProxy)}` });
      const codes: number[] = [];
      for (const reader of ['203.0.113.1', '203.0.113.2']) {
        const res = await t.app.inject({
          method: 'POST',
          url: `/v1/articles/${a.slug}/comments`,
          remoteAddress: '127.0.0.1',
          headers: { 'x-forwarded-for': reader },
          payload: { authorName: 'R', authorEmail: `${reader}@example.com`, body: `from ${reader}` },
        });
        codes.push(res.statusCode);
      }
      expect(codes, `trustProxy ${JSON.stringify(trustProxy)}`).toEqual(expected);
    }
  });
});
