// Announcing on Bluesky through the real @atproto/api client against a fake PDS: one
// session for the site (createSession counted), the fixed record key, facets' UTF-8
// byte offsets, the link card, and every failure of the table with one post.
import { ContentEvents } from '../../src/events/content-events.ts';
import { enqueueBackfeed } from '../../src/social/backfeed/backfeed.ts';
import { pino } from 'pino';
import { sql } from 'drizzle-orm';
import { beforeEach, describe, expect, it } from 'vitest';
import { compose } from '../../src/compose.ts';
import { JobRunner } from '../../src/jobs/kernel.ts';
import { TID } from '@atproto/common-web';
import { AnnouncementService } from '../../src/social/announcements/announcements.service.ts';
import { blueskyAnnouncer } from '../../src/social/bluesky/announce.job.ts';
import { classifyBlueskyFailure } from '../../src/social/bluesky/bluesky-client.ts';
import { XRPCError } from '@atproto/api';
import type { TestApp } from '../helpers/app.ts';
import { BLUESKY_ANSWERS, BLUESKY_HANDLE, type FakeBluesky } from '../helpers/fake-bluesky.ts';
import { cleanSlate, passTime, rowOf, useAppWithNetworks } from './networks.support.ts';
import { publishArticle } from '../helpers/factories.ts';

let b: FakeBluesky;
let t: TestApp;
useAppWithNetworks((f) => ((b = f.bluesky), (t = f.t)));
const db = () => t.database.db;
const drain = () => t.services.jobs.drainDue();
const again = async () => {
  await passTime(db());
  await drain();
};
const creates = () => b.calls('com.atproto.repo.createRecord');
const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

beforeEach(async () => {
  await cleanSlate(db());
  b.reset();
});

