// Shared by the Mastodon and Bluesky tests: a test app announcing to the fakes, and
// the announcement row of an article on one network.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll } from 'vitest';
import type { Config } from '../../src/config.ts';
import { queryRows, type Db } from '../../src/db/client.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import type { AnnouncementRow } from './support.ts';
import { FakeMastodon, MASTODON_TOKEN } from '../helpers/fake-mastodon.ts';
import { BLUESKY_HANDLE, BLUESKY_PASSWORD, FakeBluesky } from '../helpers/fake-bluesky.ts';

export function networksConfig(m: FakeMastodon, b: FakeBluesky, more: Partial<Config> = {}): Partial<Config> {
  return {
    siteUrl: 'https://blog.example.com',
    mastodon: { url: m.url, token: MASTODON_TOKEN },
    bluesky: { service: b.url, handle: BLUESKY_HANDLE, appPassword: BLUESKY_PASSWORD },
    ...more,
  };
}

export interface Fakes {
  mastodon: FakeMastodon;
  bluesky: FakeBluesky;
  t: TestApp;
}

/** For this test file: fake Mastodon and Bluesky, and a test app announcing to both (X without credentials). */
export function useAppWithNetworks(ready: (f: Fakes) => void): void {
  let f: Partial<Fakes> = {};
  beforeAll(async () => {
    const mastodon = await FakeMastodon.start();
    const bluesky = await FakeBluesky.start();
    const t = await createTestApp(networksConfig(mastodon, bluesky));
    f = { mastodon, bluesky, t };
    ready(f as Fakes);
  });
  afterAll(async () => {
    await f.t?.close();
    await f.mastodon?.close();
    await f.bluesky?.close();
  });
}

/** A social response as the public responses list shows it. */
export interface Social {
  id: number;
  kind: string;
  network: string;
  parentId: number | null;
  author: { name: string; url: string | null; photo: string | null };
  url: string | null;
  html: string;
  createdAt: string;
}

export type NetworkRow = AnnouncementRow & { network: string; remote_key: string | null };

export async function rowOf(db: Db, articleId: number, network: string): Promise<NetworkRow> {
  const rows = await queryRows<NetworkRow>(
    db,
    sql`select id, network, text, weighted_length, remote_key, status, ambiguous, attempts, last_error, post_id, url, next_attempt_at
        from announcements where article_id = ${articleId} and network = ${network}`,
  );
  if (rows.length !== 1) throw new Error(`article ${articleId} has ${rows.length} announcements on ${network}`);
  return rows[0];
}

/** Lets whatever the announce jobs wait for pass (backoff, reset, recheck). */
export async function passTime(db: Db): Promise<void> {
  await db.execute(sql`update jobs set run_at = now() where kind like 'announce.%' and status = 'queued'`);
  await db.execute(sql`update announcement_networks set hold_until = null, hold_reason = null`);
}

export async function cleanSlate(db: Db): Promise<void> {
  await db.execute(sql`delete from jobs where kind like 'announce.%'`);
  await db.execute(sql`delete from announcements`);
  await db.execute(sql`update announcement_networks set paused_reason = null, paused_at = null, paused_credentials = null, hold_until = null, hold_reason = null`);
}
