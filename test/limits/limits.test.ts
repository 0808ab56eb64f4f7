// The write limits hold for the site: RATE_LIMIT_WRITES and COMMENT_MIN_INTERVAL are
// counted in PostgreSQL, so requests racing through two processes (two apps on one
// PostgreSQL here) get no more than one process would grant. On PGlite, in memory.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { createArticle } from '../helpers/factories.ts';
import { testDatabaseKind } from '../helpers/db.ts';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { memoryLimitStore } from '../../src/limits/limits.store.ts';
import type { Config } from '../../src/config.ts';

describe('the memory store (PGlite)', () => {
  it('counts hits in a fixed window, and gives a slot to one claimant until it expires', async () => {
    let now = 1_000;
    const s = memoryLimitStore(() => now);
    expect(await s.hit('k', 1000)).toEqual({ count: 1, ttlMs: 1000 });
    now += 400;
    expect(await s.hit('k', 1000)).toEqual({ count: 2, ttlMs: 600 });
    now += 600;
    expect(await s.hit('k', 1000)).toEqual({ count: 1, ttlMs: 1000 });
    expect(await s.claim('c', 500)).toEqual({ ok: true });
    now += 200;
    expect(await s.claim('c', 500)).toEqual({ ok: false, waitMs: 300 });
    now += 300;
    expect(await s.claim('c', 500)).toEqual({ ok: true });
    s.close();
  });
});

/** Two apps ("processes") on one database; on PGlite the second is the first. */
async function twoApps(overrides: Partial<Config>): Promise<{ a: TestApp; b: TestApp; close(): Promise<void> }> {
  const a = await createTestApp(overrides);
  let other: Database | undefined;
  let b = a;
  if (testDatabaseKind === 'postgres') {
    other = await openDatabase({ url: a.database.location, dataDir: '', poolSize: 5 });
    b = await createTestApp(overrides, { database: other });
  }
  return {
    a,
    b,
    close: async () => {
      if (b !== a) await b.close();
      await other?.close();
      await a.close();
    },
  };
}

const comment = (t: TestApp, slug: string, i: number) =>
  t.app.inject({
    method: 'POST',
    url: `/v1/articles/${slug}/comments`,
    payload: { authorName: 'Racer', authorEmail: `racer${i}@example.org`, body: `Comment number ${i}` },
  });

describe(`limits across processes on ${testDatabaseKind}`, () => {
  describe('RATE_LIMIT_WRITES', () => {
    let apps: Awaited<ReturnType<typeof twoApps>>;
    beforeAll(async () => {
      apps = await twoApps({ commentModeration: 'open', commentMinIntervalSeconds: 0, rateLimitWrites: { max: 5, windowMs: 60_000, text: '5/minute' } });
      await createArticle(apps.a, { title: 'Budget' });
    });
    afterAll(() => apps.close());

    it('12 writes at once, half through each process: exactly 5 pass, the rest are 429 with Retry-After', async () => {
      const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => comment(i % 2 ? apps.b : apps.a, 'budget', i)));
      const codes = answers.map((r) => r.statusCode).sort();
      expect(codes.filter((c) => c === 201)).toHaveLength(5);
      expect(codes.filter((c) => c === 429)).toHaveLength(7);
      const limited = answers.find((r) => r.statusCode === 429)!;
      expect(limited.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    });
  });

  describe('COMMENT_MIN_INTERVAL', () => {
    let apps: Awaited<ReturnType<typeof twoApps>>;
    beforeAll(async () => {
      apps = await twoApps({ commentModeration: 'open', commentMinIntervalSeconds: 60, rateLimitWrites: { max: 1000, windowMs: 60_000, text: '1000/minute' } });
      await createArticle(apps.a, { title: 'Interval' });
    });
    afterAll(() => apps.close());

    it('6 comments at once from one client through two processes: one is stored, five wait', async () => {
      const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => comment(i % 2 ? apps.b : apps.a, 'interval', i)));
      expect(answers.filter((r) => r.statusCode === 201)).toHaveLength(1);
      const waits = answers.filter((r) => r.statusCode === 429);
      expect(waits).toHaveLength(5);
      for (const w of waits) expect(Number(w.headers['retry-after'])).toBeGreaterThan(50);
      const stored = (await apps.b.app.inject({ method: 'GET', url: '/v1/articles/interval/responses' })).json();
      expect(stored.data).toHaveLength(1);
    });

    it('a duplicate is answered 409, not 429: it is refused before the slot is taken', async () => {
      // another client (a different address) posts the same comment twice
      const from = () =>
        apps.a.app.inject({
          method: 'POST',
          url: '/v1/articles/interval/comments',
          remoteAddress: '192.0.2.7',
          payload: { authorName: 'Twice', authorEmail: 'twice@example.org', body: 'Same words' },
        });
      expect((await from()).statusCode).toBe(201);
      expect((await from()).statusCode).toBe(409);
    });
  });
});
