// The X backfeed (§13), with X_BACKFEED=on: reactions to our post, read through the real
// twitter-api-v2 client from the fake X on 127.0.0.1 (which verifies each request's OAuth
// 1.0a signature and refuses parameters X refuses), land as social responses of network
// `x`; withdrawn ones go at the next poll; a failing or garbled answer removes nothing;
// every read is counted against X_BACKFEED_MONTHLY_READS and a spent month stops polling.
import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.ts';
import { BACKFEED_JOB } from '../../src/social/backfeed/backfeed.ts';
import { nextPollAt } from '../../src/social/backfeed/schedule.ts';
import { nextMonthStart } from '../../src/social/announcements/announce.worker.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { FakeX, OWN_USER, X, type XUser } from '../helpers/fake-x.ts';
import { xConfig } from './support.ts';
import { cleanSlate, rowOf, type Social } from './networks.support.ts';
import { publishArticle } from '../helpers/factories.ts';

const SITE = 'https://blog.example.com';
const CAP = 1000;
let fake: FakeX;
let t: TestApp;
const logLines: string[] = [];
beforeAll(async () => {
  fake = await FakeX.start();
  const log = pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) });
  t = await createTestApp(xConfig(fake, { apiUrl: SITE, commentModeration: 'open', xBackfeed: true, xBackfeedMonthlyReads: CAP }), { log });
});
afterAll(async () => {
  await t?.close();
  await fake?.close();
});
const db = () => t.database.db;

beforeEach(async () => {
  await cleanSlate(db());
  await db().execute(sql`delete from jobs where kind = ${BACKFEED_JOB}`);
  await db().execute(sql`update announcement_networks set backfeed_month = null, backfeed_reads = 0`);
  fake.reset();
  logLines.length = 0;
});

const pollJob = async () => (await queryRows<{ status: string; run_at: Date }>(db(), sql`select status, run_at from jobs where kind = ${BACKFEED_JOB}`))[0];
async function pollNow(): Promise<void> {
  await db().execute(sql`update jobs set run_at = now() where kind = ${BACKFEED_JOB} and status = 'queued'`);
  await t.services.jobs.drainDue();
}
const reads = async () => (await queryRows<{ backfeed_month: string | null; backfeed_reads: number }>(db(), sql`select backfeed_month, backfeed_reads from announcement_networks where network = 'x'`))[0];

async function social(slug: string): Promise<Social[]> {
  const res = await t.app.inject({ method: 'GET', url: `/v1/articles/${slug}/responses?type=social&limit=100` });
  expect(res.statusCode).toBe(200);
  return res.json().data as Social[];
}
const summary = (list: Social[]) => list.map((r) => `${r.network} ${r.kind} ${r.author.name}`).sort();

let n = 0;
const user = (name: string): XUser => ({ id: String(5000 + ++n), name, username: name.toLowerCase(), profile_image_url: `https://pbs.twimg.test/${name.toLowerCase()}_normal.jpg` });

/** Publishes an article, posts its announcement on the fake X, and returns both. */
async function announced(title: string) {
  const article = await publishArticle(t.services, { title });
  await t.services.jobs.drainDue();
  const row = await rowOf(db(), article.id, 'x');
  expect(row.status).toBe('posted');
  return { article, row, postId: row.post_id! };
}

