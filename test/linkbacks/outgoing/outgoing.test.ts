// Sending: publishing an article through the admin API queues one ping per external
// link; the job discovers each page's endpoint and pings it. The remote blogs are
// independent peers: Python's http.server + xmlrpc.server, and node fixtures.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/app.ts';
import { html, startFakeBlog, startPythonBlog, type FakeBlog, type PythonBlog } from '../../helpers/fake-blogs.ts';
import { NO_LIMIT, publish } from '../support.ts';

let t: TestApp;
let py: PythonBlog;
let node: FakeBlog;
let flaky = 0;

const page = (head = '') => ({ body: `<html><head><title>Remote</title>${head}</head><body><p>remote</p></body></html>` });

beforeAll(async () => {
  py = await startPythonBlog({
    pages: {
      '/wm-post': { headers: { Link: '<{origin}/webmention?token=abc>; rel="webmention"' }, body: '<p>webmention here</p>' },
      '/pb-post': { headers: { 'X-Pingback': '{origin}/xmlrpc' }, body: '<p>pingback by header</p>' },
      '/pb-link': page('<link rel="pingback" href="{origin}/xmlrpc">'),
      '/pb-new': page('<link rel="pingback" href="{origin}/xmlrpc">'),
      '/pb-removed': { headers: { 'X-Pingback': '{origin}/xmlrpc' }, body: '<p>soon unlinked</p>' },
      '/dup-post': { headers: { 'X-Pingback': '{origin}/xmlrpc' }, body: '<p>already pinged</p>' },
      '/refusing-post': { headers: { 'X-Pingback': '{origin}/xmlrpc' }, body: '<p>refuses</p>' },
      '/plain': { body: '<p>no endpoints at all</p>' },
    },
    faults: { '/dup-post': 48, '/refusing-post': 17 },
  });
  node = await startFakeBlog();
  node.page('/flaky', { body: html('', { head: '<link rel="webmention" href="/flaky/endpoint">' }) });
  node.page('/flaky/endpoint', (_req, res) => {
    flaky++;
    res.writeHead(flaky === 1 ? 503 : 202, { 'content-type': 'text/plain' }).end(flaky === 1 ? 'busy' : 'accepted');
  });
  t = await createTestApp({ outboundAllowPrivate: true, rateLimitWrites: NO_LIMIT });
});
afterAll(async () => {
  await t.close();
  await py.close();
  await node.close();
});

const pings = async (query = '') => {
  const res = await t.app.inject({ method: 'GET', url: `/v1/admin/pings${query}`, headers: t.auth });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { data: Record<string, any>[]; meta: { pagination: Record<string, number | null> } };
};
const byTarget = (rows: Record<string, any>[]) => Object.fromEntries(rows.map((r) => [r.target, r]));

