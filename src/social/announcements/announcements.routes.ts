// Admin routes for announcements (mounted under /v1/admin, token required): what was
// announced where, what waits and why, and a retry.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ADMIN_SECURITY, adminQueueQuery, DateTime, Nullable, PaginationMeta, problems } from '../../http/schemas.ts';
import { pageMeta } from '../../lib/pagination.ts';
import { ANNOUNCEMENT_STATUSES, NETWORKS } from './announcements.table.ts';
import type { Announcement } from './announcements.repository.ts';
import type { AnnouncementService, SendingState } from './announcements.service.ts';

const StatusSchema = Type.Enum(ANNOUNCEMENT_STATUSES, {
  description:
    '`queued` waits for its next attempt (see `nextAttemptAt`, `lastError`); `sending` an attempt is in flight; `posted` on its network (`url`); ' +
    '`failed` the network refused it for good, or the text could not be made to fit (`lastError`); `paused` the network refused the credentials or the app ' +
    '(nothing is sent until they change or an editor retries), or X_MONTHLY_LIMIT was reached (until next month or a retry); ' +
    '`cancelled` the article was unpublished or deleted first; `expired` not sent within ANNOUNCE_MAX_AGE_HOURS of publishing; `skipped` no X credentials were configured when the article was published (X only: other networks without credentials get no announcement).',
});

const NetworkSchema = Type.Enum(NETWORKS, { description: 'The network: `mastodon`, `bluesky` or `x`' });

const AnnouncementSchema = Type.Object(
  {
    id: Type.Integer(),
    articleId: Nullable(Type.Integer({ description: 'null once the article was deleted' })),
    articleSlug: Nullable(Type.String()),
    articleTitle: Nullable(Type.String()),
    network: NetworkSchema,
    text: Type.String({
      description: 'The text, rendered once from the network’s template (X_TEMPLATE, MASTODON_TEMPLATE, BLUESKY_TEMPLATE, else ANNOUNCE_TEMPLATE) when the article was first published; retries send exactly this',
    }),
    weightedLength: Type.Integer({
      description: 'Length as the network counts it: X 280 weighted characters (URLs 23, CJK and emoji 2); Mastodon 500 characters (links 23); Bluesky 300 graphemes',
    }),
    status: StatusSchema,
    ambiguous: Type.Boolean({
      description:
        'An attempt went unanswered (timeout, dropped connection, 5xx, crash): it may have been posted. The next attempt makes sure it did not land first: Mastodon looks among the account’s statuses (and resends with the same Idempotency-Key), Bluesky asks for the record under its fixed key, X resends the identical text, which X refuses as a duplicate',
    }),
    attempts: Type.Integer({ description: 'Attempts made so far' }),
    nextAttemptAt: Nullable(DateTime('When the next attempt is due (backoff, rate-limit reset, pause recheck)')),
    lastAttemptAt: Nullable(DateTime('When the last request was sent')),
    lastError: Nullable(
      Type.String({ description: 'Why it is not posted (yet), in words, with the network’s own detail; on a post found after a lost answer, how we know it was posted' }),
    ),
    postId: Nullable(
      Type.String({ description: 'The post on its network: the X post id (a string: ids exceed 2^53), the Mastodon status id, the Bluesky at:// URI; null when posted but the answer was lost (X)' }),
    ),
    tweetId: Nullable(Type.String({ description: 'Deprecated: `postId` of an announcement on X (null on other networks)' })),
    url: Nullable(
      Type.String({ description: 'The post’s public page: https://x.com/<handle>/status/<id>, the Mastodon status URL, https://bsky.app/profile/<handle>/post/<rkey>' }),
    ),
    expiresAt: DateTime('Not sent by then → `expired`'),
    postedAt: Nullable(DateTime('When it was recorded as posted')),
    createdAt: DateTime('When it was queued (the article was first published)'),
    updatedAt: DateTime('Last change'),
  },
  { title: 'Announcement', description: 'An article’s announcement on a network, and its state' },
);

