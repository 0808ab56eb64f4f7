// A real crash: the server process (src/server.ts, as `npm start` runs it) sends the
// announcement, X stores the post, and the process is killed (SIGKILL) before the
// answer arrives. After a restart on the same database, exactly one post exists.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig, type Config } from '../../src/config.ts';
import { compose } from '../../src/compose.ts';
import { openAndMigrate } from '../../src/runtime.ts';
import { createToken } from '../../src/auth/tokens.service.ts';
import type { Database } from '../../src/db/client.ts';
import { createTestDatabase, testDatabaseKind } from '../helpers/db.ts';
import { FakeX, FAKE_CREDENTIALS } from '../helpers/fake-x.ts';
import { runNode } from '../helpers/process.ts';
import { announcementOf, xConfig } from './support.ts';
import { publishArticle } from '../helpers/factories.ts';

let fake: FakeX;
let dir: string;
/** on PostgreSQL, the test's database (the server connects to the same one) */
let pgDatabase: Database | undefined;

beforeAll(async () => {
  fake = await FakeX.start();
  dir = mkdtempSync(join(tmpdir(), 'inkwell-crash-'));
  if (testDatabaseKind === 'postgres') pgDatabase = await createTestDatabase();
});
afterAll(async () => {
  await fake?.close();
  await pgDatabase?.close();
  rmSync(dir, { recursive: true, force: true });
});

const log = pino({ level: 'silent' });

/** Opens the database the way the server does (embedded: the data dir, with its lock). */
async function open(config: Config): Promise<Database> {
  if (pgDatabase) return { ...pgDatabase, close: async () => {} };
  return openAndMigrate(config);
}

describe(`a process killed mid-announcement, on ${testDatabaseKind}`, () => {
  it('X stored the post, the process died before the answer → after restart exactly one post', async () => {
    const dataDir = join(dir, 'data');
    const config: Config = testConfig({ ...xConfig(fake), databaseUrl: pgDatabase ? pgDatabase.location : undefined, dataDir });

    // publish (the publish transaction queues the announcement), then stop
    let database = await open(config);
    const services = compose(config, database, log);
    await createToken(database.db, 'crash-test'); // not a first start: nothing is seeded
    const article = await publishArticle(services, { title: 'Survives a crash' });
    await database.close();

    // the server picks it up; X stores the post and holds the answer; we kill the server
    fake.script({ kind: 'store-then-hang' });
    const server = runNode('src/server.ts', [], {
      PORT: '0',
      ...(pgDatabase ? { DATABASE_URL: pgDatabase.location } : { DATA_DIR: dataDir }),
      SITE_URL: 'https://blog.example.com',
      SITE_TWITTER: 'inkwellblog',
      TWITTER_APP_KEY: FAKE_CREDENTIALS.appKey,
      TWITTER_APP_SECRET: FAKE_CREDENTIALS.appSecret,
      TWITTER_ACCESS_TOKEN: FAKE_CREDENTIALS.accessToken,
      TWITTER_ACCESS_SECRET: FAKE_CREDENTIALS.accessSecret,
      TWITTER_API_URL: fake.url,
      FRONTEND: 'off',
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        fake.waitForRequests(1),
        server.exited.then(() => {
          throw new Error(`the server exited early:\n${server.output()}`);
        }),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no request from the server in time:\n${server.output()}`)), 80_000);
        }),
      ]);
    } finally {
      clearTimeout(timer);
      server.child.kill('SIGKILL');
    }
    await server.exited;
    expect(fake.posts).toHaveLength(1);
    expect(fake.tweetRequests.map((r) => r.outcome)).toEqual(['201 then hung']);

    // restart: the row says an attempt was in flight; the dead process's lease runs out
    database = await open(config);
    expect(await announcementOf(database.db, article.id)).toMatchObject({ status: 'sending', attempts: 1 });
    await database.db.execute(sql`update jobs set lease_until = now() - interval '1 second' where kind = 'announce.x' and status = 'running'`);
    const restarted = compose(config, database, log);
    await restarted.jobs.drainDue();

    const row = await announcementOf(database.db, article.id);
    expect(row).toMatchObject({ status: 'posted', ambiguous: true, attempts: 2, post_id: null });
    expect(row.last_error).toMatch(/Posted by an earlier attempt whose answer was lost/);
    expect(fake.posts).toHaveLength(1);
    expect(fake.tweetRequests.map((r) => r.outcome)).toEqual(['201 then hung', '403']);
    expect(fake.tweetRequests[1].body).toBe(fake.tweetRequests[0].body); // the identical text
    await restarted.jobs.stop(1000);
    await database.close();
  }, 120_000); // a real process: starting it takes seconds, many on a busy machine
});
