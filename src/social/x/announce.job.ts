// Announcing on X: POST /2/tweets with the stored text. X has no idempotency key; a
// resend of the identical text after an unanswered attempt meets X's duplicate check
// (403 "duplicate content"), which the shared worker reads as "the earlier attempt
// was the post". X is metered per post: X_MONTHLY_LIMIT caps posts per calendar month.
import type { TwitterApi, TwitterRateLimit } from 'twitter-api-v2';
import type { AnnouncerFactory } from '../announcements/announcements.service.ts';
import type { Announcer, Sent } from '../announcements/network.ts';
import { classifyXFailure, createXClient, credentialsFingerprint, postTweet, tweetUrl } from './x-client.ts';
import { xLengthRule } from './x-text.ts';

export const X_JOB_KIND = 'announce.x';

export const xAnnouncer: AnnouncerFactory = ({ config, tuning }): Announcer => {
  let client: TwitterApi | undefined;
  const credentials = config.twitter;
  return {
    network: 'x',
    label: 'X',
    jobKind: X_JOB_KIND,
    configured: credentials !== undefined,
    missingCredentials: 'No X credentials are configured (TWITTER_APP_KEY, TWITTER_APP_SECRET, TWITTER_ACCESS_TOKEN, TWITTER_ACCESS_SECRET)',
    recordSkipped: true,
    polled: config.xBackfeed,
    credentialsFingerprint: () => credentialsFingerprint(credentials),
    template: config.announceTemplates.x,
    lengthRule: xLengthRule,
    monthlyLimit: config.xMonthlyLimit,
    resendNote: 'The identical text will be resent; X refuses a second copy.',
    async send(out, deadlineMs): Promise<Sent> {
      if (!credentials) throw new Error('X is not configured');
      client ??= createXClient(credentials, { baseUrl: config.twitterApiUrl, timeoutMs: tuning.requestTimeoutMs });
      const posted = await postTweet(client, out.text, deadlineMs);
      return { postId: posted.id, url: tweetUrl(posted.id, config.siteTwitter), holdUntil: exhaustedUntil(posted.rateLimit) };
    },
    classify: classifyXFailure,
  };
};

/** A success that used up a window: hold everyone until its reset instead of earning a 429. */
function exhaustedUntil(rl: TwitterRateLimit | undefined): Sent['holdUntil'] {
  const windows = [rl, rl?.day, rl?.userDay].filter((w): w is NonNullable<typeof w> => !!w && w.remaining === 0 && Number.isFinite(w.reset));
  if (!windows.length) return undefined;
  return { until: new Date(Math.max(...windows.map((w) => w.reset * 1000))), reason: 'The X rate limit was used up by the last post' };
}
