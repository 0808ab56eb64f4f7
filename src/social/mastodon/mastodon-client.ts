// The Mastodon client (masto) and the reading of its failures.
//
// POST /api/v1/statuses carries an Idempotency-Key fixed per announcement: Mastodon
// remembers it for an hour and answers a repeat with the status it already made. That
// is not enough alone: a slow server may answer 504 (its proxy gave up) before the
// key was stored, and then a resend posts twice (mastodon/mastodon#21840); after an
// hour the key is forgotten anyway. So before resending after an unanswered attempt,
// we look for the status among the account's recent statuses, by the article's link
// (every announcement carries it; one announcement per article and network).
import { createRestAPIClient, MastoDeserializeError, MastoHttpError, MastoTimeoutError, MastoUnexpectedError, type mastodon } from 'masto';
import { createHash } from 'node:crypto';
import type { MastodonCredentials } from '../../config.ts';
import { escapeHtml } from '../../lib/html.ts';
import { fetchFailure, MalformedAnswerError, DeadlineError, type Failure } from '../announcements/network.ts';

export function createMastodonClient(credentials: MastodonCredentials, timeoutMs: number): mastodon.rest.Client {
  return createRestAPIClient({ url: credentials.url, accessToken: credentials.token, timeout: timeoutMs, log: 'error' });
}

export function mastodonFingerprint(credentials: MastodonCredentials | undefined): string {
  if (!credentials) return 'none';
  return createHash('sha256').update(JSON.stringify([credentials.url, credentials.token])).digest('hex').slice(0, 16);
}

export interface PostedStatus {
  id: string;
  /** the status's public page */
  url: string;
  /** the window is used up until then (from X-RateLimit-Remaining: 0 and X-RateLimit-Reset) */
  exhaustedUntil?: Date;
}

/** POST /api/v1/statuses: public, with the announcement's Idempotency-Key. */
export async function postStatus(client: mastodon.rest.Client, text: string, idempotencyKey: string, signal: AbortSignal): Promise<PostedStatus> {
  const res = await client.v1.statuses.create.$raw(
    { status: text, visibility: 'public' },
    { requestInit: { headers: { 'Idempotency-Key': idempotencyKey }, signal } },
  );
  const status = res.data as Partial<mastodon.v1.Status> | undefined;
  if (!status || typeof status.id !== 'string' || !status.id) {
    throw new MalformedAnswerError(`Mastodon answered ${JSON.stringify(status ?? null).slice(0, 200)} without a status id`);
  }
  const remaining = res.headers.get('x-ratelimit-remaining');
  const reset = resetOf(res.headers);
  return { id: status.id, url: status.url ?? status.uri ?? '', exhaustedUntil: remaining === '0' && reset ? reset : undefined };
}

/** How far back the lookup pages: the blog's own recent statuses, a few pages at most. */
const LOOKUP_PAGES = 3;

/**
 * The account's status linking to `link`, posted since `since`, or null. Answers
 * `undefined` when the token may not look (no read:accounts scope): the caller then
 * relies on the Idempotency-Key alone.
 */
export async function findStatusLinking(
  client: mastodon.rest.Client,
  link: string,
  since: Date,
  signal: AbortSignal,
): Promise<{ id: string; url: string } | null | undefined> {
  let me: mastodon.v1.Account;
  try {
    me = await client.v1.accounts.verifyCredentials(undefined, { requestInit: { signal } });
  } catch (err) {
    if (err instanceof MastoHttpError && (err.statusCode === 401 || err.statusCode === 403)) return undefined;
    throw err;
  }
  const href = escapeHtml(link);
  const paginator = client.v1.accounts.$select(me.id).statuses.list({ limit: 40, excludeReblogs: true }, { requestInit: { signal } });
  let pages = 0;
  for await (const page of paginator) {
    for (const s of page) {
      if (s.content.includes(href) || s.content.includes(link) || s.card?.url === link) return { id: s.id, url: s.url ?? s.uri };
    }
    const oldest = page.at(-1);
    // a minute of slack: the server's clock and ours
    if (!oldest || new Date(oldest.createdAt).getTime() < since.getTime() - 60_000 || ++pages >= LOOKUP_PAGES) break;
  }
  return null;
}

