// /v1/changes: a full walk with tombstones, and a cursor that stays correct while
// several connections commit concurrently (on PostgreSQL: several processes' worth).
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { adminRequest, createArticle } from '../helpers/factories.ts';
import { testDatabaseKind } from '../helpers/db.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ commentModeration: 'open', commentMinIntervalSeconds: 0 });
});
afterAll(() => t.close());

interface Change {
  cursor: string;
  kind: string;
  id: number;
  slug: string;
  change: 'upsert' | 'delete';
  at: string;
}

async function page(since?: string, limit = 3) {
  const qs = new URLSearchParams({ limit: String(limit), ...(since ? { since } : {}) });
  const res = await t.app.inject({ method: 'GET', url: `/v1/changes?${qs}` });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { data: Change[]; meta: { nextCursor: string } };
}

/** Walks from `since` to the end; returns what it saw and the cursor to poll again with. */
async function walk(since?: string, limit = 3) {
  const seen: Change[] = [];
  let cursor = since;
  for (;;) {
    const p = await page(cursor, limit);
    expect(typeof p.meta.nextCursor).toBe('string');
    seen.push(...p.data);
    if (!p.data.length) return { seen, cursor: p.meta.nextCursor };
    cursor = p.meta.nextCursor;
  }
}

describe('/v1/changes', () => {
  it('walks every published article once as its latest change, with tombstones', async () => {
    const a = await createArticle(t, { title: 'Walk A' });
    const b = await createArticle(t, { title: 'Walk B' });
    const c = await createArticle(t, { title: 'Walk C' });
    const draft = await createArticle(t, { title: 'Walk draft', status: 'draft' });
    await adminRequest(t, 'PATCH', `/v1/admin/articles/${a.id}`, { title: 'Walk A, edited' });
    await adminRequest(t, 'POST', `/v1/admin/articles/${b.id}/unpublish`);
    await adminRequest(t, 'DELETE', `/v1/admin/articles/${c.id}`);
    await adminRequest(t, 'DELETE', `/v1/admin/articles/${draft.id}`);

    const first = await walk();
    const byId = new Map(first.seen.map((ch) => [ch.id, ch]));
    expect(first.seen.length).toBe(byId.size); // each article once
    expect(byId.get(a.id)).toMatchObject({ kind: 'article', change: 'upsert', slug: a.slug });
    expect(byId.get(b.id)).toMatchObject({ change: 'delete' });
    expect(byId.get(c.id)).toMatchObject({ change: 'delete', slug: c.slug });
    expect(byId.has(draft.id)).toBe(false);
    // each where its latest change put it: A's edit came before B's unpublishing
    const order = first.seen.map((ch) => ch.id);
    expect(order.indexOf(a.id)).toBeLessThan(order.indexOf(b.id));

    // polling again at the end: nothing new, the same cursor
    const again = await page(first.cursor);
    expect(again.data).toEqual([]);
    expect(again.meta.nextCursor).toBe(first.cursor);

    // a comment on a published article is an upsert of it; republishing B too
    const posted = await t.app.inject({ method: 'POST', url: `/v1/articles/${a.slug}/comments`, payload: { authorName: 'Bo', authorEmail: 'bo@example.com', body: 'Hello.' } });
    expect(posted.statusCode).toBe(201);
    await adminRequest(t, 'POST', `/v1/admin/articles/${b.id}/publish`);
    const next = await walk(first.cursor);
    expect(next.seen.map((ch) => [ch.id, ch.change])).toEqual([
      [a.id, 'upsert'],
      [b.id, 'upsert'],
    ]);
  });

  it('is cached like a public read and invalidated by the next change', async () => {
    const before = await t.app.inject({ method: 'GET', url: '/v1/changes?limit=1000' });
    expect(before.headers['cache-control']).toMatch(/public/);
    const hits = t.app.responseCache.stats.hits;
    await t.app.inject({ method: 'GET', url: '/v1/changes?limit=1000' });
    expect(t.app.responseCache.stats.hits).toBe(hits + 1);
    const d = await createArticle(t, { title: 'Invalidates' });
    const after = (await t.app.inject({ method: 'GET', url: '/v1/changes?limit=1000' })).json();
    expect(after.data.at(-1)).toMatchObject({ id: d.id, change: 'upsert' });
  });

  it('refuses a malformed cursor, naming the parameter', async () => {
    for (const since of ['abc', '1.2.3', '-1.0', '99999999999999999999.1']) {
      const res = await t.app.inject({ method: 'GET', url: `/v1/changes?since=${encodeURIComponent(since)}` });
      expect(res.statusCode, since).toBe(400);
      expect(res.headers['content-type']).toMatch(/problem\+json/);
      expect(JSON.stringify(res.json())).toContain('since');
    }
  });

  it('never lists a change behind a cursor already handed out, with writers committing concurrently', async () => {
    // a writer holds an open transaction that recorded a change (a low xid); later writers commit first
    const start = await walk();
    if (testDatabaseKind === 'postgres') {
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let slowDone!: Promise<unknown>;
      const slowStarted = new Promise<void>((started) => {
        slowDone = t.services.events.transaction(t.database.db, async (tx, emit) => {
          const [row] = await queryRows<{ id: number }>(tx, sql`insert into articles (slug, title, html, status, published_at) values ('slow-writer', 'Slow writer', '<p>x</p>', 'published', now()) returning id`);
          await emit({ type: 'article.published', data: { id: row.id, slug: 'slow-writer', url: 'http://blog.test/slow-writer/' } });
          started();
          await held;
        });
      });
      await slowStarted;
      // fast writers on other connections commit while the slow one is open
      const fast = await Promise.all([0, 1, 2].map((i) => createArticle(t, { title: `Fast writer ${i}` })));
      const during = await walk(start.cursor);
      // the fast ones are not listed yet: listing them would move the cursor past the slow one's change
      expect(during.seen.map((c) => c.id)).toEqual([]);
      release();
      await slowDone;
      const after = await walk(during.cursor);
      const ids = after.seen.map((c) => c.id);
      expect(ids).toHaveLength(4);
      for (const f of fast) expect(ids).toContain(f.id);
      expect(after.seen.map((c) => c.slug)).toContain('slow-writer');
    }
    // many concurrent writers, readers walking all along: the union of what the walkers saw is everything, once per latest change
    const writers = Array.from({ length: 12 }, (_, i) => createArticle(t, { title: `Concurrent ${i}` }));
    const walked: Change[] = [];
    let cursor = start.cursor;
    const reading = (async () => {
      for (let i = 0; i < 20; i++) {
        const p = await walk(cursor, 2);
        walked.push(...p.seen);
        cursor = p.cursor;
      }
    })();
    const created = await Promise.all(writers);
    await reading;
    const rest = await walk(cursor, 2);
    walked.push(...rest.seen);
    const seenIds = new Set(walked.map((c) => c.id));
    for (const a of created) expect(seenIds.has(a.id), a.slug).toBe(true);
    // cursors only move forward
    const keys = walked.map((c) => c.cursor.split('.').map(Number));
    for (let i = 1; i < keys.length; i++) expect(keys[i][0] > keys[i - 1][0] || (keys[i][0] === keys[i - 1][0] && keys[i][1] > keys[i - 1][1])).toBe(true);
  });

  it.skipIf(testDatabaseKind !== 'postgres')('is not held back by a transaction running in another database of the same server', async () => {
    const start = await walk();
    // another app, a report or a pg_dump on the same server: an open transaction with an xid, older than our writes
    const url = new URL(t.database.location);
    url.pathname = '/postgres';
    const other = postgres(url.toString(), { max: 1, onnotice: () => {} });
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let opened!: () => void;
    const open = new Promise<void>((r) => (opened = r));
    const running = other.begin(async (tx) => {
      await tx`select pg_current_xact_id()`;
      opened();
      await held;
    });
    try {
      await open;
      const a = await createArticle(t, { title: 'Beside another database' });
      const seen = await walk(start.cursor);
      expect(seen.seen.map((c) => c.id)).toEqual([a.id]);
    } finally {
      release();
      await running;
      await other.end();
    }
  });

  it('keeps tombstones 30 days, then the pruning job forgets them', async () => {
    const gone = await createArticle(t, { title: 'Old tombstone' });
    await adminRequest(t, 'DELETE', `/v1/admin/articles/${gone.id}`);
    await t.database.db.execute(sql`update content_changes set at = now() - interval '29 days' where article_id = ${gone.id}`);
    await t.services.changes.schedulePruning();
    await t.database.db.execute(sql`update jobs set run_at = now() where kind = 'changes.prune'`);
    await t.services.jobs.drainDue();
    expect((await walk()).seen.some((c) => c.id === gone.id)).toBe(true);
    await t.database.db.execute(sql`update content_changes set at = now() - interval '31 days' where article_id = ${gone.id}`);
    await t.database.db.execute(sql`update jobs set run_at = now() where kind = 'changes.prune'`);
    await t.services.jobs.drainDue();
    // (pruning is no content change: a cached page may show the tombstone a while longer; ask another URL)
    expect((await walk(undefined, 7)).seen.some((c) => c.id === gone.id)).toBe(false);
    // the job stays scheduled for tomorrow
    const [job] = await queryRows<{ status: string; run_at: string }>(t.database.db, sql`select status, run_at from jobs where kind = 'changes.prune'`);
    expect(job.status).toBe('queued');
    expect(new Date(job.run_at).getTime()).toBeGreaterThan(Date.now() + 23 * 3_600_000);
  });
});
