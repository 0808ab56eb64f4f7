// One Drizzle database type over PGlite (embedded, in-process PostgreSQL) or a real
// PostgreSQL server through postgres.js. Everything above this file sees only `Db`.
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { unaccent } from '@electric-sql/pglite/contrib/unaccent';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { sql, type SQL } from 'drizzle-orm';
import postgres from 'postgres';
import * as schema from './schema.ts';
import { anyCause } from '../lib/errors.ts';

export type Schema = typeof schema;
/** The database or a transaction: repositories accept either. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export type DatabaseKind = 'pglite' | 'postgres';

export interface Database {
  db: Db;
  kind: DatabaseKind;
  /** where it lives, for logs: a directory, `memory` or the server without password */
  location: string;
  /** true when the embedded database was created by this open (nothing was there before) */
  fresh: boolean;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** unset → PGlite in dataDir; memory:// → in-memory PGlite; postgres://… → server */
  url: string | undefined;
  dataDir: string;
  /** postgres.js pool size */
  poolSize?: number;
  /** PGlite: start from a dumped data dir (tests use a migrated template) */
  loadDataDir?: Blob;
}

const PGLITE_SHARED_BUFFERS = '32MB';

export async function openDatabase(opts: OpenOptions): Promise<Database> {
  if (opts.url && /^postgres(ql)?:\/\//.test(opts.url)) {
    const client = postgres(opts.url, {
      max: opts.poolSize ?? 10,
      onnotice: () => {},
      connect_timeout: 5,
      idle_timeout: 30,
      // a statement that runs longer than this is a bug or an outage: fail instead of hanging
      connection: { statement_timeout: 15_000, application_name: 'inkwell' },
    });
    const db = drizzlePostgres({ client, schema }) as unknown as Db;
    const u = new URL(opts.url);
    u.password = '';
    return { db, kind: 'postgres', location: u.href, fresh: false, close: () => client.end({ timeout: 5 }) };
  }
  const memory = opts.url === 'memory://';
  let fresh = true;
  if (!memory) {
    mkdirSync(opts.dataDir, { recursive: true });
    const { existsSync } = await import('node:fs');
    fresh = !existsSync(`${opts.dataDir}/PG_VERSION`);
  }
  const client = await PGlite.create(memory ? undefined : opts.dataDir, {
    extensions: { unaccent },
    loadDataDir: opts.loadDataDir,
    // PostgreSQL's default 128 MB buffer pool is allocated up front inside the WASM heap,
    // ~110 MB of resident memory before the first query. Public reads are answered from
    // the response cache and the data files stay in the OS page cache, so 32 MB serves
    // a blog as fast (measured: same cache-miss and comment rates) for 130 MB less RSS.
    startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${PGLITE_SHARED_BUFFERS}`],
  });
  const db = drizzlePglite({ client, schema }) as unknown as Db;
  return {
    db,
    kind: 'pglite',
    location: memory ? 'memory' : opts.dataDir,
    fresh,
    close: () => client.close(),
  };
}

const statements = new WeakMap<Db, Map<string, unknown>>();

/**
 * A hot statement built once per database handle, with `sql.placeholder`s for its values:
 * each run skips Drizzle's query builder and, on PostgreSQL, is a named prepared statement
 * (Drizzle sends every other query unnamed, so the server parses and plans it every time).
 * `key` names the statement's shape: everything baked into it that is not a placeholder.
 */
export function prepared<T>(db: Db, key: string, build: (db: Db) => T): T {
  let byKey = statements.get(db);
  if (!byKey) statements.set(db, (byKey = new Map()));
  let statement = byKey.get(key) as T | undefined;
  if (statement === undefined) byKey.set(key, (statement = build(db)));
  return statement;
}

/**
 * An id list as ONE parameter, for `= any(…)`: the statement's text is the same however
 * many ids there are (one prepared statement, not one per length). bigint, so that an id
 * beyond the integer range matches nothing instead of failing.
 */
export function intArray(ids: readonly number[]): SQL {
  return sql`${intArrayLiteral(ids)}::bigint[]`;
}

/** The array literal of `intArray`, for a prepared statement's placeholder (`${sql.placeholder('ids')}::bigint[]`). */
export const intArrayLiteral = (ids: readonly number[]): string => `{${ids.filter(Number.isSafeInteger).join(',')}}`;

/** What `readRows` reaches below Drizzle: its SQL renderer, its logger, and postgres.js's `unsafe`. */
interface DrizzleInternals {
  dialect: { sqlToQuery(query: SQL): { sql: string; params: unknown[] } };
  session?: { logger?: { logQuery(query: string, params: unknown[]): void } };
  $client?: { unsafe?: (query: string, params: unknown[], options: { prepare: boolean }) => Promise<unknown[]> };
}

/**
 * A hot public read in raw SQL, as a prepared statement on PostgreSQL: postgres.js keeps
 * it per connection under its text, so later runs are one Bind/Execute round trip and
 * reuse the plan. Drizzle sends raw SQL unnamed, which postgres.js runs as two round
 * trips (Describe first, then Bind/Execute) with a fresh plan each time. The text must
 * come in few shapes: values go as parameters, an id list as one array parameter.
 * The same rows as `queryRows` (the same client, with Drizzle's type parsers); on
 * PGlite, which has no statement cache to fill, it is `queryRows`.
 * `planEachTime`: unnamed, planned for its values on every run. PostgreSQL replaces a
 * prepared statement's plan by a generic one after five runs when that looks no dearer,
 * and for a search the generic plan cannot know how common the words are: it read every
 * match of a common pair (a bitmap scan and a sort, 86 ms) where a walk down the date
 * index stops after 100 (bench/results/2026-12-01-search-window-postgres-100000.md).
 */
export async function readRows<T = Record<string, unknown>>(db: Db, query: SQL, opts: { planEachTime?: boolean } = {}): Promise<T[]> {
  const internals = db as unknown as DrizzleInternals;
  const unsafe = internals.$client?.unsafe;
  // PGlite's client has no `unsafe`; a transaction has no `$client` (it runs on its own connection)
  if (!unsafe) return queryRows<T>(db, query);
  const q = internals.dialect.sqlToQuery(query);
  internals.session?.logger?.logQuery(q.sql, q.params);
  return (await unsafe.call(internals.$client, q.sql, q.params, { prepare: !opts.planEachTime })) as T[];
}

/**
 * Runs raw SQL and returns its rows on either driver (PGlite answers `{ rows }`,
 * postgres.js an array).
 */
export async function queryRows<T = Record<string, unknown>>(db: Db, query: SQL): Promise<T[]> {
  const res = (await db.execute(query)) as unknown;
  if (Array.isArray(res)) return res as T[];
  return ((res as { rows?: T[] }).rows ?? []) as T[];
}

/** Is the database answering? Bounded by `timeoutMs` so /readyz never hangs. */
export async function ping(db: Db, timeoutMs = 2000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      queryRows(db, sql`select 1 as ok`).then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** Is this a unique-index violation (PostgreSQL 23505), on either driver, however wrapped? */
export function isUniqueViolation(err: unknown): boolean {
  return uniqueViolationOn(err) !== null;
}

/** The constraint or index a unique violation broke ('' when the driver does not say); null for any other error. */
export function uniqueViolationOn(err: unknown): string | null {
  let name: string | null = null;
  anyCause(err, (e) => {
    const { code, constraint, constraint_name } = e as { code?: unknown; constraint?: unknown; constraint_name?: unknown };
    if (code !== '23505') return false;
    name = String(constraint_name ?? constraint ?? '');
    return true;
  });
  return name;
}
