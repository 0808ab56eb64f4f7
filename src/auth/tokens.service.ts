import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { and, asc, eq, isNull, or, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { apiTokens, TOKEN_SCOPES, type TokenScope } from './tokens.table.ts';

const PREFIX = 'iw_';

export interface TokenInfo {
  id: number;
  name: string;
  prefix: string;
  scope: TokenScope;
  expiresAt: Date | null;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

const hashToken = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

/** The live token a request carries: who, what it may do, until when. */
export interface VerifiedToken {
  id: number;
  name: string;
  scope: TokenScope;
  expiresAt: Date | null;
}

export const isTokenScope = (s: string): s is TokenScope => (TOKEN_SCOPES as readonly string[]).includes(s);

/** A name `token revoke NAME` could not tell apart: all digits (an id), or one a live token has. */
export class TokenNameError extends Error {
  override name = 'TokenNameError';
}

/** Creates a token and returns its secret: the only time it is ever seen. */
export async function createToken(
  db: Db,
  name: string,
  opts: { scope?: TokenScope; expiresInMs?: number } = {},
): Promise<{ id: number; token: string; scope: TokenScope; expiresAt: Date | null }> {
  if (/^\d+$/.test(name)) throw new TokenNameError(`A token name cannot be only digits ("${name}"): it would read as a token id.`);
  const [taken] = await db
    .select({ id: apiTokens.id })
    .from(apiTokens)
    .where(and(eq(apiTokens.name, name), isNull(apiTokens.revokedAt)))
    .limit(1);
  if (taken) throw new TokenNameError(`An active token is already named "${name}" (id ${taken.id}): choose another name, or revoke that one first.`);
  const token = PREFIX + randomBytes(32).toString('base64url');
  const [row] = await db
    .insert(apiTokens)
    .values({
      name,
      tokenHash: hashToken(token),
      prefix: token.slice(0, PREFIX.length + 6),
      scope: opts.scope ?? 'admin',
      // the database's clock, as verifyToken compares with it
      expiresAt: opts.expiresInMs === undefined ? null : sql`now() + (${opts.expiresInMs} * interval '1 millisecond')`,
    })
    .returning({ id: apiTokens.id, scope: apiTokens.scope, expiresAt: apiTokens.expiresAt });
  return { id: row.id, token, scope: row.scope, expiresAt: row.expiresAt };
}

export async function listTokens(db: Db): Promise<TokenInfo[]> {
  return db
    .select({
      id: apiTokens.id,
      name: apiTokens.name,
      prefix: apiTokens.prefix,
      scope: apiTokens.scope,
      expiresAt: apiTokens.expiresAt,
      createdAt: apiTokens.createdAt,
      lastUsedAt: apiTokens.lastUsedAt,
      revokedAt: apiTokens.revokedAt,
    })
    .from(apiTokens)
    .orderBy(asc(apiTokens.id));
}

/** Revokes by id (digits) or else by name (names are never only digits); returns how many live tokens were revoked. */
export async function revokeToken(db: Db, idOrName: string): Promise<number> {
  const id = /^\d{1,9}$/.test(idOrName) ? Number(idOrName) : undefined;
  const match = id !== undefined ? eq(apiTokens.id, id) : /^\d+$/.test(idOrName) ? sql`false` : eq(apiTokens.name, idOrName);
  const rows = await db
    .update(apiTokens)
    .set({ revokedAt: sql`now()` })
    .where(and(match, isNull(apiTokens.revokedAt)))
    .returning({ id: apiTokens.id });
  return rows.length;
}

/**
 * Returns the unrevoked token matching `token` (with `expired` true once its time has
 * passed), or null. The lookup is by hash, so the secret itself is never compared; the
 * final equality is constant-time anyway.
 */
export async function verifyToken(db: Db, token: string): Promise<(VerifiedToken & { expired: boolean }) | null> {
  if (!token.startsWith(PREFIX) || token.length > 200) return null;
  const hash = hashToken(token);
  const [row] = await db
    .select({
      id: apiTokens.id,
      name: apiTokens.name,
      tokenHash: apiTokens.tokenHash,
      scope: apiTokens.scope,
      expiresAt: apiTokens.expiresAt,
      expired: sql<boolean>`coalesce(${apiTokens.expiresAt} <= now(), false)`,
    })
    .from(apiTokens)
    .where(and(eq(apiTokens.tokenHash, hash), isNull(apiTokens.revokedAt)))
    .limit(1);
  if (!row || !timingSafeEqual(Buffer.from(row.tokenHash, 'hex'), Buffer.from(hash, 'hex'))) return null;
  return { id: row.id, name: row.name, scope: row.scope, expiresAt: row.expiresAt, expired: Boolean(row.expired) };
}

/** Records use at most once a minute per token, to keep reads cheap. */
export async function touchToken(db: Db, id: number): Promise<void> {
  await db
    .update(apiTokens)
    .set({ lastUsedAt: sql`now()` })
    .where(and(eq(apiTokens.id, id), or(isNull(apiTokens.lastUsedAt), sql`${apiTokens.lastUsedAt} < now() - interval '1 minute'`)));
}

/** The token of id `id` while it lives (unrevoked, unexpired), or null: what a desk session is checked against on each request. */
export async function findLiveToken(db: Db, id: number): Promise<VerifiedToken | null> {
  const [row] = await db
    .select({ id: apiTokens.id, name: apiTokens.name, scope: apiTokens.scope, expiresAt: apiTokens.expiresAt })
    .from(apiTokens)
    .where(and(eq(apiTokens.id, id), isNull(apiTokens.revokedAt), sql`coalesce(${apiTokens.expiresAt} > now(), true)`))
    .limit(1);
  return row ?? null;
}
