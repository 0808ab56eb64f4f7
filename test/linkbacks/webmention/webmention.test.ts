// Receiving Webmentions: the synchronous checks, 202 + status resource, the verification
// job, updates and deletes, limits.
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { responses } from '../../../src/comments/responses.table.ts';
import { WEBMENTION_MAX_ATTEMPTS } from '../../../src/linkbacks/webmention/webmention.service.ts';
import { createTestApp, type TestApp, perMinute } from '../../helpers/app.ts';
import { html, startFakeBlog, type FakeBlog } from '../../helpers/fake-blogs.ts';
import { NO_LIMIT, publish } from '../support.ts';

let t: TestApp;
let blog: FakeBlog;
let article: { id: number; slug: string; url: string };

const send = (app: TestApp, form: Record<string, string>, remoteAddress?: string) =>
  app.app.inject({
    method: 'POST',
    url: '/webmention',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(form).toString(),
    ...(remoteAddress ? { remoteAddress } : {}),
  });

/** Sends, checks the 202, runs the verification job, and returns the final status resource. */
async function sendAndVerify(app: TestApp, source: string, target: string) {
  const res = await send(app, { source, target });
  expect(res.statusCode, res.body).toBe(202);
  await app.services.jobs.drainDue();
  const status = await app.app.inject({ method: 'GET', url: new URL(res.headers.location as string).pathname });
  return status.json();
}

const mentionsOf = (app: TestApp, articleId: number) => app.database.db.select().from(responses).where(eq(responses.articleId, articleId));

beforeAll(async () => {
  blog = await startFakeBlog();
  t = await createTestApp({ outboundAllowPrivate: true, commentModeration: 'open', rateLimitWrites: NO_LIMIT });
  article = await publish(t, { title: 'Mentioned' });
});
afterAll(async () => {
  await t.close();
  await blog.close();
});

describe('synchronous checks', () => {
  it('answers 400 with the reason for every request it cannot accept', async () => {
    const closed = await publish(t, { title: 'Closed', pingsOpen: false });
    const draft = await t.app.inject({ method: 'POST', url: '/v1/admin/articles', headers: t.auth, payload: { title: 'Draft', markdown: 'x', status: 'draft' } });
    const draftUrl = `http://blog.test/${draft.json().slug}/`;
    const src = blog.url('/post');
    const cases: [Record<string, string>, RegExp][] = [
      [{ target: article.url }, /source/],
      [{ source: src }, /target/],
      [{ source: 'not a url', target: article.url }, /source must be an absolute http\(s\) URL/],
      [{ source: 'ftp://example.com/post', target: article.url }, /source must be an absolute http\(s\) URL/],
      [{ source: 'http://user:pw@example.com/post', target: article.url }, /without credentials/],
      [{ source: src, target: 'nope' }, /target must be an absolute URL/],
      [{ source: article.url, target: `${article.url}#comments` }, /must be different/],
      [{ source: src, target: 'http://elsewhere.test/post/' }, /not a page of this site/],
      [{ source: src, target: 'http://blog.test/' }, /not a page of this site/],
      [{ source: src, target: 'http://blog.test/no-such-article/' }, /not a published article/],
      [{ source: src, target: draftUrl }, /not a published article/],
      [{ source: src, target: closed.url }, /does not accept webmentions/],
    ];
    for (const [form, reason] of cases) {
      const res = await send(t, form);
      expect(res.statusCode, JSON.stringify(form)).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json().detail, JSON.stringify(form)).toMatch(reason);
    }
    expect(blog.requests).toHaveLength(0); // nothing was fetched for any of them
  });
});

