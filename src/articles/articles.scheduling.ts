// Scheduled publishing: one job per article, keyed by it, moved when publishAt moves.
import type { Db } from '../db/client.ts';
import { enqueue, reschedule } from '../jobs/kernel.ts';

export const PUBLISH_JOB = 'article.publish';

/** Queues the job that publishes scheduled article `id` at `at`, or moves the one already queued. */
export async function enqueuePublish(tx: Db, id: number, at: Date): Promise<void> {
  const key = `article:${id}`;
  const queued = await enqueue(tx, { kind: PUBLISH_JOB, key, payload: { articleId: id }, runAt: at, maxAttempts: 20 });
  if (queued === null) await reschedule(tx, PUBLISH_JOB, key, at);
}
