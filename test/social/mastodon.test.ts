// Announcing on Mastodon through the real masto client against a fake instance:
// what the client sends (bearer token, Idempotency-Key, public visibility), and that
// every failure of the table ends in the state an editor should see, with one status.
import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { compose } from '../../src/compose.ts';
import { mastodonLength } from '../../src/social/mastodon/mastodon-text.ts';
import { classifyMastodonFailure } from '../../src/social/mastodon/mastodon-client.ts';
import type { TestApp } from '../helpers/app.ts';
import { countLikeMastodon, MASTODON_ANSWERS, MASTODON_TOKEN, type FakeMastodon } from '../helpers/fake-mastodon.ts';
import { cleanSlate, passTime, rowOf, useAppWithNetworks } from './networks.support.ts';
import { publishArticle } from '../helpers/factories.ts';

let m: FakeMastodon;
let t: TestApp;
useAppWithNetworks((f) => ((m = f.mastodon), (t = f.t)));
const db = () => t.database.db;
const drain = () => t.services.jobs.drainDue();
const again = async () => {
  await passTime(db());
  await drain();
};

beforeEach(async () => {
  await cleanSlate(db());
  m.reset();
});

describe('Mastodon', () => {
  it('posts one public status with the bearer token and the announcement’s Idempotency-Key; stores its id and url', async () => {
    const a = await publishArticle(t.services, { title: 'Hello Mastodon' });
    await drain();
    const row = await rowOf(db(), a.id, 'mastodon');
    expect(m.statuses).toHaveLength(1);
    const [status] = m.statuses;
    expect(status).toMatchObject({ text: `Hello Mastodon https://blog.example.com/${a.slug}/`, visibility: 'public', idempotencyKey: row.remote_key });
    expect(row.remote_key).toMatch(/^inkwell-[0-9a-f-]{36}$/);
    const [req] = m.postRequests;
    expect(req.headers.authorization).toBe(`Bearer ${MASTODON_TOKEN}`);
    expect(req.body).toMatchObject({ status: status.text, visibility: 'public' });
    expect(row).toMatchObject({ status: 'posted', attempts: 1, ambiguous: false, post_id: status.id, url: status.url, last_error: null });
    // no lookup when nothing was ambiguous
    expect(m.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /api/v1/statuses']);
    await again();
    expect(m.statuses).toHaveLength(1);
  });

  it('a lost answer (status made, connection dropped) → the next attempt finds it by its link, no second POST', async () => {
    const a = await publishArticle(t.services, { title: 'Lost answer' });
    m.script({ kind: 'store-then-drop' });
    await drain();
    expect(await rowOf(db(), a.id, 'mastodon')).toMatchObject({ status: 'queued', ambiguous: true, attempts: 1 });
    await again();
    const row = await rowOf(db(), a.id, 'mastodon');
    expect(row).toMatchObject({ status: 'posted', attempts: 2, post_id: m.statuses[0].id, url: m.statuses[0].url });
    expect(row.last_error).toMatch(/found among the account’s statuses by the article’s link/);
    expect(m.statuses).toHaveLength(1);
    expect(m.postRequests).toHaveLength(1);
  });

  it('a 504 before the key was stored (mastodon#21840) → found on the account, not posted twice', async () => {
    const a = await publishArticle(t.services, { title: 'Slow instance' });
    m.script({ kind: 'store-then-504' });
    await drain();
    let row = await rowOf(db(), a.id, 'mastodon');
    expect(row).toMatchObject({ status: 'queued', ambiguous: true });
    expect(row.last_error).toMatch(/HTTP 504|error page/);
    await again();
    row = await rowOf(db(), a.id, 'mastodon');
    expect(row).toMatchObject({ status: 'posted', post_id: m.statuses[0].id });
    expect(m.statuses).toHaveLength(1);
    expect(m.postRequests).toHaveLength(1);
  });

  it('a proxy’s HTML 503 is transient; the resend (nothing on the account) carries the same key and posts once', async () => {
    const a = await publishArticle(t.services, { title: 'Behind nginx' });
    m.script(MASTODON_ANSWERS.proxyUnavailable());
    await drain();
    const first = await rowOf(db(), a.id, 'mastodon');
    expect(first).toMatchObject({ status: 'queued', ambiguous: true, attempts: 1 });
    expect(first.last_error).toMatch(/error page|HTTP 503/);
    await again();
    expect(await rowOf(db(), a.id, 'mastodon')).toMatchObject({ status: 'posted', attempts: 2 });
    expect(m.statuses).toHaveLength(1);
    expect(m.postRequests.map((r) => r.headers['idempotency-key'])).toEqual([first.remote_key, first.remote_key]);
    expect(m.requests.some((r) => r.path === '/api/v1/accounts/verify_credentials')).toBe(true);
  });

  it('429 → waits for X-RateLimit-Reset, and the next article waits without asking', async () => {
    const reset = new Date(Date.now() + 20 * 60_000);
    const a = await publishArticle(t.services, { title: 'Too many' });
    m.script(MASTODON_ANSWERS.rateLimited(reset));
    await drain();
    const row = await rowOf(db(), a.id, 'mastodon');
    expect(row).toMatchObject({ status: 'queued', ambiguous: false });
    expect(row.last_error).toMatch(/Mastodon rate limit reached \(HTTP 429: Too many requests\)/);
    expect(new Date(row.next_attempt_at!).getTime()).toBeGreaterThanOrEqual(reset.getTime() - 1000);
    const b = await publishArticle(t.services, { title: 'Behind it' });
    await drain();
    expect(await rowOf(db(), b.id, 'mastodon')).toMatchObject({ status: 'queued', attempts: 0 });
    expect(m.postRequests).toHaveLength(1);
    await again();
    expect(m.statuses).toHaveLength(2);
  });

  it('a revoked token → paused with the reason; later articles wait without a request', async () => {
    m.tokens.clear();
    const a = await publishArticle(t.services, { title: 'Revoked' });
    await drain();
    const row = await rowOf(db(), a.id, 'mastodon');
    expect(row).toMatchObject({ status: 'paused' });
    expect(row.last_error).toMatch(/Mastodon refused the token \(HTTP 401: The access token is invalid\)/);
    const b = await publishArticle(t.services, { title: 'Waits' });
    await again();
    expect(await rowOf(db(), b.id, 'mastodon')).toMatchObject({ status: 'paused', attempts: 0 });
    expect(m.postRequests).toHaveLength(1);
    const list = (await t.app.inject({ method: 'GET', url: '/v1/admin/announcements?network=mastodon', headers: t.auth })).json();
    expect(list.data.every((d: { network: string }) => d.network === 'mastodon')).toBe(true);
    expect(list.meta.sending.mastodon).toMatchObject({ configured: true, pausedReason: expect.stringMatching(/MASTODON_TOKEN/) });
  });

  it('a title with emoji and CJK is fitted to 500 characters, links counted 23', async () => {
    const title = `絵文字 👩‍👩‍👧‍👦 と日本語のとても長いタイトル ${'長い😀'.repeat(300)}`;
    const a = await publishArticle(t.services, { title });
    const row = await rowOf(db(), a.id, 'mastodon');
    expect(row.text).toMatch(new RegExp(`… https://blog\\.example\\.com/${a.slug}/$`));
    expect(row.weighted_length).toBe(mastodonLength(row.text));
    expect(countLikeMastodon(row.text)).toBeLessThanOrEqual(500);
    expect(countLikeMastodon(row.text)).toBeGreaterThan(490);
    await drain();
    expect(m.statuses.map((s) => s.text)).toEqual([row.text]);
  });

  it('a crash mid-send: another process takes the job over, finds the status, posts nothing more', async () => {
    const a = await publishArticle(t.services, { title: 'Crashed worker' });
    m.script({ kind: 'store-then-hang' });
    const first = t.services.jobs.drainDue();
    await m.waitForRequests(1);
    // the worker's process is gone: its lease runs out while the request hangs
    await db().execute(sql`update jobs set lease_until = now() - interval '1 second' where kind = 'announce.mastodon' and status = 'running'`);
    const other = compose(t.config, t.database, pino({ level: 'silent' }));
    await other.jobs.drainDue();
    const row = await rowOf(db(), a.id, 'mastodon');
    expect(row).toMatchObject({ status: 'posted', ambiguous: true, attempts: 2, post_id: m.statuses[0].id });
    await m.close().catch(() => {}); // ends the hung request; the dead worker's late outcome must not count
    await first.catch(() => {});
    expect(await rowOf(db(), a.id, 'mastodon')).toMatchObject({ status: 'posted', post_id: m.statuses[0].id });
    expect(m.statuses).toHaveLength(1);
    expect(m.postRequests).toHaveLength(1);
    await other.jobs.stop(1000);
  });
});

describe('classifyMastodonFailure', () => {
  it.each([
    ['401', { statusCode: 401 }, 'auth'],
    ['403 scopes', { statusCode: 403 }, 'auth'],
    ['404 not Mastodon', { statusCode: 404 }, 'auth'],
    ['422 validation', { statusCode: 422 }, 'rejected'],
    ['429', { statusCode: 429 }, 'rate-limited'],
    ['500', { statusCode: 500 }, 'transient'],
    ['504', { statusCode: 504 }, 'transient'],
  ])('%s → %s', async (_n, props, kind) => {
    const { MastoHttpError } = await import('masto');
    expect(classifyMastodonFailure(new MastoHttpError({ ...props, message: 'x' })).kind).toBe(kind);
  });
  it('an HTML body (masto hides the status) and a refused connection are transient; only the first is ambiguous', async () => {
    expect(classifyMastodonFailure(new TypeError("Cannot destructure property 'error' of 'data' as it is undefined."))).toMatchObject({ kind: 'transient', ambiguous: true });
    const refused = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    expect(classifyMastodonFailure(refused)).toMatchObject({ kind: 'transient', ambiguous: false });
  });
});

