// Receiving a pingback: verification of the source, what is stored, moderation, limits.
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { responses } from '../../../src/comments/responses.table.ts';
import { parseMethodResponse, XmlRpcFault } from '../../../src/linkbacks/xmlrpc/xmlrpc.codec.ts';
import { createTestApp, type TestApp, perMinute } from '../../helpers/app.ts';
import { html, startFakeBlog, type FakeBlog } from '../../helpers/fake-blogs.ts';
import { NO_LIMIT, pingCall, postXml, publish } from '../support.ts';

let t: TestApp;
let blog: FakeBlog;

/** pingback.ping through the endpoint: the success string, or the fault code. */
async function ping(app: TestApp, source: string, target: string): Promise<string | number> {
  const res = await postXml(app, pingCall(source, target));
  expect(res.statusCode).toBe(200);
  try {
    return (await parseMethodResponse(res.body)) as string;
  } catch (e) {
    if (e instanceof XmlRpcFault) return e.faultCode;
    throw e;
  }
}

const mention = async (app: TestApp, articleId: number, source: string) =>
  (await app.database.db.select().from(responses).where(and(eq(responses.articleId, articleId), eq(responses.sourceUrl, source))))[0];

beforeAll(async () => {
  blog = await startFakeBlog();
  t = await createTestApp({ outboundAllowPrivate: true, commentModeration: 'first-time', rateLimitWrites: NO_LIMIT });
});
afterAll(async () => {
  await t.close();
  await blog.close();
});

