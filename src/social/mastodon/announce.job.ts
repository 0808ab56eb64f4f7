// Announcing on Mastodon: a public status with the stored text and the announcement's
// Idempotency-Key. After an unanswered attempt (timeout, dropped connection, 5xx, a
// crash), the account's recent statuses are searched for the article's link first:
// found → that is the post; not found → resend with the same key.
import { randomUUID } from 'node:crypto';
import type { mastodon } from 'masto';
import type { AnnouncerFactory } from '../announcements/announcements.service.ts';
import { withDeadline, type Announcer, type Sent } from '../announcements/network.ts';
import { classifyMastodonFailure, createMastodonClient, findStatusLinking, mastodonFingerprint, postStatus } from './mastodon-client.ts';
import { mastodonLengthRule } from './mastodon-text.ts';

export const MASTODON_JOB_KIND = 'announce.mastodon';

export const mastodonAnnouncer: AnnouncerFactory = ({ config, log, tuning }): Announcer => {
  const credentials = config.mastodon;
  let client: mastodon.rest.Client | undefined;
  return {
    network: 'mastodon',
    label: 'Mastodon',
    jobKind: MASTODON_JOB_KIND,
    configured: credentials !== undefined,
    missingCredentials: 'No Mastodon account is configured (MASTODON_URL, MASTODON_TOKEN)',
    recordSkipped: false,
    credentialsFingerprint: () => mastodonFingerprint(credentials),
    template: config.announceTemplates.mastodon,
    lengthRule: mastodonLengthRule,
    newRemoteKey: () => `inkwell-${randomUUID()}`,
    resendNote: 'Before resending, the account’s recent statuses are searched for it; the resend carries the same Idempotency-Key.',
    send(out, deadlineMs): Promise<Sent> {
      if (!credentials) throw new Error('Mastodon is not configured');
      if (!out.remoteKey) throw new Error(`announcement ${out.id} has no Idempotency-Key`);
      client ??= createMastodonClient(credentials, tuning.requestTimeoutMs);
      const c = client;
      return withDeadline(
        async (signal) => {
          if (out.ambiguous) {
            const found = await findStatusLinking(c, out.article.url, out.createdAt, signal);
            if (found) {
              return {
                postId: found.id,
                url: found.url,
                note: 'Posted by an earlier attempt whose answer was lost: found among the account’s statuses by the article’s link; not sent again.',
              };
            }
            if (found === undefined) log.warn({ announcementId: out.id }, 'mastodon: the token may not read the account (read:accounts); resending with the Idempotency-Key alone');
          }
          const posted = await postStatus(c, out.text, out.remoteKey!, signal);
          return {
            postId: posted.id,
            url: posted.url,
            holdUntil: posted.exhaustedUntil ? { until: posted.exhaustedUntil, reason: 'The Mastodon rate limit was used up by the last post' } : undefined,
          };
        },
        deadlineMs,
        'Mastodon',
      );
    },
    classify: classifyMastodonFailure,
  };
};
