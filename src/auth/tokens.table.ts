import { integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** Admin API tokens. Only a SHA-256 hash of the secret is stored; the secret is shown once. */
export const apiTokens = pgTable('api_tokens', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  name: text('name').notNull(),
  /** hex SHA-256 of the whole token */
  tokenHash: text('token_hash').notNull().unique(),
  /** first characters of the token, to recognise it in `token list` */
  prefix: text('prefix').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
});