describe('verifying the source', () => {
  it('follows a few redirects, matches relative and entity-encoded links, and keeps the final excerpt', async () => {
    const a = await publish(t, { title: 'Redirected to' });
    const path = new URL(a.url).pathname;
    blog.page('/old', { status: 301, headers: { location: '/new' } });
    blog.page('/new', {
      body: `<html><head><title>\n  A   spaced\ttitle \u0007</title><base href="http://blog.test/"></head><body>
        <ul><li>first item</li><li>See <a href="${path.slice(1)}">the <em>article</em></a> — good.</li></ul></body></html>`,
    });
    expect(await ping(t, blog.url('/old'), a.url)).toMatch(/registered/);
    const row = await mention(t, a.id, blog.url('/old'));
    expect(row.authorName).toBe('A spaced title');
    expect(row.html).toBe('<p>[…] See the article — good. […]</p>');
  });

  it('does not count links in comments, scripts, escaped markup or images as links', async () => {
    const a = await publish(t, { title: 'Hidden links' });
    blog.page('/hidden', {
      body: html(`<!-- <a href="${a.url}">x</a> --><script>document.write('<a href="${a.url}">')</script>
        <code>&lt;a href="${a.url}"&gt;</code><img src="${a.url}"><p>${a.url}</p>`),
    });
    expect(await ping(t, blog.url('/hidden'), a.url)).toBe(0x11);
  });

  it('names a source without a title after its host, and finds the target in plain text', async () => {
    const a = await publish(t, { title: 'Plain' });
    blog.page('/plain.txt', { headers: { 'content-type': 'text/plain; charset=utf-8' }, body: `Notes.\nRead ${a.url} today.\n` });
    expect(await ping(t, blog.url('/plain.txt'), a.url)).toMatch(/registered/);
    const row = await mention(t, a.id, blog.url('/plain.txt'));
    expect(row.authorName).toBe(new URL(blog.origin).host);
    expect(row.html).toBe(`<p>[…] Notes. Read ${a.url} today. […]</p>`);
  });

  it('escapes what it stores: the page cannot inject markup', async () => {
    const a = await publish(t, { title: 'Escaped' });
    blog.page('/xss', { body: html(`<p>&lt;img src=x onerror=alert(1)&gt; <a href="${a.url}">"quoted" &amp; more</a></p>`, { title: '<script>alert(1)</script>' }) });
    expect(await ping(t, blog.url('/xss'), a.url)).toMatch(/registered/);
    const row = await mention(t, a.id, blog.url('/xss'));
    expect(row.html).toBe('<p>[…] &lt;img src=x onerror=alert(1)&gt; &quot;quoted&quot; &amp; more […]</p>');
    expect(row.authorName).toBe('<script>alert(1)</script>'); // plain text: the API and frontend escape it when rendering
  });

  it('accepts an old slug of a renamed article and a permalink without its trailing slash', async () => {
    const a = await publish(t, { title: 'Old name' });
    const renamed = await t.app.inject({ method: 'PATCH', url: `/v1/admin/articles/${a.id}`, headers: t.auth, payload: { slug: 'new-name' } });
    expect(renamed.statusCode).toBe(200);
    blog.page('/to-old', { body: html(`<p><a href="${a.url}">old link</a></p>`) });
    expect(await ping(t, blog.url('/to-old'), a.url)).toMatch(/registered/);
    const b = await publish(t, { title: 'No slash' });
    const bare = b.url.replace(/\/$/, '');
    blog.page('/bare', { body: html(`<p><a href="${bare}">bare</a></p>`) });
    expect(await ping(t, blog.url('/bare'), bare)).toMatch(/registered/);
  });

  it('refuses a repeat (0x30) from what is stored, without fetching the source again', async () => {
    // mentions of other articles first, so no response id happens to equal this article's id
    const other = await publish(t, { title: 'Pinged before' });
    for (const n of [1, 2]) {
      blog.page(`/before-${n}`, { body: html(`<p><a href="${other.url}">earlier</a></p>`) });
      expect(await ping(t, blog.url(`/before-${n}`), other.url)).toMatch(/registered/);
    }
    const a = await publish(t, { title: 'Pinged twice' });
    blog.page('/twice', { body: html(`<p>Read <a href="${a.url}">this</a>.</p>`) });
    expect(await ping(t, blog.url('/twice'), a.url)).toMatch(/registered/);
    expect(await ping(t, blog.url('/twice'), a.url)).toBe(0x30);
    expect(await ping(t, blog.url('/twice#again'), `${a.url}#comments`)).toBe(0x30);
    expect(blog.requestsTo('/twice')).toHaveLength(1);
    // the same page may still mention another article
    blog.page('/twice', { body: html(`<p>Read <a href="${a.url}">this</a> and <a href="${other.url}">that</a>.</p>`) });
    expect(await ping(t, blog.url('/twice'), other.url)).toMatch(/registered/);
    expect(blog.requestsTo('/twice')).toHaveLength(2);
  });

  it('refuses a ping whose source is the target itself, and sources that are not http(s)', async () => {
    const a = await publish(t, { title: 'Self' });
    expect(await ping(t, a.url, a.url)).toBe(0);
    expect(await ping(t, 'file:///etc/passwd', a.url)).toBe(0x10);
    expect(await ping(t, 'http://user:secret@example.com/', a.url)).toBe(0x10);
  });

  it('refuses a source or target longer than 2,048 characters before parsing it, without fetching', async () => {
    const a = await publish(t, { title: 'Long addresses' });
    const padded = (url: string, length: number) => `${url}?${'x'.repeat(length - url.length - 1)}`;
    blog.page('/long', { body: html(`<a href="${padded(a.url, 2048)}">here</a>`) });
    const before = blog.connections();
    // the 63 KB source that held the event loop for seconds: a run of dots inside the host name
    expect(await ping(t, `http://a${'.'.repeat(63_000)}b/x`, a.url)).toBe(0x10);
    expect(await ping(t, padded(blog.url('/long'), 2049), a.url)).toBe(0x10);
    expect(await ping(t, blog.url('/long'), padded(a.url, 2049))).toBe(0x21);
    expect(blog.connections() - before).toBe(0);
    // 2,048 is still fine
    expect(await ping(t, padded(blog.url('/long'), 2048), padded(a.url, 2048))).toMatch(/^Pingback from /);
  });
});

