// The editor's view: GET /v1/admin/announcements and POST …/{id}/retry.
import { sql } from 'drizzle-orm';
import { beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { type FakeX, FAKE_CREDENTIALS, X } from '../helpers/fake-x.ts';
import { announcementOf, letTimePass, useAppWithFakeX } from './support.ts';
import { publishArticle } from '../helpers/factories.ts';

let fake: FakeX;
let t: TestApp;

useAppWithFakeX((f, a) => ((fake = f), (t = a)));
beforeEach(async () => {
  await t.database.db.execute(sql`delete from jobs where kind = 'announce.x'`);
  await t.database.db.execute(sql`delete from announcements`);
  await t.database.db.execute(sql`delete from announcement_networks`);
  fake.reset();
  fake.credentials = FAKE_CREDENTIALS;
});

const list = (query = '') => t.app.inject({ method: 'GET', url: `/v1/admin/announcements${query}`, headers: t.auth });
const retry = (id: number | string) => t.app.inject({ method: 'POST', url: `/v1/admin/announcements/${id}/retry`, headers: t.auth });
const drain = () => t.services.jobs.drainDue();

function expectProblem(res: { statusCode: number; headers: Record<string, unknown>; json(): any }, status: number, detail?: RegExp) {
  expect(res.statusCode).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = res.json();
  expect(body).toMatchObject({ status, type: expect.stringMatching(/^\/problems\//), title: expect.any(String), detail: expect.any(String) });
  if (detail) expect(body.detail).toMatch(detail);
}

describe('GET /v1/admin/announcements', () => {
  it('needs the admin token', async () => {
    expectProblem(await t.app.inject({ method: 'GET', url: '/v1/admin/announcements' }), 401);
    expectProblem(await t.app.inject({ method: 'POST', url: '/v1/admin/announcements/1/retry' }), 401);
  });

  it('tells, for every announced article, whether and where it was posted or why not', async () => {
    const posted = await publishArticle(t.services, { title: 'Went out' });
    await drain();
    const refused = await publishArticle(t.services, { title: 'Refused by X' });
    fake.script(X.forbidden('You are not permitted to create this Tweet.'));
    await drain();
    const waiting = await publishArticle(t.services, { title: 'Waiting' });
    fake.script(X.unavailableHtml());
    await drain();

    const res = await list();
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json();
    expect(body.meta.pagination).toEqual({ page: 1, limit: 50, pages: 1, total: 3, next: null, prev: null, nextCursor: null });
    const idle = { pausedReason: null, pausedAt: null, holdUntil: null, holdReason: null };
    expect(body.meta.sending).toEqual({ x: { configured: true, ...idle }, mastodon: { configured: false, ...idle }, bluesky: { configured: false, ...idle } });
    const byArticle = new Map(body.data.map((a: any) => [a.articleId, a]));
    expect(byArticle.get(posted.id)).toMatchObject({
      articleSlug: posted.slug,
      articleTitle: 'Went out',
      network: 'x',
      text: `Went out https://blog.example.com/${posted.slug}/`,
      weightedLength: 8 + 1 + 23,
      status: 'posted',
      attempts: 1,
      ambiguous: false,
      lastError: null,
      tweetId: fake.posts[0].id,
      url: `https://x.com/inkwellblog/status/${fake.posts[0].id}`,
      nextAttemptAt: null,
      postedAt: expect.any(String),
    });
    expect(byArticle.get(refused.id)).toMatchObject({ status: 'failed', lastError: expect.stringMatching(/HTTP 403: You are not permitted/), tweetId: null, url: null });
    expect(byArticle.get(waiting.id)).toMatchObject({
      status: 'queued',
      ambiguous: true,
      attempts: 1,
      nextAttemptAt: expect.any(String),
      lastError: expect.stringMatching(/HTTP 503/),
    });
    // newest first
    expect(body.data.map((a: any) => a.articleId)).toEqual([waiting.id, refused.id, posted.id]);
  });

  it('filters by status and by article, pages, and refuses unknown values', async () => {
    const a = await publishArticle(t.services, { title: 'A' });
    await publishArticle(t.services, { title: 'B' });
    await drain();
    fake.script(X.tooLong());
    await publishArticle(t.services, { title: 'C' });
    await drain();

    const failed = (await list('?status=failed')).json();
    expect(failed.data.map((x: any) => x.articleTitle)).toEqual(['C']);
    expect((await list('?status=posted')).json().meta.pagination.total).toBe(2);
    expect((await list(`?article=${a.id}`)).json().data.map((x: any) => x.articleId)).toEqual([a.id]);
    const page2 = (await list('?limit=2&page=2')).json();
    expect(page2.data).toHaveLength(1);
    expect(page2.meta.pagination).toMatchObject({ page: 2, pages: 2, total: 3, next: null, prev: 1 });
    expectProblem(await list('?status=bogus'), 400);
    expectProblem(await list('?limit=0'), 400);
    expectProblem(await list('?colour=red'), 400);
  });

  it('shows why sending is paused or held', async () => {
    fake.credentials = { ...FAKE_CREDENTIALS, appSecret: 'revoked' };
    await publishArticle(t.services, { title: 'Paused' });
    await drain();
    const body = (await list()).json();
    expect(body.data[0]).toMatchObject({ status: 'paused', lastError: expect.stringMatching(/X refused the credentials/) });
    expect(body.meta.sending.x).toMatchObject({ configured: true, pausedReason: expect.stringMatching(/HTTP 401/), pausedAt: expect.any(String) });
  });
});

describe('POST /v1/admin/announcements/{id}/retry', () => {
  it('requeues a failed announcement with the same text; it is then posted', async () => {
    const a = await publishArticle(t.services, { title: 'Second chance' });
    fake.script(X.forbidden('Try later'));
    await drain();
    const row = await announcementOf(t.database.db, a.id);
    expect(row.status).toBe('failed');

    const res = await retry(row.id);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: row.id, status: 'queued', text: row.text, attempts: 1 });
    await drain();
    expect(await announcementOf(t.database.db, a.id)).toMatchObject({ status: 'posted', attempts: 2 });
    expect(fake.posts.map((p) => p.text)).toEqual([row.text]);
  });

  it('a posted announcement answers 409: a retry would post it twice', async () => {
    const a = await publishArticle(t.services, { title: 'Done already' });
    await drain();
    const row = await announcementOf(t.database.db, a.id);
    expectProblem(await retry(row.id), 409, /already posted \(https:\/\/x\.com\/inkwellblog\/status\/\d+\); retrying would post it twice/);
    expect(fake.posts).toHaveLength(1);
  });

  it('a queued one answers 409; an unknown id 404; a bad id 400', async () => {
    const a = await publishArticle(t.services, { title: 'In the queue' });
    const row = await announcementOf(t.database.db, a.id);
    expectProblem(await retry(row.id), 409, /already queued/);
    expectProblem(await retry(999_999), 404);
    expectProblem(await retry('abc'), 400);
  });

  it('retrying a paused one lifts the pause (the credentials were fixed), and the others follow', async () => {
    fake.credentials = { ...FAKE_CREDENTIALS, accessSecret: 'wrong-for-now' };
    const a = await publishArticle(t.services, { title: 'Paused A' });
    const b = await publishArticle(t.services, { title: 'Paused B' });
    await drain();
    const rowA = await announcementOf(t.database.db, a.id);
    expect(rowA.status).toBe('paused');

    fake.credentials = FAKE_CREDENTIALS; // fixed on X's side (e.g. the app got its permissions back)
    const res = await retry(rowA.id);
    expect(res.statusCode).toBe(200);
    expect(res.json().status).toBe('queued');
    expect((await list()).json().meta.sending.x.pausedReason).toBeNull();
    await drain();
    expect((await announcementOf(t.database.db, a.id)).status).toBe('posted');
    expect((await announcementOf(t.database.db, b.id)).status).toBe('posted');
    expect(fake.posts).toHaveLength(2);
  });

  it('an expired one gets a fresh deadline; an unpublished article’s answers 409', async () => {
    const a = await publishArticle(t.services, { title: 'Late', publishedAt: new Date(Date.now() - 100 * 3_600_000) });
    const row = await announcementOf(t.database.db, a.id);
    expect(row.status).toBe('expired');
    const res = await retry(row.id);
    expect(res.statusCode).toBe(200);
    expect(new Date(res.json().expiresAt).getTime()).toBeGreaterThan(Date.now() + 47 * 3_600_000);
    await drain();
    expect((await announcementOf(t.database.db, a.id)).status).toBe('posted');

    const b = await publishArticle(t.services, { title: 'Gone', publishedAt: new Date(Date.now() - 100 * 3_600_000) });
    await t.database.db.execute(sql`update articles set status = 'draft' where id = ${b.id}`);
    expectProblem(await retry((await announcementOf(t.database.db, b.id)).id), 409, /not published/);
  });

  it('without credentials a skipped one answers 409', async () => {
    const bare = await createTestApp({ siteUrl: 'https://blog.example.com' }, { database: t.database });
    try {
      const a = await publishArticle(bare.services, { title: 'No keys' });
      const row = await announcementOf(t.database.db, a.id);
      expect(row.status).toBe('skipped');
      const res = await bare.app.inject({ method: 'POST', url: `/v1/admin/announcements/${row.id}/retry`, headers: bare.auth });
      expectProblem(res, 409, /No X credentials/);
      // with credentials (a restart), the editor can announce it after all
      const ok = await retry(row.id);
      expect(ok.statusCode).toBe(200);
      await letTimePass(t.database.db);
      await drain();
      expect((await announcementOf(t.database.db, a.id)).status).toBe('posted');
    } finally {
      await bare.close();
    }
  });
});
