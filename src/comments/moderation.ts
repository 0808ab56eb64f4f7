// Who gets through without an editor: the COMMENT_MODERATION policy.
//   open        everything approved (except what looks like spam: too many links)
//   first-time  held unless the author already has an approved response
//   manual      everything held
//
// The verdict is an SQL expression that the INSERT storing the response evaluates: one
// round trip instead of a look-up and a write, and "first-time" sees the very snapshot
// the write is made in.
import { sql, type Placeholder, type SQL } from 'drizzle-orm';
import type { ModerationPolicy } from '../config.ts';
import { responses, sourceHostOf, type ResponseStatus } from './responses.table.ts';

export const MAX_LINKS = 2;

export interface ModerationInput {
  /** comments: the author's email; mentions: none */
  authorEmail?: string | null;
  /** mentions: the source page (or the placeholder of a prepared statement); "first-time" looks for an approved mention from the same host */
  sourceUrl?: string | Placeholder | null;
  linkCount: number;
  /** social replies and mentions: the author's profile; "first-time" looks for an approved response by the same profile */
  socialAuthorUrl?: string | null;
  /** the honeypot was filled: a bot */
  honeypot?: boolean;
}

/** a literal, never a bound parameter: the partial indexes' predicates must be provable in a generic plan too */
const status = (s: ResponseStatus) => sql.raw(`'${s}'`);

/** false: the response is held (or spam) whatever the database holds; storing it changes nothing public. */
export function mayApprove(policy: ModerationPolicy, input: ModerationInput): boolean {
  return !input.honeypot && policy !== 'manual' && input.linkCount <= MAX_LINKS;
}

/** The status a new response gets under `policy`, as an SQL expression for its INSERT. */
export function statusFor(policy: ModerationPolicy, input: ModerationInput): SQL {
  if (!mayApprove(policy, input)) return status(input.honeypot ? 'spam' : 'pending');
  if (policy === 'open') return status('approved');
  const known = knownAuthor(input);
  return known ? sql`(case when exists (${known}) then ${status('approved')} else ${status('pending')} end)` : status('pending');
}

/** "first-time": an approved response by the same author (email) or from the same site (host), if the input names one. */
function knownAuthor(input: ModerationInput): SQL | null {
  const approved = sql`${responses.status} = ${status('approved')}`;
  if (input.authorEmail) {
    return sql`select 1 from ${responses} where ${approved} and ${responses.authorEmail} = ${input.authorEmail.toLowerCase()}`;
  }
  if (input.socialAuthorUrl) {
    return sql`select 1 from ${responses} where ${approved} and ${responses.type} = 'social' and ${responses.authorUrl} = ${input.socialAuthorUrl}`;
  }
  if (input.sourceUrl) {
    return sql`select 1 from ${responses} where ${approved} and ${responses.sourceUrl} IS NOT NULL and ${sourceHostOf(responses.sourceUrl)} = ${sourceHostOf(input.sourceUrl)}`;
  }
  return null;
}
