// Announcements end to end below HTTP: the publishing listener queues them in the
// publish transaction, the worker posts them to the fake X, and every answer of the
// reference's error → action table ends in the state an editor should see.
import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { JobRunner } from '../../src/jobs/kernel.ts';
import { testDatabaseKind } from '../helpers/db.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { FakeX, FAKE_CREDENTIALS, X } from '../helpers/fake-x.ts';
import { AnnouncementService } from '../../src/social/announcements/announcements.service.ts';
import { xAnnouncer } from '../../src/social/x/announce.job.ts';
import { announcementsFor } from '../../src/social/announcements/announcements.repository.ts';
import { ContentEvents } from '../../src/events/content-events.ts';
import { enqueueBackfeed } from '../../src/social/backfeed/backfeed.ts';
import { announcementOf, announcementRows, letTimePass, queuedJobRunAts, runAgain, useAppWithFakeX, xConfig } from './support.ts';
import { publishArticle, republishArticle, unpublishArticle } from '../helpers/factories.ts';

let fake: FakeX;
let t: TestApp;
const SITE = 'https://blog.example.com';

useAppWithFakeX((f, a) => ((fake = f), (t = a)));

const db = () => t.database.db;
const drain = () => t.services.jobs.drainDue();

beforeEach(async () => {
  // each case starts with an empty queue, a healthy account and a fake X with nothing on it
  await db().execute(sql`delete from jobs where kind = 'announce.x'`);
  await db().execute(sql`delete from announcements`);
  await db().execute(sql`delete from announcement_networks`);
  fake.reset();
  fake.credentials = FAKE_CREDENTIALS;
});

describe(`announcing on ${testDatabaseKind}`, () => {
  it('publishing N articles posts exactly N announcements, each with its stored text', async () => {
    const titles = ['First post', 'Second: CJK 日本語', 'Third 👩‍👩‍👧‍👦 emoji', 'Fourth', 'Fifth'];
    const articles = [];
    for (const title of titles) articles.push(await publishArticle(t.services, { title }));
    await drain();

    expect(fake.posts.map((p) => p.text)).toEqual(articles.map((a) => `${a.title} ${SITE}/${a.slug}/`));
    expect(fake.tweetRequests.every((r) => r.authProblem === null)).toBe(true);
    const rows = await announcementRows(db());
    expect(rows).toHaveLength(5);
    for (const [i, row] of rows.entries()) {
      expect(row).toMatchObject({ status: 'posted', attempts: 1, ambiguous: false, last_error: null, text: fake.posts[i].text });
      expect(row.post_id).toBe(fake.posts[i].id);
      expect(row.url).toBe(`https://x.com/inkwellblog/status/${fake.posts[i].id}`);
    }
    // running the queue again finds nothing to do
    await runAgain(t.services);
    expect(fake.posts).toHaveLength(5);
  });

  it('the client of the app talks to the fake X, never to api.x.com', async () => {
    expect(t.config.twitterApiUrl).toBe(fake.url);
    await publishArticle(t.services, { title: 'Where does it go?' });
    await drain();
    expect(fake.tweetRequests).toHaveLength(1);
    expect(fake.tweetRequests[0].headers.host).toBe(new URL(fake.url).host);
  });

  it('queues at most one announcement per article: re-publishing, a second listener call, edits', async () => {
    const a = await publishArticle(t.services, { title: 'Only once' });
    // a second process publishing the same article at the same time hits the unique key
    await t.database.db.transaction((tx) => t.services.publishing.published(tx, a, { firstTime: true }));
    await drain();
    await republishArticle(t.services, a);
    await t.database.db.transaction((tx) => t.services.publishing.updated(tx, { ...a, title: 'Edited title' }, { previousHtml: a.html }));
    await runAgain(t.services);
    expect(await announcementRows(db())).toHaveLength(1);
    expect(fake.posts.map((p) => p.text)).toEqual([`Only once ${SITE}/${a.slug}/`]);
  });

  it('an article with announce: false gets no announcement', async () => {
    const a = await publishArticle(t.services, { title: 'Quiet one', announce: false });
    await drain();
    expect(await announcementRows(db())).toEqual([]);
    expect((await announcementsFor(db(), [a.id])).has(a.id)).toBe(false);
    expect(fake.requests).toEqual([]);
  });

  it('a rolled-back publish leaves no announcement and sends nothing', async () => {
    // a listener after the announcements' one fails: the whole publish transaction rolls back
    t.services.publishing.subscribe({
      onPublished: async (_tx, a) => {
        if (a.title === 'Rolled back') throw new Error('publish failed later in the transaction');
      },
    });
    await expect(publishArticle(t.services, { title: 'Rolled back' })).rejects.toThrow(/publish failed later/);
    expect((await t.services.articles.listAdmin({ q: 'Rolled back' })).data).toEqual([]);
    await drain();
    expect(await announcementRows(db())).toEqual([]);
    expect(fake.requests).toEqual([]);
  });

  it('renders ANNOUNCE_TEMPLATE once, shortening the title so the text fits 280', async () => {
    const title = `A remarkably long title ${'that keeps going '.repeat(30)}`;
    const a = await publishArticle(t.services, { title });
    const row = await announcementOf(db(), a.id);
    expect(row.weighted_length).toBeLessThanOrEqual(280);
    expect(row.text).toMatch(new RegExp(`… ${SITE}/${a.slug}/$`));
    await drain();
    expect(fake.posts.map((p) => p.text)).toEqual([row.text]);
  });

  it('announcementsFor answers status, url and syndication for many articles in one call', async () => {
    const a = await publishArticle(t.services, { title: 'One' });
    const b = await publishArticle(t.services, { title: 'Two' });
    const c = await publishArticle(t.services, { title: 'Three', announce: false });
    await drain();
    const map = await announcementsFor(db(), [a.id, b.id, c.id, 999_999]);
    expect([...map.keys()].sort()).toEqual([a.id, b.id].sort());
    const url = expect.stringMatching(/^https:\/\/x\.com\/inkwellblog\/status\/\d+$/);
    expect(map.get(a.id)).toEqual({ announcement: { status: 'posted', url }, syndication: [{ network: 'x', url }] });
    expect(await announcementsFor(db(), [])).toEqual(new Map());
  });
});

