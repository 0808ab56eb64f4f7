// SQL for Webmention requests (the status resources).
import { eq } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { webmentionRequests, type WebmentionStatus } from './webmention.table.ts';

export type WebmentionRequest = typeof webmentionRequests.$inferSelect;

export async function insertRequest(db: Db, row: typeof webmentionRequests.$inferInsert): Promise<WebmentionRequest> {
  const [created] = await db.insert(webmentionRequests).values(row).returning();
  return created;
}

export async function findRequest(db: Db, id: string): Promise<WebmentionRequest | null> {
  const [row] = await db.select().from(webmentionRequests).where(eq(webmentionRequests.id, id)).limit(1);
  return row ?? null;
}

export async function settleRequest(db: Db, id: string, status: WebmentionStatus, detail: string | null, responseId: number | null = null): Promise<void> {
  await db
    .update(webmentionRequests)
    .set({ status, detail, responseId, updatedAt: new Date() })
    .where(eq(webmentionRequests.id, id));
}

/** Notes why the last attempt failed while the request waits for a retry. */
export async function noteRequest(db: Db, id: string, detail: string): Promise<void> {
  await db.update(webmentionRequests).set({ detail, updatedAt: new Date() }).where(eq(webmentionRequests.id, id));
}
