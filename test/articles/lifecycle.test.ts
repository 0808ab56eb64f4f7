import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { queryRows } from '../../src/db/client.ts';
import { JobRunner } from '../../src/jobs/kernel.ts';
import { ArticlesService } from '../../src/articles/articles.service.ts';
import { PUBLISH_JOB } from '../../src/articles/articles.scheduling.ts';
import type { PublishedArticle } from '../../src/articles/publishing.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { adminRequest, createArticle } from '../helpers/factories.ts';

let t: TestApp;
const events: { kind: string; id: number; firstTime?: boolean; previousHtml?: string }[] = [];
let failNextPublish = false;

beforeAll(async () => {
  t = await createTestApp();
  t.services.publishing.subscribe({
    async onPublished(tx, a: PublishedArticle, info) {
      if (failNextPublish) {
        failNextPublish = false;
        throw new Error('listener failed');
      }
      // an outbox row written in the same transaction as the article
      await tx.execute(sql`insert into jobs (kind, payload) values ('test.outbox', ${JSON.stringify({ id: a.id })}::jsonb)`);
      events.push({ kind: 'published', id: a.id, firstTime: info.firstTime });
    },
    async onUpdated(_tx, a, info) {
      events.push({ kind: 'updated', id: a.id, previousHtml: info.previousHtml });
    },
    async onUnpublished(_tx, a) {
      events.push({ kind: 'unpublished', id: a.id });
    },
  });
});
afterAll(() => t.close());

/** Time passes (no sleeping): an article's publishAt and its publish job's run time move two hours back, into the past. */
async function passTime(id: number): Promise<void> {
  await t.database.db.execute(sql`update articles set publish_at = publish_at - interval '2 hours' where id = ${id}`);
  await t.database.db.execute(sql`update jobs set run_at = run_at - interval '2 hours' where kind = ${PUBLISH_JOB} and key = ${`article:${id}`}`);
}
const publicStatus = async (slug: string) => (await t.app.inject({ method: 'GET', url: `/v1/articles/${slug}` })).statusCode;
const outboxFor = async (id: number) =>
  (await queryRows<{ n: number }>(t.database.db, sql`select count(*)::int as n from jobs where kind = 'test.outbox' and payload->>'id' = ${String(id)}`))[0].n;

describe('publishing lifecycle', () => {
  it('publish → public, listeners run once with firstTime; re-publishing is not a first time', async () => {
    const a = await createArticle(t, { title: 'Lifecycle', status: 'draft' });
    expect(await publicStatus(a.slug)).toBe(404);
    const pub = await adminRequest(t, 'POST', `/v1/admin/articles/${a.id}/publish`);
    expect(pub.statusCode).toBe(200);
    expect(pub.json().status).toBe('published');
    expect(await publicStatus(a.slug)).toBe(200);
    const firstPublishedAt = pub.json().publishedAt;

    await adminRequest(t, 'POST', `/v1/admin/articles/${a.id}/publish`); // idempotent: no second event
    const unpub = await adminRequest(t, 'POST', `/v1/admin/articles/${a.id}/unpublish`);
    expect(unpub.json().status).toBe('draft');
    expect(await publicStatus(a.slug)).toBe(404);
    const again = await adminRequest(t, 'POST', `/v1/admin/articles/${a.id}/publish`);
    expect(again.json().publishedAt).toBe(firstPublishedAt);

    expect(events.filter((e) => e.id === a.id)).toEqual([
      { kind: 'published', id: a.id, firstTime: true },
      { kind: 'unpublished', id: a.id },
      { kind: 'published', id: a.id, firstTime: false },
    ]);
  });

  it('editing a published article tells listeners what readers saw before', async () => {
    const a = await createArticle(t, { title: 'Edited later', markdown: 'First version.' });
    await adminRequest(t, 'PATCH', `/v1/admin/articles/${a.id}`, { markdown: 'Second version.' });
    expect(events.filter((e) => e.id === a.id && e.kind === 'updated')).toEqual([{ kind: 'updated', id: a.id, previousHtml: '<p>First version.</p>' }]);
  });

  it('archiving hides the article and counts as unpublishing', async () => {
    const a = await createArticle(t, { title: 'To the archive' });
    await adminRequest(t, 'PATCH', `/v1/admin/articles/${a.id}`, { status: 'archived' });
    expect(await publicStatus(a.slug)).toBe(404);
    expect(events.at(-1)).toEqual({ kind: 'unpublished', id: a.id });
  });

  it('a failing listener rolls the whole publication back: nothing half-written', async () => {
    const a = await createArticle(t, { title: 'Rollback', status: 'draft' });
    failNextPublish = true;
    const res = await adminRequest(t, 'POST', `/v1/admin/articles/${a.id}/publish`);
    expect(res.statusCode).toBe(500);
    expect(res.json().detail).not.toContain('listener failed');
    expect(await publicStatus(a.slug)).toBe(404);
    expect((await adminRequest(t, 'GET', `/v1/admin/articles/${a.id}`)).json().status).toBe('draft');
    expect(await outboxFor(a.id)).toBe(0);
    // and the outbox row commits with a successful publication
    await adminRequest(t, 'POST', `/v1/admin/articles/${a.id}/publish`);
    expect(await outboxFor(a.id)).toBe(1);
  });
});

