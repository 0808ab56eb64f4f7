// The X API v2 client (twitter-api-v2, OAuth 1.0a user context) and the reading of
// its failures. twitter-api-v2 has no base-URL setting: its prefixes are constants
// (https://api.x.com/2/...). A plugin rewrites each request's URL before it is
// signed, and an http.Agent lets it speak plain HTTP (the library always calls
// https.request). See /shared/reference/twitter.md §2.
import http from 'node:http';
import { createHash } from 'node:crypto';
import {
  ApiPartialResponseError,
  ApiRequestError,
  ApiResponseError,
  TwitterApi,
  type ITwitterApiClientPlugin,
  type TwitterRateLimit,
} from 'twitter-api-v2';
import type { TwitterCredentials } from '../../config.ts';
import { is, trimEndWhere } from '../../lib/trim.ts';
import { DeadlineError, MalformedAnswerError, NOT_SENT_CODES, pageText, type Failure } from '../announcements/network.ts';

export const X_ORIGINS = ['https://api.x.com', 'https://upload.x.com'];

export interface XClientOptions {
  /** TWITTER_API_URL: send to this base URL instead of https://api.x.com (tests, proxies) */
  baseUrl?: string;
  /** per request: no byte from X for this long → the attempt ends as a timeout */
  timeoutMs: number;
}

/** Rewrites X's origins to `baseUrl` (keeping the /2/… path, which decides the body encoding) and sets the timeout. */
export function xRequestPlugin(opts: XClientOptions): ITwitterApiClientPlugin {
  const base = opts.baseUrl === undefined ? undefined : trimEndWhere(opts.baseUrl, is('/'));
  return {
    onBeforeRequestConfig({ params }) {
      if (base) {
        const origin = X_ORIGINS.find((o) => params.url.startsWith(`${o}/`));
        if (origin) params.url = base + params.url.slice(origin.length);
      }
      params.timeout ??= opts.timeoutMs;
    },
  };
}

export function createXClient(credentials: TwitterCredentials, opts: XClientOptions): TwitterApi {
  return new TwitterApi(
    { appKey: credentials.appKey, appSecret: credentials.appSecret, accessToken: credentials.accessToken, accessSecret: credentials.accessSecret },
    {
      plugins: [xRequestPlugin(opts)],
      httpAgent: opts.baseUrl?.startsWith('http:') ? new http.Agent({ keepAlive: false }) : undefined,
      compression: false,
    },
  );
}

/**
 * Identifies a set of credentials without storing them (a truncated digest of all
 * four: fixing a mistyped secret alone counts as a change): a pause is tied to the
 * credentials X refused.
 */
export function credentialsFingerprint(credentials: TwitterCredentials | undefined): string {
  if (!credentials) return 'none';
  const { appKey, appSecret, accessToken, accessSecret } = credentials;
  return createHash('sha256').update(JSON.stringify([appKey, appSecret, accessToken, accessSecret])).digest('hex').slice(0, 16);
}

export interface PostedTweet {
  id: string;
  rateLimit?: TwitterRateLimit;
}

/**
 * POST /2/tweets. The library's timeout is an idle timeout; the overall deadline
 * keeps a server that trickles bytes from holding the worker forever.
 */
export async function postTweet(client: TwitterApi, text: string, deadlineMs: number): Promise<PostedTweet> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(`no complete answer from X within ${deadlineMs} ms`)), deadlineMs);
  });
  try {
    const res = await Promise.race([
      client.v2.post<{ data?: { id?: string } }>('tweets', { text }, { fullResponse: true }),
      deadline,
    ]);
    const id = res.data?.data?.id;
    if (typeof id !== 'string' || !/^\d+$/.test(id)) throw new MalformedAnswerError(`X answered ${JSON.stringify(res.data).slice(0, 200)} without a post id`);
    return { id, rateLimit: res.rateLimit };
  } finally {
    clearTimeout(timer);
  }
}


interface XProblem {
  title?: string;
  detail?: string;
  type?: string;
  errors?: { message?: string; code?: number }[];
}

/** X's own words for a failure, whatever shape the body had (problem+json, v1 errors, HTML). */
function describe(e: ApiResponseError): string {
  const d = e.data as unknown;
  if (typeof d === 'string') {
    const text = pageText(d);
    return `HTTP ${e.code}${text ? `: ${text}` : ''}`;
  }
  const p = (d ?? {}) as XProblem;
  const words = p.detail ?? p.errors?.map((x) => x.message).filter(Boolean).join('; ') ?? p.title;
  const type = p.type && p.type !== 'about:blank' ? ` (${p.type})` : '';
  return `HTTP ${e.code}${words ? `: ${words}` : ''}${type}`;
}

