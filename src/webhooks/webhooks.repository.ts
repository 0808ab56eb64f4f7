// SQL for webhook subscriptions and their deliveries.
import { and, desc, eq, lt, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { webhookDeliveries, webhooks, type DeliveryStatus } from './webhooks.table.ts';

export type WebhookRow = typeof webhooks.$inferSelect;
export type DeliveryRow = typeof webhookDeliveries.$inferSelect;

/** null: a subscription for this URL exists */
export async function insertWebhook(db: Db, values: { url: string; events: string[]; description: string; secret: string }): Promise<WebhookRow | null> {
  const [row] = await db.insert(webhooks).values(values).onConflictDoNothing({ target: webhooks.url }).returning();
  return row ?? null;
}

export async function listWebhooks(db: Db): Promise<WebhookRow[]> {
  return db.select().from(webhooks).orderBy(webhooks.id);
}

export async function findWebhook(db: Db, id: number): Promise<WebhookRow | null> {
  const [row] = await db.select().from(webhooks).where(eq(webhooks.id, id));
  return row ?? null;
}

export async function updateWebhook(db: Db, id: number, values: Partial<typeof webhooks.$inferInsert>): Promise<WebhookRow | null> {
  const [row] = await db
    .update(webhooks)
    .set({ ...values, updatedAt: sql`now()` })
    .where(eq(webhooks.id, id))
    .returning();
  return row ?? null;
}

export async function deleteWebhook(db: Db, id: number): Promise<boolean> {
  const rows = await db.delete(webhooks).where(eq(webhooks.id, id)).returning({ id: webhooks.id });
  return rows.length > 0;
}

/** The enabled subscriptions to an event type. */
export async function subscribersOf(db: Db, eventType: string): Promise<{ id: number }[]> {
  return db
    .select({ id: webhooks.id })
    .from(webhooks)
    .where(and(eq(webhooks.enabled, true), sql`${eventType} = any(${webhooks.events})`));
}

export async function insertDelivery(db: Db, values: { id: string; webhookId: number; eventType: string; body: string }): Promise<DeliveryRow> {
  const [row] = await db.insert(webhookDeliveries).values(values).returning();
  return row;
}

/** A delivery with what sending it needs from its subscription. */
export async function findDeliveryToSend(db: Db, id: string) {
  const [row] = await db
    .select({ delivery: webhookDeliveries, webhook: webhooks })
    .from(webhookDeliveries)
    .innerJoin(webhooks, eq(webhooks.id, webhookDeliveries.webhookId))
    .where(eq(webhookDeliveries.id, id));
  return row ?? null;
}

export async function findDelivery(db: Db, webhookId: number, id: string): Promise<DeliveryRow | null> {
  const [row] = await db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.webhookId, webhookId), eq(webhookDeliveries.id, id)));
  return row ?? null;
}

/** Newest first; `before` is the `seq` of the last one seen. */
export async function listDeliveries(db: Db, webhookId: number, limit: number, before?: number): Promise<DeliveryRow[]> {
  return db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.webhookId, webhookId), before === undefined ? undefined : lt(webhookDeliveries.seq, before)))
    .orderBy(desc(webhookDeliveries.seq))
    .limit(limit);
}

export async function recordAttempt(
  db: Db,
  id: string,
  o: { status: DeliveryStatus; statusCode: number | null; error: string | null; nextAttemptAt: Date | null },
): Promise<void> {
  await db
    .update(webhookDeliveries)
    .set({
      status: o.status,
      attempts: sql`${webhookDeliveries.attempts} + 1`,
      lastStatusCode: o.statusCode,
      lastError: o.error,
      lastAttemptAt: sql`now()`,
      nextAttemptAt: o.nextAttemptAt,
      deliveredAt: o.status === 'delivered' ? sql`now()` : null,
    })
    .where(eq(webhookDeliveries.id, id));
}

/** An editor's retry: queued again now (one more attempt; a failure then continues the schedule where it was). */
export async function requeueDelivery(db: Db, id: string): Promise<void> {
  await db.update(webhookDeliveries).set({ status: 'queued', nextAttemptAt: sql`now()` }).where(eq(webhookDeliveries.id, id));
}
