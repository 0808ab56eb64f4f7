// The desk's SQL: its sessions (the @fastify/session store), the cookie-signing key, and
// the one read the admin API has no call for (a commenter's history in the queue).
import { randomBytes } from 'node:crypto';
import { and, count, eq, gt, inArray, lte, sql } from 'drizzle-orm';
import type { Session } from 'fastify';
import type { Db } from '../db/client.ts';
import { responses } from '../comments/responses.table.ts';
import { deskKeys, deskSessions } from './desk.table.ts';

type Callback = (err?: unknown) => void;

/**
 * @fastify/session's store on PostgreSQL (or PGlite). A row lives until its cookie's
 * expiry, which every request moves forward (rolling sessions): the idle expiry.
 */
export class PgSessionStore {
  constructor(
    private readonly db: Db,
    private readonly idleMs: number,
  ) {}

  get(id: string, cb: (err: unknown, session?: Session | null) => void): void {
    this.db
      .select({ data: deskSessions.data })
      .from(deskSessions)
      .where(and(eq(deskSessions.id, id), gt(deskSessions.expiresAt, sql`now()`)))
      .limit(1)
      .then(([row]) => cb(null, (row?.data as Session | undefined) ?? null), cb);
  }

  set(id: string, session: Session, cb: Callback): void {
    const expires = session.cookie.expires ? new Date(session.cookie.expires) : new Date(Date.now() + this.idleMs);
    this.db
      .insert(deskSessions)
      .values({ id, data: session, expiresAt: expires })
      .onConflictDoUpdate({ target: deskSessions.id, set: { data: session, expiresAt: expires } })
      .then(() => cb(), cb);
  }

  destroy(id: string, cb: Callback): void {
    this.db
      .delete(deskSessions)
      .where(eq(deskSessions.id, id))
      .then(() => cb(), cb);
  }

  /** Removes the sessions that expired (called at sign-in: no timer needed). */
  async sweep(): Promise<void> {
    await this.db.delete(deskSessions).where(lte(deskSessions.expiresAt, sql`now()`));
  }
}

/** The secret that signs session cookies: made by the first process that asks, the same for all. */
export async function sessionSigningKey(db: Db): Promise<string> {
  await db
    .insert(deskKeys)
    .values({ name: 'session', secret: randomBytes(32).toString('base64url') })
    .onConflictDoNothing();
  const [row] = await db.select({ secret: deskKeys.secret }).from(deskKeys).where(eq(deskKeys.name, 'session'));
  return row.secret;
}

/** Per email: how many of the author's responses are approved (the queue shows "3 approved before"). */
export async function approvedByEmail(db: Db, emails: string[]): Promise<Map<string, number>> {
  if (!emails.length) return new Map();
  const rows = await db
    .select({ email: responses.authorEmail, n: count() })
    .from(responses)
    .where(and(eq(responses.status, 'approved'), inArray(responses.authorEmail, emails)))
    .groupBy(responses.authorEmail);
  const out = new Map<string, number>();
  for (const r of rows) if (r.email !== null) out.set(r.email, r.n);
  return out;
}