describe('publishing an article pings the pages it links to', () => {
  let article: { id: number; slug: string; url: string };

  it('queues one row per external link in the publishing transaction', async () => {
    article = await publish(t, {
      title: 'A linking article',
      markdown: [
        `See [a webmention page](${py.url('/wm-post')}), [a pingback page](${py.url('/pb-post')}) and [another](${py.url('/pb-link')}).`,
        `Also [dup](${py.url('/dup-post')}), [refusing](${py.url('/refusing-post')}), [plain](${py.url('/plain')}), [flaky](${node.url('/flaky')}) and [soon gone](${py.url('/pb-removed')}).`,
        `Not pinged: [us](http://blog.test/other/), [relative](/about/), [mail](mailto:a@b.example), [twice](${py.url('/wm-post')}).`,
      ].join('\n\n'),
    });
    const { data } = await pings(`?article=${article.id}`);
    expect(data.map((r) => r.target).sort()).toEqual(
      [py.url('/wm-post'), py.url('/pb-post'), py.url('/pb-link'), py.url('/dup-post'), py.url('/refusing-post'), py.url('/plain'), node.url('/flaky'), py.url('/pb-removed')].sort(),
    );
    expect(data.every((r) => r.status === 'queued' && r.source === article.url && r.attempts === 0 && r.reason === 'linked')).toBe(true);
  });

  it('discovers Webmention first, else pingback, sends, and records what each answered', async () => {
    await t.services.jobs.drainDue();
    const rows = byTarget((await pings(`?article=${article.id}`)).data);
    expect(rows[py.url('/wm-post')]).toMatchObject({ status: 'sent', protocol: 'webmention', endpoint: py.url('/webmention?token=abc'), result: '202', attempts: 1 });
    expect(rows[py.url('/pb-post')]).toMatchObject({ status: 'sent', protocol: 'pingback', endpoint: py.url('/xmlrpc') });
    expect(rows[py.url('/pb-post')].result).toBe(`Pingback from ${article.url} to ${py.url('/pb-post')} registered.`);
    expect(rows[py.url('/pb-link')]).toMatchObject({ status: 'sent', protocol: 'pingback' });
    expect(rows[py.url('/dup-post')]).toMatchObject({ status: 'sent', result: expect.stringMatching(/^already registered \(fault 48\)/) });
    expect(rows[py.url('/refusing-post')]).toMatchObject({ status: 'failed', lastError: 'the pingback was refused: fault 17 refused by the fixture', attempts: 1 });
    expect(rows[py.url('/plain')]).toMatchObject({ status: 'unsupported', protocol: null });
    expect(rows[node.url('/flaky')]).toMatchObject({ status: 'queued', protocol: 'webmention', attempts: 1, lastError: 'the Webmention endpoint answered 503: busy' });
    expect(new Date(rows[node.url('/flaky')].nextAttemptAt).getTime()).toBeGreaterThan(Date.now());

    const log = await py.log();
    expect(log.webmentions).toEqual([{ path: '/webmention?token=abc', content_type: 'application/x-www-form-urlencoded', source: article.url, target: py.url('/wm-post') }]);
    expect(log.pingbacks.map(([, target]) => target).sort()).toEqual([py.url('/dup-post'), py.url('/pb-link'), py.url('/pb-post'), py.url('/pb-removed'), py.url('/refusing-post')].sort());
    expect(log.pingbacks.every(([source]) => source === article.url)).toBe(true);
  });

  it('retries a transient failure with backoff, and succeeds', async () => {
    await t.database.db.execute(sql`update jobs set run_at = now() where kind = 'ping.send' and status = 'queued'`);
    await t.services.jobs.drainDue();
    const rows = byTarget((await pings(`?article=${article.id}`)).data);
    expect(rows[node.url('/flaky')]).toMatchObject({ status: 'sent', attempts: 2, lastError: null, result: '202', nextAttemptAt: null });
  });

  it('lists by status, and retries on demand', async () => {
    const failed = await pings('?status=failed');
    expect(failed.data.map((r) => r.target)).toEqual([py.url('/refusing-post')]);
    expect(failed.meta.pagination).toMatchObject({ page: 1, total: 1, pages: 1, next: null, prev: null });
    const retried = await t.app.inject({ method: 'POST', url: `/v1/admin/pings/${failed.data[0].id}/retry`, headers: t.auth });
    expect(retried.statusCode).toBe(202);
    expect(retried.json()).toMatchObject({ status: 'queued', attempts: 0, lastError: null });
    await t.services.jobs.drainDue();
    expect((await pings('?status=failed')).data).toHaveLength(1); // refused again, for good
    expect((await py.log()).pingbacks.filter(([, target]) => target === py.url('/refusing-post'))).toHaveLength(2);
    expect((await t.app.inject({ method: 'POST', url: '/v1/admin/pings/999999/retry', headers: t.auth })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'GET', url: '/v1/admin/pings' })).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'GET', url: '/v1/admin/pings?status=bogus', headers: t.auth })).statusCode).toBe(400);
  });

  it('on update, pings added links and tells removed ones (Webmention can withdraw, pingback cannot)', async () => {
    const current = await t.app.inject({ method: 'GET', url: `/v1/admin/articles/${article.id}`, headers: t.auth });
    const markdown = String(current.json().markdown)
      .replace(`[a webmention page](${py.url('/wm-post')})`, 'a page I no longer link')
      .replace(`[twice](${py.url('/wm-post')})`, 'twice')
      .replace(`[soon gone](${py.url('/pb-removed')})`, 'gone')
      .concat(`\n\nNew: [a new page](${py.url('/pb-new')}).`);
    const res = await t.app.inject({ method: 'PATCH', url: `/v1/admin/articles/${article.id}`, headers: t.auth, payload: { markdown } });
    expect(res.statusCode, res.body).toBe(200);
    const queued = byTarget((await pings(`?article=${article.id}&status=queued`)).data);
    expect(Object.keys(queued).sort()).toEqual([py.url('/pb-new'), py.url('/pb-removed'), py.url('/wm-post')].sort());
    expect(queued[py.url('/wm-post')].reason).toBe('unlinked');
    await t.services.jobs.drainDue();
    const rows = byTarget((await pings(`?article=${article.id}`)).data);
    expect(rows[py.url('/pb-new')]).toMatchObject({ status: 'sent', protocol: 'pingback', reason: 'linked' });
    expect(rows[py.url('/wm-post')]).toMatchObject({ status: 'sent', protocol: 'webmention', reason: 'unlinked' });
    expect(rows[py.url('/pb-removed')]).toMatchObject({ status: 'unsupported', protocol: 'pingback', lastError: expect.stringMatching(/no way to withdraw/) });
    const log = await py.log();
    expect(log.webmentions.filter((w) => w.target === py.url('/wm-post'))).toHaveLength(2);
    expect(log.pingbacks.filter(([, target]) => target === py.url('/pb-removed'))).toHaveLength(1); // not pinged again
  });
});

describe('with OUTBOUND_ALLOW_PRIVATE off', () => {
  it('never fetches a linked page on a private address, and says why', async () => {
    const guarded = await createTestApp({ outboundAllowPrivate: false, rateLimitWrites: NO_LIMIT }, { database: t.database });
    try {
      const before = node.connections();
      const a = await publish(guarded, { title: 'Guarded links', markdown: `[x](${node.url('/flaky')}) and [y](http://169.254.169.254/latest/meta-data/)` });
      await guarded.services.jobs.drainDue();
      const res = await guarded.app.inject({ method: 'GET', url: `/v1/admin/pings?article=${a.id}`, headers: guarded.auth });
      const rows = res.json().data as Record<string, any>[];
      expect(rows).toHaveLength(2);
      for (const r of rows) expect(r).toMatchObject({ status: 'failed', lastError: 'the target could not be fetched: its address is not public' });
      expect(node.connections()).toBe(before);
    } finally {
      await guarded.close();
    }
  });
});