describe('when the answer is lost, the identical text is resent and X’s duplicate check stops a second post', () => {
  it('X stored the post, then the connection dropped → resend → 403 duplicate → posted, without a second post', async () => {
    const a = await publishArticle(t.services, { title: 'Answer lost' });
    fake.script({ kind: 'store-then-drop' });
    await drain();
    let row = await announcementOf(db(), a.id);
    expect(row).toMatchObject({ status: 'queued', ambiguous: true, attempts: 1, post_id: null });
    expect(row.last_error).toMatch(/no answer from X .*may have gone through.*identical text will be resent/);
    expect(new Date(row.next_attempt_at!).getTime()).toBeGreaterThan(Date.now());

    await runAgain(t.services);
    row = await announcementOf(db(), a.id);
    expect(row).toMatchObject({ status: 'posted', ambiguous: true, attempts: 2, post_id: null, url: null });
    expect(row.last_error).toMatch(/Posted by an earlier attempt whose answer was lost/);
    expect(fake.posts).toHaveLength(1);
    expect(fake.tweetRequests.map((r) => r.outcome)).toEqual(['201 then dropped', '403']);
    expect(new Set(fake.tweetRequests.map((r) => JSON.parse(r.body).text)).size).toBe(1);
  });

  it('the connection dropped before X stored anything → the resend posts it, once', async () => {
    const a = await publishArticle(t.services, { title: 'Dropped early' });
    fake.script({ kind: 'drop' });
    await drain();
    expect(await announcementOf(db(), a.id)).toMatchObject({ status: 'queued', ambiguous: true });
    await runAgain(t.services);
    const row = await announcementOf(db(), a.id);
    expect(row).toMatchObject({ status: 'posted', attempts: 2, post_id: fake.posts[0].id });
    expect(fake.posts).toHaveLength(1);
  });

  it('503 with an HTML body → retried with backoff, X’s words kept; then posted', async () => {
    const a = await publishArticle(t.services, { title: 'Over capacity' });
    fake.script(X.unavailableHtml(), X.serverErrorJson());
    await drain();
    let row = await announcementOf(db(), a.id);
    expect(row).toMatchObject({ status: 'queued', ambiguous: true, attempts: 1 });
    expect(row.last_error).toMatch(/X had a server error \(HTTP 503: Over capacity Something is technically wrong/);
    const firstWait = new Date(row.next_attempt_at!).getTime() - Date.now();
    expect(firstWait).toBeGreaterThan(10_000); // backoff base 30 s, jittered down to half at most
    const [jobAt] = await queuedJobRunAts(db());
    expect(Math.abs(jobAt.getTime() - new Date(row.next_attempt_at!).getTime())).toBeLessThan(1000);

    await runAgain(t.services);
    row = await announcementOf(db(), a.id);
    expect(row).toMatchObject({ status: 'queued', attempts: 2 });
    expect(row.last_error).toMatch(/HTTP 500: Internal Server Error/);
    await runAgain(t.services);
    expect(await announcementOf(db(), a.id)).toMatchObject({ status: 'posted', attempts: 3 });
    expect(fake.posts).toHaveLength(1);
  });

  it('a slow answer past the timeout is ambiguous; the resend meets the duplicate check', async () => {
    // a worker with a short request timeout, on the same database and queue
    const log = pino({ level: 'silent' });
    const runner = new JobRunner({ db: db(), log });
    new AnnouncementService(t.config, db(), log, [xAnnouncer], { tuning: { requestTimeoutMs: 300, deadlineMs: 1000 }, events: new ContentEvents(), posted: enqueueBackfeed }).registerWorker(runner);
    const a = await publishArticle(t.services, { title: 'Slow X' });
    fake.script({ kind: 'slow', ms: 1500 });
    await runner.drainDue();
    let row = await announcementOf(db(), a.id);
    expect(row).toMatchObject({ status: 'queued', ambiguous: true, attempts: 1 });
    expect(row.last_error).toMatch(/Request timeout/);
    await letTimePass(db());
    await runner.drainDue();
    row = await announcementOf(db(), a.id);
    expect(row).toMatchObject({ status: 'posted', post_id: null });
    expect(fake.posts).toHaveLength(1);
    await runner.stop(1000);
  });

  it('connection refused is not ambiguous: nothing left this machine', async () => {
    const closed = await FakeX.start();
    await closed.close();
    const log = pino({ level: 'silent' });
    const runner = new JobRunner({ db: db(), log });
    new AnnouncementService({ ...t.config, twitterApiUrl: closed.url }, db(), log, [xAnnouncer], { events: new ContentEvents(), posted: enqueueBackfeed }).registerWorker(runner);
    const a = await publishArticle(t.services, { title: 'Nobody home' });
    await runner.drainDue();
    const row = await announcementOf(db(), a.id);
    expect(row).toMatchObject({ status: 'queued', ambiguous: false, attempts: 1 });
    expect(row.last_error).toMatch(/could not reach X \(ECONNREFUSED/);
    await runner.stop(1000);
  });

  it('without an ambiguous attempt, 403 duplicate means someone else posted that text: failed', async () => {
    const a = await publishArticle(t.services, { title: 'Posted by hand' });
    fake.script(X.duplicate());
    await drain();
    const row = await announcementOf(db(), a.id);
    expect(row).toMatchObject({ status: 'failed', ambiguous: false });
    expect(row.last_error).toMatch(/duplicate of a post already on the account, not made by Inkwell.*duplicate content/);
  });
});

describe('X refuses: permanent failures end as failed with X’s detail', () => {
  it.each([
    ['400 too long', X.tooLong(), /HTTP 400: Your Tweet text is too long/],
    ['403 forbidden', X.forbidden('You are not permitted to create this Tweet.'), /HTTP 403: You are not permitted/],
  ])('%s → failed', async (_name, answer, reason) => {
    const a = await publishArticle(t.services, { title: 'Refused' });
    fake.script(answer);
    await drain();
    const row = await announcementOf(db(), a.id);
    expect(row).toMatchObject({ status: 'failed', attempts: 1, post_id: null });
    expect(row.last_error).toMatch(reason);
    await runAgain(t.services);
    expect(fake.tweetRequests).toHaveLength(1); // not retried by itself
  });
});

describe('credentials and permissions: sending pauses, nothing is burnt', () => {
  it.each([
    ['401 (X no longer accepts the signature)', null, /X refused the credentials \(HTTP 401: Unauthorized\)/],
    ['403 oauth1-permissions (read-only app)', X.oauth1Permissions(), /permissions.*oauth1-permissions/],
    ['403 unsupported-authentication', X.unsupportedAuthentication(), /unsupported-authentication/],
    ['402 no credits', X.paymentRequired(), /billing.*no API credits/],
  ])('%s → paused with the reason; later articles wait without asking X', async (_name, answer, reason) => {
    if (answer) fake.script(answer);
    else fake.credentials = { ...FAKE_CREDENTIALS, accessSecret: 'rotated-on-x' }; // the keys were revoked on X's side
    const a = await publishArticle(t.services, { title: 'Paused one' });
    await drain();
    const row = await announcementOf(db(), a.id);
    expect(row).toMatchObject({ status: 'paused', attempts: 1 });
    expect(row.last_error).toMatch(reason);
    expect(new Date(row.next_attempt_at!).getTime()).toBeGreaterThan(Date.now() + 60_000);

    const b = await publishArticle(t.services, { title: 'Queued behind the pause' });
    await drain();
    await runAgain(t.services); // the recheck: still the same credentials, still paused
    expect(await announcementOf(db(), b.id)).toMatchObject({ status: 'paused', attempts: 0, last_error: row.last_error });
    expect(fake.tweetRequests).toHaveLength(1);
  });

  it('new credentials (a restart with fixed TWITTER_*) lift the pause and everything paused goes out', async () => {
    fake.credentials = { ...FAKE_CREDENTIALS, accessSecret: 'rotated-on-x' };
    const a = await publishArticle(t.services, { title: 'Before the fix' });
    const b = await publishArticle(t.services, { title: 'Also before the fix' });
    await drain();
    expect((await announcementRows(db())).map((r) => r.status)).toEqual(['paused', 'paused']);

    // the operator sets the new secret and restarts: another process, same database
    const fixed = { ...FAKE_CREDENTIALS, accessSecret: 'rotated-on-x' };
    const restarted = await createTestApp(xConfig(fake, { twitter: fixed }), { database: t.database });
    try {
      await letTimePass(db());
      await restarted.services.jobs.drainDue();
    } finally {
      await restarted.close();
    }
    expect((await announcementRows(db())).map((r) => r.status)).toEqual(['posted', 'posted']);
    expect(fake.posts.map((p) => p.text).sort()).toEqual([`Also before the fix ${SITE}/${b.slug}/`, `Before the fix ${SITE}/${a.slug}/`]);
  });
});

describe('429: wait for the reset from the headers', () => {
  it('the 15-minute window → the next attempt is after x-rate-limit-reset, without spending the budget', async () => {
    const reset = new Date(Date.now() + 12 * 60_000);
    const a = await publishArticle(t.services, { title: 'Too many' });
    fake.script(X.rateLimited(reset));
    await drain();
    const row = await announcementOf(db(), a.id);
    expect(row).toMatchObject({ status: 'queued', attempts: 1, ambiguous: false });
    expect(row.last_error).toMatch(/X rate limit reached \(HTTP 429: Too Many Requests\); next attempt after/);
    const next = new Date(row.next_attempt_at!).getTime();
    expect(next).toBeGreaterThanOrEqual(Math.floor(reset.getTime() / 1000) * 1000);
    expect(next).toBeLessThanOrEqual(reset.getTime() + 31_000);

    // another article published meanwhile waits for the same reset without asking X
    const b = await publishArticle(t.services, { title: 'Behind the limit' });
    await drain();
    const waiting = await announcementOf(db(), b.id);
    expect(waiting).toMatchObject({ status: 'queued', attempts: 0 });
    expect(new Date(waiting.next_attempt_at!).getTime()).toBeGreaterThanOrEqual(Math.floor(reset.getTime() / 1000) * 1000);
    expect(fake.tweetRequests).toHaveLength(1);

    await runAgain(t.services); // the reset passed
    expect((await announcementRows(db())).map((r) => r.status)).toEqual(['posted', 'posted']);
    expect(fake.posts).toHaveLength(2);
  });

  it('the user’s 24-hour window (x-user-limit-24hour-*) → waits for that reset, not the 15-minute one', async () => {
    const windowReset = new Date(Date.now() + 5 * 60_000);
    const dayReset = new Date(Date.now() + 20 * 3_600_000);
    const a = await publishArticle(t.services, { title: 'Daily cap' });
    fake.script(X.userDayLimited(windowReset, dayReset));
    await drain();
    const next = new Date((await announcementOf(db(), a.id)).next_attempt_at!).getTime();
    expect(next).toBeGreaterThanOrEqual(Math.floor(dayReset.getTime() / 1000) * 1000);
  });

  it('a usage cap (429 usage-capped) waits at least a day, not 15 minutes', async () => {
    const a = await publishArticle(t.services, { title: 'Monthly cap' });
    fake.script(X.usageCapped(new Date(Date.now() + 10 * 60_000)));
    await drain();
    const row = await announcementOf(db(), a.id);
    expect(row.last_error).toMatch(/X usage cap reached .*usage-capped/);
    expect(new Date(row.next_attempt_at!).getTime()).toBeGreaterThan(Date.now() + 23 * 3_600_000);
  });

  it('a success that used up the window holds the next post until its reset instead of earning a 429', async () => {
    const reset = new Date(Date.now() + 9 * 60_000);
    fake.script({ kind: 'x-with-headers', headers: { 'x-rate-limit-limit': '100', 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': String(Math.floor(reset.getTime() / 1000)) } });
    await publishArticle(t.services, { title: 'Last one in the window' });
    await drain();
    const b = await publishArticle(t.services, { title: 'Next window' });
    await drain();
    expect(await announcementOf(db(), b.id)).toMatchObject({ status: 'queued', attempts: 0 });
    expect(fake.tweetRequests).toHaveLength(1);
  });
});

describe('before sending: still public, still fresh, credentials present', () => {
  it('unpublished before sending → cancelled, nothing sent; published again → sent once', async () => {
    const a = await publishArticle(t.services, { title: 'Changed my mind' });
    await unpublishArticle(t.services, a);
    await drain();
    const row = await announcementOf(db(), a.id);
    expect(row.status).toBe('cancelled');
    expect(row.last_error).toMatch(/unpublished before it was announced/);
    expect(fake.requests).toEqual([]);

    await republishArticle(t.services, a);
    await drain();
    expect(await announcementOf(db(), a.id)).toMatchObject({ status: 'posted' });
    expect(fake.posts.map((p) => p.text)).toEqual([row.text]);
  });

  it('unpublished while waiting for a retry → cancelled at the next attempt', async () => {
    const a = await publishArticle(t.services, { title: 'Retry then gone' });
    fake.script(X.unavailableHtml());
    await drain();
    await db().execute(sql`update articles set status = 'draft' where id = ${a.id}`); // unpublished by some other path
    await runAgain(t.services);
    const row = await announcementOf(db(), a.id);
    expect(row.status).toBe('cancelled');
    expect(row.last_error).toMatch(/unpublished before it was announced\. An earlier attempt went unanswered/);
    expect(fake.tweetRequests).toHaveLength(1);
  });

  it('backdated past ANNOUNCE_MAX_AGE_HOURS → expired at once; not sent in time → expired later', async () => {
    const old = await publishArticle(t.services, { title: 'Imported', publishedAt: new Date(Date.now() - 72 * 3_600_000) });
    expect(await announcementOf(db(), old.id)).toMatchObject({ status: 'expired' });

    const a = await publishArticle(t.services, { title: 'Stuck behind an outage' });
    fake.script(X.unavailableHtml());
    await drain();
    await db().execute(sql`update announcements set expires_at = now() - interval '1 minute' where article_id = ${a.id}`); // 48 h pass
    await runAgain(t.services);
    const row = await announcementOf(db(), a.id);
    expect(row.status).toBe('expired');
    expect(row.last_error).toMatch(/too old to announce\. Last error: X had a server error \(HTTP 503/);
    expect(fake.tweetRequests).toHaveLength(1);
  });
});

describe('no credentials', () => {
  it('records a skipped announcement and sends nothing', async () => {
    const bare = await createTestApp({ siteUrl: SITE, twitterApiUrl: fake.url }, { database: t.database });
    try {
      expect(bare.config.twitter).toBeUndefined();
      const a = await publishArticle(bare.services, { title: 'No keys' });
      await bare.services.jobs.drainDue();
      const row = await announcementOf(db(), a.id);
      expect(row).toMatchObject({ status: 'skipped', attempts: 0 });
      expect(row.last_error).toMatch(/No X credentials are configured \(TWITTER_APP_KEY/);
      expect(fake.requests).toEqual([]);
    } finally {
      await bare.close();
    }
  });
});