/** Unix ms to wait for after a 429: the latest reset among the exhausted windows (15 min, app 24 h, user 24 h). */
function resetOf(e: ApiResponseError, now: number): number {
  const rl = e.rateLimit;
  const windows = [rl, rl?.day, rl?.userDay].filter((w): w is NonNullable<typeof w> => !!w && Number.isFinite(w.reset));
  const exhausted = windows.filter((w) => w.remaining === 0).map((w) => w.reset * 1000);
  if (exhausted.length) return Math.max(...exhausted);
  const resets = windows.map((w) => w.reset * 1000).filter((r) => r > now);
  if (resets.length) return Math.max(...resets);
  // no usable header: X's post window is 15 minutes
  return now + 15 * 60_000;
}

const endsWith = (type: string | undefined, name: string) => typeof type === 'string' && type.endsWith(`/${name}`);

export function classifyXFailure(err: unknown, now = Date.now()): Failure {
  if (err instanceof ApiResponseError) {
    const p = (typeof err.data === 'object' && err.data ? err.data : {}) as XProblem;
    const reason = describe(err);
    const status = err.code;
    if (status === 403 && /duplicate/i.test(`${p.detail ?? ''} ${p.errors?.map((x) => x.message).join(' ') ?? ''}`)) {
      return { kind: 'duplicate', reason };
    }
    if (status === 401 || err.isAuthError) return { kind: 'auth', reason: `X refused the credentials (${reason}). Check TWITTER_*; sending is paused until they change or an editor retries.` };
    if (status === 402) return { kind: 'auth', reason: `X refused for billing (${reason}): the account has no API credits. Sending is paused until an editor retries.` };
    if (
      status === 403 &&
      (endsWith(p.type, 'oauth1-permissions') ||
        endsWith(p.type, 'unsupported-authentication') ||
        endsWith(p.type, 'client-not-enrolled') ||
        /permission|not permitted to perform|unsupported authentication|enrolled/i.test(`${p.detail ?? ''} ${p.title ?? ''}`))
    ) {
      return { kind: 'auth', reason: `X refused the app's permissions (${reason}). Give the app Read and Write access and regenerate the access token; sending is paused until then.` };
    }
    if (status === 429) {
      const capped = endsWith(p.type, 'usage-capped') || p.title === 'UsageCapExceeded';
      // a usage cap outlives the 15-minute window: wait at least a day rather than ask every 15 minutes
      const until = capped ? Math.max(resetOf(err, now), now + 24 * 3_600_000) : resetOf(err, now);
      return { kind: 'rate-limited', reason: `${capped ? 'X usage cap reached' : 'X rate limit reached'} (${reason})`, until };
    }
    if (status >= 500) return { kind: 'transient', reason: `X had a server error (${reason})`, ambiguous: true };
    if (status === 408) return { kind: 'transient', reason: `X timed out (${reason})`, ambiguous: true };
    return { kind: 'rejected', reason: `X refused the post (${reason})` };
  }
  if (err instanceof ApiRequestError) {
    // the library's `requestError` getter is broken (reads the wrong field): the cause is in _options.error
    const cause = (err as unknown as { _options?: { error?: NodeJS.ErrnoException } })._options?.error;
    const code = cause?.code ?? '';
    const what = cause?.message ?? err.message;
    if (NOT_SENT_CODES.has(code)) return { kind: 'transient', reason: `could not reach X (${code}: ${what})`, ambiguous: false };
    return { kind: 'transient', reason: `no answer from X (${code ? `${code}: ` : ''}${what}); the post may have gone through`, ambiguous: true };
  }
  if (err instanceof ApiPartialResponseError) {
    return { kind: 'transient', reason: `X's answer was cut off (${err.message}); the post may have gone through`, ambiguous: true };
  }
  if (err instanceof DeadlineError || err instanceof MalformedAnswerError) {
    return { kind: 'transient', reason: `${err.message}; the post may have gone through`, ambiguous: true };
  }
  // anything else is our bug, thrown somewhere around the request: we cannot know whether it left
  return { kind: 'transient', reason: `unexpected error: ${err instanceof Error ? err.message : String(err)}`, ambiguous: true };
}

/** The public link of a post. x.com/i/status/<id> works without knowing the handle. */
export function tweetUrl(id: string, handle: string | undefined): string {
  return `https://x.com/${handle ?? 'i'}/status/${id}`;
}
