import { integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Per-client counters of the write limits, shared by every process on one PostgreSQL.
 * UNLOGGED (a migration of its own): no WAL, so an upsert per write stays cheap, and a
 * crash merely forgets the current windows. On PGlite the counters live in memory.
 */
export const rateLimits = pgTable('rate_limits', {
  /** what is counted and for whom: `writes:<ip>`, `comment:<ip>` */
  key: text('key').primaryKey(),
  count: integer('count').notNull(),
  /** the window ends (and the count starts again) here */
  resetAt: timestamp('reset_at', { withTimezone: true }).notNull(),
});