describe('Bluesky', () => {
  it('logs in once for many posts; each post has its fixed TID key, the link facet in UTF-8 bytes and a link card', async () => {
    const before = b.createSessionCalls;
    const titles = ['Ünïcödé café ☕', '日本語のタイトル 👩‍👩‍👧‍👦', 'Plain'];
    const articles = [];
    for (const title of titles) articles.push(await publishArticle(t.services, { title, excerpt: `About ${title}` }));
    await drain();
    expect(b.createSessionCalls - before).toBeLessThanOrEqual(1);
    expect(b.posts).toHaveLength(3);
    for (const [i, a] of articles.entries()) {
      const row = await rowOf(db(), a.id, 'bluesky');
      expect(TID.is(row.remote_key!)).toBe(true);
      const post = b.posts.find((p) => p.rkey === row.remote_key)!;
      const url = `https://blog.example.com/${a.slug}/`;
      expect(post.record.text).toBe(`${titles[i]} ${url}`);
      // the facet's byte range, cut from the UTF-8 bytes of the text, is the link
      const [facet] = post.record.facets!;
      expect(Buffer.from(post.record.text, 'utf8').subarray(facet.index.byteStart, facet.index.byteEnd).toString('utf8')).toBe(url);
      expect(facet.features).toEqual([{ $type: 'app.bsky.richtext.facet#link', uri: url }]);
      expect(post.record.embed).toEqual({ $type: 'app.bsky.embed.external', external: { uri: url, title: titles[i], description: `About ${titles[i]}` } });
      expect(row).toMatchObject({ status: 'posted', post_id: post.uri, url: `https://bsky.app/profile/${BLUESKY_HANDLE}/post/${row.remote_key}` });
    }
    // every write carried the session's access token
    expect(creates().every((r) => /^Bearer access-/.test(String(r.headers.authorization)))).toBe(true);
  });

  it('a restart (another process on the database) reuses the stored session; an expired token is refreshed, not a new login', async () => {
    await publishArticle(t.services, { title: 'First' });
    await drain();
    const logins = b.createSessionCalls;
    const other = compose(t.config, t.database, pino({ level: 'silent' }));
    await publishArticle(other, { title: 'After a restart' });
    await other.jobs.drainDue();
    expect(b.createSessionCalls).toBe(logins);
    b.expireAccessTokens();
    const refreshes = b.refreshSessionCalls;
    await publishArticle(other, { title: 'After expiry' });
    await other.jobs.drainDue();
    await publishArticle(t.services, { title: 'The first process, also expired' });
    await drain();
    expect(b.createSessionCalls).toBe(logins);
    expect(b.refreshSessionCalls - refreshes).toBeGreaterThanOrEqual(1);
    expect(b.refreshSessionCalls - refreshes).toBeLessThanOrEqual(2);
    expect(b.posts.map((p) => p.record.text.split(' https')[0])).toEqual(['First', 'After a restart', 'After expiry', 'The first process, also expired']);
    await other.jobs.stop(1000);
  });

  it('a lost answer → getRecord for the key after the failed attempt finds the post: posted, one createRecord', async () => {
    const a = await publishArticle(t.services, { title: 'Lost answer' });
    b.script({ kind: 'store-then-drop' });
    await drain();
    const row = await rowOf(db(), a.id, 'bluesky');
    expect(row).toMatchObject({ status: 'posted', attempts: 1, post_id: b.posts[0].uri });
    expect(row.last_error).toMatch(/has it under its key/);
    expect(creates()).toHaveLength(1);
    expect(b.posts).toHaveLength(1);
  });

  it('a crash mid-send: the process that takes over asks getRecord before sending, and posts nothing more', async () => {
    const a = await publishArticle(t.services, { title: 'Crashed worker' });
    b.script({ kind: 'store-then-hang' });
    const first = t.services.jobs.drainDue();
    while (!creates().length) await new Promise((r) => setTimeout(r, 20));
    await db().execute(sql`update jobs set lease_until = now() - interval '1 second' where kind = 'announce.bluesky' and status = 'running'`);
    const other = compose(t.config, t.database, pino({ level: 'silent' }));
    await other.jobs.drainDue();
    const row = await rowOf(db(), a.id, 'bluesky');
    expect(row).toMatchObject({ status: 'posted', ambiguous: true, attempts: 2, post_id: b.posts[0].uri });
    expect(row.last_error).toMatch(/the PDS has the record under its key; not sent again/);
    expect(creates()).toHaveLength(1);
    await first.catch(() => {}); // the hung request ends at its deadline; its late outcome must not count
    expect(await rowOf(db(), a.id, 'bluesky')).toMatchObject({ status: 'posted', attempts: 2 });
    expect(b.posts).toHaveLength(1);
    await other.jobs.stop(1000);
  }, 60_000);

  it('the generic 500 after the record was stored → getRecord after the failure: posted in the same attempt', async () => {
    const a = await publishArticle(t.services, { title: 'Stored then 500' });
    b.script({ kind: 'store-then-500' });
    await drain();
    expect(await rowOf(db(), a.id, 'bluesky')).toMatchObject({ status: 'posted', attempts: 1, post_id: b.posts[0].uri });
    expect(b.posts).toHaveLength(1);
  });

  it('a proxy’s HTML 503, then success: one post', async () => {
    const a = await publishArticle(t.services, { title: 'Behind a proxy' });
    b.script(BLUESKY_ANSWERS.proxyUnavailable());
    await drain();
    const row = await rowOf(db(), a.id, 'bluesky');
    expect(row).toMatchObject({ status: 'queued', ambiguous: true });
    expect(row.last_error).toMatch(/Bluesky had a server error \(HTTP 503/);
    await again();
    expect(await rowOf(db(), a.id, 'bluesky')).toMatchObject({ status: 'posted', attempts: 2 });
    expect(b.posts).toHaveLength(1);
    expect(creates().map((r) => r.body?.rkey)).toEqual([row.remote_key, row.remote_key]);
  });

  it('429 → waits for ratelimit-reset', async () => {
    const reset = new Date(Date.now() + 30 * 60_000);
    const a = await publishArticle(t.services, { title: 'Rate limited' });
    b.script(BLUESKY_ANSWERS.rateLimited(reset));
    await drain();
    const row = await rowOf(db(), a.id, 'bluesky');
    expect(row).toMatchObject({ status: 'queued', ambiguous: false });
    expect(row.last_error).toMatch(/Bluesky rate limit reached/);
    expect(new Date(row.next_attempt_at!).getTime()).toBeGreaterThanOrEqual(Math.floor(reset.getTime() / 1000) * 1000);
    await again();
    expect(b.posts).toHaveLength(1);
  });

  it('a wrong app password → paused after one login attempt; later articles try no login', async () => {
    await db().execute(sql`update announcement_networks set session = null where network = 'bluesky'`);
    const fresh = compose(t.config, t.database, pino({ level: 'silent' }));
    b.password = 'changed-on-bluesky';
    const logins = b.createSessionCalls;
    const a = await publishArticle(fresh, { title: 'Bad password' });
    await fresh.jobs.drainDue();
    const row = await rowOf(db(), a.id, 'bluesky');
    expect(row.status).toBe('paused');
    expect(row.last_error).toMatch(/Bluesky refused the login \(HTTP 401: AuthenticationRequired: Invalid identifier or password\)/);
    const c = await publishArticle(fresh, { title: 'Waits' });
    await passTime(db());
    await fresh.jobs.drainDue();
    expect(await rowOf(db(), c.id, 'bluesky')).toMatchObject({ status: 'paused', attempts: 0 });
    expect(b.createSessionCalls - logins).toBe(1);
    await fresh.jobs.stop(1000);
  });

  it('a title with emoji and CJK is fitted to 300 graphemes, the link whole', async () => {
    const title = `絵文字 👩‍👩‍👧‍👦 と日本語 ${'長い😀🇯🇵'.repeat(200)}`;
    const a = await publishArticle(t.services, { title });
    const row = await rowOf(db(), a.id, 'bluesky');
    expect(row.text).toMatch(new RegExp(`… https://blog\\.example\\.com/${a.slug}/$`));
    const graphemes = [...segmenter.segment(row.text)].length;
    expect(graphemes).toBeLessThanOrEqual(300);
    expect(graphemes).toBeGreaterThan(290);
    expect(row.weighted_length).toBe(graphemes);
    await drain();
    const [post] = b.posts;
    expect(post.record.text).toBe(row.text);
    const [facet] = post.record.facets!;
    expect(Buffer.from(post.record.text).subarray(facet.index.byteStart, facet.index.byteEnd).toString()).toBe(`https://blog.example.com/${a.slug}/`);
  });

  it('an article image becomes the card’s thumb (uploadBlob)', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    const log = pino({ level: 'silent' });
    const runner = new JobRunner({ db: db(), log });
    const service = new AnnouncementService(t.config, db(), log, [blueskyAnnouncer({ image: async () => ({ bytes: png, mimeType: 'image/png' }) })], { events: new ContentEvents(), posted: enqueueBackfeed });
    service.registerWorker(runner);
    const a = await publishArticle(t.services, { title: 'With a picture' });
    await runner.drainDue();
    expect(b.blobs).toHaveLength(1);
    expect(b.blobs[0]).toMatchObject({ mimeType: 'image/png', bytes: png });
    const external = (b.posts[0].record.embed as { external: { thumb?: { ref: { $link: string } }; uri: string } }).external;
    expect(external.uri).toBe(`https://blog.example.com/${a.slug}/`);
    expect(external.thumb?.ref.$link).toBe(b.blobs[0].cid);
    await runner.stop(1000);
  });
});

