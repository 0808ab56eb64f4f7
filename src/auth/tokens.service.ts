import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { and, asc, eq, isNull, or, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { apiTokens } from './tokens.table.ts';

const PREFIX = 'iw_';

export interface TokenInfo {
  id: number;
  name: string;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

const hashToken = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

/** A name `token revoke NAME` could not tell apart: all digits (an id), or one a live token has. */
export class TokenNameError extends Error {
  override name = 'TokenNameError';
}

/** Creates a token and returns its secret: the only time it is ever seen. */
export async function createToken(db: Db, name: string): Promise<{ id: number; token: string }> {
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
    .values({ name, tokenHash: hashToken(token), prefix: token.slice(0, PREFIX.length + 6) })
    .returning({ id: apiTokens.id });
  return { id: row.id, token };
}

export async function listTokens(db: Db): Promise<TokenInfo[]> {
  return db
    .select({
      id: apiTokens.id,
      name: apiTokens.name,
      prefix: apiTokens.prefix,
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
 * Returns the live token matching `token`, or null. The lookup is by hash, so the
 * secret itself is never compared; the final equality is constant-time anyway.
 */
export async function verifyToken(db: Db, token: string): Promise<{ id: number; name: string } | null> {
  if (!token.startsWith(PREFIX) || token.length > 200) return null;
  const hash = hashToken(token);
  const [row] = await db
    .select({ id: apiTokens.id, name: apiTokens.name, tokenHash: apiTokens.tokenHash })
    .from(apiTokens)
    .where(and(eq(apiTokens.tokenHash, hash), isNull(apiTokens.revokedAt)))
    .limit(1);
  if (!row || !timingSafeEqual(Buffer.from(row.tokenHash, 'hex'), Buffer.from(hash, 'hex'))) return null;
  return { id: row.id, name: row.name };
}

/** Records use at most once a minute per token, to keep reads cheap. */
export async function touchToken(db: Db, id: number): Promise<void> {
  await db
    .update(apiTokens)
    .set({ lastUsedAt: sql`now()` })
    .where(and(eq(apiTokens.id, id), or(isNull(apiTokens.lastUsedAt), sql`${apiTokens.lastUsedAt} < now() - interval '1 minute'`)));
}