describe('moderation (COMMENT_MODERATION)', () => {
  it('first-time: holds the first mention from a site, approves the next once one is approved', async () => {
    const a = await publish(t, { title: 'Moderated' });
    for (const p of ['/m1', '/m2']) blog.page(p, { body: html(`<p><a href="${a.url}">link</a></p>`) });
    expect(await ping(t, blog.url('/m1'), a.url)).toMatch(/awaiting moderation/);
    const first = await mention(t, a.id, blog.url('/m1'));
    expect(first.status).toBe('pending');
    await t.database.db.update(responses).set({ status: 'approved' }).where(eq(responses.id, first.id));
    expect(await ping(t, blog.url('/m2'), a.url)).not.toMatch(/awaiting/);
    expect((await mention(t, a.id, blog.url('/m2'))).status).toBe('approved');
  });

  it('manual holds everything; open approves everything', async () => {
    for (const policy of ['manual', 'open'] as const) {
      const app = await createTestApp({ outboundAllowPrivate: true, commentModeration: policy, rateLimitWrites: NO_LIMIT }, { database: t.database });
      try {
        const a = await publish(app, { title: `Policy ${policy}` });
        blog.page(`/p-${policy}`, { body: html(`<p><a href="${a.url}">link</a></p>`) });
        await ping(app, blog.url(`/p-${policy}`), a.url);
        expect((await mention(app, a.id, blog.url(`/p-${policy}`))).status).toBe(policy === 'manual' ? 'pending' : 'approved');
      } finally {
        await app.close();
      }
    }
  });
});

describe('the guard with OUTBOUND_ALLOW_PRIVATE off', () => {
  it('never fetches a private source, and says so in the same words as any unreachable one', async () => {
    const guarded = await createTestApp({ outboundAllowPrivate: false, rateLimitWrites: NO_LIMIT }, { database: t.database });
    try {
      const a = await publish(guarded, { title: 'Guarded' });
      blog.page('/private', { body: html(`<p><a href="${a.url}">link</a></p>`) });
      const before = blog.connections();
      const sources = [blog.url('/private'), `http://localhost:${blog.port}/private`, `http://[::1]:${blog.port}/`, `http://2130706433:${blog.port}/`, 'http://169.254.169.254/latest/meta-data/'];
      const answers = await Promise.all(sources.map((s) => postXml(guarded, pingCall(s, a.url)).then((r) => r.body)));
      expect(blog.connections()).toBe(before);
      const faults = new Set(answers);
      expect(faults.size).toBe(1);
      expect([...faults][0]).toContain('<int>16</int>');
    } finally {
      await guarded.close();
    }
  });
});

describe('rate limits', () => {
  it('limits pings per target article, across clients', async () => {
    const app = await createTestApp({ outboundAllowPrivate: true, rateLimitWrites: perMinute(2) }, { database: t.database });
    try {
      const a = await publish(app, { title: 'Popular' });
      const b = await publish(app, { title: 'Quiet' });
      for (const p of ['/r1', '/r2', '/r3']) blog.page(p, { body: html(`<p><a href="${a.url}">a</a> <a href="${b.url}">b</a></p>`) });
      const from = (ip: string, s: string, target: string) =>
        app.app.inject({ method: 'POST', url: '/xmlrpc', remoteAddress: ip, headers: { 'content-type': 'text/xml' }, payload: pingCall(blog.url(s), target) });
      expect((await from('192.0.2.1', '/r1', a.url)).body).toMatch(/registered/);
      expect((await from('192.0.2.2', '/r2', a.url)).body).toMatch(/registered/);
      const third = await from('192.0.2.3', '/r3', a.url);
      expect(third.body).toContain('<int>49</int>');
      expect(third.headers['retry-after']).toBeDefined();
      expect((await from('192.0.2.3', '/r3', b.url)).body).toMatch(/registered/); // another article has its own budget
    } finally {
      await app.close();
    }
  });
});
