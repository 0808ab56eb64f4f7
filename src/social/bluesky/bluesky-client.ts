// Posting to Bluesky through @atproto/api, and the reading of its failures.
//
// Each announcement has its record key fixed when it is queued (a TID, as the PDS
// requires for posts). createRecord with that key can make the post only once; but
// today's PDS answers a repeated key with a generic 500 (bluesky-social/atproto#3718,
// #4725), not "already there". So: after an unanswered attempt we ask getRecord for
// the key before sending, and after a failed attempt we ask again before giving up.
import { Agent, XRPCError, type AppBskyEmbedExternal, type AppBskyFeedPost, type BlobRef } from '@atproto/api';
import { fetchFailure, DeadlineError, MalformedAnswerError, type Failure } from '../announcements/network.ts';
import { facetsOf } from './bluesky-text.ts';

export const POST_COLLECTION = 'app.bsky.feed.post';

/** The post's public page on bsky.app. */
export function postUrl(handle: string, rkey: string): string {
  return `https://bsky.app/profile/${handle}/post/${rkey}`;
}

export interface Card {
  uri: string;
  title: string;
  description: string;
  thumb?: BlobRef;
}

/** The post record: the text, its link and hashtag facets (UTF-8 byte offsets), and the link card. */
export function postRecord(text: string, card: Card, createdAt: Date): AppBskyFeedPost.Record {
  const facets = facetsOf(text);
  const external: AppBskyEmbedExternal.External = { uri: card.uri, title: card.title, description: card.description };
  if (card.thumb) external.thumb = card.thumb;
  return {
    $type: POST_COLLECTION,
    text,
    ...(facets.length ? { facets } : {}),
    embed: { $type: 'app.bsky.embed.external', external },
    createdAt: createdAt.toISOString(),
  };
}

/** getRecord for our key: the post's at:// URI when it exists, null when the PDS says RecordNotFound. */
export async function findPost(agent: Agent, did: string, rkey: string, signal?: AbortSignal): Promise<string | null> {
  try {
    const res = await agent.com.atproto.repo.getRecord({ repo: did, collection: POST_COLLECTION, rkey }, { signal });
    return res.data.uri;
  } catch (e) {
    if (e instanceof XRPCError && e.error === 'RecordNotFound') return null;
    throw e;
  }
}

export async function createPost(agent: Agent, did: string, rkey: string, record: AppBskyFeedPost.Record, signal?: AbortSignal): Promise<string> {
  const res = await agent.com.atproto.repo.createRecord({ repo: did, collection: POST_COLLECTION, rkey, record: { ...record } }, { signal });
  if (typeof res.data?.uri !== 'string') throw new MalformedAnswerError(`the PDS answered ${JSON.stringify(res.data).slice(0, 200)} without a record URI`);
  return res.data.uri;
}

/** Unix ms of the rate-limit reset (`ratelimit-reset`, unix seconds), when the PDS sent one. */
function resetOf(headers: Record<string, string | undefined> | undefined): number | undefined {
  const raw = headers?.['ratelimit-reset'];
  const n = raw === undefined ? NaN : Number(raw);
  return Number.isFinite(n) && n > 0 ? n * 1000 : undefined;
}

export const AUTH_ERRORS = ['AuthenticationRequired', 'AuthMissing', 'ExpiredToken', 'InvalidToken', 'AccountTakedown', 'AccountDeactivated', 'AuthFactorTokenRequired'];

/**
 * Bluesky's failure table (the README lists it):
 * 401, 403, or a 400 naming the session or the account (ExpiredToken, InvalidToken,
 * AccountTakedown, AccountDeactivated, AuthFactorTokenRequired) → auth: sending pauses;
 * 404 (BLUESKY_SERVICE is not a PDS) → auth; 429 (also the login limit) → wait for
 * `ratelimit-reset` (5 minutes without it); 5xx (with the generic 500 of a repeated
 * key: getRecord has already been asked) → transient, ambiguous; an answer the client
 * cannot read (a proxy's page, status hidden: InvalidResponse) → transient, ambiguous;
 * other 400s (invalid record) and 413 → rejected; network errors: refused → not sent,
 * reset or timeout → ambiguous.
 */
export function classifyBlueskyFailure(err: unknown, now = Date.now()): Failure {
  if (err instanceof XRPCError) {
    const status = err.status;
    const reason = `${status > 2 ? `HTTP ${status}: ` : ''}${err.error && err.error !== err.message ? `${err.error}: ` : ''}${err.message}`;
    if (status === 1) {
      const fetched = fetchFailure(err.cause, 'Bluesky');
      if (fetched) return fetched;
      return { kind: 'transient', reason: `no answer from Bluesky (${err.message}); the post may have gone through`, ambiguous: true };
    }
    if (status === 2) return { kind: 'transient', reason: `Bluesky (or a proxy before it) answered something that is not the PDS's JSON (${err.message})`, ambiguous: true };
    if (status === 401 || status === 403 || (status === 400 && AUTH_ERRORS.includes(err.error ?? ''))) {
      return { kind: 'auth', reason: `Bluesky refused the login (${reason}). Check BLUESKY_HANDLE and BLUESKY_APP_PASSWORD; sending is paused until they change or an editor retries.` };
    }
    if (status === 404) return { kind: 'auth', reason: `Bluesky answered 404 (${reason}): check BLUESKY_SERVICE; sending is paused until then.` };
    if (status === 429) {
      const reset = resetOf(err.headers);
      return { kind: 'rate-limited', reason: `Bluesky rate limit reached (${reason})`, until: reset && reset > now ? reset : now + 5 * 60_000 };
    }
    if (status >= 500) return { kind: 'transient', reason: `Bluesky had a server error (${reason})`, ambiguous: true };
    return { kind: 'rejected', reason: `Bluesky refused the post (${reason})` };
  }
  const fetched = fetchFailure(err, 'Bluesky');
  if (fetched) return fetched;
  if (err instanceof DeadlineError || err instanceof MalformedAnswerError) {
    return { kind: 'transient', reason: `${err.message}; the post may have gone through`, ambiguous: true };
  }
  return { kind: 'transient', reason: `unexpected error: ${err instanceof Error ? err.message : String(err)}`, ambiguous: true };
}
