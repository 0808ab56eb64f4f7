// The backfeed (§13): reactions to our own Mastodon and Bluesky posts, polled through
// the real masto and @atproto/api clients from fakes on 127.0.0.1, land as social
// responses (threaded), vanish when withdrawn, survive a failing poll, and the job
// comes back on the schedule.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.ts';
import { nextPollAt } from '../../src/social/backfeed/schedule.ts';
import { BACKFEED_JOB, queueRecentPolls } from '../../src/social/backfeed/backfeed.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { FakeMastodon } from '../helpers/fake-mastodon.ts';
import { FakeBluesky } from '../helpers/fake-bluesky.ts';
import { cleanSlate, networksConfig, rowOf, type Social } from './networks.support.ts';
import { account, bpost, me, newBskyReactions, person, serveBskyReactions, type BskyPost } from './reactions.support.ts';
import { publishArticle } from '../helpers/factories.ts';

const SITE = 'https://blog.example.com';
let m: FakeMastodon;
let b: FakeBluesky;
let t: TestApp;
beforeAll(async () => {
  m = await FakeMastodon.start();
  b = await FakeBluesky.start();
  // the reference frontend serves article pages when the site is this server; replies shown at once
  t = await createTestApp(networksConfig(m, b, { apiUrl: SITE, commentModeration: 'open' }));
});
afterAll(async () => {
  await t?.close();
  await m?.close();
  await b?.close();
});
const db = () => t.database.db;

interface PollJob {
  id: number;
  key: string;
  status: string;
  run_at: Date;
  attempts: number;
}
const pollJobs = () => queryRows<PollJob>(db(), sql`select id, key, status, run_at, attempts from jobs where kind = ${BACKFEED_JOB} order by id`);
/** Makes the queued polls due and runs them. */
async function pollNow(): Promise<void> {
  await db().execute(sql`update jobs set run_at = now() where kind = ${BACKFEED_JOB} and status = 'queued'`);
  await t.services.jobs.drainDue();
}

async function social(slug: string, network?: string): Promise<Social[]> {
  const res = await t.app.inject({ method: 'GET', url: `/v1/articles/${slug}/responses?type=social&limit=100` });
  expect(res.statusCode).toBe(200);
  const all = res.json().data as Social[];
  return network ? all.filter((r) => r.network === network) : all;
}

const bsky = newBskyReactions();

beforeEach(async () => {
  await cleanSlate(db());
  await db().execute(sql`delete from jobs where kind = ${BACKFEED_JOB}`);
  m.reset();
  b.reset();
  Object.assign(bsky, { likes: [], reposts: [], replies: [], mentions: [], failing: false });
});

