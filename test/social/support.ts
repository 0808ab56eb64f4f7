// Shared by the announcement tests: a fake X and an app announcing to it, reading the
// outbox, and a way to let time pass for the job queue. Articles come from
// test/helpers/factories.ts (the real article service).
import { sql } from 'drizzle-orm';
import type { Config } from '../../src/config.ts';
import type { Services } from '../../src/compose.ts';
import { queryRows, type Db } from '../../src/db/client.ts';
import { X_JOB_KIND as ANNOUNCE_JOB_KIND } from '../../src/social/x/announce.job.ts';
import { afterAll, beforeAll } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { FAKE_CREDENTIALS, FakeX } from '../helpers/fake-x.ts';

/** Config for a test app that announces to `fake`. The site URL has a real TLD so X counts it as a link (23). */
export function xConfig(fake: FakeX, more: Partial<Config> = {}): Partial<Config> {
  return {
    twitter: FAKE_CREDENTIALS,
    twitterApiUrl: fake.url,
    siteUrl: 'https://blog.example.com',
    siteTwitter: 'inkwellblog',
    ...more,
  };
}

/** For this test file: a fake X, and a test app announcing to it; both closed after the file. */
export function useAppWithFakeX(ready: (fake: FakeX, t: TestApp) => void): void {
  let fake: FakeX | undefined;
  let t: TestApp | undefined;
  beforeAll(async () => {
    fake = await FakeX.start();
    t = await createTestApp(xConfig(fake));
    ready(fake, t);
  });
  afterAll(async () => {
    await t?.close();
    await fake?.close();
  });
}

export interface AnnouncementRow {
  id: number;
  article_id: number | null;
  text: string;
  weighted_length: number;
  status: string;
  ambiguous: boolean;
  attempts: number;
  last_error: string | null;
  post_id: string | null;
  url: string | null;
  next_attempt_at: Date | null;
}

export function announcementRows(db: Db): Promise<AnnouncementRow[]> {
  return queryRows<AnnouncementRow>(
    db,
    sql`select id, article_id, text, weighted_length, status, ambiguous, attempts, last_error, post_id, url, next_attempt_at
        from announcements order by id`,
  );
}

export async function announcementOf(db: Db, articleId: number): Promise<AnnouncementRow> {
  const rows = await queryRows<AnnouncementRow>(
    db,
    sql`select id, article_id, text, weighted_length, status, ambiguous, attempts, last_error, post_id, url, next_attempt_at
        from announcements where article_id = ${articleId}`,
  );
  if (rows.length !== 1) throw new Error(`article ${articleId} has ${rows.length} announcements`);
  return rows[0];
}

/** The run time of the queued announce jobs, for asserting waits. */
export async function queuedJobRunAts(db: Db): Promise<Date[]> {
  const rows = await queryRows<{ run_at: Date | string }>(
    db,
    sql`select run_at from jobs where kind = ${ANNOUNCE_JOB_KIND} and status = 'queued' order by run_at`,
  );
  return rows.map((r) => new Date(r.run_at));
}

/**
 * Lets time pass: whatever the announce jobs wait for (backoff, rate-limit reset,
 * pause recheck) is over. Only the clock is moved; pauses stay until lifted.
 */
export async function letTimePass(db: Db): Promise<void> {
  await db.execute(sql`update jobs set run_at = now() where kind = ${ANNOUNCE_JOB_KIND} and status = 'queued'`);
  await db.execute(sql`update announcement_networks set hold_until = null, hold_reason = null`);
}

/** Waits for time to pass, then runs what is due. */
export async function runAgain(services: Services): Promise<void> {
  await letTimePass(services.database.db);
  await services.jobs.drainDue();
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
