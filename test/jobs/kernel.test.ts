import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { openDatabase, queryRows, type Database } from '../../src/db/client.ts';
import { backoffMs, enqueue, JobRunner, PermanentJobError, RescheduleJob, type Logger } from '../../src/jobs/kernel.ts';
import { createTestDatabase, testDatabaseKind } from '../helpers/db.ts';
import { notifyBusFor } from '../../src/db/notify.ts';

const log: Logger = { info() {}, warn() {}, error() {} };
let database: Database;
let second: Database | undefined; // a second pool on the same server, as a second process would have

beforeAll(async () => {
  database = await createTestDatabase({ poolSize: 8 });
  if (database.kind === 'postgres') second = await openDatabase({ url: database.location, dataDir: '', poolSize: 8 });
});
afterAll(async () => {
  await second?.close();
  await database.close();
});

const db = () => database.db;
const jobRows = (kind: string) =>
  queryRows<{ id: number; status: string; attempts: number; last_error: string | null; lease_owner: string | null }>(
    db(),
    sql`select id, status, attempts, last_error, lease_owner from jobs where kind = ${kind} order by id`,
  );
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe(`job kernel on ${testDatabaseKind}`, () => {
  it('two runners sharing one database handle every job exactly once', async () => {
    const N = 200;
    for (let i = 0; i < N; i++) await enqueue(db(), { kind: 'count', payload: { n: i } });
    const seen: number[] = [];
    const handler = async (job: { payload: Record<string, unknown> }) => {
      await sleep(Math.random() * 3);
      seen.push(job.payload.n as number);
    };
    const a = new JobRunner({ db: db(), log, owner: 'A', pollMs: 20 }).register({ kind: 'count', handler, concurrency: 4 });
    const b = new JobRunner({ db: (second ?? database).db, log, owner: 'B', pollMs: 20 }).register({ kind: 'count', handler, concurrency: 4 });
    a.start();
    b.start();
    for (let i = 0; i < 600 && seen.length < N; i++) await sleep(25);
    await Promise.all([a.stop(), b.stop()]);
    expect(seen.length).toBe(N);
    expect(new Set(seen).size).toBe(N);
    const rows = await jobRows('count');
    expect(rows.every((r) => r.status === 'done' && r.attempts === 1 && r.lease_owner === null)).toBe(true);
  });

  it('retries failures with backoff until they succeed', async () => {
    await enqueue(db(), { kind: 'flaky' });
    let calls = 0;
    const r = new JobRunner({ db: db(), log, backoffBaseMs: 5 }).register({
      kind: 'flaky',
      handler: async () => {
        calls++;
        if (calls < 3) throw new Error(`transient ${calls}`);
      },
    });
    for (let i = 0; i < 100 && calls < 3; i++) {
      await r.drainDue();
      await sleep(20);
    }
    const [row] = await jobRows('flaky');
    expect(calls).toBe(3);
    expect(row).toMatchObject({ status: 'done', attempts: 3, last_error: null });
  });

  it('gives up after maxAttempts, and at once on a permanent error, keeping the reason', async () => {
    await enqueue(db(), { kind: 'doomed', maxAttempts: 2 });
    await enqueue(db(), { kind: 'refused' });
    const r = new JobRunner({ db: db(), log, backoffBaseMs: 1 })
      .register({ kind: 'doomed', handler: async () => { throw new Error('always broken'); } })
      .register({ kind: 'refused', handler: async () => { throw new PermanentJobError('401 from upstream'); } });
    for (let i = 0; i < 20; i++) {
      await r.drainDue();
      await sleep(10);
    }
    expect(await jobRows('doomed')).toMatchObject([{ status: 'failed', attempts: 2, last_error: 'always broken' }]);
    expect(await jobRows('refused')).toMatchObject([{ status: 'failed', attempts: 1, last_error: '401 from upstream' }]);
  });

  it('reschedules without spending an attempt when asked (rate-limit resets)', async () => {
    await enqueue(db(), { kind: 'later' });
    const r = new JobRunner({ db: db(), log }).register({
      kind: 'later',
      handler: async () => {
        throw new RescheduleJob(new Date(Date.now() + 3_600_000), 'rate limited until the reset');
      },
    });
    await r.drainDue();
    const [row] = await queryRows<{ status: string; attempts: number; due_in_min: number }>(
      db(),
      sql`select status, attempts, round(extract(epoch from run_at - now()) / 60)::int as due_in_min from jobs where kind = 'later'`,
    );
    expect(row).toMatchObject({ status: 'queued', attempts: 0 });
    expect(row.due_in_min).toBeGreaterThanOrEqual(59);
  });

  it('takes over a job whose lease expired (its process died)', async () => {
    await db().execute(
      sql`insert into jobs (kind, status, attempts, lease_owner, lease_until) values ('orphan', 'running', 1, 'dead-process', now() - interval '1 second')`,
    );
    let ran = 0;
    const r = new JobRunner({ db: db(), log, owner: 'heir' }).register({ kind: 'orphan', handler: async () => void ran++ });
    await r.drainDue();
    expect(ran).toBe(1);
    expect(await jobRows('orphan')).toMatchObject([{ status: 'done', attempts: 2 }]);
  });

  it('does not take a job whose lease is still valid', async () => {
    await db().execute(
      sql`insert into jobs (kind, status, attempts, lease_owner, lease_until) values ('leased', 'running', 1, 'alive', now() + interval '1 minute')`,
    );
    let ran = 0;
    const r = new JobRunner({ db: db(), log }).register({ kind: 'leased', handler: async () => void ran++ });
    await r.drainDue();
    expect(ran).toBe(0);
  });

  it('keeps at most `concurrency` handlers of a kind running', async () => {
    for (let i = 0; i < 12; i++) await enqueue(db(), { kind: 'capped' });
    let now = 0;
    let max = 0;
    const r = new JobRunner({ db: db(), log, pollMs: 10 }).register({
      kind: 'capped',
      concurrency: 3,
      handler: async () => {
        now++;
        max = Math.max(max, now);
        await sleep(20);
        now--;
      },
    });
    r.start();
    for (let i = 0; i < 200; i++) {
      const rows = await jobRows('capped');
      if (rows.every((x) => x.status === 'done')) break;
      await sleep(20);
    }
    await r.stop();
    expect(max).toBe(3);
  });

  it('stop() lets a running job finish, and releases one that does not finish in time', async () => {
    await enqueue(db(), { kind: 'slow' });
    await enqueue(db(), { kind: 'stuck' });
    const r = new JobRunner({ db: db(), log, owner: 'leaving', pollMs: 10 })
      .register({ kind: 'slow', handler: async () => void (await sleep(150)) })
      .register({
        kind: 'stuck',
        handler: (_job, ctx) => new Promise<void>((_res, rej) => ctx.signal.addEventListener('abort', () => rej(new Error('aborted')))),
      });
    r.start();
    for (let i = 0; i < 100; i++) {
      const rows = [...(await jobRows('slow')), ...(await jobRows('stuck'))];
      if (rows.every((x) => x.status === 'running')) break;
      await sleep(10);
    }
    await r.stop(400);
    expect(await jobRows('slow')).toMatchObject([{ status: 'done' }]);
    expect(await jobRows('stuck')).toMatchObject([{ status: 'queued', lease_owner: null, attempts: 0 }]);
  });

  it('enqueue with a key is idempotent while the job is live', async () => {
    const first = await enqueue(db(), { kind: 'keyed', key: 'article:1' });
    const again = await enqueue(db(), { kind: 'keyed', key: 'article:1' });
    expect(first).toEqual(expect.any(Number));
    expect(again).toBeNull();
  });

  it('backoff grows exponentially with jitter and a cap', () => {
    expect(backoffMs(1, 1000, 60_000, () => 1)).toBe(1000);
    expect(backoffMs(3, 1000, 60_000, () => 1)).toBe(4000);
    expect(backoffMs(3, 1000, 60_000, () => 0)).toBe(2000);
    expect(backoffMs(30, 1000, 60_000, () => 1)).toBe(60_000);
  });

  it('a job queued in a committed transaction wakes an idle runner (of another process on PostgreSQL) within milliseconds; polling is not why', async () => {
    const runnerDb = second ?? database;
    const done: number[] = [];
    const r = new JobRunner({ db: runnerDb.db, log, bus: notifyBusFor(runnerDb), pollMs: 60_000 }).register({
      kind: 'woken',
      handler: async () => {
        done.push(performance.now());
      },
    });
    r.start();
    try {
      await sleep(300); // the first poll has passed and the runner listens: it is idle until told
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        await db().transaction(async (tx) => {
          await enqueue(tx, { kind: 'woken' });
          await sleep(100);
          // queued but not committed: nobody can see it, nobody is woken
          expect(done.length).toBe(i);
        });
        for (let n = 0; n < 200 && done.length === i; n++) await sleep(5);
        expect(done.length).toBe(i + 1);
        // milliseconds on a quiet machine; generous for a busy one (the next poll is a minute away)
        expect(done[i] - t0 - 100).toBeLessThan(1500);
      }
      // a job due later: the runner wakes for it then, not at the next poll (a minute away)
      const at = Date.now() + 400;
      await enqueue(db(), { kind: 'woken', runAt: new Date(at) });
      for (let n = 0; n < 200 && done.length === 5; n++) await sleep(10);
      expect(done.length).toBe(6);
      expect(Date.now()).toBeGreaterThanOrEqual(at);
    } finally {
      await r.stop();
    }
  });
});
