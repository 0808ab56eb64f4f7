// What the shared announcement machinery (outbox, worker, editors' routes) asks of a
// network. Each network's folder (x/, mastodon/, bluesky/) answers it with its client,
// its text rule and its reading of failures; nothing here knows a network's API.
import { htmlToText } from '../../lib/html.ts';
import type { LengthRule } from './announcement-text.ts';
import type { Network } from './announcements.table.ts';

/** What a failed attempt means for the announcement (each network's classification table maps its errors to these). */
export type Failure =
  /** nothing was posted and nothing will be: give up with the network's reason */
  | { kind: 'rejected'; reason: string }
  /** the network refused identical text (X): after an unanswered attempt, that attempt was the post */
  | { kind: 'duplicate'; reason: string }
  /** the network refuses these credentials or this app: stop sending until someone fixes it */
  | { kind: 'auth'; reason: string }
  /** rate limit or usage cap: wait until `until` (unix ms) */
  | { kind: 'rate-limited'; reason: string; until: number }
  /** try again later; `ambiguous` when the request may have reached the network and been acted on */
  | { kind: 'transient'; reason: string; ambiguous: boolean };

/** The announcement as a network's sender needs it. */
export interface Outgoing {
  id: number;
  text: string;
  /** Mastodon's Idempotency-Key, Bluesky's record key; null on X */
  remoteKey: string | null;
  /** an earlier attempt went unanswered: the post may already exist */
  ambiguous: boolean;
  /** when the announcement was queued: a post found on the account must be younger */
  createdAt: Date;
  article: { id: number; title: string; excerpt: string; url: string };
}

export interface Sent {
  /** null when the network said "already posted" without saying which post */
  postId: string | null;
  url: string | null;
  /** how we know, when it was not this attempt that posted it (found on the account after a lost answer) */
  note?: string;
  /** the success used up a rate-limit window: nobody sends before this */
  holdUntil?: { until: Date; reason: string };
}

export interface Announcer {
  network: Network;
  /** the network's name for people: "X", "Mastodon", "Bluesky" */
  label: string;
  /** the job kind of this network's worker (one worker per network: a slow network does not hold up the others) */
  jobKind: string;
  configured: boolean;
  /** why nothing can be sent without credentials, naming the variables */
  missingCredentials: string;
  /** true: an article published without credentials gets a `skipped` row (X, as before); false: no row at all */
  recordSkipped: boolean;
  /** identifies the credentials without storing them: a pause is tied to the credentials the network refused */
  credentialsFingerprint(): string;
  template: string;
  lengthRule: LengthRule;
  /** false: reactions to its posts are not polled (X without X_BACKFEED=on); default true */
  polled?: boolean;
  /** posts per calendar month (UTC), beyond which announcements wait as `paused`; undefined = unlimited */
  monthlyLimit?: number;
  /** a fresh key for a new announcement (Mastodon: Idempotency-Key; Bluesky: a TID) */
  newRemoteKey?(): string;
  /** one attempt: at most one post; throws what `classify` reads */
  send(out: Outgoing, deadlineMs: number): Promise<Sent>;
  classify(err: unknown, now?: number): Failure;
  /** what an editor is told after an unanswered attempt: why a resend will not post twice */
  resendNote: string;
}

/** Error codes of a request that never left this machine or never reached the network: certainly not posted. */
export const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** An attempt that took longer than its deadline: it may have been acted on. */
export class DeadlineError extends Error {
  override name = 'DeadlineError';
}

/** A 2xx answer we cannot read (no id): it may have been acted on. */
export class MalformedAnswerError extends Error {
  override name = 'MalformedAnswerError';
}

/** Runs `work` with an overall deadline (an idle timeout alone lets a trickling server hold the worker forever). */
export async function withDeadline<T>(work: (signal: AbortSignal) => Promise<T>, ms: number, what: string): Promise<T> {
  const ctl = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      ctl.abort();
      reject(new DeadlineError(`no complete answer from ${what} within ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([work(ctl.signal), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The cause of a fetch() failure (undici wraps it: TypeError "fetch failed" with
 * `cause.code`), for the networks whose clients use fetch.
 */
export function fetchFailure(err: unknown, label: string): Failure | null {
  if (!(err instanceof Error)) return null;
  const cause = (err as { cause?: unknown }).cause as NodeJS.ErrnoException | undefined;
  if (err.name === 'TimeoutError' || err.name === 'AbortError' || cause?.name === 'TimeoutError') {
    return { kind: 'transient', reason: `no answer from ${label} in time (${err.message}); the post may have gone through`, ambiguous: true };
  }
  if (err instanceof TypeError && err.message === 'fetch failed' && cause) {
    const code = cause.code ?? '';
    if (NOT_SENT_CODES.has(code)) return { kind: 'transient', reason: `could not reach ${label} (${code}: ${cause.message})`, ambiguous: false };
    return { kind: 'transient', reason: `no answer from ${label} (${code ? `${code}: ` : ''}${cause.message}); the post may have gone through`, ambiguous: true };
  }
  return null;
}

/** The text of an HTML error page (a proxy's 502/503), short, for the editor. */
export function pageText(body: string): string {
  const head = body.slice(0, 20_000);
  // the title by indexOf (a regex over an unclosed `<title` run is quadratic), the text by the sanitiser
  const lower = head.toLowerCase();
  const open = lower.indexOf('<title');
  const from = open === -1 ? -1 : lower.indexOf('>', open);
  const to = from === -1 ? -1 : lower.indexOf('</title>', from);
  const title = to === -1 ? '' : htmlToText(head.slice(from + 1, to));
  const text = htmlToText(to === -1 ? head : `${head.slice(0, to)}</title> ${head.slice(to + '</title>'.length)}`);
  return (title && !text.startsWith(title) ? `${title}: ${text}` : text).slice(0, 200);
}
