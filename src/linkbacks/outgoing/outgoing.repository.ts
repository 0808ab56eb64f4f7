// SQL for the outgoing ping outbox.
import { and, count, desc, eq, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { outgoingPings, type OutgoingPingStatus, type PingReason } from './outgoing.table.ts';

export type OutgoingPing = typeof outgoingPings.$inferSelect;

export async function pingsOfArticle(db: Db, articleId: number): Promise<Map<string, OutgoingPing>> {
  const rows = await db.select().from(outgoingPings).where(eq(outgoingPings.articleId, articleId));
  return new Map(rows.map((r) => [r.targetUrl, r]));
}

/** A new row; null when the (article, target) row exists already. */
export async function insertPing(db: Db, row: { articleId: number; sourceUrl: string; targetUrl: string; reason: PingReason }): Promise<number | null> {
  const [created] = await db.insert(outgoingPings).values(row).onConflictDoNothing().returning({ id: outgoingPings.id });
  return created?.id ?? null;
}

/** Puts a row back in the queue under a new job: a fresh attempt budget, nothing left of the last outcome. */
export async function requeuePing(db: Db, id: number, patch: { jobId: number; sourceUrl?: string; reason?: PingReason }): Promise<OutgoingPing | null> {
  const [row] = await db
    .update(outgoingPings)
    .set({ ...patch, status: 'queued', attempts: 0, lastError: null, result: null, nextAttemptAt: null, updatedAt: new Date() })
    .where(eq(outgoingPings.id, id))
    .returning();
  return row ?? null;
}

export async function findPing(db: Db, id: number): Promise<OutgoingPing | null> {
  const [row] = await db.select().from(outgoingPings).where(eq(outgoingPings.id, id)).limit(1);
  return row ?? null;
}

export type AttemptPatch = Partial<Pick<OutgoingPing, 'status' | 'protocol' | 'endpoint' | 'attempts' | 'lastError' | 'result' | 'nextAttemptAt' | 'sentAt'>>;

/** Records an attempt's outcome, unless another job has taken the row over meanwhile (then false). */
export async function recordAttempt(db: Db, id: number, jobId: number, patch: AttemptPatch): Promise<boolean> {
  const rows = await db
    .update(outgoingPings)
    .set({ ...patch, updatedAt: new Date() })
    .where(and(eq(outgoingPings.id, id), eq(outgoingPings.jobId, jobId)))
    .returning({ id: outgoingPings.id });
  return rows.length > 0;
}

export interface PingFilter {
  status?: OutgoingPingStatus;
  articleId?: number;
}

function where(f: PingFilter): SQL | undefined {
  return and(f.status ? eq(outgoingPings.status, f.status) : undefined, f.articleId ? eq(outgoingPings.articleId, f.articleId) : undefined);
}

/** Newest activity first. */
export async function listPings(db: Db, f: PingFilter, page: { limit: number; offset: number }): Promise<OutgoingPing[]> {
  return db.select().from(outgoingPings).where(where(f)).orderBy(desc(outgoingPings.updatedAt), desc(outgoingPings.id)).limit(page.limit).offset(page.offset);
}

export async function countPings(db: Db, f: PingFilter): Promise<number> {
  const [row] = await db.select({ n: count() }).from(outgoingPings).where(where(f));
  return Number(row?.n ?? 0);
}
