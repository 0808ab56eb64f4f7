// SQL for mentions: pingbacks and webmentions are rows of `responses` with a source URL,
// one per (article, source page) whichever protocol brought them. Storing and removing
// them (with the moderation policy) is the conversation's job: ResponsesService.storeMention.
import { and, eq, inArray } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { responses } from '../../comments/responses.table.ts';

/** Source URLs of the approved mentions of an article, oldest first. */
export async function approvedSources(db: Db, articleId: number): Promise<string[]> {
  const rows = await db
    .select({ sourceUrl: responses.sourceUrl })
    .from(responses)
    .where(and(eq(responses.articleId, articleId), eq(responses.status, 'approved'), inArray(responses.type, ['pingback', 'webmention'])))
    .orderBy(responses.createdAt, responses.id);
  return rows.map((r) => r.sourceUrl).filter((u): u is string => !!u);
}