describe('backfeed', () => {
  it('polls Mastodon and Bluesky: likes, reposts, threaded replies and mentions appear; withdrawn ones go; a failing poll keeps them; the job follows the schedule', async () => {
    const article = await publishArticle(t.services, { title: 'Echoes' });
    await t.services.jobs.drainDue();
    const mrow = await rowOf(db(), article.id, 'mastodon');
    const brow = await rowOf(db(), article.id, 'bluesky');
    expect([mrow.status, brow.status]).toEqual(['posted', 'posted']);

    // one poll job per posted announcement, first due 5 minutes after posting
    const jobs = await pollJobs();
    expect(jobs.map((j) => j.key).sort()).toEqual([`announcement:${mrow.id}`, `announcement:${brow.id}`].sort());
    const [{ posted_at: postedAt }] = await queryRows<{ posted_at: Date }>(db(), sql`select posted_at from announcements where id = ${mrow.id}`);
    const mjob = jobs.find((j) => j.key === `announcement:${mrow.id}`)!;
    expect(new Date(mjob.run_at).getTime() - new Date(postedAt).getTime()).toBeGreaterThanOrEqual(5 * 60_000 - 1000);
    expect(new Date(mjob.run_at).getTime() - new Date(postedAt).getTime()).toBeLessThanOrEqual(5 * 60_000 + 2000);

    // reactions on Mastodon
    const status = m.statuses[0];
    const [ana, ben, cleo, dan] = ['Ana', 'Ben', 'Cleo', 'Dan'].map(account);
    status.favouritedBy.push(ana, ben);
    status.rebloggedBy.push(ben);
    const cleoReply = m.reply(status, cleo, 'Great read <3');
    const danReply = m.reply(cleoReply, dan, 'Agreed with Cleo');
    m.reply(cleoReply, m.account, 'Thanks!'); // our own answer: not a reaction

    // reactions on Bluesky
    const ours = b.posts[0];
    const announced = (): BskyPost => ({ author: me, rkey: ours.rkey, text: ours.record.text, createdAt: '2026-11-30T11:59:00.000Z', replies: [] });
    serveBskyReactions(b, bsky, announced);
    const [eve, fay, gus, hal] = ['Eve', 'Fay', 'Gus', 'Hal'].map(person);
    bsky.likes.push(eve);
    bsky.reposts.push(fay);
    const gusReply = bpost(gus, 'Nice one');
    const halReply = bpost(hal, 'Yes, Gus');
    gusReply.replies.push(halReply);
    bsky.replies.push(gusReply);
    const mention = bpost(fay, `Read this: ${SITE}/${article.slug}/`);
    bsky.mentions.push(mention, bpost(me, `my own post ${SITE}/${article.slug}/`));

    const loginsBefore = b.createSessionCalls;
    await pollNow();
    expect(b.createSessionCalls).toBe(loginsBefore); // the stored session, not a login per poll

    const mast = await social(article.slug, 'mastodon');
    expect(mast.map((r) => `${r.kind} ${r.author.name}`).sort()).toEqual(['like Ana', 'like Ben', 'reply Cleo', 'reply Dan', 'repost Ben']);
    const cleoR = mast.find((r) => r.author.name === 'Cleo')!;
    const danR = mast.find((r) => r.author.name === 'Dan')!;
    expect(cleoR).toMatchObject({ parentId: null, url: cleoReply.url, author: { url: cleo.url, photo: cleo.avatar } });
    expect(cleoR.html).toContain('Great read &lt;3');
    expect(danR.parentId).toBe(cleoR.id);
    expect(danR.url).toBe(danReply.url);
    expect(mast.find((r) => r.kind === 'like' && r.author.name === 'Ana')).toMatchObject({ url: mrow.url, author: { url: ana.url, photo: ana.avatar } });

    const blue = await social(article.slug, 'bluesky');
    expect(blue.map((r) => `${r.kind} ${r.author.name}`).sort()).toEqual(['like Eve', 'mention Fay', 'reply Gus', 'reply Hal', 'repost Fay']);
    const gusR = blue.find((r) => r.author.name === 'Gus')!;
    expect(gusR).toMatchObject({
      parentId: null,
      url: `https://bsky.app/profile/gus.bsky.test/post/${gusReply.rkey}`,
      author: { url: 'https://bsky.app/profile/gus.bsky.test', photo: 'https://cdn.bsky.test/gus.jpg' },
      createdAt: '2026-11-30T12:00:00.000Z',
    });
    expect(blue.find((r) => r.author.name === 'Hal')!.parentId).toBe(gusR.id);
    expect(blue.find((r) => r.kind === 'mention')).toMatchObject({ url: `https://bsky.app/profile/fay.bsky.test/post/${mention.rkey}` });
    const searches = b.calls('app.bsky.feed.searchPosts');
    expect(searches.at(-1)!.query.get('url')).toBe(`${SITE}/${article.slug}/`);
    expect(searches.at(-1)!.query.get('q')).toBe(`${SITE}/${article.slug}/`);

    // the article counts them: likes and reposts from both networks, replies at any depth (mentions are not replies)
    const counts = (await t.app.inject({ method: 'GET', url: `/v1/articles/${article.slug}` })).json().counts;
    expect(counts).toEqual({ comments: 0, pingbacks: 0, webmentions: 0, likes: 3, reposts: 2, replies: 4 });
    const adminCounts = (await t.app.inject({ method: 'GET', url: `/v1/admin/articles/${article.id}`, headers: t.auth })).json().counts;
    expect(adminCounts).toMatchObject({ likes: 3, reposts: 2, replies: 4 });

    // the job comes back on the schedule
    const after = (await pollJobs()).find((j) => j.key === `announcement:${mrow.id}`)!;
    expect(after.status).toBe('queued');
    expect(after.attempts).toBe(0);
    const expected = nextPollAt(new Date(postedAt), new Date())!.getTime();
    expect(Math.abs(new Date(after.run_at).getTime() - expected)).toBeLessThan(5_000);

    // the reference article page names who reacted and shows the facepile, with initials, not their photos
    const page = await t.app.inject({ method: 'GET', url: `/${article.slug}/`, headers: { accept: 'text/html' } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Mentioned on Mastodon by');
    expect(page.body).toContain('Mentioned on Bluesky by');
    expect(page.body).toContain('class="facepile"');
    expect(page.body).not.toContain(ana.avatar!);

    // a network answering 500: what is stored stays, the next poll is at its usual time
    m.route('GET', '/api/v1/statuses/:id/context', (_req, res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'Internal server error' }));
    });
    bsky.failing = true;
    status.favouritedBy.splice(0, 1); // withdrawn meanwhile, but the poll did not succeed
    await pollNow();
    expect(await social(article.slug, 'mastodon')).toHaveLength(5);
    expect(await social(article.slug, 'bluesky')).toHaveLength(5);
    const failed = (await pollJobs()).find((j) => j.key === `announcement:${mrow.id}`)!;
    expect(failed.status).toBe('queued');
    expect(Math.abs(new Date(failed.run_at).getTime() - nextPollAt(new Date(postedAt), new Date())!.getTime())).toBeLessThan(5_000);

    // a withdrawn like and deleted replies are gone after the next good poll
    m.unroute('GET', '/api/v1/statuses/:id/context');
    bsky.failing = false;
    cleoReply.replies.splice(cleoReply.replies.indexOf(danReply), 1);
    bsky.likes.length = 0;
    gusReply.replies.length = 0;
    await pollNow();
    expect((await social(article.slug, 'mastodon')).map((r) => `${r.kind} ${r.author.name}`).sort()).toEqual(['like Ben', 'reply Cleo', 'repost Ben']);
    expect((await social(article.slug, 'bluesky')).map((r) => `${r.kind} ${r.author.name}`).sort()).toEqual(['mention Fay', 'reply Gus', 'repost Fay']);
    expect((await t.app.inject({ method: 'GET', url: `/v1/articles/${article.slug}` })).json().counts).toMatchObject({ likes: 1, reposts: 2, replies: 2 });
  });

  it('waits for the reset when a network answers 429', async () => {
    const article = await publishArticle(t.services, { title: 'Rate limited' });
    await t.services.jobs.drainDue();
    const mrow = await rowOf(db(), article.id, 'mastodon');
    const reset = new Date(Date.now() + 42 * 60_000);
    m.route('GET', '/api/v1/statuses/:id/favourited_by', (_req, res) => {
      res.writeHead(429, { 'content-type': 'application/json', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset.toISOString() });
      res.end(JSON.stringify({ error: 'Too many requests' }));
    });
    m.statuses[0].rebloggedBy.push(account('Ivy'));
    try {
      await pollNow();
    } finally {
      m.unroute('GET', '/api/v1/statuses/:id/favourited_by');
    }
    const job = (await pollJobs()).find((j) => j.key === `announcement:${mrow.id}`)!;
    expect(job.status).toBe('queued');
    expect(Math.abs(new Date(job.run_at).getTime() - reset.getTime())).toBeLessThan(1_000);
    // nothing was stored from a poll that did not complete
    expect(await social(article.slug, 'mastodon')).toHaveLength(0);
  });

  it('a list cut after its last page read takes nobody missing for withdrawn (a post with hundreds of likes keeps them)', async () => {
    const article = await publishArticle(t.services, { title: 'Popular' });
    await t.services.jobs.drainDue();
    const ours = b.posts[0];
    serveBskyReactions(b, bsky, () => ({ author: me, rkey: ours.rkey, text: ours.record.text, createdAt: '2026-11-30T11:59:00.000Z', replies: [] }));
    const [ana, ben] = ['Ana', 'Ben'].map(person);
    bsky.likes.push(ana, ben);
    m.statuses[0].favouritedBy.push(account('Cleo'), account('Dan'));
    await pollNow();
    expect((await social(article.slug, 'bluesky')).map((r) => r.author.name).sort()).toEqual(['Ana', 'Ben']);
    expect((await social(article.slug, 'mastodon')).map((r) => r.author.name).sort()).toEqual(['Cleo', 'Dan']);

    // Bluesky now pages its likes (Ben on every page, always another cursor): Ana is on a page not read
    b.route('app.bsky.feed.getLikes', (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ uri: req.query.get('uri'), cursor: `${Number(req.query.get('cursor') ?? 0) + 1}`, likes: [{ actor: { did: ben.did, handle: ben.handle, displayName: ben.displayName }, createdAt: '2026-11-30T12:01:00.000Z', indexedAt: '2026-11-30T12:01:00.000Z' }] }));
    });
    // Mastodon pages its favourites too (a Link to the next page on every answer)
    m.route('GET', '/api/v1/statuses/:id/favourited_by', (req, res) => {
      const next = new URL(req.path, `http://${req.headers.host}`);
      next.searchParams.set('max_id', String(Number(req.query.get('max_id') ?? 100) - 1));
      res.writeHead(200, { 'content-type': 'application/json', link: `<${next.href}>; rel="next"` });
      res.end(JSON.stringify([account('Dan')]));
    });
    try {
      await pollNow();
    } finally {
      m.unroute('GET', '/api/v1/statuses/:id/favourited_by');
    }
    expect((await social(article.slug, 'bluesky')).map((r) => r.author.name).sort()).toEqual(['Ana', 'Ben']);
    expect((await social(article.slug, 'mastodon')).map((r) => r.author.name).sort()).toEqual(['Cleo', 'Dan']);

    // a list read to its end still tells who withdrew
    serveBskyReactions(b, bsky, () => ({ author: me, rkey: ours.rkey, text: ours.record.text, createdAt: '2026-11-30T11:59:00.000Z', replies: [] }));
    bsky.likes.splice(0, 1);
    m.statuses[0].favouritedBy.splice(0, 1);
    await pollNow();
    expect((await social(article.slug, 'bluesky')).map((r) => r.author.name)).toEqual(['Ben']);
    expect((await social(article.slug, 'mastodon')).map((r) => r.author.name)).toEqual(['Dan']);
  });

  it('at startup, posted announcements younger than a month without a poll job get one; older ones and X do not', async () => {
    const article = await publishArticle(t.services, { title: 'Before the backfeed' });
    await t.services.jobs.drainDue();
    const mrow = await rowOf(db(), article.id, 'mastodon');
    const brow = await rowOf(db(), article.id, 'bluesky');
    // as if posted before the backfeed existed; the Bluesky one 31 days ago
    await db().execute(sql`delete from jobs where kind = ${BACKFEED_JOB}`);
    await db().execute(sql`update announcements set posted_at = now() - interval '31 days' where id = ${brow.id}`);
    expect(await queueRecentPolls(db(), ['mastodon', 'bluesky'])).toBe(1);
    expect((await pollJobs()).map((j) => j.key)).toEqual([`announcement:${mrow.id}`]);
    // a second start adds nothing
    expect(await queueRecentPolls(db(), ['mastodon', 'bluesky'])).toBe(0);
  });
});