describe('scheduled publishing', () => {
  it('a scheduled article stays hidden until publishAt, then the job publishes it at that date', async () => {
    const a = await createArticle(t, { title: 'Scheduled soon', status: 'scheduled', publishAt: new Date(Date.now() + 3_600_000).toISOString() });
    expect(a.status).toBe('scheduled');
    await t.services.jobs.drainDue();
    expect(await publicStatus(a.slug)).toBe(404);
    await passTime(a.id);
    const [{ publish_at: at }] = await queryRows<{ publish_at: Date | string }>(t.database.db, sql`select publish_at from articles where id = ${a.id}`);
    await t.services.jobs.drainDue();
    expect(await publicStatus(a.slug)).toBe(200);
    const view = (await adminRequest(t, 'GET', `/v1/admin/articles/${a.id}`)).json();
    expect(new Date(view.publishedAt).getTime()).toBe(new Date(at).getTime());
    expect(events.filter((e) => e.id === a.id)).toEqual([{ kind: 'published', id: a.id, firstTime: true }]);
  });

  it('moving publishAt later or earlier is honoured; unscheduling cancels', async () => {
    const a = await createArticle(t, { title: 'Rescheduled', status: 'scheduled', publishAt: new Date(Date.now() + 60_000).toISOString() });
    await adminRequest(t, 'PATCH', `/v1/admin/articles/${a.id}`, { publishAt: new Date(Date.now() - 1000).toISOString() });
    await t.services.jobs.drainDue();
    expect(await publicStatus(a.slug)).toBe(200);

    const b = await createArticle(t, { title: 'Unscheduled', status: 'scheduled', publishAt: new Date(Date.now() + 60_000).toISOString() });
    await adminRequest(t, 'PATCH', `/v1/admin/articles/${b.id}`, { status: 'draft' });
    await passTime(b.id);
    await t.services.jobs.drainDue();
    expect(await publicStatus(b.slug)).toBe(404);
  });

  it('several processes publish each due article exactly once, also after a restart', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 20; i++) {
      ids.push((await createArticle(t, { title: `Batch ${i}`, status: 'scheduled', publishAt: new Date(Date.now() + 60_000).toISOString() })).id);
    }
    for (const id of ids) await passTime(id);
    const log = pino({ level: 'silent' });
    // two more "processes": their own services and runners on the same database
    const runners = [0, 1].map(() => {
      const svc = new ArticlesService({ db: t.database.db, config: t.config, publishing: t.services.publishing, events: t.services.events });
      return new JobRunner({ db: t.database.db, log, pollMs: 20 }).register({ kind: PUBLISH_JOB, handler: (j) => svc.publishDue(j), concurrency: 3 });
    });
    runners.forEach((r) => r.start());
    await t.services.jobs.drainDue();
    for (let i = 0; i < 100; i++) {
      const [{ n }] = await queryRows<{ n: number }>(t.database.db, sql`select count(*)::int as n from articles where status = 'scheduled' and title like 'Batch %'`);
      if (n === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await Promise.all(runners.map((r) => r.stop()));
    for (const id of ids) expect(events.filter((e) => e.id === id)).toEqual([{ kind: 'published', id, firstTime: true }]);
  });
});
