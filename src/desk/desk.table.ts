import { index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * The editor's desk sessions (@fastify/session's store): shared by every process on the
 * database, so a sign-in holds whichever process answers. `data` holds the token's id
 * (never the token), the CSRF secret and the editor's time zone; a row past `expires_at`
 * (idle for DESK_IDLE) is never read and is swept at the next sign-in.
 */
export const deskSessions = pgTable(
  'desk_sessions',
  {
    /** the random session id (its HMAC-signed form is the cookie) */
    id: text('id').primaryKey(),
    data: jsonb('data').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('desk_sessions_expires_idx').on(t.expiresAt)],
);

/** The key that signs session cookies: made once by the first process, read by all. */
export const deskKeys = pgTable('desk_keys', {
  name: text('name').primaryKey(),
  secret: text('secret').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});
