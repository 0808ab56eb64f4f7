// The write limits' counters: RATE_LIMIT_WRITES (a fixed window per client) and
// COMMENT_MIN_INTERVAL (a slot per client). Counted where every process sees them:
// in PostgreSQL when the database is a server, each operation one atomic upsert (the
// row lock orders concurrent requests from any process); in memory on PGlite, whose
// database belongs to one process anyway.
import { sql } from 'drizzle-orm';
import type { Database, Db } from '../db/client.ts';
import { prepared } from '../db/client.ts';
import { rateLimits } from './limits.table.ts';

export interface LimitStore {
  /** Counts one hit on `key` in its window of `windowMs`: the hits so far, and the ms until the window ends. */
  hit(key: string, windowMs: number): Promise<{ count: number; ttlMs: number }>;
  /** Takes `key` for `windowMs` when it is free; otherwise says how long until it is. */
  claim(key: string, windowMs: number): Promise<{ ok: true } | { ok: false; waitMs: number }>;
  close(): void;
}

/** Expired windows are forgotten this often. */
const SWEEP_MS = 5 * 60_000;

export function memoryLimitStore(now: () => number = Date.now): LimitStore {
  const windows = new Map<string, { count: number; resetAt: number }>();
  const sweep = setInterval(() => {
    const t = now();
    for (const [k, w] of windows) if (w.resetAt <= t) windows.delete(k);
  }, SWEEP_MS);
  sweep.unref();
  return {
    async hit(key, windowMs) {
      const t = now();
      let w = windows.get(key);
      if (!w || w.resetAt <= t) windows.set(key, (w = { count: 0, resetAt: t + windowMs }));
      w.count++;
      return { count: w.count, ttlMs: w.resetAt - t };
    },
    async claim(key, windowMs) {
      const t = now();
      const w = windows.get(key);
      if (w && w.resetAt > t) return { ok: false, waitMs: w.resetAt - t };
      windows.set(key, { count: 1, resetAt: t + windowMs });
      return { ok: true };
    },
    close: () => clearInterval(sweep),
  };
}

const ms = (placeholder: string) => sql`now() + (${sql.placeholder(placeholder)} * interval '1 millisecond')`;
const expired = sql`${rateLimits.resetAt} <= now()`;
const ttlMs = sql<number>`greatest(0, ceil(extract(epoch from ${rateLimits.resetAt} - now()) * 1000))::int`;

export function postgresLimitStore(db: Db, onError: (err: unknown) => void = () => {}): LimitStore {
  // both hot statements prepared once: one round trip per write, parsed and planned once
  const hitStatement = prepared(db, 'limits:hit', (d) =>
    d
      .insert(rateLimits)
      .values({ key: sql.placeholder('key'), count: 1, resetAt: ms('windowMs') })
      .onConflictDoUpdate({
        target: rateLimits.key,
        set: {
          count: sql`case when ${expired} then 1 else ${rateLimits.count} + 1 end`,
          resetAt: sql`case when ${expired} then excluded.reset_at else ${rateLimits.resetAt} end`,
        },
      })
      .returning({ count: rateLimits.count, ttlMs })
      .prepare('limits_hit'),
  );
  const claimStatement = prepared(db, 'limits:claim', (d) =>
    d
      .insert(rateLimits)
      .values({ key: sql.placeholder('key'), count: 1, resetAt: ms('windowMs') })
      .onConflictDoUpdate({ target: rateLimits.key, set: { count: 1, resetAt: sql`excluded.reset_at` }, where: expired })
      .returning({ count: rateLimits.count })
      .prepare('limits_claim'),
  );
  const sweep = setInterval(() => {
    db.delete(rateLimits).where(expired).catch(onError);
  }, SWEEP_MS);
  sweep.unref();
  return {
    async hit(key, windowMs) {
      const [row] = await hitStatement.execute({ key, windowMs });
      return { count: row.count, ttlMs: Number(row.ttlMs) };
    },
    async claim(key, windowMs) {
      const taken = await claimStatement.execute({ key, windowMs });
      if (taken.length) return { ok: true };
      // someone holds it: how long for (the slow path only)
      const [row] = await db.select({ ttlMs }).from(rateLimits).where(sql`${rateLimits.key} = ${key}`);
      return { ok: false, waitMs: Number(row?.ttlMs ?? 0) };
    },
    close: () => clearInterval(sweep),
  };
}

/** The store a database needs: PostgreSQL's table on a server, memory on PGlite. */
export function limitStoreFor(database: Database, onError?: (err: unknown) => void): LimitStore {
  return database.kind === 'postgres' ? postgresLimitStore(database.db, onError) : memoryLimitStore();
}
