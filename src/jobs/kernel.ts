// The job kernel: every background task runs on it. It knows no domain.
//
// - Work is a row in `jobs`, inserted by whoever wants it done (often inside the
//   transaction that made it necessary: the outbox pattern).
// - A runner claims due rows with FOR UPDATE SKIP LOCKED and stamps a lease on them,
//   so any number of processes can share one database without handling a row twice.
// - A lease that expires (its process died) makes the row claimable again; handlers
//   must therefore be idempotent. Leases are renewed while a handler runs.
// - Failures retry with exponential backoff and full jitter up to maxAttempts.
// - stop() stops claiming, waits for running handlers, and releases what is left.
// - Runners wake on NOTIFY: enqueue() sends one on `inkwell_jobs` in the statement that
//   queues the row, so it is delivered when the enqueueing transaction commits (never
//   before the row is visible, never after a rollback), to every process's runner,
//   this one's too. A job due later tells runners when; one that fails tells its own
//   runner when to retry. Polling stays as the safety net, at a slower pace, for what
//   no message announces: a lease that expired with its process, a message lost while
//   the listening connection was down (each reconnect also looks at once).
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { and, asc, eq, inArray, lt, lte, or, sql } from 'drizzle-orm';
import { jobs } from './jobs.table.ts';
import type { Db } from '../db/client.ts';
import { queryRows } from '../db/client.ts';
import { notifySql, type NotifyBus } from '../db/notify.ts';

/** Where enqueue() tells runners that work is queued: `<kind> <run_at in epoch ms>` (`*` for any kind). */
export const JOBS_CHANNEL = 'inkwell_jobs';

export interface Job {
  id: number;
  kind: string;
  key: string | null;
  payload: Record<string, unknown>;
  attempts: number;
  maxAttempts: number;
  runAt: Date;
}

export interface JobContext {
  /** aborted when the runner is stopping and the drain time is over */
  signal: AbortSignal;
  log: Logger;
}

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface JobKind {
  kind: string;
  handler: (job: Job, ctx: JobContext) => Promise<void>;
  /** handlers of this kind running at once in one process */
  concurrency?: number;
  /** how long a claim lasts before another process may take the job over */
  leaseMs?: number;
}

/** Throw to end a job as failed at once, without retries. */
export class PermanentJobError extends Error {
  override name = 'PermanentJobError';
}

/** Throw to run the job again at `at` (e.g. a rate-limit reset). `countsAsAttempt: false` keeps the attempt budget. */
export class RescheduleJob extends Error {
  override name = 'RescheduleJob';
  constructor(
    readonly at: Date,
    reason: string,
    readonly countsAsAttempt = false,
  ) {
    super(reason);
  }
}

export interface EnqueueOptions {
  kind: string;
  payload?: Record<string, unknown>;
  /** idempotency: while a job of this kind and key is queued or running, enqueuing again does nothing */
  key?: string;
  runAt?: Date;
  maxAttempts?: number;
}

/**
 * Queues a job. Pass a transaction to make the job part of it. Returns the id, or null
 * when the key was taken. The same statement notifies the runners (on commit).
 */
export async function enqueue(db: Db, opts: EnqueueOptions): Promise<number | null> {
  const rows = await queryRows<{ id: number }>(
    db,
    sql`with queued as (
          insert into jobs (kind, key, payload, run_at, max_attempts)
          values (${opts.kind}, ${opts.key ?? null}, ${JSON.stringify(opts.payload ?? {})}::jsonb,
                  ${opts.runAt ? opts.runAt.toISOString() : sql`now()`}::timestamptz, ${opts.maxAttempts ?? 10})
          on conflict (kind, key) where key is not null and status in ('queued','running') do nothing
          returning id, kind, run_at)
        select id, ${notifySql(JOBS_CHANNEL, sql`kind || ' ' || floor(extract(epoch from run_at) * 1000)::bigint`)}::text as notified from queued`,
  );
  return rows[0]?.id ?? null;
}

/** Moves the queued job of this kind and key to run at `runAt` (a running one is left alone); false when none is queued. */
export async function reschedule(db: Db, kind: string, key: string, runAt: Date): Promise<boolean> {
  const rows = await db
    .update(jobs)
    .set({ runAt, updatedAt: sql`now()` })
    .where(and(eq(jobs.kind, kind), eq(jobs.key, key), eq(jobs.status, 'queued')))
    .returning({ id: jobs.id });
  return rows.length > 0;
}