describe('classifyBlueskyFailure', () => {
  it.each([
    ['401', new XRPCError(401, 'AuthenticationRequired', 'Invalid identifier or password'), 'auth'],
    ['400 ExpiredToken', new XRPCError(400, 'ExpiredToken', 'Token has expired'), 'auth'],
    ['400 AccountTakedown', new XRPCError(400, 'AccountTakedown', 'Account has been taken down'), 'auth'],
    ['400 invalid record', new XRPCError(400, 'InvalidRequest', 'Invalid app.bsky.feed.post record'), 'rejected'],
    ['404', new XRPCError(404), 'auth'],
    ['429', new XRPCError(429, 'RateLimitExceeded'), 'rate-limited'],
    ['500', new XRPCError(500, 'InternalServerError'), 'transient'],
    ['502 page', new XRPCError(502), 'transient'],
    ['unreadable answer', new XRPCError(2, undefined, 'Failed to parse response body'), 'transient'],
  ])('%s → %s', (_n, err, kind) => {
    expect(classifyBlueskyFailure(err).kind).toBe(kind);
  });
  it('a refused connection is not ambiguous; a reset one is', () => {
    const net = (code: string) => XRPCError.from(Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(code), { code }) }));
    expect(classifyBlueskyFailure(net('ECONNREFUSED'))).toMatchObject({ kind: 'transient', ambiguous: false });
    expect(classifyBlueskyFailure(net('ECONNRESET'))).toMatchObject({ kind: 'transient', ambiguous: true });
  });
});