describe('X backfeed (X_BACKFEED=on)', () => {
  it('stores likes, reposts, threaded replies and quotes as network x; withdrawn ones go at the next poll; each read is signed and counted', async () => {
    const { article, row, postId } = await announced('Echoes on X');
    // queued like the other networks' polls, first 5 minutes after posting
    const job = await pollJob();
    expect(job.status).toBe('queued');

    const [ana, ben, cleo, dan, eve] = ['Ana', 'Ben', 'Cleo', 'Dan', 'Eve'].map(user);
    fake.likes.set(postId, [ana, ben]);
    fake.retweets.set(postId, [ben]);
    const cleoReply = fake.reply(postId, cleo, '@inkwellblog Great read <3', 120_000);
    const danReply = fake.reply(cleoReply.id, dan, '@cleo @inkwellblog Agreed with Cleo');
    fake.reply(cleoReply.id, OWN_USER, '@cleo Thanks!'); // our own answer: not a reaction
    fake.quote(postId, eve, 'Worth reading');

    await pollNow();
    const list = await social(article.slug);
    expect(summary(list)).toEqual(['x like Ana', 'x like Ben', 'x mention Eve', 'x reply Cleo', 'x reply Dan', 'x repost Ben']);
    const cleoR = list.find((r) => r.author.name === 'Cleo')!;
    expect(cleoR).toMatchObject({ parentId: null, url: `https://x.com/cleo/status/${cleoReply.id}`, author: { url: 'https://x.com/cleo', photo: 'https://pbs.twimg.test/cleo_normal.jpg' } });
    expect(cleoR.html).toContain('Great read &lt;3');
    expect(cleoR.html).not.toContain('@inkwellblog');
    expect(list.find((r) => r.author.name === 'Dan')!).toMatchObject({ parentId: cleoR.id, url: `https://x.com/dan/status/${danReply.id}` });
    expect(list.find((r) => r.kind === 'like' && r.author.name === 'Ana')).toMatchObject({ url: row.url });
    expect((await t.app.inject({ method: 'GET', url: `/v1/articles/${article.slug}` })).json().counts).toMatchObject({ likes: 2, reposts: 1, replies: 2 });

    // what the real client sent: four signed reads, with the parameters X knows
    const sent = fake.readRequests;
    expect(sent.map((r) => r.path).sort()).toEqual(['/2/tweets/search/recent', `/2/tweets/${postId}/liking_users`, `/2/tweets/${postId}/quote_tweets`, `/2/tweets/${postId}/retweeted_by`].sort());
    expect(sent.every((r) => r.authProblem === null && r.outcome === '200')).toBe(true);
    expect((await reads()).backfeed_reads).toBe(4);
    expect((await reads()).backfeed_month).toBe(new Date().toISOString().slice(0, 7));
    // and the poll comes back on the schedule
    const [{ posted_at: postedAt }] = await queryRows<{ posted_at: Date }>(db(), sql`select posted_at from announcements where id = ${row.id}`);
    expect(Math.abs(new Date((await pollJob()).run_at).getTime() - nextPollAt(new Date(postedAt), new Date())!.getTime())).toBeLessThan(5_000);

    // Ana withdraws her like, Dan deletes his reply
    fake.likes.set(postId, [ben]);
    fake.deleteTweet(danReply.id);
    await pollNow();
    expect(summary(await social(article.slug))).toEqual(['x like Ben', 'x mention Eve', 'x reply Cleo', 'x repost Ben']);
    expect((await reads()).backfeed_reads).toBe(8);
  });

  it('pages through more than 100 likes, each page a counted read', async () => {
    const { article, postId } = await announced('Popular on X');
    fake.likes.set(postId, Array.from({ length: 130 }, (_, i) => user(`Fan${i}`)));
    await pollNow();
    expect((await t.app.inject({ method: 'GET', url: `/v1/articles/${article.slug}` })).json().counts.likes).toBe(130);
    const likeReads = fake.readRequests.filter((r) => r.path.endsWith('/liking_users'));
    expect(likeReads).toHaveLength(2);
    expect((await reads()).backfeed_reads).toBe(5);
  });

  it('a 500, a garbled answer or an HTML page from X removes nothing; the poll comes back at its usual time', async () => {
    const { article, row, postId } = await announced('Flaky X');
    const [ana, ben] = ['Ana', 'Ben'].map(user);
    fake.likes.set(postId, [ana, ben]);
    fake.reply(postId, ben, 'Hello');
    await pollNow();
    expect(summary(await social(article.slug))).toEqual(['x like Ana', 'x like Ben', 'x reply Ben']);
    const [{ posted_at: postedAt }] = await queryRows<{ posted_at: Date }>(db(), sql`select posted_at from announcements where id = ${row.id}`);

    // meanwhile everything is withdrawn, but X does not answer properly
    fake.likes.set(postId, []);
    fake.tweets.length = 0;
    for (const bad of [
      X.serverErrorJson(),
      { kind: 'answer' as const, status: 200, contentType: 'application/json', body: JSON.stringify({ unexpected: true }) },
      { kind: 'answer' as const, status: 200, contentType: 'application/json', body: JSON.stringify({ data: 'not a list', meta: { result_count: 1 } }) },
      X.unavailableHtml(),
      { kind: 'drop' as const },
    ]) {
      fake.scriptReads(bad);
      await pollNow();
      expect(summary(await social(article.slug)), JSON.stringify(bad)).toEqual(['x like Ana', 'x like Ben', 'x reply Ben']);
      const job = await pollJob();
      expect(job.status).toBe('queued');
      expect(Math.abs(new Date(job.run_at).getTime() - nextPollAt(new Date(postedAt), new Date())!.getTime())).toBeLessThan(5_000);
    }
    // a good answer again: now they go
    await pollNow();
    expect(await social(article.slug)).toEqual([]);
  });

  it('a post older than recent search’s 7 days keeps replies the search no longer finds; a withdrawn like still goes', async () => {
    const { article, row, postId } = await announced('A week old');
    const [ana, ben] = ['Ana', 'Ben'].map(user);
    fake.likes.set(postId, [ana, ben]);
    const old = fake.reply(postId, ben, 'Said on day one', 60_000);
    await pollNow();
    expect(summary(await social(article.slug))).toEqual(['x like Ana', 'x like Ben', 'x reply Ben']);
    // eight days on: the reply is out of recent search's reach, Ana withdrew her like
    await db().execute(sql`update announcements set posted_at = posted_at - interval '8 days' where id = ${row.id}`);
    old.created_at = new Date(Date.now() - 8 * 86_400_000).toISOString();
    fake.likes.set(postId, [ben]);
    await pollNow();
    expect(summary(await social(article.slug))).toEqual(['x like Ben', 'x reply Ben']);
  });

  it('stops at X_BACKFEED_MONTHLY_READS: no request is made, the poll waits for the next month with a logged reason; a new month starts from zero', async () => {
    const { article, postId } = await announced('Capped');
    fake.likes.set(postId, [user('Ana')]);
    // other processes spent the month's reads but 3: a poll needs 4
    await db().execute(sql`update announcement_networks set backfeed_month = to_char(now() at time zone 'UTC', 'YYYY-MM'), backfeed_reads = ${CAP - 3} where network = 'x'`);
    await pollNow();
    expect(fake.readRequests).toHaveLength(0);
    expect(await social(article.slug)).toEqual([]);
    expect((await reads()).backfeed_reads).toBe(CAP - 3);
    const job = await pollJob();
    expect(job.status).toBe('queued');
    expect(new Date(job.run_at).getTime()).toBe(nextMonthStart().getTime());
    const logged = logLines.map((l) => JSON.parse(l) as { msg: string; reason?: string }).find((l) => l.msg.startsWith('backfeed: rate limited'));
    expect(logged?.reason).toMatch(/X_BACKFEED_MONTHLY_READS \(1000\) is spent for \d{4}-\d{2}: X is polled again from \d{4}-\d{2}-01/);

    // the month turns: the count starts again
    await db().execute(sql`update announcement_networks set backfeed_month = '2000-01' where network = 'x'`);
    await pollNow();
    expect(summary(await social(article.slug))).toEqual(['x like Ana']);
    expect((await reads()).backfeed_reads).toBe(4);
  });
});

describe('X backfeed off (the default)', () => {
  it('queues no poll for a post on X and reads nothing', async () => {
    const off = await createTestApp(xConfig(fake, { apiUrl: SITE }), {});
    try {
      expect(off.config.xBackfeed).toBe(false);
      const article = await publishArticle(off.services, { title: 'Not polled' });
      await off.services.jobs.drainDue();
      expect((await rowOf(off.database.db, article.id, 'x')).status).toBe('posted');
      expect(await queryRows(off.database.db, sql`select id from jobs where kind = ${BACKFEED_JOB}`)).toEqual([]);
      expect(fake.readRequests).toHaveLength(0);
    } finally {
      await off.close();
    }
  });
});