describe('verification', () => {
  it('accepts with 202 and a status resource, then verifies in the background', async () => {
    blog.page('/post', { body: html(`<p>I enjoyed <a href="${article.url}">this article</a> a lot.</p>`, { title: 'A reply' }) });
    const res = await send(t, { source: blog.url('/post'), target: article.url });
    expect(res.statusCode).toBe(202);
    const location = res.headers.location as string;
    expect(location).toMatch(/^http:\/\/api\.test\/webmention\/[A-Za-z0-9_-]{22}$/);
    expect(res.json()).toMatchObject({ status: 'queued', source: blog.url('/post'), target: article.url, detail: null });
    const path = new URL(location).pathname;
    expect((await t.app.inject({ method: 'GET', url: path })).json().status).toBe('queued');
    expect(blog.requestsTo('/post')).toHaveLength(0); // nothing fetched inside the request

    await t.services.jobs.drainDue();
    const status = (await t.app.inject({ method: 'GET', url: path })).json();
    expect(status).toMatchObject({ status: 'accepted', detail: 'The mention was recorded.' });
    expect(blog.requestsTo('/post')[0].headers['user-agent']).toMatch(/^Inkwell\/.*Webmention/);
    const [row] = await mentionsOf(t, article.id);
    expect(row).toMatchObject({ type: 'webmention', status: 'approved', authorName: 'A reply', authorUrl: blog.url('/post'), sourceUrl: blog.url('/post') });
    expect(row.html).toBe('<p>[…] I enjoyed this article a lot. […]</p>');
  });

  it('re-verifies a repeat and updates the mention; a source that stops linking or answers 410 removes it', async () => {
    const a = await publish(t, { title: 'Updated later' });
    blog.page('/changing', { body: html(`<p>First take on <a href="${a.url}">it</a>.</p>`, { title: 'Take one' }) });
    expect((await sendAndVerify(t, blog.url('/changing'), a.url)).status).toBe('accepted');
    blog.page('/changing', { body: html(`<p>Second take on <a href="${a.url}">it</a>.</p>`, { title: 'Take two' }) });
    expect(await sendAndVerify(t, blog.url('/changing'), a.url)).toMatchObject({ status: 'accepted', detail: 'The mention was updated.' });
    const rows = await mentionsOf(t, a.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ authorName: 'Take two', html: '<p>[…] Second take on it. […]</p>' });

    blog.page('/changing', { body: html('<p>I take it all back.</p>') });
    expect(await sendAndVerify(t, blog.url('/changing'), a.url)).toMatchObject({ status: 'removed', detail: 'The source does not link to the target; the earlier mention was removed.' });
    expect(await mentionsOf(t, a.id)).toHaveLength(0);

    blog.page('/changing', { body: html(`<p>Back to <a href="${a.url}">it</a>.</p>`) });
    expect((await sendAndVerify(t, blog.url('/changing'), a.url)).status).toBe('accepted');
    blog.page('/changing', { status: 410, body: 'deleted' });
    expect(await sendAndVerify(t, blog.url('/changing'), a.url)).toMatchObject({ status: 'removed', detail: 'The source answered 410 Gone; the earlier mention was removed.' });
    expect(await mentionsOf(t, a.id)).toHaveLength(0);
  });

  it('counts an image of the target as a mention; rejects a source without it, a 404 and a non-text source', async () => {
    const a = await publish(t, { title: 'Pictured' });
    blog.page('/photo', { body: html(`<p>Look: <img src="${a.url}" alt="their page"></p>`, { title: 'Photo' }) });
    expect((await sendAndVerify(t, blog.url('/photo'), a.url)).status).toBe('accepted');
    blog.page('/unrelated', { body: html('<p>Nothing here.</p>') });
    expect(await sendAndVerify(t, blog.url('/unrelated'), a.url)).toMatchObject({ status: 'rejected', detail: 'The source does not link to the target.' });
    expect(await sendAndVerify(t, blog.url('/nowhere'), a.url)).toMatchObject({ status: 'rejected', detail: 'The source answered 404.' });
    blog.page('/data.json', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ link: a.url }) });
    expect((await sendAndVerify(t, blog.url('/data.json'), a.url)).status).toBe('rejected');
    expect((await mentionsOf(t, a.id)).map((r) => r.sourceUrl)).toEqual([blog.url('/photo')]);
  });

  it('retries an unreachable source, then rejects it in words that reveal nothing about the network', async () => {
    const a = await publish(t, { title: 'Unreachable' });
    const gone = await startFakeBlog();
    const source = gone.url('/post');
    await gone.close();
    const res = await send(t, { source, target: a.url });
    const path = new URL(res.headers.location as string).pathname;
    for (let attempt = 1; attempt <= WEBMENTION_MAX_ATTEMPTS; attempt++) {
      await t.database.db.execute(sql`update jobs set run_at = now() where kind = 'webmention.verify' and status = 'queued'`);
      await t.services.jobs.drainDue();
      const status = (await t.app.inject({ method: 'GET', url: path })).json();
      if (attempt < WEBMENTION_MAX_ATTEMPTS) expect(status).toMatchObject({ status: 'queued', detail: 'The source could not be retrieved. Trying again later.' });
      else expect(status).toMatchObject({ status: 'rejected', detail: 'The source could not be retrieved.' });
    }
  });

  it('with OUTBOUND_ALLOW_PRIVATE off, never fetches a private source', async () => {
    const guarded = await createTestApp({ outboundAllowPrivate: false, rateLimitWrites: NO_LIMIT }, { database: t.database });
    try {
      const a = await publish(guarded, { title: 'Guarded' });
      blog.page('/private', { body: html(`<a href="${a.url}">x</a>`) });
      const before = blog.connections();
      const res = await send(guarded, { source: blog.url('/private'), target: a.url });
      expect(res.statusCode).toBe(202);
      const path = new URL(res.headers.location as string).pathname;
      for (let i = 0; i < WEBMENTION_MAX_ATTEMPTS; i++) {
        await guarded.database.db.execute(sql`update jobs set run_at = now() where kind = 'webmention.verify' and status = 'queued'`);
        await guarded.services.jobs.drainDue();
      }
      expect((await guarded.app.inject({ method: 'GET', url: path })).json()).toMatchObject({ status: 'rejected', detail: 'The source could not be retrieved.' });
      expect(blog.connections()).toBe(before);
      // a localhost name is refused at once
      const local = await send(guarded, { source: `http://localhost.:${blog.port}/private`, target: a.url });
      expect(local.statusCode).toBe(400);
    } finally {
      await guarded.close();
    }
  });
});