const NetworkSendingSchema = Type.Object(
  {
    configured: Type.Boolean({ description: 'The network’s credentials are set (X: TWITTER_*; Mastodon: MASTODON_URL, MASTODON_TOKEN; Bluesky: BLUESKY_HANDLE, BLUESKY_APP_PASSWORD)' }),
    pausedReason: Nullable(Type.String({ description: 'Why sending is paused (the network refused the credentials or the app); null when not paused' })),
    pausedAt: Nullable(DateTime('Since when')),
    holdUntil: Nullable(DateTime('Rate limit: nothing is sent before this time')),
    holdReason: Nullable(Type.String()),
  },
  { description: 'Whether announcements are being sent to this network right now, and if not why' },
);

const SendingSchema = Type.Object(
  { mastodon: NetworkSendingSchema, bluesky: NetworkSendingSchema, x: NetworkSendingSchema },
  { description: 'Per network: whether announcements are being sent right now, and if not why' },
);

const BaseQuery = adminQueueQuery(StatusSchema, 'Only the announcements of this article id');
const ListQuery = Type.Object(
  { ...BaseQuery.properties, network: Type.Optional(NetworkSchema) },
  { additionalProperties: false },
);

const ListResponse = Type.Object({
  data: Type.Array(AnnouncementSchema),
  meta: Type.Object({ pagination: PaginationMeta.properties.pagination, sending: SendingSchema }),
});

const IdParams = Type.Object({ id: Type.Integer({ minimum: 1, description: 'Announcement id' }) });

const security = ADMIN_SECURITY;

const view = ({ remoteKey: _key, ...a }: Announcement) => ({
  ...a,
  tweetId: a.network === 'x' ? a.postId : null,
  nextAttemptAt: a.nextAttemptAt?.toISOString() ?? null,
  lastAttemptAt: a.lastAttemptAt?.toISOString() ?? null,
  expiresAt: a.expiresAt.toISOString(),
  postedAt: a.postedAt?.toISOString() ?? null,
  createdAt: a.createdAt.toISOString(),
  updatedAt: a.updatedAt.toISOString(),
});

const sendingView = (s: SendingState) => ({ ...s, pausedAt: s.pausedAt?.toISOString() ?? null, holdUntil: s.holdUntil?.toISOString() ?? null });

export const announcementAdminRoutes: FastifyPluginAsyncTypebox<{ announcements: AnnouncementService }> = async (app, { announcements }) => {
  app.get(
    '/announcements',
    {
      schema: {
        tags: ['admin'],
        summary: 'List announcements (Mastodon, Bluesky, X)',
        description:
          'Newest first; one per article and network. For each: whether and where it was posted, or what it waits for and why. Filter by `status`, `network` and `article`. `meta.sending` says, per network, whether sending is paused or rate-limited.',
        security,
        querystring: ListQuery,
        response: { 200: ListResponse, ...problems(400, 401) },
      },
    },
    async (req) => {
      const { status, network, article, page, limit } = req.query;
      const { items, total, sending } = await announcements.list({ status, network, articleId: article, page, limit });
      return {
        data: items.map(view),
        meta: {
          pagination: pageMeta({ page, limit, total }),
          sending: {
            mastodon: sendingView(sending.mastodon),
            bluesky: sendingView(sending.bluesky),
            x: sendingView(sending.x),
          },
        },
      };
    },
  );

  app.post(
    '/announcements/:id/retry',
    {
      schema: {
        tags: ['admin'],
        summary: 'Retry an announcement',
        description:
          'Puts a `failed`, `paused`, `expired`, `cancelled` or `skipped` announcement back in the queue with the same text (and the same Idempotency-Key or record key) and a fresh ANNOUNCE_MAX_AGE_HOURS deadline. ' +
          'Retrying a `paused` one also lifts its network’s pause (do it after fixing the credentials). 409 when it is already posted (a retry would post it twice) or already queued, ' +
          'when the article is not published, or when the network has no credentials configured.',
        security,
        params: IdParams,
        response: { 200: AnnouncementSchema, ...problems(400, 401, 404, 409) },
      },
    },
    async (req) => view(await announcements.retry(req.params.id)),
  );
};
