// Shared by the announcement tests: articles written straight into the table and
// published through the publishing events (what the article service does in its
// publish transaction), and a way to let time pass for the job queue.
import { sql } from 'drizzle-orm';
import type { Config } from '../../src/config.ts';
import type { Services } from '../../src/compose.ts';
import { queryRows, type Db } from '../../src/db/client.ts';
import { permalinkFor } from '../../src/articles/permalink.ts';
import type { PublishedArticle } from '../../src/articles/publishing.ts';
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

export interface ArticleSpec {
  title: string;
  slug?: string;
  excerpt?: string;
  tags?: { slug: string; name: string }[];
  author?: { slug: string; name: string } | null;
  announce?: boolean;
  publishedAt?: Date;
}

let seq = 0;

/**
 * Inserts a published article and runs the publishing listeners in the same
 * transaction, as the article service does; returns the article as listeners saw it.
 */
export async function publishArticle(services: Services, spec: ArticleSpec, opts: { firstTime?: boolean } = {}): Promise<PublishedArticle> {
  const slug = spec.slug ?? `article-${Date.now().toString(36)}-${++seq}`;
  const publishedAt = spec.publishedAt ?? new Date();
  return services.database.db.transaction(async (tx) => {
    const [{ id }] = await queryRows<{ id: number }>(
      tx,
      sql`insert into articles (slug, title, html, excerpt, status, published_at, first_published_at, announce)
          values (${slug}, ${spec.title}, ${'<p>Body</p>'}, ${spec.excerpt ?? ''}, 'published',
                  ${publishedAt.toISOString()}::timestamptz, ${publishedAt.toISOString()}::timestamptz, ${spec.announce ?? true})
          returning id`,
    );
    const article = publishedView(services.config, { id: Number(id), slug, publishedAt, ...spec });
    await services.publishing.published(tx, article, { firstTime: opts.firstTime ?? true });
    return article;
  });
}

export function publishedView(config: Config, a: ArticleSpec & { id: number; slug: string; publishedAt: Date }): PublishedArticle {
  return {
    id: a.id,
    slug: a.slug,
    title: a.title,
    excerpt: a.excerpt ?? '',
    html: '<p>Body</p>',
    url: permalinkFor(config, { id: a.id, slug: a.slug, publishedAt: a.publishedAt }),
    publishedAt: a.publishedAt,
    author: a.author ?? null,
    tags: a.tags ?? [],
    announce: a.announce ?? true,
    pingsOpen: true,
  };
}

/** Unpublishes (the article service's transaction: status change + listeners). */
export async function unpublishArticle(services: Services, article: { id: number; slug: string }): Promise<void> {
  await services.database.db.transaction(async (tx) => {
    await tx.execute(sql`update articles set status = 'draft', published_at = null where id = ${article.id}`);
    await services.publishing.unpublished(tx, article);
  });
}

/** Publishes again an article that was public before (`firstTime: false`). */
export async function republishArticle(services: Services, article: PublishedArticle): Promise<void> {
  await services.database.db.transaction(async (tx) => {
    await tx.execute(sql`update articles set status = 'published', published_at = now() where id = ${article.id}`);
    await services.publishing.published(tx, article, { firstTime: false });
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
