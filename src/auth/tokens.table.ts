import { check, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';

/** What a token may do: `content` articles, tags, authors, media; `moderation` responses; `admin` everything. */
export const TOKEN_SCOPES = ['content', 'moderation', 'admin'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

/** Admin API tokens. Only a SHA-256 hash of the secret is stored; the secret is shown once. */
export const apiTokens = pgTable(
  'api_tokens',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    name: text('name').notNull(),
    /** hex SHA-256 of the whole token */
    tokenHash: text('token_hash').notNull().unique(),
    /** first characters of the token, to recognise it in `token list` */
    prefix: text('prefix').notNull(),
    /** tokens made before scopes existed are `admin`, as are those created without --scope */
    scope: text('scope').$type<TokenScope>().notNull().default('admin'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    /** null: never expires */
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [check('api_tokens_scope_check', sql`${t.scope} in ('content', 'moderation', 'admin')`)],
);
