// Admin routes for announcements (mounted under /v1/admin, token required): what was
// announced where, what waits and why, and a retry.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ADMIN_SECURITY, adminQueueQuery, DateTime, Nullable, PaginationMeta, problems } from '../../http/schemas.ts';
import { pageMeta } from '../../lib/pagination.ts';
import { ANNOUNCEMENT_STATUSES } from './announcements.table.ts';
import type { Announcement } from './announcements.repository.ts';
import type { AnnouncementService } from './announcements.service.ts';


const StatusSchema = Type.Enum(ANNOUNCEMENT_STATUSES, {
  description:
    '`queued` waits for its next attempt (see `nextAttemptAt`, `lastError`); `sending` an attempt is in flight; `posted` on X (`url`); ' +
    '`failed` X refused it for good, or the text could not be made to fit (`lastError`); `paused` X refused the credentials or the app, nothing is sent until they change or an editor retries; ' +
    '`cancelled` the article was unpublished or deleted first; `expired` not sent within ANNOUNCE_MAX_AGE_HOURS of publishing; `skipped` no X credentials were configured when the article was published.',
});

const AnnouncementSchema = Type.Object(
  {
    id: Type.Integer(),
    articleId: Nullable(Type.Integer({ description: 'null once the article was deleted' })),
    articleSlug: Nullable(Type.String()),
    articleTitle: Nullable(Type.String()),
    network: Type.String({ description: 'Always `x` for now', examples: ['x'] }),
    text: Type.String({ description: 'The text, rendered once from ANNOUNCE_TEMPLATE when the article was first published; retries send exactly this' }),
    weightedLength: Type.Integer({ description: 'Length as X counts it (URLs 23, CJK and emoji 2); at most 280' }),
    status: StatusSchema,
    ambiguous: Type.Boolean({ description: 'An attempt went unanswered (timeout, dropped connection, 5xx, crash): it may have been posted. Retries resend the identical text, which X refuses as a duplicate if it did' }),
    attempts: Type.Integer({ description: 'Requests sent to X so far' }),
    nextAttemptAt: Nullable(DateTime('When the next attempt is due (backoff, rate-limit reset, pause recheck)')),
    lastAttemptAt: Nullable(DateTime('When the last request was sent')),
    lastError: Nullable(Type.String({ description: 'Why it is not posted (yet), in words, with X’s own detail; on a post whose id is unknown, how we know it was posted' })),
    tweetId: Nullable(Type.String({ description: 'The post id on X (a string: ids exceed 2^53); null when posted but the answer was lost' })),
    url: Nullable(Type.String({ description: 'https://x.com/<handle>/status/<id>' })),
    expiresAt: DateTime('Not sent by then → `expired`'),
    postedAt: Nullable(DateTime('When it was recorded as posted')),
    createdAt: DateTime('When it was queued (the article was first published)'),
    updatedAt: DateTime('Last change'),
  },
  { title: 'Announcement', description: 'An article’s announcement on a network, and its state' },
);

const SendingSchema = Type.Object(
  {
    configured: Type.Boolean({ description: 'X credentials (TWITTER_*) are set' }),
    pausedReason: Nullable(Type.String({ description: 'Why sending is paused (X refused the credentials or the app); null when not paused' })),
    pausedAt: Nullable(DateTime('Since when')),
    holdUntil: Nullable(DateTime('Rate limit: nothing is sent before this time')),
    holdReason: Nullable(Type.String()),
  },
  { description: 'Whether announcements are being sent to X right now, and if not why' },
);

const ListQuery = adminQueueQuery(StatusSchema, 'Only the announcement of this article id');

const ListResponse = Type.Object({
  data: Type.Array(AnnouncementSchema),
  meta: Type.Object({ pagination: PaginationMeta.properties.pagination, sending: SendingSchema }),
});

const IdParams = Type.Object({ id: Type.Integer({ minimum: 1, description: 'Announcement id' }) });

const security = ADMIN_SECURITY;

const view = (a: Announcement) => ({
  ...a,
  nextAttemptAt: a.nextAttemptAt?.toISOString() ?? null,
  lastAttemptAt: a.lastAttemptAt?.toISOString() ?? null,
  expiresAt: a.expiresAt.toISOString(),
  postedAt: a.postedAt?.toISOString() ?? null,
  createdAt: a.createdAt.toISOString(),
  updatedAt: a.updatedAt.toISOString(),
});

export const announcementAdminRoutes: FastifyPluginAsyncTypebox<{ announcements: AnnouncementService }> = async (app, { announcements }) => {
  app.get(
    '/announcements',
    {
      schema: {
        tags: ['admin'],
        summary: 'List announcements on X',
        description:
          'Newest first. For every announced article: whether and where it was posted, or what it waits for and why. `meta.sending` says whether sending is paused or rate-limited.',
        security,
        querystring: ListQuery,
        response: { 200: ListResponse, ...problems(400, 401) },
      },
    },
    async (req) => {
      const { status, article, page, limit } = req.query;
      const { items, total, sending } = await announcements.list({ status, articleId: article, page, limit });
      return {
        data: items.map(view),
        meta: {
          pagination: pageMeta({ page, limit, total }),
          sending: {
            ...sending,
            pausedAt: sending.pausedAt?.toISOString() ?? null,
            holdUntil: sending.holdUntil?.toISOString() ?? null,
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
          'Puts a `failed`, `paused`, `expired`, `cancelled` or `skipped` announcement back in the queue with the same text and a fresh ANNOUNCE_MAX_AGE_HOURS deadline. ' +
          'Retrying a `paused` one also lifts the pause (do it after fixing the credentials). 409 when it is already posted (a retry would post it twice) or already queued, ' +
          'when the article is not published, or when no X credentials are configured.',
        security,
        params: IdParams,
        response: { 200: AnnouncementSchema, ...problems(400, 401, 404, 409) },
      },
    },
    async (req) => view(await announcements.retry(req.params.id)),
  );
};