function resetOf(headers: Headers | undefined): Date | undefined {
  const raw = headers?.get('x-ratelimit-reset');
  if (!raw) return undefined;
  const d = new Date(raw);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** Mastodon's words for a failure. */
function describe(e: MastoHttpError): string {
  const details = e.details
    ? Object.entries(e.details)
        .map(([field, list]) => `${field}: ${list.map((d) => d.description).join(', ')}`)
        .join('; ')
    : '';
  const words = [e.message, e.description, details].filter((w) => w && w !== 'undefined').join(' — ');
  return `HTTP ${e.statusCode}${words ? `: ${words}` : ''}`;
}

/**
 * Mastodon's failure table (the README lists it):
 * 401 → auth (token invalid or revoked); 403 → auth (token without write:statuses,
 * account disabled); 404/410 → auth (MASTODON_URL is not a Mastodon API, or the account
 * is gone): sending pauses until the settings change; 429 → wait for X-RateLimit-Reset
 * (5 minutes without it); 408, 5xx → transient, ambiguous (a 504 may come after the
 * status was made); 422 and other 4xx → rejected; an answer that is not Mastodon's
 * JSON (a proxy's HTML or plain-text 502/503: masto hides its status) → transient,
 * ambiguous; timeouts and dropped connections → transient, ambiguous; refused
 * connections and DNS failures → transient, not sent.
 */
export function classifyMastodonFailure(err: unknown, now = Date.now()): Failure {
  if (err instanceof MastoHttpError) {
    const reason = describe(err);
    const s = err.statusCode;
    if (s === 401) return { kind: 'auth', reason: `Mastodon refused the token (${reason}). Check MASTODON_TOKEN; sending is paused until it changes or an editor retries.` };
    if (s === 403) {
      return { kind: 'auth', reason: `Mastodon refused the action (${reason}). The token needs the write:statuses scope and a working account; sending is paused until then.` };
    }
    if (s === 404 || s === 410) {
      return { kind: 'auth', reason: `Mastodon answered ${s} (${reason}): check MASTODON_URL (the instance, e.g. https://mastodon.social) and the account; sending is paused until then.` };
    }
    if (s === 429) {
      const cause = err.cause instanceof Response ? err.cause : undefined;
      const reset = resetOf(cause?.headers)?.getTime();
      return { kind: 'rate-limited', reason: `Mastodon rate limit reached (${reason})`, until: reset && reset > now ? reset : now + 5 * 60_000 };
    }
    if (s >= 500 || s === 408) return { kind: 'transient', reason: `Mastodon had a server error (${reason})`, ambiguous: true };
    return { kind: 'rejected', reason: `Mastodon refused the status (${reason})` };
  }
  if (err instanceof MastoTimeoutError) return { kind: 'transient', reason: `no answer from Mastodon in time (${err.message}); the status may have been made`, ambiguous: true };
  if (err instanceof MastoUnexpectedError || err instanceof MastoDeserializeError || isHiddenHtmlError(err)) {
    // a proxy's error page: masto drops the status code (HTML bodies even end in a TypeError inside masto)
    return { kind: 'transient', reason: `Mastodon (or a proxy before it) answered with an error page, not Mastodon's JSON (${(err as Error).message})`, ambiguous: true };
  }
  const fetched = fetchFailure(err, 'Mastodon');
  if (fetched) return fetched;
  if (err instanceof DeadlineError || err instanceof MalformedAnswerError) {
    return { kind: 'transient', reason: `${err.message}; the status may have been made`, ambiguous: true };
  }
  return { kind: 'transient', reason: `unexpected error: ${err instanceof Error ? err.message : String(err)}`, ambiguous: true };
}

/** masto 8 reading an HTML error body: its deserializer returns undefined and the destructuring that follows throws. */
function isHiddenHtmlError(err: unknown): boolean {
  return err instanceof TypeError && /destructure property 'error'/.test(err.message);
}
