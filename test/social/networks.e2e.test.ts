// All three networks at once, through the HTTP API: one announcement per article and
// network in the publish transaction, `syndication` on the public article, the admin
// list's network filter, X_MONTHLY_LIMIT, and two processes posting each once.
import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compose } from '../../src/compose.ts';
import { queryRows } from '../../src/db/client.ts';
import { nextMonthStart } from '../../src/social/announcements/announce.worker.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { adminRequest, createArticle, publishArticle } from '../helpers/factories.ts';
import { FakeBluesky } from '../helpers/fake-bluesky.ts';
import { FakeMastodon } from '../helpers/fake-mastodon.ts';
import { FakeX } from '../helpers/fake-x.ts';
import { sleep, xConfig } from './support.ts';
import { networksConfig, rowOf } from './networks.support.ts';

let x: FakeX;
let m: FakeMastodon;
let b: FakeBluesky;
let t: TestApp;

beforeAll(async () => {
  [x, m, b] = await Promise.all([FakeX.start(), FakeMastodon.start(), FakeBluesky.start()]);
  t = await createTestApp({ ...xConfig(x), ...networksConfig(m, b), xMonthlyLimit: 2 });
});
afterAll(async () => {
  await t?.close();
  await Promise.all([x?.close(), m?.close(), b?.close()]);
});

describe('announcing on Mastodon, Bluesky and X', () => {
  it('one post per network; the public article lists them as syndication, Mastodon · Bluesky · X', async () => {
    const a = await createArticle(t, { title: 'Everywhere at once' });
    const queued = (await adminRequest(t, 'GET', `/v1/admin/announcements?article=${a.id}`)).json().data as { network: string; status: string }[];
    expect(queued.map((q) => `${q.network}:${q.status}`).sort()).toEqual(['bluesky:queued', 'mastodon:queued', 'x:queued']);
    await t.services.jobs.drainDue();
    expect([x.posts.length, m.statuses.length, b.posts.length]).toEqual([1, 1, 1]);
    const pub = (await t.app.inject({ method: 'GET', url: `/v1/articles/${a.slug}` })).json();
    expect(pub.syndication).toEqual([
      { network: 'mastodon', url: m.statuses[0].url },
      { network: 'bluesky', url: `https://bsky.app/profile/inkwell.bsky.test/post/${b.posts[0].rkey}` },
      { network: 'x', url: `https://x.com/inkwellblog/status/${x.posts[0].id}` },
    ]);
    expect(pub.announcement).toEqual({ status: 'posted', url: `https://x.com/inkwellblog/status/${x.posts[0].id}` });

    const onlyBluesky = (await adminRequest(t, 'GET', '/v1/admin/announcements?network=bluesky')).json();
    expect(onlyBluesky.data.map((d: { network: string }) => d.network)).toEqual(['bluesky']);
    expect(onlyBluesky.data[0]).toMatchObject({ status: 'posted', postId: b.posts[0].uri, tweetId: null });
    expect((await adminRequest(t, 'GET', '/v1/admin/announcements?network=myspace')).statusCode).toBe(400);
  });

  it('X_MONTHLY_LIMIT: beyond it X waits as paused until next month; the other networks go on', async () => {
    const more = [];
    for (const title of ['Second this month', 'Third this month']) more.push(await publishArticle(t.services, { title }));
    await t.services.jobs.drainDue();
    expect(x.posts).toHaveLength(2);
    const over = await rowOf(t.database.db, more[1].id, 'x');
    expect(over.status).toBe('paused');
    expect(over.last_error).toMatch(/X monthly limit reached \(2 posts in \d{4}-\d{2}, X_MONTHLY_LIMIT\); sending resumes on \d{4}-\d{2}-01/);
    expect(new Date(over.next_attempt_at!).getTime()).toBeGreaterThanOrEqual(nextMonthStart().getTime());
    expect((await rowOf(t.database.db, more[1].id, 'mastodon')).status).toBe('posted');
    expect((await rowOf(t.database.db, more[1].id, 'bluesky')).status).toBe('posted');
    // the recheck in this month still finds the limit reached, without asking X
    await t.database.db.execute(sql`update jobs set run_at = now() where kind = 'announce.x' and status = 'queued'`);
    await t.services.jobs.drainDue();
    expect((await rowOf(t.database.db, more[1].id, 'x')).status).toBe('paused');
    expect(x.tweetRequests).toHaveLength(2);
  });
});

describe('two processes on one database', () => {
  it('20 articles → exactly 20 posts on each network, none twice', async () => {
    const fresh = await createTestApp({ ...xConfig(x), ...networksConfig(m, b) });
    const other = compose(fresh.config, fresh.database, pino({ level: 'silent' }));
    try {
      x.reset();
      m.reset();
      b.reset();
      const N = 20;
      for (let i = 0; i < N; i++) await publishArticle(fresh.services, { title: `Article ${i}` });
      fresh.services.jobs.start();
      other.jobs.start();
      for (let i = 0; i < 600 && (x.posts.length < N || m.statuses.length < N || b.posts.length < N); i++) await sleep(100);
      await Promise.all([fresh.services.jobs.stop(5000), other.jobs.stop(5000)]);
      expect([x.posts.length, m.statuses.length, b.posts.length]).toEqual([N, N, N]);
      expect(new Set(m.statuses.map((s) => s.text)).size).toBe(N);
      expect(new Set(b.posts.map((p) => p.record.text)).size).toBe(N);
      expect([m.postRequests.length, b.calls('com.atproto.repo.createRecord').length, x.tweetRequests.length]).toEqual([N, N, N]);
      // one login for the site, whichever process came first (two racing at the very start may both log in)
      const rows = await queryRows<{ network: string; status: string; n: number }>(
        fresh.database.db,
        sql`select network, status, count(*)::int as n from announcements group by network, status order by network`,
      );
      expect(rows).toEqual([
        { network: 'bluesky', status: 'posted', n: N },
        { network: 'mastodon', status: 'posted', n: N },
        { network: 'x', status: 'posted', n: N },
      ]);
    } finally {
      await other.jobs.stop(1000);
      await fresh.close();
    }
  }, 120_000);
});
