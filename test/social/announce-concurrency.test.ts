// Two processes' workers on one database: every announcement is posted exactly once.
// On PostgreSQL the second runner has its own connection pool, as a second process would.
import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compose, type Services } from '../../src/compose.ts';
import { openDatabase, queryRows, type Database } from '../../src/db/client.ts';
import { testDatabaseKind } from '../helpers/db.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { FakeX } from '../helpers/fake-x.ts';
import { sleep, xConfig } from './support.ts';
import { publishArticle } from '../helpers/factories.ts';

let fake: FakeX;
let t: TestApp;
let second: Database | undefined;
let other: Services;
/** what the second process's worker logged it posted */
const postedByOther: number[] = [];

beforeAll(async () => {
  fake = await FakeX.start();
  t = await createTestApp(xConfig(fake));
  if (t.database.kind === 'postgres') second = await openDatabase({ url: t.database.location, dataDir: '', poolSize: 5 });
  const stream = {
    write(line: string) {
      const entry = JSON.parse(line) as { msg?: string; announcementId?: number };
      if (entry.msg === 'announcement posted') postedByOther.push(entry.announcementId!);
    },
  };
  other = compose(t.config, second ?? t.database, pino({ level: 'info' }, stream));
});
afterAll(async () => {
  await other?.jobs.stop(2000);
  await t?.close();
  await second?.close();
  await fake?.close();
});

describe(`two workers on one ${testDatabaseKind} database`, () => {
  it('200 published articles → exactly 200 posts, none twice', async () => {
    const N = 200;
    const articles = [];
    for (let i = 0; i < N; i++) articles.push(await publishArticle(t.services, { title: `Article number ${i}` }));

    t.services.jobs.start();
    other.jobs.start();
    for (let i = 0; i < 400 && fake.tweetRequests.length < N; i++) await sleep(100);
    await Promise.all([t.services.jobs.stop(5000), other.jobs.stop(5000)]);

    expect(fake.tweetRequests).toHaveLength(N);
    expect(fake.tweetRequests.every((r) => r.outcome === '201')).toBe(true);
    expect(new Set(fake.posts.map((p) => p.text)).size).toBe(N);
    expect(fake.posts.map((p) => p.text).sort()).toEqual(articles.map((a) => `${a.title} https://blog.example.com/${a.slug}/`).sort());

    const rows = await queryRows<{ status: string; n: number; attempts: number }>(
      t.database.db,
      sql`select status, count(*)::int as n, max(attempts)::int as attempts from announcements group by status`,
    );
    expect(rows).toEqual([{ status: 'posted', n: N, attempts: 1 }]);
    // every job ran once, and both workers took their share
    const jobs = await queryRows<{ status: string; n: number; attempts: number }>(
      t.database.db,
      sql`select status, count(*)::int as n, max(attempts)::int as attempts from jobs where kind = 'announce.x' group by status`,
    );
    expect(jobs).toEqual([{ status: 'done', n: N, attempts: 1 }]);
    expect(postedByOther.length).toBeGreaterThan(0);
    expect(postedByOther.length).toBeLessThan(N);
  });
});
