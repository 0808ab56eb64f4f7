import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import type { PgliteDatabase } from 'drizzle-orm/pglite';
import type { PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import type { Database } from './client.ts';
import { fromRoot } from '../paths.ts';

export const MIGRATIONS_FOLDER = fromRoot('drizzle');

/** any fixed number: the advisory lock the processes of one site migrate under */
const MIGRATION_LOCK = 7_313_001;

interface Reservable {
  reserve(): Promise<{ unsafe(query: string): Promise<unknown>; release(): void }>;
}

/**
 * Applies every pending migration in drizzle/. Idempotent; safe to run at every start.
 * On PostgreSQL, replicas starting together take turns (an advisory lock held on a
 * connection of its own): the first migrates, the others then find nothing to do.
 */
export async function migrate(database: Database): Promise<void> {
  if (database.kind === 'pglite') {
    await migratePglite(database.db as unknown as PgliteDatabase, { migrationsFolder: MIGRATIONS_FOLDER });
    return;
  }
  const lock = await (database.db as unknown as { $client: Reservable }).$client.reserve();
  try {
    await lock.unsafe(`select pg_advisory_lock(${MIGRATION_LOCK})`);
    await migratePostgres(database.db as unknown as PostgresJsDatabase, { migrationsFolder: MIGRATIONS_FOLDER });
  } finally {
    await lock.unsafe(`select pg_advisory_unlock(${MIGRATION_LOCK})`).catch(() => {});
    lock.release();
  }
}
