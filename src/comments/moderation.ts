// Who gets through without an editor: the COMMENT_MODERATION policy.
//   open        everything approved (except what looks like spam: too many links)
//   first-time  held unless the author already has an approved response
//   manual      everything held
import { and, eq, sql } from 'drizzle-orm';
import type { ModerationPolicy } from '../config.ts';
import type { Db } from '../db/client.ts';
import { responses, type ResponseStatus } from './responses.table.ts';

export const MAX_LINKS = 2;

export interface ModerationInput {
  /** comments: the author's email; mentions: none */
  authorEmail?: string | null;
  /** mentions: the source page; "first-time" looks for an approved mention from the same host */
  sourceUrl?: string | null;
  linkCount: number;
  /** the honeypot was filled: a bot */
  honeypot?: boolean;
}

export async function decideStatus(db: Db, policy: ModerationPolicy, input: ModerationInput): Promise<ResponseStatus> {
  if (input.honeypot) return 'spam';
  if (policy === 'manual') return 'pending';
  if (input.linkCount > MAX_LINKS) return 'pending';
  if (policy === 'open') return 'approved';
  return (await knownAuthor(db, input)) ? 'approved' : 'pending';
}

async function knownAuthor(db: Db, input: ModerationInput): Promise<boolean> {
  if (input.authorEmail) {
    const rows = await db
      .select({ id: responses.id })
      .from(responses)
      .where(and(eq(responses.status, 'approved'), eq(responses.authorEmail, input.authorEmail.toLowerCase())))
      .limit(1);
    return rows.length > 0;
  }
  if (input.sourceUrl) {
    let host: string;
    try {
      host = new URL(input.sourceUrl).host.toLowerCase();
    } catch {
      return false;
    }
    const rows = await db
      .select({ id: responses.id })
      .from(responses)
      .where(
        and(
          eq(responses.status, 'approved'),
          sql`${responses.sourceUrl} is not null and lower(split_part(split_part(${responses.sourceUrl}, '://', 2), '/', 1)) = ${host}`,
        ),
      )
      .limit(1);
    return rows.length > 0;
  }
  return false;
}