/** Delay before attempt n+1: exponential from baseMs, capped, with full jitter in [50%, 100%]. */
export function backoffMs(attempts: number, baseMs = 2000, capMs = 3_600_000, random = Math.random): number {
  const exp = Math.min(capMs, baseMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(exp / 2 + (random() * exp) / 2);
}

export interface RunnerOptions {
  db: Db;
  log: Logger;
  /** wake on NOTIFY when work is queued (then polling is only the safety net) */
  bus?: NotifyBus;
  /** how often to look for due work when nothing nudged us: 1 s, or 5 s with a bus */
  pollMs?: number;
  /** default lease; at most 60 s */
  leaseMs?: number;
  /** identifies this process in `lease_owner` */
  owner?: string;
  backoffBaseMs?: number;
}

export class JobRunner {
  readonly owner: string;
  private readonly kinds = new Map<string, Required<Pick<JobKind, 'concurrency' | 'leaseMs'>> & JobKind>();
  private readonly running = new Map<number, Promise<void>>();
  private readonly perKind = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  private started = false;
  private ticking: Promise<void> | undefined;
  private again = false;
  private readonly abort = new AbortController();
  private readonly pollMs: number;
  private unlisten: (() => Promise<void>) | undefined;
  /** the earliest wake-up set for work due before the next poll */
  private wake: { at: number; timer: NodeJS.Timeout } | undefined;

  constructor(private readonly opts: RunnerOptions) {
    this.owner = opts.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.pollMs = opts.pollMs ?? (opts.bus ? 5000 : 1000);
  }

  register(kind: JobKind): this {
    this.kinds.set(kind.kind, {
      concurrency: 2,
      ...kind,
      leaseMs: Math.min(kind.leaseMs ?? this.opts.leaseMs ?? 30_000, 60_000),
    });
    return this;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    const loop = () => {
      if (this.stopping) return;
      this.nudge();
      this.timer = setTimeout(loop, this.pollMs);
      this.timer.unref();
    };
    loop();
    this.opts.bus
      ?.subscribe(JOBS_CHANNEL, {
        onMessage: ({ payload }) => {
          const [kind, at] = payload.split(' ');
          if (kind === '*' || this.kinds.has(kind)) this.wakeAt(Number(at) || 0);
        },
        // (re)connected: whatever was queued meanwhile is due now
        onReset: () => this.nudge(),
      })
      .then(
        (unlisten) => {
          if (this.stopping) void unlisten();
          else this.unlisten = unlisten;
        },
        (err) => this.opts.log.error({ err }, 'job runner: could not listen for queued work; polling only'),
      );
  }

  /** Look for due work at `at` (epoch ms): now if it is due, else by a timer if before the next poll. */
  private wakeAt(at: number): void {
    if (!this.started || this.stopping) return;
    const delay = at - Date.now();
    if (delay <= 0) return this.nudge();
    if (delay >= this.pollMs || (this.wake && this.wake.at <= at)) return;
    clearTimeout(this.wake?.timer);
    const timer = setTimeout(() => {
      this.wake = undefined;
      this.nudge();
    }, delay);
    timer.unref();
    this.wake = { at, timer };
  }

  /** Look for due work now (called after enqueuing in this process). */
  nudge(): void {
    if (this.stopping) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = this.tick()
      .then(() => undefined)
      .catch((err) => this.opts.log.error({ err }, 'job runner: claim failed'))
      .finally(() => {
        this.ticking = undefined;
        if (this.again) {
          this.again = false;
          this.nudge();
        }
      });
  }

  /** Claims and runs due jobs until none is left; for tests and the CLI. */
  async drainDue(): Promise<void> {
    for (;;) {
      // a finishing job nudges the runner, which may claim (and start) the next one on its own
      while (this.ticking) await this.ticking;
      const claimed = await this.tick();
      const running = [...this.running.values()];
      if (running.length) {
        await Promise.allSettled(running);
        continue;
      }
      if (claimed === 0 && !this.ticking) return;
    }
  }

  /** Stops claiming, waits up to timeoutMs for running handlers, then releases leftover leases. */
  async stop(timeoutMs = 8000): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    clearTimeout(this.wake?.timer);
    await this.unlisten?.();
    await this.ticking;
    const all = Promise.allSettled([...this.running.values()]);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      all.then(() => false),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(true), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      // give the unfinished jobs back first, then tell their handlers to quit:
      // whatever those handlers do next is not recorded (the lease is no longer ours)
      await this.release([...this.running.keys()]);
      this.abort.abort();
    }
  }

  private async tick(): Promise<number> {
    let claimed = 0;
    for (const k of this.kinds.values()) {
      if (this.stopping) break;
      const free = k.concurrency - (this.perKind.get(k.kind) ?? 0);
      if (free <= 0) continue;
      const { db } = this.opts;
      const due = db
        .select({ id: jobs.id })
        .from(jobs)
        .where(
          and(
            eq(jobs.kind, k.kind),
            or(and(eq(jobs.status, 'queued'), lte(jobs.runAt, sql`now()`)), and(eq(jobs.status, 'running'), lt(jobs.leaseUntil, sql`now()`))),
          ),
        )
        .orderBy(asc(jobs.runAt), asc(jobs.id))
        .limit(free)
        .for('update', { skipLocked: true });
      const claimedJobs = await db
        .update(jobs)
        .set({
          status: 'running',
          leaseOwner: this.owner,
          leaseUntil: sql`now() + (${k.leaseMs} * interval '1 millisecond')`,
          attempts: sql`${jobs.attempts} + 1`,
          updatedAt: sql`now()`,
        })
        .where(inArray(jobs.id, due))
        .returning({
          id: jobs.id,
          kind: jobs.kind,
          key: jobs.key,
          payload: jobs.payload,
          attempts: jobs.attempts,
          maxAttempts: jobs.maxAttempts,
          runAt: jobs.runAt,
        });
      claimed += claimedJobs.length;
      for (const job of claimedJobs) this.launch(k, job);
    }
    return claimed;
  }

  private launch(k: JobKind & { leaseMs: number }, job: Job): void {
    this.perKind.set(k.kind, (this.perKind.get(k.kind) ?? 0) + 1);
    const renew = setInterval(() => {
      void this.opts.db
        .execute(sql`update jobs set lease_until = now() + (${k.leaseMs} * interval '1 millisecond')
                     where id = ${job.id} and lease_owner = ${this.owner} and status = 'running'`)
        .catch(() => {});
    }, Math.max(1000, Math.floor(k.leaseMs / 3)));
    renew.unref();
    const run = (async () => {
      try {
        await k.handler(job, { signal: this.abort.signal, log: this.opts.log });
        if (!this.abort.signal.aborted) await this.finish(job, sql`status = 'done', last_error = null`);
      } catch (err) {
        if (!this.abort.signal.aborted) await this.fail(job, err);
      } finally {
        clearInterval(renew);
        this.running.delete(job.id);
        this.perKind.set(k.kind, (this.perKind.get(k.kind) ?? 1) - 1);
        if (!this.stopping) this.nudge();
      }
    })();
    this.running.set(job.id, run);
  }

  private async fail(job: Job, err: unknown): Promise<void> {
    const message = err instanceof Error ? err.message : String(err);
    try {
      if (err instanceof RescheduleJob) {
        await this.finish(
          job,
          sql`status = 'queued', run_at = ${err.at.toISOString()}::timestamptz, last_error = ${message},
              attempts = attempts - ${err.countsAsAttempt ? 0 : 1}`,
        );
        this.wakeAt(err.at.getTime());
      } else if (err instanceof PermanentJobError || job.attempts >= job.maxAttempts) {
        this.opts.log.warn({ jobId: job.id, kind: job.kind, err: message }, 'job failed for good');
        await this.finish(job, sql`status = 'failed', last_error = ${message}`);
      } else {
        const delay = backoffMs(job.attempts, this.opts.backoffBaseMs);
        this.opts.log.warn({ jobId: job.id, kind: job.kind, attempt: job.attempts, retryInMs: delay, err: message }, 'job failed; will retry');
        await this.finish(
          job,
          sql`status = 'queued', run_at = now() + (${delay} * interval '1 millisecond'), last_error = ${message}`,
        );
        this.wakeAt(Date.now() + delay);
      }
    } catch (e) {
      // the database is away: give the job back as soon as it returns, instead of
      // leaving it leased (and idle) until the lease expires
      this.opts.log.error({ err: e, jobId: job.id }, 'job runner: could not record the outcome; will release the job when the database is back');
      this.releaseLater(job);
    }
  }

  private releaseLater(job: Job, attempt = 1): void {
    if (attempt > 30) return; // the lease expiry takes over
    const timer = setTimeout(() => {
      this.opts.db
        .execute(
          sql`update jobs set status = 'queued', run_at = now(), lease_owner = null, lease_until = null, updated_at = now()
              where id = ${job.id} and lease_owner = ${this.owner} and status = 'running'`,
        )
        .then(() => this.nudge(), () => this.releaseLater(job, attempt + 1));
    }, 1000);
    timer.unref();
  }

  private async finish(job: Job, set: ReturnType<typeof sql>): Promise<void> {
    await this.opts.db.execute(
      sql`update jobs set ${set}, lease_owner = null, lease_until = null, updated_at = now()
          where id = ${job.id} and lease_owner = ${this.owner}`,
    );
  }

  private async release(ids: number[]): Promise<void> {
    if (!ids.length) return;
    await this.opts.db
      .execute(
        sql`update jobs set status = 'queued', lease_owner = null, lease_until = null, attempts = greatest(attempts - 1, 0), updated_at = now()
            where lease_owner = ${this.owner} and status = 'running'`,
      )
      // the other processes may take them at once
      .then(() => this.opts.bus?.publish(JOBS_CHANNEL, '* 0'))
      .catch((err) => this.opts.log.error({ err }, 'job runner: could not release leases'));
  }
}