describe('status resources and limits', () => {
  it('answers 404 for an unknown status id and 400 for a malformed one', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/webmention/AAAAAAAAAAAAAAAAAAAAAA' })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'GET', url: '/webmention/%3Cscript%3E' })).statusCode).toBe(400);
  });

  it('answers 429 with Retry-After beyond the per-client and per-target limits', async () => {
    const app = await createTestApp({ outboundAllowPrivate: true, rateLimitWrites: perMinute(2) }, { database: t.database });
    try {
      const a = await publish(app, { title: 'Limited' });
      const b = await publish(app, { title: 'Limited too' });
      const one = (ip: string, target: string) => send(app, { source: blog.url(`/from-${ip}`), target }, ip);
      // per target: three clients, one article
      expect((await one('198.51.100.1', a.url)).statusCode).toBe(202);
      expect((await one('198.51.100.2', a.url)).statusCode).toBe(202);
      const third = await one('198.51.100.3', a.url);
      expect(third.statusCode).toBe(429);
      expect(third.headers['retry-after']).toBeDefined();
      expect(third.json().detail).toMatch(/for this article/);
      // per client: its budget is the public-write budget, whatever the target
      expect((await one('198.51.100.3', b.url)).statusCode).toBe(202);
      const fourth = await one('198.51.100.3', b.url);
      expect(fourth.statusCode).toBe(429);
      expect(fourth.headers['retry-after']).toBeDefined();
    } finally {
      await app.close();
    }
  });

  it('caps the body', async () => {
    const res = await send(t, { source: blog.url('/x'), target: article.url, filler: 'x'.repeat(20 * 1024) });
    expect(res.statusCode).toBe(413);
  });
});
